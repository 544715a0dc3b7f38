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
 * - **Reading.** lib/record's reader (`openRecording`): a recording
 *   directory (`DIR/<venue>/YYYY-MM-DD/HH.dwrec.zst`, `.partial` included), one
 *   `.dwrec.zst`, or a tardis-format `.json.gz` / `.zst` / text file; records
 *   are pulled one at a time from a decompressed block, and only an exchange
 *   message is turned into a string (what `onMessage` takes).
 * - **Window.** Records before `fromUs` are skipped (the index finds the
 *   block to start in); the first record after `toUs` ends the pass. In diff
 *   mode the pass starts at the earliest of the symbols' last snapshots at or
 *   before `fromUs` (recorded REST snapshots and the recorder's generated
 *   ones, written at every 5-minute boundary): the 5 minutes before `fromUs`
 *   are scanned first, then 10, 20, … earlier until every symbol has one or
 *   the recording's start is reached. The records from there to `fromUs` warm
 *   the books up: delivered at once (not paced) and without `onClock`, so
 *   diff books are first emitted at `fromUs`.
 * - **Disconnects.** A recorded `<symbol>@disconnect` marker is not given to
 *   `onMessage`: the symbol goes through Connecting (the ingest resets its
 *   book, as it did live) and is Live again at its next accepted frame.
 * - **Loop.** With `loop`, the pass starts over at the end, like a reconnect
 *   to an exchange that restarted: every symbol goes through Connecting (the
 *   ingest resets its books) and the receive times are shifted by the length
 *   of the passes before, so the clock never runs backwards.
 * - **Bad input.** Everything the reader counts (a corrupt or truncated
 *   block, a missing or wrong index, a line that is not `<time> <message>`, a
 *   time earlier than one before it, a file that went away) is counted
 *   (`badLines`), logged with file and offset and skipped; reading goes on
 *   with the next good line or block.
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
 * declare const path: string; // a recording directory, a .dwrec.zst or a tardis file
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
import { openRecording, type ReadIssue, type RecordReader } from "../record/mod.ts";

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
  /** No accepted frame of a symbol for this long (recorded time) marks it stale. Default 2000 ms. */
  staleMs?: number;
  /** Where bad lines and read errors are reported. Default `console`. */
  log?: Pick<Console, "warn" | "error">;
  /** Called when a callback throws (the replay goes on). Default: log it. */
  onError?: (error: unknown) => void;
}

/** Wall-clock lead below which a paced record is delivered without sleeping, ms. */
const SLEEP_MIN_MS = 2;
/**
 * Wall time between two turns of the event loop at full speed (timers such as
 * housekeeping and lease checks run then), ms. A turn costs a timer (≈ 1–3 ms
 * on a loaded machine), so turns are paced by time, not by record count.
 */
const TURN_MS = 50;
/** Records between two looks at the clock for {@link TURN_MS}. */
const TURN_CHECK_RECORDS = 256;
/** How long the feed sleeps while the ring is full, ms. */
const ROOM_WAIT_MS = 1;
/** Bad input logged in full; after that one line every 1000. */
const BAD_LINES_LOGGED = 20;
/** Gap between the last record of a pass and the first of the next (loop), µs. */
const LOOP_GAP_US = 1000_000;

/** Width of the recorder's snapshot period: generated snapshots follow each boundary, µs. */
const SNAPSHOT_PERIOD_US = 300_000_000;

const SNAPSHOT_SUFFIX = "@depthSnapshot";
const DISCONNECT_SUFFIX = "@disconnect";
const STREAM_PREFIX = '{"stream":"';
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PREFIX_BYTES = encoder.encode(STREAM_PREFIX);
const SNAPSHOT_BYTES = encoder.encode(SNAPSHOT_SUFFIX);
const DISCONNECT_BYTES = encoder.encode(DISCONNECT_SUFFIX);
const QUOTE = 34;
/** What a record is, from its stream name. */
const MESSAGE = 0, SNAPSHOT = 1, DISCONNECT = 2;

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
    if (o.diff && o.fromUs !== undefined) startUs = this.#seedStart(o.fromUs);
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
  #seedStart(fromUs: number): number {
    const path = this.#o.path;
    const n = this.#o.symbols.length;
    const last = new Float64Array(n).fill(NaN);
    let found = 0;
    // A tardis text file is read whole by every reader: scan it once.
    const blocks = /\.dwrec\.zst(\.partial)?$/.test(path) || Deno.statSync(path).isDirectory;
    const head = openRecording(path, { keepIssues: 0 });
    const firstUs = head.next() ? head.receiveTimeUs : fromUs;
    head.close();
    let hi = fromUs;
    let lo = blocks ? Math.floor(fromUs / SNAPSHOT_PERIOD_US) * SNAPSHOT_PERIOD_US : -Infinity;
    for (let width = SNAPSHOT_PERIOD_US; !this.#closed; width *= 2) {
      // Issues are counted by the pass that delivers the records, not here.
      const r = openRecording(path, { fromUs: lo, toUs: hi, keepIssues: 0 });
      const window = new Float64Array(n).fill(NaN);
      while (r.next()) {
        if (kindOf(r.bytes, r.start, r.end) !== SNAPSHOT) continue;
        const id = this.#symbolAt(r.bytes, r.start, SNAPSHOT_BYTES.length);
        if (id >= 0) window[id] = r.receiveTimeUs;
      }
      r.close();
      for (let id = 0; id < n; id++) {
        if (last[id] !== last[id] && window[id] === window[id]) {
          last[id] = window[id];
          found++;
        }
      }
      if (found === n || lo <= firstUs) break;
      hi = lo - 1;
      lo = hi + 1 - width;
    }
    let start = Infinity;
    for (let id = 0; id < n; id++) if (last[id] === last[id]) start = Math.min(start, last[id]);
    return start === Infinity ? fromUs : start;
  }

  /** The id of the symbol named by the stream of the message at `start` (suffix of `suffixLength` bytes), or -1. */
  #symbolAt(bytes: Uint8Array, start: number, suffixLength: number): number {
    const from = start + PREFIX_BYTES.length;
    const end = bytes.indexOf(QUOTE, from) - suffixLength;
    return this.#ids.get(decoder.decode(bytes.subarray(from, end))) ?? -1;
  }

  /** One pass; returns the first and last receive time delivered (undefined when none was). */
  async #pass(
    startUs: number,
    shiftUs: number,
  ): Promise<{ firstUs: number; lastUs: number } | undefined> {
    const o = this.#o;
    const status = o.status;
    // Records before `fromUs` (a diff-mode seek starts at earlier snapshots) warm
    // the books up: not paced, no clock.
    const paceFromUs = o.fromUs ?? -Infinity;
    const reader = openRecording(o.path, {
      fromUs: startUs,
      toUs: o.toUs,
      keepIssues: 0,
      onIssue: (issue) => this.#issue(issue),
    });
    let firstUs = NaN;
    let paceUs = NaN;
    let lastUs = -Infinity;
    let wallStart = 0;
    let sinceTurn = 0;
    let turnAt = performance.now();
    try {
      while (!this.#closed && reader.next()) {
        const us = reader.receiveTimeUs;
        status.set("offset", reader.offset);
        if (us < lastUs) continue; // out of order: counted by the reader, skipped
        lastUs = us;
        if (firstUs !== firstUs) firstUs = us;
        const warmUp = us < paceFromUs;
        if (!warmUp && paceUs !== paceUs) {
          paceUs = us;
          wallStart = performance.now();
        }
        if (this.#speed !== Infinity && !warmUp) {
          const lead = wallStart + (us - paceUs) / 1000 / this.#speed - performance.now();
          if (lead >= SLEEP_MIN_MS) {
            await this.#sleep(lead);
            turnAt = performance.now();
          }
        }
        while (o.hasRoom !== undefined && !o.hasRoom() && !this.#closed) {
          status.add("waits", 1);
          await this.#sleep(ROOM_WAIT_MS);
          turnAt = performance.now();
        }
        if (++sinceTurn >= TURN_CHECK_RECORDS) {
          sinceTurn = 0;
          if (performance.now() - turnAt >= TURN_MS) {
            await this.#sleep(0); // let timers (housekeeping, lease checks) run
            turnAt = performance.now();
          }
        }
        if (this.#closed) break;
        this.#deliver(reader, (us + shiftUs) / 1000, warmUp);
      }
    } finally {
      reader.close();
    }
    return firstUs === firstUs ? { firstUs, lastUs } : undefined;
  }

  #deliver(r: RecordReader, atMs: number, warmUp: boolean): void {
    const o = this.#o;
    o.status.set("clockMs", atMs);
    o.status.add("records", 1);
    if (o.onClock && !warmUp) {
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
    // Only the stream name at the start is looked at (no scan of the message).
    const kind = kindOf(r.bytes, r.start, r.end);
    if (kind === SNAPSHOT) this.#snapshot(r, atMs);
    else if (kind === DISCONNECT) this.#disconnect(r);
    else {
      try {
        o.onMessage(r.text(), atMs);
      } catch (e) {
        if (o.onError) o.onError(e);
        else this.#log.error("replay callback failed:", e);
      }
    }
  }

  #snapshot(r: RecordReader, atMs: number): void {
    const id = this.#symbolAt(r.bytes, r.start, SNAPSHOT_BYTES.length);
    if (id < 0 || this.#o.onSnapshot === undefined) return;
    const body = snapshotBody(r.text());
    if (body === undefined) {
      this.#issue({
        kind: "bad-line",
        file: r.file,
        offset: r.offset,
        message: "snapshot line without a data object",
      });
      return;
    }
    this.#call(() => this.#o.onSnapshot!(id, body, atMs));
  }

  /** A recorded disconnect: the symbol goes through Connecting, as it did live. */
  #disconnect(r: RecordReader): void {
    const id = this.#symbolAt(r.bytes, r.start, DISCONNECT_BYTES.length);
    if (id < 0) return;
    this.#lastFrame[id] = -Infinity;
    this.#resyncing[id] = 0;
    this.#refresh(id, NaN);
  }

  #issue(issue: ReadIssue): void {
    const n = this.#o.status.get("badLines") + 1;
    this.#o.status.set("badLines", n);
    if (n <= BAD_LINES_LOGGED || n % 1000 === 0) {
      const where = issue.lineOffset === undefined
        ? `at byte ${issue.offset}`
        : `in the block at byte ${issue.offset}, line at byte ${issue.lineOffset} of the block`;
      this.#log.warn(
        `replay: bad input ${n} (${issue.kind}) in ${issue.file} ${where}: ${issue.message}; skipped` +
          (n === BAD_LINES_LOGGED ? " (further bad input is logged every 1000)" : ""),
      );
    }
  }
}

/** {@link MESSAGE}, {@link SNAPSHOT} or {@link DISCONNECT}: the suffix of the stream name at the message's start. */
function kindOf(bytes: Uint8Array, start: number, end: number): number {
  const p = PREFIX_BYTES;
  if (end - start <= p.length) return MESSAGE;
  for (let i = 0; i < p.length; i++) if (bytes[start + i] !== p[i]) return MESSAGE;
  // Stream names are short: look for the closing quote in the first 200 bytes only.
  const limit = Math.min(end, start + p.length + 200);
  let q = start + p.length;
  while (q < limit && bytes[q] !== QUOTE) q++;
  if (q === limit) return MESSAGE;
  if (endsWith(bytes, q, SNAPSHOT_BYTES)) return SNAPSHOT;
  if (endsWith(bytes, q, DISCONNECT_BYTES)) return DISCONNECT;
  return MESSAGE;
}

function endsWith(bytes: Uint8Array, end: number, suffix: Uint8Array): boolean {
  const at = end - suffix.length;
  if (at < 0) return false;
  for (let i = 0; i < suffix.length; i++) if (bytes[at + i] !== suffix[i]) return false;
  return true;
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
