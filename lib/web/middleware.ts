/**
 * Middlewares, as in Fresh 2: functions of the request's {@linkcode Context}
 * that answer themselves or call `ctx.next()` for what comes after them (and
 * may change its response, or catch what it throws).
 *
 * @module
 */
import type { Context } from "./context.ts";

/**
 * A middleware.
 *
 * @example
 * ```ts
 * import type { Middleware } from "./middleware.ts";
 * const timing: Middleware<unknown> = async (ctx) => {
 *   const t0 = performance.now();
 *   const res = await ctx.next();
 *   res.headers.set("Server-Timing", `app;dur=${performance.now() - t0}`);
 *   return res;
 * };
 * ```
 */
export type Middleware<State> = (ctx: Context<State>) => Response | Promise<Response>;

/**
 * Run `middlewares` in order for `ctx`: each one's `ctx.next()` runs the
 * following one, and the last one's runs `last`.
 *
 * @example
 * ```ts ignore
 * const res = await runMiddlewares([addHeader, answer], ctx, () => Promise.reject(new HttpError(404)));
 * ```
 *
 * @param middlewares The middlewares, outermost first.
 * @param ctx The request's context; its `next` is set as each middleware runs.
 * @param last What the last middleware's `ctx.next()` does.
 */
export function runMiddlewares<State>(
  middlewares: readonly Middleware<State>[],
  ctx: Context<State>,
  last: () => Promise<Response>,
): Promise<Response> {
  const step = (i: number): Promise<Response> => {
    if (i === middlewares.length) {
      ctx.next = last;
      return last();
    }
    ctx.next = () => step(i + 1);
    try {
      return Promise.resolve(middlewares[i](ctx));
    } catch (err) {
      return Promise.reject(err);
    }
  };
  return step(0);
}
