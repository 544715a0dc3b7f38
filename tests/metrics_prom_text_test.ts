import assert from "node:assert/strict";
import fc from "fast-check";
import { Gauge, Registry } from "prom-client";
import { checkHistogram, parsePromText, sampleValue } from "./fixtures/prom_text.ts";

Deno.test("prom text parser: families, HELP/label unescaping, special values", () => {
  const f = parsePromText(
    [
      "# HELP a_total Line one\\nline \\\\two",
      "# TYPE a_total counter",
      'a_total{k="q\\"uote",b="back\\\\slash\\nnl"} 3',
      "a_total 4 1700000000000",
      "# a plain comment",
      "# TYPE g gauge",
      "g NaN",
      'g{x="1"} +Inf',
      'g{x="2"} -1.5e-3',
      "",
    ].join("\n"),
  );
  const a = f.get("a_total")!;
  assert.equal(a.type, "counter");
  assert.equal(a.help, "Line one\nline \\two");
  assert.deepEqual(a.samples[0].labels, { k: 'q"uote', b: "back\\slash\nnl" });
  assert.equal(sampleValue(f, "a_total", { k: 'q"uote' }), 3);
  assert.equal(a.samples[1].value, 4);
  assert.ok(Number.isNaN(f.get("g")!.samples[0].value));
  assert.equal(sampleValue(f, "g", { x: "1" }), Infinity);
  assert.equal(sampleValue(f, "g", { x: "2" }), -0.0015);
});

Deno.test("prom text parser: rejects what a scraper would reject", () => {
  const bad: [string, RegExp][] = [
    ["x 1\n", /no # TYPE/],
    ["# TYPE x gauge\nx 1", /end with a newline/],
    ['# TYPE x gauge\nx{a="\\t"} 1\n', /bad escape/],
    ['# TYPE x gauge\nx{a="1"\n', /unterminated|expected/],
    ["# TYPE x gauge\nx one\n", /bad sample value/],
    ["# TYPE x gauge\nx 1\n# HELP x late\n", /after its samples/],
    ["# TYPE x widget\n", /unknown type/],
    ['# TYPE x gauge\nx{a="1",a="2"} 1\n', /duplicate label/],
    ['# TYPE x gauge\nx{1a="1"} 1\n', /bad label name/],
  ];
  for (const [text, re] of bad) assert.throws(() => parsePromText(text), re, text);
});

Deno.test("prom text parser: histogram checks", () => {
  const ok = parsePromText(
    "# TYPE h histogram\n" +
      'h_bucket{le="0.1"} 1\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 4\nh_sum 2.5\nh_count 4\n',
  );
  const [s] = checkHistogram(ok.get("h")!).values();
  assert.deepEqual(s, { buckets: [[0.1, 1], [1, 3], [Infinity, 4]], sum: 2.5, count: 4 });
  const cases: [string, RegExp][] = [
    ['h_bucket{le="0.1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n', /decrease/],
    ['h_bucket{le="0.1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n', /_count 3 != \+Inf/],
    ['h_bucket{le="0.1"} 1\nh_sum 1\nh_count 1\n', /no \+Inf/],
    [
      'h_bucket{le="1"} 1\nh_bucket{le="0.1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      /ascending/,
    ],
    ['h_bucket{le="+Inf"} 1\nh_count 1\n', /no _sum/],
  ];
  for (const [body, re] of cases) {
    const f = parsePromText("# TYPE h histogram\n" + body);
    assert.throws(() => checkHistogram(f.get("h")!), re, body);
  }
});

Deno.test("prom text: any label value round-trips through prom-client and the parser", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(fc.string({ unit: "grapheme", maxLength: 12 }), {
        minLength: 1,
        maxLength: 5,
      }),
      fc.string({ unit: "grapheme", maxLength: 20 }),
      async (values, help) => {
        const registry = new Registry();
        const g = new Gauge({
          name: "t",
          help: help || "h",
          labelNames: ["v"],
          registers: [registry],
        });
        values.forEach((v, i) => g.set({ v }, i));
        const f = parsePromText(await registry.metrics());
        assert.equal(f.get("t")!.help, help || "h");
        values.forEach((v, i) => assert.equal(sampleValue(f, "t", { v }), i));
      },
    ),
    { numRuns: 200 },
  );
});
