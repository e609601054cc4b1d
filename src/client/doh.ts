/**
 * DNS over HTTPS (RFC 8484): one query as an HTTP/2 POST of `application/dns-message` to a
 * server's URI template path (usually `/dns-query`), with the same result shape and the same
 * reply matching as `exchange()`.
 *
 * Invariants:
 * - The server is authenticated by TLS (its certificate must chain to the system CAs or `ca`, and
 *   name `servername`, or the IP address when none is given); no cleartext fallback.
 * - The query goes with ID 0 (RFC 8484 §4.1: HTTP caches stay useful; TLS protects the
 *   exchange), and the reply must carry that ID, QR and our question.
 * - Every wait has a deadline (`timeoutMs` covers connect, handshake and reply); replies larger
 *   than 65535 octets or not `application/dns-message` are errors.
 * - One HTTP/2 session per exchange (pooling is the caller's option).
 */
import { type ClientHttp2Session, type ClientHttp2Stream, connect as http2Connect, constants as h2 } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { NetworkError } from '../errors.js';
import type { Message } from '../wire/message.js';
import { Attempt, ignoreError, socketError } from './attempt.js';
import type { ExchangeResult } from './exchange.js';
import { ReplyMatcher, type ServerAddress, setId } from './match.js';

export interface HttpsExchangeOptions {
  timeoutMs?: number;
  /** Path of the DoH URI template (default `/dns-query`). */
  path?: string;
  /** Name the certificate must carry (SNI and :authority too); default the address. */
  servername?: string;
  /** PEM CA certificate(s) to trust instead of the system store. */
  ca?: string | Buffer;
  signal?: AbortSignal;  /**
   * false: accept any certificate (dig's +tls without +tls-ca: RFC 8310 opportunistic profile).
   * Default true (strict profile); resolvers and forwarders never turn it off.
   */
  rejectUnauthorized?: boolean;
  /** Send the query's own ID instead of 0 (dig does; RFC 8484 §4.1 only recommends 0). */
  keepId?: boolean;
  /** GET with `?dns=` base64url (RFC 8484 §4.1) instead of POST. */
  method?: 'GET' | 'POST';
}

const DEFAULT_TIMEOUT_MS = 3000;
const MAX_REPLY = 65535;

function releaseSession(session: ClientHttp2Session): void {
  session.on('error', ignoreError);
  session.destroy();
}

/** POSTs `query` to `https://server/path` over HTTP/2 and resolves with the decoded reply. */
export function exchangeHttps(query: Message, server: ServerAddress, opts: HttpsExchangeOptions = {}): Promise<ExchangeResult> {
  const bytes = query.encode();
  if (opts.keepId !== true) setId(bytes, 0);
  const matcher = new ReplyMatcher(opts.keepId === true ? query.id : 0, query.question[0], false);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const host = server.address.includes(':') ? `[${server.address}]` : server.address;
  const label = `https://${host}:${server.port}${opts.path ?? '/dns-query'}`;
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://${host}:${server.port}`, {
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
      rejectUnauthorized: opts.rejectUnauthorized ?? true,
    });
    const attempt = new Attempt<ExchangeResult>(resolve, reject, () => releaseSession(session), opts.signal, label, timeoutMs, 'tcp');
    if (attempt.done) return;
    session.on('error', (e: NodeJS.ErrnoException) => attempt.finish(socketError(label, 'https', e)));
    const sentAt = performance.now();
    const get = opts.method === 'GET';
    const path = opts.path ?? '/dns-query';
    const req = session.request(get ? {
      [h2.HTTP2_HEADER_METHOD]: 'GET',
      [h2.HTTP2_HEADER_PATH]: `${path}${path.includes('?') ? '&' : '?'}dns=${Buffer.from(bytes).toString('base64url')}`,
      [h2.HTTP2_HEADER_AUTHORITY]: opts.servername ?? host,
      [h2.HTTP2_HEADER_ACCEPT]: 'application/dns-message',
    } : {
      [h2.HTTP2_HEADER_METHOD]: 'POST',
      [h2.HTTP2_HEADER_PATH]: path,
      [h2.HTTP2_HEADER_AUTHORITY]: opts.servername ?? host,
      [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/dns-message',
      [h2.HTTP2_HEADER_ACCEPT]: 'application/dns-message',
      [h2.HTTP2_HEADER_CONTENT_LENGTH]: bytes.length,
    });
    onDohReply(req, label, matcher, bytes, server, sentAt, (err, r) => attempt.finish(err, r));
    if (get) req.end();
    else req.end(Buffer.from(bytes));
  });
}

/**
 * Reads one DoH reply (RFC 8484 §4.2) from `req`: HTTP status 200, content type
 * application/dns-message, at most 65535 octets, matched against the query; `finish` gets the
 * result or a NetworkError. Shared by single exchanges and pooled connections.
 */
export function onDohReply(req: ClientHttp2Stream, label: string, matcher: ReplyMatcher, bytes: Uint8Array,
  server: ServerAddress, sentAt: number, finish: (err?: Error, r?: ExchangeResult) => void): void {
  req.on('error', (e: Error) => finish(new NetworkError(label, `https: ${e.message}`, e)));
  let status = 0;
  let type = '';
  req.on('response', (headers) => {
    status = Number(headers[h2.HTTP2_HEADER_STATUS] ?? 0);
    type = String(headers[h2.HTTP2_HEADER_CONTENT_TYPE] ?? '');
  });
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_REPLY) return finish(new NetworkError(label, 'https: reply larger than 65535 octets'));
    chunks.push(c);
  });
  req.on('end', () => {
    if (status !== 200) return finish(new NetworkError(label, `https: HTTP status ${status}`));
    if (!type.toLowerCase().startsWith('application/dns-message')) return finish(new NetworkError(label, `https: content-type "${type}"`));
    const body = new Uint8Array(Buffer.concat(chunks));
    const m = matcher.check(body);
    if (typeof m === 'string') return finish(new NetworkError(label, `https: reply rejected (${m})`));
    finish(undefined, {
      message: m, bytes: body, rttMs: performance.now() - sentAt, transport: 'tcp', server, truncatedRetry: false,
      queryBytes: bytes, ignored: 0,
    });
  });
}
