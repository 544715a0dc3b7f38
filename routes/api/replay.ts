/**
 * `GET /api/replay`: the replay position, small enough for the mode badge to
 * poll once a second: `{ clockMs, speed, state, loops }`
 * (`lib/pipeline/replay_position.ts`). `clockMs` is the recorded receive
 * time of the last record played (epoch ms; null before the first), `speed`
 * the factor or `"max"`, `state` one of `waiting`, `playing`, `looping`,
 * `ended`, `loops` the passes finished. Built from eight shared words: no
 * per-symbol work, whatever the number of symbols (`/stats`' `replay` has
 * the full position: records, bad lines, file offset, waits).
 *
 * Guarded by the bearer token when `--auth-token` is set. Without
 * `--source replay` it answers 404 `{ error }` saying so.
 *
 * @example
 * ```sh
 * curl http://127.0.0.1:8000/api/replay
 * # {"clockMs":1710408413123.456,"speed":10,"state":"playing","loops":0}
 * ```
 * @module
 */

import { checkAuth } from "../../lib/server/auth.ts";
import { replayPosition } from "../../lib/pipeline/replay_position.ts";
import { define } from "../../utils.ts";

/**
 * GET answers the replay position.
 *
 * @example
 * ```ts ignore
 * const res = await handler.GET(ctx); // 200 { clockMs, speed, state, loops }, 401 or 404
 * ```
 */
export const handler = define.handlers({
  GET(ctx) {
    const service = ctx.state.service;
    const denied = checkAuth(ctx.req, ctx.url, service.authToken);
    if (denied) return denied;
    const headers = { "Cache-Control": "no-store" };
    if (!service.replay) {
      return Response.json({
        error: `not a replay: this service runs --source ${service.source}; ` +
          "the replay position exists with --source replay",
      }, { status: 404, headers });
    }
    return Response.json(replayPosition(service.replay), { headers });
  },
});
