import assert from "node:assert/strict";
import { createRouter, parseRouteFile } from "../lib/web/router.ts";

const page = { default: () => null };

Deno.test("router: file names map to Fresh patterns", () => {
  const router = createRouter({
    "./routes/index.tsx": page,
    "./routes/about.tsx": page,
    "./routes/api/history.ts": page,
    "./routes/book/[name].tsx": page,
    "./routes/book/new.tsx": page,
    "./routes/docs/[...path].tsx": page,
    "./routes/(marketing)/pricing.tsx": page,
    "./routes/_app.tsx": page,
    "./routes/_404.tsx": page,
  });
  assert.deepEqual(router.routes.map((r) => r.pattern).sort(), [
    "/",
    "/about",
    "/api/history",
    "/book/:name",
    "/book/new",
    "/docs/:path*",
    "/pricing",
  ]);
  assert.equal(router.match("/")?.route.pattern, "/");
  assert.equal(router.match("/about")?.route.pattern, "/about");
  assert.equal(router.match("/about/")?.route.pattern, "/about", "trailing slash ignored");
  assert.equal(router.match("/api/history")?.route.file, "./routes/api/history.ts");
  assert.equal(router.match("/pricing")?.route.file, "./routes/(marketing)/pricing.tsx");
  assert.equal(router.match("/book/new")?.route.pattern, "/book/new", "static wins");
  assert.deepEqual(router.match("/book/btc%20usdt")?.params, { name: "btc usdt" });
  assert.equal(router.match("/book"), null);
  assert.equal(router.match("/book/a/b"), null);
  assert.deepEqual(router.match("/docs/a/b%2Fc")?.params, { path: "a/b/c" });
  assert.deepEqual(router.match("/docs")?.params, { path: "" });
  assert.equal(router.match("/_app"), null, "special files are not routes");
  assert.equal(router.match("/nope"), null);
  assert.ok(router.special.app && router.special.notFound);
  assert.throws(() => router.match("/book/%E0%A4%A"), URIError);
});

Deno.test("router: bad file names and conflicts are rejected with a reason", () => {
  assert.throws(
    () => parseRouteFile("./routes/[bad-name].tsx"),
    /expected \[name\] or \[\.\.\.name\]/,
  );
  assert.throws(() => parseRouteFile("./routes/a[b].tsx"), /brackets must enclose/);
  assert.throws(() => parseRouteFile("./routes/[...a]/b.tsx"), /must be the last/);
  assert.throws(() => parseRouteFile("./routes/[a]/[a].tsx"), /Duplicate route parameter/);
  assert.throws(() => parseRouteFile("./pages/x.tsx"), /expected "\.\/routes\//);
  assert.throws(
    () => createRouter({ "./routes/a.tsx": page, "./routes/a/index.tsx": page }),
    /Route conflict.*"\/a"/,
  );
  assert.throws(
    () => createRouter({ "./routes/[x].tsx": page, "./routes/[y].tsx": page }),
    /Route conflict/,
  );
});
