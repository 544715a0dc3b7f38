import assert from "node:assert/strict";
import { Backoff } from "../lib/pipeline/backoff.ts";
import { RestClient, RestStatusError } from "../lib/ingest/rest_client.ts";
import { depthRequestWeight } from "../lib/pipeline/depth_request_weight.ts";

interface Seen {
  at: number;
  symbol: string;
  limit: string;
  path: string;
}

type Reply = (req: Request, seen: Seen, n: number) => Response | Promise<Response>;

/** A scripted `/api/v3/depth` server on 127.0.0.1 that records every request. */
class RestServer {
  readonly seen: Seen[] = [];
  #server: Deno.HttpServer<Deno.NetAddr>;

  constructor(reply: Reply = () => ok(1)) {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const url = new URL(req.url);
      const seen: Seen = {
        at: performance.now(),
        symbol: url.searchParams.get("symbol") ?? "",
        limit: url.searchParams.get("limit") ?? "",
        path: url.pathname,
      };
      this.seen.push(seen);
      return reply(req, seen, this.seen.length - 1);
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  async close(): Promise<void> {
    await this.#server.shutdown();
  }
}

function ok(id: number, headers: Record<string, string> = {}): Response {
  return new Response(
    JSON.stringify({
      lastUpdateId: id,
      bids: [["100.50000000", "1.25000000"], ["100.40000000", "0.00000000"]],
      asks: [["100.60000000", "3.00000000"]],
    }),
    { headers: { "content-type": "application/json", ...headers } },
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `cond` every 5 ms; the timeout only guards against a hang. */
async function waitFor(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const quickBackoff = () => new Backoff({ baseMs: 5, capMs: 10 });

/**
 * Records when the client under test starts each request, on the client's own
 * clock: pass `now` as its clock (it reads it right before starting a request
 * and not again before calling `fetch`) while the global `fetch` is wrapped.
 * Call `restore()` when done.
 */
function recordStarts() {
  let last = NaN;
  const starts: { symbol: string; at: number }[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    starts.push({ symbol: url.searchParams.get("symbol") ?? "", at: last });
    return realFetch(input, init);
  }) as typeof fetch;
  return {
    now: () => (last = Date.now()),
    starts,
    restore: () => {
      globalThis.fetch = realFetch;
    },
  };
}

Deno.test("depthRequestWeight follows the Binance weight table", () => {
  assert.equal(depthRequestWeight(1), 5);
  assert.equal(depthRequestWeight(100), 5);
  assert.equal(depthRequestWeight(101), 25);
  assert.equal(depthRequestWeight(500), 25);
  assert.equal(depthRequestWeight(501), 50);
  assert.equal(depthRequestWeight(1000), 50);
  assert.equal(depthRequestWeight(1001), 250);
  assert.equal(depthRequestWeight(5000), 250);
  assert.throws(() => depthRequestWeight(0), /integer in \[1, 5000\], got 0/);
  assert.throws(() => depthRequestWeight(5001), /got 5001/);
  assert.throws(() => depthRequestWeight(1.5), /got 1.5/);
});

Deno.test("RestClient: fetches, parses and accounts weight (own count and server header)", async () => {
  const server = new RestServer((_req, _s, n) => ok(100 + n, { "X-MBX-USED-WEIGHT-1M": "1234" }));
  // A frozen clock keeps both requests in one weight window.
  const client = new RestClient({ restUrl: server.url + "/", minGapMs: 0, now: () => 1_000_000 });
  try {
    const snap = await client.fetchDepth("btcusdt");
    assert.deepEqual(snap, {
      lastUpdateId: 100,
      bids: [[100.5, 1.25], [100.4, 0]],
      asks: [[100.6, 3]],
    });
    assert.deepEqual(server.seen.map((s) => [s.path, s.symbol, s.limit]), [
      ["/api/v3/depth", "BTCUSDT", "1000"],
    ]);
    await client.fetchDepth("ethusdt", 100);
    assert.equal(server.seen[1].limit, "100");
    assert.equal(client.requests, 2);
    assert.equal(client.weightUsed, 55);
    assert.equal(client.weightBudget, 4800);
    // The server said 1234 after the first request, well above our own 50; the second
    // request's 5 is counted when it is sent (its response repeats 1234, which is lower).
    assert.equal(client.windowWeight, 1239);
    assert.equal(client.errors, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("RestClient: keepBody hands back the response body byte for byte; by default there is none", async () => {
  // Spacing, key order and number spellings a re-serialised body would change.
  const body = '{ "lastUpdateId" : 7,"asks":[["100.60000000","3.0"]],  "bids":[["1e2","0.50"]]}\n';
  const server = new RestServer(() => new Response(body));
  const keeping = new RestClient({ restUrl: server.url, minGapMs: 0, keepBody: true });
  const plain = new RestClient({ restUrl: server.url, minGapMs: 0 });
  try {
    const kept = await keeping.fetchDepth("btcusdt", 100);
    assert.equal(kept.body, body);
    assert.equal(kept.lastUpdateId, 7);
    assert.deepEqual(kept.bids, [[100, 0.5]]);
    const parsed = await plain.fetchDepth("btcusdt", 100);
    assert.equal("body" in parsed, false);
  } finally {
    await keeping.close();
    await plain.close();
    await server.close();
  }
});

Deno.test("RestClient: requests are staggered in order with a minimum gap", async () => {
  const server = new RestServer();
  const log = recordStarts();
  const client = new RestClient({ restUrl: server.url, minGapMs: 60, now: log.now });
  const symbols = ["AAAUSDT", "BBBUSDT", "CCCUSDT", "DDDUSDT"];
  try {
    await Promise.all(symbols.map((s) => client.fetchDepth(s)));
    assert.deepEqual(server.seen.map((s) => s.symbol), symbols);
    assert.deepEqual(log.starts.map((s) => s.symbol), symbols);
    // Measured where the client starts each request (not where the server
    // receives it, which a busy machine delays by varying amounts).
    for (let i = 1; i < log.starts.length; i++) {
      const gap = log.starts[i].at - log.starts[i - 1].at;
      assert.ok(gap >= 60, `gap ${i} was ${gap} ms`);
    }
  } finally {
    log.restore();
    await client.close();
    await server.close();
  }
});

Deno.test("RestClient: a symbol already queued or in flight is not queued twice", async () => {
  const server = new RestServer(async (_req, _s, n) => {
    await sleep(30);
    return ok(n);
  });
  const client = new RestClient({ restUrl: server.url, minGapMs: 0 });
  try {
    const a = client.fetchDepth("BTCUSDT");
    const b = client.fetchDepth("btcusdt");
    const c = client.fetchDepth("ETHUSDT");
    assert.equal(a, b);
    assert.equal(client.isQueued("BtcUsdt"), true);
    await waitFor("the request at the server", () => server.seen.length === 1); // answered after 30 ms
    assert.equal(client.inFlight, 1);
    const d = client.fetchDepth("BTCUSDT"); // in flight now
    assert.equal(a, d);
    await Promise.all([a, c]);
    assert.equal(client.isQueued("btcusdt"), false);
    assert.deepEqual(server.seen.map((s) => s.symbol), ["BTCUSDT", "ETHUSDT"]);
    assert.equal(client.deduplicated, 2);
    // Once settled, a new request goes out.
    await client.fetchDepth("BTCUSDT");
    assert.equal(server.seen.length, 3);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("RestClient: 429 Retry-After holds back every request until it expires", async () => {
  let answeredAt = 0;
  const server = new RestServer((_req, _s, n) => {
    if (n === 0) {
      answeredAt = performance.now();
      return new Response("too many", { status: 429, headers: { "Retry-After": "1" } });
    }
    return ok(n);
  });
  const client = new RestClient({ restUrl: server.url, minGapMs: 0 });
  try {
    const a = client.fetchDepth("AAAUSDT");
    const b = client.fetchDepth("BBBUSDT");
    assert.equal((await a).lastUpdateId, 1);
    assert.equal((await b).lastUpdateId, 2);
    assert.deepEqual(server.seen.map((s) => s.symbol), ["AAAUSDT", "AAAUSDT", "BBBUSDT"]);
    assert.ok(
      server.seen[1].at - answeredAt >= 990,
      `retried after ${server.seen[1].at - answeredAt} ms`,
    );
    assert.equal(client.status429, 1);
    assert.equal(client.retries, 1);
    assert.equal(client.errors, 0);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("RestClient: 418 backs off hard, doubling on repeat", async () => {
  const answered: number[] = [];
  const server = new RestServer((_req, _s, n) => {
    if (n < 2) {
      answered.push(performance.now());
      return new Response("banned", { status: 418 });
    }
    return ok(n);
  });
  const client = new RestClient({ restUrl: server.url, minGapMs: 0, banDefaultMs: 100 });
  try {
    const snap = await client.fetchDepth("BTCUSDT");
    assert.equal(snap.lastUpdateId, 2);
    assert.equal(server.seen.length, 3);
    assert.ok(
      server.seen[1].at - answered[0] >= 95,
      `first ban ${server.seen[1].at - answered[0]}`,
    );
    assert.ok(
      server.seen[2].at - answered[1] >= 195,
      `second ban ${server.seen[2].at - answered[1]}`,
    );
    assert.equal(client.status418, 2);
    assert.equal(client.retries, 2);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("RestClient: slow responses time out and are retried, then fail clearly", async () => {
  const server = new RestServer(async (_req, _s, n) => {
    await sleep(300);
    return ok(n);
  });
  const client = new RestClient({
    restUrl: server.url,
    minGapMs: 0,
    timeoutMs: 50,
    maxAttempts: 2,
    backoff: quickBackoff(),
  });
  try {
    await assert.rejects(
      client.fetchDepth("BTCUSDT"),
      /depth snapshot of BTCUSDT failed after 2 attempt\(s\): .*timed out after 50 ms/,
    );
    assert.equal(server.seen.length, 2);
    assert.equal(client.timeouts, 2);
    assert.equal(client.errors, 2);
    assert.equal(client.retries, 1);
    assert.equal(client.isQueued("BTCUSDT"), false);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("RestClient: network errors are retried with backoff", async () => {
  // A port that refuses connections: bind, note it, release it.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const client = new RestClient({
    restUrl: `http://127.0.0.1:${port}`,
    minGapMs: 0,
    maxAttempts: 3,
    backoff: quickBackoff(),
  });
  try {
    await assert.rejects(client.fetchDepth("BTCUSDT"), /failed after 3 attempt\(s\)/);
    assert.equal(client.requests, 3);
    assert.equal(client.errors, 3);
    assert.equal(client.retries, 2);
  } finally {
    await client.close();
  }
});

Deno.test("RestClient: a malformed body is retried; a 400 is not", async () => {
  const server = new RestServer((_req, seen, n) => {
    if (seen.symbol === "BADUSDT") {
      return new Response('{"code":-1121,"msg":"Invalid symbol."}', { status: 400 });
    }
    return n === 0 ? new Response('{"lastUpdateId":1,"bids":[["x"]]}') : ok(n);
  });
  const client = new RestClient({ restUrl: server.url, minGapMs: 0, backoff: quickBackoff() });
  try {
    assert.equal((await client.fetchDepth("BTCUSDT")).lastUpdateId, 1);
    assert.equal(client.errors, 1);
    assert.equal(client.retries, 1);
    const error = await client.fetchDepth("BADUSDT").catch((e) => e);
    assert.ok(error instanceof RestStatusError);
    assert.equal(error.status, 400);
    assert.match(error.message, /answered 400 .*expected 200: .*Invalid symbol/);
    assert.equal(server.seen.filter((s) => s.symbol === "BADUSDT").length, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("RestClient: the weight budget defers requests to the next window", async () => {
  const server = new RestServer();
  const windowMs = 300;
  const log = recordStarts();
  const client = new RestClient({
    restUrl: server.url,
    minGapMs: 0,
    weightLimit: 100,
    weightMargin: 0,
    weightWindowMs: windowMs,
    now: log.now,
  });
  try {
    // Start just after a window boundary so the first two usually share one window.
    await sleep(windowMs - (Date.now() % windowMs) + 5);
    await Promise.all(["AAAUSDT", "BBBUSDT", "CCCUSDT"].map((s) => client.fetchDepth(s)));
    assert.equal(server.seen.length, 3);
    assert.equal(client.weightUsed, 150);
    // 50 each against a budget of 100: never three starts in one window.
    const perWindow = new Map<number, number>();
    for (const { at } of log.starts) {
      const w = Math.floor(at / windowMs);
      perWindow.set(w, (perWindow.get(w) ?? 0) + 1);
    }
    assert.ok(
      [...perWindow.values()].every((n) => n <= 2),
      `starts per window: ${[...perWindow.values()]}`,
    );
    assert.throws(
      () => client.fetchDepth("XXXUSDT", 5000),
      /weighs 250, more than the budget of 100/,
    );
  } finally {
    log.restore();
    await client.close();
    await server.close();
  }
});

Deno.test("RestClient: the server's used-weight header is honoured", async () => {
  const server = new RestServer((_req, _s, n) => ok(n, { "X-MBX-USED-WEIGHT-1M": "95" }));
  const windowMs = 300;
  const log = recordStarts();
  const client = new RestClient({
    restUrl: server.url,
    minGapMs: 0,
    weightLimit: 100,
    weightMargin: 0,
    weightWindowMs: windowMs,
    now: log.now,
  });
  try {
    await sleep(windowMs - (Date.now() % windowMs) + 5);
    await client.fetchDepth("AAAUSDT", 100);
    // 95 used + 5 fits exactly; the header then says 95 again, so a third one
    // must wait for a later window than the second's.
    await client.fetchDepth("BBBUSDT", 100);
    await client.fetchDepth("CCCUSDT", 100);
    const [, second, third] = log.starts.map((s) => Math.floor(s.at / windowMs));
    assert.ok(third > second, "the server's count was ignored");
    assert.equal(client.weightUsed, 15);
  } finally {
    log.restore();
    await client.close();
    await server.close();
  }
});

Deno.test("RestClient: close() aborts in-flight requests and rejects queued ones", async () => {
  const server = new RestServer(async (_req, _s, n) => {
    await sleep(300);
    return ok(n);
  });
  const client = new RestClient({ restUrl: server.url, minGapMs: 0 });
  const a = client.fetchDepth("AAAUSDT").catch((e) => e);
  const b = client.fetchDepth("BBBUSDT").catch((e) => e);
  await waitFor("the request at the server", () => server.seen.length === 1); // answered after 300 ms
  assert.equal(client.inFlight, 1);
  assert.equal(client.queueLength, 1);
  await client.close();
  assert.match((await a).message, /closed while fetching AAAUSDT/);
  assert.match((await b).message, /closed/);
  assert.throws(() => client.fetchDepth("CCCUSDT"), /after close/);
  await server.close();
});

Deno.test("RestClient: invalid arguments are rejected with a clear error", () => {
  assert.throws(() => new RestClient({ restUrl: "ws://x" }), /http: or https:/);
  assert.throws(() => new RestClient({ restUrl: "::" }), /http:\/\/ or https:\/\//);
  assert.throws(() => new RestClient({ restUrl: "http://x", weightMargin: 1 }), /weightMargin/);
  assert.throws(() => new RestClient({ restUrl: "http://x", maxInFlight: 0 }), /maxInFlight/);
  const client = new RestClient({ restUrl: "http://127.0.0.1:1" });
  assert.throws(() => client.fetchDepth("BTC/USDT"), /letters or digits/);
  assert.throws(() => client.fetchDepth("BTCUSDT", 0), /limit must be an integer/);
});
