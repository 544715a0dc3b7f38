/**
 * The index file beside each hourly recording (`HH.dwrec.idx`): a 16-byte
 * header then one fixed 40-byte little-endian entry per zstd block, appended as
 * blocks are written, so a reader finds the block to start from by a binary
 * search instead of decompressing the hour.
 *
 * | bytes   | header field                               |
 * | ------- | ------------------------------------------ |
 * | 0–7     | ASCII `DWRECIX1` (format and version)      |
 * | 8–11    | u32 entry size (40)                        |
 * | 12–15   | u32 reserved (0)                           |
 *
 * | bytes   | entry field                                                   |
 * | ------- | ------------------------------------------------------------- |
 * | 0–7     | f64 earliest receive time in the block, µs since the epoch    |
 * | 8–15    | f64 latest receive time in the block, µs (in-order data: last) |
 * | 16–23   | f64 byte offset of the block's zstd frame in the data file    |
 * | 24–27   | u32 compressed length (the frame's bytes)                     |
 * | 28–31   | u32 uncompressed length (the block's text bytes)              |
 * | 32–35   | u32 record count (lines)                                      |
 * | 36–39   | u32 reserved (0)                                              |
 *
 * Times and offsets are f64 holding integers (exact below 2^53). A trailing
 * partial entry (a crash mid-append) is ignored.
 *
 * @example
 * ```ts
 * import { decodeIndex, encodeIndexEntry, INDEX_HEADER } from "./record_index.ts";
 * const entry = { firstUs: 1, lastUs: 2, offset: 0, length: 10, rawLength: 30, records: 1 };
 * const file = new Uint8Array([...INDEX_HEADER, ...encodeIndexEntry(entry)]);
 * decodeIndex(file)?.[0].records; // 1
 * ```
 * @module
 */

/** One block of a recording, as the index describes it. */
export interface IndexEntry {
  /** Earliest receive time in the block, µs. */
  firstUs: number;
  /** Latest receive time in the block, µs. */
  lastUs: number;
  /** Byte offset of the block's zstd frame in the data file. */
  offset: number;
  /** Compressed length in bytes. */
  length: number;
  /** Uncompressed length in bytes. */
  rawLength: number;
  /** Number of records (lines) in the block. */
  records: number;
}

/** Bytes of one index entry. */
export const INDEX_ENTRY_SIZE = 40;

/** The 16-byte index header. */
export const INDEX_HEADER: Uint8Array = (() => {
  const h = new Uint8Array(16);
  h.set(new TextEncoder().encode("DWRECIX1"));
  new DataView(h.buffer).setUint32(8, INDEX_ENTRY_SIZE, true);
  return h;
})();

/**
 * The 40 bytes of one entry (into `out` when given, which must hold 40 bytes).
 *
 * @example
 * ```ts
 * import { encodeIndexEntry } from "./record_index.ts";
 * encodeIndexEntry({ firstUs: 0, lastUs: 0, offset: 0, length: 1, rawLength: 1, records: 1 }).length; // 40
 * ```
 */
export function encodeIndexEntry(
  e: IndexEntry,
  out: Uint8Array = new Uint8Array(INDEX_ENTRY_SIZE),
): Uint8Array {
  const v = new DataView(out.buffer, out.byteOffset, INDEX_ENTRY_SIZE);
  v.setFloat64(0, e.firstUs, true);
  v.setFloat64(8, e.lastUs, true);
  v.setFloat64(16, e.offset, true);
  v.setUint32(24, e.length, true);
  v.setUint32(28, e.rawLength, true);
  v.setUint32(32, e.records, true);
  v.setUint32(36, 0, true);
  return out;
}

/**
 * The entries of an index file, or undefined when its header is not a
 * `DWRECIX1` header with 40-byte entries. Entries are returned as stored; the
 * reader checks them against the data file.
 *
 * @example
 * ```ts
 * import { decodeIndex, INDEX_HEADER } from "./record_index.ts";
 * decodeIndex(INDEX_HEADER)?.length; // 0
 * decodeIndex(new Uint8Array(16)); // undefined
 * ```
 */
export function decodeIndex(bytes: Uint8Array): IndexEntry[] | undefined {
  if (bytes.length < INDEX_HEADER.length) return undefined;
  for (let i = 0; i < 12; i++) if (bytes[i] !== INDEX_HEADER[i]) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: IndexEntry[] = [];
  for (let p = INDEX_HEADER.length; p + INDEX_ENTRY_SIZE <= bytes.length; p += INDEX_ENTRY_SIZE) {
    entries.push({
      firstUs: v.getFloat64(p, true),
      lastUs: v.getFloat64(p + 8, true),
      offset: v.getFloat64(p + 16, true),
      length: v.getUint32(p + 24, true),
      rawLength: v.getUint32(p + 28, true),
      records: v.getUint32(p + 32, true),
    });
  }
  return entries;
}

/**
 * The longest prefix of `entries` that describes contiguous blocks from offset
 * 0 lying inside a data file of `fileSize` bytes, with sane times and counts.
 *
 * @example
 * ```ts
 * import { validIndexPrefix } from "./record_index.ts";
 * const e = { firstUs: 1, lastUs: 2, offset: 0, length: 10, rawLength: 30, records: 1 };
 * validIndexPrefix([e, { ...e, offset: 10 }], 15).length; // 1: the second block is cut off
 * ```
 */
export function validIndexPrefix(entries: readonly IndexEntry[], fileSize: number): IndexEntry[] {
  let expected = 0;
  let n = 0;
  for (const e of entries) {
    if (e.offset !== expected || e.length <= 0 || e.offset + e.length > fileSize) break;
    if (!(e.firstUs <= e.lastUs) || e.records <= 0 || e.rawLength <= 0) break;
    expected += e.length;
    n++;
  }
  return entries.slice(0, n);
}

/**
 * Index of the first entry whose latest time is ≥ `fromUs` (entries.length when
 * none): where reading from `fromUs` starts. A binary search when the latest
 * times never decrease (an in-order recording), a linear one otherwise, so no
 * block holding a time ≥ `fromUs` is skipped.
 *
 * @example
 * ```ts
 * import { seekEntry } from "./record_index.ts";
 * const e = (lastUs: number) => ({ firstUs: lastUs - 5, lastUs, offset: 0, length: 1, rawLength: 1, records: 1 });
 * seekEntry([e(10), e(20), e(30)], 15); // 1
 * ```
 */
export function seekEntry(entries: readonly IndexEntry[], fromUs: number): number {
  let lo = 0, hi = entries.length;
  let sorted = true;
  for (let i = 1; i < entries.length && sorted; i++) {
    if (entries[i].lastUs < entries[i - 1].lastUs) sorted = false;
  }
  if (!sorted) {
    const i = entries.findIndex((e) => e.lastUs >= fromUs);
    return i < 0 ? entries.length : i;
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid].lastUs < fromUs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
