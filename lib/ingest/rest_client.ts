/**
 * The HTTP client of Binance REST depth snapshots (`GET /api/v3/depth`, or
 * `GET /fapi/v1/depth` for USD-M futures: option `venue`) under
 * the exchange's rate rules: a request-weight budget that holds in every
 * sliding window ({@linkcode WeightWindow}; also honouring the server's
 * `X-MBX-USED-WEIGHT-1M` header), a queue that staggers
 * requests, `Retry-After` on 429 (no request of any kind before it expires),
 * hard back-off on 418 (IP ban), timeouts, and retries with backoff on network
 * errors. Requests are keyed by symbol: asking again for a symbol that is
 * already queued or in flight returns the same promise. Bodies are parsed by
 * `snapshot_parser.ts`.
 *
 * @example
 * ```ts ignore
 * import { RestClient } from "./rest_client.ts";
 *
 * const rest = new RestClient({ restUrl: "https://api.binance.com" });
 * const snapshot = await rest.fetchDepth("btcusdt");
 * snapshot.lastUpdateId; // e.g. 1027024
 * snapshot.bids[0]; // [price, quantity]
 * await rest.close();
 * ```
 * @module
 */

import { Backoff } from "../pipeline/backoff.ts";
import {
  DEPTH_REQUEST_RULES,
  type DepthRequestVenue,
  depthRequestWeightFor,
} from "../pipeline/depth_request_weight.ts";
import type { DepthSnapshot } from "./depth_snapshot.ts";
import { parseDepthSnapshot } from "./snapshot_parser.ts";
import { WeightWindow } from "./weight_window.ts";

/** Options of {@linkcode RestClient}. */
export interface RestClientOptions {
  /** REST base URL without path, e.g. `https://api.binance.com` (`http:` or `https:`). */
  restUrl: string;
  /**
   * Whose snapshots: `"binance"` (spot, `/api/v3/depth`) or `"binance-usdm"`
   * (USD-M futures, `/fapi/v1/depth`); sets the request path, the limits
   * served and their weights (`depth_request_weight.ts`). Default `"binance"`.
   */
  venue?: DepthRequestVenue;
  /** Exchange weight limit per window. Default 6000. */
  weightLimit?: number;
  /** Fraction of `weightLimit` kept unused as a safety margin, in [0, 1). Default 0.2 (use at most 4800). */
  weightMargin?: number;
  /** Length of the weight window in ms; the budget holds in every window of this length (sliding), so also in the exchange's aligned minutes. Default 60000. */
  weightWindowMs?: number;
  /** Minimum gap between the starts of two requests, in ms (set it to `weightWindowMs × weight / budget` to spread the budget evenly). Default 250. */
  minGapMs?: number;
  /** Requests in flight at once. Default 1. */
  maxInFlight?: number;
  /** A request (including reading its body) is aborted after this long, in ms. Default 10000. */
  timeoutMs?: number;
  /** Attempts per snapshot that failed by timeout, network error, 5xx or a malformed body before giving up. Default 5. 429/418 do not count. */
  maxAttempts?: number;
  /** Wait after a 429 without a usable `Retry-After`, in ms. Default 60000. */
  retryAfterDefaultMs?: number;
  /** Wait after a first 418 without a usable `Retry-After`, in ms; doubled on each repeat. Default 120000. */
  banDefaultMs?: number;
  /** Longest wait a repeated 418 doubles up to, in ms. Default 86400000 (one day). */
  banMaxMs?: number;
  /** Backoff for retries after errors. Default `new Backoff()` (1 s base, 30 s cap). */
  backoff?: Backoff;
  /** Clock in epoch ms. Default `Date.now`. */
  now?: () => number;
  /**
   * Hand back each snapshot's response body untouched in
   * {@linkcode DepthSnapshot.body} (a reference to the text already read, not
   * a copy): for the recorder, which writes REST snapshots as they came.
   * Default false (`body` is not set).
   */
  keepBody?: boolean;
}

/** Error of a request that got an HTTP status other than 200, 429 or 418. */
export class RestStatusError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /**
   * @param status HTTP status received.
   * @param message What was wrong.
   */
  constructor(status: number, message: string) {
    super(message);
    this.name = "RestStatusError";
    this.status = status;
  }
}

/** Parses `Retry-After` (seconds or an HTTP date) into ms; `undefined` if absent or unusable. */
function retryAfterMs(headers: Headers, nowMs: number): number | undefined {
  const value = headers.get("retry-after");
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

interface Entry {
  key: string;
  limit: number;
  weight: number;
  failures: number;
  promise: Promise<DepthSnapshot>;
  resolve: (value: DepthSnapshot) => void;
  reject: (reason: unknown) => void;
}

/**
 * Rate-limited, staggered, de-duplicating depth snapshot client.
 *
 * @example
 * ```ts ignore
 * import { RestClient } from "./rest_client.ts";
 *
 * const rest = new RestClient({ restUrl: "http://127.0.0.1:8080", minGapMs: 500 });
 * const a = rest.fetchDepth("BTCUSDT");
 * const b = rest.fetchDepth("btcusdt"); // same request: a === b
 * await a;
 * rest.weightUsed; // 50
 * await rest.close();
 * ```
 */
export class RestClient {
  /** Requests sent. */
  requests = 0;
  /** Total request weight spent (sum of the weights of requests sent). */
  weightUsed = 0;
  /** 429 answers received. */
  status429 = 0;
  /** 418 answers received. */
  status418 = 0;
  /** Failed requests: timeouts, network errors, unexpected statuses, malformed bodies. */
  errors = 0;
  /** Requests re-queued after a failure, 429 or 418. */
  retries = 0;
  /** Requests aborted by the timeout (also counted in `errors`). */
  timeouts = 0;
  /** Calls of `fetchDepth` answered with an already queued or running request. */
  deduplicated = 0;

  #restUrl: string;
  #venue: DepthRequestVenue;
  #path: string;
  #budget: number;
  #window: WeightWindow;
  #minGapMs: number;
  #maxInFlight: number;
  #timeoutMs: number;
  #maxAttempts: number;
  #retryAfterDefaultMs: number;
  #banDefaultMs: number;
  #banMaxMs: number;
  #backoff: Backoff;
  #now: () => number;
  #keepBody: boolean;

  #entries = new Map<string, Entry>();
  #queue: Entry[] = [];
  #running = new Set<Promise<void>>();
  #controllers = new Set<AbortController>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #inFlight = 0;
  #lastStart = -Infinity;
  #blockedUntil = -Infinity;
  #bans = 0;

  /**
   * @param options See {@linkcode RestClientOptions}.
   * @throws {TypeError} If `restUrl` is not an http(s) URL.
   * @throws {RangeError} If a number is out of range.
   */
  constructor(options: RestClientOptions) {
    const {
      restUrl,
      venue = "binance",
      weightLimit = 6000,
      weightMargin = 0.2,
      weightWindowMs = 60_000,
      minGapMs = 250,
      maxInFlight = 1,
      timeoutMs = 10_000,
      maxAttempts = 5,
      retryAfterDefaultMs = 60_000,
      banDefaultMs = 120_000,
      banMaxMs = 86_400_000,
      backoff = new Backoff(),
      now = Date.now,
      keepBody = false,
    } = options;
    let url: URL;
    try {
      url = new URL(restUrl);
    } catch {
      throw new TypeError(
        `RestClient: restUrl must be an http:// or https:// URL, got ${JSON.stringify(restUrl)}`,
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(
        `RestClient: restUrl must use http: or https:, got ${JSON.stringify(restUrl)}`,
      );
    }
    check("weightLimit", weightLimit, 1);
    if (!(weightMargin >= 0 && weightMargin < 1)) {
      throw new RangeError(`RestClient: weightMargin must be in [0, 1), got ${weightMargin}`);
    }
    check("weightWindowMs", weightWindowMs, 1);
    check("minGapMs", minGapMs, 0);
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new RangeError(`RestClient: maxInFlight must be an integer >= 1, got ${maxInFlight}`);
    }
    check("timeoutMs", timeoutMs, 1);
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(`RestClient: maxAttempts must be an integer >= 1, got ${maxAttempts}`);
    }
    check("retryAfterDefaultMs", retryAfterDefaultMs, 0);
    check("banDefaultMs", banDefaultMs, 0);
    check("banMaxMs", banMaxMs, banDefaultMs);
    if (venue !== "binance" && venue !== "binance-usdm") {
      throw new TypeError(
        `RestClient: venue must be "binance" or "binance-usdm", got ${JSON.stringify(venue)}`,
      );
    }
    this.#restUrl = restUrl.replace(/\/+$/, "");
    this.#venue = venue;
    this.#path = DEPTH_REQUEST_RULES[venue].path;
    this.#budget = Math.floor(weightLimit * (1 - weightMargin));
    this.#window = new WeightWindow({ budget: this.#budget, windowMs: weightWindowMs });
    this.#minGapMs = minGapMs;
    this.#maxInFlight = maxInFlight;
    this.#timeoutMs = timeoutMs;
    this.#maxAttempts = maxAttempts;
    this.#retryAfterDefaultMs = retryAfterDefaultMs;
    this.#banDefaultMs = banDefaultMs;
    this.#banMaxMs = banMaxMs;
    this.#backoff = backoff;
    this.#now = now;
    this.#keepBody = keepBody;
  }

  /** Weight this client may spend per window (limit minus margin). */
  get weightBudget(): number {
    return this.#budget;
  }

  /** Weight counted in the window ending now (own requests, raised to the server's figure when that is higher). */
  get windowWeight(): number {
    return this.#window.used(this.#now());
  }

  /** Snapshots waiting to be requested (not counting those in flight). */
  get queueLength(): number {
    return this.#queue.length;
  }

  /** Requests currently in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Milliseconds until requests may be sent again after a 429/418/error backoff (0 if not blocked). */
  get blockedForMs(): number {
    return Math.max(0, this.#blockedUntil - this.#now());
  }

  /** Whether a snapshot of `symbol` is queued or in flight. */
  isQueued(symbol: string): boolean {
    return this.#entries.has(symbol.toUpperCase());
  }

  /**
   * Queues a depth snapshot request. If one for the same symbol is already
   * queued or in flight, returns its promise (with the limit it was asked with).
   *
   * @param symbol Symbol in any case, e.g. `btcusdt`.
   * @param limit Levels per side: 1 to 5000 (spot), or one of 5, 10, 20, 50,
   *   100, 500, 1000 (USD-M). Default 1000 (weight 50 on spot, 20 on USD-M).
   * @returns The parsed snapshot (with its response body in `body` when the
   *   client keeps bodies, option `keepBody`); rejects after `maxAttempts` failures, on a non-retryable status, or on close.
   * @throws {TypeError} If the symbol is not alphanumeric.
   * @throws {RangeError} If `limit` is out of range or its weight exceeds the budget.
   * @throws {Error} If the client was closed.
   */
  fetchDepth(symbol: string, limit = 1000): Promise<DepthSnapshot> {
    if (this.#closed) throw new Error("RestClient: fetchDepth() called after close()");
    if (typeof symbol !== "string" || !/^[A-Za-z0-9]{1,32}$/.test(symbol)) {
      throw new TypeError(
        `RestClient: symbol must be 1-32 letters or digits like "BTCUSDT", got ${
          JSON.stringify(symbol)
        }`,
      );
    }
    const key = symbol.toUpperCase();
    const existing = this.#entries.get(key);
    if (existing !== undefined) {
      this.deduplicated++;
      return existing.promise;
    }
    const weight = depthRequestWeightFor(this.#venue, limit);
    if (weight > this.#budget) {
      throw new RangeError(
        `RestClient: a depth request with limit ${limit} weighs ${weight}, more than the budget of ${this.#budget} per window`,
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<DepthSnapshot>();
    const entry: Entry = { key, limit, weight, failures: 0, promise, resolve, reject };
    this.#entries.set(key, entry);
    this.#queue.push(entry);
    this.#kick();
    return promise;
  }

  /**
   * Aborts requests in flight, rejects queued ones, clears timers. Resolves when
   * every request has settled.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      for (const c of this.#controllers) c.abort(new Error("RestClient closed"));
      for (const entry of this.#queue) this.#settle(entry, new Error("RestClient: closed"));
      this.#queue.length = 0;
    }
    await Promise.allSettled([...this.#running]);
  }

  #settle(entry: Entry, error: unknown, snapshot?: DepthSnapshot): void {
    this.#entries.delete(entry.key);
    if (snapshot !== undefined) entry.resolve(snapshot);
    else entry.reject(error);
  }

  #kick(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pump();
  }

  #pump = (): void => {
    this.#timer = undefined;
    while (!this.#closed && this.#queue.length > 0 && this.#inFlight < this.#maxInFlight) {
      const now = this.#now();
      const entry = this.#queue[0];
      const wait = Math.max(
        this.#blockedUntil - now,
        this.#lastStart + this.#minGapMs - now,
        this.#window.waitFor(entry.weight, now),
      );
      if (wait > 0) {
        // Clamped: longer delays overflow the timer; the pump re-checks when it fires.
        this.#timer = setTimeout(this.#pump, Math.min(Math.ceil(wait), 0x7fffffff));
        return;
      }
      this.#queue.shift();
      const run = this.#run(entry, now);
      this.#running.add(run);
      run.finally(() => this.#running.delete(run));
    }
  };

  async #run(entry: Entry, startedAt: number): Promise<void> {
    this.#inFlight++;
    this.#lastStart = startedAt;
    this.requests++;
    this.weightUsed += entry.weight;
    this.#window.add(entry.weight, startedAt);
    const controller = new AbortController();
    this.#controllers.add(controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException("depth request timed out", "TimeoutError"));
    }, this.#timeoutMs);
    const url = `${this.#restUrl}${this.#path}?symbol=${entry.key}&limit=${entry.limit}`;
    try {
      const response = await fetch(url, {
        signal: controller.signal,
        headers: { accept: "application/json" },
      });
      const now = this.#now();
      this.#noteUsedWeight(response.headers, now);
      if (response.status === 429) {
        await response.body?.cancel();
        this.status429++;
        const wait = retryAfterMs(response.headers, now) ?? this.#retryAfterDefaultMs;
        this.#block(now + wait);
        this.#requeue(entry);
      } else if (response.status === 418) {
        await response.body?.cancel();
        this.status418++;
        const doubled = Math.min(
          this.#banMaxMs,
          this.#banDefaultMs * 2 ** Math.min(this.#bans, 40),
        );
        this.#bans++;
        const wait = retryAfterMs(response.headers, now) ?? doubled;
        this.#block(now + wait);
        this.#requeue(entry);
      } else if (response.status !== 200) {
        const text = (await response.text()).slice(0, 200);
        this.errors++;
        const error = new RestStatusError(
          response.status,
          `RestClient: GET ${url} answered ${response.status} ${response.statusText}, expected 200: ${text}`,
        );
        if (response.status >= 500) this.#retryOrFail(entry, error);
        else this.#settle(entry, error);
      } else {
        const text = await response.text();
        let snapshot: DepthSnapshot;
        try {
          snapshot = parseDepthSnapshot(text, entry.key);
        } catch (error) {
          this.errors++;
          this.#retryOrFail(entry, error);
          return;
        }
        if (this.#keepBody) snapshot.body = text;
        this.#bans = 0;
        this.#backoff.reset();
        this.#settle(entry, undefined, snapshot);
      }
    } catch (error) {
      if (this.#closed) {
        this.#settle(entry, new Error(`RestClient: closed while fetching ${entry.key}`));
      } else if (timedOut) {
        this.errors++;
        this.timeouts++;
        this.#retryOrFail(
          entry,
          new Error(`RestClient: GET ${url} timed out after ${this.#timeoutMs} ms`),
        );
      } else {
        this.errors++;
        this.#retryOrFail(
          entry,
          new Error(`RestClient: GET ${url} failed: ${(error as Error)?.message ?? error}`, {
            cause: error,
          }),
        );
      }
    } finally {
      clearTimeout(timer);
      this.#controllers.delete(controller);
      this.#inFlight--;
      if (!this.#closed) this.#kick();
    }
  }

  #noteUsedWeight(headers: Headers, now: number): void {
    const value = headers.get("x-mbx-used-weight-1m");
    if (value === null) return;
    const used = Number(value);
    if (!Number.isFinite(used) || used < 0) return;
    this.#window.atLeast(used, now);
  }

  #block(until: number): void {
    if (until > this.#blockedUntil) this.#blockedUntil = until;
  }

  /** Puts a request back at the head of the queue (rate limits keep its place). */
  #requeue(entry: Entry): void {
    this.retries++;
    if (this.#closed) {
      this.#settle(entry, new Error("RestClient: closed"));
      return;
    }
    this.#queue.unshift(entry);
  }

  #retryOrFail(entry: Entry, error: unknown): void {
    entry.failures++;
    if (entry.failures >= this.#maxAttempts || this.#closed) {
      const message = error instanceof Error ? error.message : String(error);
      this.#settle(
        entry,
        new Error(
          `RestClient: depth snapshot of ${entry.key} failed after ${entry.failures} attempt(s): ${message}`,
          { cause: error },
        ),
      );
      return;
    }
    this.#block(this.#now() + this.#backoff.next());
    this.#requeue(entry);
  }
}

function check(name: string, value: number, min: number): void {
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(`RestClient: ${name} must be a number >= ${min}, got ${value}`);
  }
}
