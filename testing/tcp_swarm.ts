/**
 * Many raw TCP connections to one HTTP server, each optionally sending a
 * request (whole or half) and then one byte every few seconds, each watched
 * for what the server does with it: the status of its first response (and
 * whether it carried `Retry-After`), and whether and when the server closed
 * it. The raw material of connection attacks: idle sockets, slowloris, idle
 * keep-alive connections, file-descriptor exhaustion.
 *
 * @example
 * ```ts ignore
 * // Slowloris: a request head that never ends, one more byte every 2 s.
 * const swarm = new ConnectionSwarm({
 *   url: "http://127.0.0.1:8000/",
 *   request: "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n",
 *   dribble: { text: "X-Slow: aaaaaaaa", everyMs: 2000 },
 * });
 * await swarm.open(200, 50);
 * const allClosed = await swarm.untilAllClosed(30_000);
 * console.log(allClosed, swarm.closedByServer, swarm.responses); // true 200 { "408": 200 }
 * swarm.closeAll();
 * ```
 * @module
 */

/** Options of {@link ConnectionSwarm}. */
export interface SwarmOptions {
  /** Base URL of the server (host and port are used). Required. */
  url: string;
  /** Written once right after connecting. Default nothing (an idle connection). */
  request?: string;
  /** After `request`, one byte of `text` (cycling) every `everyMs` to each open connection. Default none. */
  dribble?: { text: string; everyMs: number };
  /** Give up on one connect after this long, ms. Default 5000. */
  connectTimeoutMs?: number;
}

interface Member {
  conn: Deno.TcpConn;
  openedAt: number;
  head: string;
  answered: boolean;
  /** Closed by the server (EOF or reset) or by us. */
  done: boolean;
}

const HEAD_LIMIT = 4096;

/** See the module doc. Counters are public fields. */
export class ConnectionSwarm {
  /** Connects attempted. */
  attempted = 0;
  /** Connections established. */
  opened = 0;
  /** Connects that failed, by error (e.g. `ConnectionRefused`, `TimedOut`). */
  readonly connectErrors: Record<string, number> = {};
  /** Status of the first response on each connection that got one, by status. */
  readonly responses: Record<string, number> = {};
  /** Responses that carried a `Retry-After` header. */
  retryAfter = 0;
  /** Connections the server closed (EOF or reset), after a response or not. */
  closedByServer = 0;
  /** For each connection the server closed: ms from connect to the close. */
  readonly closeDelaysMs: number[] = [];

  readonly #options: SwarmOptions;
  readonly #members = new Set<Member>();
  #dribbleTimer: ReturnType<typeof setInterval> | undefined;
  #dribbleAt = 0;

  /** A swarm of no connections yet against `options.url`. */
  constructor(options: SwarmOptions) {
    this.#options = options;
    const dribble = options.dribble;
    if (dribble) {
      if (dribble.text.length === 0) throw new RangeError("ConnectionSwarm: dribble.text is empty");
      this.#dribbleTimer = setInterval(() => this.#dribble(), dribble.everyMs);
    }
  }

  /** Connects that failed. */
  get connectFailed(): number {
    return Object.values(this.connectErrors).reduce((a, b) => a + b, 0);
  }

  /** Connections that got a response. */
  get answered(): number {
    return Object.values(this.responses).reduce((a, b) => a + b, 0);
  }

  /** Connections open now (neither side closed them). */
  get live(): number {
    return this.#members.size;
  }

  /** Open `n` more connections, at most `concurrency` connects in flight. */
  async open(n: number, concurrency: number): Promise<void> {
    let left = n;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, n) }, async () => {
        while (left > 0) {
          left--;
          await this.#openOne();
        }
      }),
    );
  }

  /**
   * Open connections `batch` at a time until `stop()` holds or `max` were
   * attempted; `signal` ends it early. Between batches the readers run, so
   * a refusal is seen within a batch or two.
   */
  async openUntil(
    stop: () => boolean,
    max: number,
    batch: number,
    signal?: AbortSignal,
  ): Promise<void> {
    while (this.attempted < max && !stop() && !signal?.aborted) {
      await this.open(Math.min(batch, max - this.attempted), batch);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Wait until the server has closed every connection, at most `timeoutMs`; true when it has. */
  async untilAllClosed(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#members.size > 0 && Date.now() < deadline && !signal?.aborted) {
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.#members.size === 0;
  }

  /** Close every connection still open and stop dribbling. */
  closeAll(): void {
    clearInterval(this.#dribbleTimer);
    for (const m of this.#members) {
      m.done = true;
      try {
        m.conn.close();
      } catch { /* already closed */ }
    }
    this.#members.clear();
  }

  async #openOne(): Promise<void> {
    this.attempted++;
    const url = new URL(this.#options.url);
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({
        hostname: url.hostname,
        port: Number(url.port),
        signal: AbortSignal.timeout(this.#options.connectTimeoutMs ?? 5000),
      });
    } catch (e) {
      const name = e instanceof Error ? e.name : String(e);
      this.connectErrors[name] = (this.connectErrors[name] ?? 0) + 1;
      return;
    }
    this.opened++;
    const member: Member = { conn, openedAt: Date.now(), head: "", answered: false, done: false };
    this.#members.add(member);
    this.#watch(member);
    if (this.#options.request) {
      conn.write(new TextEncoder().encode(this.#options.request)).catch(() => {});
    }
  }

  async #watch(m: Member): Promise<void> {
    const buf = new Uint8Array(2048);
    try {
      for (;;) {
        const n = await m.conn.read(buf);
        if (n === null) break;
        if (!m.answered && m.head.length < HEAD_LIMIT) this.#onBytes(m, buf.subarray(0, n));
      }
    } catch { /* reset, or closed by us */ }
    if (m.done) return; // we closed it
    m.done = true;
    this.#members.delete(m);
    this.closedByServer++;
    this.closeDelaysMs.push(Date.now() - m.openedAt);
    try {
      m.conn.close();
    } catch { /* already closed */ }
  }

  #onBytes(m: Member, bytes: Uint8Array): void {
    m.head += new TextDecoder().decode(bytes);
    const end = m.head.indexOf("\r\n\r\n");
    if (end < 0) return;
    m.answered = true;
    const head = m.head.slice(0, end);
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? "garbage";
    this.responses[status] = (this.responses[status] ?? 0) + 1;
    if (/\r\nretry-after:/i.test(head)) this.retryAfter++;
  }

  #dribble(): void {
    const text = this.#options.dribble!.text;
    const byte = new TextEncoder().encode(text[this.#dribbleAt++ % text.length]);
    for (const m of this.#members) m.conn.write(byte).catch(() => {});
  }
}
