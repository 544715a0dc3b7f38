/**
 * Footprint benchmark (`deno task footprint`; `deno task bench` runs it with
 * `--quick`): for each scenario (symbols, clients) — by default (2, 0),
 * (2, 1), (200, 0), (2000, 0), (2000, 1000) at 10 frames/s per symbol — the
 * simulated exchange, the service and the dashboard clients run as three
 * processes, and the table shows the service's resident memory (VmRSS and
 * peak VmHWM), the heap and external memory of each isolate (main, ingest
 * worker, analytics worker), its CPU per thread, receive → client latency
 * p50/p99, ring drops, adaptive skips and disconnects over the window. The
 * harness is `testing/footprint_*.ts` (`runScenario` in
 * `testing/footprint_run.ts` says what is measured and how); `--help` lists
 * the flags.
 *
 * ```sh
 * deno task footprint                  # 10 s warm-up, 20 s window per scenario
 * deno task footprint --quick          # 2 s warm-up, 5 s window
 * deno task footprint --scenarios 2000x1000 --duration 60 --json > footprint.json
 * ```
 *
 * @module
 */

import { footprintMain } from "../testing/footprint_command.ts";

if (import.meta.main) await footprintMain(Deno.args);
