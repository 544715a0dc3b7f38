/**
 * Content types for static files, by extension.
 *
 * @module
 */

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  json: "application/json",
  map: "application/json",
  webmanifest: "application/manifest+json",
  txt: "text/plain; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  ico: "image/x-icon",
  woff: "font/woff",
  woff2: "font/woff2",
  wasm: "application/wasm",
};

/**
 * The `Content-Type` for a file name; `application/octet-stream` when the
 * extension is unknown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contentTypeOf } from "./content_type.ts";
 * assert.equal(contentTypeOf("style.css"), "text/css; charset=utf-8");
 * ```
 */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf(".");
  const ext = dot === -1 ? "" : name.slice(dot + 1).toLowerCase();
  return TYPES[ext] ?? "application/octet-stream";
}

/**
 * Extensions of text formats that shrink under gzip and brotli. Images other
 * than SVG, fonts and WebAssembly are left out: they are compressed already
 * (or gain too little to be worth a second copy).
 */
const COMPRESSIBLE = new Set([
  "html",
  "css",
  "js",
  "mjs",
  "json",
  "map",
  "webmanifest",
  "txt",
  "svg",
]);

/**
 * Whether a file is worth precompressing and serving by `Accept-Encoding`,
 * by its extension (see `lib/web/precompress.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isCompressible } from "./content_type.ts";
 * assert.ok(isCompressible("boot-0123456789abcdef.js"));
 * assert.ok(!isCompressible("logo.png"));
 * ```
 */
export function isCompressible(name: string): boolean {
  const dot = name.lastIndexOf(".");
  return dot !== -1 && COMPRESSIBLE.has(name.slice(dot + 1).toLowerCase());
}
