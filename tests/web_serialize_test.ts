import assert from "node:assert/strict";
import fc from "fast-check";
import { Signal, signal } from "@preact/signals";
import {
  decodeValue,
  type Encoded,
  encodeValue,
  SerializeError,
  stringifyForScript,
} from "../lib/web/serialize.ts";

function roundTrip(value: unknown): unknown {
  const text = stringifyForScript(encodeValue(value));
  return decodeValue(JSON.parse(text) as Encoded);
}

Deno.test("serialize: awkward numbers, undefined and dates survive", () => {
  const date = new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 5));
  const out = roundTrip({
    nan: NaN,
    inf: Infinity,
    ninf: -Infinity,
    nzero: -0,
    zero: 0,
    undef: undefined,
    arr: [undefined, NaN, 1],
    date,
    bad: new Date(NaN),
  }) as Record<string, unknown>;
  assert.ok(Number.isNaN(out.nan));
  assert.equal(out.inf, Infinity);
  assert.equal(out.ninf, -Infinity);
  assert.ok(Object.is(out.nzero, -0));
  assert.ok(Object.is(out.zero, 0));
  assert.ok("undef" in out);
  assert.equal(out.undef, undefined);
  assert.equal((out.arr as unknown[]).length, 3);
  assert.ok(Number.isNaN((out.arr as unknown[])[1]));
  assert.ok(out.date instanceof Date);
  assert.equal((out.date as Date).getTime(), date.getTime());
  assert.ok(Number.isNaN((out.bad as Date).getTime()));
});

Deno.test("serialize: strings cannot break out of a script element", () => {
  const evil = "</script><script>alert(1)</script><!-- \u2028\u2029 & > end";
  const text = stringifyForScript(encodeValue({ evil }));
  for (const bad of ["<", ">", "&", "\u2028", "\u2029"]) {
    assert.ok(!text.includes(bad), `output must not contain ${JSON.stringify(bad)}`);
  }
  assert.deepEqual(decodeValue(JSON.parse(text)), { evil });
});

Deno.test("serialize: signals are tagged, revived as signals, and shared ones stay shared", () => {
  const s = signal({ n: 1 });
  const encoded = encodeValue({ a: s, b: s, c: signal(NaN) });
  // Not flattened by Signal.prototype.toJSON.
  assert.equal((encoded as Record<string, Record<string, Encoded>>).a.$t, "s");
  const out = decodeValue(JSON.parse(stringifyForScript(encoded))) as Record<string, Signal>;
  assert.ok(out.a instanceof Signal);
  assert.equal(out.a, out.b);
  assert.deepEqual(out.a.value, { n: 1 });
  assert.ok(Number.isNaN(out.c.value));
  assert.notEqual(out.a, s, "the browser gets its own signal");
});

Deno.test("serialize: user objects that look like tags are escaped", () => {
  const value = { $t: "n", v: "NaN", nested: [{ $t: "u" }] };
  assert.deepEqual(roundTrip(value), value);
});

Deno.test("serialize: a __proto__ key stays data and changes no prototype", () => {
  const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
  const out = roundTrip(value) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.equal((out as { polluted?: boolean }).polluted, undefined);
  assert.deepEqual(Object.getOwnPropertyDescriptor(out, "__proto__")?.value, { polluted: true });
});

Deno.test("serialize: unsupported values fail with the path and what was expected", () => {
  const cases: [unknown, RegExp][] = [
    [{ f: () => 1 }, /value\.f: found a function/],
    [{ a: [1, Symbol("x")] }, /value\.a\[1\]: found a symbol/],
    [{ b: 1n }, /found a bigint/],
    [{ m: new Map() }, /found an instance of Map/],
    [{ el: { type: "div", props: {}, constructor: undefined } }, /JSX element/],
  ];
  for (const [value, re] of cases) {
    assert.throws(() => encodeValue(value), (err: unknown) => {
      assert.ok(err instanceof SerializeError);
      assert.match(err.message, re);
      assert.match(err.message, /expected JSON values/);
      return true;
    });
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.throws(() => encodeValue(cyclic), /value\.self: found a cycle/);
  // Repeated (non-cyclic) references are fine.
  const shared = { x: 1 };
  assert.deepEqual(roundTrip([shared, shared]), [{ x: 1 }, { x: 1 }]);
});

Deno.test("serialize: plain values round-trip (property)", () => {
  const value = fc.letrec((tie) => ({
    leaf: fc.oneof(
      fc.double(),
      fc.integer(),
      fc.string({ unit: "binary" }),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.date({ noInvalidDate: true }),
    ),
    node: fc.oneof(
      { depthSize: "small" },
      tie("leaf"),
      fc.array(tie("node"), { maxLength: 4 }),
      fc.dictionary(fc.string(), tie("node"), { maxKeys: 4, noNullPrototype: true }),
    ),
  })).node;
  fc.assert(
    fc.property(value, (v) => {
      const text = stringifyForScript(encodeValue(v));
      assert.ok(!/[<>&\u2028\u2029]/.test(text));
      assert.deepStrictEqual(decodeValue(JSON.parse(text)), v);
    }),
    { numRuns: 300 },
  );
});
