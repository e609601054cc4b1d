/**
 * TCP transport (RFC 1035 §4.2.2, RFC 7766): 2-octet length-prefixed messages, several queries
 * per connection, pipelined and answered out of order as they complete, an idle timeout, and
 * limits on connections per client and in total.
 *
 * Invariants: a connection never holds more than one partial message plus the bytes of one
 * read; a client that stops mid-message is closed by the idle timeout, and one that trickles a
 * message byte by byte is closed once that message has taken longer than the idle timeout; a connection with
 * `maxPipelined` queries in flight, or with more than MAX_UNSENT octets of answers it has not
 * read, stops being read until answers drain.
 */
import { type Server, type Socket, createServer } from 'node:net';
import { type SecureContextOptions, type TLSSocket, type Server as TlsServer, createServer as createTlsServer } from 'node:tls';
import { ListenError } from '../errors.js';
import type { Logger } from '../logging.js';
import { Writer } from '../wire/writer.js';
import { HEADER_SIZE } from '../wire/message.js';
import { type LocalAddress, NO_LOCAL, type QueryEngine, StreamReply } from './engine.js';
import { HAS_EDNS, appendTail, queryWants } from './edns-tail.js';
import type { ServerStats } from './stats.js';

export interface TcpListenerOptions {
  address: string;
  port: number;
  engine: QueryEngine;
  logger: Logger;
  stats: ServerStats;
  idleTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerClient: number;
  maxPipelined: number;
  exclusive?: boolean;
  /** DNS over TLS (RFC 7858): serve TLS on this listener with these credentials. */
  tls?: DotOptions;
}

/** What a DoT listener adds to a TCP one. */
export interface DotOptions {
  /** Certificate and key (and TLS versions): see tls-context.ts. */
  context: SecureContextOptions;
  /** 48 octets shared by the workers, so sessions resume on any of them (RFC 8446 §2.2). */
  ticketKeys: Buffer;
  /** A client must finish its handshake within this (slow-handshake defence). */
  handshakeTimeoutMs: number;
}

/** Unsent answer octets a connection may pile up before we stop reading its queries. */
const MAX_UNSENT = 256 * 1024;

/** Zone transfers: octets per write (a batch holds at least one largest message, 65535 + 2). */
const XFR_BATCH = 128 * 1024;
/** Zone transfers: encoding pauses (until 'drain') while the socket holds this many unsent octets. */
const XFR_UNSENT = 512 * 1024;
/** Zone transfers: octets written before yielding to other connections when the socket never pushes back. */
const XFR_SLICE = 1024 * 1024;

class Connection {
  pending: Buffer | undefined = undefined;
  /** When the unfinished message in `pending` began (ms): a client dribbling bytes gets no more time. */
  pendingSince = 0;
  inFlight = 0;
  /** `pending` starts with complete messages not dispatched yet (the pipelining limit was hit). */
  backlog = false;
  paused = false;
  /** Reading stopped because answers are piling up unsent (the client does not read). */
  blocked = false;
  closed = false;

  constructor(readonly socket: Socket, readonly address: string, readonly port: number,
    readonly idleTimeoutMs: number, readonly maxPipelined: number) {}
}

export class TcpListener {
  private readonly server: Server;
  private readonly writer = new Writer();
  private readonly opts: TcpListenerOptions;
  private readonly perClient = new Map<string, number>();
  private readonly connections = new Set<Connection>();
  /** Connections counted against the limits (TCP: all; TLS: from accept, handshake or not). */
  private open = 0;
  /** DoT: raw sockets, so close() also ends those still in their handshake. */
  private readonly raw = new Set<Socket>();

  /** The TLS server when this listener serves DoT (its credentials are swapped on reload). */
  private readonly tlsServer: TlsServer | undefined;
  private readonly kind: 'tcp' | 'tls';
  /** Where the server is bound (for dnstap), once it is. */
  private local: LocalAddress = NO_LOCAL;

  constructor(opts: TcpListenerOptions) {
    this.opts = opts;
    const t = opts.tls;
    if (t === undefined) {
      this.kind = 'tcp';
      this.server = createServer({ noDelay: true }, (socket) => {
        if (this.admit(socket)) this.onConnection(socket);
      });
      this.tlsServer = undefined;
      return;
    }
    this.kind = 'tls';
    // RFC 7858 §3.2 / RFC 8310: TLS 1.2+, ALPN "dot" (RFC 7858 registry), resumption by tickets.
    const server = createTlsServer({
      ...t.context, ALPNProtocols: ['dot'], ticketKeys: t.ticketKeys, handshakeTimeout: t.handshakeTimeoutMs, noDelay: true,
    }, (socket) => this.onConnection(socket));
    // Limits count raw connections, before the handshake: idle half-open TLS costs as much.
    server.on('connection', (raw: Socket) => {
      if (!this.admit(raw)) return;
      opts.stats.tlsConnections++;
    });
    // A failed or slow handshake (garbage, wrong protocol, timeout): counted, the socket closed.
    server.on('tlsClientError', (_err: Error, socket: TLSSocket) => {
      opts.stats.tlsHandshakeFailures++;
      socket.destroy();
    });
    this.server = server;
    this.tlsServer = server;
  }

  /** New certificate and key for new handshakes (reload); open connections keep theirs. */
  setSecureContext(context: SecureContextOptions): void {
    const t = this.opts.tls;
    if (t !== undefined) this.tlsServer?.setSecureContext({ ...context, ticketKeys: t.ticketKeys });
  }

  /**
   * Binds; rejects with ListenError (never throws inside a callback). An IPv6 address listens
   * IPv6-only, as the UDP side does, so `0.0.0.0:53` and `[::]:53` can both be configured.
   */
  listen(): Promise<{ address: string; port: number }> {
    const o = this.opts;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new ListenError('tcp', o.address, o.port, err));
      this.server.once('error', onError);
      this.server.listen({ host: o.address, port: o.port, exclusive: o.exclusive ?? true, ipv6Only: o.address.includes(':') }, () => {
        this.server.off('error', onError);
        // Errors after start (EMFILE on accept...) are logged, never thrown.
        this.server.on('error', (err) => o.logger.warn({ err }, 'tcp server error'));
        const a = this.server.address();
        if (a === null || typeof a === 'string') {
          reject(new ListenError('tcp', o.address, o.port, new Error('listening on something that is not an IP address')));
          return;
        }
        this.local = { address: a.address, port: a.port };
        resolve({ address: a.address, port: a.port });
      });
    });
  }

  /**
   * New limits (reload): connection counts apply to the next connection accepted, idle timeout
   * and pipelining limit to connections opened from now on.
   */
  setLimits(l: { idleTimeoutMs: number; maxConnections: number; maxConnectionsPerClient: number; maxPipelined: number }): void {
    const o = this.opts;
    o.idleTimeoutMs = l.idleTimeoutMs;
    o.maxConnections = l.maxConnections;
    o.maxConnectionsPerClient = l.maxConnectionsPerClient;
    o.maxPipelined = l.maxPipelined;
  }

  /**
   * Applies the connection limits (total and per client) to a new connection; counts it until it
   * closes. False when it was refused (and destroyed).
   */
  private admit(socket: Socket): boolean {
    const stats = this.opts.stats;
    const address = socket.remoteAddress ?? '';
    const count = this.perClient.get(address) ?? 0;
    if (this.open >= this.opts.maxConnections || count >= this.opts.maxConnectionsPerClient) {
      if (this.kind === 'tls') stats.tlsRefused++;
      else stats.tcpRefused++;
      socket.destroy();
      return false;
    }
    if (this.kind === 'tcp') stats.tcpConnections++;
    this.open++;
    this.perClient.set(address, count + 1);
    socket.on('error', () => socket.destroy()); // resets are normal; never let them crash us
    socket.once('close', () => {
      this.open--;
      const n = (this.perClient.get(address) ?? 1) - 1;
      if (n <= 0) this.perClient.delete(address);
      else this.perClient.set(address, n);
    });
    if (this.kind === 'tls') this.raw.add(socket);
    if (this.kind === 'tls') socket.once('close', () => this.raw.delete(socket));
    return true;
  }

  private onConnection(socket: Socket): void {
    const stats = this.opts.stats;
    const address = socket.remoteAddress ?? '';
    const conn = new Connection(socket, address, socket.remotePort ?? 0, this.opts.idleTimeoutMs, this.opts.maxPipelined);
    this.connections.add(conn);
    socket.setTimeout(conn.idleTimeoutMs);
    socket.on('timeout', () => {
      // RFC 7766 §6.2.3: idle means no query outstanding. One still being answered (a slow
      // upstream) keeps the connection; its reply re-arms the timer.
      if (conn.inFlight > 0) {
        socket.setTimeout(conn.idleTimeoutMs);
        return;
      }
      stats.tcpTimeouts++;
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', () => socket.destroy()); // resets are normal; never let them crash us
    socket.on('close', () => {
      conn.closed = true;
      this.connections.delete(conn);
    });
  }

  private onData(conn: Connection, chunk: Buffer): void {
    if (conn.pending !== undefined && Date.now() - conn.pendingSince > conn.idleTimeoutMs) {
      // Slowloris: one message may take at most the idle timeout to arrive, however it trickles.
      this.opts.stats.tcpTimeouts++;
      conn.socket.destroy();
      return;
    }
    this.frame(conn, conn.pending === undefined ? chunk : Buffer.concat([conn.pending, chunk]));
  }

  /**
   * Dispatches the complete messages in `buf` until `maxPipelined` are in flight; keeps the rest
   * (further complete messages of the same read, and at most one partial message) in
   * `conn.pending`, to be dispatched as answers go out. The socket stays paused meanwhile, so a
   * client cannot push more than one read past the limit.
   */
  private frame(conn: Connection, buf: Buffer): void {
    let off = 0;
    let complete = false;
    while (buf.length - off >= 2) {
      if (conn.inFlight >= conn.maxPipelined) {
        complete = true;
        break;
      }
      const len = (buf[off]! << 8) | buf[off + 1]!;
      if (len < HEADER_SIZE) {
        // Not even a header: nothing sensible can follow on this stream.
        this.opts.stats.dropped++;
        conn.socket.destroy();
        return;
      }
      if (buf.length - off - 2 < len) break;
      const msg = buf.subarray(off + 2, off + 2 + len);
      off += 2 + len;
      this.onMessage(conn, msg);
      if (conn.closed) return;
    }
    // Keep only what is left (copied, so the big read buffer can be freed).
    if (off === buf.length) {
      conn.pending = undefined;
    } else {
      // The slowloris clock runs only for a partial message, from when it began to arrive.
      if (conn.pending === undefined || off > 0) conn.pendingSince = Date.now();
      conn.pending = off === 0 ? buf : Buffer.from(buf.subarray(off));
      conn.backlog = complete;
    }
    if (conn.inFlight >= conn.maxPipelined && !conn.paused) {
      conn.paused = true;
      conn.socket.pause();
    }
  }

  private onMessage(conn: Connection, msg: Buffer): void {
    const tls = this.kind === 'tls';
    if (!tls) this.opts.stats.tcpQueries++;
    // DoT: what the query asks of the reply's OPT (keepalive, padding), read before the writer is reused.
    const wants = tls ? queryWants(msg, msg.length) : 0;
    this.opts.engine.local = this.local;
    const r = this.opts.engine.processTcp(msg, msg.length, conn.address, conn.port, this.writer, this.kind, conn.socket.localAddress);
    if (typeof r === 'number') {
      this.send(conn, wants === 0 ? r : this.tail(r, wants, conn));
      return;
    }
    if (r instanceof StreamReply) {
      this.pump(conn, r);
      return;
    }
    conn.inFlight++;
    this.opts.engine.settle(r, this.writer, (len) => {
      conn.inFlight--;
      this.send(conn, wants === 0 ? len : this.tail(len, wants, conn));
      if (conn.closed || conn.inFlight >= conn.maxPipelined) return;
      // Room again: first the queries already read, then the socket.
      if (conn.backlog && conn.pending !== undefined) {
        conn.backlog = false;
        const buf = conn.pending;
        conn.pending = undefined;
        this.frame(conn, buf);
        if (conn.closed || conn.inFlight >= conn.maxPipelined) return;
      }
      if (conn.paused) {
        conn.paused = false;
        if (!conn.blocked) conn.socket.resume();
      }
    });
  }

  /**
   * Sends a multi-message reply (zone transfer, RFC 5936 §2.2) as the client reads it. Messages
   * are framed into one batch buffer and written XFR_BATCH octets at a time (one write per batch,
   * not per message: a 16 KiB message alone fills the socket's default high-water mark, and
   * waiting for 'drain' after each one left the transfer idle between messages). Encoding goes
   * on while the socket holds less than XFR_UNSENT unsent octets, then waits for 'drain'; so
   * memory per transfer is bounded by XFR_UNSENT plus one batch, however large the zone. After
   * XFR_SLICE octets without back-pressure it yields to the event loop, so other clients are
   * served meanwhile. Counts as one query in flight until its last message.
   */
  private pump(conn: Connection, s: StreamReply): void {
    conn.inFlight++;
    const socket = conn.socket;
    let batch = Buffer.allocUnsafe(XFR_BATCH);
    let off = 0;
    const flush = (): void => {
      if (off === 0) return;
      socket.write(batch.subarray(0, off));
      batch = Buffer.allocUnsafe(XFR_BATCH);
      off = 0;
    };
    const step = (): void => {
      let slice = 0;
      for (;;) {
        if (conn.closed) return;
        let len: number;
        try {
          len = s.next(this.writer);
        } catch (err) {
          // Nothing sensible can follow a half-sent transfer: close (RFC 5936 §2.2 lets us).
          this.opts.logger.error({ err }, 'zone transfer failed');
          socket.destroy();
          return;
        }
        if (len < 0) {
          flush();
          conn.inFlight--;
          return;
        }
        if (off + len + 2 > batch.length) {
          slice += off;
          flush();
          if (socket.writableLength >= XFR_UNSENT) {
            this.stashMessage(batch, 0, len);
            off = len + 2;
            socket.once('drain', step);
            return;
          }
          if (slice >= XFR_SLICE) {
            this.stashMessage(batch, 0, len);
            off = len + 2;
            setImmediate(step);
            return;
          }
        }
        this.stashMessage(batch, off, len);
        off += len + 2;
      }
    };
    step();
  }

  /** Copies the message in the writer, length-prefixed (RFC 1035 §4.2.2), into `batch` at `at`. */
  private stashMessage(batch: Buffer, at: number, len: number): void {
    batch[at] = len >>> 8;
    batch[at + 1] = len & 0xff;
    batch.set(this.writer.buf.subarray(0, len), at + 2);
  }

  /**
   * DoT: the keepalive option (RFC 7828 §3.3.2, our idle timeout in 100 ms units) when the query
   * carried one, and RFC 8467 block padding when the query was padded (RFC 7830 §4).
   */
  private tail(len: number, wants: number, conn: Connection): number {
    if (len < 0 || (wants & HAS_EDNS) === 0) return len;
    return appendTail(this.writer, len, wants, Math.ceil(conn.idleTimeoutMs / 100));
  }

  /** Sends one framed message; false when the socket's buffer is full (wait for 'drain'). */
  private send(conn: Connection, len: number): boolean {
    if (len < 0 || conn.closed) return true;
    const out = Buffer.allocUnsafe(len + 2);
    out[0] = len >>> 8;
    out[1] = len & 0xff;
    out.set(this.writer.buf.subarray(0, len), 2);
    const room = conn.socket.write(out);
    if (!room && conn.socket.writableLength > MAX_UNSENT && !conn.blocked) {
      // The client sends queries but does not read the answers: stop reading until it does.
      conn.blocked = true;
      conn.socket.pause();
      conn.socket.once('drain', () => {
        conn.blocked = false;
        if (!conn.paused) conn.socket.resume();
      });
    }
    return room;
  }

  close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    for (const r of this.raw) r.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
