/**
 * Errors that carry an HTTP status, as in Fresh 2: throw one from a handler
 * or middleware and the app answers with that status, rendered by the error
 * page (`routes/_error.tsx`, or `_404.tsx` for 404s). The app throws
 * `HttpError(404)` itself when no route matches, so middlewares see not-found
 * requests as errors too.
 *
 * @module
 */

/**
 * An error with an HTTP status.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError } from "./error.ts";
 * const err = new HttpError(404);
 * assert.equal(err.status, 404);
 * assert.equal(err.message, "Not Found");
 * ```
 */
export class HttpError extends Error {
  /** The HTTP status, 400 to 599. */
  readonly status: number;

  /**
   * @param status The HTTP status, an integer from 400 to 599.
   * @param message Default: the status text (e.g. "Not Found").
   * @param options Standard error options (`cause`).
   */
  constructor(status: number, message?: string, options?: ErrorOptions) {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`HttpError status ${status}: expected an integer from 400 to 599`);
    }
    super(message ?? STATUS_TEXT[status] ?? `HTTP ${status}`, options);
    this.name = "HttpError";
    this.status = status;
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  500: "Internal Server Error",
  503: "Service Unavailable",
};
