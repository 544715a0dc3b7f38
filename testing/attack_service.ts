/**
 * A service process to attack (`attack_run.ts`, `attacks.ts`): the real
 * `main.ts` on the simulated exchange, started with the connection-limit
 * flags of the hardening work when this checkout has them
 * ({@link CONNECTION_FLAGS}), and without them (saying so) when it does not,
 * so the same attacks show the old behaviour on an old checkout.
 *
 * @example
 * ```ts ignore
 * const started = await startAttackService({
 *   flags: await serviceFlags(),
 *   args: ["--max-connections", "100", "--header-timeout-ms", "1000"],
 * });
 * console.log(started.dropped); // [] once the service has the flags
 * const report = await runAttack(started.target, slowloris());
 * await started.service.stop();
 * ```
 * @module
 */

import type { AttackTarget } from "./attack_run.ts";
import { type ServiceProcess, spawnService, supportedArgs } from "./service_process.ts";

/**
 * The flags of the service's own HTTP server (connection cap, header-read
 * and keep-alive idle timeouts). Their presence in `main.ts --help` marks a
 * service with the connection and WebSocket-framing hardening.
 *
 * @example
 * ```ts ignore
 * const flags = await serviceFlags();
 * const hardened = CONNECTION_FLAGS.every((f) => flags.has(f));
 * ```
 */
export const CONNECTION_FLAGS: readonly string[] = [
  "--max-connections",
  "--header-timeout-ms",
  "--idle-timeout-ms",
];

/** Options of {@link startAttackService}. */
export interface AttackServiceOptions {
  /** Flags this checkout of `main.ts` knows (`serviceFlags()`); others in `args` are left out. Required. */
  flags: ReadonlySet<string>;
  /** `--flag value` pairs. Default none. */
  args?: readonly string[];
  /** Frames/s per symbol of the simulated exchange. Default 20. */
  simRate?: number;
  /** `--auth-token` for the service (the honest clients use it). Default none. */
  token?: string;
  /** Open-file limit to start it under (see `spawnService`). Default none. */
  fileLimit?: number;
}

/** A started service and the target describing it. */
export interface AttackService {
  /** The process. */
  service: ServiceProcess;
  /** What `runAttack` needs. */
  target: AttackTarget;
  /** Flags of `args` this checkout does not know, left out. */
  dropped: string[];
}

/**
 * Start a service to attack; see the module doc.
 *
 * @example
 * ```ts ignore
 * const { service, target } = await startAttackService({ flags: await serviceFlags() });
 * ```
 */
export async function startAttackService(options: AttackServiceOptions): Promise<AttackService> {
  const { args, dropped } = supportedArgs(options.args ?? [], options.flags);
  const token = options.token;
  const service = await spawnService({
    args: [
      "--sim-rate",
      String(options.simRate ?? 20),
      ...(token ? ["--auth-token", token] : []),
      ...args,
    ],
    fileLimit: options.fileLimit,
  });
  return {
    service,
    target: { url: service.url, pid: service.pid, token, exitCode: () => service.exitCode() },
    dropped,
  };
}
