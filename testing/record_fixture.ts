/**
 * Real recorded Binance messages with made-up receive times, for the
 * recording format's tests and benchmark: every line of every recorded stream
 * and the two REST snapshots wrapped the way tardis writes them.
 *
 * @example
 * ```ts
 * import { recordedMessages } from "./record_fixture.ts";
 * const msgs = recordedMessages(Date.UTC(2026, 11, 2, 11, 59) * 1000, 1000);
 * msgs.length > 400; // true
 * ```
 * @module
 */
import {
  RECORDED_SNAPSHOTS,
  RECORDED_STREAMS,
  recordedJson,
  recordedLines,
} from "./recorded_data.ts";

/** One message and its receive time. */
export interface TimedMessage {
  us: number;
  text: string;
}

/**
 * The recorded messages in a fixed order, the first at `startUs`, each
 * `stepUs` plus an odd few µs after the one before (so every µs digit moves).
 */
export function recordedMessages(startUs: number, stepUs: number): TimedMessage[] {
  const texts: string[] = [];
  for (const name of RECORDED_STREAMS) texts.push(...recordedLines(name));
  for (const name of RECORDED_SNAPSHOTS) {
    const symbol = name.includes("futures") ? "sushiusdt" : "nknusdt";
    texts.push(
      `{"stream":"${symbol}@depthSnapshot","generated":true,"data":${
        JSON.stringify(recordedJson(name))
      }}`,
    );
  }
  let us = startUs;
  return texts.map((text, i) => {
    const m = { us, text };
    us += stepUs + ((i * 7919) % 997);
    return m;
  });
}
