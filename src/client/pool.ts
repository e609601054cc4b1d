/**
 * Connection reuse for DNS over TLS and HTTPS upstreams (RFC 7858 §3.4, RFC 8484 §5): one
 * connection per upstream, opened on first use and kept while queries come, with queries
 * pipelined on it (DoT: length-prefixed messages matched by ID, RFC 7766 §6.2.1.1; DoH: one
 * HTTP/2 stream each), and TLS sessions resumed when a connection has to be reopened.
 *
 * Invariants: a query's ID is unique among those in flight on its connection; each query has
 * its own deadline; a connection that fails or closes fails exactly the queries in flight on it
 * (the caller's failover treats that as for one connection per query) and the next query opens
 * a new one; an idle connection is closed after `idleMs` (its timer never keeps the process up).
 */
import { type ClientHttp2Session, connect as http2Connect, constants as h2 } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { NetworkError, TimeoutError } from '../errors.js';
import type { Message } from '../wire/message.js';
import { onDohReply } from './doh.js';
import type { ExchangeResult } from './exchange.js';
import { TcpFramer, frame } from './framing.js';
import { ReplyMatcher, type ServerAddress, randomId, setId } from './match.js';

export interface PoolOptions {
  /** Name the certificate must carry (and SNI); default the address. */
  servername?: string | undefined;
  ca?: string | Buffer | undefined;
  /** Close the connection after this long without queries (default 10 s). */
  idleMs?: number;
  /** DoH: the URI template's path. */
  path?: string;
}

interface Pending {
  matcher: ReplyMatcher;
  resolve: (r: ExchangeResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  sentAt: number;
  bytes: Uint8Array;
  /** The connection it was sent on (a closing connection fails only its own queries). */
  sock: TLSSocket | undefined;
}

/** A pooled DoT connection to one upstream. */
export class DotPool {
  private sock: TLSSocket | undefined;
  private framer = new TcpFramer();
  private readonly inFlight = new Map<number, Pending>();
  private session: Buffer | undefined;
  private idle: NodeJS.Timeout | undefined;
  /** Connections opened so far (tests and stats). */
  connections = 0;

  constructor(private readonly server: ServerAddress, private readonly opts: PoolOptions = {}) {}

  private label(): string {
    return `tls://${this.server.address.includes(':') ? `[${this.server.address}]` : this.server.address}:${this.server.port}`;
  }

  private open(): TLSSocket {
    this.connections++;
    const sock = tlsConnect({
      host: this.server.address, port: this.server.port, servername: this.opts.servername, ca: this.opts.ca,
      rejectUnauthorized: true, ALPNProtocols: ['dot'], ...(this.session !== undefined ? { session: this.session } : {}),
    });
    this.framer = new TcpFramer();
    sock.setNoDelay(true);
    sock.on('session', (s: Buffer) => { this.session = s; });
    sock.on('data', (c: Buffer) => {
      for (const m of this.framer.push(c)) this.onReply(m);
    });
    const fail = (err: Error): void => {
      if (this.sock === sock) this.sock = undefined;
      for (const [id, p] of this.inFlight) {
        if (p.sock !== sock) continue;
        this.inFlight.delete(id);
        clearTimeout(p.timer);
        p.reject(new NetworkError(this.label(), `tls: ${err.message}`, err));
      }
    };
    sock.on('error', (e: Error) => {
      fail(e);
      sock.destroy();
    });
    sock.on('close', () => fail(new Error('connection closed')));
    return sock;
  }

  private onReply(bytes: Uint8Array): void {
    if (bytes.length < 12) return;
    const id = (bytes[0]! << 8) | bytes[1]!;
    const p = this.inFlight.get(id);
    if (p === undefined) return; // late or unknown: ignored
    const m = p.matcher.check(bytes);
    if (typeof m === 'string') return; // wrong question: keep waiting for ours
    this.inFlight.delete(id);
    clearTimeout(p.timer);
    p.resolve({
      message: m, bytes, rttMs: performance.now() - p.sentAt, transport: 'tcp', server: this.server, truncatedRetry: false,
      queryBytes: p.bytes, ignored: 0,
    });
    this.armIdle();
  }

  private armIdle(): void {
    if (this.inFlight.size > 0) return;
    if (this.idle !== undefined) clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      if (this.inFlight.size === 0) this.close();
    }, this.opts.idleMs ?? 10_000);
    this.idle.unref();
  }

  /** Sends `query` on the shared connection (opened when there is none) and resolves with the reply. */
  exchange(query: Message, timeoutMs: number): Promise<ExchangeResult> {
    const bytes = query.encode();
    let id = randomId();
    for (let i = 0; this.inFlight.has(id) && i < 100; i++) id = randomId();
    setId(bytes, id);
    if (this.sock === undefined || this.sock.destroyed) this.sock = this.open();
    const sock = this.sock;
    if (this.idle !== undefined) clearTimeout(this.idle);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.inFlight.delete(id);
        reject(new TimeoutError(this.label(), timeoutMs));
      }, timeoutMs);
      this.inFlight.set(id, { matcher: new ReplyMatcher(id, query.question[0], false), resolve, reject, timer, sentAt: performance.now(), bytes, sock });
      sock.write(frame(bytes));
    });
  }

  close(): void {
    if (this.idle !== undefined) clearTimeout(this.idle);
    this.sock?.destroy();
    this.sock = undefined;
  }
}

/** A pooled HTTP/2 session to one DoH upstream; each query is a stream (POST, ID 0, RFC 8484 §4.1). */
export class DohPool {
  private session: ClientHttp2Session | undefined;
  private idle: NodeJS.Timeout | undefined;
  private active = 0;
  connections = 0;

  constructor(private readonly server: ServerAddress, private readonly opts: PoolOptions = {}) {}

  private authority(): string {
    const host = this.server.address.includes(':') ? `[${this.server.address}]` : this.server.address;
    return `${host}:${this.server.port}`;
  }

  private open(): ClientHttp2Session {
    this.connections++;
    const s = http2Connect(`https://${this.authority()}`, {
      ...(this.opts.ca !== undefined ? { ca: this.opts.ca } : {}),
      ...(this.opts.servername !== undefined ? { servername: this.opts.servername } : {}),
      rejectUnauthorized: true,
    });
    s.on('error', () => { if (this.session === s) this.session = undefined; });
    s.on('close', () => { if (this.session === s) this.session = undefined; });
    s.on('goaway', () => { if (this.session === s) this.session = undefined; });
    return s;
  }

  exchange(query: Message, timeoutMs: number): Promise<ExchangeResult> {
    const bytes = query.encode();
    setId(bytes, 0);
    const matcher = new ReplyMatcher(0, query.question[0], false);
    if (this.session === undefined || this.session.destroyed || this.session.closed) this.session = this.open();
    const session = this.session;
    if (this.idle !== undefined) clearTimeout(this.idle);
    this.active++;
    const label = `https://${this.authority()}${this.opts.path ?? '/dns-query'}`;
    return new Promise<ExchangeResult>((resolve, reject) => {
      let done = false;
      const finish = (err: Error | undefined, r?: ExchangeResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.active--;
        this.armIdle();
        if (err !== undefined) {
          req.close(h2.NGHTTP2_CANCEL);
          reject(err);
        } else {
          resolve(r!);
        }
      };
      const timer = setTimeout(() => finish(new TimeoutError(label, timeoutMs)), timeoutMs);
      const sentAt = performance.now();
      const req = session.request({
        [h2.HTTP2_HEADER_METHOD]: 'POST', [h2.HTTP2_HEADER_PATH]: this.opts.path ?? '/dns-query',
        [h2.HTTP2_HEADER_AUTHORITY]: this.opts.servername ?? this.authority(),
        [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/dns-message', [h2.HTTP2_HEADER_ACCEPT]: 'application/dns-message',
        [h2.HTTP2_HEADER_CONTENT_LENGTH]: bytes.length,
      });
      onDohReply(req, label, matcher, bytes, this.server, sentAt, finish);
      req.end(Buffer.from(bytes));
    });
  }

  private armIdle(): void {
    if (this.active > 0) return;
    if (this.idle !== undefined) clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      if (this.active === 0) this.close();
    }, this.opts.idleMs ?? 10_000);
    this.idle.unref();
  }

  close(): void {
    if (this.idle !== undefined) clearTimeout(this.idle);
    this.session?.close();
    this.session = undefined;
  }
}
