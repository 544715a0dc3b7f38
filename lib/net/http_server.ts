/**
 * An HTTP/1.1 server on `Deno.listen` with the bounds `Deno.serve` lacks: a
 * connection cap, header, idle and write timeouts, a request body limit, and
 * an accept loop that survives running out of file descriptors.
 *
 * {@link serveHttp} takes a `Deno.ServeHandler`-compatible handler and returns
 * a server with `addr`, `finished`, `shutdown()` and live counters. What it
 * does, beyond answering requests:
 *
 * - **Connection cap.** At most `maxConnections` connections are open, HTTP
 *   and handed-over (WebSocket) alike. Above it a connection gets a canned
 *   `503` with `Retry-After` and `Connection: close` and its descriptor is
 *   closed at once, so a cap below the process's file-descriptor limit holds.
 * - **Accept errors never end the process.** `EMFILE`, `ENFILE` and any other
 *   `accept` failure is counted, logged (at most one line per 10 s, with the
 *   number left out) and retried after a backoff of 10 ms doubling to 1 s;
 *   the listener serves again as soon as descriptors are free. `finished`
 *   never rejects.
 * - **Timeouts**, enforced by one sweeper per server (every quarter of the
 *   shortest timeout, at most every 500 ms), not by a timer per request: a
 *   request head (and its body) must arrive within `headersTimeoutMs` of the
 *   connection opening or of its first byte; a kept-alive connection may idle
 *   `idleTimeoutMs` between requests; a write to the client may stall
 *   `writeTimeoutMs`. The handler itself is not timed.
 * - **Keep-alive and pipelining.** Requests on a connection are served one
 *   after the other: the next is parsed once the response is written. An
 *   HTTP/1.0 client's connection closes unless it asked for keep-alive.
 * - **Protocol switch.** Each request is offered with `offerConnection`
 *   (`./connection_claim.ts`). When the handler's response is `101` and the
 *   request was claimed, the head is written and the connection handed over
 *   with the bytes already read past the request; it counts against the cap
 *   until its owner calls `release()`. A claim answered otherwise is refused.
 * - **Malformed requests** get the parser's status (`./http_head_parser.ts`),
 *   `413` for bodies over `maxBodyBytes`, and the connection is closed after
 *   the answer. A handler that throws yields `onError`'s response (by default
 *   a plain `500` with no stack trace) and the server keeps serving.
 *
 * Cost of one idle keep-alive connection: in JavaScript, a read buffer of
 * 4 KiB (grown up to `maxHeadBytes` only for a larger head) and about 1 KiB of
 * state (connection, parser, pending read); in Deno, the socket resource and
 * its pending read op. Measured on Deno 2.9.6 with 1,000 idle connections
 * after GC: about 22 KiB of RSS each (Deno.serve: about 18 KiB), 4 KiB of it
 * the buffers. A connection handed over after `101` keeps none of the
 * server's state: the new owner's costs replace it.
 *
 * @example
 * ```ts
 * import { serveHttp } from "./http_server.ts";
 * const server = serveHttp({ hostname: "127.0.0.1", port: 0 }, () => new Response("hi"));
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * await res.text(); // "hi"
 * await server.shutdown();
 * ```
 * @module
 */

import type { Logger } from "../pipeline/logger.ts";
import { offerConnection } from "./connection_claim.ts";
import {
  HttpHeadError,
  type HttpHeadLimits,
  type RequestHead,
  RequestHeadParser,
} from "./http_head_parser.ts";
import { type ByteSink, writeResponse } from "./http_response_writer.ts";

/** Options of {@link serveHttp}; the head limits are those of {@link HttpHeadLimits}. */
export interface ServeHttpOptions extends HttpHeadLimits {
  /** Address to listen on. Default "0.0.0.0" (as `Deno.serve`). */
  hostname?: string;
  /** Port to listen on; 0 picks a free one. Default 8000 (as `Deno.serve`). */
  port?: number;
  /** Called with the bound address once listening, before `serveHttp` returns. Default: nothing. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Most open connections, HTTP and handed over alike; more are answered 503. Default 1000. */
  maxConnections?: number;
  /** A request head and body must arrive within this many ms of the connection opening or of the head's first byte. Default 10_000. */
  headersTimeoutMs?: number;
  /** A kept-alive connection is closed after this many ms without a request. Default 5_000. */
  idleTimeoutMs?: number;
  /** A connection whose write to the client makes no progress for this many ms is closed. Default 30_000. */
  writeTimeoutMs?: number;
  /** `shutdown()` waits this many ms for requests in flight, then closes their connections. Default 2_000. */
  shutdownTimeoutMs?: number;
  /** Largest request body (`Content-Length`); larger is 413. Default 65_536. */
  maxBodyBytes?: number;
  /**
   * Makes the response when the handler throws or returns something other
   * than a `Response`. Default: log the error with `log.error` and answer a
   * plain `500 Internal Server Error` (no stack trace to the client).
   */
  onError?: (error: unknown) => Response | Promise<Response>;
  /** Where accept errors (`warn`, rate-limited) and handler or response failures (`error`) go. Default `console`. */
  log?: Pick<Logger, "warn" | "error">;
}

/** The statuses the server itself answers a malformed or oversized request with. */
export type BadRequestStatus = 400 | 413 | 414 | 431 | 501 | 505;

/** Live counters of a server: read them at any time, never write them. */
export interface HttpServerCounters {
  /** Connections accepted, those refused over the cap included. */
  accepted: number;
  /** Connections open now: HTTP and handed over after 101. */
  open: number;
  /** Of `open`, the connections handed over after 101 and not yet released. */
  switched: number;
  /** Connections answered 503 because `maxConnections` were open. */
  refusedOverCap: number;
  /** Connections closed because a request head (or body) did not arrive within `headersTimeoutMs`. */
  closedHeadersTimeout: number;
  /** Kept-alive connections closed after `idleTimeoutMs` without a request. */
  closedIdleTimeout: number;
  /** Connections closed because a write stalled for `writeTimeoutMs`. */
  closedWriteTimeout: number;
  /** Failed `accept` calls (e.g. EMFILE), each retried. */
  acceptErrors: number;
  /** Requests passed to the handler. */
  requests: number;
  /** Handler calls that threw or returned no `Response` (answered by `onError`). */
  handlerErrors: number;
  /** Requests the server refused itself, by status. */
  badRequests: Record<BadRequestStatus, number>;
}

/** A running server. */
export interface HttpServer {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** Resolves once the server has shut down; never rejects. */
  readonly finished: Promise<void>;
  /** Live counters. */
  readonly counters: Readonly<HttpServerCounters>;
  /**
   * Stop accepting, close idle connections, let requests in flight finish
   * (at most `shutdownTimeoutMs`, then close them) and resolve `finished`.
   * Connections handed over after 101 belong to their owner and stay open.
   */
  shutdown(): Promise<void>;
}

/** Connection phases; the sweeper times the first four. */
const READING = 0; // waiting for a request head (or body)
const IDLE = 1; // kept alive, between requests
const WRITING = 2; // a write to the client is pending
const LINGERING = 3; // answered an error, draining what the client still sends
const HANDLING = 4; // the handler or the response body is being waited for

/** How long and how much a refused connection is drained before closing. */
const LINGER_MS = 2_000;
const LINGER_BYTES = 65_536;
/** The read buffer starts at this size and doubles up to `maxHeadBytes`. */
const INITIAL_BUFFER_BYTES = 4096;
const ACCEPT_LOG_INTERVAL_MS = 10_000;

const OVER_CAP = new TextEncoder().encode(
  "HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-type: text/plain\r\n" +
    "content-length: 37\r\nconnection: close\r\n\r\ntoo many connections; try again later\n",
);
const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");
const EMPTY = new Uint8Array(0);
/** Methods `Request` refuses to carry. */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/** The resolved settings a connection needs. */
interface Settings {
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  writeTimeoutMs: number;
}

/** One HTTP connection's state: what the sweeper and the serve loop share. */
class HttpConnection implements ByteSink {
  buf: Uint8Array = new Uint8Array(INITIAL_BUFFER_BYTES);
  /** Bytes in `buf` not consumed yet (the start of the next request). */
  filled = 0;
  phase = READING;
  /** When the current phase times out (ms since the epoch); 0 = never. */
  deadline: number;
  closed = false;

  constructor(
    readonly conn: Deno.TcpConn,
    readonly parser: RequestHeadParser,
    readonly settings: Settings,
  ) {
    this.deadline = Date.now() + settings.headersTimeoutMs;
  }

  /** Write with the write timeout armed; the previous phase comes back after. */
  async write(p: Uint8Array): Promise<number> {
    const { phase, deadline } = this;
    this.phase = WRITING;
    this.deadline = Date.now() + this.settings.writeTimeoutMs;
    try {
      return await this.conn.write(p);
    } finally {
      this.phase = phase;
      this.deadline = deadline;
    }
  }

  enter(phase: number, timeoutMs: number): void {
    this.phase = phase;
    this.deadline = timeoutMs === 0 ? 0 : Date.now() + timeoutMs;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed by Deno
    }
  }
}

/** Errors of a connection the client closed or reset, or that the server closed. */
function isConnectionError(err: unknown): boolean {
  return err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted ||
    err instanceof Deno.errors.BrokenPipe || err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.ConnectionAborted || err instanceof Deno.errors.NotConnected ||
    err instanceof Deno.errors.UnexpectedEof || err instanceof Deno.errors.TimedOut;
}

/** Whether the handler asked to close the connection. */
function closeRequested(res: Response): boolean {
  const v = res.headers.get("connection");
  return v !== null && v.toLowerCase().split(",").some((t) => t.trim() === "close");
}

/** A positive integer option, or its default. */
function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return v;
}

class Server implements HttpServer {
  readonly addr: Deno.NetAddr;
  readonly finished: Promise<void>;
  readonly counters: HttpServerCounters = {
    accepted: 0,
    open: 0,
    switched: 0,
    refusedOverCap: 0,
    closedHeadersTimeout: 0,
    closedIdleTimeout: 0,
    closedWriteTimeout: 0,
    acceptErrors: 0,
    requests: 0,
    handlerErrors: 0,
    badRequests: { 400: 0, 413: 0, 414: 0, 431: 0, 501: 0, 505: 0 },
  };

  readonly #listener: Deno.TcpListener;
  readonly #handler: Deno.ServeHandler<Deno.NetAddr>;
  readonly #settings: Settings;
  readonly #limits: Readonly<Required<HttpHeadLimits>>;
  readonly #maxConnections: number;
  readonly #maxBodyBytes: number;
  readonly #shutdownTimeoutMs: number;
  readonly #onError: (error: unknown) => Response | Promise<Response>;
  readonly #log: Pick<Logger, "warn" | "error">;
  readonly #connections = new Set<HttpConnection>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  readonly #done = Promise.withResolvers<void>();
  #stopping = false;
  #accepting = true;
  #backoffTimer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #lastAcceptLog = -Infinity;
  #acceptErrorsUnlogged = 0;

  constructor(options: ServeHttpOptions, handler: Deno.ServeHandler<Deno.NetAddr>) {
    this.#handler = handler;
    this.#settings = {
      headersTimeoutMs: positive("headersTimeoutMs", options.headersTimeoutMs, 10_000),
      idleTimeoutMs: positive("idleTimeoutMs", options.idleTimeoutMs, 5_000),
      writeTimeoutMs: positive("writeTimeoutMs", options.writeTimeoutMs, 30_000),
    };
    this.#maxConnections = positive("maxConnections", options.maxConnections, 1000);
    this.#maxBodyBytes = positive("maxBodyBytes", options.maxBodyBytes, 65_536);
    this.#shutdownTimeoutMs = positive("shutdownTimeoutMs", options.shutdownTimeoutMs, 2_000);
    // Validates the limits once; each connection gets its own parser with them.
    this.#limits = new RequestHeadParser({
      maxRequestLineBytes: options.maxRequestLineBytes,
      maxHeadBytes: options.maxHeadBytes,
      maxHeaders: options.maxHeaders,
    }).limits;
    this.#log = options.log ?? console;
    this.#onError = options.onError ?? ((error) => {
      this.#log.error("request handler failed:", error);
      return new Response("Internal Server Error\n", {
        status: 500,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    });
    this.#listener = Deno.listen({
      hostname: options.hostname ?? "0.0.0.0",
      port: options.port ?? 8000,
      transport: "tcp",
    });
    this.addr = this.#listener.addr;
    const { headersTimeoutMs, idleTimeoutMs, writeTimeoutMs } = this.#settings;
    const shortest = Math.min(headersTimeoutMs, idleTimeoutMs, writeTimeoutMs, LINGER_MS);
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(10, Math.min(500, shortest / 4)));
    this.finished = this.#done.promise;
    options.onListen?.(this.addr);
    void this.#acceptLoop();
  }

  shutdown(): Promise<void> {
    if (this.#stopping) return this.finished;
    this.#stopping = true;
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    clearTimeout(this.#backoffTimer);
    this.#wake?.();
    for (const c of this.#connections) {
      if (c.phase === READING || c.phase === IDLE || c.phase === LINGERING) c.close();
    }
    const force = setTimeout(() => {
      for (const c of this.#connections) c.close();
      this.#connections.clear();
      this.#maybeDone();
    }, this.#shutdownTimeoutMs);
    void this.finished.then(() => clearTimeout(force));
    this.#maybeDone();
    return this.finished;
  }

  #maybeDone(): void {
    if (this.#stopping && !this.#accepting && this.#connections.size === 0) {
      clearInterval(this.#sweeper);
      this.#done.resolve();
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const c of this.#connections) {
      // A closed connection stays in the set until its serve loop ends: count it once.
      if (c.closed || c.deadline === 0 || now < c.deadline) continue;
      if (c.phase === READING) this.counters.closedHeadersTimeout++;
      else if (c.phase === IDLE) this.counters.closedIdleTimeout++;
      else if (c.phase === WRITING) this.counters.closedWriteTimeout++;
      c.close();
    }
  }

  async #acceptLoop(): Promise<void> {
    let backoff = 0;
    while (!this.#stopping) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (err) {
        if (this.#stopping) break;
        this.counters.acceptErrors++;
        this.#logAcceptError(err);
        backoff = backoff === 0 ? 10 : Math.min(backoff * 2, 1000);
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          this.#backoffTimer = setTimeout(resolve, backoff);
        });
        continue;
      }
      backoff = 0;
      this.counters.accepted++;
      if (this.#stopping) {
        conn.close();
        break;
      }
      if (this.counters.open >= this.#maxConnections) {
        this.counters.refusedOverCap++;
        conn.write(OVER_CAP).catch(() => {}).finally(() => {
          try {
            conn.close();
          } catch {
            // already closed
          }
        });
        continue;
      }
      this.counters.open++;
      try {
        conn.setNoDelay(true);
      } catch {
        // the client may already be gone; the first read will tell
      }
      const c = new HttpConnection(conn, new RequestHeadParser(this.#limits), this.#settings);
      this.#connections.add(c);
      void this.#serve(c);
    }
    this.#accepting = false;
    this.#maybeDone();
  }

  #logAcceptError(err: unknown): void {
    const now = Date.now();
    if (now - this.#lastAcceptLog < ACCEPT_LOG_INTERVAL_MS) {
      this.#acceptErrorsUnlogged++;
      return;
    }
    const more = this.#acceptErrorsUnlogged > 0
      ? ` (${this.#acceptErrorsUnlogged} more since the last message)`
      : "";
    this.#lastAcceptLog = now;
    this.#acceptErrorsUnlogged = 0;
    const message = err instanceof Error ? err.message : String(err);
    this.#log.warn(
      `accept failed: ${message}${more}; open connections ${this.counters.open}; retrying`,
    );
  }

  /** Serve one connection until it closes or is handed over. Never rejects. */
  async #serve(c: HttpConnection): Promise<void> {
    let handedOver = false;
    try {
      for (;;) {
        const head = await this.#readHead(c);
        if (head === null) return;
        if (head.contentLength > this.#maxBodyBytes) {
          const limit = this.#maxBodyBytes;
          const reason =
            `request body of ${head.contentLength} bytes is over the limit of ${limit}`;
          await this.#refuse(c, 413, reason);
          return;
        }
        const body = await this.#readBody(c, head);
        if (body === null) return;
        const outcome = await this.#respond(c, head, body);
        if (outcome === "switched") {
          handedOver = true;
          return;
        }
        if (outcome === "close" || this.#stopping) return;
        if (c.filled > 0) c.enter(READING, this.#settings.headersTimeoutMs);
        else c.enter(IDLE, this.#settings.idleTimeoutMs);
      }
    } catch (err) {
      if (err instanceof HttpHeadError && !c.closed) {
        await this.#refuse(c, err.status, err.message);
      } else if (!c.closed && !isConnectionError(err)) {
        this.#log.error("HTTP connection failed:", err);
      }
    } finally {
      if (!handedOver) {
        c.close();
        this.counters.open--;
        this.#connections.delete(c);
        this.#maybeDone();
      }
    }
  }

  /** Read until a request head is complete; null when the client closed first. */
  async #readHead(c: HttpConnection): Promise<RequestHead | null> {
    for (;;) {
      if (c.filled > 0) {
        const head = c.parser.parse(c.buf.subarray(0, c.filled));
        if (head !== null) {
          c.parser.reset();
          return head;
        }
      }
      if (c.filled === c.buf.length) {
        // The parser refuses heads of maxHeadBytes, so the buffer is below it here.
        const grown = new Uint8Array(Math.min(c.buf.length * 2, this.#limits.maxHeadBytes));
        grown.set(c.buf);
        c.buf = grown;
      }
      const n = await c.conn.read(c.buf.subarray(c.filled));
      if (n === null) return null;
      if (c.phase === IDLE) c.enter(READING, this.#settings.headersTimeoutMs);
      c.filled += n;
    }
  }

  /**
   * Take the head off the buffer and read the body; the buffer keeps what
   * follows. Null when the client closed first.
   */
  async #readBody(c: HttpConnection, head: RequestHead): Promise<Uint8Array<ArrayBuffer> | null> {
    const length = head.contentLength;
    const after = head.byteLength;
    const inBuffer = Math.min(c.filled - after, length);
    const body = length === 0 ? EMPTY : new Uint8Array(length);
    body.set(c.buf.subarray(after, after + inBuffer));
    c.buf.copyWithin(0, after + inBuffer, c.filled);
    c.filled -= after + inBuffer;
    let got = inBuffer;
    if (got < length && head.expectContinue && head.version === "HTTP/1.1") {
      await writeAllTo(c, CONTINUE);
    }
    while (got < length) {
      const n = await c.conn.read(body.subarray(got));
      if (n === null) return null;
      got += n;
    }
    return body;
  }

  /** Answer one request; says whether the connection stays open, closes, or was handed over. */
  async #respond(
    c: HttpConnection,
    head: RequestHead,
    body: Uint8Array<ArrayBuffer>,
  ): Promise<"keep" | "close" | "switched"> {
    const { hostname, port } = this.addr;
    const authority = head.host !== ""
      ? head.host
      : `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
    const url = head.target.charCodeAt(0) === 0x2f
      ? `http://${authority}${head.target}`
      : head.target;
    const bodyless = head.method === "GET" || head.method === "HEAD" || body.length === 0;
    let req: Request;
    try {
      req = new Request(url, {
        method: head.method,
        headers: head.headers,
        body: bodyless ? null : body,
      });
    } catch {
      if (FORBIDDEN_METHODS.has(head.method.toUpperCase())) {
        throw new HttpHeadError(501, "method not supported (CONNECT, TRACE and TRACK are not)");
      }
      throw new HttpHeadError(400, "Host and request target do not form a valid URL");
    }

    const offer = offerConnection(req);
    const completion = Promise.withResolvers<void>();
    completion.promise.catch(() => {}); // observed only by handlers that want it
    const info: Deno.ServeHandlerInfo<Deno.NetAddr> = {
      remoteAddr: c.conn.remoteAddr,
      completed: completion.promise,
    };
    this.counters.requests++;
    c.enter(HANDLING, 0);
    let res: Response;
    try {
      res = await this.#handler(req, info);
      if (!(res instanceof Response)) {
        throw new TypeError(`the handler returned ${typeof res}; expected a Response`);
      }
      if (res.status < 200 && !(res.status === 101 && offer.claim !== null)) {
        throw new TypeError(
          `the handler answered ${res.status} without claiming the connection; ` +
            "expected 101 after claimConnection, or a status of 200 or more",
        );
      }
    } catch (err) {
      this.counters.handlerErrors++;
      res = await this.#errorResponse(err);
    }

    const claim = offer.claim;
    if (claim !== null && res.status === 101) {
      try {
        await writeResponse(c, res);
      } catch (err) {
        completion.reject(err);
        this.#safely(() => claim.refused());
        return "close";
      }
      completion.resolve();
      this.#handOver(c, claim.switched.bind(claim));
      return "switched";
    }
    if (claim !== null) this.#safely(() => claim.refused());

    const keepAlive = head.keepAlive && !this.#stopping && !closeRequested(res);
    try {
      const reusable = await writeResponse(c, res, {
        head: head.method === "HEAD",
        close: !keepAlive,
        version: head.version,
      });
      completion.resolve();
      return reusable ? "keep" : "close";
    } catch (err) {
      completion.reject(
        new Deno.errors.Interrupted(
          `the response was not sent completely: ${err instanceof Error ? err.message : err}`,
        ),
      );
      throw err;
    }
  }

  /** Hand `c` to the claimer after its 101 head was written. */
  #handOver(
    c: HttpConnection,
    switched: (s: { conn: Deno.Conn; leftover: Uint8Array; release(): void }) => void,
  ): void {
    this.#connections.delete(c);
    this.counters.switched++;
    const leftover = c.buf.slice(0, c.filled);
    c.buf = EMPTY;
    c.filled = 0;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.counters.open--;
      this.counters.switched--;
      this.#maybeDone();
    };
    try {
      switched({ conn: c.conn, leftover, release });
    } catch (err) {
      this.#log.error("the connection's new owner failed to take it:", err);
      c.close();
      release();
    }
    this.#maybeDone();
  }

  /** The response for a handler failure: `onError`'s, or a plain 500 when that fails too. */
  async #errorResponse(err: unknown): Promise<Response> {
    try {
      const res = await this.#onError(err);
      if (res instanceof Response && res.status >= 200) return res;
      throw new TypeError("onError returned no Response of status 200 or more");
    } catch (failure) {
      this.#log.error("onError failed:", failure, "handling:", err);
      return new Response("Internal Server Error\n", {
        status: 500,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
  }

  #safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error("connection claim callback failed:", err);
    }
  }

  /**
   * Answer a refused request and close: the answer, then FIN, then drain
   * what the client still sends (bounded) so the close does not reset the
   * connection before the client has read the answer.
   */
  async #refuse(c: HttpConnection, status: BadRequestStatus, reason: string): Promise<void> {
    this.counters.badRequests[status]++;
    try {
      await writeResponse(
        c,
        new Response(`${reason}\n`, {
          status,
          headers: { "content-type": "text/plain; charset=utf-8" },
        }),
        { close: true },
      );
      await c.conn.closeWrite();
      c.enter(LINGERING, LINGER_MS);
      let drained = 0;
      const scratch = c.buf.length > 0 ? c.buf : new Uint8Array(INITIAL_BUFFER_BYTES);
      while (drained < LINGER_BYTES) {
        const n = await c.conn.read(scratch);
        if (n === null) break;
        drained += n;
      }
    } catch {
      // the client went away or the linger time ran out
    }
  }
}

/** Write all of `p` to `c`. */
async function writeAllTo(c: HttpConnection, p: Uint8Array): Promise<void> {
  let off = 0;
  while (off < p.length) off += await c.write(p.subarray(off));
}

/**
 * Serve HTTP/1.1 on `options.hostname:options.port` with `handler`.
 *
 * @example
 * ```ts
 * import { serveHttp } from "./http_server.ts";
 * const server = serveHttp({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   maxConnections: 200,
 *   onListen: ({ hostname, port }) => console.log(`listening on http://${hostname}:${port}/`),
 * }, (req, info) => new Response(`${req.method} from ${info.remoteAddr.hostname}`));
 * server.counters.open; // 0
 * await server.shutdown();
 * ```
 *
 * @param options See {@link ServeHttpOptions}.
 * @param handler Answers each request; `info.remoteAddr` is the client's address.
 * @returns The running server.
 * @throws {RangeError} for an option that is not a positive integer, and
 * `Deno.listen`'s errors (e.g. `AddrInUse`).
 */
export function serveHttp(
  options: ServeHttpOptions,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): HttpServer {
  return new Server(options, handler);
}
