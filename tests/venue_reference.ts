/**
 * Test helpers of the venue protocol tests: the recorded venue frames in
 * `tests/testdata/exchanges/` (see its SOURCES.md) and an independent
 * reference book (JSON.parse + Maps, no code shared with lib/ingest/venues)
 * to check a {@link VenueSync}'s book against.
 *
 * @module
 */

import { crc32 } from "node:zlib";
import fc from "fast-check";
import {
  BOOK_ASK_COUNT,
  BOOK_BID_COUNT,
  BOOK_LAST_UPDATE_ID,
  BookSlotLayout,
} from "../lib/pipeline/book_slot.ts";
import { type VenueSync, VenueSyncResult } from "../lib/ingest/venues/venue_protocol.ts";

const FOLDER = new URL("./testdata/exchanges/", import.meta.url);

/** The non-empty lines of a recorded venue log, each one message as received. */
export function exchangeLines(name: string): string[] {
  return Deno.readTextFileSync(new URL(name, FOLDER)).split("\n").filter((l) => l.length > 0);
}

/** A level as the reference keeps it: the number and the texts as received. */
export interface RefLevel {
  price: number;
  size: number;
  priceText: string;
  sizeText: string;
}

/** A Map-based book: price → level, per side. */
export class ReferenceBook {
  bids = new Map<number, RefLevel>();
  asks = new Map<number, RefLevel>();

  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }

  set(side: "bid" | "ask", priceText: string, sizeText: string): void {
    const map = side === "bid" ? this.bids : this.asks;
    const price = Number(priceText), size = Number(sizeText);
    if (size === 0) map.delete(price);
    else map.set(price, { price, size, priceText, sizeText });
  }

  /** Best `n` levels of a side, best first. */
  top(side: "bid" | "ask", n: number): RefLevel[] {
    const map = side === "bid" ? this.bids : this.asks;
    const sorted = [...map.values()].sort((a, b) =>
      side === "bid" ? b.price - a.price : a.price - b.price
    );
    return sorted.slice(0, n);
  }

  /** Keep the best `n` levels per side. */
  truncate(n: number): void {
    for (const side of ["bid", "ask"] as const) {
      const keep = new Set(this.top(side, n).map((l) => l.price));
      const map = side === "bid" ? this.bids : this.asks;
      for (const p of [...map.keys()]) if (!keep.has(p)) map.delete(p);
    }
  }

  /** The OKX checksum of the top 25, from the texts, by node:zlib. */
  okxChecksum(): number {
    const bids = this.top("bid", 25), asks = this.top("ask", 25);
    const parts: string[] = [];
    for (let i = 0; i < 25; i++) {
      if (i < bids.length) parts.push(bids[i].priceText, bids[i].sizeText);
      if (i < asks.length) parts.push(asks[i].priceText, asks[i].sizeText);
    }
    return crc32(parts.join(":")) | 0;
  }

  /** The Kraken v2 checksum of the top 10, from the texts, by node:zlib. */
  krakenChecksum(): number {
    const strip = (t: string) => t.replace(".", "").replace(/^0+/, "");
    let s = "";
    for (const l of this.top("ask", 10)) s += strip(l.priceText) + strip(l.sizeText);
    for (const l of this.top("bid", 10)) s += strip(l.priceText) + strip(l.sizeText);
    return crc32(s) >>> 0;
  }
}

/** A sync's top levels, read back from a slot it wrote. */
export interface SlotTop {
  bids: [number, number][];
  asks: [number, number][];
  lastUpdateId: number;
}

/** Have `sync` write symbol `id`'s top `levels` into a fresh slot and read it back. */
export function slotTop(sync: VenueSync, id: number, levels: number): SlotTop {
  const layout = new BookSlotLayout(levels);
  const f64 = new Float64Array(layout.slotWords + 3);
  const at = 3; // not at word 0: the offset must be honoured
  sync.writeTop(id, f64, at, layout);
  const bids: [number, number][] = [], asks: [number, number][] = [];
  for (let i = 0; i < f64[at + BOOK_BID_COUNT]; i++) {
    bids.push([f64[at + layout.bidPrice(i)], f64[at + layout.bidSize(i)]]);
  }
  for (let i = 0; i < f64[at + BOOK_ASK_COUNT]; i++) {
    asks.push([f64[at + layout.askPrice(i)], f64[at + layout.askSize(i)]]);
  }
  return { bids, asks, lastUpdateId: f64[at + BOOK_LAST_UPDATE_ID] };
}

/** The reference's top `levels` in the slot's shape, sizes times `multiplier`. */
export function referenceTop(
  ref: ReferenceBook,
  levels: number,
  multiplier = 1,
): { bids: [number, number][]; asks: [number, number][] } {
  const conv = (l: RefLevel): [number, number] => [l.price, l.size * multiplier];
  return { bids: ref.top("bid", levels).map(conv), asks: ref.top("ask", levels).map(conv) };
}

/**
 * Property: `sync` never throws on `line` (a real message) with up to 3
 * characters put in at a random place and a random stretch after it cut, nor
 * on `line` doubled, and always answers one of the {@link VenueSyncResult} codes.
 */
export function assertMutationsAnswerACode(sync: VenueSync, line: string, numRuns = 1500): void {
  const codes = new Set<number>(Object.values(VenueSyncResult));
  fc.assert(
    fc.property(
      fc.nat(line.length - 1),
      fc.nat(line.length - 1),
      fc.string({ maxLength: 3 }),
      (at, to, insert) => {
        const [a, b] = at <= to ? [at, to] : [to, at];
        const mutated = line.slice(0, a) + insert + line.slice(b > a + 4 ? a + 1 : b);
        return codes.has(sync.handle(mutated, 0)) && codes.has(sync.handle(line + line, 0));
      },
    ),
    { numRuns },
  );
}

/**
 * Property: random binary text (up to 300 code units) fed to `sync` never
 * answers any of `never` (e.g. Applied: noise must not change a book).
 */
export function assertNoiseNeverAnswers(
  sync: VenueSync,
  never: readonly VenueSyncResult[],
  numRuns = 3000,
): void {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 300 }), (s) => {
      return !never.includes(sync.handle(s, 0));
    }),
    { numRuns },
  );
}
