/**
 * Starts, watches, restarts and stops the two pipeline workers, and with
 * {@link SupervisorOptions.recorder} the recorder worker. The rings and
 * counters live in SharedArrayBuffers owned by the main thread, so a restarted
 * worker re-attaches and nothing committed to a ring is lost; a killed
 * analytics worker loses at most the one frame it had taken, which is counted
 * (`raw popped − analysed` at restart time).
 *
 * A worker is restarted when it throws (an `error` event), when it stops
 * beating (its heartbeat counter is unchanged for `hungMs`), or when
 * {@link Supervisor.kill} ends it (tests). Restarts back off exponentially
 * (`restartBaseMs` doubling to `restartCapMs`, reset after a minute of health).
 *
 * @example
 * ```ts
 * import { Supervisor } from "./supervisor.ts";
 * import { BookSlotLayout } from "../pipeline/book_slot.ts";
 * import { FrameSlotLayout } from "../pipeline/frame_slot.ts";
 * import { PipelineCounters } from "../pipeline/pipeline_counters.ts";
 * import { SpscRing } from "../pipeline/spsc_ring.ts";
 * const symbols = ["btcusdt"];
 * const sup = new Supervisor({
 *   rawRing: SpscRing.create({ slotBytes: new BookSlotLayout(20).slotBytes }),
 *   processedRing: SpscRing.create({ slotBytes: new FrameSlotLayout({ levels: 20 }).slotBytes }),
 *   counters: PipelineCounters.create(symbols.length + 1),
 *   ingest: { symbols, wsUrl: "wss://stream.binance.com:9443" },
 *   analytics: { symbols: symbols.length },
 * });
 * await sup.start();
 * await sup.stop(); // ingest first, then the rings drain
 * ```
 * @module
 */

import type { SpscRing } from "../pipeline/spsc_ring.ts";
import {
  ANALYTICS_ANALYSED,
  ANALYTICS_HEARTBEAT,
  INGEST_HEARTBEAT,
  type PipelineCounters,
} from "../pipeline/pipeline_counters.ts";
import type { IngestStartMessage } from "../ingest/ingest_worker.ts";
import type { AnalyticsStartMessage } from "../analytics/analytics_worker.ts";
import { WorkerLease } from "../pipeline/worker_lease.ts";
import type { SupervisorView, WorkerName, WorkerState } from "../metrics/metrics_sources.ts";
import type { RecordRing } from "../pipeline/record_ring.ts";
import type { RecorderStatus } from "../pipeline/recorder_status.ts";
import type { RecordStartMessage } from "../record/record_worker.ts";

/** The workers a supervisor runs: the two pipeline workers and, when recording, the recorder. */
export type SupervisedWorker = WorkerName | "recorder";

/** What the supervisor needs to run the recorder worker ({@link SupervisorOptions.recorder}). */
export interface SupervisorRecorder {
  /** The record ring: the ingest worker produces into it, the recorder consumes. */
  ring: RecordRing;
  /** The recorder's shared counters (its heartbeat is one of them). */
  status: RecorderStatus;
  /** The recording's directory and bounds. */
  options: RecordStartMessage["options"];
}

/** Options of {@link Supervisor}. */
export interface SupervisorOptions {
  /** The raw ring (ingest → analytics). Required. */
  rawRing: SpscRing;
  /** The processed ring (analytics → main). Required. */
  processedRing: SpscRing;
  /** Shared counters. Required. */
  counters: PipelineCounters;
  /** Options passed to the ingest worker. Required. */
  ingest: IngestStartMessage["options"];
  /** Options passed to the analytics worker. Required. */
  analytics: AnalyticsStartMessage["options"];
  /** A worker whose heartbeat does not move for this long is restarted. Default 5000 ms. */
  hungMs?: number;
  /** First restart delay, doubled per consecutive restart. Default 200 ms. */
  restartBaseMs?: number;
  /** Largest restart delay. Default 5000 ms. */
  restartCapMs?: number;
  /** Where restarts are reported. Default `console`. */
  log?: Pick<Console, "warn" | "error" | "info">;
  /** Log level and format handed to the workers. Default info, text. */
  workerLog?: IngestStartMessage["log"];
  /**
   * Record the raw market (`--record-dir`): a third worker drains this ring to
   * disk, and the ingest worker taps every message into it. Default none (no
   * recorder, no ring).
   */
  recorder?: SupervisorRecorder;
}

interface Slot {
  name: SupervisedWorker;
  worker?: Worker;
  state: WorkerState;
  restarts: number;
  consecutive: number;
  lastBeat: number;
  lastBeatAt: number;
  healthySince: number;
  timer?: ReturnType<typeof setTimeout>;
  /** A replaced generation that may still run (its lease revoked); ended once it released. */
  retired?: Worker;
}

/**
 * How long a replacement waits for the replaced generation to release its
 * lease (it checks before every frame, and every 50 to 100 ms when idle).
 */
const RELEASE_WAIT_MS = 2000;

const WORKER_URLS: Record<SupervisedWorker, URL> = {
  ingest: new URL("../ingest/ingest_worker.ts", import.meta.url),
  analytics: new URL("../analytics/analytics_worker.ts", import.meta.url),
  recorder: new URL("../record/record_worker.ts", import.meta.url),
};

/**
 * A recorder whose heartbeat does not move for this long is restarted, ms: it
 * writes synchronously, and a replacement would wait on the same slow disk.
 */
const RECORDER_HUNG_MS = 60_000;

/** How long a stopping recorder may take to write its last block and close its file, ms. */
const RECORDER_STOP_MS = 5000;

/**
 * Runs the ingest and analytics workers (and the recorder, when recording).
 *
 * @example
 * ```ts
 * import { Supervisor } from "./supervisor.ts";
 * declare const supervisor: Supervisor; // started
 * supervisor.state("analytics"); // "running"
 * supervisor.restarts("ingest"); // 0
 * ```
 */
export class Supervisor implements SupervisorView {
  readonly #o: SupervisorOptions;
  readonly #slots: Record<WorkerName, Slot> & { recorder?: Slot };
  readonly #log: Pick<Console, "warn" | "error" | "info">;
  #watchdog?: ReturnType<typeof setInterval>;
  #stopping = false;
  /** Which generation of each worker may touch the rings (see lib/pipeline/worker_lease.ts). */
  readonly #lease = WorkerLease.create();
  #inFlightLost = 0;

  /**
   * Creates the supervisor with both workers stopped; {@link Supervisor.start} spawns them.
   *
   * @param options see {@link SupervisorOptions}.
   */
  constructor(options: SupervisorOptions) {
    this.#o = options;
    this.#log = options.log ?? console;
    const slot = (name: SupervisedWorker): Slot => ({
      name,
      state: "stopped",
      restarts: 0,
      consecutive: 0,
      lastBeat: -1,
      lastBeatAt: 0,
      healthySince: 0,
    });
    this.#slots = { ingest: slot("ingest"), analytics: slot("analytics") };
    if (options.recorder) this.#slots.recorder = slot("recorder");
  }

  /** Start the workers (consumers first: the recorder, analytics, then ingest). */
  async start(): Promise<void> {
    if (this.#slots.recorder) await this.#spawn(this.#slots.recorder);
    await this.#spawn(this.#slots.analytics);
    await this.#spawn(this.#slots.ingest);
    const hungMs = this.#o.hungMs ?? 5000;
    this.#watchdog = setInterval(() => this.#check(hungMs), Math.min(1000, hungMs / 4));
  }

  /** State of a worker ("stopped" for a recorder that does not run). */
  state(worker: SupervisedWorker): WorkerState {
    return this.#slots[worker]?.state ?? "stopped";
  }

  /** Restarts of a worker so far. */
  restarts(worker: SupervisedWorker): number {
    return this.#slots[worker]?.restarts ?? 0;
  }

  /** The recorder worker's state and restarts ("stopped", 0 when not recording). */
  recorder(): { state: WorkerState; restarts: number } {
    return { state: this.state("recorder"), restarts: this.restarts("recorder") };
  }

  /** Frames lost in flight by restarts of the analytics worker. */
  get inFlightLost(): number {
    return this.#inFlightLost;
  }

  /** End a worker abruptly, as a crash would (for tests and operators); it is restarted. */
  kill(worker: SupervisedWorker): void {
    const slot = this.#slots[worker];
    if (!slot?.worker) return;
    this.#restart(slot, "killed");
  }

  /**
   * Stop gracefully: the ingest worker closes its connections, the raw ring is
   * closed, the analytics worker drains it and closes the processed ring; the
   * record ring is closed too and the recorder writes what is left and closes
   * its file (it may take up to 5 s more than `timeoutMs`).
   * Anything not done within `timeoutMs` is terminated.
   */
  async stop(timeoutMs = 1000): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#watchdog);
    for (const slot of Object.values(this.#slots)) {
      clearTimeout(slot.timer);
      slot.retired?.terminate(); // its lease is revoked already
      slot.retired = undefined;
    }
    const deadline = performance.now() + timeoutMs;
    const ingest = this.#slots.ingest;
    if (ingest.worker) {
      await this.#request(ingest.worker, { type: "stop" }, "stopped", timeoutMs / 2);
      ingest.worker.terminate();
      ingest.worker = undefined;
    }
    ingest.state = "stopped";
    this.#o.rawRing.close();
    const recording = this.#stopRecorder();
    const analytics = this.#slots.analytics;
    if (analytics.worker) {
      const left = Math.max(50, deadline - performance.now());
      await this.#waitFor(analytics.worker, "stopped", left);
      analytics.worker.terminate();
      analytics.worker = undefined;
    }
    analytics.state = "stopped";
    this.#o.processedRing.close();
    await recording;
  }

  /** The ingest has stopped: close the record ring; the recorder writes what is left and closes its file. */
  async #stopRecorder(): Promise<void> {
    const slot = this.#slots.recorder;
    if (!slot) return;
    this.#o.recorder!.ring.close();
    if (slot.worker) {
      const closed = await this.#request(
        slot.worker,
        { type: "stop" },
        "stopped",
        RECORDER_STOP_MS,
      );
      if (!closed) {
        this.#log.error(
          `recorder did not close its file within ${RECORDER_STOP_MS} ms; ` +
            "its open block is lost (the .partial file is continued at the next start)",
        );
      }
      slot.worker.terminate();
      slot.worker = undefined;
    }
    slot.state = "stopped";
  }

  async #spawn(slot: Slot): Promise<void> {
    slot.state = slot.restarts > 0 ? "restarting" : "starting";
    // The previous generation must be off the rings first: terminate() does not
    // stop a running Deno worker, it stops itself once it sees its lease revoked.
    const retired = slot.retired;
    if (retired !== undefined) {
      const previous = this.#lease.lastGranted(slot.name);
      const released = await this.#released(slot.name, previous);
      retired.terminate();
      if (slot.retired === retired) slot.retired = undefined;
      if (!released && !this.#stopping) {
        this.#log.error(
          `${slot.name} worker generation ${previous} did not release its lease within ` +
            `${RELEASE_WAIT_MS} ms (stuck outside its ring loop); starting generation ` +
            `${previous + 1} anyway: if it ever resumes it stops before its next frame`,
        );
      }
    }
    if (this.#stopping || slot.worker !== undefined) return;
    if (slot.name === "analytics" && slot.restarts > 0) this.#countInFlightLost();
    const generation = this.#lease.grant(slot.name);
    const lease = { buffer: this.#lease.buffer, generation };
    const worker = new Worker(WORKER_URLS[slot.name], { type: "module", name: slot.name });
    slot.worker = worker;
    worker.onerror = (e) => {
      e.preventDefault();
      if (slot.worker !== worker) return;
      this.#log.error(`${slot.name} worker failed: ${e.message}`);
      this.#restart(slot, "error");
    };
    const message = this.#startMessage(slot.name, lease);
    const started = await this.#request(worker, message, "started", 10_000);
    if (slot.worker !== worker) return;
    if (!started) {
      this.#log.error(`${slot.name} worker did not start within 10 s`);
      this.#restart(slot, "start timeout");
      return;
    }
    slot.state = "running";
    slot.lastBeat = -1;
    slot.healthySince = performance.now();
  }

  #startMessage(
    name: SupervisedWorker,
    lease: { buffer: SharedArrayBuffer; generation: number },
  ): IngestStartMessage | AnalyticsStartMessage | RecordStartMessage {
    const o = this.#o;
    if (name === "ingest") {
      return {
        type: "start",
        rawRing: o.rawRing.buffer,
        counters: o.counters.buffer,
        options: o.ingest,
        log: o.workerLog,
        lease,
        recordRing: o.recorder?.ring.buffer,
      };
    }
    if (name === "recorder") {
      const r = o.recorder!;
      return {
        type: "start",
        ring: r.ring.buffer,
        status: r.status.buffer,
        options: r.options,
        log: o.workerLog,
        lease,
      };
    }
    return {
      type: "start",
      rawRing: o.rawRing.buffer,
      processedRing: o.processedRing.buffer,
      counters: o.counters.buffer,
      options: o.analytics,
      lease,
    };
  }

  #restart(slot: Slot, why: string): void {
    const old = slot.worker;
    slot.worker = undefined;
    // Fence: the old generation touches no ring once it sees this, releases
    // and ends itself (Deno's terminate() does not stop a worker blocked in
    // its loop). A worker that failed is already gone; any other is ended
    // once it released, before its replacement starts (#spawn).
    this.#lease.revoke(slot.name);
    if (why === "error" || this.#stopping) {
      old?.terminate();
    } else if (old !== undefined) {
      slot.retired?.terminate();
      slot.retired = old;
    }
    if (this.#stopping) return;
    slot.restarts++;
    slot.state = "restarting";
    if (performance.now() - slot.healthySince > 60_000) slot.consecutive = 0;
    const base = this.#o.restartBaseMs ?? 200;
    const delay = Math.min(this.#o.restartCapMs ?? 5000, base * 2 ** slot.consecutive);
    slot.consecutive++;
    this.#log.warn(`${slot.name} worker ${why}; restart #${slot.restarts} in ${delay} ms`);
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => {
      if (!this.#stopping) this.#spawn(slot).catch((e) => this.#log.error(e));
    }, delay);
  }

  /**
   * A dead analytics worker may have taken one frame from the raw ring that it
   * never finished: frames popped but never counted as analysed are lost.
   * Called before the replacement starts, when the old worker is surely gone.
   */
  #countInFlightLost(): void {
    const c = this.#o.counters;
    let analysed = 0;
    for (let s = 0; s < c.symbols; s++) {
      analysed += c.load(c.analyticsSymbol(s, ANALYTICS_ANALYSED));
    }
    const lostSoFar = (this.#o.rawRing.stats().popped - analysed) >>> 0;
    this.#inFlightLost = lostSoFar;
  }

  #check(hungMs: number): void {
    const now = performance.now();
    const c = this.#o.counters;
    for (const slot of Object.values(this.#slots)) {
      if (slot.state !== "running") continue;
      const beat = slot.name === "recorder" ? this.#o.recorder!.status.get("heartbeat") : c.load(
        slot.name === "ingest" ? c.ingest(INGEST_HEARTBEAT) : c.analytics(ANALYTICS_HEARTBEAT),
      );
      // The recorder may block on a slow disk (synchronous writes): it gets longer.
      const limit = slot.name === "recorder" ? Math.max(hungMs, RECORDER_HUNG_MS) : hungMs;
      if (beat !== slot.lastBeat) {
        slot.lastBeat = beat;
        slot.lastBeatAt = now;
      } else if (now - slot.lastBeatAt > limit) {
        this.#restart(slot, `hung (no heartbeat for ${limit} ms)`);
      }
    }
  }

  /** Wait (bounded) until generation `generation` of `name` released its lease. */
  async #released(name: SupervisedWorker, generation: number): Promise<boolean> {
    const deadline = performance.now() + RELEASE_WAIT_MS;
    while (!this.#lease.released(name, generation)) {
      if (this.#stopping || performance.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  #request(worker: Worker, message: unknown, reply: string, timeoutMs: number): Promise<boolean> {
    const answer = this.#waitFor(worker, reply, timeoutMs);
    worker.postMessage(message);
    return answer;
  }

  #waitFor(worker: Worker, reply: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        worker.removeEventListener("message", onMessage);
        resolve(false);
      }, timeoutMs);
      const onMessage = (e: MessageEvent) => {
        if (e.data?.type !== reply) return;
        clearTimeout(timer);
        worker.removeEventListener("message", onMessage);
        resolve(true);
      };
      worker.addEventListener("message", onMessage);
    });
  }
}
