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
import { performance } from 'node:perf_hooks';
import { AbortedError, NetworkError, TimeoutError } from '../errors.js';
import type { Message } from '../wire/message.js';
import { type ExchangeResult, type IgnoredReason, ReplyMatcher, type ServerAddress, TcpFramer, randomId, serverLabel } from './exchange.js';

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
  onIgnored?: (reason: IgnoredReason, from: ServerAddress, bytes: Uint8Array) => void;
}

const DEFAULT_TIMEOUT_MS = 3000;

/** Sends `query` over TLS to `server` (port 853 by convention) and resolves with the reply. */
export async function exchangeTls(query: Message, server: ServerAddress, opts: TlsExchangeOptions = {}): Promise<ExchangeResult> {
  const bytes = query.encode();
  if (opts.keepId !== true) {
    const id = randomId();
    bytes[0] = id >>> 8;
    bytes[1] = id & 0xff;
  }
  const matcher = new ReplyMatcher((bytes[0]! << 8) | bytes[1]!, query.question[0], opts.matchCase === true);
  const tries = Math.max(1, opts.tries ?? 1);
  let ignored = 0;
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    if (opts.signal?.aborted === true) throw new AbortedError('query aborted', opts.signal.reason);
    try {
      const r = await attempt(bytes, server, matcher, opts, () => ignored++);
      return { ...r, transport: 'tcp', server, truncatedRetry: false, queryBytes: bytes, ignored };
    } catch (e) {
      if (!(e instanceof TimeoutError || e instanceof NetworkError)) throw e;
      last = e;
    }
  }
  throw last;
}

function attempt(query: Uint8Array, server: ServerAddress, matcher: ReplyMatcher, opts: TlsExchangeOptions,
  countIgnored: () => void): Promise<{ message: Message; bytes: Uint8Array; rttMs: number }> {
  const label = serverLabel(server);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const framer = new TcpFramer();
    let sentAt = 0;
    let done = false;
    const sock = tlsConnect({
      host: server.address, port: server.port, servername: opts.servername, ca: opts.ca,
      // Without a name, node checks the certificate's IP Address SANs against the address.
      rejectUnauthorized: true, ALPNProtocols: ['dot'],
    });
    const finish = (err: Error | undefined, result?: { message: Message; bytes: Uint8Array; rttMs: number }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      sock.removeAllListeners('data');
      sock.on('error', () => {});
      sock.destroy();
      if (err !== undefined) reject(err);
      else resolve(result!);
    };
    const onAbort = (): void => finish(new AbortedError('query aborted', opts.signal?.reason));
    const timer = setTimeout(() => finish(new TimeoutError(label, timeoutMs, 'tcp')), timeoutMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted === true) return onAbort();
    sock.on('error', (e: NodeJS.ErrnoException) => finish(new NetworkError(label, `tls: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.message}`, e)));
    sock.on('end', () => finish(new NetworkError(label, 'tls: connection closed before a reply')));
    sock.on('data', (chunk: Buffer) => {
      for (const b of framer.push(chunk)) {
        const m = matcher.check(b);
        if (m === 'malformed') return finish(new NetworkError(label, 'tls: malformed reply'));
        if (typeof m === 'string') {
          countIgnored();
          opts.onIgnored?.(m, server, b);
          continue;
        }
        return finish(undefined, { message: m, bytes: b, rttMs: performance.now() - sentAt });
      }
    });
    sock.once('secureConnect', () => {
      if (done) return;
      sock.setNoDelay(true);
      sentAt = performance.now();
      const framed = new Uint8Array(query.length + 2);
      framed[0] = query.length >>> 8;
      framed[1] = query.length & 0xff;
      framed.set(query, 2);
      sock.write(framed);
    });
  });
}
