/**
 * Build-time compression of static assets: for a compressible file (see
 * `isCompressible`) `name`, write `name.br` (brotli) and `name.gz` (gzip)
 * beside it, each only when it is smaller than the file; a sibling that
 * would not be smaller is removed, so none is ever stale or larger.
 * Siblings are written atomically (temporary file, then rename).
 *
 * The static file server (`static_files.ts`) serves a sibling by
 * `Accept-Encoding` after checking once that it decompresses to the file's
 * exact bytes.
 *
 * @module
 */
import { promisify } from "node:util";
import zlib from "node:zlib";
import { isCompressible } from "./content_type.ts";
import { listFolder, toDirUrl } from "./fs_crawl.ts";

/**
 * A precompressed encoding: its `Content-Encoding` name and file suffix,
 * in the server's order of preference (smallest first).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PRECOMPRESSED } from "./precompress.ts";
 * assert.deepEqual(PRECOMPRESSED.map((p) => p.suffix), [".br", ".gz"]);
 * ```
 */
export const PRECOMPRESSED: readonly { coding: "br" | "gzip"; suffix: string }[] = [
  { coding: "br", suffix: ".br" },
  { coding: "gzip", suffix: ".gz" },
];

/**
 * Options of {@linkcode precompressFile} and {@linkcode precompressFolder}.
 *
 * @example
 * ```ts
 * import type { PrecompressOptions } from "./precompress.ts";
 * const fast: PrecompressOptions = { brotliQuality: 5, gzipLevel: 6 };
 * ```
 */
export interface PrecompressOptions {
  /** Brotli quality, 0–11. Default `11` (slow, smallest: it runs once per build). */
  brotliQuality?: number;
  /** Gzip level, 1–9. Default `9`. */
  gzipLevel?: number;
}

/**
 * What {@linkcode precompressFile} wrote.
 *
 * @example
 * ```ts
 * import type { PrecompressResult } from "./precompress.ts";
 * const r: PrecompressResult = { file: new URL("file:///a/app.js"), bytes: 1000, br: 300, gzip: 350 };
 * ```
 */
export interface PrecompressResult {
  /** The source file. */
  file: URL;
  /** Its size in bytes. */
  bytes: number;
  /** Size of `.br`, or `null` when brotli was not smaller (no sibling). */
  br: number | null;
  /** Size of `.gz`, or `null` when gzip was not smaller (no sibling). */
  gzip: number | null;
}

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * Compress the bytes of one file with `coding`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import zlib from "node:zlib";
 * import { compressBytes } from "./precompress.ts";
 * const text = new TextEncoder().encode("abc ".repeat(100));
 * const br = await compressBytes(text, "br");
 * assert.deepEqual(new Uint8Array(zlib.brotliDecompressSync(br)), text);
 * ```
 *
 * @param bytes What to compress.
 * @param coding `br` or `gzip`.
 * @param options See {@linkcode PrecompressOptions}.
 */
export async function compressBytes(
  bytes: Uint8Array,
  coding: "br" | "gzip",
  options: PrecompressOptions = {},
): Promise<Uint8Array> {
  const out = coding === "br"
    ? await brotli(bytes, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: options.brotliQuality ?? 11,
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength,
      },
    })
    : await gzip(bytes, { level: options.gzipLevel ?? 9 });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Write `file.br` and `file.gz` beside `file` (see the module docs).
 *
 * @example
 * ```ts ignore
 * import { precompressFile } from "./precompress.ts";
 * const r = await precompressFile(new URL("../../static/build/boot-0123456789abcdef.js", import.meta.url));
 * console.log(r.bytes, r.br, r.gzip);
 * ```
 *
 * @param file A compressible file.
 * @param options See {@linkcode PrecompressOptions}.
 */
export async function precompressFile(
  file: URL,
  options: PrecompressOptions = {},
): Promise<PrecompressResult> {
  const bytes = await Deno.readFile(file);
  const result: PrecompressResult = { file, bytes: bytes.byteLength, br: null, gzip: null };
  for (const { coding, suffix } of PRECOMPRESSED) {
    const sibling = new URL(`${file.href}${suffix}`);
    const packed = await compressBytes(bytes, coding, options);
    if (packed.byteLength < bytes.byteLength) {
      const tmp = new URL(`${sibling.href}.${crypto.randomUUID()}.tmp`);
      await Deno.writeFile(tmp, packed);
      await Deno.rename(tmp, sibling);
      result[coding] = packed.byteLength;
    } else {
      await removeIfPresent(sibling);
    }
  }
  return result;
}

/**
 * Precompress every compressible file in `dir` and its subfolders, except
 * those under `exclude`; siblings left from a removed file are deleted.
 *
 * @example
 * ```ts ignore
 * import { precompressFolder } from "./precompress.ts";
 * const static_ = new URL("../../static/", import.meta.url);
 * await precompressFolder(static_, { exclude: [new URL("build/", static_)] });
 * ```
 *
 * @param dir The folder.
 * @param options See {@linkcode PrecompressOptions}; `exclude`: folders to skip (default none).
 */
export async function precompressFolder(
  dir: URL,
  options: PrecompressOptions & { exclude?: readonly URL[] } = {},
): Promise<PrecompressResult[]> {
  const skip = new Set((options.exclude ?? []).map((u) => toDirUrl(u).href));
  const results: PrecompressResult[] = [];
  const walk = async (folder: URL) => {
    const entries = await listFolder(folder);
    const names = new Set(entries.filter((e) => e.isFile).map((e) => e.name));
    for (const e of entries) {
      const url = new URL(encodeURIComponent(e.name) + (e.isDirectory ? "/" : ""), folder);
      if (e.isDirectory) {
        if (!skip.has(url.href)) await walk(url);
        continue;
      }
      if (!e.isFile) continue;
      const source = siblingSource(e.name);
      if (source !== null) {
        if (!names.has(source) && isCompressible(source)) await removeIfPresent(url);
      } else if (isCompressible(e.name)) {
        results.push(await precompressFile(url, options));
      }
    }
  };
  await walk(toDirUrl(dir));
  return results;
}

/**
 * The name of the file `name` is a precompressed sibling of, or `null`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { siblingSource } from "./precompress.ts";
 * assert.equal(siblingSource("app.css.br"), "app.css");
 * assert.equal(siblingSource("app.css"), null);
 * ```
 */
export function siblingSource(name: string): string | null {
  for (const { suffix } of PRECOMPRESSED) {
    if (name.endsWith(suffix) && name.length > suffix.length) {
      return name.slice(0, -suffix.length);
    }
  }
  return null;
}

async function removeIfPresent(file: URL): Promise<void> {
  try {
    await Deno.remove(file);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}
