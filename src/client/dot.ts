/**
 * DNS over TLS (RFC 7858): one query/response exchange on a TLS connection to port 853, with
 * the same result shape and the same strict matching as `exchange()` (ID and question, RFC 5452
 * §9.1; the source is the authenticated peer).
 *
 * Invariants:
 * - The server is authenticated (RFC 8310 strict privacy profile): its certificate must chain to
 *   the system CAs or the given `ca`, and match `servername` (or the IP address when none is
 *   given). A failed check is a NetworkError, never a silent downgrade to cleartext.
 * - Every wait has a deadline (`timeoutMs` per attempt, covering connect, handshake and reply).
 * - IDs come from node:crypto; the caller's Message is not modified.
 * - One connection per exchange (the caller may pool later; RFC 7858 §3.4 allows either).
 */
import { connect as tlsConnect } from 'node:tls';
import type { Message } from '../wire/message.js';
import { withTries } from './attempt.js';
import type { ExchangeResult } from './exchange.js';
import { streamAttempt } from './framing.js';
import { type IgnoredHook, IgnoredTally, ReplyMatcher, type ServerAddress, encodeQuery, getId } from './match.js';

export interface TlsExchangeOptions {
  timeoutMs?: number;
  tries?: number;
  /** Name the certificate must carry (SNI too); default: the address itself. */
  servername?: string;
  /** PEM CA certificate(s) to trust instead of the system store. */
  ca?: string | Buffer;
  matchCase?: boolean;
  keepId?: boolean;
  signal?: AbortSignal;
  onIgnored?: IgnoredHook;  /**
   * false: accept any certificate (dig's +tls without +tls-ca: RFC 8310 opportunistic profile).
   * Default true (strict profile); resolvers and forwarders never turn it off.
   */
  rejectUnauthorized?: boolean;
}

const DEFAULT_TIMEOUT_MS = 3000;

/** Sends `query` over TLS to `server` (port 853 by convention) and resolves with the reply. */
export async function exchangeTls(query: Message, server: ServerAddress, opts: TlsExchangeOptions = {}): Promise<ExchangeResult> {
  const bytes = encodeQuery(query, opts.keepId);
  const matcher = new ReplyMatcher(getId(bytes), query.question[0], opts.matchCase === true);
  const tries = Math.max(1, opts.tries ?? 1);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const tally = new IgnoredTally(opts.onIgnored);
  const r = await withTries(tries, opts.signal, () => {
    const sock = tlsConnect({
      host: server.address, port: server.port, servername: opts.servername, ca: opts.ca,
      // Without a name, node checks the certificate's IP Address SANs against the address.
      rejectUnauthorized: opts.rejectUnauthorized ?? true, ALPNProtocols: ['dot'],
    });
    return streamAttempt(sock, undefined, 'tls', bytes, server, matcher, tally, timeoutMs, opts.signal);
  });
  return { ...r, transport: 'tcp', server, truncatedRetry: false, queryBytes: bytes, ignored: tally.count };
}
