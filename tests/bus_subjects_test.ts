/**
 * The bus's subject names (lib/bus/bus_subjects.ts): the versioned layout of
 * docs/design.md §10, tokens NATS would misread refused with a message that
 * names the token and what is expected, and the frame subject parse as the
 * exact inverse of the builder.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkToken,
  controlSubject,
  FRAME_WILDCARD,
  frameSubject,
  parseFrameSubject,
  rawSubject,
  summarySubject,
} from "../lib/bus/bus_subjects.ts";

Deno.test("subjects: the versioned layout of design §10", () => {
  assert.equal(frameSubject("binance", "BTCUSDT"), "dw.v1.an.binance.BTCUSDT.frame");
  assert.equal(rawSubject("binance", "BTCUSDT"), "dw.v1.md.binance.BTCUSDT.raw");
  assert.equal(summarySubject("binance", "ingest-1"), "dw.v1.sum.binance.ingest-1");
  assert.equal(controlSubject("hello", "ingest-1"), "dw.v1.ctl.hello.ingest-1");
  assert.equal(FRAME_WILDCARD, "dw.v1.an.>");
  // Symbols are used as the venue writes them (case and other punctuation kept).
  assert.equal(frameSubject("kraken", "XBT/USD"), "dw.v1.an.kraken.XBT/USD.frame");
});

Deno.test("subjects: tokens NATS would misread are refused, saying what and what is expected", () => {
  const cases: [string, string, RegExp][] = [
    ["symbol", "BTC.USDT", /symbol "BTC\.USDT" contains "\." \(the subject separator\)/],
    ["symbol", "BTC*", /symbol "BTC\*" contains "\*" \(a NATS wildcard\)/],
    ["venue", ">", /venue ">" contains ">" \(a NATS wildcard\)/],
    ["symbol", "BTC USDT", /contains white space \(U\+0020\)/],
    ["symbol", "BTC\tUSDT", /contains white space \(U\+0009\)/],
    ["symbol", "BTC\u0000", /contains a control character \(U\+0000\)/],
    ["node", "", /node is empty; expected a non-empty token/],
  ];
  for (const [kind, token, message] of cases) {
    assert.throws(() => checkToken(kind, token), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, message);
      assert.match(e.message, /expected a non-empty token without/);
      return true;
    });
  }
  assert.throws(() => frameSubject("binance", "A.B"), /symbol "A\.B"/);
  assert.throws(() => rawSubject("bin ance", "AB"), /venue "bin ance"/);
  assert.throws(() => summarySubject("binance", "*"), /node "\*"/);
  assert.throws(
    () => checkToken("symbol", 7 as unknown as string),
    /symbol must be a string, got number/,
  );
});

Deno.test("subjects: parseFrameSubject inverts frameSubject for every valid pair", () => {
  const token = fc.string({ minLength: 1, maxLength: 20, unit: "grapheme" })
    .filter((t) => {
      try {
        return checkToken("token", t) === t;
      } catch {
        return false;
      }
    });
  fc.assert(fc.property(token, token, (venue, symbol) => {
    assert.deepEqual(parseFrameSubject(frameSubject(venue, symbol)), { venue, symbol });
  }));
});

Deno.test("subjects: parseFrameSubject refuses everything that is not exactly a frame subject", () => {
  for (
    const subject of [
      "dw.v1.md.binance.BTCUSDT.raw",
      "dw.v2.an.binance.BTCUSDT.frame",
      "dw.v1.an.binance.BTCUSDT",
      "dw.v1.an.binance.frame",
      "dw.v1.an..BTCUSDT.frame",
      "dw.v1.an.binance..frame",
      "dw.v1.an.binance.BTC.USDT.frame",
      "dw.v1.an.frame",
      "x.dw.v1.an.binance.BTCUSDT.frame",
      "",
    ]
  ) {
    assert.equal(parseFrameSubject(subject), undefined, subject);
  }
});
