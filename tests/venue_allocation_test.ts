import assert from "node:assert/strict";

/**
 * `handle` allocates nothing per message: a child process with `--expose-gc`
 * replays each venue's recording many times after warm-up and reports the
 * heap growth per message. The smallest allocation (one boxed number) is 16
 * bytes a message; what remains is a one-off of the run (compiled code), a
 * few bytes spread over tens of thousands of messages.
 */
for (const venue of ["okx", "kraken", "bybit", "coinbase"]) {
  Deno.test(`venue ${venue}: handle allocates nothing per message after warm-up`, async () => {
    const probe = new URL("./venue_allocation_probe.ts", import.meta.url);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--v8-flags=--expose-gc", probe.pathname, venue],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const { perMessage } = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      perMessage: number;
    };
    assert.ok(perMessage < 4, `${venue}: ${perMessage} bytes of heap per message`);
  });
}
