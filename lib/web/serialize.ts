/**
 * Serialization of island props into an HTML data block, and their revival in
 * the browser.
 *
 * Island props travel from the server render to the browser inside a
 * `<script type="application/json">` block. Plain JSON cannot carry `NaN`,
 * `Infinity`, `-Infinity`, `-0`, `undefined`, `Date` or a `@preact/signals`
 * signal (signals even have a `toJSON` that would silently flatten them), so
 * those are encoded as tagged objects `{"$t": tag, ...}`. A plain object that
 * happens to own a `$t` key is wrapped as well, so no user value can be
 * mistaken for a tag.
 *
 * Tags: `n` special number (`v`: "NaN" | "Infinity" | "-Infinity" | "-0"),
 * `u` undefined, `d` Date (`v`: encoded epoch milliseconds), `s` signal (`i`:
 * id within the block, `v`: encoded value; a later occurrence of the same
 * signal is `{"$t":"s","r":id}` so shared signals stay shared), `o` escaped
 * plain object (`v`: the object).
 *
 * This module runs in the browser too: it must not touch the `Deno` global.
 *
 * @module
 */
import { Signal, signal } from "@preact/signals";

/**
 * A value in the encoded (JSON-safe) form.
 *
 * @example
 * ```ts
 * import type { Encoded } from "./serialize.ts";
 * const nan: Encoded = { $t: "n", v: "NaN" };
 * ```
 */
export type Encoded =
  | null
  | boolean
  | number
  | string
  | Encoded[]
  | { [key: string]: Encoded };

/**
 * Error thrown when a value cannot be carried to the browser.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeValue, SerializeError } from "./serialize.ts";
 * assert.throws(() => encodeValue({ fn: () => {} }, "props"), SerializeError);
 * ```
 */
export class SerializeError extends Error {
  /**
   * @param path Where the value sits, e.g. `props.rows[2].fn`.
   * @param what What was found there.
   */
  constructor(path: string, what: string) {
    super(
      `Cannot serialize ${path}: found ${what}; expected JSON values, NaN, ` +
        `Infinity, -Infinity, -0, undefined, Date, @preact/signals signals, ` +
        `or arrays/plain objects of these`,
    );
    this.name = "SerializeError";
  }
}

const TAG = "$t";

/**
 * Encode a value into a JSON-safe tree (see the module docs for the tags).
 *
 * Signals are read once (`peek()`), so encoding does not subscribe anything.
 * Throws {@linkcode SerializeError} for functions, symbols, bigints, class
 * instances, Maps/Sets, VNodes and cycles.
 *
 * @example Encode awkward numbers
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeValue } from "./serialize.ts";
 * assert.deepEqual(encodeValue([NaN, -0]), [{ $t: "n", v: "NaN" }, { $t: "n", v: "-0" }]);
 * ```
 *
 * @param value The value to encode.
 * @param path Name used in error messages (default `"value"`).
 * @param signals Signal identities seen so far in the same data block; pass
 *   the same map for all values of one block so shared signals stay shared.
 */
export function encodeValue(
  value: unknown,
  path = "value",
  signals: Map<Signal, number> = new Map(),
): Encoded {
  return encode(value, path, signals, new Set());
}

function encode(
  value: unknown,
  path: string,
  signals: Map<Signal, number>,
  stack: Set<object>,
): Encoded {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (Number.isNaN(value)) return { [TAG]: "n", v: "NaN" };
      if (value === Infinity) return { [TAG]: "n", v: "Infinity" };
      if (value === -Infinity) return { [TAG]: "n", v: "-Infinity" };
      if (Object.is(value, -0)) return { [TAG]: "n", v: "-0" };
      return value;
    case "undefined":
      return { [TAG]: "u" };
    case "function":
      return fail(path, `a function (${(value as { name?: string }).name || "anonymous"})`);
    case "symbol":
      return fail(path, "a symbol");
    case "bigint":
      return fail(path, "a bigint");
  }
  if (value === null) return null;
  const obj = value as object;
  if (stack.has(obj)) return fail(path, "a cycle");
  if (obj instanceof Signal) {
    const seen = signals.get(obj);
    if (seen !== undefined) return { [TAG]: "s", r: seen };
    const id = signals.size;
    signals.set(obj, id);
    stack.add(obj);
    const inner = encode(obj.peek(), `${path}.value`, signals, stack);
    stack.delete(obj);
    return { [TAG]: "s", i: id, v: inner };
  }
  if (obj instanceof Date) {
    return { [TAG]: "d", v: encode(obj.getTime(), path, signals, stack) };
  }
  stack.add(obj);
  try {
    if (Array.isArray(obj)) {
      const out: Encoded[] = new Array(obj.length);
      for (let i = 0; i < obj.length; i++) {
        out[i] = encode(obj[i], `${path}[${i}]`, signals, stack);
      }
      return out;
    }
    const proto = Object.getPrototypeOf(obj);
    // Preact marks VNodes with an own `constructor: undefined` property.
    if (
      proto === Object.prototype && Object.hasOwn(obj, "constructor") &&
      (obj as { constructor?: unknown }).constructor === undefined && "props" in obj
    ) {
      return fail(path, "a JSX element (islands cannot take server-rendered children)");
    }
    if (proto !== Object.prototype && proto !== null) {
      return fail(path, `an instance of ${proto.constructor?.name ?? "an unknown class"}`);
    }
    const out: { [key: string]: Encoded } = {};
    for (const key of Object.keys(obj)) {
      setOwn(
        out,
        key,
        encode((obj as Record<string, unknown>)[key], `${path}.${key}`, signals, stack),
      );
    }
    return Object.hasOwn(out, TAG) ? { [TAG]: "o", v: out } : out;
  } finally {
    stack.delete(obj);
  }
}

function fail(path: string, what: string): never {
  throw new SerializeError(path, what);
}

/**
 * Decode a tree made by {@linkcode encodeValue}. Tagged signals become new
 * `signal()`s; occurrences of the same signal id return the same signal.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeValue, encodeValue } from "./serialize.ts";
 * assert.deepEqual(decodeValue(encodeValue({ a: undefined, b: -Infinity })), { a: undefined, b: -Infinity });
 * ```
 *
 * @param value The encoded tree (as parsed by `JSON.parse`).
 * @param signals Signals revived so far in the same data block.
 */
export function decodeValue(value: Encoded, signals: Map<number, Signal> = new Map()): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = decodeValue(value[i], signals);
    return out;
  }
  if (Object.hasOwn(value, TAG)) {
    const tag = value[TAG];
    switch (tag) {
      case "n":
        return value.v === "-0" ? -0 : Number(value.v);
      case "u":
        return undefined;
      case "d":
        return new Date(decodeValue(value.v, signals) as number);
      case "o":
        return decodeObject(value.v as { [key: string]: Encoded }, signals);
      case "s": {
        if (typeof value.r === "number") {
          const known = signals.get(value.r);
          if (!known) {
            throw new Error(`Malformed island data: signal ${value.r} used before defined`);
          }
          return known;
        }
        const s = signal<unknown>(undefined);
        signals.set(value.i as number, s);
        s.value = decodeValue(value.v, signals);
        return s;
      }
      default:
        throw new Error(`Malformed island data: unknown tag ${JSON.stringify(tag)}`);
    }
  }
  return decodeObject(value, signals);
}

function decodeObject(value: { [key: string]: Encoded }, signals: Map<number, Signal>) {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setOwn(out, key, decodeValue(value[key], signals));
  return out;
}

/** `obj[key] = value` that also works for a `__proto__` key (no prototype change). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}

const UNSAFE = /[<>&\u2028\u2029]/g;
const ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/**
 * `JSON.stringify` that is safe to place inside an HTML `<script>` element:
 * `<`, `>`, `&`, U+2028 and U+2029 are written as `\uXXXX` escapes, so a
 * string containing `</script>` or `<!--` cannot end or confuse the element.
 * `JSON.parse` reads the result back unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stringifyForScript } from "./serialize.ts";
 * assert.equal(stringifyForScript("</script>"), '"\\u003c/script\\u003e"');
 * ```
 *
 * @param value A JSON-safe value (e.g. the output of {@linkcode encodeValue}).
 */
export function stringifyForScript(value: Encoded): string {
  return JSON.stringify(value).replace(UNSAFE, (c) => ESCAPES[c]);
}
