/**
 * `GET /api/history?symbol=BTCUSDT[&resolution=raw|10s|1m][&limit=N]`.
 *
 * **`resolution=raw`** (the default): the symbol's stored analytics
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
 * newest N frames.
 *
 * **`resolution=10s` or `1m`**: the symbol's mid bars (`lib/analytics/mid_bars.ts`
 * defines them; `lib/server/bar_store.ts` keeps 360 of 10 s and 1,440 of
 * 1 m), oldest first, up to the bar open now, in columns:
 * `{ symbol, resolution, intervalMs, seq, partial, time, open, high, low,
 * close, spreadBps, imbalance, ofi, frames, accumulator }`. `time` is each
 * bar's start (epoch ms, aligned on receive time); `open` the mid prevailing
 * at its start (the previous close), `high`/`low`/`close` of the mid;
 * `spreadBps` and `imbalance` (top 5) the means of the bar's frames, `ofi`
 * the sum of their OFI e; `frames` 1 when the bar had frames, 0 for a flat
 * carry (no frames: a quiet book or a disconnect; its spread, imbalance and
 * OFI are null). `partial: true` says the last bar is still open;
 * `accumulator` is its running state (`ACC_*` word order) and `seq` the
 * number of frames of the symbol folded so far (the WebSocket `Frame.seq`
 * of the newest one), so a client can keep folding live frames with
 * `seq > seq`. Closed bars are quantised (close to float32, high/low to
 * 0.1 bps of the close, spread and OFI to bfloat16, imbalance to 1/126); the
 * open bar is exact. `limit` (1 to 360 for `10s`, 1 to 1440 for `1m`,
 * default all) keeps the newest N bars, the open one included. Before the
 * symbol's first frame the columns are empty.
 *
 * Guarded by the bearer token when `--auth-token` is set.
 *
 * Errors: no `symbol` → 400; a symbol this run does not watch → 404; a
 * malformed symbol, a bad `resolution` (the message names `raw`, `10s`,
 * `1m`), a bad or too large `limit` (the message names the range), a
 * repeated or unknown parameter → 400.
 * Every error body is `{ error }` naming what was wrong and what is expected.
 *
 * @example
 * ```sh
 * curl 'http://127.0.0.1:8000/api/history?symbol=btcusdt&limit=10'
 * curl 'http://127.0.0.1:8000/api/history?symbol=btcusdt&resolution=1m&limit=60'
 * ```
 * @module
 */

import { checkAuth } from "../../lib/server/auth.ts";
import { resolveDetailSymbol } from "../../lib/client/detail_symbol.ts";
import { type AnalyticsFrame, readFrame } from "../../lib/pipeline/analytics_frame.ts";
import { BAR_RESOLUTIONS, type BarResolution } from "../../lib/server/bar_store.ts";
import type { ServiceState } from "../../lib/server/service_state.ts";
import { define } from "../../utils.ts";

const KNOWN_PARAMS = new Set(["symbol", "limit", "resolution", "token"]);
const RESOLUTIONS = ["raw", "10s", "1m"];

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
        return error(
          400,
          `unknown query parameter "${key}"; expected symbol and optional resolution and limit`,
        );
      }
      if (params.getAll(key).length > 1) {
        return error(400, `query parameter "${key}" given more than once; expected it once`);
      }
    }
    const raw = params.get("symbol");
    if (raw === null || raw === "") {
      return error(400, `missing query parameter "symbol"; ${valid}`);
    }
    // The detail page's name rule: venue symbols (`OKX:BTC-USDT`, `KRAKEN:BTC/USD`) and
    // consolidated instruments (`X:BTC`) have history too.
    const resolved = resolveDetailSymbol(raw, state.symbols);
    if (resolved.kind === "malformed") {
      return error(
        400,
        `malformed symbol: expected 1 to 32 letters, digits, '_', '.', '-', ':' or '/'; ${valid}`,
      );
    }
    if (resolved.kind === "unknown") {
      return error(404, `unknown symbol "${resolved.symbol}"; ${valid}`);
    }
    const { symbol, id } = resolved;
    const resolution = params.get("resolution") ?? "raw";
    if (!RESOLUTIONS.includes(resolution)) {
      return error(
        400,
        `bad resolution "${resolution.slice(0, 16)}"; expected one of ${RESOLUTIONS.join(", ")}`,
      );
    }
    const depth = resolution === "raw"
      ? state.history.depth
      : BAR_RESOLUTIONS[resolution as BarResolution].capacity;
    let limit = depth;
    const rawLimit = params.get("limit");
    if (rawLimit !== null) {
      limit = /^[0-9]{1,9}$/.test(rawLimit) ? Number(rawLimit) : NaN;
      if (!(limit >= 1 && limit <= depth)) {
        return error(
          400,
          `bad limit "${rawLimit.slice(0, 24)}"; expected an integer from 1 to ${depth}` +
            (resolution === "raw" ? "" : ` (the ${resolution} bars kept)`),
        );
      }
    }
    if (resolution !== "raw") return barsResponse(state, symbol, id, resolution, limit);
    const frames: AnalyticsFrame[] = [];
    const skip = Math.max(0, state.history.size(id) - limit);
    let k = 0;
    state.history.forEach(id, (f64, base) => {
      if (k++ >= skip) frames.push(readFrame(f64, base, state.layout));
    });
    return Response.json({ symbol, frames }, { headers: { "Cache-Control": "no-store" } });
  },
});

/** Plain number, or null for NaN and ±Infinity (as JSON.stringify does). */
function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** A price column: 10 significant digits (below the float32 close's precision), null for NaN. */
function prices(col: number[]): (number | null)[] {
  return col.map((v) => Number.isFinite(v) ? Number(v.toPrecision(10)) : null);
}

function barsResponse(
  state: ServiceState,
  symbol: string,
  id: number,
  resolution: string,
  limit: number,
): Response {
  const s = state.bars.read(id, resolution as BarResolution, limit);
  const body = {
    symbol,
    resolution,
    intervalMs: s.intervalMs,
    seq: state.bars.folded(id),
    partial: s.time.length > 0,
    time: s.time,
    open: prices(s.open),
    high: prices(s.high),
    low: prices(s.low),
    close: prices(s.close),
    spreadBps: s.spreadBps.map(finite),
    imbalance: s.imbalance.map(finite),
    ofi: s.ofi.map(finite),
    frames: s.frames,
    accumulator: s.accumulator.map(finite),
  };
  return Response.json(body, { headers: { "Cache-Control": "no-store" } });
}
