// First-load compression: Accept-Encoding negotiation (a table and a
// property), build-time precompression, and the static file server over a
// real socket (lib/net's server): br / gzip / identity bodies decode to the
// same bytes, Vary on every compressible response, an ETag and a 304 per
// encoding, HEAD, 406, ranges ignored, stale siblings never served.
import assert from "node:assert/strict";
import zlib from "node:zlib";
import fc from "fast-check";
import { negotiateEncoding, parseAcceptEncoding } from "../lib/web/accept_encoding.ts";
import { precompressFile, precompressFolder } from "../lib/web/precompress.ts";
import { createStaticFiles } from "../lib/web/static_files.ts";
import { Builder } from "../lib/web/builder.ts";
import { readBuildInfo } from "../lib/web/bundle.ts";
import { serveHttp } from "../lib/net/http_server.ts";
import { RawHttpClient, type RawResponse } from "./fixtures/raw_http_client.ts";

const BOTH = ["br", "gzip"];

Deno.test("accept-encoding: the choice for typical and awkward headers", () => {
  const cases: [string | null, string[], string | null][] = [
    [null, BOTH, "identity"],
    ["", BOTH, "identity"],
    ["gzip, deflate, br, zstd", BOTH, "br"], // Chromium
    ["gzip, deflate, br", ["gzip"], "gzip"],
    ["gzip, deflate", BOTH, "gzip"],
    ["br;q=0.5, gzip;q=0.8", BOTH, "gzip"],
    ["br;q=1.000, gzip;q=1", BOTH, "br"],
    ["deflate, zstd", BOTH, "identity"],
    ["*", BOTH, "br"],
    ["*;q=0.5, br;q=0", BOTH, "gzip"],
    ["*;q=0", BOTH, null],
    ["*;q=0, identity", BOTH, "identity"],
    ["identity;q=0", BOTH, null],
    ["identity;q=0, gzip", BOTH, "gzip"],
    ["identity;q=0, deflate", BOTH, null],
    ["identity;q=0, br", [], null],
    ["identity", BOTH, "identity"],
    ["identity;q=0.9, gzip;q=0.5", BOTH, "identity"],
    ["identity;q=0.5, gzip;q=0.5", BOTH, "gzip"],
    ["br;q=0, gzip;q=0", BOTH, "identity"],
    ["BR, X-GZIP", ["gzip"], "gzip"],
    ["gzip;q=2, br;q=abc", BOTH, "identity"], // malformed elements are ignored
    ["gzip;q=0.5555", BOTH, "identity"],
    ["gzip ; Q=0.5 , br;q=0.4", BOTH, "gzip"],
    ["gzip;q=0, gzip;q=1", BOTH, "identity"], // the first entry counts
    [",, ,br,", BOTH, "br"],
    ["br;level=5", BOTH, "br"], // unknown parameters are ignored
    ["g zip, br", BOTH, "br"],
  ];
  for (const [header, have, want] of cases) {
    assert.equal(negotiateEncoding(header, have), want, `${JSON.stringify(header)} of ${have}`);
  }
  assert.deepEqual(parseAcceptEncoding("gzip;q=0, *;q=0.1, x-gzip"), [
    { coding: "gzip", q: 0 },
    { coding: "*", q: 0.1 },
    { coding: "gzip", q: 1 },
  ]);
});

/** The client's weight for `coding` as the RFC words it; "default" for identity not excluded. */
function referenceWeight(entries: { c: string; q: number }[], coding: string): number | "default" {
  for (const e of entries) if (e.c === coding) return e.q;
  for (const e of entries) if (e.c === "*") return e.q;
  return coding === "identity" ? "default" : 0;
}

Deno.test("accept-encoding: the choice is always acceptable and no worse than any other (property)", () => {
  const coding = fc.constantFrom("br", "gzip", "x-gzip", "identity", "*", "deflate", "zstd", "BR");
  const weight = fc.oneof(
    fc.constant(null),
    fc.constantFrom("0", "0.000", "1", "1.000", "0.5"),
    fc.integer({ min: 0, max: 1000 }).map((n) => String(n / 1000)),
    fc.constantFrom("2", "-1", "abc", "0.1234", "1.5", ""),
  );
  const element = fc.tuple(coding, weight, fc.constantFrom("", " "));
  fc.assert(
    fc.property(
      fc.array(element, { maxLength: 6 }),
      fc.subarray(BOTH),
      (elements, have) => {
        const header = elements
          .map(([c, q, sp]) => (q === null ? c : `${c}${sp};${sp}q=${q}`))
          .join(", ");
        // The reference: well-formed entries only, names normalised.
        const entries = elements
          .filter(([, q]) => q === null || /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(q))
          .map(([c, q]) => ({ c: c === "x-gzip" ? "gzip" : c.toLowerCase(), q: Number(q ?? 1) }));
        const chosen = negotiateEncoding(header, have);
        const weights = have.map((h) => referenceWeight(entries, h) as number);
        const identity = referenceWeight(entries, "identity");
        if (chosen === null) {
          assert.equal(identity, 0, `null only when identity is excluded: ${header}`);
          assert.ok(
            weights.every((w) => w === 0),
            `null only when nothing is acceptable: ${header}`,
          );
          return;
        }
        assert.ok(chosen === "identity" || have.includes(chosen), `${chosen} is offered`);
        const w = chosen === "identity" ? identity : referenceWeight(entries, chosen) as number;
        if (w === "default") {
          assert.ok(
            weights.every((x) => x === 0),
            `listed codings win: ${header}`,
          );
        } else {
          assert.ok(w > 0, `${chosen} has q > 0 in ${header}`);
          assert.ok(weights.every((x) => x <= w), `${chosen} has the top weight in ${header}`);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

/** A text that compresses well, `n` bytes long. */
function text(n: number): Uint8Array {
  const words = "bid ask mid spread depth imbalance order flow chart ".repeat(Math.ceil(n / 50));
  return new TextEncoder().encode(words.slice(0, n));
}

async function tempDir(): Promise<URL> {
  return new URL(`file://${await Deno.makeTempDir({ prefix: "web_compression_test_" })}/`);
}

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch {
    return false;
  }
}

Deno.test("precompress: siblings only for compressible files, only when smaller; stale ones replaced or removed", async () => {
  const dir = await tempDir();
  try {
    await Deno.mkdir(new URL("sub/", dir));
    await Deno.mkdir(new URL("build/", dir));
    await Deno.writeFile(new URL("app.js", dir), text(20_000));
    await Deno.writeFile(new URL("sub/style.css", dir), text(3_000));
    await Deno.writeFile(new URL("tiny.css", dir), new TextEncoder().encode("a{}"));
    await Deno.writeFile(new URL("tiny.css.br", dir), new Uint8Array([1, 2, 3])); // stale
    await Deno.writeFile(new URL("logo.png", dir), text(5_000));
    await Deno.writeFile(new URL("gone.js.gz", dir), new Uint8Array([1])); // orphan
    await Deno.writeFile(new URL("data.gz", dir), new Uint8Array([9])); // a real .gz file
    await Deno.writeFile(new URL("build/skip.js", dir), text(5_000));

    const results = await precompressFolder(dir, { exclude: [new URL("build/", dir)] });
    const names = results.map((r) => r.file.pathname.slice(dir.pathname.length)).sort();
    assert.deepEqual(names, ["app.js", "sub/style.css", "tiny.css"]);
    const app = results.find((r) => r.file.pathname.endsWith("app.js"))!;
    assert.ok(app.br! < app.gzip! && app.gzip! < app.bytes, JSON.stringify(app));
    const br = await Deno.readFile(new URL("app.js.br", dir));
    assert.equal(br.byteLength, app.br);
    assert.deepEqual(new Uint8Array(zlib.brotliDecompressSync(br)), text(20_000));
    const gz = await Deno.readFile(new URL("sub/style.css.gz", dir));
    assert.deepEqual(new Uint8Array(zlib.gunzipSync(gz)), text(3_000));
    assert.equal(
      await exists(new URL("tiny.css.br", dir)),
      false,
      "not smaller: stale one removed",
    );
    assert.equal(await exists(new URL("tiny.css.gz", dir)), false);
    assert.equal(await exists(new URL("logo.png.br", dir)), false, "images are left alone");
    assert.equal(await exists(new URL("gone.js.gz", dir)), false, "orphan removed");
    assert.equal(await exists(new URL("data.gz", dir)), true, "a file of its own is kept");
    assert.equal(await exists(new URL("build/skip.js.br", dir)), false, "excluded folder");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

interface Site {
  port: number;
  staticDir: URL;
  bootName: string;
  boot: Uint8Array;
  css: Uint8Array;
}

/** The static file server on lib/net's HTTP server, over a temp static and build folder. */
async function withSite(fn: (site: Site) => Promise<void>): Promise<void> {
  const staticDir = await tempDir();
  const buildDir = new URL("build/", staticDir);
  await Deno.mkdir(buildDir);
  const boot = text(50_000);
  const css = text(4_000);
  const bootName = "boot-0123456789abcdef.js";
  await Deno.writeFile(new URL(bootName, buildDir), boot);
  await precompressFile(new URL(bootName, buildDir));
  await Deno.writeFile(new URL("app.css", staticDir), css);
  await Deno.writeFile(new URL("logo.png", staticDir), text(2_000));
  await precompressFolder(staticDir, { exclude: [buildDir] });
  const files = createStaticFiles({ staticDir, buildDir });
  const server = serveHttp(
    { hostname: "127.0.0.1", port: 0, log: { warn() {}, error() {} } },
    async (req) =>
      await files.serve(req, new URL(req.url).pathname) ?? new Response("none", { status: 404 }),
  );
  try {
    await fn({ port: server.addr.port, staticDir, bootName, boot, css });
  } finally {
    await server.shutdown();
    await Deno.remove(staticDir, { recursive: true });
  }
}

/** One request on a fresh connection; `fields` are extra header lines. */
async function get(
  port: number,
  path: string,
  fields: Record<string, string> = {},
  method = "GET",
): Promise<RawResponse & { h: (name: string) => string | undefined }> {
  const c = await RawHttpClient.connect(port);
  try {
    const lines = Object.entries(fields).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    await c.send(`${method} ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n${lines}\r\n`);
    const res = await c.response(method === "HEAD");
    assert.ok(res, "a response");
    return { ...res, h: (name) => res.headers.find(([n]) => n === name)?.[1] };
  } finally {
    c.close();
  }
}

function decode(body: Uint8Array, coding: string | undefined): Uint8Array {
  if (coding === "br") return new Uint8Array(zlib.brotliDecompressSync(body));
  if (coding === "gzip") return new Uint8Array(zlib.gunzipSync(body));
  assert.equal(coding, undefined, "no other content coding");
  return body;
}

Deno.test("static server: br, gzip and identity decode to the same bytes, with Vary, lengths and distinct ETags", async () => {
  await withSite(async ({ port, bootName, boot, css }) => {
    for (const [path, original] of [[`/build/${bootName}`, boot], ["/app.css", css]] as const) {
      const etags = new Set<string>();
      const sizes: Record<string, number> = {};
      for (
        const [ae, want] of [
          ["gzip, deflate, br, zstd", "br"],
          ["gzip", "gzip"],
          ["deflate", undefined],
          [null, undefined],
        ] as const
      ) {
        const res = await get(port, path, ae === null ? {} : { "Accept-Encoding": ae });
        assert.equal(res.status, 200);
        assert.equal(res.h("content-encoding"), want, `${path} for ${ae}`);
        assert.equal(res.h("vary"), "Accept-Encoding", "Vary on every compressible response");
        assert.equal(Number(res.h("content-length")), res.body.byteLength);
        assert.deepEqual(decode(res.body, want), original, `${path} for ${ae} decodes`);
        etags.add(res.h("etag")!);
        sizes[want ?? "identity"] = res.body.byteLength;

        const head = await get(port, path, ae === null ? {} : { "Accept-Encoding": ae }, "HEAD");
        assert.equal(head.status, 200);
        assert.equal(head.body.byteLength, 0);
        for (const name of ["content-length", "content-encoding", "etag", "vary", "content-type"]) {
          assert.equal(head.h(name), res.h(name), `HEAD ${name} as GET's`);
        }
      }
      assert.equal(etags.size, 3, `one ETag per encoding: ${[...etags]}`);
      assert.ok(sizes.br < sizes.gzip && sizes.gzip < sizes.identity, JSON.stringify(sizes));
    }
  });
});

Deno.test("static server: If-None-Match gives 304 for the same encoding only", async () => {
  await withSite(async ({ port, bootName }) => {
    const path = `/build/${bootName}`;
    const tagOf = async (ae: string) =>
      (await get(port, path, { "Accept-Encoding": ae })).h("etag")!;
    const brTag = await tagOf("br");
    const gzTag = await tagOf("gzip");
    const idTag = await tagOf("identity");
    let res = await get(port, path, { "Accept-Encoding": "br", "If-None-Match": brTag });
    assert.equal(res.status, 304);
    assert.equal(res.h("etag"), brTag);
    assert.equal(res.h("vary"), "Accept-Encoding");
    assert.equal(res.body.byteLength, 0);
    res = await get(port, path, { "Accept-Encoding": "gzip", "If-None-Match": `W/${gzTag}` });
    assert.equal(res.status, 304, "weak comparison");
    res = await get(port, path, { "If-None-Match": idTag });
    assert.equal(res.status, 304);
    res = await get(port, path, { "Accept-Encoding": "gzip", "If-None-Match": brTag });
    assert.equal(res.status, 200, "a br validator does not validate the gzip body");
    assert.equal(res.h("content-encoding"), "gzip");
    res = await get(port, path, { "Accept-Encoding": "br", "If-None-Match": `"x", ${brTag}` });
    assert.equal(res.status, 304, "a list");
    res = await get(port, path, { "Accept-Encoding": "br", "If-None-Match": "*" }, "HEAD");
    assert.equal(res.status, 304);
    const css = await get(port, "/app.css", { "Accept-Encoding": "br" });
    res = await get(port, "/app.css", { "Accept-Encoding": "br", "If-None-Match": css.h("etag")! });
    assert.equal(res.status, 304, "static folder files too");
  });
});

Deno.test("static server: 406, ranges ignored, images untouched, siblings have no URL", async () => {
  await withSite(async ({ port, bootName, boot }) => {
    const path = `/build/${bootName}`;
    let res = await get(port, path, { "Accept-Encoding": "identity;q=0, deflate" });
    assert.equal(res.status, 406);
    assert.equal(res.h("vary"), "Accept-Encoding");
    assert.match(res.text, /available as br, gzip, identity/);
    assert.equal(res.h("cache-control"), "no-cache", "a refusal is not cached for a year");
    res = await get(port, path, { "Range": "bytes=0-9" });
    assert.equal(res.status, 200, "Range ignored: the whole body");
    assert.equal(res.h("accept-ranges"), "none");
    assert.equal(res.h("content-range"), undefined);
    assert.deepEqual(res.body, boot);
    res = await get(port, "/logo.png", { "Accept-Encoding": "br, gzip" });
    assert.equal(res.status, 200);
    assert.equal(res.h("content-encoding"), undefined);
    assert.equal(res.h("vary"), undefined, "not compressible: nothing varies");
    for (const p of [`${path}.br`, `${path}.gz`, "/app.css.br", "/app.css.gz"]) {
      res = await get(port, p, { "Accept-Encoding": "br, gzip" });
      assert.equal(res.status, 404, `${p} is not a URL`);
    }
  });
});

Deno.test("static server: a stale or corrupt sibling is never served", async () => {
  await withSite(async ({ port, staticDir, css }) => {
    // Edited after the build: the old siblings no longer match (the index is built on first use).
    const edited = text(4_100);
    await Deno.writeFile(new URL("app.css", staticDir), edited);
    await Deno.writeFile(new URL("app.css.gz", staticDir), new Uint8Array([31, 139, 8, 0]));
    assert.notDeepEqual(edited, css);
    for (const ae of ["br", "gzip", "br, gzip"]) {
      const res = await get(port, "/app.css", { "Accept-Encoding": ae });
      assert.equal(res.status, 200);
      assert.equal(res.h("content-encoding"), undefined, `identity for ${ae}`);
      assert.deepEqual(res.body, edited);
    }
  });
});

Deno.test("build: the boot script and the static folder get siblings; a rebuild removes the old boot's", async () => {
  const fixture = new URL("./fixtures/web_app/", import.meta.url);
  const tmp = await tempDir();
  const staticDir = new URL("static/", tmp);
  const buildDir = new URL("build/", tmp);
  try {
    await Deno.mkdir(buildDir, { recursive: true });
    await Deno.mkdir(staticDir);
    await Deno.writeFile(new URL("site.css", staticDir), text(3_000));
    const old = "boot-0000000000000000.js";
    for (const name of [old, `${old}.br`, `${old}.gz`]) {
      await Deno.writeFile(new URL(name, buildDir), new Uint8Array([1]));
    }
    const builder = new Builder({
      root: fixture,
      outDir: new URL("out/", tmp),
      buildDir,
      staticDir,
    });
    const { client, precompressed } = await builder.build();
    assert.ok(client);
    assert.deepEqual(await readBuildInfo(buildDir), client);
    const boot = await Deno.readFile(new URL(client.boot, buildDir));
    const br = await Deno.readFile(new URL(`${client.boot}.br`, buildDir));
    const gz = await Deno.readFile(new URL(`${client.boot}.gz`, buildDir));
    assert.equal(client.brBytes, br.byteLength);
    assert.equal(client.gzipBytes, gz.byteLength);
    assert.deepEqual(decode(br, "br"), boot);
    assert.deepEqual(decode(gz, "gzip"), boot);
    assert.deepEqual(precompressed.map((r) => r.file.href), [new URL("site.css", staticDir).href]);
    assert.ok(await exists(new URL("site.css.br", staticDir)));
    const left = (await Array.fromAsync(Deno.readDir(buildDir))).map((e) => e.name).sort();
    assert.deepEqual(
      left,
      [client.boot, `${client.boot}.br`, `${client.boot}.gz`, "build.json"].sort(),
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
