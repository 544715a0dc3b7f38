/**
 * Command line of the simulated exchange.
 *
 * ```sh
 * deno run -A lib/sim/sim_main.ts --symbols btcusdt,okx:btc-usdt,bybit:btcusdt --rate 10 --port 9443 \
 *   [--seed 1] [--levels 20] [--host 127.0.0.1] [--status ethusdt=BREAK ...] [--fault close:5s ...]
 * ```
 *
 * Prints the WebSocket and REST URLs, then runs until SIGINT/SIGTERM. Each
 * `--fault kind[:at][,key=value...]` is injected `at` after start (see
 * `parseFaultSpec` in sim_fault.ts), e.g. `--fault close:5s`,
 * `--fault stall:10s,durationMs=3s,symbol=btcusdt`, `--fault rest429:0s,count=2`.
 * Faults can also be posted while it runs: `curl -d '{"kind":"gap","symbol":"btcusdt"}'
 * http://127.0.0.1:9443/sim/fault`.
 *
 * @example
 * ```ts
 * const opts = parseSimArgs(["--symbols", "btcusdt", "--rate", "50"]);
 * opts.rate; // 50
 * ```
 * @module
 */

import { startSimExchange } from "./sim_exchange.ts";
import { parseFaultSpec, type ScheduledFault } from "./sim_fault.ts";

/**
 * Parsed command line of the simulator.
 *
 * @example
 * ```ts
 * const args: SimArgs = parseSimArgs(["--port", "0", "--fault", "stall:2s"]);
 * args.port; // 0
 * ```
 */
export interface SimArgs {
  /** Symbols, lower-case. Default `["btcusdt", "ethusdt"]`. */
  symbols: string[];
  /** Frames per second per symbol. Default 10. */
  rate: number;
  /** Port. Default 9443. */
  port: number;
  /** Bind address. Default `"127.0.0.1"`. */
  hostname: string;
  /** Seed. Default 1. */
  seed: number;
  /** Levels of the printed partial-stream URL (5, 10, 20). Default 20. */
  levels: number;
  /** exchangeInfo statuses other than `TRADING`, by lower-case symbol (`--status s=STATUS`). */
  statuses: Record<string, string>;
  /** Faults to inject after start. */
  faults: ScheduledFault[];
  /** `--help` was given. */
  help: boolean;
}

/** Usage text printed by `--help`. */
const USAGE = `Simulated exchange (depthwatch): Binance spot and USD-M, Bybit, OKX, Kraken, Coinbase

Usage: deno run -A lib/sim/sim_main.ts [options]

  --symbols a,b,c    symbols to simulate (default btcusdt,ethusdt); venue:SYMBOL for
                     other venues: okx:btc-usdt, bybit:btcusdt, kraken:btc/usd,
                     coinbase:btc-usd, binance-usdm:btcusdt
  --rate N           frames per second per symbol (default 10)
  --port N           port (default 9443; 0 = any free port)
  --host ADDR        bind address (default 127.0.0.1)
  --seed N           random seed (default 1)
  --levels 5|10|20   levels of the printed partial-stream URL (default 20)
  --status S=STATUS  status GET /api/v3/exchangeInfo lists for symbol S instead of
                     TRADING (e.g. lunausdt=BREAK); repeatable; S still streams
  --fault SPEC       kind[:at][,key=value...], repeatable; kinds: close, stall, gap,
                     garbage, truncated, crossed, checksum, reset, quiet, serverShutdown,
                     rest429, rest418, restSlow, clear.
                     Example: --fault stall:10s,durationMs=3s,symbol=okx:btc-usdt
  --help             this text
`;

/**
 * Parses the simulator's command line.
 *
 * @param args `Deno.args`.
 * @throws {TypeError} naming the bad flag and what was expected.
 * @example
 * ```ts
 * parseSimArgs(["--fault", "close:5s"]).faults[0].atMs; // 5000
 * ```
 */
export function parseSimArgs(args: string[]): SimArgs {
  const out: SimArgs = {
    symbols: ["btcusdt", "ethusdt"],
    rate: 10,
    port: 9443,
    hostname: "127.0.0.1",
    seed: 1,
    levels: 20,
    statuses: {},
    faults: [],
    help: false,
  };
  for (let i = 0; i < args.length; i++) {
    let flag = args[i];
    let value: string | undefined;
    const eq = flag.indexOf("=");
    if (flag.startsWith("--") && eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    if (flag === "--help" || flag === "-h") {
      out.help = true;
      continue;
    }
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) throw new TypeError(`${flag} needs a value`);
    }
    const num = (min: number, max: number) => {
      const n = Number(value);
      if (value === "" || !Number.isFinite(n) || n < min || n > max) {
        throw new TypeError(`${flag} must be a number in ${min}..${max}, got ${value}`);
      }
      return n;
    };
    switch (flag) {
      case "--symbols":
        out.symbols = value.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
        break;
      case "--rate":
        out.rate = num(0, 100_000);
        break;
      case "--port":
        out.port = num(0, 65535);
        break;
      case "--host":
      case "--hostname":
        out.hostname = value;
        break;
      case "--seed":
        out.seed = num(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
        break;
      case "--levels":
        out.levels = num(5, 20);
        break;
      case "--status": {
        const m = /^([A-Za-z0-9]{2,20})=([A-Z_]{1,20})$/.exec(value);
        if (!m) {
          throw new TypeError(`--status must be SYMBOL=STATUS like lunausdt=BREAK, got ${value}`);
        }
        out.statuses[m[1].toLowerCase()] = m[2];
        break;
      }
      case "--fault":
        out.faults.push(parseFaultSpec(value));
        break;
      default:
        throw new TypeError(`unknown flag ${flag}; see --help`);
    }
  }
  return out;
}

async function main(): Promise<void> {
  let args: SimArgs;
  try {
    args = parseSimArgs(Deno.args);
  } catch (err) {
    console.error(`sim: ${(err as Error).message}`);
    Deno.exit(2);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const sim = await startSimExchange(args);
  console.log(`sim exchange ws:   ${sim.wsUrl}`);
  console.log(
    `sim exchange rest: ${sim.restUrl}   listing: GET ${sim.restUrl}/api/v3/exchangeInfo`,
  );
  if (sim.partialUrl !== "") {
    console.log(`partial streams:   ${sim.partialUrl}`);
    console.log(`diff streams:      ${sim.diffUrl}`);
  }
  for (const [venue, urls] of Object.entries(sim.venueUrls)) {
    if (venue === "binance") continue;
    console.log(
      `${(venue + ":").padEnd(19)}${urls.wsUrl}${urls.restUrl ? `   rest: ${urls.restUrl}` : ""}`,
    );
  }
  console.log(
    `faults:            POST ${sim.restUrl}/sim/fault   stats: GET ${sim.restUrl}/sim/stats`,
  );
  const timers = args.faults.map(({ atMs, fault }) =>
    setTimeout(() => {
      sim.inject(fault);
      console.log(`sim: injected ${JSON.stringify(fault)}`);
    }, atMs)
  );
  const stop = async () => {
    for (const t of timers) clearTimeout(t);
    await sim.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

if (import.meta.main) await main();
