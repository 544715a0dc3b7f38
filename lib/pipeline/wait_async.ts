/**
 * `Atomics.waitAsync` that keeps Deno's event loop alive while it waits.
 *
 * A pending `Atomics.waitAsync` does not keep Deno's event loop alive; a timer
 * does. {@link waitAsyncAlive} holds an interval (not a one-shot timer: the
 * wait's own timeout can fire later than a timer set for the same time, and
 * the process must not end with the wait still pending) for as long as the
 * wait is pending. Used by the rings' consumers on threads that must not block
 * (the main thread, the recorder's event loop).
 *
 * @example
 * ```ts
 * import { waitAsyncAlive } from "./wait_async.ts";
 * const i32 = new Int32Array(new SharedArrayBuffer(4));
 * setTimeout(() => {
 *   Atomics.store(i32, 0, 1);
 *   Atomics.notify(i32, 0);
 * }, 10);
 * await waitAsyncAlive(i32, 0, 0, 1000); // "ok" once notified, "timed-out" after 1 s
 * ```
 * @module
 */

/**
 * Wait until `i32[index]` is notified while it holds `value`, or
 * `timeoutMs` passes; resolves at once with `"not-equal"` when it does not
 * hold `value`.
 */
export async function waitAsyncAlive(
  i32: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
): Promise<"ok" | "not-equal" | "timed-out"> {
  const result = Atomics.waitAsync(i32, index, value, timeoutMs);
  if (!result.async) return result.value;
  const keepAlive = setInterval(() => {}, Math.max(timeoutMs, 1));
  try {
    return await result.value;
  } finally {
    clearInterval(keepAlive);
  }
}
