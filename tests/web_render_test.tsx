import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { signal } from "@preact/signals";
import { registerIslands } from "../lib/web/islands.ts";
import { renderPage } from "../lib/web/render.ts";

function Inner({ n }: { n: number }) {
  return <i>inner {n}</i>;
}
function Outer({ label }: { label: string }) {
  return (
    <b>
      {label}
      <Inner n={2} />
    </b>
  );
}
function Takes({ fn }: { fn: () => void }) {
  return <span>{typeof fn}</span>;
}
registerIslands([
  {
    name: "t_inner:default",
    file: "./islands/t_inner.tsx",
    exportName: "default",
    component: Inner,
  },
  {
    name: "t_outer:default",
    file: "./islands/t_outer.tsx",
    exportName: "default",
    component: Outer,
  },
  {
    name: "t_takes:default",
    file: "./islands/t_takes.tsx",
    exportName: "default",
    component: Takes,
  },
]);

const boot = () => "/build/boot-0123456789abcdef.js";

Deno.test("render: an island nested in an island renders inside the outer one only", () => {
  const page = renderPage({
    vnode: (
      <html>
        <body>
          <Outer label="x" />
          <Inner n={1} />
        </body>
      </html>
    ),
    bootScript: boot,
  });
  assert.equal(page.islands, 2);
  assert.ok(
    page.html.includes(
      '<dw-island data-dw="0" style="display:contents"><b>x<i>inner 2</i></b></dw-island>' +
        '<dw-island data-dw="1" style="display:contents"><i>inner 1</i></dw-island>',
    ),
    page.html,
  );
  assert.ok(page.html.endsWith(
    '<script type="module" src="/build/boot-0123456789abcdef.js"></script></body></html>',
  ));
});

Deno.test("render: outside renderPage islands are plain components", () => {
  assert.equal(renderToString(<Outer label="y" />), "<b>y<i>inner 2</i></b>");
});

Deno.test("render: without islands there is no script; with no <body> the block is appended", () => {
  const plain = renderPage({ vnode: <p>hi</p>, bootScript: boot });
  assert.equal(plain.html, "<!DOCTYPE html><p>hi</p>");
  const frag = renderPage({ vnode: <Inner n={3} />, bootScript: boot });
  assert.match(frag.html, /<\/dw-island><script type="application\/json"/);
});

Deno.test("render: unserializable island props fail naming the island and prop", () => {
  assert.throws(
    () => renderPage({ vnode: <Takes fn={() => {}} />, bootScript: boot }),
    /props of island "t_takes:default"\.fn: found a function/,
  );
  // The failed render left no state behind: the next page starts at id 0.
  const next = renderPage({ vnode: <Inner n={4} />, bootScript: boot });
  assert.match(next.html, /data-dw="0"/);
});

Deno.test("render: a module-level signal is read at render time, never carried to the next render", () => {
  // What the docs warn about: this signal is shared by every request in the process.
  const moduleLevel = signal(1);
  function Page() {
    return <Outer label={String(moduleLevel.value)} />;
  }
  const first = renderPage({ vnode: <Page />, bootScript: boot });
  moduleLevel.value = 2;
  const second = renderPage({ vnode: <Page />, bootScript: boot });
  assert.match(first.html, /"label":"1"/);
  assert.match(second.html, /"label":"2"/);
  assert.ok(!second.html.includes('"label":"1"'));
});
