import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeLine,
  isoToUs,
  MAX_TIME_US,
  parseTime,
  TIME_LENGTH,
  usToIso,
  writeTime,
} from "../lib/record/record_line.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("record line: time and message round trip, byte for byte (property)", () => {
  const buf = new Uint8Array(4096);
  fc.assert(
    fc.property(
      fc.maxSafeNat(),
      fc.string({ minLength: 1, maxLength: 200, unit: "binary" }).filter((s) => !s.includes("\n")),
      (us, message) => {
        const end = encodeLine(buf, 0, us, message);
        assert.ok(end > 0);
        assert.equal(buf[end - 1], 10);
        const t = parseTime(buf, 0, end - 1);
        assert.equal(t.us, us);
        assert.equal(t.messageStart, TIME_LENGTH + 1);
        assert.deepEqual(buf.subarray(t.messageStart, end - 1), enc.encode(message));
        // The time text is what Date's ISO form says, with µs.
        const iso = new Date(Math.floor(us / 1000)).toISOString().slice(0, 23);
        const fraction = String(us % 1000).padStart(3, "0");
        assert.equal(dec.decode(buf.subarray(0, TIME_LENGTH)), `${iso}${fraction}0Z`);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("record line: bytes messages are copied untouched; too long does not fit", () => {
  const buf = new Uint8Array(40);
  const msg = new Uint8Array([0xff, 0, 0x7b, 0x7d]);
  const end = encodeLine(buf, 5, 1, msg);
  assert.equal(end, 5 + TIME_LENGTH + 1 + 4 + 1);
  assert.deepEqual(buf.subarray(5 + TIME_LENGTH + 1, end - 1), msg);
  assert.equal(encodeLine(buf, 0, 1, "x".repeat(11)), -1);
  assert.equal(encodeLine(buf, 0, 1, "x".repeat(10)), 40);
  assert.equal(encodeLine(buf, 0, 1, "é".repeat(6)), -1, "12 UTF-8 bytes do not fit in 10");
  assert.equal(encodeLine(buf, 0, 1, "é".repeat(5)), 40, "10 UTF-8 bytes fit");
});

Deno.test("record line: parses tardis times (7 digits, fewer, none) and refuses bad heads", () => {
  const us = (s: string) => {
    const b = enc.encode(s);
    return parseTime(b, 0, b.length).us;
  };
  const base = Date.UTC(2019, 6, 1) * 1000;
  assert.equal(us("2019-07-01T00:00:00.0529306Z {}"), base + 52930);
  assert.equal(us("2019-07-01T00:00:00.5Z {}"), base + 500000);
  assert.equal(us("2019-07-01T00:00:00Z {}"), base);
  assert.equal(us("2019-07-01T00:00:00.123456789Z {}"), base + 123456);
  assert.equal(
    us("2024-02-29T23:59:59.999999Z x"),
    Date.UTC(2024, 1, 29, 23, 59, 59) * 1000 + 999999,
  );
  for (
    const bad of [
      "",
      "hello world",
      "2019-07-01T00:00:00.052930Z", // no message
      "2019-07-01T00:00:00.052930Z ", // empty message
      "2019-07-01T00:00:00.052930Z\t{}",
      "2019-07-01 00:00:00.052930Z {}",
      "2019-13-01T00:00:00.052930Z {}",
      "2023-02-29T00:00:00.052930Z {}",
      "2019-07-01T24:00:00.052930Z {}",
      "2019-07-01T00:60:00.052930Z {}",
      "2019-07-01T00:00:00.Z {}",
      "2019-07-01T00:00:00.1234567890Z {}",
      "2019-07-01T00:00:00.052930 {}",
      "2019-07-01T00:00:00.05x930Z {}",
      "1561939200052930 {}",
    ]
  ) assert.ok(Number.isNaN(us(bad)), bad);
});

Deno.test("record line: writeTime covers leap days and year boundaries", () => {
  const buf = new Uint8Array(TIME_LENGTH);
  for (
    const [ms, want] of [
      [Date.UTC(2000, 1, 29, 1, 2, 3, 4), "2000-02-29T01:02:03.0040000Z"],
      [Date.UTC(2026, 11, 31, 23, 59, 59, 999), "2026-12-31T23:59:59.9990000Z"],
      [0, "1970-01-01T00:00:00.0000000Z"],
    ] as const
  ) {
    writeTime(buf, 0, ms * 1000);
    assert.equal(dec.decode(buf), want);
  }
  writeTime(buf, 0, MAX_TIME_US);
  assert.equal(dec.decode(buf), "2255-06-05T23:47:34.7409910Z");
});

Deno.test("record line: isoToUs and usToIso convert option and clock texts with µs", () => {
  fc.assert(
    fc.property(fc.maxSafeNat(), (us) => {
      assert.equal(isoToUs(usToIso(us)), us);
    }),
  );
  assert.equal(isoToUs("2026-12-02T12:00:00Z"), Date.UTC(2026, 11, 2, 12) * 1000);
  assert.ok(Number.isNaN(isoToUs("2026-12-02T12:00:00+01:00")));
  assert.ok(Number.isNaN(isoToUs("")));
  assert.equal(usToIso(-1), "");
  assert.equal(usToIso(1796212800123456), "2026-12-02T12:00:00.123456Z");
});
