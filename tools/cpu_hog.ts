/**
 * CPU hog: keeps `--workers` threads busy (one tight loop each) for
 * `--seconds` seconds, then exits. Run it next to the test suite to check that
 * no correctness test depends on the machine being idle (README, "Testing").
 * Each worker also stops on its own at the deadline, so nothing is left
 * spinning if this process is killed.
 *
 * Flags (defaults in brackets): `--workers <n>` [the number of cores],
 * `--seconds <n>` [600].
 *
 * @example
 * ```sh
 * deno run -A tools/cpu_hog.ts --workers 2 --seconds 900 & deno task test
 * ```
 * @module
 */
import { parseArgs } from "node:util";

/** The busy loop each worker runs until `deadline` (ms since the epoch). */
const WORKER_SOURCE = `
self.onmessage = (e) => {
  const deadline = e.data;
  let x = 0;
  while (Date.now() < deadline) {
    for (let i = 0; i < 100_000; i++) x = (x * 31 + i) | 0;
  }
  self.postMessage(x);
};
`;

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!(Number.isFinite(v) && v > 0)) {
    throw new TypeError(`--${name} must be a positive number, got ${JSON.stringify(raw)}`);
  }
  return v;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { workers: { type: "string" }, seconds: { type: "string" } },
    strict: true,
  });
  const workers = Math.round(positive("workers", values.workers, navigator.hardwareConcurrency));
  const seconds = positive("seconds", values.seconds, 600);
  const deadline = Date.now() + seconds * 1000;
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
  console.error(`cpu_hog: ${workers} busy worker(s) for ${seconds} s`);
  await Promise.all(
    Array.from({ length: workers }, () =>
      new Promise<void>((resolve) => {
        const w = new Worker(url, { type: "module" });
        w.onmessage = () => {
          w.terminate();
          resolve();
        };
        w.postMessage(deadline);
      })),
  );
  console.error("cpu_hog: done");
}

if (import.meta.main) await main();
