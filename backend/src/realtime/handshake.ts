// What the Socket.IO handshake is judged by before a socket exists: where it comes from (the
// Origin, like HTTP's CORS) and which address it comes from (like Express's `req.ip`).
import type { IncomingMessage } from 'node:http';

/**
 * Which hops are proxies whose X-Forwarded-For / X-Forwarded-Host are believed: called with an
 * address and its hop (0 = the TCP peer, 1 = the last address in X-Forwarded-For, …), the
 * signature of Express's compiled `trust proxy` (`app.get('trust proxy fn')`), so a host can
 * hand the socket handshake, which Express never sees, the very rule its HTTP side uses. A
 * function of the address alone works too. Default: loopback peers.
 */
export type TrustedProxy = (address: string, hop: number) => boolean;

export const loopback: TrustedProxy = (a) => a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');

const list = (header: string | string[] | undefined): string[] =>
  (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * The client's address as Express computes `req.ip`: from the peer, walk X-Forwarded-For
 * right to left past trusted proxies; the first address that is not one is the client.
 */
export function clientAddress(req: IncomingMessage, trusted: TrustedProxy = loopback): string {
  const chain = [req.socket.remoteAddress ?? '', ...list(req.headers['x-forwarded-for']).reverse()];
  let i = 0;
  while (i < chain.length - 1 && trusted(chain[i]!, i)) i++;
  return chain[i]!;
}

/**
 * Whether a handshake may open a socket, as HTTP's CORS rule reads (DESIGN.md: "same origin by
 * default; CORS_ORIGINS opens the API to the listed origins"). Browsers do not apply CORS to
 * WebSockets, so without this check any page could open a socket with a token it holds.
 *
 * - No Origin header: not a browser (a server-side client); allowed, the token still decides.
 * - Same origin: the Origin's host equals the Host the request was made to (X-Forwarded-Host
 *   when the peer is a trusted proxy, as Express's `req.host` reads it). The scheme is not
 *   compared: behind a TLS-terminating proxy the page is https while this server sees http.
 * - Otherwise the Origin must be listed in CORS_ORIGINS, exactly as the browser sends it.
 */
export function originAllowed(req: IncomingMessage, corsOrigins: readonly string[], trusted: TrustedProxy = loopback): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (corsOrigins.includes(origin)) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false; // "null" (sandboxed frames, file:) and garbage
  }
  const forwarded = trusted(req.socket.remoteAddress ?? '', 0) ? list(req.headers['x-forwarded-host'])[0] : undefined;
  const target = forwarded ?? req.headers.host;
  return target !== undefined && host === target.toLowerCase();
}
