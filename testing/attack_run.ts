/**
 * Runs one attack on a running service and measures what it cost, from the
 * outside: the service's resident set before, at its peak during, and after
 * a settle period; whether the service is still alive (`/health` answers and
 * the process has not exited); what happened to the attacker (the attack's
 * own {@link AttackOutcome}); and whether two honest clients were harmed: a
 * WebSocket dashboard on one symbol that must receive every frame of it
 * (consecutive seq, nothing conflated) and an HTTP client asking for
 * `/stats` once a second.
 *
 * The attacks themselves are in `attacks.ts`.
 *
 * @example
 * ```ts ignore
 * import { errorReplyFlood } from "./attacks.ts";
 * const report = await runAttack({ url, pid }, errorReplyFlood({ durationMs: 10_000 }));
 * console.log(report.rssMiB, report.outcome.summary, report.honestWs);
 * ```
 * @module
 */

import { HonestHttpPoller } from "./honest_http_client.ts";
import { HonestWsClient } from "./honest_ws_client.ts";
import { readRssMiB, RssWatch, type SettleOptions, settleRss } from "./rss_watch.ts";

/** The service under attack. */
export interface AttackTarget {
  /** Base URL, e.g. `http://127.0.0.1:8000/`. */
  url: string;
  /** Its process id, for the resident set; without it the memory columns are NaN. */
  pid?: number;
  /** The `--auth-token` it was started with (the honest clients use it). Default none. */
  token?: string;
  /** Symbol of the honest WebSocket client (and of attacks that need one). Default `BTCUSDT`. */
  symbol?: string;
  /** The process's exit code once it has exited, else null (see `ServiceProcess.exitCode`). */
  exitCode?: () => number | null;
}

/** What every attack reports about the attacker. */
export interface AttackOutcome {
  /** The service closed or refused the attacker, as the issue requires for this attack. */
  stopped: boolean;
  /** What happened to the attacker, one line. */
  summary: string;
}

/** One attack: a name and a function that runs it against a target. */
export interface Attack<O extends AttackOutcome = AttackOutcome> {
  /** Short name, e.g. `error-reply flood`. */
  readonly name: string;
  /** Run it; `signal` aborts (the runner's hang guard). Resolves when the attacker is done and gone. */
  run(target: AttackTarget, signal: AbortSignal): Promise<O>;
}

/** The honest WebSocket client over the attack and the settle period. */
export interface HonestWsReport {
  /** Frames it received. */
  received: number;
  /** Frames its symbol published meanwhile (by seq). */
  expected: number;
  /** Frames the server conflated away for it. */
  conflated: number;
  /** Seq jumps not accounted for. */
  breaks: string[];
  /** Its close code when the server closed it, else undefined. */
  closeCode: number | undefined;
}

/** The honest HTTP client over the attack and the settle period. */
export interface HonestHttpReport {
  /** Requests made. */
  polls: number;
  /** Outcomes by status, `timeout` or `error`. */
  outcomes: Record<string, number>;
  /** A request sent after the attack ended got 200. */
  okAfterAttack: boolean;
}

/** What {@link runAttack} measured. */
export interface AttackReport<O extends AttackOutcome = AttackOutcome> {
  /** The attack's name. */
  name: string;
  /** What happened to the attacker. */
  outcome: O;
  /** How long the attack ran, s. */
  seconds: number;
  /** The service's resident set, MiB: before, peak during, after the settle (NaN when unknown or gone). */
  rssMiB: { before: number; peak: number; after: number };
  /** `/health` answered (200 or 503) after the settle and the process had not exited. */
  alive: boolean;
  /** The `/health` status after the settle, or `timeout`, `error`, `exited <code>`. */
  health: string;
  /** The honest WebSocket client. */
  honestWs: HonestWsReport;
  /** The honest HTTP client. */
  honestHttp: HonestHttpReport;
}

/** Options of {@link runAttack}. */
export interface RunAttackOptions {
  /** How the resident set is let settle after the attack. Default: until it stops falling for 5 s, at most 30 s. */
  settle?: SettleOptions;
  /** End the settle as soon as the resident set is within this of where it was before, MiB (a bound under test). Default none. */
  settleWithinMiB?: number;
  /** Abort the attack after this long (a hang guard), ms. Default 600000. */
  attackTimeoutMs?: number;
  /** Frames the honest client must have before the attack starts. Default 5. */
  framesBefore?: number;
  /** Hang guard for the honest clients' waits, ms. Default 30000. */
  waitMs?: number;
}

/**
 * Whether a report shows the honest WebSocket client received every frame of
 * its symbol: some frames, all of them, none conflated, no break, not closed.
 *
 * @example
 * ```ts ignore
 * assert.ok(everyFrame(report.honestWs), JSON.stringify(report.honestWs));
 * ```
 */
export function everyFrame(ws: HonestWsReport): boolean {
  return ws.expected > 0 && ws.received === ws.expected && ws.conflated === 0 &&
    ws.breaks.length === 0 && ws.closeCode === undefined;
}

/**
 * Run `attack` against `target` with the honest clients watching; see the
 * module doc.
 *
 * @throws Error when the honest WebSocket client gets no frames before the attack (the service is not serving).
 * @example
 * ```ts ignore
 * // Settle until within 50 MiB of before, at most 30 s.
 * const report = await runAttack(target, idleConnections({ holdMs: 20_000 }), {
 *   settle: { quietMs: 30_000, timeoutMs: 30_000 },
 *   settleWithinMiB: 50,
 * });
 * ```
 */
export async function runAttack<O extends AttackOutcome>(
  target: AttackTarget,
  attack: Attack<O>,
  options: RunAttackOptions = {},
): Promise<AttackReport<O>> {
  const waitMs = options.waitMs ?? 30_000;
  const symbol = target.symbol ?? "BTCUSDT";
  const honest = new HonestWsClient(target.url, symbol, target.token);
  let poller: HonestHttpPoller | undefined;
  try {
    const framesBefore = options.framesBefore ?? 5;
    if (!await honest.untilFrames(framesBefore, waitMs)) {
      throw new Error(
        `the honest client got ${honest.frames} frames of ${symbol} in ${waitMs} ms ` +
          `(closed: ${honest.closeCode ?? "no"}): expected ${framesBefore} before the attack`,
      );
    }
    poller = new HonestHttpPoller(target.url, { token: target.token });
    const pid = target.pid;
    const before = pid === undefined ? NaN : readRssMiB(pid);
    const mark = honest.mark();
    const watch = pid === undefined ? undefined : RssWatch.start(pid);
    const abort = new AbortController();
    const guard = setTimeout(() => abort.abort(), options.attackTimeoutMs ?? 600_000);
    const t0 = Date.now();
    let outcome: O;
    try {
      outcome = await attack.run(target, abort.signal);
    } finally {
      clearTimeout(guard);
    }
    const attackEnd = Date.now();
    const peak = watch?.stop() ?? NaN;
    const settle = { quietMs: 5000, timeoutMs: 30_000, ...options.settle };
    if (options.settleWithinMiB !== undefined) settle.targetMiB = before + options.settleWithinMiB;
    const after = pid === undefined ? NaN : await settleRss(pid, settle);
    const honestWs = await honestWindow(honest, mark, target, waitMs);
    const health = await healthOf(target);
    await poller.untilPolledSince(attackEnd, waitMs);
    await poller.stop();
    return {
      name: attack.name,
      outcome,
      seconds: (attackEnd - t0) / 1000,
      rssMiB: { before, peak, after },
      alive: health === "200" || health === "503",
      health,
      honestWs,
      honestHttp: {
        polls: poller.polls,
        outcomes: { ...poller.outcomes },
        okAfterAttack: poller.lastOkAt >= attackEnd,
      },
    };
  } finally {
    await poller?.stop();
    await honest.close();
  }
}

/**
 * The honest client's window from `mark`: wait until the symbol's latest seq
 * (read from a fresh connection's Hello) is past the mark, then until the
 * client has the frame it names, so a client that silently stopped receiving
 * shows frames missing and the window is never empty.
 */
async function honestWindow(
  honest: HonestWsClient,
  mark: { frames: number; seq: number },
  target: AttackTarget,
  waitMs: number,
): Promise<HonestWsReport> {
  const deadline = Date.now() + waitMs;
  // At least one frame after the mark (a stalled moment on a busy machine is not an empty
  // window): probe again until the symbol's seq has moved on, within the hang guard.
  let latest = await latestSeq(target, Math.min(waitMs, 10_000));
  while (!(latest > mark.seq) && !honest.closed && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    latest = await latestSeq(target, Math.min(waitMs, 10_000));
  }
  while (!honest.closed && honest.seq < latest && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const { received } = honest.since(mark);
  const expected = Math.max(honest.seq, Number.isNaN(latest) ? -1 : latest) - mark.seq;
  return {
    received,
    expected,
    conflated: honest.conflated,
    breaks: [...honest.breaks],
    closeCode: honest.closeCode,
  };
}

/** The current seq of the target's symbol, from the Hello of a new connection; NaN when none answers. */
async function latestSeq(target: AttackTarget, timeoutMs: number): Promise<number> {
  const probe = new HonestWsClient(target.url, target.symbol ?? "BTCUSDT", target.token);
  try {
    const deadline = Date.now() + timeoutMs;
    while (probe.hellos === 0 && !probe.closed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return probe.hellos > 0 ? probe.seq : NaN;
  } finally {
    await probe.close();
  }
}

/** `/health`'s status, or why there was none. */
async function healthOf(target: AttackTarget): Promise<string> {
  const code = target.exitCode?.();
  if (code !== undefined && code !== null) return `exited ${code}`;
  try {
    const res = await fetch(new URL("/health", target.url), {
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    return String(res.status);
  } catch (e) {
    return e instanceof DOMException && e.name === "TimeoutError" ? "timeout" : "error";
  }
}
