/**
 * One Binance combined-stream WebSocket (`${baseUrl}/stream?streams=a/b/c`) kept
 * alive around the clock: reconnects with backoff after a close or error,
 * reconnects when the data stops (stale watchdog), and replaces itself without a
 * gap when the server announces a shutdown or the connection nears the 24-hour
 * limit (the replacement is opened first; delivery switches to it when its first
 * frame arrives; then the old one is closed).
 *
 * Every text message is handed to `onMessage` with its receive time, stamped
 * first thing in the handler. Nothing is allocated per message beyond what the
 * WebSocket API allocates itself.
 *
 * Other venues (`venue_ingest.ts`) use the same connection with an explicit
 * `url` instead of `baseUrl` + `streams`: `openMessages` (the subscriptions)
 * are sent on every socket as it opens, `keepalive` is sent on the delivering
 * socket at its interval, {@linkcode StreamConnection.send} sends more (a
 * resubscribe), {@linkcode StreamConnection.reconnect} drops the delivering
 * socket for a new one, and `shutdownNotice: null` / `maxLifetimeMs: Infinity`
 * turn Binance's shutdown notice and 24-hour rollover off.
 *
 * @example
 * ```ts
 * import { StreamConnection } from "./stream_connection.ts";
 *
 * const conn = new StreamConnection({
 *   baseUrl: "wss://stream.binance.com:9443",
 *   streams: ["btcusdt@depth20@100ms", "ethusdt@depth20@100ms"],
 *   onMessage(text, receivedAtMs) {
 *     // parse text
 *   },
 *   onStateChange(state) {
 *     // FeedState.Connecting / Live / Stale
 *   },
 * });
 * conn.start();
 * // ...
 * await conn.close();
 * ```
 * @module
 */

import { AttemptLimiter } from "./attempt_limiter.ts";
import { Backoff } from "../pipeline/backoff.ts";
import { FeedState } from "../pipeline/feed_state.ts";
import { combinedStreamUrl, MAX_STREAMS_PER_CONNECTION } from "./stream_groups.ts";

/** Options of {@linkcode StreamConnection}. */
export interface StreamConnectionOptions {
  /**
   * WebSocket base URL without path, e.g. `wss://stream.binance.com:9443`
   * (`ws:` or `wss:`): a Binance combined stream of `streams`. Give either
   * `baseUrl` and `streams` or `url`.
   */
  baseUrl?: string;
  /** Stream names (lower case, e.g. `btcusdt@depth20@100ms`), 1 to 1024 of them; with `baseUrl`. */
  streams?: readonly string[];
  /** The full `ws:`/`wss:` URL to connect to (another venue), instead of `baseUrl` and `streams`. */
  url?: string;
  /** Text messages sent on every socket as soon as it opens (subscriptions). Default none. */
  openMessages?: readonly string[];
  /**
   * A keep-alive text sent on the delivering socket every `everyMs` ms (and on
   * a replacement that opened but has not delivered yet). Default none.
   */
  keepalive?: { readonly text: string; readonly everyMs: number };
  /**
   * A short message (under 256 characters) containing this text is the
   * server's shutdown notice: a replacement is opened at once. `null`: the
   * venue sends none. Default `"serverShutdown"` (Binance).
   */
  shutdownNotice?: string | null;
  /** Called for every text data message with its receive time (epoch ms, sub-ms precision). */
  onMessage: (text: string, receivedAtMs: number) => void;
  /** Called when the connection's feed state changes (Connecting, Live, Stale). Default none. */
  onStateChange?: (state: FeedState) => void;
  /** Called when `onMessage` or `onStateChange` throws; the error is also counted. Default none. */
  onError?: (error: unknown) => void;
  /** A connection with no data message for this long is stale and replaced, in ms. Default 2000. */
  staleMs?: number;
  /** An attempt that has not opened after this long is abandoned, in ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Connection age at which a replacement is opened, in ms; `Infinity` for never. Default 23.5 hours (the server closes at 24 h). */
  maxLifetimeMs?: number;
  /** Text messages longer than this many characters are counted and ignored. Default 1 MiB (1048576). */
  maxMessageBytes?: number;
  /** Delay of the first connection attempt after {@linkcode StreamConnection.start}, in ms. Default 0. */
  startDelayMs?: number;
  /** Backoff between attempts. Default `new Backoff()` (1 s base, 30 s cap). */
  backoff?: Backoff;
  /** Attempt limiter, shared by all connections of one IP. Default a private `new AttemptLimiter()`. */
  limiter?: AttemptLimiter;
}

/** Timer handle, whichever type `setTimeout` returns in this context. */
type TimerId = ReturnType<typeof setTimeout>;
const NONE = undefined;
/** Longest delay `setTimeout` supports. */
const MAX_TIMER_MS = 0x7fffffff;

/** The counters a {@link StreamConnection} keeps, each a public field of it. */
export type ConnectionCounter =
  | "attempts"
  | "connects"
  | "reconnects"
  | "staleEvents"
  | "serverShutdowns"
  | "rollovers"
  | "messages"
  | "bytes"
  | "ignoredMessages"
  | "limitedAttempts"
  | "callbackErrors"
  | "sent";

/**
 * A self-healing combined-stream WebSocket. Counters are plain fields that can
 * be read at any time.
 *
 * @example
 * ```ts
 * import { StreamConnection } from "./stream_connection.ts";
 *
 * const conn = new StreamConnection({
 *   baseUrl: "ws://127.0.0.1:9443",
 *   streams: ["btcusdt@depth@100ms"],
 *   onMessage: (text, at) => console.log(at, text.length),
 * });
 * conn.start();
 * conn.messages; // data messages delivered so far
 * await conn.close();
 * ```
 */
export class StreamConnection {
  /** The full URL connected to. */
  readonly url: string;
  /** Stale timeout in ms. */
  readonly staleMs: number;
  /** Connection attempts made (WebSockets created). */
  attempts = 0;
  /** Attempts whose WebSocket opened. */
  connects = 0;
  /** Reconnects scheduled after a close, error, failed attempt or stale connection. */
  reconnects = 0;
  /** Connections found silent for `staleMs` (or opened but silent). */
  staleEvents = 0;
  /** `serverShutdown` notices received. */
  serverShutdowns = 0;
  /** Completed switches to a replacement connection (shutdown notice or lifetime). */
  rollovers = 0;
  /** Data messages delivered to `onMessage`. */
  messages = 0;
  /** Characters of delivered messages (bytes for ASCII JSON). */
  bytes = 0;
  /** Binary and oversized messages, counted and not delivered. */
  ignoredMessages = 0;
  /** Times the attempt limiter deferred an attempt. */
  limitedAttempts = 0;
  /** Errors thrown by callbacks (caught so the connection keeps running). */
  callbackErrors = 0;
  /** Messages sent: open messages, keep-alives and {@linkcode StreamConnection.send}. */
  sent = 0;

  #onMessage: (text: string, receivedAtMs: number) => void;
  #onStateChange: ((state: FeedState) => void) | undefined;
  #onError: ((error: unknown) => void) | undefined;
  #connectTimeoutMs: number;
  #maxLifetimeMs: number;
  #maxMessageBytes: number;
  #startDelayMs: number;
  #backoff: Backoff;
  #limiter: AttemptLimiter;
  #openMessages: readonly string[];
  #keepalive: { readonly text: string; readonly everyMs: number } | undefined;
  #shutdownNotice: string | null;

  #state: FeedState = FeedState.Connecting;
  #started = false;
  #closed = false;
  /** Between {@linkcode StreamConnection.suspend} and {@linkcode StreamConnection.resume}. */
  #suspended = false;
  /** The socket whose messages are delivered. */
  #current: WebSocket | null = null;
  #currentLastMono = 0;
  /** A socket being opened (first connection, reconnect or replacement); promoted on its first message. */
  #next: WebSocket | null = null;
  #nextStartMono = 0;
  #nextOpenMono = 0;
  #nextOpened = false;
  /** Every socket not yet closed, including retired ones. */
  #sockets = new Set<WebSocket>();
  #allClosed: (() => void) | null = null;

  #attemptTimer: TimerId | undefined = NONE;
  #watchTimer: TimerId | undefined = NONE;
  #lifetimeTimer: TimerId | undefined = NONE;
  #keepaliveTimer: ReturnType<typeof setInterval> | undefined = NONE;

  /**
   * Validates the options and builds the URL; does not connect until
   * {@linkcode StreamConnection.start}.
   *
   * @throws {TypeError} If `baseUrl` or `url` is not a ws:/wss: URL, both or neither are given, or a stream name is empty or not lower case.
   * @throws {RangeError} If the number of streams or a duration is out of range.
   */
  constructor(options: StreamConnectionOptions) {
    const {
      baseUrl,
      streams,
      url,
      openMessages = [],
      keepalive,
      shutdownNotice = "serverShutdown",
      onMessage,
      onStateChange,
      onError,
      staleMs = 2000,
      connectTimeoutMs = 10_000,
      maxLifetimeMs = 23.5 * 3600_000,
      maxMessageBytes = 1 << 20,
      startDelayMs = 0,
      backoff = new Backoff(),
      limiter = new AttemptLimiter(),
    } = options;
    if ((url === undefined) === (baseUrl === undefined)) {
      throw new TypeError(
        "StreamConnection: expected either baseUrl with streams (a Binance combined stream) " +
          `or url, got ${url === undefined ? "neither" : "both"}`,
      );
    }
    checkWsUrl(url === undefined ? "baseUrl" : "url", (url ?? baseUrl)!);
    if (url !== undefined && streams !== undefined) {
      throw new TypeError("StreamConnection: streams go with baseUrl, not with url");
    }
    const list = streams ?? [];
    if (url === undefined && (list.length < 1 || list.length > MAX_STREAMS_PER_CONNECTION)) {
      throw new RangeError(
        `StreamConnection: expected 1 to ${MAX_STREAMS_PER_CONNECTION} streams, got ${list.length}`,
      );
    }
    for (const s of list) {
      if (typeof s !== "string" || s.length === 0 || s !== s.toLowerCase() || /[\s/?&#]/.test(s)) {
        throw new TypeError(
          `StreamConnection: stream names must be non-empty lower-case names without "/", "?", "&", "#" or spaces, got ${
            JSON.stringify(s)
          }`,
        );
      }
    }
    if (typeof onMessage !== "function") {
      throw new TypeError("StreamConnection: onMessage must be a function");
    }
    positive("staleMs", staleMs);
    positive("connectTimeoutMs", connectTimeoutMs);
    if (maxLifetimeMs !== Infinity) positive("maxLifetimeMs", maxLifetimeMs);
    if (
      (maxLifetimeMs !== Infinity && maxLifetimeMs > MAX_TIMER_MS) || staleMs > MAX_TIMER_MS ||
      connectTimeoutMs > MAX_TIMER_MS
    ) {
      throw new RangeError(
        `StreamConnection: maxLifetimeMs, staleMs and connectTimeoutMs must be <= ${MAX_TIMER_MS} (timer limit)`,
      );
    }
    positive("maxMessageBytes", maxMessageBytes);
    if (!Number.isFinite(startDelayMs) || startDelayMs < 0) {
      throw new RangeError(`StreamConnection: startDelayMs must be >= 0, got ${startDelayMs}`);
    }
    if (keepalive !== undefined) {
      positive("keepalive.everyMs", keepalive.everyMs);
      if (keepalive.everyMs > MAX_TIMER_MS || typeof keepalive.text !== "string") {
        throw new RangeError(
          `StreamConnection: keepalive needs a text and everyMs <= ${MAX_TIMER_MS}, got ${
            JSON.stringify(keepalive)
          }`,
        );
      }
    }
    if (shutdownNotice !== null && (typeof shutdownNotice !== "string" || shutdownNotice === "")) {
      throw new TypeError(
        `StreamConnection: shutdownNotice must be a non-empty text or null, got ${
          JSON.stringify(shutdownNotice)
        }`,
      );
    }
    this.url = url ?? combinedStreamUrl(baseUrl!, list);
    this.#openMessages = [...openMessages];
    this.#keepalive = keepalive;
    this.#shutdownNotice = shutdownNotice;
    this.staleMs = staleMs;
    this.#onMessage = onMessage;
    this.#onStateChange = onStateChange;
    this.#onError = onError;
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#maxLifetimeMs = maxLifetimeMs;
    this.#maxMessageBytes = maxMessageBytes;
    this.#startDelayMs = startDelayMs;
    this.#backoff = backoff;
    this.#limiter = limiter;
  }

  /** Current feed state of this connection. */
  get state(): FeedState {
    return this.#state;
  }

  /** Whether {@linkcode StreamConnection.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Starts connecting (after `startDelayMs`). Calling it again has no effect.
   *
   * @throws {Error} If the connection was closed.
   */
  start(): void {
    if (this.#closed) throw new Error("StreamConnection: start() called after close()");
    if (this.#started) return;
    this.#started = true;
    this.#startKeepalive();
    this.#scheduleAttempt(this.#startDelayMs);
  }

  /**
   * Sends `text` on the delivering socket (a resubscribe). Returns false, and
   * sends nothing, when no socket delivers (connecting, stale, closed).
   *
   * @example
   * ```ts
   * import { StreamConnection } from "./stream_connection.ts";
   * const conn = new StreamConnection({ url: "ws://127.0.0.1:9443/ws", onMessage: () => {} });
   * conn.send('{"op":"ping"}'); // false: not connected
   * ```
   */
  send(text: string): boolean {
    const ws = this.#current;
    if (ws === null || this.#closed || this.#suspended) return false;
    return this.#sendOn(ws, text);
  }

  /**
   * Drops the delivering socket and connects again with backoff (counted as a
   * reconnect; the state goes to Connecting): a venue that cannot resend one
   * symbol's snapshot, or whose per-connection sequence broke. No effect while
   * no socket delivers (a reconnect is then already on its way).
   *
   * @example
   * ```ts
   * import { StreamConnection } from "./stream_connection.ts";
   * const conn = new StreamConnection({ url: "ws://127.0.0.1:9443/ws", onMessage: () => {} });
   * conn.reconnect(); // nothing to drop yet
   * ```
   */
  reconnect(): void {
    const current = this.#current;
    if (current === null || this.#closed || this.#suspended) return;
    // Its later messages and its close event find it neither current nor next: ignored.
    this.#current = null;
    this.#clearTimer(this.#lifetimeTimer);
    this.#lifetimeTimer = NONE;
    closeQuietly(current);
    this.#setState(FeedState.Connecting);
    this.#retry();
    this.#armWatchdog();
  }

  #sendOn(ws: WebSocket, text: string): boolean {
    if (ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.send(text);
    } catch (error) {
      this.#callbackFailed(error);
      return false;
    }
    this.sent++;
    return true;
  }

  #startKeepalive(): void {
    if (this.#keepalive === undefined || this.#keepaliveTimer !== NONE) return;
    this.#keepaliveTimer = setInterval(this.#sendKeepalive, this.#keepalive.everyMs);
  }

  #stopKeepalive(): void {
    if (this.#keepaliveTimer !== NONE) clearInterval(this.#keepaliveTimer);
    this.#keepaliveTimer = NONE;
  }

  #sendKeepalive = (): void => {
    if (this.#closed || this.#suspended) return;
    const text = this.#keepalive!.text;
    if (this.#current !== null) this.#sendOn(this.#current, text);
    if (this.#next !== null && this.#nextOpened) this.#sendOn(this.#next, text);
  };

  /** Whether the connection is suspended ({@linkcode StreamConnection.suspend}). */
  get suspended(): boolean {
    return this.#suspended;
  }

  /**
   * Closes every socket and cancels every timer, as {@linkcode StreamConnection.close}
   * does, but keeps the counters and can open again with
   * {@linkcode StreamConnection.resume} (the ingest of owned partitions: a
   * released partition's connection). The state becomes Connecting (reported
   * like any change); no message is delivered from here on, nothing is
   * counted as a reconnect or a stale connection, and no attempt is made
   * until the resume. A connection never started is only marked suspended.
   *
   * @example
   * ```ts
   * import { StreamConnection } from "./stream_connection.ts";
   * const conn = new StreamConnection({ baseUrl: "ws://127.0.0.1:9443", streams: ["btcusdt@depth@100ms"], onMessage: () => {} });
   * conn.start();
   * conn.suspend(); // its sockets close; conn.state is FeedState.Connecting
   * conn.resume(); // a new connect at once
   * await conn.close();
   * ```
   */
  suspend(): void {
    if (this.#closed || this.#suspended) return;
    this.#suspended = true;
    this.#stopKeepalive();
    this.#clearTimer(this.#attemptTimer);
    this.#clearTimer(this.#watchTimer);
    this.#clearTimer(this.#lifetimeTimer);
    this.#attemptTimer = this.#watchTimer = this.#lifetimeTimer = NONE;
    this.#current = null;
    this.#next = null;
    // Their close events find them neither current nor next: nothing more happens.
    for (const ws of this.#sockets) closeQuietly(ws);
    this.#setState(FeedState.Connecting);
  }

  /**
   * Opens again after {@linkcode StreamConnection.suspend}, at once (the backoff
   * starts over); on a connection never started, starts it without its
   * `startDelayMs`. No effect on a connection that is running.
   *
   * @throws {Error} If the connection was closed.
   * @example
   * ```ts
   * import { StreamConnection } from "./stream_connection.ts";
   * const conn = new StreamConnection({ baseUrl: "ws://127.0.0.1:9443", streams: ["btcusdt@depth@100ms"], onMessage: () => {} });
   * conn.resume(); // connects now
   * await conn.close();
   * ```
   */
  resume(): void {
    if (this.#closed) throw new Error("StreamConnection: resume() called after close()");
    if (this.#started && !this.#suspended) return;
    this.#started = true;
    this.#suspended = false;
    this.#startKeepalive();
    this.#backoff.reset();
    this.#scheduleAttempt(0);
  }

  /**
   * Stops everything: cancels timers, closes all sockets. No callback runs
   * afterwards. The promise resolves when every socket has closed.
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#stopKeepalive();
      this.#clearTimer(this.#attemptTimer);
      this.#clearTimer(this.#watchTimer);
      this.#clearTimer(this.#lifetimeTimer);
      this.#attemptTimer = this.#watchTimer = this.#lifetimeTimer = NONE;
      this.#current = null;
      this.#next = null;
      for (const ws of this.#sockets) closeQuietly(ws);
    }
    if (this.#sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#allClosed;
      this.#allClosed = () => {
        previous?.();
        resolve();
      };
    });
  }

  #clearTimer(id: TimerId | undefined): void {
    if (id !== NONE) clearTimeout(id);
  }

  #setState(state: FeedState): void {
    if (state === this.#state) return;
    this.#state = state;
    if (this.#closed || this.#onStateChange === undefined) return;
    try {
      this.#onStateChange(state);
    } catch (error) {
      this.#callbackFailed(error);
    }
  }

  #callbackFailed(error: unknown): void {
    this.callbackErrors++;
    if (this.#onError === undefined) return;
    try {
      this.#onError(error);
    } catch {
      // An error handler that throws must not take the connection down; the failure is counted.
    }
  }

  /** Schedules the next attempt unless one is already pending or in flight. */
  #scheduleAttempt(delayMs: number): void {
    if (this.#closed || this.#suspended || this.#next !== null || this.#attemptTimer !== NONE) {
      return;
    }
    this.#attemptTimer = setTimeout(this.#attempt, delayMs > 0 ? delayMs : 0);
  }

  /** Schedules a retry after a loss or failed attempt (counted, with backoff). */
  #retry(): void {
    if (this.#closed || this.#suspended || this.#next !== null || this.#attemptTimer !== NONE) {
      return;
    }
    this.reconnects++;
    this.#scheduleAttempt(this.#backoff.next());
  }

  /** Opens a replacement now (shutdown notice or lifetime), unless one is already on its way. */
  #replaceNow(): void {
    if (this.#closed || this.#suspended || this.#next !== null) return;
    this.#clearTimer(this.#attemptTimer);
    this.#attemptTimer = NONE;
    this.#attempt();
  }

  #attempt = (): void => {
    this.#attemptTimer = NONE;
    if (this.#closed || this.#suspended || this.#next !== null) return;
    if (!this.#limiter.tryAcquire()) {
      this.limitedAttempts++;
      // +1 ms so the oldest attempt has surely left the window when the timer fires.
      this.#scheduleAttempt(this.#limiter.waitMs() + 1);
      return;
    }
    this.attempts++;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url);
    } catch (error) {
      this.#callbackFailed(error);
      this.#retry();
      return;
    }
    ws.binaryType = "arraybuffer";
    ws.onopen = () => this.#handleOpen(ws);
    ws.onmessage = (event: MessageEvent) => this.#handleMessage(ws, event);
    ws.onclose = () => this.#handleClose(ws);
    // An error is always followed by a close event, which does the bookkeeping.
    ws.onerror = (event: Event) => event.preventDefault();
    this.#sockets.add(ws);
    this.#next = ws;
    this.#nextOpened = false;
    this.#nextStartMono = performance.now();
    this.#armWatchdog();
  };

  #handleOpen(ws: WebSocket): void {
    if (ws !== this.#next) return;
    this.connects++;
    this.#nextOpened = true;
    this.#nextOpenMono = performance.now();
    for (let i = 0; i < this.#openMessages.length; i++) this.#sendOn(ws, this.#openMessages[i]);
    this.#armWatchdog();
  }

  #handleMessage(ws: WebSocket, event: MessageEvent): void {
    const mono = performance.now();
    const receivedAtMs = performance.timeOrigin + mono;
    const data = event.data;
    if (typeof data !== "string" || data.length > this.#maxMessageBytes) {
      this.ignoredMessages++;
      return;
    }
    const notice = this.#shutdownNotice;
    const shutdown = notice !== null && data.length < 256 && data.includes(notice);
    if (ws === this.#current) {
      this.#currentLastMono = mono;
      if (shutdown) {
        this.serverShutdowns++;
        this.#replaceNow();
        return;
      }
    } else if (ws === this.#next) {
      if (shutdown) {
        // The replacement itself is going away: drop it and try another.
        this.serverShutdowns++;
        this.#next = null;
        closeQuietly(ws);
        this.#retry();
        this.#armWatchdog();
        return;
      }
      this.#promote(mono);
    } else {
      // A retired socket: its successor delivers instead.
      return;
    }
    this.messages++;
    this.bytes += data.length;
    try {
      this.#onMessage(data, receivedAtMs);
    } catch (error) {
      this.#callbackFailed(error);
    }
  }

  /** Makes `#next` the delivering socket; retires the old one (a rollover). */
  #promote(mono: number): void {
    const old = this.#current;
    this.#current = this.#next;
    this.#currentLastMono = mono;
    this.#next = null;
    this.#backoff.reset();
    if (old !== null) {
      this.rollovers++;
      closeQuietly(old);
    }
    this.#clearTimer(this.#lifetimeTimer);
    this.#lifetimeTimer = this.#maxLifetimeMs === Infinity
      ? NONE
      : setTimeout(this.#lifetimeReached, this.#maxLifetimeMs);
    this.#armWatchdog();
    this.#setState(FeedState.Live);
  }

  #lifetimeReached = (): void => {
    this.#lifetimeTimer = NONE;
    this.#replaceNow();
  };

  #handleClose(ws: WebSocket): void {
    this.#sockets.delete(ws);
    if (this.#closed) {
      if (this.#sockets.size === 0 && this.#allClosed !== null) {
        const done = this.#allClosed;
        this.#allClosed = null;
        done();
      }
      return;
    }
    if (ws === this.#current) {
      this.#current = null;
      this.#clearTimer(this.#lifetimeTimer);
      this.#lifetimeTimer = NONE;
      this.#setState(FeedState.Connecting);
      this.#retry();
      this.#armWatchdog();
    } else if (ws === this.#next) {
      this.#next = null;
      // Without a delivering socket we are no longer connected (not even stale).
      if (this.#current === null) this.#setState(FeedState.Connecting);
      this.#retry();
      this.#armWatchdog();
    }
  }

  /** Arms the single watchdog timer at the earliest deadline of the live sockets. */
  #armWatchdog(): void {
    this.#clearTimer(this.#watchTimer);
    this.#watchTimer = NONE;
    if (this.#closed || this.#suspended) return;
    let deadline = Infinity;
    if (this.#current !== null) deadline = this.#currentLastMono + this.staleMs;
    if (this.#next !== null) {
      const d = this.#nextOpened
        ? this.#nextOpenMono + this.staleMs
        : this.#nextStartMono + this.#connectTimeoutMs;
      if (d < deadline) deadline = d;
    }
    if (deadline === Infinity) return;
    const delay = deadline - performance.now();
    this.#watchTimer = setTimeout(this.#watch, delay > 0 ? delay + 1 : 0);
  }

  #watch = (): void => {
    this.#watchTimer = NONE;
    if (this.#closed || this.#suspended) return;
    const now = performance.now();
    const current = this.#current;
    if (current !== null && now - this.#currentLastMono >= this.staleMs) {
      this.staleEvents++;
      this.#current = null;
      this.#clearTimer(this.#lifetimeTimer);
      this.#lifetimeTimer = NONE;
      closeQuietly(current);
      this.#setState(FeedState.Stale);
      this.#retry();
    }
    const next = this.#next;
    if (next !== null) {
      const expired = this.#nextOpened
        ? now - this.#nextOpenMono >= this.staleMs
        : now - this.#nextStartMono >= this.#connectTimeoutMs;
      if (expired) {
        if (this.#nextOpened) this.staleEvents++;
        this.#next = null;
        closeQuietly(next);
        if (this.#current === null) this.#setState(FeedState.Connecting);
        this.#retry();
      }
    }
    this.#armWatchdog();
  };
}

function positive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`StreamConnection: ${name} must be a positive number, got ${value}`);
  }
}

function checkWsUrl(name: string, raw: string): void {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new TypeError(
      `StreamConnection: ${name} must be a ws:// or wss:// URL, got ${JSON.stringify(raw)}`,
    );
  }
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new TypeError(
      `StreamConnection: ${name} must use ws: or wss:, got ${JSON.stringify(raw)}`,
    );
  }
}

function closeQuietly(ws: WebSocket): void {
  try {
    ws.close();
  } catch {
    // Already closing or closed: the close event still arrives.
  }
}
