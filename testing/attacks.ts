/**
 * The attacks of issue 12 ("no client can exhaust the service"), each a
 * function of its sizes returning an {@link Attack} for `runAttack`
 * (`attack_run.ts`). All use real sockets: hand-written HTTP and masked
 * WebSocket frames where a well-behaved client could not make the attack.
 *
 * | attack                    | what the attacker does                                                                        | the service should                                    |
 * | ------------------------- | --------------------------------------------------------------------------------------------- | ----------------------------------------------------- |
 * | {@link errorReplyFlood}   | WebSocket, unsubscribes from everything, never reads, 18 Subscribes/s of ~1,360 unknown names | answer one error per request, close it (1008)         |
 * | {@link bigFrame}          | one 64 MiB binary frame, header then payload streamed, no token                               | close it (1009) from the frame header, buffer nothing |
 * | {@link fragmentedMessage} | 1 GiB as 1 MiB continuation frames, no token                                                  | close it (1009) once the message is over the limit    |
 * | {@link idleConnections}   | idle TCP connections opened until one is refused, held                                        | refuse with 503 + Retry-After, time the held ones out |
 * | {@link slowloris}         | request heads that never end, a byte every few seconds                                        | close them when the head is not complete in time      |
 * | {@link idleKeepAlive}     | one request per connection, then idle                                                         | close them after the keep-alive idle time             |
 * | {@link fdExhaustion}      | 2,000 idle connections against a service with a low file limit                                | stay alive: refuse above the cap, never die of EMFILE |
 * | {@link malformedRequests} | malformed upgrades, foreign `Host`, a garbage request line                                    | 400 / 421 / 426, nothing else                         |
 *
 * @example
 * ```ts ignore
 * import { runAttack } from "./attack_run.ts";
 * const report = await runAttack({ url, pid }, bigFrame({ bytes: 64 << 20 }));
 * console.log(report.outcome.summary); // "closed 1009 after 1.0 of 64.0 MiB"
 * ```
 * @module
 */

import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { ClientMessageSchema } from "../proto/gen/market_pb.ts";
import type { Attack, AttackOutcome, AttackTarget } from "./attack_run.ts";
import { Opcode, RawWsClient, UpgradeRefused } from "./raw_ws_client.ts";
import { ConnectionSwarm, type SwarmOptions } from "./tcp_swarm.ts";

const MiB = 1 << 20;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, ms));
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(1);
}

function encode(kind: MessageInitShape<typeof ClientMessageSchema>["kind"]): Uint8Array {
  return toBinary(ClientMessageSchema, create(ClientMessageSchema, { kind }));
}

/**
 * `depthwatch_ws_disconnects_total` by reason, from `/metrics`; empty when it
 * cannot be read.
 *
 * @example
 * ```ts ignore
 * const before = await wsDisconnects(target);
 * ```
 */
export async function wsDisconnects(target: AttackTarget): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const res = await fetch(new URL("/metrics", target.url), {
      headers: target.token ? { authorization: `Bearer ${target.token}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    for (const m of text.matchAll(/^depthwatch_ws_disconnects_total\{reason="(\w+)"\} (\S+)$/gm)) {
      out[m[1]] = Number(m[2]);
    }
  } catch { /* the service is gone or busy: no counts */ }
  return out;
}

/** Counters that grew from `before` to `after`, with their increase. */
function grown(before: Record<string, number>, after: Record<string, number>) {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    if (v > (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  }
  return out;
}

function describeDisconnects(d: Record<string, number>): string {
  const reasons = Object.keys(d);
  return reasons.length ? reasons.join(", ") : "no disconnect counted";
}

/** What a WebSocket attacker saw. */
export interface WsAttackOutcome extends AttackOutcome {
  /** 101 when the upgrade succeeded, else the refusal's status (0: the connection ended). */
  upgradeStatus: number;
  /** Bytes written after the handshake. */
  bytesWritten: number;
  /** The server's close frame code, when one was read. */
  closeCode: number | undefined;
  /** The close frame's reason. */
  closeReason: string | undefined;
  /** How the connection ended for the attacker: `eof`, a read error, or undefined (still open when given up). */
  ended: string | undefined;
  /** Increase of `depthwatch_ws_disconnects_total` by reason over the attack (the honest client is not closed). */
  disconnects: Record<string, number>;
}

/** Options of {@link errorReplyFlood}. */
export interface ErrorReplyFloodOptions {
  /** Subscribe messages per second. Default 18 (under the limit of 20). */
  rate?: number;
  /** Give up after this long when the service has not closed the attacker, ms. Default 140000. */
  durationMs?: number;
  /** Unknown symbol names per message. Default 1360 (4,083 bytes, just under 4,096). */
  names?: number;
}

/** An outcome of {@link errorReplyFlood}. */
export interface ErrorReplyFloodOutcome extends WsAttackOutcome {
  /** Subscribe messages sent. */
  sent: number;
}

/**
 * Attack a: a WebSocket client that unsubscribes from everything, never
 * reads, and sends `Subscribe` messages naming ~1,360 unknown symbols, 18 a
 * second, until the service closes it or `durationMs` passes. It uses the
 * target's token (a hostile client that has one). Stopped when closed.
 *
 * @example
 * ```ts ignore
 * const report = await runAttack(target, errorReplyFlood({ durationMs: 20_000 }));
 * report.outcome.closeCode; // 1008
 * ```
 */
export function errorReplyFlood(
  options: ErrorReplyFloodOptions = {},
): Attack<ErrorReplyFloodOutcome> {
  const rate = options.rate ?? 18;
  const durationMs = options.durationMs ?? 140_000;
  const names = Array.from(
    { length: options.names ?? 1360 },
    (_, i) => String.fromCharCode(97 + i % 26),
  );
  const flood = encode({ case: "subscribe", value: { symbols: names } });
  return {
    name: "error-reply flood",
    async run(target, signal) {
      const symbol = target.symbol ?? "BTCUSDT";
      const d0 = await wsDisconnects(target);
      const query: Record<string, string> = { symbol };
      if (target.token) query.token = target.token;
      let ws: RawWsClient;
      try {
        ws = await RawWsClient.open(target.url, { query });
      } catch (e) {
        return refusedUpgrade(e, { sent: 0 });
      }
      let sent = 0;
      try {
        await ws.send(encode({ case: "unsubscribe", value: { symbols: [symbol] } }));
        const t0 = Date.now();
        while (!ws.broken && !signal.aborted && Date.now() - t0 < durationMs) {
          if (await ws.send(flood)) sent++;
          await sleep(t0 + (sent * 1000) / rate - Date.now(), signal);
        }
        // Now read what is left, to find the close frame (the flood never read).
        await ws.untilEnded(ws.broken ? 5000 : 0);
      } finally {
        ws.close();
      }
      const disconnects = grown(d0, await wsDisconnects(target));
      const stopped = ws.broken || ws.ended !== undefined;
      const closeCode = ws.closeFrame?.code;
      return {
        stopped,
        summary: stopped
          ? `closed ${closeCode ?? "(no close frame read)"} ${
            describeDisconnects(disconnects)
          } after ${sent} msgs`
          : `not closed: ${sent} msgs (${mib(ws.bytesWritten)} MiB) in ${durationMs / 1000} s`,
        upgradeStatus: 101,
        bytesWritten: ws.bytesWritten,
        closeCode,
        closeReason: ws.closeFrame?.reason,
        ended: ws.ended,
        disconnects,
        sent,
      };
    },
  };
}

/** The outcome of a WebSocket attack whose upgrade was refused (e.g. 401 without a token). */
function refusedUpgrade<E extends object>(e: unknown, extra: E): WsAttackOutcome & E {
  if (!(e instanceof UpgradeRefused)) throw e;
  return {
    stopped: true,
    summary: `upgrade refused ${e.status || "(connection ended)"}`,
    upgradeStatus: e.status,
    bytesWritten: 0,
    closeCode: undefined,
    closeReason: undefined,
    ended: undefined,
    disconnects: {},
    ...extra,
  };
}

/** An outcome of {@link bigFrame} and {@link fragmentedMessage}. */
export interface BigMessageOutcome extends WsAttackOutcome {
  /** The message size the attacker meant to send. */
  messageBytes: number;
  /** Payload bytes it could write before the service stopped it. */
  payloadWritten: number;
}

/** Options of {@link bigFrame}. */
export interface BigFrameOptions {
  /** Payload bytes of the frame. Default 64 MiB − 1 (the most Deno's own WebSocket server reads). */
  bytes?: number;
  /** Bytes per write while streaming. Default 1 MiB. */
  chunkBytes?: number;
  /** Send the target's token on the upgrade. Default false: the attacker has none. */
  withToken?: boolean;
}

/**
 * Attack b: one binary WebSocket frame of `bytes` (default 64 MiB − 1), its
 * header first, then the payload streamed. Stopped when the service closes
 * the connection before the whole frame is sent (the size is enforced from
 * the header), or refuses the upgrade (no token).
 *
 * @example
 * ```ts ignore
 * const report = await runAttack(target, bigFrame());
 * report.outcome.payloadWritten < report.outcome.messageBytes; // the service did not read it all
 * ```
 */
export function bigFrame(options: BigFrameOptions = {}): Attack<BigMessageOutcome> {
  const bytes = options.bytes ?? 64 * MiB - 1;
  const chunkBytes = options.chunkBytes ?? MiB;
  return {
    name: `${mib(bytes)} MiB frame`,
    run: (target, signal) =>
      bigMessage(
        target,
        signal,
        bytes,
        options.withToken ?? false,
        (ws, stop) =>
          ws.sendFrame({ opcode: Opcode.Binary, fin: true, length: bytes, chunkBytes, stop }),
      ),
  };
}

/** Options of {@link fragmentedMessage}. */
export interface FragmentedMessageOptions {
  /** Message bytes in all. Default 1 GiB. */
  bytes?: number;
  /** Bytes per fragment (frame). Default 1 MiB. */
  fragmentBytes?: number;
  /** Send the target's token on the upgrade. Default false: the attacker has none. */
  withToken?: boolean;
}

/**
 * Attack c: one binary message of `bytes` (default 1 GiB) sent as
 * `fragmentBytes` frames (a first frame without FIN, then continuation
 * frames). Stopped when the service closes the connection before the whole
 * message is sent, or refuses the upgrade.
 *
 * @example
 * ```ts ignore
 * const report = await runAttack(target, fragmentedMessage({ bytes: 256 << 20 }));
 * ```
 */
export function fragmentedMessage(
  options: FragmentedMessageOptions = {},
): Attack<BigMessageOutcome> {
  const bytes = options.bytes ?? 1024 * MiB;
  const fragment = options.fragmentBytes ?? MiB;
  return {
    name: `${mib(bytes)} MiB in ${mib(fragment)} MiB fragments`,
    run: (target, signal) =>
      bigMessage(target, signal, bytes, options.withToken ?? false, async (ws, stop) => {
        let sent = 0;
        for (let first = true; sent < bytes && !stop(); first = false) {
          const length = Math.min(fragment, bytes - sent);
          const opcode = first ? Opcode.Binary : Opcode.Continuation;
          const n = await ws.sendFrame({ opcode, fin: sent + length === bytes, length, stop });
          sent += n;
          if (n < length) break;
        }
        return sent;
      }),
  };
}

/**
 * Upgrade (with or without the token), read in the background, send with
 * `send` until it is done or the service ends the connection; then wait for
 * the close. Returns the outcome of a big-message attack.
 */
async function bigMessage(
  target: AttackTarget,
  signal: AbortSignal,
  bytes: number,
  withToken: boolean,
  send: (ws: RawWsClient, stop: () => boolean) => Promise<number>,
): Promise<BigMessageOutcome> {
  const d0 = await wsDisconnects(target);
  const query: Record<string, string> = {};
  if (withToken && target.token) query.token = target.token;
  let ws: RawWsClient;
  try {
    ws = await RawWsClient.open(target.url, { query });
  } catch (e) {
    return refusedUpgrade(e, { messageBytes: bytes, payloadWritten: 0 });
  }
  ws.read();
  // A server that sent its close but stopped reading would leave a write
  // pending forever: close our side a moment after the end is seen.
  let endSeenAt = NaN;
  const watchdog = setInterval(() => {
    if (ws.closeFrame === undefined && ws.ended === undefined && !signal.aborted) return;
    if (Number.isNaN(endSeenAt)) endSeenAt = Date.now();
    else if (Date.now() - endSeenAt > 2000 || signal.aborted) ws.close();
  }, 100);
  let payloadWritten = 0;
  try {
    const stop = () => ws.ended !== undefined || signal.aborted;
    payloadWritten = await send(ws, stop);
    // The whole message went out: the service may still answer it (e.g. close 1009 once read).
    await ws.untilEnded(payloadWritten === bytes ? 30_000 : 5000);
  } finally {
    clearInterval(watchdog);
    ws.close();
  }
  const disconnects = grown(d0, await wsDisconnects(target));
  const closeCode = ws.closeFrame?.code;
  const end = closeCode !== undefined
    ? `closed ${closeCode}`
    : ws.ended !== undefined
    ? `ended (${ws.ended.split(":")[0]})`
    : ws.broken
    ? `write failed (${ws.writeError?.split(":")[0]})`
    : "not closed";
  const complete = payloadWritten === bytes;
  return {
    stopped: !complete && (ws.broken || ws.ended !== undefined || closeCode !== undefined),
    summary: complete
      ? `all ${mib(bytes)} MiB taken, then ${end}`
      : `${end} after ${mib(payloadWritten)} of ${mib(bytes)} MiB`,
    upgradeStatus: 101,
    bytesWritten: ws.bytesWritten,
    closeCode,
    closeReason: ws.closeFrame?.reason,
    ended: ws.ended,
    disconnects,
    messageBytes: bytes,
    payloadWritten,
  };
}

/** What a connection-swarm attacker saw. */
export interface SwarmOutcome extends AttackOutcome {
  /** Connects attempted. */
  attempted: number;
  /** Connections established. */
  opened: number;
  /** Connects that failed, by error. */
  connectErrors: Record<string, number>;
  /** First response per connection, by status. */
  responses: Record<string, number>;
  /** Responses carrying `Retry-After`. */
  retryAfter: number;
  /** Connections the service closed. */
  closedByServer: number;
  /** Connections still open when the attacker gave up (it then closed them). */
  stillOpen: number;
  /** Median ms from connect to the service closing it; NaN when it closed none. */
  medianCloseMs: number;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function swarmOutcome(swarm: ConnectionSwarm, stopped: boolean, summary: string): SwarmOutcome {
  return {
    stopped,
    summary,
    attempted: swarm.attempted,
    opened: swarm.opened,
    connectErrors: { ...swarm.connectErrors },
    responses: { ...swarm.responses },
    retryAfter: swarm.retryAfter,
    closedByServer: swarm.closedByServer,
    stillOpen: swarm.live,
    medianCloseMs: median(swarm.closeDelaysMs),
  };
}

function statuses(swarm: ConnectionSwarm): string {
  const list = Object.entries(swarm.responses).map(([s, n]) => `${n}×${s}`).join(" ");
  return list ? ` (${list})` : "";
}

function closedAfter(swarm: ConnectionSwarm): string {
  const ms = median(swarm.closeDelaysMs);
  return Number.isNaN(ms) ? "" : `, median ${(ms / 1000).toFixed(1)} s`;
}

/** Options of {@link idleConnections}. */
export interface IdleConnectionsOptions {
  /** Stop opening after this many connects even when none is refused. Default 2000. */
  max?: number;
  /** Connects per batch (refusals are looked for between batches). Default 50. */
  batch?: number;
  /** How long the held connections are kept waiting for the service to close them, ms. Default 30000. */
  holdMs?: number;
}

/**
 * Attack d: idle TCP connections (nothing sent) opened in batches until one
 * is refused (answered, closed or not accepted) or `max` were opened; held
 * until the service has closed them all or `holdMs` passed. Stopped when a
 * connection was refused with 503 and the service closed every held one.
 *
 * @example
 * ```ts ignore
 * const report = await runAttack(target, idleConnections({ holdMs: 20_000 }));
 * report.outcome.responses["503"] > 0; // refused above --max-connections
 * ```
 */
export function idleConnections(options: IdleConnectionsOptions = {}): Attack<SwarmOutcome> {
  const max = options.max ?? 2000;
  const holdMs = options.holdMs ?? 30_000;
  return {
    name: "idle connections",
    async run(target, signal) {
      const swarm = new ConnectionSwarm({ url: target.url });
      try {
        const refused = () => swarm.answered + swarm.closedByServer + swarm.connectFailed > 0;
        await swarm.openUntil(refused, max, options.batch ?? 50, signal);
        const wasRefused = refused();
        const held = swarm.live;
        const allClosed = await swarm.untilAllClosed(holdMs, signal);
        const closedHeld = held - swarm.live;
        const refusal = wasRefused
          ? `refused${statuses(swarm)} after ${swarm.opened} opened`
          : `${swarm.opened} opened, none refused`;
        return swarmOutcome(
          swarm,
          (swarm.responses["503"] ?? 0) > 0 && allClosed,
          `${refusal}; ${closedHeld}/${held} held closed by server${closedAfter(swarm)}`,
        );
      } finally {
        swarm.closeAll();
      }
    },
  };
}

/**
 * An attack of `n` connections opened with `swarmOptions` (50 connects in
 * flight), then held until the service has closed them all or `holdMs`
 * passed; `verdict` says whether that stopped the attacker and how.
 */
function heldSwarm(
  name: string,
  n: number,
  holdMs: number,
  swarmOptions: (target: AttackTarget) => SwarmOptions,
  verdict: (swarm: ConnectionSwarm, allClosed: boolean) => [stopped: boolean, summary: string],
): Attack<SwarmOutcome> {
  return {
    name,
    async run(target, signal) {
      const swarm = new ConnectionSwarm(swarmOptions(target));
      try {
        await swarm.open(n, 50);
        const [stopped, summary] = verdict(swarm, await swarm.untilAllClosed(holdMs, signal));
        return swarmOutcome(swarm, stopped, summary);
      } finally {
        swarm.closeAll();
      }
    },
  };
}

/** Options of {@link slowloris}. */
export interface SlowlorisOptions {
  /** Connections. Default 200. */
  connections?: number;
  /** One more header byte on each every this many ms. Default 2000. */
  dribbleMs?: number;
  /** Give up waiting for the service to close them after this long, ms. Default 30000. */
  holdMs?: number;
}

/**
 * Attack e: slowloris. Each connection sends a request line and `Host`, then
 * one byte of a header every `dribbleMs`, never ending the head. Stopped
 * when the service closed every one of them.
 *
 * @example
 * ```ts ignore
 * const report = await runAttack(target, slowloris({ connections: 50, dribbleMs: 300 }));
 * ```
 */
export function slowloris(options: SlowlorisOptions = {}): Attack<SwarmOutcome> {
  const n = options.connections ?? 200;
  return heldSwarm("slowloris", n, options.holdMs ?? 30_000, (target) => ({
    url: target.url,
    request: `GET /health HTTP/1.1\r\nHost: ${
      new URL(target.url).host
    }\r\nUser-Agent: slowloris\r\n`,
    dribble: { text: "X-Dribble: " + "a".repeat(64), everyMs: options.dribbleMs ?? 2000 },
  }), (swarm, allClosed) => [
    allClosed && swarm.opened === n,
    `${swarm.closedByServer}/${swarm.opened} closed by server${statuses(swarm)}${
      closedAfter(swarm)
    }`,
  ]);
}

/** Options of {@link idleKeepAlive}. */
export interface IdleKeepAliveOptions {
  /** Connections. Default 200. */
  connections?: number;
  /** Give up waiting for the service to close them after this long, ms. Default 30000. */
  holdMs?: number;
}

/**
 * Attack f: idle keep-alive connections. Each sends one complete
 * `GET /health` (HTTP/1.1, so keep-alive), reads the answer, then stays idle.
 * Stopped when every one was answered and then closed by the service.
 *
 * @example
 * ```ts ignore
 * const report = await runAttack(target, idleKeepAlive({ connections: 50 }));
 * ```
 */
export function idleKeepAlive(options: IdleKeepAliveOptions = {}): Attack<SwarmOutcome> {
  const n = options.connections ?? 200;
  return heldSwarm("idle keep-alive", n, options.holdMs ?? 30_000, (target) => ({
    url: target.url,
    request: `GET /health HTTP/1.1\r\nHost: ${
      new URL(target.url).host
    }\r\nUser-Agent: idle-keep-alive\r\n\r\n`,
  }), (swarm, allClosed) => [
    allClosed && swarm.answered === n,
    `${swarm.answered}/${swarm.opened} answered${statuses(swarm)}, ` +
    `${swarm.closedByServer}/${swarm.opened} then closed by server${closedAfter(swarm)}`,
  ]);
}

/** Options of {@link fdExhaustion}. */
export interface FdExhaustionOptions {
  /** Connections attempted. Default 2000. */
  connections?: number;
  /** Connects in flight at once. Default 100. */
  concurrency?: number;
  /** How long the opened ones are held after the last connect, ms. Default 10000. */
  holdMs?: number;
}

/** An outcome of {@link fdExhaustion}. */
export interface FdExhaustionOutcome extends SwarmOutcome {
  /** The service's exit code when it exited during the attack, else null (or unknown: undefined). */
  exitCode: number | null | undefined;
}

/**
 * Attack g: `connections` idle connections, `concurrency` at a time, against
 * a service started with a low open-file limit and `--max-connections` below
 * it; held `holdMs`. Stopped when connections above the cap were refused
 * with 503 and the service did not exit.
 *
 * @example
 * ```ts ignore
 * // The service: spawnService({ fileLimit: 512, args: ["--max-connections", "350"] })
 * const report = await runAttack(target, fdExhaustion());
 * report.outcome.exitCode; // null: still running
 * ```
 */
export function fdExhaustion(options: FdExhaustionOptions = {}): Attack<FdExhaustionOutcome> {
  const n = options.connections ?? 2000;
  return {
    name: "fd exhaustion",
    async run(target, signal) {
      const swarm = new ConnectionSwarm({ url: target.url, connectTimeoutMs: 3000 });
      try {
        await swarm.open(n, options.concurrency ?? 100);
        await sleep(options.holdMs ?? 10_000, signal);
        const exitCode = target.exitCode?.();
        const failed = Object.entries(swarm.connectErrors).map(([e, k]) => `${k}×${e}`).join(" ");
        const held = swarm.live;
        const died = exitCode !== null && exitCode !== undefined;
        const summary = `${swarm.opened}/${n} connected, ${held} held${statuses(swarm)}` +
          (failed ? `, connect failed ${failed}` : "") +
          (died ? `; service EXITED (${exitCode})` : "");
        return {
          ...swarmOutcome(swarm, !died && (swarm.responses["503"] ?? 0) > 0, summary),
          exitCode,
        };
      } finally {
        swarm.closeAll();
      }
    },
  };
}

/** One malformed or foreign request of {@link malformedRequests}. */
export interface MalformedCase {
  /** What is wrong with it. */
  name: string;
  /** The status the service must answer. */
  expected: number;
  /** Statuses it got, by status (`none`: the connection ended without one). */
  got: Record<string, number>;
}

/** An outcome of {@link malformedRequests}. */
export interface MalformedOutcome extends AttackOutcome {
  /** Every case and what it got. */
  cases: MalformedCase[];
}

/** Options of {@link malformedRequests}. */
export interface MalformedRequestsOptions {
  /** Times each case is sent. Default 50. */
  rounds?: number;
}

const KEY = btoa("0123456789abcdef");

/**
 * Attack h: malformed WebSocket upgrades, a foreign `Host`, a plain GET on
 * `/ws` and a garbage request line, each `rounds` times on its own
 * connection (`Connection: close`). Uses the target's token where one would
 * pass auth, so the check under test is the one that answers. Stopped when
 * every request got its expected status.
 *
 * @example
 * ```ts ignore
 * const report = await runAttack(target, malformedRequests({ rounds: 10 }));
 * report.outcome.cases.every((c) => c.got[c.expected] === 10); // true
 * ```
 */
export function malformedRequests(
  options: MalformedRequestsOptions = {},
): Attack<MalformedOutcome> {
  const rounds = options.rounds ?? 50;
  return {
    name: "malformed requests",
    async run(target, signal) {
      const host = new URL(target.url).host;
      const auth = target.token ? `Authorization: Bearer ${target.token}\r\n` : "";
      const upgrade = (lines: string) =>
        `GET /ws HTTP/1.1\r\nHost: ${host}\r\n${auth}Connection: close\r\n${lines}\r\n`;
      const requests: [string, number, string][] = [
        [
          "upgrade without Connection: Upgrade",
          400,
          upgrade(
            `Upgrade: websocket\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n`,
          ),
        ],
        [
          "bad Sec-WebSocket-Key",
          400,
          `GET /ws HTTP/1.1\r\nHost: ${host}\r\n${auth}Connection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        ],
        [
          "Sec-WebSocket-Version 8",
          400,
          `GET /ws HTTP/1.1\r\nHost: ${host}\r\n${auth}Connection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 8\r\n\r\n`,
        ],
        ["GET /ws without upgrade", 426, upgrade("")],
        [
          "foreign Host on /stats",
          421,
          `GET /stats HTTP/1.1\r\nHost: evil.example\r\n${auth}Connection: close\r\n\r\n`,
        ],
        [
          "foreign Host on /ws upgrade",
          421,
          `GET /ws HTTP/1.1\r\nHost: evil.example:80\r\n${auth}Connection: Upgrade\r\n` +
          `Upgrade: websocket\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        ],
        ["garbage request line", 400, "HELLO THERE\r\n\r\n"],
      ];
      const cases: MalformedCase[] = requests.map(([name, expected]) => ({
        name,
        expected,
        got: {},
      }));
      for (let round = 0; round < rounds && !signal.aborted; round++) {
        await Promise.all(requests.map(async ([, , request], i) => {
          const status = await statusOf(target.url, request);
          cases[i].got[status] = (cases[i].got[status] ?? 0) + 1;
        }));
      }
      const wrong = cases.filter((c) => (c.got[c.expected] ?? 0) !== rounds);
      return {
        stopped: !signal.aborted && wrong.length === 0,
        summary: wrong.length === 0
          ? `all ${cases.length}×${rounds} answered as expected`
          : wrong.map((c) =>
            `${c.name}: ${
              Object.entries(c.got).map(([s, k]) => `${k}×${s}`).join(" ")
            } (expected ${c.expected})`
          ).join("; "),
        cases,
      };
    },
  };
}

/** The status of the response to `request` on a new connection (`none` when there was none). */
async function statusOf(baseUrl: string, request: string): Promise<string> {
  const url = new URL(baseUrl);
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await Deno.connect({
      hostname: url.hostname,
      port: Number(url.port),
      signal: AbortSignal.timeout(10_000),
    });
    const timer = setTimeout(() => conn?.close(), 10_000);
    try {
      await conn.write(new TextEncoder().encode(request));
      const buf = new Uint8Array(1024);
      let text = "";
      while (!text.includes("\r\n")) {
        const n = await conn.read(buf);
        if (n === null) break;
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      return /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? "none";
    } finally {
      clearTimeout(timer);
    }
  } catch {
    return "none";
  } finally {
    try {
      conn?.close();
    } catch { /* closed by the timer */ }
  }
}
