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
