/**
 * The app's `State` and its `define` helpers, as a Fresh 2 project has them:
 * routes and middlewares import `define` from here so their `ctx.state` and
 * page props are typed.
 *
 * `main.ts` puts the running service into `ctx.state.service` with a
 * middleware before any route runs.
 *
 * @example
 * ```ts
 * import { define } from "./utils.ts";
 * const handler = define.handlers({
 *   GET: (ctx) => Response.json({ symbols: ctx.state.service.symbols }),
 * });
 * ```
 *
 * @module
 */
import { createDefine } from "./lib/web/mod.ts";
import type { ServiceState } from "./lib/server/service_state.ts";

/**
 * What every request's `ctx.state` holds.
 *
 * @example
 * ```ts
 * import type { State } from "./utils.ts";
 * const symbolsOf = (state: State) => state.service.symbols;
 * ```
 */
export interface State {
  /** The running service: pipeline state, history, hub, token (the same object for every request). */
  service: ServiceState;
}

/**
 * The define helpers for {@linkcode State}.
 *
 * @example
 * ```ts
 * import { define } from "./utils.ts";
 * const middleware = define.middleware((ctx) => {
 *   if (ctx.state.service.symbols.length === 0) return new Response("no symbols", { status: 503 });
 *   return ctx.next();
 * });
 * ```
 */
export const define = createDefine<State>();
