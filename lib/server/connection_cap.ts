/**
 * How many TCP connections the service serves at once: a cap below the
 * process's file-descriptor limit, so that `accept` never meets "Too many open
 * files" from clients alone.
 *
 * Every connection, HTTP or WebSocket, holds one fd. The process needs more
 * for itself: stdio, the event loop and worker threads, the exchange
 * connections (one WebSocket per 1,024 streams, REST requests) and files
 * (about 70 at 2 symbols, measured with `ls /proc/PID/fd`). {@link FD_RESERVE}
 * keeps room for those; the cap is the limit less the reserve.
 *
 * The limit is read from `/proc/self/limits` (Deno raises the soft limit to
 * the hard one at start, so that is what is in force). Deno allows that read
 * only with `--allow-all`; otherwise `--fd-limit` (env `DEPTHWATCH_FD_LIMIT`,
 * which `deno task start` fills with `ulimit -Hn`) supplies it. Without
 * either, a limit of {@link ASSUMED_FD_LIMIT} is assumed and said so.
 *
 * @example
 * ```ts
 * import { connectionCap } from "./connection_cap.ts";
 * const c = connectionCap({ fdLimitRead: 1024 });
 * c.cap; // 896
 * c.fdLimitSource; // "/proc/self/limits"
 * ```
 * @module
 */

/** File descriptors kept for the process itself, below the limit. */
export const FD_RESERVE = 128;

/** The limit assumed when it can be neither read nor was given. */
export const ASSUMED_FD_LIMIT = 4096;

/** Where the file-descriptor limit came from. */
export type FdLimitSource = "/proc/self/limits" | "--fd-limit" | "assumed";

/** The connection cap and how it was worked out (for the start-up log). */
export interface ConnectionCap {
  /** Open connections served at once; the next one gets 503. */
  readonly cap: number;
  /** The file-descriptor limit the cap is below. */
  readonly fdLimit: number;
  /** Where {@link ConnectionCap.fdLimit} came from. */
  readonly fdLimitSource: FdLimitSource;
}

/** Inputs of {@link connectionCap}. */
export interface ConnectionCapOptions {
  /** `--max-connections`, if given. Default: the limit less {@link FD_RESERVE}. */
  requested?: number;
  /** `--fd-limit`, if given. */
  fdLimitFlag?: number;
  /** The limit read from the system ({@link readFdLimit}), if it could be read. */
  fdLimitRead?: number;
}

/**
 * The connection cap: `requested` if given and below the limit less the
 * reserve, else that bound. With both a read limit and `--fd-limit`, the
 * smaller one counts (a lower `--fd-limit` keeps room for something else).
 *
 * @throws {RangeError} when `requested` does not leave {@link FD_RESERVE} fds
 *   below the limit, naming the largest value that does.
 *
 * @example
 * ```ts
 * import { connectionCap } from "./connection_cap.ts";
 * connectionCap({ requested: 500, fdLimitFlag: 1024 }).cap; // 500
 * connectionCap({}).fdLimitSource; // "assumed"
 * ```
 */
export function connectionCap(options: ConnectionCapOptions): ConnectionCap {
  const { requested, fdLimitFlag, fdLimitRead } = options;
  let fdLimit: number;
  let fdLimitSource: FdLimitSource;
  if (fdLimitRead !== undefined && (fdLimitFlag === undefined || fdLimitRead <= fdLimitFlag)) {
    fdLimit = fdLimitRead;
    fdLimitSource = "/proc/self/limits";
  } else if (fdLimitFlag !== undefined) {
    fdLimit = fdLimitFlag;
    fdLimitSource = "--fd-limit";
  } else {
    fdLimit = ASSUMED_FD_LIMIT;
    fdLimitSource = "assumed";
  }
  const most = Math.max(1, fdLimit - FD_RESERVE);
  if (requested !== undefined && requested > most) {
    throw new RangeError(
      `--max-connections ${requested} does not stay below the file-descriptor limit ` +
        `${fdLimit} (${fdLimitSource}) less ${FD_RESERVE} kept for the process; expected at ` +
        `most ${most}, or a higher limit (LimitNOFILE in the systemd unit, ulimit -n in a shell)`,
    );
  }
  return { cap: requested ?? most, fdLimit, fdLimitSource };
}

/**
 * The soft "Max open files" limit of this process from `/proc/self/limits`,
 * or `undefined` when it cannot be read (Deno allows the read only with
 * `--allow-all`; not Linux).
 *
 * @example
 * ```ts
 * import { readFdLimit } from "./connection_cap.ts";
 * const limit = readFdLimit(); // e.g. 1048576, or undefined
 * void limit;
 * ```
 */
export function readFdLimit(): number | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync("/proc/self/limits");
  } catch {
    return undefined;
  }
  return parseFdLimit(text);
}

/**
 * The soft "Max open files" value of a `/proc/PID/limits` text; `undefined`
 * when the line is missing or says `unlimited`.
 *
 * @example
 * ```ts
 * import { parseFdLimit } from "./connection_cap.ts";
 * parseFdLimit("Max open files            1024                 4096                 files"); // 1024
 * ```
 */
export function parseFdLimit(text: string): number | undefined {
  const m = /^Max open files\s+(\d+)\s/m.exec(text);
  return m === null ? undefined : Number(m[1]);
}
