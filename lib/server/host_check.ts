/**
 * The `Host` check against DNS rebinding: a page on a foreign name that
 * resolves to this server must not reach it. A request is served only when
 * its `Host` names the bound address, a loopback name (`localhost`,
 * `127.0.0.1`, `[::1]`), or an `--allowed-hosts` entry; any other (or no)
 * `Host` gets 421 Misdirected Request. A server bound to `0.0.0.0` or `::`
 * has no address of its own to compare with, so its operator lists the names
 * clients use in `--allowed-hosts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HostCheck } from "./host_check.ts";
 * const check = new HostCheck({ bound: "127.0.0.1", allowed: ["depth.example.com"] });
 * assert.equal(check.allows("localhost:8000"), true);
 * assert.equal(check.allows("depth.example.com"), true);
 * assert.equal(check.allows("evil.example"), false);
 * ```
 * @module
 */

/** Options of {@linkcode HostCheck}. */
export interface HostCheckOptions {
  /** The address the server binds (`--host`), e.g. `127.0.0.1`, `::1` or `0.0.0.0`. */
  bound: string;
  /**
   * Extra names (`--allowed-hosts`), lower case. An entry without a port
   * allows any port; `name:port` allows only that port. Default none.
   */
  allowed?: readonly string[];
}

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];
const WILDCARD = ["0.0.0.0", "::", "[::]"];

/** Split `host[:port]` (IPv6 in brackets) into its lower-case name and port ("" when none). */
function splitHost(value: string): { name: string; port: string } | null {
  const m = /^(\[[0-9a-f:.]+\]|[^:\[\]]+)(?::([0-9]{1,5}))?$/.exec(value.trim().toLowerCase());
  if (!m) return null;
  return { name: m[1].replace(/\.$/, ""), port: m[2] ?? "" };
}

/**
 * Decides whether a request's `Host` header is one this server answers to.
 *
 * @example
 * ```ts
 * import { HostCheck } from "./host_check.ts";
 * const check = new HostCheck({ bound: "0.0.0.0", allowed: ["10.0.0.5:8000"] });
 * check.allows("10.0.0.5:8000"); // true
 * check.allows("10.0.0.5:9000"); // false
 * check.allows("0.0.0.0:8000"); // false: a wildcard is not a name
 * ```
 */
export class HostCheck {
  readonly #names = new Set<string>();
  readonly #withPort = new Set<string>();

  /** @param options See {@linkcode HostCheckOptions}. */
  constructor(options: HostCheckOptions) {
    for (const name of LOOPBACK) this.#names.add(name);
    const bound = options.bound.trim().toLowerCase();
    const boundName = bound.includes(":") && !bound.startsWith("[") ? `[${bound}]` : bound;
    if (!WILDCARD.includes(boundName)) this.#names.add(boundName);
    for (const entry of options.allowed ?? []) {
      const split = splitHost(entry);
      if (split === null) continue;
      if (split.port === "") this.#names.add(split.name);
      else this.#withPort.add(`${split.name}:${split.port}`);
    }
  }

  /**
   * Whether `host` (a `Host` header value, null when absent) is served.
   *
   * @example
   * ```ts
   * import { HostCheck } from "./host_check.ts";
   * new HostCheck({ bound: "::1" }).allows("[::1]:8000"); // true
   * ```
   */
  allows(host: string | null): boolean {
    if (host === null) return false;
    const split = splitHost(host);
    if (split === null) return false;
    return this.#names.has(split.name) || this.#withPort.has(`${split.name}:${split.port}`);
  }

  /**
   * The 421 answer to a foreign `Host`: a short body naming the flag.
   *
   * @example
   * ```ts
   * import { HostCheck } from "./host_check.ts";
   * new HostCheck({ bound: "127.0.0.1" }).refusal().status; // 421
   * ```
   */
  refusal(): Response {
    return new Response(
      "misdirected request: this server does not answer to that Host; " +
        "expected the bound address, localhost, or a name listed in --allowed-hosts\n",
      {
        status: 421,
        headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
      },
    );
  }
}
