// `deno task record`: least privilege (write, and read, only the recording
// directory besides the app's folder), and the service run with exactly those
// permissions records: the recorder worker writes and closes the hour file.
import assert from "node:assert/strict";
import { openRecording } from "../lib/record/mod.ts";

const ROOT = new URL("../", import.meta.url);
const ROOT_DIR = decodeURIComponent(ROOT.pathname).replace(/\/$/, "");

async function tasks(): Promise<Record<string, string>> {
  return JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks;
}

/** The permission flags of a task's `deno run`, with `$DEPTHWATCH_RECORD_DIR` replaced by `dir`. */
function permissionFlags(line: string, dir: string): string[] {
  const run = line.split("&&").map((c) => c.slice(Math.max(0, c.indexOf("deno run "))))
    .find((c) => c.startsWith("deno run "));
  assert.ok(run, `no "deno run" in ${line}`);
  return run.split(/\s+/).filter((w) => /^(-A|--allow-|-[RWNE]\b)/.test(w))
    .map((w) => w.replaceAll("$DEPTHWATCH_RECORD_DIR", dir));
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("record task: write and read permission for the recording directory only; compile includes the recorder", async () => {
  const t = await tasks();
  const flags = permissionFlags(t.record, "/rec");
  assert.ok(!flags.some((f) => f === "-A" || f === "--allow-all"), flags.join(" "));
  assert.ok(flags.includes("--allow-write=/rec"), flags.join(" "));
  assert.ok(flags.includes("--allow-read=.,/rec"), flags.join(" "));
  // Otherwise what start asks for.
  const start = permissionFlags(t.start, "/rec");
  assert.deepEqual(
    flags.filter((f) => !f.startsWith("--allow-write") && !f.startsWith("--allow-read")),
    start.filter((f) => !f.startsWith("--allow-read")),
  );
  assert.match(t.compile, /--include lib\/record\/record_worker\.ts/);
});

Deno.test("record task: the service with exactly the task's permissions records into closed hour files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "depthwatch_rec_" });
  const flags = permissionFlags((await tasks()).record, dir);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, `${ROOT_DIR}/main.ts`, "--source=sim", `--port=${freePort()}`],
    cwd: ROOT_DIR,
    env: { NO_COLOR: "1", DEPTHWATCH_RECORD_DIR: dir },
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let out = "";
  const decoder = new TextDecoder();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) out += decoder.decode(chunk, { stream: true });
  };
  const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
  try {
    const until = Date.now() + 60_000; // a hang guard
    let recorded = 0;
    while (recorded < 20 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      const url = /depthwatch listening on (http:\/\/\S+\/)/.exec(out)?.[1];
      if (!url) continue;
      const stats = await (await fetch(new URL("/stats?symbols=none", url))).json();
      recorded = stats.record?.ringRecords ?? 0;
    }
    assert.ok(recorded >= 20, `nothing recorded within 60 s:\n${out}`);
  } finally {
    child.kill("SIGTERM");
  }
  const status = await child.status;
  await pumped;
  assert.equal(status.code, 0, out);
  assert.match(out, new RegExp(`recording to ${dir}`));
  assert.doesNotMatch(out, /recorder: |NotCapable|PermissionDenied/, out);
  const reader = openRecording(dir);
  let n = 0;
  while (reader.next()) n++;
  assert.ok(n >= 20, `${n} records read back`);
  assert.equal(reader.issues.total, 0);
  const names: string[] = [];
  const walk = (path: string) => {
    for (const e of Deno.readDirSync(path)) {
      if (e.isDirectory) walk(`${path}/${e.name}`);
      else names.push(e.name);
    }
  };
  walk(dir);
  assert.ok(names.some((n) => n.endsWith(".dwrec.zst")), names.join(" "));
  assert.ok(!names.some((n) => n.endsWith(".partial")), `closed on SIGTERM: ${names.join(" ")}`);
  await Deno.remove(dir, { recursive: true });
});
