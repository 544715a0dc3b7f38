/**
 * `ops/alerts.yml`: valid for Prometheus (`promtool check rules`), the key
 * alerts fire on the series they are meant for (`promtool test rules`), and
 * every metric name and label value the file uses is really exposed by the
 * running service's `/metrics`, so a renamed metric cannot silently disarm an
 * alert.
 *
 * promtool comes with Debian's `prometheus` package:
 * `apt-get install -y --no-install-recommends prometheus`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseConfig } from "../lib/server/config.ts";
import { startService } from "../main.ts";
import { createLogger } from "../lib/pipeline/logger.ts";
import { startNatsServer } from "../testing/nats_server.ts";

const RULES = new URL("../ops/alerts.yml", import.meta.url);
const RULES_PATH = decodeURIComponent(RULES.pathname);

/** Run promtool with `args`; throws a how-to-install message when it is missing. */
async function promtool(args: string[]): Promise<{ code: number; output: string }> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("promtool", { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new Error(
      "promtool was not found on PATH: it is needed to check ops/alerts.yml. Install it with " +
        "`apt-get update && apt-get install -y --no-install-recommends prometheus` " +
        "(Debian's prometheus package ships /usr/bin/promtool), then run this test again.",
    );
  }
  const d = new TextDecoder();
  return { code: out.code, output: d.decode(out.stdout) + d.decode(out.stderr) };
}

Deno.test("alert rules: promtool check rules accepts ops/alerts.yml", async () => {
  const { code, output } = await promtool(["check", "rules", RULES_PATH]);
  assert.equal(code, 0, output);
  const m = /SUCCESS: (\d+) rules found/.exec(output);
  assert.ok(m, output);
  assert.ok(Number(m[1]) >= 10, `expected at least 10 rules, got ${m[1]}`);
});

/** A `promtool test rules` file exercising the main alerts. */
function unitTests(rulesPath: string): string {
  return `rule_files: [${JSON.stringify(rulesPath)}]
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'depthwatch_feed_up{job="depthwatch",instance="a",symbol="BTCUSDT"}'
        values: '1 1 1 0 0 0 0 0 0 0 0'
      - series: 'depthwatch_feed_up{job="depthwatch",instance="a",symbol="ETHUSDT"}'
        values: '1x10'
      - series: 'depthwatch_queue_dropped_total{job="depthwatch",instance="a",queue="raw"}'
        values: '0+10x40'
      - series: 'depthwatch_queue_dropped_total{job="depthwatch",instance="a",queue="processed"}'
        values: '0x40'
      - series: 'depthwatch_worker_restarts_total{job="depthwatch",instance="a",worker="ingest"}'
        values: '0 0 1 2 3 4 5 5 5 5'
      - series: 'depthwatch_worker_restarts_total{job="depthwatch",instance="a",worker="analytics"}'
        values: '0x10'
      # 100 frames per 15 s each; BTCUSDT has 2 of them rejected (2%), ETHUSDT 0.5%.
      - series: 'depthwatch_frames_received_total{job="depthwatch",instance="a",symbol="BTCUSDT"}'
        values: '0+100x120'
      - series: 'depthwatch_frames_rejected_by_symbol_total{job="depthwatch",instance="a",symbol="BTCUSDT"}'
        values: '0+2x120'
      - series: 'depthwatch_frames_received_total{job="depthwatch",instance="a",symbol="ETHUSDT"}'
        values: '0+100x120'
      - series: 'depthwatch_frames_rejected_by_symbol_total{job="depthwatch",instance="a",symbol="ETHUSDT"}'
        values: '0+0.5x120'
      # 10 symbols: all live, then 2 stale from 1m on (20%).
      - series: 'depthwatch_feeds{job="depthwatch",instance="a",state="live"}'
        values: '10 10 10 10 8x20'
      - series: 'depthwatch_feeds{job="depthwatch",instance="a",state="stale"}'
        values: '0 0 0 0 2x20'
      - series: 'depthwatch_feeds{job="depthwatch",instance="a",state="connecting"}'
        values: '0x24'
      - series: 'depthwatch_feeds{job="depthwatch",instance="a",state="resyncing"}'
        values: '0x24'
    alert_rule_test:
      - eval_time: 30s
        alertname: DepthwatchFeedDown
        exp_alerts: []
      - eval_time: 2m
        alertname: DepthwatchFeedDown
        exp_alerts:
          - exp_labels: {severity: critical, job: depthwatch, instance: a, symbol: BTCUSDT}
            exp_annotations:
              summary: "BTCUSDT feed down for 1m on a"
              description: "No live data for BTCUSDT for a minute (stale, reconnecting or resyncing). The dashboard shows its last good book flagged stale. See /health reasons and depthwatch_reconnects_total."
      - eval_time: 2m
        alertname: DepthwatchManyFeedsDown
        exp_alerts: []
      - eval_time: 4m
        alertname: DepthwatchManyFeedsDown
        exp_alerts:
          - exp_labels: {severity: critical, job: depthwatch, instance: a}
            exp_annotations:
              summary: "20% of feeds not live for 2m on a"
              description: "More than a tenth of the symbols have no live data: the exchange or the network to it, not one symbol. depthwatch_feeds{state} says whether they are reconnecting, stale or resyncing; DepthwatchFeedDown names each symbol."
      - eval_time: 25m
        alertname: DepthwatchFramesRejected
        exp_alerts:
          - exp_labels: {severity: warning, job: depthwatch, instance: a, symbol: BTCUSDT}
            exp_annotations:
              summary: "BTCUSDT: more than 1% of frames rejected for 10m"
              description: "Frames fail validation: a protocol change at the exchange, or a corrupting proxy. Which reasons: depthwatch_frames_rejected_by_reason_total, and this symbol's reasons under symbols.<symbol>.rejected in /stats."
      - eval_time: 10m
        alertname: DepthwatchQueueDropping
        exp_alerts:
          - exp_labels: {severity: warning, job: depthwatch, instance: a, queue: raw}
            exp_annotations:
              summary: "raw queue dropping 0.67 frames/s for 5m"
              description: "The raw ring is full and drops its oldest frames (counted, never silent). The consumer is too slow: CPU starved, too many symbols, or --sim-rate too high."
      - eval_time: 2m
        alertname: DepthwatchWorkerCrashLoop
        exp_alerts:
          - exp_labels: {severity: critical, job: depthwatch, instance: a, worker: ingest}
            exp_annotations:
              summary: "ingest worker crash loop (5 restarts in 15m)"
              description: "The worker keeps failing; restarts back off up to 5 s. A bad deploy or missing --allow-read/--allow-net permission is the usual cause."
`;
}

Deno.test("alert rules: promtool test rules — feed down, many feeds down, rejects, queue drops, crash loop fire as meant", async () => {
  const dir = await Deno.makeTempDir({ prefix: "depthwatch_alerts_" });
  try {
    const file = `${dir}/alerts_test.yml`;
    await Deno.writeTextFile(file, unitTests(RULES_PATH));
    const { code, output } = await promtool(["test", "rules", file]);
    assert.equal(code, 0, output);
    assert.match(output, /SUCCESS/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Every `name{labels} value` sample of a Prometheus text exposition. */
function samples(text: string): { name: string; labels: Map<string, string> }[] {
  const out: { name: string; labels: Map<string, string> }[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s/.exec(line);
    assert.ok(m, `unparseable /metrics line: ${line}`);
    const labels = new Map<string, string>();
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels.set(l[1], l[2]);
    }
    out.push({ name: m[1], labels });
  }
  return out;
}

Deno.test("alert rules: every metric and label value the rules use is exposed by /metrics", async () => {
  const rules = await Deno.readTextFile(RULES);
  const recordDir = await Deno.makeTempDir();
  const nats = await startNatsServer();
  const service = await startService(
    // Recording on and a NATS bus in the role "all": those rules have their metrics too.
    parseConfig([
      "--source=sim",
      "--port=0",
      "--symbols=btcusdt",
      `--record-dir=${recordDir}`,
      `--bus=${nats.url}`,
    ]),
    { log: createLogger({ level: "error" }) },
  );
  let exposition: string;
  try {
    // Wait for the first frames so every per-symbol series exists (30 s: a hang guard).
    const until = Date.now() + 30_000;
    const live = (text: string) => /^depthwatch_feed_up\{symbol="BTCUSDT"\} 1$/m.test(text);
    do {
      await new Promise((r) => setTimeout(r, 100));
      exposition = await (await fetch(new URL("/metrics", service.url))).text();
    } while (!live(exposition) && Date.now() < until);
    assert.ok(live(exposition), "BTCUSDT never live within 30 s");
  } finally {
    await service.close();
    await nats.stop();
    await Deno.remove(recordDir, { recursive: true });
  }
  const exposed = samples(exposition);
  const names = new Set(exposed.map((s) => s.name));

  // Metric names anywhere in the file, annotations included.
  const used = new Set(
    [...rules.matchAll(/\b((?:depthwatch|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]),
  );
  assert.ok(used.size >= 10, `expected many metric names in the rules, found ${[...used]}`);
  const missing = [...used].filter((n) => !names.has(n));
  assert.deepEqual(missing, [], `the rules use metrics that /metrics does not expose`);

  // `up` is the one series Prometheus makes itself; it must name the job.
  for (const m of rules.matchAll(/\bup\b(\{[^}]*\})?/g)) {
    if (m.index !== undefined && /expr:\s*$/.test(rules.slice(0, m.index).split("\n").pop()!)) {
      assert.equal(m[1], '{job="depthwatch"}');
    }
  }

  // Label matchers: the label exists on that metric and each matched value occurs.
  let checked = 0;
  for (const sel of rules.matchAll(/\b(depthwatch_[a-z0-9_]+)\{([^}]*)\}/g)) {
    const [, metric, matchers] = sel;
    for (const mm of matchers.matchAll(/(\w+)\s*(=~|=)\s*"([^"]*)"/g)) {
      const [, label, op, pattern] = mm;
      const values = new Set(
        exposed.filter((s) => s.name === metric && s.labels.has(label)).map((s) =>
          s.labels.get(label)!
        ),
      );
      assert.ok(values.size > 0, `${metric} has no label "${label}" in /metrics`);
      const wanted = op === "=" ? [pattern] : pattern.split("|");
      for (const v of wanted) {
        assert.ok(
          values.has(v),
          `${metric}{${label}="${v}"} is not exposed; values seen: ${[...values].join(", ")}`,
        );
      }
      checked++;
    }
  }
  assert.ok(checked >= 3, `expected label matchers in the rules, checked ${checked}`);
});
