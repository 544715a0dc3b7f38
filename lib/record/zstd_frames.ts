/**
 * zstd frames as the recording uses them: each block of lines is one
 * independent frame (level 3, with the frame checksum so flipped bytes are
 * caught), compressed and decompressed with `node:zlib` (built into Deno).
 *
 * `node:zlib`'s one-shot decompression reads only the first frame of its input
 * and returns an empty result for a truncated frame instead of failing, so
 * frame boundaries are found here by walking the frame format (RFC 8878 §3.1):
 * header, block headers, checksum.
 *
 * @example
 * ```ts
 * import { compressFrame, decompressFrame, frameLength } from "./zstd_frames.ts";
 * const text = new TextEncoder().encode("hello\n".repeat(100));
 * const frame = compressFrame(text);
 * frameLength(frame, 0, frame.length) === frame.length; // true
 * decompressFrame(frame).length; // 600
 * ```
 * @module
 */
import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";

/** The zstd frame magic number's bytes (0xFD2FB528, little-endian). */
export const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const;

/** {@link frameLength}: the frame runs past the end of the bytes given. */
export const FRAME_TRUNCATED = -1;
/** {@link frameLength}: not a zstd frame (bad magic or a reserved block type). */
export const FRAME_INVALID = -2;

/** Compression level of recorded blocks (zstd's default). */
export const DEFAULT_ZSTD_LEVEL = 3;

/**
 * One independent zstd frame holding `bytes`, with a content checksum.
 *
 * @example
 * ```ts
 * import { compressFrame } from "./zstd_frames.ts";
 * compressFrame(new Uint8Array(10), 1)[0]; // 0x28, the first magic byte
 * ```
 */
export function compressFrame(bytes: Uint8Array, level = DEFAULT_ZSTD_LEVEL): Uint8Array {
  const out = zstdCompressSync(bytes, {
    params: {
      [constants.ZSTD_c_compressionLevel]: level,
      [constants.ZSTD_c_checksumFlag]: 1,
    },
  });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * The content of the frames filling `region` exactly (a recorded block is
 * normally one frame, but node:zlib sometimes ends its output with an empty
 * 13-byte frame), or undefined when `region` is not whole frames. Throws when
 * a frame is corrupt (node:zlib's error).
 *
 * @example
 * ```ts
 * import { compressFrame, decompressFrames } from "./zstd_frames.ts";
 * const f = compressFrame(new Uint8Array([10]));
 * decompressFrames(new Uint8Array([...f, ...f]))?.length; // 2
 * decompressFrames(f.subarray(1)); // undefined
 * ```
 */
export function decompressFrames(region: Uint8Array, sizeHint = 0): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let p = 0; p < region.length;) {
    const len = frameLength(region, p, region.length);
    if (len < 0) return undefined;
    if (isFrameMagic(region, p)) {
      const part = decompressFrame(region.subarray(p, p + len), sizeHint);
      if (part.length > 0) parts.push(part);
      total += part.length;
    }
    p += len;
  }
  return parts.length === 1 ? parts[0] : concatBytes(parts, total);
}

/**
 * `parts` joined into one new array of `total` bytes (their summed length).
 *
 * @example
 * ```ts
 * import { concatBytes } from "./zstd_frames.ts";
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])], 3); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const part of parts) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}

/** node:zlib's default output chunk, bytes. */
const OUTPUT_CHUNK = 64 << 10;
/** Largest output chunk asked for (a hint beyond a block's size is not trusted further). */
const MAX_OUTPUT_CHUNK = 16 << 20;

/**
 * The content of one zstd frame (the first frame in `frame`). Throws when the
 * frame is corrupt (node:zlib's error); callers check the length first with
 * {@link frameLength}, since a truncated frame decodes to nothing.
 *
 * `sizeHint`: the expected content size (a block's, from the index), or 0.
 * node:zlib collects its output in 64 KiB chunks and joins them (a second
 * copy); output of a known size is taken in one chunk instead, which makes a
 * 1 MiB block ≈ 40 % faster to decode. A wrong hint costs only speed.
 *
 * @example
 * ```ts
 * import { compressFrame, decompressFrame } from "./zstd_frames.ts";
 * decompressFrame(compressFrame(new Uint8Array([10]))).length; // 1
 * ```
 */
export function decompressFrame(frame: Uint8Array, sizeHint = 0): Uint8Array {
  // A node Buffer, handed on as a plain Uint8Array view.
  const out = sizeHint > OUTPUT_CHUNK
    ? zstdDecompressSync(frame, { chunkSize: Math.min(sizeHint, MAX_OUTPUT_CHUNK) + 64 })
    : zstdDecompressSync(frame);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Whether `buf[pos, pos + 4)` is the zstd frame magic.
 *
 * @example
 * ```ts
 * import { isFrameMagic } from "./zstd_frames.ts";
 * isFrameMagic(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd]), 0); // true
 * ```
 */
export function isFrameMagic(buf: Uint8Array, pos: number): boolean {
  return buf[pos] === 0x28 && buf[pos + 1] === 0xb5 && buf[pos + 2] === 0x2f &&
    buf[pos + 3] === 0xfd;
}

function isSkippableMagic(buf: Uint8Array, pos: number): boolean {
  return (buf[pos] & 0xf0) === 0x50 && buf[pos + 1] === 0x2a && buf[pos + 2] === 0x4d &&
    buf[pos + 3] === 0x18;
}

/**
 * Length in bytes of the zstd frame (or skippable frame) that starts at `pos`
 * in `buf[0, end)`: {@link FRAME_TRUNCATED} when it runs past `end`,
 * {@link FRAME_INVALID} when it is not a frame. Reads headers only.
 *
 * @example
 * ```ts
 * import { compressFrame, FRAME_TRUNCATED, frameLength } from "./zstd_frames.ts";
 * const f = compressFrame(new TextEncoder().encode("abc\n"));
 * frameLength(f, 0, f.length - 1) === FRAME_TRUNCATED; // true
 * ```
 */
export function frameLength(buf: Uint8Array, pos: number, end: number): number {
  if (pos + 4 > end) return FRAME_TRUNCATED;
  if (isSkippableMagic(buf, pos)) {
    if (pos + 8 > end) return FRAME_TRUNCATED;
    const size = (buf[pos + 4] | buf[pos + 5] << 8 | buf[pos + 6] << 16) +
      buf[pos + 7] * 0x1000000;
    return pos + 8 + size > end ? FRAME_TRUNCATED : 8 + size;
  }
  if (!isFrameMagic(buf, pos)) return FRAME_INVALID;
  if (pos + 5 > end) return FRAME_TRUNCATED;
  const fhd = buf[pos + 4];
  if (fhd & 0x08) return FRAME_INVALID; // reserved bit
  const singleSegment = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  const fcsSize = fcsFlag === 0 ? singleSegment : [0, 2, 4, 8][fcsFlag];
  const dictSize = [0, 1, 2, 4][fhd & 3];
  let p = pos + 5 + (singleSegment ? 0 : 1) + dictSize + fcsSize;
  for (;;) {
    if (p + 3 > end) return FRAME_TRUNCATED;
    const header = buf[p] | buf[p + 1] << 8 | buf[p + 2] << 16;
    const last = header & 1;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) return FRAME_INVALID;
    p += 3 + (type === 1 ? 1 : size);
    if (p > end) return FRAME_TRUNCATED;
    if (last) break;
  }
  if (fhd & 0x04) p += 4; // content checksum
  return p > end ? FRAME_TRUNCATED : p - pos;
}

/**
 * Index of the next zstd frame magic in `buf[from, end)`, or -1: where reading
 * resumes after a corrupt stretch.
 *
 * @example
 * ```ts
 * import { findFrameMagic } from "./zstd_frames.ts";
 * findFrameMagic(new Uint8Array([1, 0x28, 0xb5, 0x2f, 0xfd]), 0, 5); // 1
 * ```
 */
export function findFrameMagic(buf: Uint8Array, from: number, end: number): number {
  for (let i = buf.indexOf(0x28, from); i >= 0 && i + 4 <= end; i = buf.indexOf(0x28, i + 1)) {
    if (isFrameMagic(buf, i)) return i;
  }
  return -1;
}
