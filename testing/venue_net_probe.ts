/**
 * Child process of `tests/venue_permissions_test.ts`. Given service flags,
 * it starts the service (a stub HTTP app) with them; given `--only VENUES`,
 * it calls `restrictNetToVenues` alone. Then it prints one JSON line: the net
 * permission state of every venue host, what a request to each host that is
 * not granted fails with, and the `network:` log lines; and stops.
 *
 * Run: `deno run --allow-net=<hosts> --allow-read=. testing/venue_net_probe.ts --source sim --port 0`
 *
 * @module
 */

import { parseConfig } from "../lib/server/config.ts";
import { runService } from "../lib/server/service.ts";
import { restrictNetToVenues } from "../lib/server/venue_permissions.ts";
import { VENUE_IDS, type VenueId, VENUES } from "../lib/pipeline/venue_id.ts";

const lines: string[] = [];
const log = {
  debug() {},
  info: (...a: unknown[]) => lines.push(a.join(" ")),
  warn() {},
  error: (...a: unknown[]) => lines.push(a.join(" ")),
};
let close = () => Promise.resolve();
if (Deno.args[0] === "--only") {
  await restrictNetToVenues(Deno.args[1].split(",") as VenueId[], log);
} else {
  const service = await runService(
    parseConfig(Deno.args),
    () => () => new Response("probe"),
    { log },
  );
  close = service.close;
}
const states: Record<string, string> = {};
const refused: Record<string, string> = {};
for (const venue of VENUE_IDS) {
  for (const host of VENUES[venue].hosts) {
    states[host] = (await Deno.permissions.query({ name: "net", host })).state;
    if (states[host] === "granted") continue; // never dial a real venue from a test
    try {
      await fetch(`https://${host}/`);
      refused[host] = "reached";
    } catch (e) {
      refused[host] = (e as Error).name;
    }
  }
}
await close();
console.log(
  JSON.stringify({ states, refused, log: lines.filter((l) => l.startsWith("network:")) }),
);
