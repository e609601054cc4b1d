/**
 * DNS over HTTPS (RFC 8484): `GET path?dns=BASE64URL` and `POST path` with
 * `application/dns-message`, over HTTP/2 and HTTP/1.1 (ALPN), plus the JSON form
 * (`?name=&type=&do=&cd=`, `application/dns-json`) that Google's and Cloudflare's resolvers
 * answer. A plain-HTTP variant (`http://` listeners) serves behind a reverse proxy, believing
 * X-Forwarded-For only from the configured proxies.
 *
 * Invariants: every query goes through the same QueryEngine as UDP/TCP with the client's real
 * address (views, ACLs, stats); a request never makes the process throw: bad input gets 400
 * (unparsable), 404 (other path), 405 (method), 413 (over 65535 octets, RFC 8484 §6), 415 (media
 * type); bodies are capped while they arrive; connections are limited in total and per client
 * and closed after the idle timeout; a TLS handshake has a deadline.
 */
import { type IncomingMessage, type Server as HttpServer, type ServerResponse, createServer as createHttpServer } from 'node:http';
import {
  type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, createSecureServer, createServer as createH2cServer,
} from 'node:http2';
import { type Server as NetServer, type Socket, createServer as createNetServer } from 'node:net';
import type { SecureContextOptions, TLSSocket } from 'node:tls';
import { ListenError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { Acl } from '../resolver/acl.js';
import { Writer } from '../wire/writer.js';
import type { QueryEngine } from './engine.js';
import { RESPONSE_BLOCK, WANTS_PADDING, appendTail, queryWants, scanMessage } from './edns-tail.js';
import { jsonQuery, jsonReply } from './doh-json.js';
import type { ServerStats } from './stats.js';
import type { DotOptions } from './tcp.js';

export interface DohListenerOptions {
  address: string;
  port: number;
  /** The URI template's path (RFC 8484 §3), e.g. `/dns-query`. */
  path: string;
  engine: QueryEngine;
  logger: Logger;
  stats: ServerStats;
  /** TLS credentials; undefined for a plain-HTTP listener behind a reverse proxy. */
  tls?: DotOptions | undefined;
  idleTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerClient: number;
  /** HTTP/2 streams in flight on one connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxStreams: number;
  /** Answer `application/dns-json` (`?name=&type=`). */
  json: boolean;
  /** Peers whose X-Forwarded-For names the client (plain HTTP behind a proxy). */
  trustedProxies?: Acl | undefined;
  exclusive?: boolean;
}

/** RFC 8484 §6: a DNS message is at most 65535 octets. */
const MAX_BODY = 65535;
const DNS_MESSAGE = 'application/dns-message';
const DNS_JSON = 'application/dns-json';

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

/** base64url without padding (RFC 8484 §4.1, RFC 4648 §5); padding is tolerated. */
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * A 200 reply. Over HTTP/2 the body goes in one DATA frame carrying END_STREAM (through the
 * stream, not the compatibility layer, which sends an empty DATA frame after it: dnsperf and
 * other strict clients take that for a second message).
 */
function send(res: Res, headers: Record<string, string | number>, body: Buffer | undefined): void {
  if ('stream' in res) {
    const stream = res.stream;
    if (stream.destroyed || stream.closed) return;
    if (body === undefined) {
      stream.respond({ ':status': 200, ...headers }, { endStream: true });
      return;
    }
    stream.respond({ ':status': 200, ...headers }, { endStream: false });
    stream.end(body);
    return;
  }
  res.writeHead(200, headers);
  if (body === undefined) res.end();
  else res.end(body);
}

export class DohListener {
  private readonly server: NetServer | Http2SecureServer;
  private readonly opts: DohListenerOptions;
  private readonly writer = new Writer();
  private readonly ttl = new Int32Array(1);
  private readonly perClient = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private open = 0;

  constructor(opts: DohListenerOptions) {
    this.opts = opts;
    const onRequest = (req: Req, res: Res): void => this.onRequest(req, res);
    const t = opts.tls;
    if (t !== undefined) {
      const server = createSecureServer({
        ...t.context, allowHTTP1: true, ticketKeys: t.ticketKeys, handshakeTimeout: t.handshakeTimeoutMs,
        settings: { maxConcurrentStreams: opts.maxStreams }, maxSessionMemory: 10,
      }, onRequest);
      server.setTimeout(opts.idleTimeoutMs);
      server.on('tlsClientError', (_err: Error, socket: TLSSocket) => {
        opts.stats.tlsHandshakeFailures++;
        socket.destroy();
      });
      server.on('sessionError', () => { /* the session is destroyed; nothing else to do */ });
      this.server = server;
    } else {
      // Plain HTTP behind a proxy: HTTP/1.1, or HTTP/2 with prior knowledge (h2c, as dig
      // +http-plain speaks it), told apart by the connection preface (RFC 9113 §3.4).
      const h1: HttpServer = createHttpServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: opts.idleTimeoutMs }, onRequest);
      h1.on('clientError', (_err: Error, socket: Socket) => {
        opts.stats.httpsErrors++;
        if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        socket.destroy();
      });
      const h2 = createH2cServer({ settings: { maxConcurrentStreams: opts.maxStreams }, maxSessionMemory: 10 }, onRequest);
      h2.setTimeout(opts.idleTimeoutMs);
      h2.on('sessionError', () => { /* the session is destroyed */ });
      const silent = (socket: Socket): void => {
        socket.destroy();
      };
      this.server = createNetServer({ noDelay: true }, (socket) => {
        // A connection that never says a word is closed after the idle timeout.
        socket.setTimeout(opts.idleTimeoutMs);
        socket.once('timeout', silent.bind(null, socket));
        socket.once('data', (first: Buffer) => {
          socket.setTimeout(0);
          socket.removeAllListeners('timeout');
          socket.pause();
          socket.unshift(first);
          if (first[0] === 0x50 && first[1] === 0x52 && first[2] === 0x49) {
            h2.emit('connection', socket); // "PRI": reads what is buffered, then the handle itself
          } else {
            h1.emit('connection', socket);
            socket.resume();
          }
        });
      });
    }
    this.server.on('connection', (raw: Socket) => this.admit(raw));
  }

  /** Connection limits, counted from accept (before any handshake). */
  private admit(socket: Socket): void {
    const address = socket.remoteAddress ?? '';
    const count = this.perClient.get(address) ?? 0;
    if (this.open >= this.opts.maxConnections || count >= this.opts.maxConnectionsPerClient) {
      this.opts.stats.tlsRefused++;
      socket.destroy();
      return;
    }
    this.opts.stats.tlsConnections++;
    this.open++;
    this.perClient.set(address, count + 1);
    this.sockets.add(socket);
    // Replies are small and written as HEADERS then DATA: without this, Nagle holds the second
    // write for the client's delayed ACK (tens of ms per answer).
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      this.open--;
      this.sockets.delete(socket);
      const n = (this.perClient.get(address) ?? 1) - 1;
      if (n <= 0) this.perClient.delete(address);
      else this.perClient.set(address, n);
    });
  }

  listen(): Promise<{ address: string; port: number }> {
    const o = this.opts;
    const kind = o.tls === undefined ? 'http' : 'https';
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new ListenError(kind, o.address, o.port, err));
      this.server.once('error', onError);
      this.server.listen({ host: o.address, port: o.port, exclusive: o.exclusive ?? true, ipv6Only: o.address.includes(':') }, () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => o.logger.warn({ err }, `${kind} server error`));
        const a = this.server.address();
        if (a === null || typeof a === 'string') {
          reject(new ListenError(kind, o.address, o.port, new Error('listening on something that is not an IP address')));
          return;
        }
        resolve({ address: a.address, port: a.port });
      });
    });
  }

  /** New certificate and key for new handshakes (reload); open connections keep theirs. */
  setSecureContext(context: SecureContextOptions): void {
    const t = this.opts.tls;
    if (t !== undefined) (this.server as Http2SecureServer).setSecureContext({ ...context, ticketKeys: t.ticketKeys });
  }

  /** New limits (reload) for connections accepted from now on. */
  setLimits(l: { maxConnections: number; maxConnectionsPerClient: number }): void {
    this.opts.maxConnections = l.maxConnections;
    this.opts.maxConnectionsPerClient = l.maxConnectionsPerClient;
  }

  /** The client: the peer, or for a trusted proxy the right-most X-Forwarded-For hop it did not add itself. */
  private client(req: Req): { address: string; port: number } {
    const s = req.socket;
    const peer = s.remoteAddress ?? '';
    const proxies = this.opts.trustedProxies;
    if (proxies === undefined || !proxies.allows(peer)) return { address: peer, port: s.remotePort ?? 0 };
    const xff = req.headers['x-forwarded-for'];
    const text = Array.isArray(xff) ? xff.join(',') : xff;
    if (text === undefined || text === '') return { address: peer, port: s.remotePort ?? 0 };
    const hops = text.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!.trim().replace(/^\[|\](:\d+)?$/g, '');
      if (hop === '') continue;
      if (i > 0 && proxies.allows(hop)) continue;
      return { address: hop, port: 0 };
    }
    return { address: peer, port: s.remotePort ?? 0 };
  }

  private fail(res: Res, status: number, text: string, extra?: Record<string, string>): void {
    this.opts.stats.httpsErrors++;
    if (res.headersSent || res.writableEnded || res.destroyed) return;
    const body = Buffer.from(text + '\n');
    // HTTP/2 has no Connection header (RFC 9113 §8.2.2): there the stream just ends.
    const h1 = extra !== undefined && !('stream' in res);
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length, ...(h1 ? extra : {}) });
    res.end(body);
  }

  private onRequest(req: Req, res: Res): void {
    req.on('error', () => { /* a reset stream: nothing to answer */ });
    res.on('error', () => { /* ditto */ });
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path !== this.opts.path) return this.fail(res, 404, `not found: DNS queries go to ${this.opts.path}`);
    if (req.method === 'GET' || req.method === 'HEAD') {
      const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
      const dns = params.get('dns');
      if (dns !== null) {
        if (dns === '' || !BASE64URL.test(dns)) return this.fail(res, 400, 'the dns parameter is not base64url (RFC 8484 §4.1)');
        const msg = Buffer.from(dns, 'base64url');
        if (msg.length > MAX_BODY) return this.fail(res, 413, 'query larger than 65535 octets');
        return this.answer(req, res, msg);
      }
      if (this.opts.json && params.get('name') !== null) return this.answerJson(req, res, params);
      return this.fail(res, 400, this.opts.json ? 'missing the dns parameter (or name= for JSON)' : 'missing the dns parameter');
    }
    if (req.method === 'POST') {
      const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== DNS_MESSAGE) return this.fail(res, 415, `POST bodies must be ${DNS_MESSAGE}`);
      const declared = Number(req.headers['content-length'] ?? -1);
      if (declared > MAX_BODY) return this.fail(res, 413, 'query larger than 65535 octets', { connection: 'close' });
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (c: Buffer) => {
        if (over) return;
        size += c.length;
        if (size > MAX_BODY) {
          over = true;
          this.fail(res, 413, 'query larger than 65535 octets', { connection: 'close' });
          // Stop the upload once the 413 is out (destroying at once could lose the reply).
          if (res.writableFinished) req.destroy();
          else res.once('finish', () => req.destroy());
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        if (over) return;
        if (size === 0) return this.fail(res, 400, 'empty body');
        this.answer(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      });
      return;
    }
    this.fail(res, 405, 'use GET or POST');
  }

  /** Runs one wire-format query through the engine and sends the reply (or 400 when there is none). */
  private answer(req: Req, res: Res, msg: Buffer): void {
    const { address, port } = this.client(req);
    const wants = queryWants(msg, msg.length) & WANTS_PADDING;
    const r = this.opts.engine.process(msg, msg.length, 'https', address, port, this.writer);
    if (typeof r === 'number') {
      this.reply(res, r, wants, req.method === 'HEAD');
      return;
    }
    this.opts.engine.settle(r, this.writer, (len) => this.reply(res, len, wants, req.method === 'HEAD'));
  }

  /** Sends the reply in the writer: Cache-Control from its smallest TTL (RFC 8484 §5.1). */
  private reply(res: Res, len: number, wants: number, head: boolean): void {
    if (len < 0) return this.fail(res, 400, 'not a DNS query');
    // Only a padded query gets a padded reply (RFC 7830 §4, as BIND and Unbound do).
    if (wants !== 0 && this.opts.tls !== undefined) len = appendTail(this.writer, len, wants, 0, RESPONSE_BLOCK);
    scanMessage(this.writer.buf, len, this.ttl);
    const min = this.ttl[0]!;
    const body = Buffer.allocUnsafe(len);
    body.set(this.writer.buf.subarray(0, len));
    if (res.writableEnded || res.destroyed) return;
    send(res, { 'content-type': DNS_MESSAGE, 'content-length': len, 'cache-control': `max-age=${min === 0x7fffffff ? 0 : min}` }, head ? undefined : body);
  }

  /** The JSON API: builds the query from the parameters, runs it, answers JSON. */
  private answerJson(req: Req, res: Res, params: URLSearchParams): void {
    const q = jsonQuery(params);
    if (typeof q === 'string') return this.fail(res, 400, q);
    const { address, port } = this.client(req);
    const done = (len: number): void => {
      if (len < 0) return this.fail(res, 400, 'not a DNS query');
      const text = jsonReply(this.writer.buf.subarray(0, len));
      scanMessage(this.writer.buf, len, this.ttl);
      const min = this.ttl[0]!;
      if (res.writableEnded || res.destroyed) return;
      const body = Buffer.from(text);
      send(res, { 'content-type': DNS_JSON, 'content-length': body.length, 'cache-control': `max-age=${min === 0x7fffffff ? 0 : min}` },
        req.method === 'HEAD' ? undefined : body);
    };
    const r = this.opts.engine.process(q, q.length, 'https', address, port, this.writer);
    if (typeof r === 'number') done(r);
    else this.opts.engine.settle(r, this.writer, done);
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
