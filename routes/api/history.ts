/**
 * `GET /api/history?symbol=BTCUSDT[&limit=N]`: the symbol's stored analytics
 * frames, oldest first, as `{ symbol, frames: AnalyticsFrame[] }`; values
 * that could not be computed (NaN) are `null`. Only the newest frame carries
 * every field, its order book (`bids`, `asks`) included. Older ones carry what
 * the dashboard charts over time (`HISTORY_FIELDS` in
 * `lib/server/history_store.ts`): `symbolId`, `sequence`, `flags`,
 * `receiveTime`, `deliveredTime`, `mid`, `weightedMid`, `spreadBps`,
 * `imbalance`, `ofi.e`, `ofi.sum1s`, `ofi.sum10s`, exactly as sent live; their
 * other numbers are `null` and their ladders empty (the history keeps no
 * more; the live WebSocket frame has everything). The symbol is
 * case-insensitive; `limit` (1 to the history depth, default all) keeps the
 * newest N frames. Guarded by the bearer token when `--auth-token` is set.
 *
 * Errors: no `symbol` → 400; a symbol this run does not watch → 404; a
 * malformed symbol, a bad `limit`, a repeated or unknown parameter → 400.
 * Every error body is `{ error }` naming what was wrong and what is expected.
 *
 * @example
 * ```sh
 * curl 'http://127.0.0.1:8000/api/history?symbol=btcusdt&limit=10'
 * ```
 * @module
 */

import { checkAuth } from "../../lib/server/auth.ts";
import { type AnalyticsFrame, readFrame } from "../../lib/pipeline/analytics_frame.ts";
import { define } from "../../utils.ts";

const KNOWN_PARAMS = new Set(["symbol", "limit", "token"]);
const SYMBOL_PATTERN = /^[A-Za-z0-9]{1,32}$/;

function error(status: number, message: string): Response {
  return Response.json({ error: message }, {
    status,
    headers: { "Cache-Control": "no-store" },
  });
}

/**
 * GET answers the frames of one symbol.
 *
 * @example
 * ```ts ignore
 * const res = await handler.GET(ctx); // { symbol, frames } or { error }
 * ```
 */
export const handler = define.handlers({
  GET(ctx) {
    const state = ctx.state.service;
    const denied = checkAuth(ctx.req, ctx.url, state.authToken);
    if (denied) return denied;
    const params = ctx.url.searchParams;
    const valid = `valid symbols: ${state.symbols.join(", ")}`;
    for (const key of new Set(params.keys())) {
      if (!KNOWN_PARAMS.has(key)) {
        return error(400, `unknown query parameter "${key}"; expected symbol and optional limit`);
      }
      if (params.getAll(key).length > 1) {
        return error(400, `query parameter "${key}" given more than once; expected it once`);
      }
    }
    const raw = params.get("symbol");
    if (raw === null || raw === "") {
      return error(400, `missing query parameter "symbol"; ${valid}`);
    }
    if (!SYMBOL_PATTERN.test(raw)) {
      return error(400, `malformed symbol: expected 1 to 32 letters and digits; ${valid}`);
    }
    const symbol = raw.toUpperCase();
    const id = state.symbols.indexOf(symbol);
    if (id < 0) return error(404, `unknown symbol "${symbol}"; ${valid}`);
    const depth = state.history.depth;
    let limit = depth;
    const rawLimit = params.get("limit");
    if (rawLimit !== null) {
      limit = /^[0-9]{1,9}$/.test(rawLimit) ? Number(rawLimit) : NaN;
      if (!(limit >= 1 && limit <= depth)) {
        return error(400, `bad limit "${rawLimit}"; expected an integer from 1 to ${depth}`);
      }
    }
    const frames: AnalyticsFrame[] = [];
    const skip = Math.max(0, state.history.size(id) - limit);
    let k = 0;
    state.history.forEach(id, (f64, base) => {
      if (k++ >= skip) frames.push(readFrame(f64, base, state.layout));
    });
    return Response.json({ symbol, frames }, { headers: { "Cache-Control": "no-store" } });
  },
});
