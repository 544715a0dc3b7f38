/**
 * The records the ingest writes through its `tap` besides the exchange's own
 * messages (docs/design.md §9, "Records besides the exchange's messages"):
 * every one is a line of a recording in the tardis shape
 * `{"stream":"<symbol>@<kind>","generated":true,"data":<data>}`.
 *
 * - {@link restSnapshotRecord}: a REST depth snapshot used for diff sync, its
 *   body untouched (the way tardis writes them).
 * - {@link bookSnapshotRecord}: a snapshot generated from the local book, the
 *   same shape as a REST one (`lastUpdateId`, `bids`, `asks`), so a replay
 *   that seeks into the middle of a recording seeds its books from it.
 * - {@link disconnectRecord}: a symbol's connection was lost or closed.
 *
 * Each builds one string; they run once per REST answer, per symbol every
 * five minutes and per disconnect, never per frame.
 *
 * @example
 * ```ts
 * import { bookSnapshotRecord, disconnectRecord, restSnapshotRecord } from "./tap_records.ts";
 * import { LocalBook } from "./local_book.ts";
 * restSnapshotRecord("btcusdt", '{"lastUpdateId":5,"bids":[],"asks":[]}');
 * // '{"stream":"btcusdt@depthSnapshot","generated":true,"data":{"lastUpdateId":5,"bids":[],"asks":[]}}'
 * const book = new LocalBook({ capacity: 10 });
 * book.loadSnapshot([[100.5, 2]], [[101, 0.25]]);
 * bookSnapshotRecord("btcusdt", 7, book);
 * // '{"stream":"btcusdt@depthSnapshot","generated":true,"data":{"lastUpdateId":7,"bids":[["100.5","2"]],"asks":[["101","0.25"]]}}'
 * disconnectRecord("btcusdt"); // '{"stream":"btcusdt@disconnect","generated":true,"data":{}}'
 * ```
 * @module
 */

import type { LocalBook } from "./local_book.ts";

/** Stream suffix of snapshot records (REST and generated). */
export const SNAPSHOT_STREAM_SUFFIX = "@depthSnapshot";
/** Stream suffix of disconnect markers. */
export const DISCONNECT_STREAM_SUFFIX = "@disconnect";

/**
 * A REST snapshot record: `{"stream":"<symbol>@depthSnapshot","generated":true,"data":<body>}`
 * with `body` exactly as the exchange sent it.
 *
 * @param symbol Lower-case symbol, e.g. `btcusdt`.
 * @param body The REST response body (a JSON object), untouched.
 *
 * @example
 * ```ts
 * import { restSnapshotRecord } from "./tap_records.ts";
 * restSnapshotRecord("ethusdt", '{"lastUpdateId":1,"bids":[["1.00","2.00"]],"asks":[]}');
 * ```
 */
export function restSnapshotRecord(symbol: string, body: string): string {
  return `{"stream":"${symbol}${SNAPSHOT_STREAM_SUFFIX}","generated":true,"data":${body}}`;
}

/**
 * A snapshot record generated from a local book: `lastUpdateId` (the `u` of
 * the last diff applied), then every level the book holds per side, best
 * first, as `["<price>","<qty>"]` with numbers written by `String(n)` (the
 * shortest text that parses back to the same number, so a replay seeded from
 * it holds the same numbers bit for bit).
 *
 * @param symbol Lower-case symbol.
 * @param lastUpdateId `u` of the last event applied to `book` (or its snapshot's id).
 * @param book The symbol's local book (read only).
 *
 * @example
 * ```ts
 * import { bookSnapshotRecord } from "./tap_records.ts";
 * import { LocalBook } from "./local_book.ts";
 * const book = new LocalBook({ capacity: 4 });
 * book.loadSnapshot([[10, 1], [9, 2]], []);
 * bookSnapshotRecord("bnbbtc", 3, book);
 * // '{"stream":"bnbbtc@depthSnapshot","generated":true,"data":{"lastUpdateId":3,"bids":[["10","1"],["9","2"]],"asks":[]}}'
 * ```
 */
export function bookSnapshotRecord(symbol: string, lastUpdateId: number, book: LocalBook): string {
  let s = `{"stream":"${symbol}${SNAPSHOT_STREAM_SUFFIX}","generated":true,"data":{"lastUpdateId":${
    String(lastUpdateId)
  },"bids":[`;
  for (let i = 0, n = book.bidCount; i < n; i++) {
    s += (i === 0 ? '["' : ',["') + String(book.bidPrice(i)) + '","' + String(book.bidSize(i)) +
      '"]';
  }
  s += '],"asks":[';
  for (let i = 0, n = book.askCount; i < n; i++) {
    s += (i === 0 ? '["' : ',["') + String(book.askPrice(i)) + '","' + String(book.askSize(i)) +
      '"]';
  }
  return s + "]}}";
}

/**
 * A disconnect marker: `{"stream":"<symbol>@disconnect","generated":true,"data":{}}`.
 *
 * @param symbol Lower-case symbol.
 *
 * @example
 * ```ts
 * import { disconnectRecord } from "./tap_records.ts";
 * disconnectRecord("btcusdt"); // '{"stream":"btcusdt@disconnect","generated":true,"data":{}}'
 * ```
 */
export function disconnectRecord(symbol: string): string {
  return `{"stream":"${symbol}${DISCONNECT_STREAM_SUFFIX}","generated":true,"data":{}}`;
}
