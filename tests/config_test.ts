import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Config,
  ConfigError,
  denoEnv,
  envName,
  type EnvReader,
  flagNames,
  helpText,
  parseConfig,
  redactConfig,
} from "../lib/server/config.ts";

const noEnv: EnvReader = () => undefined;
/** The flags of a NATS bus (their own test covers them). */
const BUS_FLAGS = ["--bus", "--role", "--node-id", "--capacity", "--partitions", "--lease-ttl"];
const envOf = (vars: Record<string, string>): EnvReader => (name) => vars[name];

/** Asserts `parseConfig` throws a ConfigError whose message matches all `parts`. */
function rejects(args: string[], parts: (string | RegExp)[], env = noEnv): ConfigError {
  let caught: unknown;
  try {
    parseConfig(args, env);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError for ${JSON.stringify(args)}`);
  assert.equal(caught.name, "ConfigError");
  for (const part of parts) {
    if (typeof part === "string") assert.ok(caught.message.includes(part), caught.message);
    else assert.match(caught.message, part);
  }
  return caught;
}

Deno.test("defaults", () => {
  const c = parseConfig([], noEnv);
  assert.deepEqual(
    { ...c },
    {
      help: false,
      source: "binance",
      symbols: ["btcusdt", "ethusdt"],
      symbolSelector: {
        entries: [{ kind: "name", text: "btcusdt" }, { kind: "name", text: "ethusdt" }],
        names: ["btcusdt", "ethusdt"],
        needsExchange: false,
        text: "btcusdt,ethusdt",
      },
      consolidate: [],
      venues: ["binance"],
      venueUrls: {},
      stream: "depth20",
      host: "127.0.0.1",
      port: 8000,
      binanceWsUrl: "wss://stream.binance.com:9443",
      binanceRestUrl: "https://api.binance.com",
      simRate: 10,
      rawCapacity: undefined,
      processedCapacity: undefined,
      history: 100,
      staleMs: 2000,
      allowedOrigins: [],
      allowedHosts: [],
      authToken: undefined,
      maxClients: 1000,
      maxConnections: undefined,
      fdLimit: undefined,
      headerTimeoutMs: 10000,
      idleTimeoutMs: 5000,
      logLevel: "info",
      logFormat: "text",
      levels: 20,
      snapshotDepth: 100,
      restWeightLimit: 6000,
      analyticsCostMs: 0,
      notionals: [10000, 100000, 1000000],
      wallFactor: 5,
      replayPath: undefined,
      replayFrom: undefined,
      replayTo: undefined,
      replaySpeed: 1,
      replayLoop: false,
      recordDir: undefined,
      recordMaxBytes: 50e9,
      recordMaxAgeMs: 604_800_000,
      recordRingBytes: 8 << 20,
      bus: "memory",
      role: "all",
      nodeId: "local",
      capacity: Infinity,
      partitions: 16,
      leaseTtlMs: 10_000,
      given: [],
    } satisfies Config,
  );
  assert.deepEqual(parseConfig([]), c, "env defaults to none");
});

Deno.test("every flag, in both --name value and --name=value forms", () => {
  const args = [
    "--source",
    "replay",
    "--symbols=SOLUSDT, btcusdt ,solusdt,BNB_BTC",
    "--venues",
    "binance,okx",
    "--venue-url=okx=ws://127.0.0.1:9003/ws",
    "--stream",
    "diff",
    "--host=0.0.0.0",
    "--port",
    "0",
    "--binance-ws-url",
    "ws://127.0.0.1:9001/",
    "--binance-rest-url=http://127.0.0.1:9002/prefix/",
    "--sim-rate",
    "2.5",
    "--raw-capacity",
    "4",
    "--processed-capacity=1048576",
    "--history",
    "7",
    "--stale-ms",
    "250",
    "--allowed-origins",
    "https://Example.COM:443/,http://localhost:3000,https://example.com",
    "--allowed-hosts",
    "Depth.Example.com,10.0.0.5:8000,[fd00::1],depth.example.com",
    "--auth-token",
    "s3cr3t-Token_!",
    "--max-clients",
    "3",
    "--log-level",
    "debug",
    "--log-format=json",
    "--max-connections=900",
    "--fd-limit",
    "1024",
    "--header-timeout-ms=2000",
    "--idle-timeout-ms",
    "1500",
    "--levels",
    "100",
    "--snapshot-depth",
    "500",
    "--rest-weight-limit=1200",
    "--analytics-cost-ms",
    "0.25",
    "--notionals",
    "500,1e6, 2500.5",
    "--wall-factor",
    "2.5",
    "--replay-path",
    "rec/2026-12-02.txt",
    "--replay-from=2026-12-02T12:00:00Z",
    "--replay-to",
    "2026-12-02T12:30:00.000250Z",
    "--replay-speed",
    "max",
    "--replay-loop",
    "--consolidate",
    "A=btcusdt,ethusdt",
    "--consolidate=b.2=okx:BTC-USDT,solusdt",
    "--help",
  ];
  const c = parseConfig(args, noEnv);
  assert.deepEqual(
    { ...c },
    {
      help: true,
      source: "replay",
      symbols: ["solusdt", "btcusdt", "bnb_btc", "ethusdt", "okx:btc-usdt", "x:a", "x:b.2"],
      symbolSelector: {
        entries: [{ kind: "name", text: "solusdt" }, { kind: "name", text: "btcusdt" }, {
          kind: "name",
          text: "bnb_btc",
        }],
        names: ["solusdt", "btcusdt", "bnb_btc"],
        needsExchange: false,
        text: "SOLUSDT, btcusdt ,solusdt,BNB_BTC",
      },
      consolidate: [
        { name: "x:a", members: ["btcusdt", "ethusdt"] },
        { name: "x:b.2", members: ["okx:btc-usdt", "solusdt"] },
      ],
      venues: ["binance", "okx"],
      venueUrls: { okx: { wsUrl: "ws://127.0.0.1:9003/ws" } },
      stream: "diff",
      host: "0.0.0.0",
      port: 0,
      binanceWsUrl: "ws://127.0.0.1:9001",
      binanceRestUrl: "http://127.0.0.1:9002/prefix",
      simRate: 2.5,
      rawCapacity: 4,
      processedCapacity: 1048576,
      history: 7,
      staleMs: 250,
      allowedOrigins: ["https://example.com", "http://localhost:3000"],
      allowedHosts: ["depth.example.com", "10.0.0.5:8000", "[fd00::1]"],
      authToken: "s3cr3t-Token_!",
      maxClients: 3,
      maxConnections: 900,
      fdLimit: 1024,
      headerTimeoutMs: 2000,
      idleTimeoutMs: 1500,
      logLevel: "debug",
      logFormat: "json",
      levels: 100,
      snapshotDepth: 500,
      restWeightLimit: 1200,
      analyticsCostMs: 0.25,
      notionals: [500, 1e6, 2500.5],
      wallFactor: 2.5,
      replayPath: "rec/2026-12-02.txt",
      replayFrom: Date.parse("2026-12-02T12:00:00Z") * 1000,
      replayTo: Date.parse("2026-12-02T12:30:00Z") * 1000 + 250,
      replaySpeed: Infinity,
      replayLoop: true,
      recordDir: undefined,
      recordMaxBytes: 50e9,
      recordMaxAgeMs: 604_800_000,
      recordRingBytes: 8 << 20,
      bus: "memory",
      role: "all",
      nodeId: "local",
      capacity: Infinity,
      partitions: 16,
      leaseTtlMs: 10_000,
      // The record and bus flags do not go with a replay: their own tests cover them.
      given: flagNames().filter((f) =>
        f !== "--help" && !f.startsWith("--record-") &&
        !BUS_FLAGS.includes(f)
      ),
    } satisfies Config,
  );
  assert.equal(parseConfig(["-h"]).help, true);
  // Every flag but --help takes a value, and the test above (or the record or bus test) covers each.
  for (const flag of flagNames()) {
    if (flag.startsWith("--record-") || BUS_FLAGS.includes(flag)) continue;
    assert.ok(args.some((a) => a.split("=")[0] === flag), flag);
  }
});

Deno.test("the result is frozen, arrays included", () => {
  const c = parseConfig([]);
  assert.ok(Object.isFrozen(c));
  assert.ok(Object.isFrozen(c.symbols));
  assert.ok(Object.isFrozen(c.notionals));
  assert.ok(Object.isFrozen(c.allowedOrigins));
  assert.throws(() => {
    (c as { port: number }).port = 1;
  }, TypeError);
  assert.throws(() => (c.symbols as string[]).push("x"), TypeError);
});

Deno.test("env var names are DEPTHWATCH_ plus the upper snake case flag name", () => {
  assert.equal(envName("sim-rate"), "DEPTHWATCH_SIM_RATE");
  assert.equal(envName("--auth-token"), "DEPTHWATCH_AUTH_TOKEN");
  assert.equal(envName("binance-ws-url"), "DEPTHWATCH_BINANCE_WS_URL");
});

Deno.test("env fallback for every flag, and flag > env > default", () => {
  const vars: Record<string, string> = {
    DEPTHWATCH_SOURCE: "sim",
    DEPTHWATCH_SYMBOLS: "XRPUSDT",
    DEPTHWATCH_STREAM: "diff",
    DEPTHWATCH_HOST: "::1",
    DEPTHWATCH_PORT: "9090",
    DEPTHWATCH_BINANCE_WS_URL: "wss://example.org",
    DEPTHWATCH_BINANCE_REST_URL: "https://example.org",
    DEPTHWATCH_SIM_RATE: "1000",
    DEPTHWATCH_RAW_CAPACITY: "64",
    DEPTHWATCH_PROCESSED_CAPACITY: "128",
    DEPTHWATCH_HISTORY: "50",
    DEPTHWATCH_STALE_MS: "5000",
    DEPTHWATCH_ALLOWED_ORIGINS: "https://a.example",
    DEPTHWATCH_AUTH_TOKEN: "env-token",
    DEPTHWATCH_MAX_CLIENTS: "10",
    DEPTHWATCH_MAX_CONNECTIONS: "50",
    DEPTHWATCH_FD_LIMIT: "4096",
    DEPTHWATCH_IDLE_TIMEOUT_MS: "60000",
    DEPTHWATCH_LOG_LEVEL: "warn",
    DEPTHWATCH_LOG_FORMAT: "json",
    DEPTHWATCH_LEVELS: "5",
    DEPTHWATCH_ANALYTICS_COST_MS: "3",
    DEPTHWATCH_NOTIONALS: "1000",
    DEPTHWATCH_WALL_FACTOR: "10",
    DEPTHWATCH_HELP: "1",
  };
  const fromEnv = parseConfig([], envOf(vars));
  assert.deepEqual(
    { ...fromEnv },
    {
      help: false,
      source: "sim",
      symbols: ["xrpusdt"],
      symbolSelector: {
        entries: [{ kind: "name", text: "xrpusdt" }],
        names: ["xrpusdt"],
        needsExchange: false,
        text: "XRPUSDT",
      },
      consolidate: [],
      venues: ["binance"],
      venueUrls: {},
      stream: "diff",
      host: "::1",
      port: 9090,
      binanceWsUrl: "wss://example.org",
      binanceRestUrl: "https://example.org",
      simRate: 1000,
      rawCapacity: 64,
      processedCapacity: 128,
      history: 50,
      staleMs: 5000,
      allowedOrigins: ["https://a.example"],
      allowedHosts: [],
      authToken: "env-token",
      maxClients: 10,
      maxConnections: 50,
      fdLimit: 4096,
      headerTimeoutMs: 10000,
      idleTimeoutMs: 60000,
      logLevel: "warn",
      logFormat: "json",
      levels: 5,
      snapshotDepth: 100,
      restWeightLimit: 6000,
      analyticsCostMs: 3,
      notionals: [1000],
      wallFactor: 10,
      replayPath: undefined,
      replayFrom: undefined,
      replayTo: undefined,
      replaySpeed: 1,
      replayLoop: false,
      recordDir: undefined,
      recordMaxBytes: 50e9,
      recordMaxAgeMs: 604_800_000,
      recordRingBytes: 8 << 20,
      bus: "memory",
      role: "all",
      nodeId: "local",
      capacity: Infinity,
      partitions: 16,
      leaseTtlMs: 10_000,
      given: Object.keys(vars).filter((v) => v !== "DEPTHWATCH_HELP").map((v) =>
        "--" + v.slice("DEPTHWATCH_".length).toLowerCase().replaceAll("_", "-")
      ),
    } satisfies Config,
    "DEPTHWATCH_HELP is not a thing: --help is flag-only",
  );
  // Flags win over env, field by field.
  const mixed = parseConfig(["--port", "1234", "--auth-token=flag-token"], envOf(vars));
  assert.equal(mixed.port, 1234);
  assert.equal(mixed.authToken, "flag-token");
  assert.equal(mixed.simRate, 1000);
  // An empty env var is unset: the default applies.
  const empty = parseConfig([], envOf({ DEPTHWATCH_PORT: "", DEPTHWATCH_AUTH_TOKEN: "" }));
  assert.equal(empty.port, 8000);
  assert.equal(empty.authToken, undefined);
  // An explicit empty flag clears an optional setting from the env.
  assert.equal(parseConfig(["--auth-token="], envOf(vars)).authToken, undefined);
  assert.deepEqual(parseConfig(["--allowed-origins="], envOf(vars)).allowedOrigins, []);
  // Only DEPTHWATCH_ names are asked for.
  const asked: string[] = [];
  parseConfig([], (name) => {
    asked.push(name);
    return undefined;
  });
  assert.equal(asked.length, flagNames().length - 1);
  assert.ok(asked.every((n) => /^DEPTHWATCH_[A-Z_]+$/.test(n)), asked.join());
});

Deno.test("property: flag > env > default for the port", () => {
  const port = fc.integer({ min: 0, max: 65535 });
  fc.assert(
    fc.property(fc.option(port), fc.option(port), (flag, env) => {
      const args = flag === null ? [] : ["--port", String(flag)];
      const c = parseConfig(args, envOf(env === null ? {} : { DEPTHWATCH_PORT: String(env) }));
      assert.equal(c.port, flag ?? env ?? 8000);
    }),
  );
});

Deno.test("validation errors name the flag, the value and what is expected", () => {
  const cases: [string, string, string][] = [
    ["source", "kraken", "binance, sim or replay"],
    ["symbols", "", "a comma-separated list of symbol names"],
    ["symbols", "btcusdt,,ethusdt", "(here: the list has an empty entry)"],
    ["symbols", "btc usdt", "letters, digits, '_', '.' or '-'"],
    ["symbols", "btc/usdt", "e.g. btcusdt,ethusdt or all"],
    ["symbols", "a".repeat(33), "1 to 32"],
    ["symbols", "btc?usdt", "nor a pattern of those and '*'"],
    ["symbols", "*usdt,[a-z]*", `"[a-z]*" is neither a symbol name`],
    ["symbols", "*".repeat(33), "patterns where '*' matches any characters"],
    ["stream", "depth5", "depth20 or diff"],
    ["host", "", "a host name or IP address"],
    ["host", "local host", "a host name or IP address"],
    ["host", "http://x", "a host name or IP address"],
    ["port", "65536", "an integer from 0 to 65535"],
    ["port", "-1", "an integer from 0 to 65535"],
    ["port", "80.5", "an integer from 0 to 65535"],
    ["port", "0x50", "an integer from 0 to 65535"],
    ["port", "http", "an integer from 0 to 65535"],
    ["binance-ws-url", "https://stream.binance.com", "a ws:// or wss:// URL"],
    ["binance-ws-url", "not a url", "a ws:// or wss:// URL"],
    ["binance-ws-url", "wss://u:p@host", "without credentials, query or fragment"],
    ["binance-ws-url", "wss://host/?x=1", "without credentials, query or fragment"],
    ["binance-rest-url", "ftp://api.binance.com", "an http:// or https:// URL"],
    ["binance-rest-url", "https://api.binance.com/#frag", "without credentials"],
    ["sim-rate", "0", "a number > 0 and <= 100000"],
    ["sim-rate", "100001", "a number > 0 and <= 100000"],
    ["sim-rate", "fast", "a number > 0 and <= 100000"],
    ["sim-rate", "Infinity", "a number > 0 and <= 100000"],
    ["raw-capacity", "2000", "a power of two from 2 to 1048576"],
    ["raw-capacity", "1", "a power of two from 2 to 1048576"],
    ["raw-capacity", "2097152", "a power of two from 2 to 1048576"],
    ["processed-capacity", "3", "a power of two from 2 to 1048576"],
    ["history", "0", "an integer from 1 to 100000"],
    ["history", "100001", "an integer from 1 to 100000"],
    ["stale-ms", "0", "an integer number of milliseconds from 1 to 86400000"],
    ["stale-ms", "1.5", "from 1 to 86400000"],
    ["allowed-origins", "*", "http(s) origins without path"],
    ["allowed-origins", "https://a.example/app", "http(s) origins without path"],
    ["allowed-origins", "ws://a.example", "http(s) origins without path"],
    ["allowed-origins", "https://a.example,,https://b.example", "http(s) origins"],
    ["allowed-hosts", "https://a.example", "host names or IP addresses"],
    ["allowed-hosts", "a.example/app", "host names or IP addresses"],
    ["allowed-hosts", "a.example:70000", "optional :port"],
    ["allowed-hosts", "a.example,,b.example", "host names"],
    ["max-clients", "0", "an integer from 1 to 100000"],
    ["log-level", "trace", "debug, info, warn or error"],
    ["log-format", "xml", "text or json"],
    ["levels", "0", "an integer from 1 to 100"],
    ["levels", "101", "an integer from 1 to 100"],
    ["analytics-cost-ms", "-1", "a number of milliseconds from 0 to 10000"],
    ["analytics-cost-ms", "10001", "from 0 to 10000"],
    ["notionals", "", "a comma-separated list of 1 to 7 distinct positive numbers"],
    ["notionals", "100,0", "distinct positive numbers"],
    ["notionals", "100,100", "distinct positive numbers"],
    ["notionals", "1,2,3,4,5,6,7,8", "1 to 7"],
    ["notionals", "1e16", "up to 1e15"],
    ["wall-factor", "0.5", "a number from 1 to 1000"],
    ["wall-factor", "1001", "a number from 1 to 1000"],
  ];
  for (const [name, value, expected] of cases) {
    const e = rejects([`--${name}=${value}`], [
      `--${name}: invalid value ${JSON.stringify(value)}; expected `,
      expected,
    ]);
    assert.equal(e.flag, `--${name}`);
    assert.equal(e.value, value);
    // The same value from the env var names the variable as its origin
    // (an empty variable counts as unset, so it is not an error there).
    if (value === "") continue;
    rejects([], [
      `--${name}: invalid value ${JSON.stringify(value)} (from ${envName(name)}); expected `,
      expected,
    ], envOf({ [envName(name)]: value }));
  }
});

Deno.test("an invalid auth token is rejected without echoing it", () => {
  const e = rejects(["--auth-token", "has space"], [
    "--auth-token: invalid value (hidden, 9 characters); expected 1 to 4096 visible ASCII",
  ]);
  assert.ok(!e.message.includes("has space"));
  assert.equal(e.value, undefined);
  rejects(["--auth-token=" + "x".repeat(4097)], ["(hidden, 4097 characters)"]);
  rejects([], ["(from DEPTHWATCH_AUTH_TOKEN)"], envOf({ DEPTHWATCH_AUTH_TOKEN: "tab\there" }));
});

Deno.test("unknown flags, stray arguments and missing values", () => {
  const all = flagNames().join(", ");
  let e = rejects(["--prot", "80"], [`unknown flag --prot; valid flags are ${all}`]);
  assert.equal(e.flag, "--prot");
  rejects(["-p", "80"], ["unknown flag -p; valid flags are --source, --symbols"]);
  e = rejects(["8000"], ['unexpected argument "8000"', "--name value or --name=value", all]);
  assert.equal(e.value, "8000");
  e = rejects(["--port"], ["--port needs a value; expected --port <value> or --port=<value>"]);
  assert.equal(e.flag, "--port");
  rejects(["--auth-token", "--port", "1"], ["--auth-token needs a value", "needs the = form"]);
  rejects(["--help=yes"], ["--help takes no value; expected just --help (or -h)"]);
  // The = form takes a value starting with a dash; it is then validated.
  rejects(["--port=-5"], ['--port: invalid value "-5"; expected an integer from 0 to 65535']);
});

Deno.test("help says a server bound to every interface must list its names", () => {
  const text = helpText();
  const block = text.slice(text.indexOf("  --allowed-hosts <"));
  assert.ok(block.includes("0.0.0.0"), "--allowed-hosts help names the wildcard case");
  assert.ok(block.includes("421"));
});

Deno.test("help text lists every flag with its env var, default and expectation", () => {
  const text = helpText();
  const defaults: Record<string, string> = {
    "--source": "binance",
    "--symbols": "btcusdt,ethusdt",
    "--venues": "the venues of --symbols",
    "--venue-url": "each venue's production URL",
    "--stream": "depth20",
    "--host": "127.0.0.1",
    "--port": "8000",
    "--binance-ws-url": "wss://stream.binance.com:9443",
    "--binance-rest-url": "https://api.binance.com",
    "--sim-rate": "10",
    "--raw-capacity":
      "250 ms of every symbol's frames, rounded up to a power of two from 256 to 65536 (8192 at 2,000 symbols × 10 frames/s)",
    "--processed-capacity": "sized like the raw ring",
    "--history": "100",
    "--stale-ms": "2000",
    "--allowed-origins": "none",
    "--allowed-hosts": "none",
    "--auth-token": "none",
    "--max-clients": "1000",
    "--max-connections": "the fd limit less 128",
    "--fd-limit": "read from /proc/self/limits",
    "--header-timeout-ms": "10000",
    "--idle-timeout-ms": "5000",
    "--log-level": "info",
    "--log-format": "text",
    "--levels": "20",
    "--snapshot-depth": "100",
    "--rest-weight-limit": "6000",
    "--analytics-cost-ms": "0",
    "--notionals": "10000,100000,1000000",
    "--wall-factor": "5",
    "--replay-path": "none",
    "--replay-from": "none",
    "--replay-to": "none",
    "--replay-speed": "1",
    "--replay-loop": "false",
    "--record-dir": "none",
    "--record-max-bytes": "50GB",
    "--record-max-age": "7d",
    "--record-ring-bytes": "8MiB",
    "--bus": "memory",
    "--role": "all",
    "--node-id": "n- and 8 random hex digits",
    "--capacity": "all",
    "--partitions": "16",
    "--lease-ttl": "10000",
    "--consolidate": "none",
  };
  assert.deepEqual(flagNames(), [...Object.keys(defaults), "--help"]);
  for (const [flag, def] of Object.entries(defaults)) {
    const start = flag === "--replay-loop"
      ? text.indexOf(`  ${flag}\n`)
      : text.indexOf(`  ${flag} <`);
    assert.ok(start >= 0, `${flag} missing from help`);
    const block = text.slice(start, text.indexOf("\n  --", start + 1));
    assert.ok(block.includes(`Env: ${envName(flag)}. Default: ${def}.`), block);
    assert.ok(block.includes("Expected: "), block);
  }
  assert.ok(text.includes("--help, -h"));
  // The help shows the same default the parser applies, e.g. for the port.
  assert.ok(text.includes(`Default: ${parseConfig([]).port}.`));
});

Deno.test("redactConfig hides the auth token and keeps everything else", () => {
  const c = parseConfig(["--auth-token", "super-secret", "--port", "1"]);
  const safe = redactConfig(c);
  assert.equal(safe.authToken, "***");
  assert.equal(c.authToken, "super-secret", "the original is untouched");
  assert.deepEqual({ ...safe, authToken: c.authToken }, { ...c });
  assert.ok(!JSON.stringify(safe).includes("super-secret"));
  assert.ok(Object.isFrozen(safe));
  assert.equal(redactConfig(parseConfig([])).authToken, undefined, "no token, nothing to hide");
});

Deno.test("denoEnv reads only DEPTHWATCH_ variables", () => {
  Deno.env.set("DEPTHWATCH_TEST_CONFIG_VAR", "yes");
  try {
    const env = denoEnv();
    assert.equal(env("DEPTHWATCH_TEST_CONFIG_VAR"), "yes");
    assert.equal(env("DEPTHWATCH_SURELY_UNSET_VAR"), undefined);
    assert.ok(Deno.env.get("PATH") !== undefined);
    assert.equal(env("PATH"), undefined);
  } finally {
    Deno.env.delete("DEPTHWATCH_TEST_CONFIG_VAR");
  }
});

Deno.test("denoEnv treats a missing env permission as unset", async () => {
  const moduleUrl = new URL("../lib/server/config.ts", import.meta.url).href;
  const script = `
    import { denoEnv, parseConfig } from ${JSON.stringify(moduleUrl)};
    const c = parseConfig([], denoEnv());
    console.log(JSON.stringify({ port: c.port, rate: c.simRate }));
  `;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, script);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", "--allow-env=DEPTHWATCH_PORT", file],
    env: { DEPTHWATCH_PORT: "4321", DEPTHWATCH_SIM_RATE: "77" },
    stdout: "piped",
    stderr: "piped",
  }).output().finally(() => Deno.remove(file));
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  // The permitted variable is read; the forbidden one falls back to the default.
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), { port: 4321, rate: 10 });
});

Deno.test("--snapshot-depth: within the Binance limit range and at least --levels", () => {
  assert.equal(parseConfig(["--snapshot-depth", "20"]).snapshotDepth, 20);
  assert.equal(parseConfig(["--snapshot-depth=5000", "--levels=100"]).snapshotDepth, 5000);
  for (const bad of ["0", "5001", "1.5", "all"]) {
    assert.throws(
      () => parseConfig(["--snapshot-depth", bad]),
      (e: unknown) =>
        e instanceof ConfigError && e.flag === "--snapshot-depth" &&
        e.message.includes("expected an integer from 1 to 5000, at least --levels"),
      bad,
    );
  }
  assert.throws(
    () => parseConfig(["--snapshot-depth", "50", "--levels", "60"]),
    (e: unknown) =>
      e instanceof ConfigError && e.flag === "--snapshot-depth" &&
      /50 is below --levels 60; expected at least --levels/.test(e.message),
  );
  assert.throws(
    () => parseConfig(["--rest-weight-limit", "50", "--snapshot-depth", "1000"]),
    (e: unknown) =>
      e instanceof ConfigError && e.flag === "--rest-weight-limit" &&
      /leaves 40 per minute .* less than one snapshot of --snapshot-depth 1000 \(weight 50\)/.test(
        e.message,
      ),
  );
  assert.equal(parseConfig(["--rest-weight-limit", "10"]).restWeightLimit, 10);
  assert.throws(
    () => parseConfig(["--rest-weight-limit", "5"]),
    (e: unknown) => e instanceof ConfigError && e.flag === "--rest-weight-limit",
  );
});

Deno.test("replay flags: --replay-path required, values checked, only with --source replay", () => {
  const c = parseConfig(["--source", "replay", "--replay-path", "a.txt"], noEnv);
  assert.equal(c.replaySpeed, 1);
  assert.equal(c.replayLoop, false);
  assert.deepEqual(c.given, ["--source", "--replay-path"], "symbols and stream come from the file");
  assert.equal(
    parseConfig(["--source=replay", "--replay-path=a", "--replay-speed", "10"]).replaySpeed,
    10,
  );
  assert.equal(
    parseConfig(["--source=replay", "--replay-path=a", "--replay-speed=0.5"]).replaySpeed,
    0.5,
  );
  assert.equal(
    parseConfig(["--source=replay", "--replay-path=a"], envOf({ DEPTHWATCH_REPLAY_LOOP: "1" }))
      .replayLoop,
    true,
  );
  let e = rejects(["--source", "replay"], [
    "--replay-path: required with --source replay; expected the path of a recording",
  ]);
  assert.equal(e.flag, "--replay-path");
  for (const speed of ["0", "-1", "fast", "1e7", "NaN", ""]) {
    e = rejects(["--source=replay", "--replay-path=a", `--replay-speed=${speed}`], [
      `--replay-speed: invalid value ${
        JSON.stringify(speed)
      }; expected a number above 0 up to 1000000, or max`,
    ]);
    assert.equal(e.flag, "--replay-speed");
  }
  for (
    const time of [
      "2026-12-02",
      "2026-12-02 12:00:00Z",
      "2026-13-02T12:00:00Z",
      "12:00",
      "2026-12-02T12:00:00.1234567890Z",
    ]
  ) {
    rejects(["--source=replay", "--replay-path=a", `--replay-from=${time}`], [
      `--replay-from: invalid value ${JSON.stringify(time)}; expected an ISO-8601 UTC time`,
    ]);
  }
  // One rule for digits past the microsecond, as the recording reader's: up to 9, cut to whole µs.
  assert.equal(
    parseConfig([
      "--source=replay",
      "--replay-path=a",
      "--replay-from=2026-12-02T12:00:00.1234567Z",
    ], noEnv)
      .replayFrom,
    Date.UTC(2026, 11, 2, 12) * 1000 + 123456,
  );
  e = rejects([
    "--source=replay",
    "--replay-path=a",
    "--replay-from=2026-12-02T12:00:00Z",
    "--replay-to=2026-12-02T11:00:00Z",
  ], ["--replay-to: 2026-12-02T11:00:00.000Z is before --replay-from 2026-12-02T12:00:00.000Z"]);
  assert.equal(e.flag, "--replay-to");
  e = rejects(["--source", "sim", "--replay-path", "a.txt"], [
    "--replay-path: only used with --source replay, but --source is sim",
  ]);
  assert.equal(e.flag, "--replay-path");
  rejects(["--replay-speed", "max"], ["--replay-speed: only used with --source replay"]);
  rejects(["--source=replay", "--replay-path=a", "--replay-loop=yes"], [
    "--replay-loop takes no value; expected just --replay-loop",
  ]);
  rejects(
    ["--source=replay", "--replay-path=a"],
    ['--replay-loop: invalid value "maybe" (from DEPTHWATCH_REPLAY_LOOP)'],
    envOf({ DEPTHWATCH_REPLAY_LOOP: "maybe" }),
  );
});

Deno.test("config: --record-dir with sizes and durations; record flags alone or with a replay are errors", () => {
  const c = parseConfig([
    "--source=sim",
    "--record-dir=/tmp/rec",
    "--record-max-bytes=500 MiB",
    "--record-max-age=36h",
    "--record-ring-bytes=64KiB",
  ]);
  assert.deepEqual(
    [c.recordDir, c.recordMaxBytes, c.recordMaxAgeMs, c.recordRingBytes],
    ["/tmp/rec", 500 * 2 ** 20, 36 * 3_600_000, 65536],
  );
  const none = parseConfig(["--record-dir=d", "--record-max-bytes=none", "--record-max-age=none"]);
  assert.deepEqual([none.recordMaxBytes, none.recordMaxAgeMs], [Infinity, Infinity]);
  const cases: [string[], RegExp][] = [
    [["--record-max-bytes=5GB"], /^--record-max-bytes: only used with --record-dir/],
    [
      ["--source=replay", "--replay-path=x", "--record-dir=y"],
      /^--record-dir: recording needs a live or simulated source, but --source is replay/,
    ],
    [["--record-dir=y", "--record-max-bytes=5 parsecs"], /expected a size of at least 1MB/],
    [["--record-dir=y", "--record-max-bytes=10kB"], /expected a size of at least 1MB/],
    [["--record-dir=y", "--record-ring-bytes=5000"], /expected a power of two from 4KiB to 1GiB/],
    [["--record-dir=y", "--record-ring-bytes=2GiB"], /expected a power of two from 4KiB to 1GiB/],
    [["--record-dir=y", "--record-max-age=10m"], /expected a duration of at least 1h/],
    [["--record-dir="], /--record-dir: invalid value ""; expected a directory path/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseConfig(args), (e: Error) => message.test(e.message), args.join(" "));
  }
});

Deno.test("config: --bus nats with its role flags; bus flags without a NATS bus are errors", () => {
  const memory = parseConfig([]);
  assert.deepEqual(
    [memory.bus, memory.role, memory.nodeId, memory.capacity, memory.partitions, memory.leaseTtlMs],
    ["memory", "all", "local", Infinity, 16, 10_000],
  );
  const c = parseConfig([
    "--bus=nats://localhost:4222/",
    "--role=dashboard",
    "--node-id=dash_1",
    "--partitions=32",
    "--lease-ttl=3000",
  ]);
  assert.deepEqual(
    [c.bus, c.role, c.nodeId, c.partitions, c.leaseTtlMs],
    ["nats://localhost:4222", "dashboard", "dash_1", 32, 3000],
  );
  const env = parseConfig(
    [],
    envOf({ DEPTHWATCH_BUS: "nats://10.0.0.5:4222", DEPTHWATCH_CAPACITY: "4" }),
  );
  assert.equal(env.bus, "nats://10.0.0.5:4222");
  assert.equal(env.capacity, 4);
  assert.match(env.nodeId, /^n-[0-9a-f]{8}$/, "a random id when none is given");
  assert.notEqual(
    parseConfig(["--bus=nats://h:1"]).nodeId,
    parseConfig(["--bus=nats://h:1"]).nodeId,
  );
  const cases: [string[], RegExp][] = [
    [["--role=ingest"], /^--role: only used with a NATS --bus, but --bus is memory/],
    [["--partitions=8"], /^--partitions: only used with a NATS --bus/],
    [
      ["--bus=nats://user:pw@h:4222"],
      /^--bus: invalid value .*expected memory, or nats:\/\/HOST:PORT/,
    ],
    [["--bus=http://h:4222"], /expected memory, or nats:\/\/HOST:PORT/],
    [["--bus=nats://h"], /expected memory, or nats:\/\/HOST:PORT/],
    [["--bus=nats://h:70000"], /expected memory, or nats:\/\/HOST:PORT/],
    [["--bus=nats://h:1", "--role=both"], /expected all, ingest or dashboard/],
    [["--bus=nats://h:1", "--node-id=a.b"], /expected 1 to 64 of A-Z a-z 0-9 _ -/],
    [["--bus=nats://h:1", "--capacity=0"], /expected an integer from 1 to 65536, or all/],
    [["--bus=nats://h:1", "--lease-ttl=500"], /expected an integer from 1000 to 600000/],
    [
      ["--bus=nats://h:1", "--source=replay", "--replay-path=x"],
      /^--bus: a replay runs in one process/,
    ],
    [
      ["--bus=nats://h:1", "--role=dashboard", "--record-dir=r"],
      /^--record-dir: a dashboard node has no exchange connections/,
    ],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseConfig(args), (e: Error) => message.test(e.message), args.join(" "));
  }
  // --role all is the default and may be said with a memory bus.
  assert.equal(parseConfig(["--role=all"]).role, "all");
});

Deno.test("config: --consolidate: instruments, members added to the symbols, env form, errors", () => {
  const c = parseConfig([
    "--symbols",
    "btcusdt",
    "--consolidate",
    "BTC-USDT=binance:BTCUSDT,okx:BTC-USDT,bybit:BTCUSDT",
  ]);
  assert.deepEqual(c.consolidate, [
    { name: "x:btc-usdt", members: ["btcusdt", "okx:btc-usdt", "bybit:btcusdt"] },
  ]);
  assert.deepEqual(c.symbols, ["btcusdt", "okx:btc-usdt", "bybit:btcusdt", "x:btc-usdt"]);
  assert.ok(Object.isFrozen(c.consolidate) && Object.isFrozen(c.symbols));
  // The env var takes the ';' form.
  const env = parseConfig(
    ["--symbols", "btcusdt"],
    (name) =>
      name === "DEPTHWATCH_CONSOLIDATE" ? "A=btcusdt,btcusdc; B=ethusdt,ethusdc" : undefined,
  );
  assert.deepEqual(env.symbols, ["btcusdt", "btcusdc", "ethusdt", "ethusdc", "x:a", "x:b"]);
  assert.deepEqual(parseConfig([]).consolidate, []);
  const bad: [string, RegExp][] = [
    ["A=btcusdt", /1 member\(s\), expected 2 to 8/],
    ["A=btcusdt,btcusdt", /lists btcusdt twice/],
    ["A=a1,a2,a3,a4,a5,a6,a7,a8,a9", /9 member\(s\)/],
    ["btcusdt,ethusdt", /no "="/],
    ["A B=btcusdt,ethusdt", /instrument name "A B"/],
    ["A=btcusdt,ethusdt;a=solusdt,bnbusdt", /"a" is given twice/],
    ["A=btcusdt,nope:BTC", /unknown venue "nope"/],
    ["A=btcusdt,", /empty member/],
  ];
  for (const [value, why] of bad) {
    assert.throws(
      () => parseConfig(["--consolidate", value]),
      (e: unknown) => e instanceof ConfigError && e.flag === "--consolidate" && why.test(e.message),
      value,
    );
  }
  assert.throws(
    () => parseConfig(["--consolidate", "A=btcusdt,ethusdt", "--bus", "nats://127.0.0.1:4222"]),
    /--consolidate: consolidated instruments are composed in one process/,
  );
});
