/**
 * The dashboard on a replay, in real headless Chromium against the real
 * service (`--source replay`) playing a recording of an old date (written
 * here with lib/record's `RecordWriter`: one hour file of 2024-03-14): the
 * mode badge says REPLAY with the recorded date and time, ticking, the speed
 * and the state, on `/` and on `/s/{SYMBOL}`; the 1 h and 24 h charts end
 * their time axes at the replay clock, so the recording's bars are on the
 * axis (against the browser's clock they would all lie two years to the
 * left). Also `/api/replay` at the end of a `max` replay.
 * Every wait is for a condition; its timeout only guards against a hang.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { RecordWriter } from "../lib/record/mod.ts";
import { parseConfig } from "../lib/server/config.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import { type Service, startService } from "../main.ts";
import { launchChromium, until } from "../testing/chromium_session.ts";

const HOUR_MS = 3_600_000;
/** The recording's first record: an old date, so no wall clock is near it. */
const T0_MS = Date.parse("2024-03-14T09:00:00Z");
const DATE = "2024-03-14";

/** A depth20 message of `symbol` (valid: bids below asks; the mid wanders with `i`). */
function depth(symbol: string, i: number): string {
  const bid = (100 + (i % 13) * 0.5).toFixed(2);
  const ask = (101 + (i % 13) * 0.5).toFixed(2);
  return `{"stream":"${symbol}@depth20@100ms","data":{"lastUpdateId":${1000 + i},` +
    `"bids":[["${bid}","1.5"],["${(Number(bid) - 1).toFixed(2)}","3"]],` +
    `"asks":[["${ask}","2"],["${(Number(ask) + 1).toFixed(2)}","4"]]}}`;
}

/**
 * Record `seconds` of two symbols (one message each every 500 ms, alternating)
 * from 09:00:00 on 2024-03-14 into `dir`; returns the hour file.
 */
function recordOldHour(dir: string, seconds: number): string {
  const w = new RecordWriter({ dir, venue: "binance" });
  for (let i = 0; i < seconds * 2; i++) {
    w.append((T0_MS + i * 500) * 1000, depth(i % 2 ? "ethusdt" : "btcusdt", i));
  }
  w.close();
  return `${dir}/binance/${DATE}/09.dwrec.zst`;
}

function replayService(path: string, speed: string, build: boolean): Promise<Service> {
  const config = parseConfig([
    "--source",
    "replay",
    "--replay-path",
    path,
    "--replay-speed",
    speed,
    "--port",
    "0",
  ]);
  return startService(config, { build, log: createLogger({ level: "error" }) });
}

interface BadgeReading {
  mode: string | null;
  state: string | null;
  clockMs: number;
  time: string;
  speed: string;
}

function readBadge(page: Page): Promise<BadgeReading> {
  return page.evaluate(() => {
    const b = document.querySelector<HTMLElement>(".mode-badge");
    const text = (sel: string) => b?.querySelector(sel)?.textContent ?? "";
    return {
      mode: b?.dataset.mode ?? null,
      state: b?.dataset.replayState ?? null,
      clockMs: Number(b?.dataset.clockMs || NaN),
      time: text(".replay-clock"),
      speed: text(".replay-speed"),
    };
  });
}

/** The badge shows REPLAY, the recorded date, 10×, playing, and its clock ticks. */
async function checkBadge(page: Page, where: string): Promise<void> {
  await page.locator('.mode-badge[data-mode="REPLAY"][data-replay-state="playing"]').waitFor();
  const first = await readBadge(page);
  assert.match(first.time, new RegExp(`^${DATE} 09:\\d\\d:\\d\\d UTC$`), `${where}: ${first.time}`);
  assert.equal(first.speed, "10×", where);
  assert.ok(first.clockMs >= T0_MS && first.clockMs < T0_MS + HOUR_MS, `${where}: in the hour`);
  assert.ok(await page.locator(".mode-badge").isVisible(), `${where}: badge visible`);
  // Ticking: the shown clock moves on (by the replay's seconds, not the browser's date).
  await until(`${where}: the badge clock to tick`, async () => {
    const now = await readBadge(page);
    return now.clockMs > first.clockMs && now.time !== first.time &&
      now.time.startsWith(`${DATE} 09:`);
  });
}

/** Where the bar chart's axis ends and how many points of its first line are on it. */
function barAxis(page: Page, chart: string): Promise<{ end: number; points: number }> {
  return page.evaluate((id) => {
    const el = document.querySelector<HTMLElement>(`[data-chart="${id}"]`);
    return { end: Number(el?.dataset.axisEnd ?? NaN), points: Number(el?.dataset.points ?? 0) };
  }, chart);
}

Deno.test({
  name:
    "replay dashboard: badge with the recorded clock, speed and state; bars on the replay clock",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const path = recordOldHour(dir, 3600);
    const service = await replayService(path, "10", true);
    const browser = await launchChromium();
    try {
      const errors: string[] = [];
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      page.setDefaultTimeout(60_000); // a hang guard for every locator wait
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      page.on("pageerror", (e) => errors.push(String(e)));

      // The position API says playing at 10× once the first record is played.
      await until("the replay to play", async () => {
        const res = await fetch(new URL("/api/replay", service.url));
        const p = await res.json();
        return p.state === "playing" && p.speed === 10 && p.clockMs >= T0_MS;
      });

      // The first paint (no JS) already carries the recorded clock.
      const html = await (await fetch(new URL("/s/BTCUSDT", service.url))).text();
      assert.match(html, new RegExp(`class="replay-clock"[^>]*>${DATE} 09:\\d\\d:\\d\\d UTC<`));

      await page.goto(new URL("/", service.url).href);
      await checkBadge(page, "overview");

      await page.goto(new URL("/s/BTCUSDT", service.url).href);
      await checkBadge(page, "detail");

      // 1 h: the axis ends at the replay clock and the recording's closed bars are on it.
      // (Against the browser's clock only the open bar and its carry would be drawn: 4 points.)
      await page.locator('[data-range="1h"]').click();
      await until("the 1 h chart to show closed bars of the recording", async () => {
        const { end, points } = await barAxis(page, "mid");
        return end >= T0_MS && end < T0_MS + HOUR_MS && points >= 10;
      });
      const badge = await readBadge(page);
      const axis = await barAxis(page, "mid");
      assert.ok(
        Math.abs(axis.end - badge.clockMs) < 60_000,
        `the axis ends near the badge's clock (${axis.end} vs ${badge.clockMs})`,
      );
      for (const id of ["spread", "imbalance", "ofi"]) {
        const a = await barAxis(page, id);
        assert.ok(a.end >= T0_MS && a.end < T0_MS + HOUR_MS, `${id}: axis on the recording`);
      }

      // 24 h: 1-minute bars, the same clock.
      await page.locator('[data-range="24h"]').click();
      await until("the 24 h chart on the replay clock", async () => {
        const { end, points } = await barAxis(page, "mid");
        return end >= T0_MS && end < T0_MS + HOUR_MS && points >= 2;
      });
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await browser.close();
      await service.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("/api/replay: ended at max speed with the last record's time; 404 without a replay", async () => {
  const dir = await Deno.makeTempDir();
  const path = recordOldHour(dir, 30);
  const service = await replayService(path, "max", false);
  try {
    let position;
    await until("the replay to end", async () => {
      position = await (await fetch(new URL("/api/replay", service.url))).json();
      return position.state === "ended";
    });
    assert.deepEqual(position, {
      clockMs: T0_MS + 59 * 500, // the 60th record
      speed: "max",
      state: "ended",
      loops: 0,
    });
  } finally {
    await service.close();
    await Deno.remove(dir, { recursive: true });
  }
  const sim = await startService(
    parseConfig(["--source", "sim", "--symbols", "btcusdt", "--port", "0"]),
    { log: createLogger({ level: "error" }) },
  );
  try {
    const res = await fetch(new URL("/api/replay", sim.url));
    assert.equal(res.status, 404);
    assert.match((await res.json()).error, /--source replay/);
  } finally {
    await sim.close();
  }
});
