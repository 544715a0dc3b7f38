/**
 * The REST endpoint of the simulated exchange, `GET /api/v3/depth?symbol=S&limit=N`:
 * parameter checks with Binance's error codes, request weight per
 * `limit` against a per-minute budget (429 with `Retry-After` when spent), the
 * `X-MBX-USED-WEIGHT-1M` header, and the REST faults (forced 429 and 418
 * answers, slow responses).
 *
 * The snapshot is encoded when the request is admitted, so it is consistent with
 * the diff stream at that moment even when a `restSlow` fault holds the answer back.
 *
 * @example
 * ```ts
 * import { BookModel } from "./book_model.ts";
 * import { FrameEncoder } from "./frame_encoder.ts";
 * import { JsonReplies } from "./sim_http.ts";
 * import { DepthEndpoint } from "./sim_rest.ts";
 * import { symbolSpec } from "./symbol_spec.ts";
 * const encoder = new FrameEncoder(new BookModel(symbolSpec("btcusdt")));
 * const rest = new DepthEndpoint({
 *   encoders: new Map([["btcusdt", encoder]]),
 *   replies: new JsonReplies(),
 * });
 * const res = await rest.handle(new URL("http://sim/api/v3/depth?symbol=BTCUSDT&limit=5"));
 * res.headers.get("X-MBX-USED-WEIGHT-1M"); // "5"
 * ```
 * @module
 */

import { type FrameEncoder, MAX_SNAPSHOT_LIMIT } from "./frame_encoder.ts";
import { depthRequestWeight } from "../pipeline/depth_request_weight.ts";
import { WeightMeter } from "./rest_weight.ts";
import type { JsonReplies } from "./sim_http.ts";

/**
 * Options of {@link DepthEndpoint}.
 *
 * @example
 * ```ts
 * import { JsonReplies } from "./sim_http.ts";
 * const options: DepthEndpointOptions = { encoders: new Map(), replies: new JsonReplies() };
 * ```
 */
export interface DepthEndpointOptions {
  /** Encoder of each simulated book, by lower-case symbol. */
  encoders: ReadonlyMap<string, FrameEncoder>;
  /** Builds and counts the responses. */
  replies: JsonReplies;
  /** REST weight allowed per minute before 429. Default 6000. */
  weightLimit?: number;
  /** The per-minute weight meter, shared with the other REST endpoints. Default a private one. */
  weights?: WeightMeter;
}

/**
 * `GET /api/v3/depth` of the simulated exchange. See the module documentation.
 *
 * @example
 * ```ts
 * import { JsonReplies } from "./sim_http.ts";
 * const rest = new DepthEndpoint({ encoders: new Map(), replies: new JsonReplies() });
 * rest.answer429(1, 2);
 * const res = await rest.handle(new URL("http://sim/api/v3/depth?symbol=BTCUSDT"));
 * res.status; // 429
 * res.headers.get("Retry-After"); // "2"
 * ```
 */
export class DepthEndpoint {
  /** REST weight allowed per minute. */
  readonly weightLimit: number;
  readonly #encoders: ReadonlyMap<string, FrameEncoder>;
  readonly #replies: JsonReplies;
  readonly #weights: WeightMeter;
  #forced429 = 0;
  #retryAfter429 = 1;
  #forced418 = 0;
  #retryAfter418 = 120;
  #slowMs = 0;
  #slowLeft = 0;
  /** Finishers of responses held back by `restSlow`; {@link finishDelayed} runs them all. */
  readonly #delayed = new Set<() => void>();

  /**
   * Makes an endpoint with no weight used and no fault pending.
   *
   * @param options See {@link DepthEndpointOptions}.
   */
  constructor(options: DepthEndpointOptions) {
    this.#encoders = options.encoders;
    this.#replies = options.replies;
    this.weightLimit = options.weightLimit ?? 6000;
    this.#weights = options.weights ?? new WeightMeter();
  }

  /** REST weight used in the minute before `nowMs` (a `performance.now()` time). */
  usedWeight(nowMs: number = performance.now()): number {
    return this.#weights.used(nowMs);
  }

  /**
   * The next `count` requests answer 429 with `Retry-After: retryAfterSec`
   * (the `rest429` fault); adds to requests already pending.
   */
  answer429(count: number, retryAfterSec: number): void {
    this.#forced429 += count;
    this.#retryAfter429 = retryAfterSec;
  }

  /**
   * The next `count` requests answer 418 (IP banned) with `Retry-After:
   * retryAfterSec` (the `rest418` fault); adds to requests already pending.
   */
  answer418(count: number, retryAfterSec: number): void {
    this.#forced418 += count;
    this.#retryAfter418 = retryAfterSec;
  }

  /** Holds back the next `count` successful answers by `delayMs` each (the `restSlow` fault). */
  slowDown(delayMs: number, count: number): void {
    this.#slowMs = delayMs;
    this.#slowLeft = count;
  }

  /** Forgets pending 429/418 answers and ends `restSlow` (the `clear` fault). */
  clearFaults(): void {
    this.#forced429 = this.#forced418 = 0;
    this.#slowMs = this.#slowLeft = 0;
  }

  /** Sends every answer held back by `restSlow` now (on shutdown). */
  finishDelayed(): void {
    for (const finish of [...this.#delayed]) finish();
  }

  /**
   * Answers one depth request.
   *
   * @param url The request URL (`/api/v3/depth?symbol=...&limit=...`).
   * @param nowMs `performance.now()` time of the request (weights are counted in this clock).
   */
  async handle(url: URL, nowMs: number = performance.now()): Promise<Response> {
    const forced = this.forcedAnswer(nowMs);
    if (forced !== null) return forced;
    const query = this.#parseQuery(url);
    if (query instanceof Response) return query;
    const weight = depthRequestWeight(query.limit);
    if (this.#weights.used(nowMs) + weight > this.weightLimit) {
      return this.#replies.json(429, this.#tooMuchWeight(), {
        "Retry-After": String(this.#weights.retryAfterSeconds(weight, this.weightLimit, nowMs)),
        ...this.#weightHeader(nowMs),
      });
    }
    this.#weights.add(weight, nowMs);
    const body = query.encoder.snapshot(query.limit);
    if (this.#slowMs > 0 && this.#slowLeft > 0) {
      this.#slowLeft--;
      await this.#delay(this.#slowMs);
    }
    return this.#replies.json(200, body, this.#weightHeader(nowMs));
  }

  /**
   * The 418 or 429 answer a pending `rest418`/`rest429` fault forces on this
   * request (consuming it), or null. Other REST endpoints of the simulator
   * (Binance USD-M's `/fapi/v1/depth`) call it too, so "the next REST call"
   * means any of them.
   *
   * @param nowMs `performance.now()` time of the request.
   */
  forcedAnswer(nowMs: number = performance.now()): Response | null {
    if (this.#forced418 > 0) {
      this.#forced418--;
      const until = Math.floor(performance.timeOrigin + nowMs + this.#retryAfter418 * 1000);
      return this.#replies.json(
        418,
        `{"code":-1003,"msg":"Way too much request weight used; IP banned until ${until}. ` +
          `Please use WebSocket Streams for live updates to avoid bans."}`,
        { "Retry-After": String(Math.ceil(this.#retryAfter418)), ...this.#weightHeader(nowMs) },
      );
    }
    if (this.#forced429 > 0) {
      this.#forced429--;
      return this.#replies.json(429, this.#tooMuchWeight(), {
        "Retry-After": String(Math.ceil(this.#retryAfter429)),
        ...this.#weightHeader(nowMs),
      });
    }
    return null;
  }

  /** The book and limit asked for, or the 400 answer naming the bad parameter. */
  #parseQuery(url: URL): { encoder: FrameEncoder; limit: number } | Response {
    const replies = this.#replies;
    const symbol = url.searchParams.get("symbol");
    if (symbol === null || symbol === "") {
      return replies.json(
        400,
        `{"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."}`,
      );
    }
    if (!/^[A-Z0-9\-_.]{1,20}$/.test(symbol)) {
      return replies.json(
        400,
        `{"code":-1100,"msg":"Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'."}`,
      );
    }
    const limitText = url.searchParams.get("limit");
    let limit = 100;
    if (limitText !== null) {
      if (!/^[0-9]{1,20}$/.test(limitText)) {
        return replies.json(
          400,
          `{"code":-1100,"msg":"Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'."}`,
        );
      }
      limit = Number(limitText);
      if (limit < 1) {
        return replies.json(400, `{"code":-1104,"msg":"Parameter 'limit' must be at least 1."}`);
      }
      if (limit > MAX_SNAPSHOT_LIMIT) limit = MAX_SNAPSHOT_LIMIT;
    }
    const encoder = this.#encoders.get(symbol.toLowerCase());
    if (encoder === undefined) return replies.json(400, `{"code":-1121,"msg":"Invalid symbol."}`);
    return { encoder, limit };
  }

  #weightHeader(nowMs: number): Record<string, string> {
    return { "X-MBX-USED-WEIGHT-1M": String(this.#weights.used(nowMs)) };
  }

  #tooMuchWeight(): string {
    return `{"code":-1003,"msg":"Too much request weight used; current limit is ${this.weightLimit} ` +
      `request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."}`;
  }

  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.#delayed.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.#delayed.add(finish);
    });
  }
}
