/**
 * The replay source: reads a recording and hands every recorded message to
 * the same `onMessage(text, receivedAtMs)` the live connections call, with
 * the **recorded** receive time, so the parsers, validation and diff sync see
 * exactly the bytes they saw live and every analytics window runs on the
 * recorded clock. REST snapshots recorded as
 * `{"stream":"<symbol>@depthSnapshot","generated":true,"data":<REST body>}`
 * go to `onSnapshot` instead (diff mode seeds its books from them).
 *
 * - **Pacing.** At speed `s` a record is delivered once
 *   `(recorded time − first recorded time) / s` has passed since the start;
 *   at `Infinity` (`--replay-speed max`) as fast as the pipeline takes them.
 * - **Back-pressure.** Before each record the feed asks `hasRoom()` (the
 *   ingest: is there space in the raw ring for what this record may write?)
 *   and waits while there is none: nothing is dropped at any speed.
 * - **Window.** Records before `fromUs` are skipped; the first record after
 *   `toUs` ends the pass. In diff mode the pass starts at the earliest of the
 *   symbols' last snapshots at or before `fromUs` (found by a first scan), so
 *   the books are seeded when the window opens.
 * - **Loop.** With `loop`, the pass starts over at the end, like a reconnect
 *   to an exchange that restarted: every symbol goes through Connecting (the
 *   ingest resets its books) and the receive times are shifted by the length
 *   of the passes before, so the clock never runs backwards.
 * - **Bad input.** A line that is not `<time> <message>` and a time earlier
 *   than the one before are counted (`badLines`), logged with file and offset
 *   and skipped.
 *
 * A feed started on a status that already has a position (the supervisor
 * restarted the ingest worker) resumes after the last record delivered,
 * during the first pass.
 *
 * Feed state: Connecting until a symbol's first accepted frame, then Live;
 * Stale when no frame of it was accepted for `staleMs` of recorded time.
 *
 * @example
 * ```ts
 * import { ReplayFeed } from "./replay_feed.ts";
 * import { ReplayStatus } from "../pipeline/replay_status.ts";
 * declare const path: string; // a tardis-format text file
 * const feed = new ReplayFeed({
 *   path,
 *   symbols: ["btcusdt"],
 *   speed: Infinity,
 *   status: ReplayStatus.create(),
 *   onMessage: (text, at) => console.log(at, text.length),
 * });
 * feed.start();
 * await feed.finished;
 * ```
 * @module
 */
import { FeedState } from "../pipeline/feed_state.ts";
import type { ReplayStatus } from "../pipeline/replay_status.ts";
import type { ConnectionCounter } from "./stream_connection.ts";
import type { MessageFeed } from "./message_feed.ts";
import {
  type BadLine,
  readTardisLines,
  type RecordReader,
  type ReplayRecord,
} from "./tardis_lines.ts";

/** Options of {@link ReplayFeed}. */
export interface ReplayFeedOptions {
  /** The recording: a file or a directory. Required. */
  path: string;
  /** Lower-case symbols; a symbol's id is its index. Required. */
  symbols: readonly string[];
  /** Playback speed factor (> 0); `Infinity` = as fast as possible. Default 1. */
  speed?: number;
  /** First receive time replayed, epoch µs. Default: from the start. */
  fromUs?: number;
  /** Last receive time replayed, epoch µs. Default: to the end. */
  toUs?: number;
  /** Start over at the end. Default false. */
  loop?: boolean;
  /** Diff mode: start at the snapshots before `fromUs` (see the module docs). Default false. */
  diff?: boolean;
  /** Every recorded exchange message, with its (shifted) recorded receive time, epoch ms. Required. */
  onMessage: (text: string, receivedAtMs: number) => void;
  /** A recorded REST snapshot of `symbolId`: the REST body. Default: ignored. */
  onSnapshot?: (symbolId: number, body: string, receivedAtMs: number) => void;
  /** Called before each record with its receive time (the replay clock), epoch ms. Default none. */
  onClock?: (clockMs: number) => void;
  /** Feed state changes. Default none. */
  onFeedState?: (symbolId: number, state: FeedState) => void;
  /** Whether the pipeline can take a record now (raw-ring space). Default: always. */
  hasRoom?: () => boolean;
  /** Where the position is published. Required. */
  status: ReplayStatus;
  /** Reads the recording. Default {@link readTardisLines}. */
  reader?: RecordReader;
  /** No accepted frame of a symbol for this long (recorded time) marks it stale. Default 2000 ms. */
  staleMs?: number;
  /** Where bad lines and read errors are reported. Default `console`. */
  log?: Pick<Console, "warn" | "error">;
  /** Called when a callback throws (the replay goes on). Default: log it. */
  onError?: (error: unknown) => void;
}

/** Wall-clock lead below which a paced record is delivered without sleeping, ms. */
const SLEEP_MIN_MS = 2;
/** At most this many records are delivered between two turns of the event loop. */
const RECORDS_PER_TURN = 2048;
/** How long the feed sleeps while the ring is full, ms. */
const ROOM_WAIT_MS = 1;
/** Bad lines logged in full; after that one summary every 1000. */
const BAD_LINES_LOGGED = 20;
/** Gap between the last record of a pass and the first of the next (loop), µs. */
const LOOP_GAP_US = 1000_000;

const SNAPSHOT_SUFFIX = "@depthSnapshot";
const STREAM_PREFIX = '{"stream":"';

/**
 * Plays a recording into `onMessage` (see the module docs); a {@link MessageFeed}.
 *
 * @example
 * ```ts
 * import { ReplayFeed } from "./replay_feed.ts";
 * import { ReplayStatus } from "../pipeline/replay_status.ts";
 * declare const path: string;
 * const status = ReplayStatus.create();
 * const feed = new ReplayFeed({ path, symbols: ["btcusdt"], status, onMessage: () => {} });
 * feed.start();
 * await feed.close();
 * status.get("records"); // how many were delivered
 * ```
 */
export class ReplayFeed implements MessageFeed {
  /** Resolves when the replay ended (end of the recording or of the window, or closed). */
  readonly finished: Promise<void>;
  readonly #o: ReplayFeedOptions;
  readonly #speed: number;
  readonly #staleMs: number;
  readonly #ids: Map<string, number>;
  readonly #state: Uint8Array;
  readonly #resyncing: Uint8Array;
  readonly #lastFrame: Float64Array;
  readonly #log: Pick<Console, "warn" | "error">;
  #resolve!: () => void;
  #started = false;
  #closed = false;
  #passes = 0;
  #nextSweepMs = -Infinity;
  /** Ends the current sleep early (close). */
  #wake: (() => void) | undefined;

  /**
   * @param options see {@link ReplayFeedOptions}.
   * @throws RangeError for a speed that is not a positive number, or an empty window.
   */
  constructor(options: ReplayFeedOptions) {
    const speed = options.speed ?? 1;
    if (!(speed > 0)) {
      throw new RangeError(`replay speed must be a positive number or Infinity, got ${speed}`);
    }
    if (
      options.fromUs !== undefined && options.toUs !== undefined && options.toUs < options.fromUs
    ) {
      throw new RangeError(
        `replay window ends (${options.toUs} µs) before it starts (${options.fromUs} µs)`,
      );
    }
    this.#o = options;
    this.#speed = speed;
    this.#staleMs = options.staleMs ?? 2000;
    this.#log = options.log ?? console;
    this.#ids = new Map(options.symbols.map((s, i) => [s, i]));
    const n = options.symbols.length;
    this.#state = new Uint8Array(n).fill(FeedState.Connecting);
    this.#resyncing = new Uint8Array(n);
    this.#lastFrame = new Float64Array(n).fill(-Infinity);
    this.finished = new Promise((resolve) => this.#resolve = resolve);
    options.status.set("speed", speed);
  }

  /** Start replaying (once). */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#run().catch((e) => this.#log.error(`replay of ${this.#o.path} failed:`, e)).finally(
      () => {
        this.#o.status.set("done", 1);
        this.#resolve();
      },
    );
  }

  /** Stop replaying; resolves when the replay loop has ended. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    if (!this.#started) this.#resolve();
    await this.finished;
  }

  /** A frame of `symbolId` was accepted at recorded time `nowMs`. */
  noteFrame(symbolId: number, nowMs: number): void {
    this.#lastFrame[symbolId] = nowMs;
    this.#refresh(symbolId, nowMs);
  }

  /** Diff mode: the symbol's book is out of sync (or back in sync). */
  setResyncing(symbolId: number, resyncing: boolean): void {
    this.#resyncing[symbolId] = resyncing ? 1 : 0;
    this.#refresh(symbolId, this.#o.status.get("clockMs"));
  }

  /** The symbol's feed state. */
  feedState(symbolId: number): FeedState {
    return this.#state[symbolId] as FeedState;
  }

  /** `connects`: passes started; every other connection counter is 0 in a replay. */
  total(counter: ConnectionCounter): number {
    return counter === "connects" ? this.#passes : 0;
  }

  /** Sleep `ms` (a pacing gap may be hours long), or until closed. */
  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  #refresh(id: number, now: number): void {
    let state: FeedState;
    if (this.#lastFrame[id] === -Infinity) state = FeedState.Connecting;
    else if (this.#resyncing[id] === 1) state = FeedState.Resyncing;
    else state = now - this.#lastFrame[id] > this.#staleMs ? FeedState.Stale : FeedState.Live;
    if (state === this.#state[id]) return;
    this.#state[id] = state;
    this.#call(() => this.#o.onFeedState?.(id, state));
  }

  #call(f: () => void): void {
    try {
      f();
    } catch (e) {
      if (this.#o.onError) this.#o.onError(e);
      else this.#log.error("replay callback failed:", e);
    }
  }

  /** Every pass over the recording, then done. */
  async #run(): Promise<void> {
    const o = this.#o;
    let startUs = o.fromUs ?? -Infinity;
    if (o.diff && o.fromUs !== undefined) startUs = await this.#seedStart(o.fromUs);
    // A restarted ingest worker finds the position of the one before in the
    // shared status and goes on after its last record (first pass only).
    const resumeMs = o.status.get("clockMs");
    if (resumeMs === resumeMs && o.status.get("loops") === 0 && o.status.get("done") === 0) {
      startUs = Math.max(startUs, Math.round(resumeMs * 1000) + 1);
      this.#log.warn(`replay: resuming ${o.path} after ${new Date(resumeMs).toISOString()}`);
    }
    let shiftUs = 0;
    for (;;) {
      this.#passes++;
      const span = await this.#pass(startUs, shiftUs);
      if (this.#closed || !o.loop || span === undefined) return;
      o.status.add("loops", 1);
      shiftUs += span.lastUs - span.firstUs + LOOP_GAP_US;
      // Like a reconnect to a restarted exchange: the ingest resets every book.
      for (let id = 0; id < this.#state.length; id++) {
        this.#lastFrame[id] = -Infinity;
        this.#resyncing[id] = 0;
        this.#refresh(id, NaN);
      }
    }
  }

  /** Diff mode: receive time of the earliest of every symbol's last snapshot at or before `fromUs`. */
  async #seedStart(fromUs: number): Promise<number> {
    const last = new Map<string, number>();
    for await (const r of (this.#o.reader ?? readTardisLines)(this.#o.path)) {
      if (this.#closed || r.receiveTimeUs > fromUs) break;
      const stream = streamOf(r.text);
      if (stream?.endsWith(SNAPSHOT_SUFFIX)) last.set(stream, r.receiveTimeUs);
    }
    return last.size === 0 ? fromUs : Math.min(...last.values());
  }

  /** One pass; returns the first and last receive time delivered (undefined when none was). */
  async #pass(
    startUs: number,
    shiftUs: number,
  ): Promise<{ firstUs: number; lastUs: number } | undefined> {
    const o = this.#o;
    const status = o.status;
    const toUs = o.toUs ?? Infinity;
    let firstUs = NaN;
    let lastUs = -Infinity;
    let wallStart = 0;
    let sinceTurn = 0;
    const onBad = (bad: BadLine) => this.#bad(bad);
    for await (const r of (o.reader ?? readTardisLines)(o.path, { onBad })) {
      if (this.#closed) break;
      status.set("offset", r.offset);
      if (r.receiveTimeUs < lastUs) {
        this.#bad({
          file: r.file,
          offset: r.offset,
          reason: "receive time earlier than the line before",
        });
        continue;
      }
      if (r.receiveTimeUs < startUs) continue;
      if (r.receiveTimeUs > toUs) break;
      lastUs = r.receiveTimeUs;
      if (firstUs !== firstUs) {
        firstUs = r.receiveTimeUs;
        wallStart = performance.now();
      }
      if (this.#speed !== Infinity) {
        const lead = wallStart + (r.receiveTimeUs - firstUs) / 1000 / this.#speed -
          performance.now();
        if (lead >= SLEEP_MIN_MS) {
          await this.#sleep(lead);
          sinceTurn = 0;
        }
      }
      while (o.hasRoom !== undefined && !o.hasRoom() && !this.#closed) {
        status.add("waits", 1);
        await this.#sleep(ROOM_WAIT_MS);
        sinceTurn = 0;
      }
      if (++sinceTurn >= RECORDS_PER_TURN) {
        await this.#sleep(0); // let timers (housekeeping, lease checks) run
        sinceTurn = 0;
      }
      if (this.#closed) break;
      this.#deliver(r, (r.receiveTimeUs + shiftUs) / 1000);
    }
    return firstUs === firstUs ? { firstUs, lastUs } : undefined;
  }

  #deliver(r: ReplayRecord, atMs: number): void {
    const o = this.#o;
    o.status.set("clockMs", atMs);
    o.status.add("records", 1);
    if (o.onClock) {
      try {
        o.onClock(atMs);
      } catch (e) {
        if (o.onError) o.onError(e);
        else this.#log.error("replay callback failed:", e);
      }
    }
    if (atMs >= this.#nextSweepMs) {
      // Staleness on the recorded clock, every 100 ms of it.
      this.#nextSweepMs = atMs + 100;
      for (let id = 0; id < this.#state.length; id++) {
        if (this.#lastFrame[id] !== -Infinity) this.#refresh(id, atMs);
      }
    }
    const text = r.text;
    // Only the stream name at the start is looked at (no scan of the message).
    const end = text.startsWith(STREAM_PREFIX) ? text.indexOf('"', STREAM_PREFIX.length) : -1;
    if (end > 0 && text.startsWith(SNAPSHOT_SUFFIX, end - SNAPSHOT_SUFFIX.length)) {
      this.#snapshot(r, text.slice(STREAM_PREFIX.length, end - SNAPSHOT_SUFFIX.length), atMs);
      return;
    }
    try {
      o.onMessage(text, atMs);
    } catch (e) {
      if (o.onError) o.onError(e);
      else this.#log.error("replay callback failed:", e);
    }
  }

  #snapshot(r: ReplayRecord, symbol: string, atMs: number): void {
    const id = this.#ids.get(symbol);
    if (id === undefined || this.#o.onSnapshot === undefined) return;
    const body = snapshotBody(r.text);
    if (body === undefined) {
      this.#bad({ file: r.file, offset: r.offset, reason: "snapshot line without a data object" });
      return;
    }
    this.#call(() => this.#o.onSnapshot!(id, body, atMs));
  }

  #bad(bad: BadLine): void {
    const n = this.#o.status.get("badLines") + 1;
    this.#o.status.set("badLines", n);
    if (n <= BAD_LINES_LOGGED || n % 1000 === 0) {
      this.#log.warn(
        `replay: bad line ${n} in ${bad.file} at byte ${bad.offset}: ${bad.reason}; skipped` +
          (n === BAD_LINES_LOGGED ? " (further bad lines are logged every 1000)" : ""),
      );
    }
  }
}

const STREAM = /^\{"stream":"([^"]{1,200})"/;

/**
 * The stream name of a combined-stream message (`btcusdt@depth20@100ms`),
 * read from its start; undefined when it does not start like one.
 *
 * @example
 * ```ts
 * import { streamOf } from "./replay_feed.ts";
 * streamOf('{"stream":"btcusdt@depthSnapshot","generated":true,"data":{}}'); // "btcusdt@depthSnapshot"
 * ```
 */
export function streamOf(text: string): string | undefined {
  return STREAM.exec(text)?.[1];
}

/** The REST body of a recorded snapshot line (the text of its `data` member). */
function snapshotBody(text: string): string | undefined {
  const at = text.indexOf('"data":');
  const end = text.lastIndexOf("}");
  if (at < 0 || end <= at) return undefined;
  return text.slice(at + 7, end);
}
