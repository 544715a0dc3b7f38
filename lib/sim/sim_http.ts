/**
 * JSON answers of the simulated exchange's HTTP endpoints, counted by status
 * (the `rest` entry of `SimStats`): REST snapshots and errors, refused
 * WebSocket upgrades and the `/sim/*` control endpoints all answer through one
 * {@link JsonReplies}.
 *
 * @example
 * ```ts
 * import { JsonReplies } from "./sim_http.ts";
 * const replies = new JsonReplies();
 * const res = replies.json(400, `{"code":-1121,"msg":"Invalid symbol."}`);
 * res.status; // 400
 * replies.byStatus; // { "400": 1 }
 * ```
 * @module
 */

/**
 * Builds JSON responses in Binance's content type and counts them by status.
 *
 * @example
 * ```ts
 * const replies = new JsonReplies();
 * replies.json(200, "{}", { "X-MBX-USED-WEIGHT-1M": "5" }).headers.get("x-mbx-used-weight-1m"); // "5"
 * ```
 */
export class JsonReplies {
  /** Responses built so far, by HTTP status. */
  readonly byStatus: Record<string, number> = {};

  /**
   * A response with `content-type: application/json;charset=UTF-8`.
   *
   * @param status HTTP status, counted in {@link byStatus}.
   * @param body JSON text.
   * @param headers Further headers.
   */
  json(status: number, body: string, headers: Record<string, string> = {}): Response {
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    return new Response(body, {
      status,
      headers: { "content-type": "application/json;charset=UTF-8", ...headers },
    });
  }
}
