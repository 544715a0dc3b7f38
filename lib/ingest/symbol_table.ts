/**
 * The run's symbols and a zero-allocation lookup from text to symbol id.
 *
 * Symbol ids are indexes into the list the table was built from. Lookups are
 * case-insensitive (ASCII), so both lower-case stream names
 * (`btcusdt@depth20@100ms`) and upper-case `"s":"BTCUSDT"` values resolve to the
 * same id without slicing or lower-casing the text.
 *
 * @example
 * ```ts
 * import { SymbolTable } from "./symbol_table.ts";
 * const table = new SymbolTable(["BTCUSDT", "ethusdt"]);
 * table.idOf("ethusdt@depth20@100ms"); // 1
 * table.idOf('"s":"BTCUSDT"', 5, 12); // 0
 * table.name(0); // "btcusdt"
 * table.upper(1); // "ETHUSDT"
 * ```
 * @module
 */

/** Longest symbol name accepted, in characters. */
export const MAX_SYMBOL_LENGTH = 32;

const CHAR_AT = 64; // '@'

/** True for the characters allowed in a (lower-cased) symbol: a-z 0-9 _ . - */
function isSymbolChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
}

/** ASCII lower-case fold of one char code. */
function fold(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/**
 * An immutable table of the symbols of a run.
 *
 * @example
 * ```ts
 * import { SymbolTable } from "./symbol_table.ts";
 * const t = new SymbolTable(["btcusdt"]);
 * t.size; // 1
 * t.idOf("xrpusdt"); // -1
 * ```
 */
export class SymbolTable {
  /** Number of symbols. */
  readonly size: number;
  readonly #lower: readonly string[];
  readonly #upper: readonly string[];
  /** Open-addressing hash table of `id + 1` (0 = empty slot). */
  readonly #slots: Int32Array;
  readonly #mask: number;
  /** The chars of {@link SymbolTable.idOf}'s region as bytes (one past the longest name). */
  readonly #bytes = new Uint8Array(MAX_SYMBOL_LENGTH + 1);

  /**
   * Builds the table; ids follow the order of `symbols`.
   *
   * @param symbols the run's symbols, any ASCII case; each 1 to {@link MAX_SYMBOL_LENGTH}
   *   characters from `A-Z a-z 0-9 _ . -`, no duplicates (case-insensitively), at least one.
   * @throws TypeError when the list is empty, a name is invalid or repeated.
   */
  constructor(symbols: readonly string[]) {
    if (!Array.isArray(symbols) || symbols.length === 0) {
      throw new TypeError("symbol table needs at least one symbol, got an empty list");
    }
    const lower: string[] = [];
    for (let i = 0; i < symbols.length; i++) {
      const raw = symbols[i];
      if (typeof raw !== "string") {
        throw new TypeError(`symbol #${i} must be a string, got ${typeof raw}`);
      }
      const name = raw.toLowerCase();
      if (name.length < 1 || name.length > MAX_SYMBOL_LENGTH) {
        throw new TypeError(
          `symbol #${i} ${JSON.stringify(raw)} must have 1 to ${MAX_SYMBOL_LENGTH} characters`,
        );
      }
      for (let k = 0; k < name.length; k++) {
        if (!isSymbolChar(name.charCodeAt(k))) {
          throw new TypeError(
            `symbol #${i} ${JSON.stringify(raw)} has an invalid character at ${k}; ` +
              "expected only letters, digits, '_', '.' or '-' (e.g. \"btcusdt\")",
          );
        }
      }
      const previous = lower.indexOf(name);
      if (previous >= 0) {
        throw new TypeError(
          `symbol #${i} ${JSON.stringify(raw)} repeats symbol #${previous}; symbols must be unique`,
        );
      }
      lower.push(name);
    }
    this.size = lower.length;
    this.#lower = lower;
    this.#upper = lower.map((s) => s.toUpperCase());
    let cap = 8;
    while (cap < lower.length * 4) cap *= 2;
    this.#slots = new Int32Array(cap);
    this.#mask = cap - 1;
    const encoder = new TextEncoder();
    for (let id = 0; id < lower.length; id++) {
      const name = encoder.encode(lower[id]);
      let h = hashBytes(name, 0, name.length) & this.#mask;
      while (this.#slots[h] !== 0) h = (h + 1) & this.#mask;
      this.#slots[h] = id + 1;
    }
  }

  /**
   * Id of the symbol spelled in `text[start, end)`, ending early at the first
   * `'@'` (so a whole stream name may be passed). Case-insensitive. Allocates nothing.
   *
   * @param text the text holding the name.
   * @param start first index of the name; default 0.
   * @param end index after the region; default `text.length`.
   * @returns the symbol id, or -1 when the region names no symbol of the table.
   *
   * @example
   * ```ts
   * import { SymbolTable } from "./symbol_table.ts";
   * new SymbolTable(["btcusdt"]).idOf("BTCUSDT"); // 0
   * ```
   */
  idOf(text: string, start = 0, end: number = text.length): number {
    // Enough chars to find the '@' or to exceed the longest name; a char
    // beyond Latin-1 becomes 0, which no name contains.
    const n = Math.min(end, start + MAX_SYMBOL_LENGTH + 1) - start;
    const bytes = this.#bytes;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(start + i);
      bytes[i] = c < 256 ? c : 0;
    }
    return this.idOfBytes(bytes, 0, n);
  }

  /**
   * Like {@link SymbolTable.idOf}, over ASCII/UTF-8 bytes `bytes[start, end)`.
   * Allocates nothing.
   *
   * @returns the symbol id, or -1 when the region names no symbol of the table.
   * @example
   * ```ts
   * import { SymbolTable } from "./symbol_table.ts";
   * const t = new SymbolTable(["btcusdt"]);
   * t.idOfBytes(new TextEncoder().encode("btcusdt@depth"), 0, 13); // 0
   * ```
   */
  idOfBytes(bytes: Uint8Array, start: number, end: number): number {
    let stop = start;
    while (stop < end && bytes[stop] !== CHAR_AT) stop++;
    const len = stop - start;
    if (len < 1 || len > MAX_SYMBOL_LENGTH) return -1;
    const slots = this.#slots;
    const mask = this.#mask;
    let h = hashBytes(bytes, start, stop) & mask;
    for (;;) {
      const entry = slots[h];
      if (entry === 0) return -1;
      const name = this.#lower[entry - 1];
      if (name.length === len) {
        let k = 0;
        while (k < len && fold(bytes[start + k]) === name.charCodeAt(k)) k++;
        if (k === len) return entry - 1;
      }
      h = (h + 1) & mask;
    }
  }

  /**
   * Lower-case name of symbol `id` (as used in stream names).
   *
   * @throws RangeError when `id` is not a symbol id of this table.
   * @example
   * ```ts
   * import { SymbolTable } from "./symbol_table.ts";
   * new SymbolTable(["BTCUSDT"]).name(0); // "btcusdt"
   * ```
   */
  name(id: number): string {
    return this.#lower[this.#check(id)];
  }

  /**
   * Upper-case name of symbol `id` (as used in REST requests and metric labels).
   *
   * @throws RangeError when `id` is not a symbol id of this table.
   * @example
   * ```ts
   * import { SymbolTable } from "./symbol_table.ts";
   * new SymbolTable(["btcusdt"]).upper(0); // "BTCUSDT"
   * ```
   */
  upper(id: number): string {
    return this.#upper[this.#check(id)];
  }

  /**
   * All lower-case names, indexed by id.
   *
   * @example
   * ```ts
   * import { SymbolTable } from "./symbol_table.ts";
   * new SymbolTable(["A", "b"]).names(); // ["a", "b"]
   * ```
   */
  names(): readonly string[] {
    return this.#lower;
  }

  #check(id: number): number {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) {
      throw new RangeError(`symbol id must be an integer from 0 to ${this.size - 1}, got ${id}`);
    }
    return id;
  }
}

/** FNV-1a style hash of the ASCII-folded bytes `bytes[start, end)`. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ fold(bytes[i]), 0x01000193);
  return (h ^ (h >>> 15)) >>> 0;
}
