/**
 * Binary layout of one symbol's exported bar state
 * (`BarStore.exportSymbol` / `importSymbol` in `bar_store.ts`): what an ingest node sends a dashboard node that starts
 * watching a symbol (`dw.v1.ctl.bars.<venue>.<SYMBOL>`, docs/design.md §10).
 *
 * - **Header**, {@link BX_HEADER_BYTES} bytes of uint32 words at the word
 *   offsets `BX_MAGIC` … `BX_ACC_WORDS`: the magic and version, then each
 *   resolution's ring capacity and interval and the accumulator words, which
 *   an importer compares with its own store's (any difference: refused).
 * - **Scalars**, float64 words from {@link BX_SCALARS_BYTE}, at the word
 *   offsets `BX_FOLDED` … `BX_ACC_1M`: frames folded, the receive time of the
 *   newest frame folded, each resolution's first bar index and open-bar
 *   accumulator.
 * - **Rows**, per resolution (10 s, then 1 m), the ring's columns in slot
 *   order (slot = bar index mod capacity, the same on both ends): close
 *   float32, high, low, spread and OFI uint16, imbalance int8.
 *
 * Every number is in the exporting machine's byte order; the magic word is
 * written the same way, so a machine of the other order sees a wrong magic
 * and refuses the bytes. This module is the only place that knows the
 * offsets.
 *
 * @example
 * ```ts
 * import { barExportLayout } from "./bar_export_layout.ts";
 * const layout = barExportLayout(360, 1440, 12);
 * layout.byteLength; // 23656: 32 header + 224 scalars + 13 × (360 + 1440) rows
 * ```
 * @module
 */

/** Value of the {@link BX_MAGIC} word ("DWBR"). */
export const BAR_EXPORT_MAGIC = 0x44574252;
/** Current layout version. */
export const BAR_EXPORT_VERSION = 1;

/** Header uint32 word: {@link BAR_EXPORT_MAGIC}. */
export const BX_MAGIC = 0;
/** Header uint32 word: {@link BAR_EXPORT_VERSION}. */
export const BX_VERSION = 1;
/** Header uint32 word: capacity of the 10 s ring. */
export const BX_CAPACITY_10S = 2;
/** Header uint32 word: interval of the 10 s ring, ms. */
export const BX_INTERVAL_10S = 3;
/** Header uint32 word: capacity of the 1 m ring. */
export const BX_CAPACITY_1M = 4;
/** Header uint32 word: interval of the 1 m ring, ms. */
export const BX_INTERVAL_1M = 5;
/** Header uint32 word: words of one open-bar accumulator. */
export const BX_ACC_WORDS = 6;
/** Header bytes (8 uint32 words, the last one reserved, 0). */
export const BX_HEADER_BYTES = 32;

/** Byte offset of the float64 scalars. */
export const BX_SCALARS_BYTE = BX_HEADER_BYTES;
/** Scalar word: frames folded for the symbol. */
export const BX_FOLDED = 0;
/** Scalar word: receive time of the newest frame folded, epoch ms (-Infinity: none). */
export const BX_LAST_RECEIVE = 1;
/** Scalar word: first 10 s bar index (NaN: none). */
export const BX_FIRST_10S = 2;
/** Scalar word: first 1 m bar index (NaN: none). */
export const BX_FIRST_1M = 3;
/** Scalar word: the open 10 s accumulator's first word (then `accWords` words). */
export const BX_ACC_10S = 4;

/** Where one resolution's columns start, bytes from the start. */
export interface BarExportRows {
  /** float32 closes. */
  close: number;
  /** uint16 high offsets. */
  high: number;
  /** uint16 low offsets. */
  low: number;
  /** uint16 bfloat16 spreads. */
  spread: number;
  /** uint16 bfloat16 OFI. */
  ofi: number;
  /** int8 imbalances. */
  imbalance: number;
}

/** The offsets of an export for given capacities (see the module docs). */
export interface BarExportLayout {
  /** Scalar word of the open 1 m accumulator's first word. */
  acc1m: number;
  /** Scalar words. */
  scalarWords: number;
  /** The 10 s ring's columns. */
  rows10s: BarExportRows;
  /** The 1 m ring's columns. */
  rows1m: BarExportRows;
  /** Total bytes. */
  byteLength: number;
}

function rows(at: number, capacity: number): BarExportRows {
  const close = at;
  const high = close + 4 * capacity;
  const low = high + 2 * capacity;
  const spread = low + 2 * capacity;
  const ofi = spread + 2 * capacity;
  const imbalance = ofi + 2 * capacity;
  return { close, high, low, spread, ofi, imbalance };
}

/**
 * The layout of an export of rings of `capacity10s` and `capacity1m` bars
 * and accumulators of `accWords` words.
 *
 * @example
 * ```ts
 * import { barExportLayout, BX_SCALARS_BYTE } from "./bar_export_layout.ts";
 * const l = barExportLayout(2, 4, 12);
 * l.rows10s.close; // 256: after the header and 28 scalar words
 * l.byteLength; // 336: 256, 13 × 2 rows, 2 bytes of alignment, 13 × 4 rows
 * ```
 */
export function barExportLayout(
  capacity10s: number,
  capacity1m: number,
  accWords: number,
): BarExportLayout {
  const acc1m = BX_ACC_10S + accWords;
  const scalarWords = acc1m + accWords;
  const rows10s = rows(BX_SCALARS_BYTE + 8 * scalarWords, capacity10s);
  // Keep the next ring's float32 closes 4-byte aligned.
  const after10s = Math.ceil((rows10s.imbalance + capacity10s) / 4) * 4;
  const rows1m = rows(after10s, capacity1m);
  return { acc1m, scalarWords, rows10s, rows1m, byteLength: rows1m.imbalance + capacity1m };
}
