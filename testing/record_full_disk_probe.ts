/**
 * Run inside a tiny tmpfs (tests/record_full_disk_test.ts mounts one in a user
 * namespace with `unshare -rm`): records real frames into `DIR/rec` until the
 * disk is full, frees space, records more, closes, reads the recording back
 * and prints one JSON line with the writer's counters and what was read.
 *
 * @example
 * ```ts ignore
 * // unshare -rm sh -c 'mount -t tmpfs -o size=256k tmpfs /tmp/x && deno run -A testing/record_full_disk_probe.ts /tmp/x'
 * ```
 * @module
 */
import { openRecording, RecordWriter } from "../lib/record/mod.ts";
import { recordedMessages } from "./record_fixture.ts";

/** What the probe prints. */
export interface FullDiskReport {
  /** The writer's counters when the disk first filled, and at the end. */
  atFull: Record<string, number>;
  final: Record<string, number>;
  lastError: string;
  /** Records written after space came back. */
  writtenAfter: number;
  /** Records the reader found, and its issue count. */
  read: number;
  issues: number;
  /** The first issues, as text. */
  issueList: string[];
}

/**
 * Fills `dir` (a small tmpfs) with recordings until ENOSPC, frees space, goes on.
 *
 * @example
 * ```ts ignore
 * const report = runFullDiskProbe("/mnt/tiny"); // a 256 KiB tmpfs
 * report.atFull.errors; // ≥ 1
 * ```
 */
export function runFullDiskProbe(dir: string): FullDiskReport {
  const filler = `${dir}/filler`;
  const chunk = new Uint8Array(16 << 10);
  const f = Deno.openSync(filler, { create: true, write: true });
  // Leave room for a few blocks only: the free space minus a margin goes to incompressible filler.
  for (let i = 0; i < 11; i++) f.writeSync(crypto.getRandomValues(chunk));
  f.close();
  const msgs = recordedMessages(Date.UTC(2026, 11, 2, 12) * 1000, 1_000);
  const pass = msgs[msgs.length - 1].us - msgs[0].us + 1_000; // repeats go on in time
  const at = (i: number) => msgs[i % msgs.length].us + Math.floor(i / msgs.length) * pass;
  const w = new RecordWriter({ dir: `${dir}/rec`, venue: "binance", blockBytes: 16 << 10 });
  let i = 0;
  while (w.counters.errors === 0 && i < 50 * msgs.length) {
    w.append(at(i), msgs[i % msgs.length].text);
    if (++i % 25 === 0) w.flush();
  }
  const atFull = { ...w.counters };
  Deno.removeSync(filler);
  for (let k = 0; k < 100; k++, i++) {
    w.append(at(i), msgs[i % msgs.length].text);
  }
  w.close();
  const r = openRecording(`${dir}/rec`);
  let read = 0;
  while (r.next()) read++;
  return {
    atFull,
    final: { ...w.counters },
    lastError: w.lastError ?? "",
    writtenAfter: w.counters.records - atFull.records,
    read,
    issues: r.issues.total,
    issueList: r.issues.list.slice(0, 5).map((x) =>
      `${x.kind} ${x.file}@${x.offset}: ${x.message}`
    ),
  };
}

if (import.meta.main) console.log(JSON.stringify(runFullDiskProbe(Deno.args[0])));
