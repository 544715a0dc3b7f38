/**
 * The JetStream stream that keeps the newest analytics frames of every
 * symbol (docs/design.md §10), so a dashboard node that starts watching a
 * symbol gets its history at once instead of waiting for it to accumulate:
 * {@link FrameHistoryStream.ensure} creates or updates the stream
 * `DW_V1_AN` over `dw.v1.an.>`, {@link FrameHistoryStream.lastFrames} reads
 * the newest n frames of one symbol, oldest first.
 *
 * The stream: `max_msgs_per_subject` = the history depth (default 100, the
 * server's history depth), a `max_bytes` bound with discard-old (the oldest
 * frames of any symbol go first when it is full), memory storage by default
 * (the history is a cache the publishers refill within seconds — 100 frames
 * at 10 frames/s per symbol — so it need not survive a NATS restart, and
 * memory storage spares the server writing every frame, 14 MB/s at 20,000
 * frames/s of 700 bytes, to disk), and direct get allowed (2.9 serves
 * single-message direct gets; batched and multi-last direct gets need 2.11).
 *
 * How the history is read (measured on 2.9.10, see BENCHMARKS.md "NATS bus
 * hop"): first one direct get of the subject's last message (none: an empty
 * history at once, nothing waits); n = 1 stops there; n > 1 then reads the
 * subject through an ordered consumer filtered to that one subject
 * (everything the stream keeps for it when the consumer starts, at most the
 * depth, in one flow), keeping the newest n. Walking the subject with a
 * direct get per message costs one round trip each.
 *
 * @example
 * ```ts
 * import { connect } from "@nats-io/transport-node";
 * import { FrameHistoryStream } from "./frame_history_stream.ts";
 * const nc = await connect({ servers: "nats://127.0.0.1:4222" });
 * const history = new FrameHistoryStream(nc, { depth: 100 });
 * await history.ensure();
 * const frames = await history.lastFrames("binance", "BTCUSDT", 100); // oldest first
 * await nc.close();
 * ```
 * @module
 */

import type { NatsConnection } from "@nats-io/nats-core";
import {
  DiscardPolicy,
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { FRAME_WILDCARD, frameSubject } from "./bus_subjects.ts";

/** The stream's name (versioned like its subjects). */
export const FRAME_HISTORY_STREAM = "DW_V1_AN";

/** Options of {@link FrameHistoryStream}. */
export interface FrameHistoryStreamOptions {
  /** Frames kept per symbol (`max_msgs_per_subject`). Default 100 (the server's history depth). */
  depth?: number;
  /**
   * Bytes the stream may hold (`max_bytes`, discard old). Default 128 MiB:
   * 100 frames of ~1,000 symbols at ~1.2 KB a frame.
   */
  maxBytes?: number;
  /** Where the server keeps it. Default `"memory"` (a cache: see the module documentation). */
  storage?: "memory" | "file";
  /** Timeout of each JetStream API request, ms. Default 5000. */
  timeoutMs?: number;
}

/** Reads a symbol's newest frames (what {@link FrameHistoryStream} offers subscribers). */
export interface FrameHistorySource {
  /** The newest `n` frames of `venue`/`symbol`, oldest first (fewer when fewer are kept). */
  lastFrames(venue: string, symbol: string, n: number): Promise<Uint8Array[]>;
}

/**
 * The `DW_V1_AN` stream: create or update it, read a symbol's newest frames.
 *
 * @example
 * ```ts
 * import { connect } from "@nats-io/transport-node";
 * import { FrameHistoryStream } from "./frame_history_stream.ts";
 * const nc = await connect({ servers: "nats://127.0.0.1:4222" });
 * const history = new FrameHistoryStream(nc);
 * await history.ensure();
 * (await history.lastFrames("binance", "BTCUSDT", 1)).length; // 0 or 1
 * await nc.close();
 * ```
 */
export class FrameHistoryStream implements FrameHistorySource {
  /** Frames kept per symbol. */
  readonly depth: number;
  /** The stream's byte bound. */
  readonly maxBytes: number;
  /** The stream's storage. */
  readonly storage: "memory" | "file";
  readonly #nc: NatsConnection;
  readonly #timeoutMs: number;
  #jsm: JetStreamManager | undefined;
  #js: JetStreamClient | undefined;
  #following = false;
  /** Times {@link ensure} succeeded (at start and after each reconnect). */
  ensured = 0;
  /** Re-ensures after a reconnect that failed (the error is in {@link lastEnsureError}). */
  ensureFailures = 0;
  /** The last re-ensure error's message (`""` when none failed). */
  lastEnsureError = "";

  /**
   * @param nc A connected NATS connection with JetStream enabled on the server.
   * @param options See {@link FrameHistoryStreamOptions}.
   * @throws {RangeError} when an option is out of range.
   */
  constructor(nc: NatsConnection, options: FrameHistoryStreamOptions = {}) {
    this.#nc = nc;
    this.depth = options.depth ?? 100;
    this.maxBytes = options.maxBytes ?? 128 * 1024 * 1024;
    this.storage = options.storage ?? "memory";
    this.#timeoutMs = options.timeoutMs ?? 5000;
    if (!Number.isInteger(this.depth) || this.depth < 1) {
      throw new RangeError(`FrameHistoryStream: depth ${this.depth} is not an integer >= 1`);
    }
    if (!Number.isInteger(this.maxBytes) || this.maxBytes < 1024) {
      throw new RangeError(
        `FrameHistoryStream: maxBytes ${this.maxBytes} is not an integer >= 1024`,
      );
    }
    if (this.storage !== "memory" && this.storage !== "file") {
      throw new RangeError(
        `FrameHistoryStream: storage ${JSON.stringify(this.storage)} is not "memory" or "file"`,
      );
    }
  }

  /** The stream configuration {@link ensure} sets. */
  config(): Partial<StreamConfig> & { name: string } {
    return {
      name: FRAME_HISTORY_STREAM,
      subjects: [FRAME_WILDCARD],
      retention: RetentionPolicy.Limits,
      storage: this.storage === "memory" ? StorageType.Memory : StorageType.File,
      max_msgs_per_subject: this.depth,
      max_bytes: this.maxBytes,
      discard: DiscardPolicy.Old,
      allow_direct: true,
      num_replicas: 1,
    };
  }

  /**
   * Create the stream, or update its limits when it exists (every node runs
   * this at start; the last one's limits win). After it succeeded once, it
   * runs again after every reconnect (a restarted server has lost a memory
   * stream, definition included); a failure then is counted in
   * {@link ensureFailures}, never thrown.
   *
   * @throws {Error} when JetStream is not enabled, or the existing stream has
   *   another storage (the server cannot change it: delete the stream first).
   */
  async ensure(): Promise<void> {
    await this.#ensureOnce();
    this.ensured++;
    if (!this.#following) {
      this.#following = true;
      this.#reensureOnReconnect();
    }
  }

  #reensureOnReconnect(): void {
    (async () => {
      for await (const s of this.#nc.status()) {
        if (s.type !== "reconnect") continue;
        try {
          await this.#ensureOnce();
          this.ensured++;
        } catch (e) {
          this.ensureFailures++;
          this.lastEnsureError = e instanceof Error ? e.message : String(e);
        }
      }
    })().catch(() => {
      // The status iterator ends (or fails) only with the connection.
    });
  }

  async #ensureOnce(): Promise<void> {
    const jsm = await this.#manager();
    const wanted = this.config();
    let existing;
    try {
      existing = await jsm.streams.info(FRAME_HISTORY_STREAM);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await jsm.streams.add(wanted);
      return;
    }
    if (existing.config.storage !== wanted.storage) {
      throw new Error(
        `FrameHistoryStream.ensure: stream ${FRAME_HISTORY_STREAM} exists with ${existing.config.storage} ` +
          `storage, expected ${wanted.storage}; the server cannot change a stream's storage ` +
          `(delete the stream, e.g. \`nats stream rm ${FRAME_HISTORY_STREAM}\`, or keep its storage)`,
      );
    }
    await jsm.streams.update(FRAME_HISTORY_STREAM, { ...existing.config, ...wanted });
  }

  /**
   * The newest `n` frames of `venue`/`symbol`, oldest first; fewer when the
   * stream keeps fewer, none when it keeps none. Each frame is its own
   * buffer (the caller may keep it).
   *
   * @throws {TypeError} when `venue` or `symbol` cannot be a subject token.
   * @throws {Error} when the stream does not exist or NATS does not answer within the timeout.
   */
  async lastFrames(venue: string, symbol: string, n: number): Promise<Uint8Array[]> {
    const subject = frameSubject(venue, symbol);
    const want = Math.min(Math.max(0, Math.floor(n)), this.depth);
    if (want === 0) return [];
    const jsm = await this.#manager();
    const last = await jsm.direct.getMessage(FRAME_HISTORY_STREAM, { last_by_subj: subject });
    if (last === null) return [];
    if (want === 1) return [last.data];
    return await this.#readSubject(subject, want);
  }

  /**
   * The messages the stream keeps of `subject` when an ordered consumer
   * starts (at most the depth: it stops after that many, or when nothing is
   * pending, so frames published meanwhile never keep it reading); the
   * newest `want` of them, oldest first.
   */
  async #readSubject(subject: string, want: number): Promise<Uint8Array[]> {
    const js = await this.#client();
    const consumer = await js.consumers.get(FRAME_HISTORY_STREAM, { filter_subjects: subject });
    const out: Uint8Array[] = [];
    try {
      const messages = await consumer.fetch({
        max_messages: this.depth,
        expires: this.#timeoutMs,
      });
      for await (const m of messages) {
        out.push(m.data);
        if (out.length > want) out.shift();
        if (m.info.pending === 0) break;
      }
    } finally {
      await consumer.delete().catch(() => {
        // An ordered consumer also goes away on its own once inactive.
      });
    }
    return out;
  }

  /**
   * Read a subject with one direct get per message, walking forward from
   * its first kept message (`next_by_subj`): one round trip per frame. Kept
   * for the benchmark that compares it with {@link lastFrames}.
   */
  async lastFramesByDirectWalk(venue: string, symbol: string, n: number): Promise<Uint8Array[]> {
    const subject = frameSubject(venue, symbol);
    const jsm = await this.#manager();
    const out: Uint8Array[] = [];
    let seq = 0;
    for (;;) {
      const m = await jsm.direct.getMessage(FRAME_HISTORY_STREAM, {
        next_by_subj: subject,
        seq: seq + 1,
      });
      if (m === null) break;
      out.push(m.data);
      if (out.length > n) out.shift();
      seq = m.seq;
    }
    return out;
  }

  async #manager(): Promise<JetStreamManager> {
    this.#jsm ??= await jetstreamManager(this.#nc, { timeout: this.#timeoutMs });
    return this.#jsm;
  }

  async #client(): Promise<JetStreamClient> {
    this.#js ??= jetstream(this.#nc, { timeout: this.#timeoutMs });
    return await Promise.resolve(this.#js);
  }
}

/** Whether a JetStream API error says "stream not found". */
function isNotFound(e: unknown): boolean {
  const code = (e as { api_error?: { err_code?: number }; code?: number })?.api_error?.err_code;
  if (code === 10059) return true;
  return e instanceof Error && /stream not found/i.test(e.message);
}
