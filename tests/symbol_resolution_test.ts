/**
 * `--symbols` with patterns and `all`, resolved at start against a real
 * exchangeInfo endpoint over real sockets: the simulated exchange, and a tiny
 * local HTTP stub for an exchange answering 429, 418, 500 or garbage.
 */
import assert from "node:assert/strict";
import { Backoff } from "../lib/pipeline/backoff.ts";
import { ExchangeInfoError, fetchExchangeInfo } from "../lib/ingest/exchange_info.ts";
import { ConfigError, parseConfig } from "../lib/server/config.ts";
import { resolveSymbols } from "../lib/server/symbol_resolution.ts";
import { type SimExchange, startSimExchange } from "../lib/sim/sim_exchange.ts";
import { startService } from "../main.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const fast = () => new Backoff({ baseMs: 5, capMs: 20 });

/** The simulated exchange of these tests: five symbols, one of them delisted (BREAK). */
function listingSim(): Promise<SimExchange> {
  return startSimExchange({
    symbols: ["btcusdt", "ethusdt", "ethbtc", "xrpusdt", "lunausdt"],
    statuses: { lunausdt: "BREAK" },
    rate: 10,
  });
}

/** A local HTTP stub whose answers are given in order (the last one repeats). */
function stub(answers: (() => Response)[]) {
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    assert.equal(new URL(req.url).pathname, "/api/v3/exchangeInfo");
    return answers[Math.min(requests++, answers.length - 1)]();
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get requests() {
      return requests;
    },
    close: () => server.shutdown(),
  };
}

function resolveAt(url: string, symbols: string, maxAttempts = 3) {
  return resolveSymbols(parseConfig(["--symbols", symbols]), url, {
    backoff: fast(),
    maxAttempts,
  });
}

Deno.test("sim exchangeInfo: Binance's shape, TRADING unless set, weight 20", async () => {
  const sim = await listingSim();
  try {
    const res = await fetch(`${sim.restUrl}/api/v3/exchangeInfo`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-mbx-used-weight-1m"), "20");
    const body = await res.json();
    assert.equal(body.timezone, "UTC");
    assert.equal(body.rateLimits[0].rateLimitType, "REQUEST_WEIGHT");
    assert.deepEqual(
      body.symbols.map((
        s: Record<string, string>,
      ) => [s.symbol, s.status, s.baseAsset, s.quoteAsset]),
      [
        ["BTCUSDT", "TRADING", "BTC", "USDT"],
        ["ETHUSDT", "TRADING", "ETH", "USDT"],
        ["ETHBTC", "TRADING", "ETH", "BTC"],
        ["XRPUSDT", "TRADING", "XRP", "USDT"],
        ["LUNAUSDT", "BREAK", "LUNA", "USDT"],
      ],
    );
    assert.equal(body.symbols[0].filters[0].tickSize, "0.01000000");
    const info = await fetchExchangeInfo(sim.restUrl);
    assert.equal(info.usedWeight1m, 40, "the second listing adds 20 to the same minute");
    assert.equal(info.attempts, 1);
    assert.equal(sim.stats().usedWeight1m, 40, "shared with the depth snapshots' meter");
  } finally {
    await sim.close();
  }
});

Deno.test("--symbols all and a pattern resolve against the simulated exchange", async () => {
  const sim = await listingSim();
  try {
    assert.deepEqual((await resolveAt(sim.restUrl, "all")).symbols, [
      "btcusdt",
      "ethusdt",
      "ethbtc",
      "xrpusdt",
    ]);
    assert.deepEqual((await resolveAt(sim.restUrl, "*USDT")).symbols, [
      "btcusdt",
      "ethusdt",
      "xrpusdt",
    ]);
    assert.deepEqual((await resolveAt(sim.restUrl, "ethbtc,*usdt,eth*")).symbols, [
      "ethbtc",
      "btcusdt",
      "ethusdt",
      "xrpusdt",
    ]);
    // Names only: used as given, no request.
    const before = sim.stats().usedWeight1m;
    const plain = parseConfig(["--symbols", "nosuchusdt"]);
    assert.equal(await resolveSymbols(plain, sim.restUrl), plain);
    assert.equal(sim.stats().usedWeight1m, before);
  } finally {
    await sim.close();
  }
});

Deno.test("--symbols: a pattern matching nothing and unknown or delisted names fail clearly", async () => {
  const sim = await listingSim();
  try {
    await assert.rejects(resolveAt(sim.restUrl, "*eur"), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.flag, "--symbols");
      assert.match(
        e.message,
        /^--symbols "\*eur": the pattern \*eur matches no TRADING symbol of the 5 listed/,
      );
      return true;
    });
    await assert.rejects(resolveAt(sim.restUrl, "nopeusdt,lunausdt,*usdt"), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /nopeusdt is not listed by the exchange/);
      assert.match(e.message, /lunausdt is listed as BREAK, not TRADING/);
      return true;
    });
  } finally {
    await sim.close();
  }
});

Deno.test("--symbols: 500 and 429 at start are retried a bounded number of times, then fail clearly", async () => {
  const down = stub([() => new Response("oops", { status: 500 })]);
  try {
    await assert.rejects(resolveAt(down.url, "*usdt", 3), (e: unknown) => {
      assert.ok(e instanceof ExchangeInfoError && e.transient, String(e));
      assert.equal(e.status, 500);
      assert.match(e.message, /^--symbols "\*usdt" needs the exchange's symbol listing/);
      assert.match(e.message, /failed 3 times \(last: HTTP 500\)/);
      assert.match(e.message, /check --binance-rest-url/);
      return true;
    });
    assert.equal(down.requests, 3);
  } finally {
    await down.close();
  }
  const busy = stub([() => new Response("{}", { status: 429, headers: { "Retry-After": "0" } })]);
  try {
    await assert.rejects(resolveAt(busy.url, "all", 4), /failed 4 times \(last: HTTP 429\)/);
    assert.equal(busy.requests, 4);
  } finally {
    await busy.close();
  }
  // A transient failure followed by a listing: resolved.
  const listing = `{"symbols":[{"symbol":"BTCUSDT","status":"TRADING"}]}`;
  const flaky = stub([
    () => new Response("{}", { status: 429, headers: { "Retry-After": "0" } }),
    () => new Response("busy", { status: 503 }),
    () => new Response(listing, { status: 200 }),
  ]);
  try {
    assert.deepEqual((await resolveAt(flaky.url, "all", 3)).symbols, ["btcusdt"]);
    assert.equal(flaky.requests, 3);
  } finally {
    await flaky.close();
  }
});

Deno.test("--symbols: a ban, a long Retry-After, another status or garbage fail at once", async () => {
  const cases: [() => Response, RegExp, boolean][] = [
    [
      () => new Response("{}", { status: 418, headers: { "Retry-After": "120" } }),
      /answered 418: this IP is banned by the exchange for 120 s more/,
      false,
    ],
    [
      () => new Response("{}", { status: 429, headers: { "Retry-After": "3600" } }),
      /answered 429 with Retry-After 3600 s, longer than the 60 s start can wait/,
      true,
    ],
    [() => new Response("no", { status: 404 }), /answered 404 \("no"\); expected 200/, false],
    [() => new Response("<html>", { status: 200 }), /answered 200 but the body is not JSON/, false],
    [
      () => new Response(`{"symbols":"x"}`),
      /answered 200 but the body has no symbols array/,
      false,
    ],
    [
      () => new Response(`{"symbols":[{"symbol":"BTCUSDT"}]}`),
      /symbols\[0\] has no string symbol and status; expected \{"symbols"/,
      false,
    ],
  ];
  for (const [answer, message, transient] of cases) {
    const s = stub([answer]);
    try {
      await assert.rejects(resolveAt(s.url, "all"), (e: unknown) => {
        assert.ok(transient ? e instanceof ExchangeInfoError : e instanceof ConfigError, String(e));
        assert.match((e as Error).message, message);
        assert.match((e as Error).message, /^--symbols "all"/);
        return true;
      });
      assert.equal(s.requests, 1, `${message}: not retried`);
    } finally {
      await s.close();
    }
  }
});

Deno.test("service: --symbols '*usdt' against the exchange, and all against the in-process sim", async () => {
  const sim = await listingSim();
  const service = await startService(
    parseConfig([
      "--symbols=*usdt",
      `--binance-ws-url=${sim.wsUrl}`,
      `--binance-rest-url=${sim.restUrl}`,
      "--port=0",
    ]),
    { log: quiet, backoffBaseMs: 20, backoffCapMs: 200 },
  );
  try {
    assert.deepEqual(service.state.symbols, ["BTCUSDT", "ETHUSDT", "XRPUSDT"]);
    // Every resolved symbol goes live on the simulated exchange's streams.
    const deadline = Date.now() + 20_000;
    let body: { status?: string } = {};
    while (Date.now() < deadline) {
      const res = await fetch(new URL("/health", service.url));
      body = await res.json();
      if (res.status === 200 && body.status === "ok") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(body.status, "ok", JSON.stringify(body));
  } finally {
    await service.close();
    await sim.close();
  }
  const inProcess = await startService(
    parseConfig(["--source=sim", "--symbols=all", "--port=0"]),
    { log: quiet },
  );
  try {
    assert.deepEqual(inProcess.state.symbols, ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT"]);
  } finally {
    await inProcess.close();
  }
});

/** Runs `main.ts` with `args`; its exit code and stderr (killed after 60 s). */
async function runMain(args: string[]): Promise<{ code: number; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname, "--port=0", ...args],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const out = await child.output();
  clearTimeout(timer);
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("command line: a bad --symbols exits 2, an exchange that stays down exits 1", async () => {
  const sim = await listingSim();
  try {
    const bad = await runMain(["--symbols", "*eur", "--binance-rest-url", sim.restUrl]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(
      bad.stderr,
      /depthwatch: --symbols "\*eur": the pattern \*eur matches no TRADING symbol/,
    );
  } finally {
    await sim.close();
  }
  const down = stub([() => new Response("oops", { status: 500 })]);
  try {
    const failed = await runMain(["--symbols", "all", "--binance-rest-url", down.url]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /failed 4 times \(last: HTTP 500\)/);
    assert.equal(down.requests, 4, "the default bound: 4 attempts");
  } finally {
    await down.close();
  }
});
