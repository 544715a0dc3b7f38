/**
 * An honest HTTP client that asks the service for a page at a steady pace
 * (default `GET /stats` once a second), each time on a new connection (as
 * separate visitors do, and so no pooled connection can be closed under it by
 * an idle timeout), and counts the answers: statuses, timeouts and network
 * errors, and when it last got a 200.
 *
 * @example
 * ```ts ignore
 * const poller = new HonestHttpPoller("http://127.0.0.1:8000/", { token: "s3cret" });
 * // … an attack …
 * await poller.stop();
 * console.log(poller.polls, poller.outcomes); // 30 { "200": 30 }
 * ```
 * @module
 */

/** Options of {@link HonestHttpPoller}. */
export interface HonestHttpOptions {
  /** Path asked for. Default `/stats`. */
  path?: string;
  /** Bearer token, when the service has one. Default none. */
  token?: string;
  /** Pause between the end of one request and the next, ms. Default 1000. */
  everyMs?: number;
  /** A request unanswered (body included) after this long counts as `timeout`, ms. Default 10000. */
  timeoutMs?: number;
}

/** See the module doc. Counters are public fields. */
export class HonestHttpPoller {
  /** Requests made. */
  polls = 0;
  /** Outcomes by status (`"200"`, `"503"`, …), `"timeout"` or `"error"`. */
  readonly outcomes: Record<string, number> = {};
  /** `Date.now()` when the last request answered 200 was sent, NaN before any. */
  lastOkAt = NaN;
  /** `Date.now()` when the last finished request (whatever its outcome) was sent, NaN before any. */
  lastPollAt = NaN;

  readonly #url: URL;
  readonly #options: HonestHttpOptions;
  readonly #client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  #stopped = false;
  readonly #loop: Promise<void>;

  /** Start polling the service at `baseUrl`. */
  constructor(baseUrl: string, options: HonestHttpOptions = {}) {
    this.#url = new URL(options.path ?? "/stats", baseUrl);
    this.#options = options;
    this.#loop = this.#run();
  }

  /** Requests answered 200. */
  get ok(): number {
    return this.outcomes["200"] ?? 0;
  }

  /**
   * Wait until a request sent at or after `since` (epoch ms) has finished,
   * at most `timeoutMs`; true when one has.
   */
  async untilPolledSince(since: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.lastPollAt >= since) && !this.#stopped && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.lastPollAt >= since;
  }

  /** Stop after the request in flight; resolves when stopped. */
  async stop(): Promise<void> {
    if (this.#stopped) return await this.#loop;
    this.#stopped = true;
    await this.#loop;
    this.#client.close();
  }

  async #run(): Promise<void> {
    const everyMs = this.#options.everyMs ?? 1000;
    while (!this.#stopped) {
      const sentAt = Date.now();
      const outcome = await this.#poll();
      this.polls++;
      this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
      this.lastPollAt = sentAt;
      if (outcome === "200") this.lastOkAt = sentAt;
      const until = Date.now() + everyMs;
      while (!this.#stopped && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    }
  }

  async #poll(): Promise<string> {
    const headers: HeadersInit = this.#options.token
      ? { authorization: `Bearer ${this.#options.token}` }
      : {};
    try {
      // Deno's fetch takes `client`; the DOM typing of RequestInit does not know it.
      const init: RequestInit & { client: Deno.HttpClient } = {
        headers,
        client: this.#client,
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
      };
      const res = await fetch(this.#url, init);
      await res.arrayBuffer();
      return String(res.status);
    } catch (e) {
      return e instanceof DOMException && e.name === "TimeoutError" ? "timeout" : "error";
    }
  }
}
