/**
 * DNS Cookies, client side (RFC 7873 §5.1, §5.3): the client cookie we send a server, derived
 * from a per-process secret and the server's address (so servers cannot link our queries to
 * each other, RFC 7873 §4.1), and the check of a reply's COOKIE option.
 *
 * Invariants: one client cookie per server address for the life of the process (cached, so the
 * hot path does no hashing); a reply whose COOKIE option does not start with our client cookie
 * is rejected as forged (§5.3); a server cookie is kept only when it has a legal length (8-32).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { EdnsOptionCode } from '../wire/constants.js';
import type { EdnsOption } from '../wire/edns.js';
import type { Message } from '../wire/message.js';

const secret = randomBytes(16);
const byServer = new Map<string, Uint8Array>();

/** Our 8-octet client cookie for `address`. */
export function clientCookieFor(address: string): Uint8Array {
  let c = byServer.get(address);
  if (c === undefined) {
    c = new Uint8Array(createHmac('sha256', secret).update(address).digest().subarray(0, 8));
    if (byServer.size > 100_000) byServer.clear();
    byServer.set(address, c);
  }
  return c;
}

/** The COOKIE option to send: our client cookie, and the server cookie it gave us last time. */
export function cookieOption(client: Uint8Array, server: Uint8Array | undefined): EdnsOption {
  const data = new Uint8Array(8 + (server?.length ?? 0));
  data.set(client);
  if (server !== undefined) data.set(server, 8);
  return { code: EdnsOptionCode.COOKIE, data };
}

/**
 * Checks the reply's COOKIE option against our client cookie: 'none' (the server does not do
 * cookies), 'forged' (not our client cookie: RFC 7873 §5.3 says discard), or the server cookie to keep.
 */
export function replyCookie(reply: Message, client: Uint8Array): Uint8Array | 'none' | 'forged' {
  const options = reply.edns?.options;
  if (options === undefined) return 'none';
  for (const o of options) {
    if (o.code !== EdnsOptionCode.COOKIE) continue;
    if (o.data.length < 16 || o.data.length > 40) return 'forged';
    for (let i = 0; i < 8; i++) if (o.data[i] !== client[i]) return 'forged';
    return o.data.slice(8);
  }
  return 'none';
}
