/**
 * The fan-out load generator as a command, for manual runs against a running
 * service: N WebSocket clients, one JSON line (a `LoadResult`) on stdout
 * at the end, progress on stderr. The load itself is `runLoad` in
 * `testing/fanout_load.ts`; the flags are those of `parseLoadFlags` in
 * `testing/fanout_load_process.ts`, which benchmarks and tools use to run it
 * as a separate process (`runLoadProcess`).
 *
 * ```sh
 * deno run -A bench/fanout_loadgen.ts --url http://127.0.0.1:8000/ \
 *   --clients 1000 --symbols BTCUSDT,ETHUSDT --warmup 1 --duration 5 --pid 12345
 * ```
 *
 * @module
 */

import { loadgenMain } from "../testing/fanout_load_process.ts";

if (import.meta.main) await loadgenMain(Deno.args, "bench/fanout_loadgen.ts");
