// `GET /` is the market overview: its first paint carries the newest market
// summary (only for a request with the token, when one is configured); a
// valid ?token= moves to a cookie (303 to the URL without it), an old
// `/?symbol=X` link goes to `/s/X`, and a single configured symbol goes
// straight to its detail page. The live service also sends one summary per
// build to a `/ws?summary=1` client, consecutive seqs (counted, not timed).
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { parseConfig } from "../lib/server/config.ts";
import { startService } from "../main.ts";
import { type MarketSummary, ServerMessageSchema } from "../proto/gen/market_pb.ts";
import { bytesOfBase64 } from "../lib/client/overview_seed.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const TOKEN = "s3cret-t0ken";

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000; // a hang guard only
  while (!cond()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The summary in a page's island data, decoded (null when the seed has none). */
function seededSummary(html: string): MarketSummary | null {
  const m = html.match(/"summary":"([A-Za-z0-9+/=]*)"/);
  assert.ok(m, "the page carries the overview seed");
  if (m[1] === "") return null;
  const message = fromBinary(ServerMessageSchema, bytesOfBase64(m[1]));
  assert.equal(message.kind.case, "summary");
  return message.kind.value as MarketSummary;
}

async function get(url: URL, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(url, { redirect: "manual", headers });
}

Deno.test("overview route: token to cookie, data only with it, old ?symbol= links and one symbol redirect", async () => {
  const s = await startService(
    parseConfig(["--source=sim", "--port=0", "--sim-rate=20", `--auth-token=${TOKEN}`]),
    { log: quiet, build: true },
  );
  try {
    await until(
      "a summary with both symbols' frames",
      () =>
        s.state.history.size(0) > 0 && s.state.history.size(1) > 0 &&
        (s.state.summary?.seq ?? 0) >= 2,
    );
    const first = await get(new URL(`/?token=${TOKEN}&sort=mid`, s.url));
    await first.body?.cancel();
    assert.equal(first.status, 303, "a valid ?token= is moved out of the URL");
    assert.equal(first.headers.get("location"), "/?sort=mid");
    assert.equal(first.headers.get("cache-control"), "no-store");
    const setCookie = first.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /^depthwatch_token=s3cret-t0ken;/);
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Strict/);
    assert.equal(first.headers.get("referrer-policy"), "no-referrer");
    const cookie = { cookie: setCookie.split(";")[0] };

    const page = await get(new URL("/", s.url), cookie);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("cache-control"), "no-store");
    const html = await page.text();
    assert.ok(!html.includes(TOKEN), "the token is not in the page");
    const summary = seededSummary(html);
    assert.ok(summary, "with the token the first paint has the summary");
    assert.equal(summary.mid.length, 2);
    assert.ok(summary.mid.every((m) => m > 0), `mids ${summary.mid}`);
    assert.match(html, /href="\/s\/BTCUSDT"/);
    assert.match(html, /href="\/s\/ETHUSDT"/);

    const anonymous = await get(new URL("/", s.url));
    assert.equal(anonymous.status, 200, "the page itself is open");
    assert.equal(seededSummary(await anonymous.text()), null, "no data without the token");
    const wrong = await get(new URL("/?token=nope", s.url));
    assert.equal(wrong.status, 200, "a wrong token is no redirect and no cookie");
    assert.equal(wrong.headers.get("set-cookie"), null);
    assert.equal(seededSummary(await wrong.text()), null);

    // Old dashboard links: /?symbol=X → /s/X (upper-case), after the token step.
    const old = await get(new URL(`/?symbol=ethusdt&token=${TOKEN}`, s.url));
    await old.body?.cancel();
    assert.equal(old.headers.get("location"), "/?symbol=ethusdt");
    const moved = await get(new URL("/?symbol=ethusdt", s.url), cookie);
    await moved.body?.cancel();
    assert.equal(moved.status, 303);
    assert.equal(moved.headers.get("location"), "/s/ETHUSDT");
    const odd = await get(new URL("/?symbol=a%2Fb", s.url), cookie);
    await odd.body?.cancel();
    assert.equal(odd.headers.get("location"), "/s/A%2FB", "the symbol is escaped in the path");

    // The live summary: one message per build, consecutive seqs, all symbols.
    const ws = new WebSocket(new URL("/ws?summary=1", s.url.replace("http", "ws")), {
      headers: cookie,
    } as unknown as string[]);
    ws.binaryType = "arraybuffer";
    const got: MarketSummary[] = [];
    let hello = "";
    ws.onmessage = (e) => {
      const m = fromBinary(ServerMessageSchema, new Uint8Array(e.data));
      if (m.kind.case === "hello") hello = m.kind.value.symbols.join(",");
      if (m.kind.case === "summary") got.push(m.kind.value);
    };
    try {
      await until("three summaries", () => got.length >= 3);
      assert.equal(hello, "BTCUSDT,ETHUSDT");
      const seqs = got.map((x) => x.seq);
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => seqs[0] + i),
        "one summary per build, none skipped",
      );
      assert.ok(got.every((x) => x.feedState.length === 2 && x.mid.length === 2));
      assert.ok(s.state.hub && (s.state.hub as { summariesSent: number }).summariesSent >= 3);
    } finally {
      const closed = new Promise((r) => ws.onclose = r);
      ws.close();
      await closed;
    }
  } finally {
    await s.close();
  }
});

Deno.test("overview route: with a single configured symbol / goes to its detail page", async () => {
  const s = await startService(
    parseConfig(["--source=sim", "--port=0", "--symbols=solusdt"]),
    { log: quiet, build: false },
  );
  try {
    const res = await get(new URL("/", s.url));
    await res.body?.cancel();
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/s/SOLUSDT");
  } finally {
    await s.close();
  }
});
