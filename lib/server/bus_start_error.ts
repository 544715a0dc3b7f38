/**
 * The error of a node that could not join the NATS bus at start, in a module
 * of its own so that `main.ts` can recognise it without loading the NATS
 * client (a `--bus memory` process never loads `lib/bus/`).
 *
 * @example
 * ```ts
 * import { BusStartError } from "./bus_start_error.ts";
 * const e = new BusStartError("bus: cannot connect to nats://127.0.0.1:4222");
 * e instanceof Error; // true
 * ```
 * @module
 */

/**
 * The node could not join the bus at start (NATS unreachable, or a universe
 * or partition count that differs from the running nodes'): the service does
 * not start (`main.ts` exits with code 1; a supervisor such as systemd retries).
 *
 * @example
 * ```ts
 * import { BusStartError } from "./bus_start_error.ts";
 * new BusStartError("bus: cannot connect to nats://127.0.0.1:4222").name; // "BusStartError"
 * ```
 */
export class BusStartError extends Error {
  /** @param message what failed and what was expected. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BusStartError";
  }
}
