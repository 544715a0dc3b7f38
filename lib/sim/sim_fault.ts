/**
 * Faults the simulated exchange can inject, their validation (for the
 * `POST /sim/fault` endpoint) and the command-line spec form (for `sim_main.ts`).
 *
 * | kind             | effect                                                                  |
 * | ---------------- | ----------------------------------------------------------------------- |
 * | `close`          | close all connections, or those carrying `symbol`; with `everyMs`, again every `everyMs` for `durationMs` (default 10 s) |
 * | `stall`          | send nothing for `symbol` (or all symbols) for `durationMs`, or until `clear`; sockets stay open |
 * | `gap`            | the next `events` (default 1) diff events of `symbol` are not sent, so the next one has U ≠ previous u + 1 |
 * | `garbage`        | send `count` (default 1) non-JSON text messages now on connections carrying `symbol` (or all) |
 * | `truncated`      | the next `count` (default 1) frames of `symbol` (or every symbol) are cut in the middle (the frame is lost) |
 * | `crossed`        | the next partial frame of `symbol` (or every symbol) has best bid >= best ask (Binance spot only) |
 * | `checksum`       | the next `count` (default 1) updates of `symbol` (OKX, Kraken) carry a checksum computed over the book with one size altered |
 * | `reset`          | `symbol` (Bybit, OKX, Kraken, Coinbase) resets at its next frame: Bybit a snapshot with u = 1, OKX a sequence reset (seqId < prevSeqId), Kraken and Coinbase a new snapshot |
 * | `quiet`          | the book of `symbol` (or every book) does not change for the next `frames` (default 1) frames; OKX sends its empty keep-alive updates |
 * | `serverShutdown` | send the serverShutdown message now (OKX: notice 64008, Kraken: status "maintenance", Bybit and Coinbase: nothing), close those connections `delayMs` later (default 1000) |
 * | `rest429`        | the next `count` (default 1) REST calls answer 429 with `Retry-After: retryAfterSec` (default 1) |
 * | `rest418`        | the next `count` (default 1) REST calls answer 418 with `Retry-After: retryAfterSec` (default 120) |
 * | `restSlow`       | delay REST responses by `delayMs`, for the next `count` calls or until `clear` |
 * | `clear`          | end every stall, restSlow and repeating close; forget pending gap/truncated/crossed/429/418 |
 *
 * @example
 * ```ts
 * import { parseFault, parseFaultSpec } from "./sim_fault.ts";
 * parseFault({ kind: "gap", symbol: "btcusdt" }); // { kind: "gap", symbol: "btcusdt" }
 * parseFaultSpec("close:5s,everyMs=1s"); // { atMs: 5000, fault: { kind: "close", everyMs: 1000 } }
 * ```
 * @module
 */

import { parseVenueSymbol } from "../pipeline/venue_id.ts";

/**
 * All fault kinds.
 *
 * @example
 * ```ts
 * FAULT_KINDS.includes("stall"); // true
 * ```
 */
export const FAULT_KINDS = [
  "close",
  "stall",
  "gap",
  "garbage",
  "truncated",
  "crossed",
  "checksum",
  "reset",
  "quiet",
  "serverShutdown",
  "rest429",
  "rest418",
  "restSlow",
  "clear",
] as const;

/**
 * One of {@link FAULT_KINDS}.
 *
 * @example
 * ```ts
 * const kind: FaultKind = parseFault({ kind: "crossed" }).kind; // "crossed"
 * ```
 */
export type FaultKind = typeof FAULT_KINDS[number];

/**
 * A fault to inject. Fields not listed for a kind are rejected.
 *
 * @example
 * ```ts
 * const faults: SimFault[] = [
 *   { kind: "close", symbol: "btcusdt", code: 4001 },
 *   { kind: "restSlow", delayMs: 200, count: 3 },
 * ];
 * ```
 */
export type SimFault =
  | { kind: "close"; symbol?: string; code?: number; everyMs?: number; durationMs?: number }
  | { kind: "stall"; symbol?: string; durationMs?: number }
  | { kind: "gap"; symbol: string; events?: number }
  | { kind: "garbage"; symbol?: string; count?: number }
  | { kind: "truncated"; symbol?: string; count?: number }
  | { kind: "crossed"; symbol?: string }
  | { kind: "checksum"; symbol: string; count?: number }
  | { kind: "reset"; symbol: string }
  | { kind: "quiet"; symbol?: string; frames?: number }
  | { kind: "serverShutdown"; symbol?: string; delayMs?: number }
  | { kind: "rest429"; count?: number; retryAfterSec?: number }
  | { kind: "rest418"; count?: number; retryAfterSec?: number }
  | { kind: "restSlow"; delayMs: number; count?: number }
  | { kind: "clear" };

type FieldType = "symbol" | "ms" | "count" | "code" | "seconds";

const FIELDS: Record<FaultKind, Record<string, FieldType>> = {
  close: { symbol: "symbol", code: "code", everyMs: "ms", durationMs: "ms" },
  stall: { symbol: "symbol", durationMs: "ms" },
  gap: { symbol: "symbol", events: "count" },
  garbage: { symbol: "symbol", count: "count" },
  truncated: { symbol: "symbol", count: "count" },
  crossed: { symbol: "symbol" },
  checksum: { symbol: "symbol", count: "count" },
  reset: { symbol: "symbol" },
  quiet: { symbol: "symbol", frames: "count" },
  serverShutdown: { symbol: "symbol", delayMs: "ms" },
  rest429: { count: "count", retryAfterSec: "seconds" },
  rest418: { count: "count", retryAfterSec: "seconds" },
  restSlow: { delayMs: "ms", count: "count" },
  clear: {},
};

const REQUIRED: Partial<Record<FaultKind, string[]>> = {
  gap: ["symbol"],
  checksum: ["symbol"],
  reset: ["symbol"],
  restSlow: ["delayMs"],
};

/**
 * Validates a fault object (e.g. a parsed `POST /sim/fault` body).
 *
 * @param input The candidate fault.
 * @returns The same fault, typed; symbols as service names (`okx:btc-usdt`, `btcusdt`).
 * @throws {TypeError} naming the field that is wrong and what was expected.
 * @example
 * ```ts
 * parseFault({ kind: "rest429", count: 2, retryAfterSec: 1 });
 * ```
 */
export function parseFault(input: unknown): SimFault {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new TypeError(
      `fault must be an object like {"kind":"close"}, got ${JSON.stringify(input)}`,
    );
  }
  const obj = input as Record<string, unknown>;
  const kind = obj.kind;
  if (typeof kind !== "string" || !(FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new TypeError(
      `fault.kind must be one of ${FAULT_KINDS.join(", ")}, got ${JSON.stringify(kind)}`,
    );
  }
  const fields = FIELDS[kind as FaultKind];
  const out: Record<string, unknown> = { kind };
  for (const [key, value] of Object.entries(obj)) {
    if (key === "kind") continue;
    const type = fields[key];
    if (type === undefined) {
      const allowed = Object.keys(fields);
      throw new TypeError(
        `fault "${kind}" has no field "${key}"; allowed: ${
          allowed.length ? allowed.join(", ") : "none"
        }`,
      );
    }
    out[key] = checkField(kind, key, type, value);
  }
  for (const key of REQUIRED[kind as FaultKind] ?? []) {
    if (out[key] === undefined) throw new TypeError(`fault "${kind}" needs the field "${key}"`);
  }
  return out as SimFault;
}

function checkField(kind: string, key: string, type: FieldType, value: unknown): unknown {
  const where = `fault "${kind}" field "${key}"`;
  switch (type) {
    case "symbol":
      if (typeof value !== "string") {
        throw new TypeError(
          `${where} must be a symbol like "btcusdt" or "okx:btc-usdt", got ${
            JSON.stringify(value)
          }`,
        );
      }
      try {
        return parseVenueSymbol(value).name;
      } catch (err) {
        throw new TypeError(
          `${where} must be a symbol like "btcusdt" or "okx:btc-usdt": ${(err as Error).message}`,
        );
      }
    case "ms":
    case "seconds":
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw new TypeError(`${where} must be a non-negative number, got ${JSON.stringify(value)}`);
      }
      return value;
    case "count":
      if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
        throw new TypeError(`${where} must be an integer >= 1, got ${JSON.stringify(value)}`);
      }
      return value;
    case "code":
      if (
        typeof value !== "number" || !Number.isInteger(value) ||
        !(value === 1000 || (value >= 3000 && value <= 4999))
      ) {
        throw new TypeError(
          `${where} must be 1000 or 3000..4999 (codes a server may send), got ${
            JSON.stringify(value)
          }`,
        );
      }
      return value;
  }
}

/**
 * Parses a duration: `"500ms"`, `"5s"`, `"2m"`, or a plain number of milliseconds.
 *
 * @returns Milliseconds.
 * @throws {TypeError} if the text is not such a duration.
 * @example
 * ```ts
 * parseDuration("1.5s"); // 1500
 * ```
 */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (m === null) {
    throw new TypeError(
      `duration must look like 500ms, 5s, 2m or 250, got ${JSON.stringify(text)}`,
    );
  }
  const n = Number(m[1]);
  return m[2] === "s" ? n * 1000 : m[2] === "m" ? n * 60_000 : n;
}

/**
 * A fault scheduled from the command line.
 *
 * @example
 * ```ts
 * const scheduled: ScheduledFault = parseFaultSpec("gap:3s,symbol=btcusdt");
 * scheduled.atMs; // 3000
 * ```
 */
export interface ScheduledFault {
  /** Delay from start until injection, ms. */
  atMs: number;
  /** The fault. */
  fault: SimFault;
}

/**
 * Parses the command-line form `kind[:at][,key=value...]`, where `at` is a
 * duration after start (default 0) and values of `*Ms` keys are durations.
 *
 * @example
 * ```ts
 * parseFaultSpec("stall:10s,durationMs=3s,symbol=btcusdt");
 * // { atMs: 10000, fault: { kind: "stall", durationMs: 3000, symbol: "btcusdt" } }
 * ```
 * @throws {TypeError} on an unknown kind, key or malformed value.
 */
export function parseFaultSpec(spec: string): ScheduledFault {
  const [head, ...pairs] = spec.split(",");
  const colon = head.indexOf(":");
  const kind = colon < 0 ? head : head.slice(0, colon);
  const atMs = colon < 0 ? 0 : parseDuration(head.slice(colon + 1));
  const obj: Record<string, unknown> = { kind };
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      throw new TypeError(`fault spec ${JSON.stringify(spec)}: expected key=value, got ${pair}`);
    }
    const key = pair.slice(0, eq), value = pair.slice(eq + 1);
    if (key === "symbol") obj[key] = value;
    else if (key.endsWith("Ms")) obj[key] = parseDuration(value);
    else {
      const n = Number(value);
      if (value === "" || !Number.isFinite(n)) {
        throw new TypeError(
          `fault spec ${JSON.stringify(spec)}: ${key} must be a number, got ${value}`,
        );
      }
      obj[key] = n;
    }
  }
  return { atMs, fault: parseFault(obj) };
}
