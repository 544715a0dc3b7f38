/**
 * The seam between the HTTP/1.1 server and a protocol that takes over its
 * connection after `101 Switching Protocols` (the WebSocket server).
 *
 * The HTTP server *offers* the connection of every request it hands to its
 * handler. During the handler, a protocol may *claim* it. When the handler's
 * response is `101`, the server writes the response head and hands the
 * connection over ({@link ClaimCallbacks.switched}); it then stops reading it
 * but keeps counting it against its connection cap until the new owner calls
 * {@link SwitchedConnection.release}. Any other response refuses the claim
 * ({@link ClaimCallbacks.refused}) and the server answers as usual.
 *
 * A request that did not come from this server (e.g. one built in a test, or
 * served by `Deno.serve`) cannot be claimed.
 *
 * @example
 * ```ts
 * import { claimConnection } from "./connection_claim.ts";
 *
 * const handler = (req: Request): Response => {
 *   const ok = claimConnection(req, {
 *     switched: ({ conn, leftover, release }) => {
 *       // speak the new protocol on conn; leftover holds bytes already read
 *       void leftover;
 *       conn.close();
 *       release();
 *     },
 *     refused: () => {},
 *   });
 *   return ok ? new Response(null, { status: 101 }) : new Response("no", { status: 400 });
 * };
 * void handler;
 * ```
 * @module
 */

/** A TCP connection handed from the HTTP server to another protocol after a 101 response. */
export interface SwitchedConnection {
  /** The connection; the new owner reads, writes and closes it. */
  readonly conn: Deno.Conn;
  /** Bytes the HTTP server had read past the request head (the new protocol's first bytes); often empty. */
  readonly leftover: Uint8Array;
  /** Tell the server the connection is closed, so it stops counting against the connection cap. Idempotent. */
  release(): void;
}

/** What a protocol that claims a connection is told. */
export interface ClaimCallbacks {
  /** The 101 response head was written: the connection is the claimer's from now on. */
  switched(connection: SwitchedConnection): void;
  /** The handler answered something other than 101, or the head could not be written: no switch. */
  refused(): void;
}

/** The server's side of an offer: called at most once, with the claim if there was one. */
export interface ConnectionOffer {
  /** The claim made during the handler, or null. */
  claim: ClaimCallbacks | null;
}

const offers = new WeakMap<Request, ConnectionOffer>();

/**
 * Server side: offer the connection of `req` to whatever handles it. Returns
 * the offer, whose `claim` the server reads once the handler has answered.
 *
 * @example
 * ```ts
 * import { claimConnection, offerConnection } from "./connection_claim.ts";
 * const req = new Request("http://127.0.0.1/ws");
 * const offer = offerConnection(req);
 * claimConnection(req, { switched: () => {}, refused: () => {} }); // true
 * offer.claim !== null; // true
 * ```
 */
export function offerConnection(req: Request): ConnectionOffer {
  const offer: ConnectionOffer = { claim: null };
  offers.set(req, offer);
  return offer;
}

/**
 * Protocol side: claim the connection of `req`. Returns false when the request
 * was not offered by this server or was already claimed.
 *
 * @example
 * ```ts
 * import { claimConnection } from "./connection_claim.ts";
 * claimConnection(new Request("http://127.0.0.1/ws"), {
 *   switched: () => {},
 *   refused: () => {},
 * }); // false: not offered by the server
 * ```
 */
export function claimConnection(req: Request, callbacks: ClaimCallbacks): boolean {
  const offer = offers.get(req);
  if (offer === undefined || offer.claim !== null) return false;
  offer.claim = callbacks;
  return true;
}
