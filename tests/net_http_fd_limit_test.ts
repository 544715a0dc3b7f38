// File-descriptor exhaustion: a serveHttp server in a subprocess with
// `ulimit -n 128` (soft and hard, since Deno raises the soft limit to the
// hard one) and a connection cap above it gets 300 connections. `accept`
// fails with EMFILE; the process must stay alive, count the errors, log them,
// and serve normally once the connections are closed.
import assert from "node:assert/strict";
import { drainLines } from "../testing/service_process.ts";

const FIXTURE = new URL("./fixtures/net_http_fd_server.ts", import.meta.url).pathname;

/** Wait until `cond` holds, polling; fails after 30 s (a hang guard, not a speed check). */
async function waitFor(what: string, cond: () => boolean): Promise<void> {
  const end = Date.now() + 30_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("http server: EMFILE on accept is survived; the listener serves again once descriptors are free", async () => {
  const child = new Deno.Command("sh", {
    args: ["-c", `ulimit -n 128 && exec "${Deno.execPath()}" run -A "${FIXTURE}"`],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => (exited = true, s));
  const out: string[] = [];
  const err: string[] = [];
  const draining = Promise.all([
    drainLines(child.stdout, (line) => out.push(line)),
    drainLines(child.stderr, (line) => err.push(line)),
  ]);
  const clients: Deno.TcpConn[] = [];
  try {
    await waitFor("the fixture's port", () => out.length > 0 || exited);
    const { port } = JSON.parse(out[0] ?? "{}") as { port: number };
    assert.ok(port > 0, `the fixture printed ${out[0]}; stderr: ${err.join("\n")}`);

    // 300 connections: the kernel completes them all (the listen backlog
    // holds those the server cannot accept), the server runs out of fds.
    for (let i = 0; i < 300; i++) clients.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    await waitFor("an accept error in the log", () => err.length > 0 || exited);
    assert.match(err[0], /accept failed: .*Too many open files/);
    assert.equal(exited, false);

    for (const c of clients.splice(0)) c.close();
    // The server closes its side as it reads each end of stream and accepts again.
    let counters: { acceptErrors: number; accepted: number } | undefined;
    for (let attempt = 0; counters === undefined; attempt++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/counters`);
        counters = await res.json();
      } catch (err) {
        if (attempt > 300) throw err; // ~30 s: a hang guard
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(counters!.acceptErrors > 0, JSON.stringify(counters));
    assert.ok(counters!.accepted >= 300, JSON.stringify(counters));
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), "ok");
    assert.equal(exited, false, "the server process must still be running");
  } finally {
    for (const c of clients) c.close();
    if (!exited) child.kill("SIGTERM");
    await status;
    await draining;
  }
});
