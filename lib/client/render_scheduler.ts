/**
 * Coalesce render requests to at most one render per animation frame.
 *
 * Frames can arrive far faster than the screen refreshes (50/s per symbol
 * and more); each one calls {@linkcode RenderScheduler.request}, which only
 * sets a flag and, if no callback is pending, asks for one animation frame.
 * The render callback then runs once for everything that arrived since the
 * previous render.
 *
 * This module runs in the browser: it must not touch the `Deno` global.
 *
 * @module
 */

/** `requestAnimationFrame`-like scheduler. */
export type RequestFrame = (callback: (time: number) => void) => number;
/** `cancelAnimationFrame`-like canceller. */
export type CancelFrame = (handle: number) => void;

/** Options of {@linkcode RenderScheduler}. */
export interface RenderSchedulerOptions {
  /** Frame scheduler. Default: the global `requestAnimationFrame`. */
  requestFrame?: RequestFrame;
  /** Frame canceller. Default: the global `cancelAnimationFrame`. */
  cancelFrame?: CancelFrame;
}

/**
 * See the module docs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RenderScheduler } from "./render_scheduler.ts";
 * const queued: ((t: number) => void)[] = [];
 * let renders = 0;
 * const s = new RenderScheduler(() => renders++, {
 *   requestFrame: (cb) => queued.push(cb),
 *   cancelFrame: () => {},
 * });
 * for (let i = 0; i < 10; i++) s.request();
 * assert.equal(queued.length, 1);
 * queued[0](0);
 * assert.equal(renders, 1);
 * ```
 */
export class RenderScheduler {
  readonly #render: (time: number) => void;
  readonly #requestFrame: RequestFrame;
  readonly #cancelFrame: CancelFrame;
  readonly #onFrame: (time: number) => void;
  #handle = 0;
  #pending = false;
  #disposed = false;
  #renders = 0;

  /**
   * Creates an idle scheduler: nothing is requested until {@linkcode RenderScheduler.request}.
   *
   * @param render Called at most once per animation frame after a request.
   * @param options See {@linkcode RenderSchedulerOptions}.
   */
  constructor(render: (time: number) => void, options: RenderSchedulerOptions = {}) {
    this.#render = render;
    this.#requestFrame = options.requestFrame ??
      ((cb) => globalThis.requestAnimationFrame(cb));
    this.#cancelFrame = options.cancelFrame ?? ((h) => globalThis.cancelAnimationFrame(h));
    // One bound callback for the scheduler's life: requesting allocates nothing.
    this.#onFrame = (time: number) => {
      this.#pending = false;
      if (this.#disposed) return;
      this.#renders++;
      this.#render(time);
    };
  }

  /** Ask for a render on the next animation frame (no-op if one is pending). */
  request(): void {
    if (this.#pending || this.#disposed) return;
    this.#pending = true;
    this.#handle = this.#requestFrame(this.#onFrame);
  }

  /** A render is scheduled. */
  get pending(): boolean {
    return this.#pending;
  }

  /** Renders run so far. */
  get renders(): number {
    return this.#renders;
  }

  /** Cancel a pending render and ignore further requests. */
  dispose(): void {
    this.#disposed = true;
    if (this.#pending) this.#cancelFrame(this.#handle);
    this.#pending = false;
  }
}
