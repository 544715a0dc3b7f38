/**
 * A real full disk: a 256 KiB tmpfs mounted in a user namespace (`unshare
 * -rm`, no root needed) where testing/record_full_disk_probe.ts records until
 * ENOSPC, frees space and records again. Skipped where user namespaces are
 * not allowed (tests/record_writer_test.ts covers the same with an injected
 * failing file system).
 */
import assert from "node:assert/strict";
import type { FullDiskReport } from "../testing/record_full_disk_probe.ts";

function canUnshare(): boolean {
  try {
    const out = new Deno.Command("unshare", {
      args: ["-rm", "true"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return out.success;
  } catch {
    return false;
  }
}

const PROBE = new URL("../testing/record_full_disk_probe.ts", import.meta.url).pathname;

Deno.test({
  name:
    "record full disk (real tmpfs): ENOSPC counted, no crash, recording resumes and reads back whole",
  ignore: !canUnshare(),
  fn() {
    const mnt = Deno.makeTempDirSync();
    const script = `mount -t tmpfs -o size=256k tmpfs "$1" && exec "$2" run -A "$3" "$1"`;
    const out = new Deno.Command("unshare", {
      args: ["-rm", "sh", "-c", script, "sh", mnt, Deno.execPath(), PROBE],
    }).outputSync();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, `probe failed: ${stderr}`);
    const report = JSON.parse(new TextDecoder().decode(out.stdout)) as FullDiskReport;
    assert.ok(report.atFull.errors >= 1, JSON.stringify(report));
    assert.match(report.lastError, /No space left|os error 28|ENOSPC/);
    assert.ok(report.atFull.dropped >= 1, "the block that did not fit is dropped and counted");
    assert.ok(report.atFull.records > 0, "records were written before the disk filled");
    assert.ok(report.writtenAfter > 0, "recording resumed when space came back");
    assert.equal(report.read, report.final.records, "every written record reads back");
    assert.equal(report.issues, 0, "no damaged block was left behind");
    Deno.removeSync(mnt, { recursive: true });
  },
});
