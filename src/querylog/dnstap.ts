/**
 * dnstap output (dnstap.info, dnstap.proto): each query and its response as a `Dnstap` protobuf
 * message in a Frame Streams data frame (framestream.ts), to a collector's Unix socket (the
 * bidirectional handshake) or appended to a file (unidirectional), as BIND (`dnstap-output`),
 * Unbound (`dnstap:`) and Knot (mod-dnstap) write it; `dnstap-ldns -r FILE` or `fstrm_capture`
 * read it.
 *
 * The protobuf is encoded here by hand (proto2, the few fields below), field numbers from
 * dnstap.proto: Dnstap{identity=1, version=2, message=14, type=15 (MESSAGE=1)}; Message{type=1,
 * socket_family=2, socket_protocol=3, query_address=4, query_port=6, query_time_sec=8,
 * query_time_nsec=9 (fixed32), query_message=10, response_time_sec=12, response_time_nsec=13
 * (fixed32), response_message=14}.
 *
 * Message types follow BIND: a query with RD set is a client's (CLIENT_QUERY/CLIENT_RESPONSE),
 * one without is an authoritative query (AUTH_QUERY/AUTH_RESPONSE); the resolver's and the
 * forwarder's own queries upstream are RESOLVER_* and FORWARDER_* (as Unbound's
 * dnstap-log-resolver-* and -forwarder-* messages; tap-exchange.ts); `messages` picks which are sent.
 *
 * Invariants: never blocks answering: frames go to the socket or file while less than a bound is
 * waiting there; beyond it (a slow or absent collector) they are dropped and counted. A lost
 * collector is reconnected with backoff (timer unref'd, so it never keeps the process alive).
 */
import { type WriteStream, createWriteStream, mkdirSync } from 'node:fs';
import { type Socket, createConnection } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../logging.js';
import { ipv4Into, ipv6Into } from '../wire/rdata/addresses.js';
import { Control, DNSTAP_CONTENT_TYPE, controlFrame, parseFrame } from './framestream.js';
import type { LocalAddress } from './local-address.js';

/** dnstap.proto Message.Type values. */
export const DnstapType = {
  AUTH_QUERY: 1, AUTH_RESPONSE: 2, RESOLVER_QUERY: 3, RESOLVER_RESPONSE: 4, CLIENT_QUERY: 5, CLIENT_RESPONSE: 6,
  FORWARDER_QUERY: 7, FORWARDER_RESPONSE: 8,
} as const;

/** dnstap.proto SocketProtocol: UDP 1, TCP 2, DOT 3, DOH 4, by our transport code (udp, tcp, tls, https). */
const SOCKET_PROTOCOL = [1, 2, 3, 4];

export type DnstapMessageName = 'client-query' | 'client-response' | 'auth-query' | 'auth-response' |
  'resolver-query' | 'resolver-response' | 'forwarder-query' | 'forwarder-response';

/** Every message type, the default of `messages`. */
export const DNSTAP_MESSAGE_NAMES: readonly DnstapMessageName[] = [
  'client-query', 'client-response', 'auth-query', 'auth-response', 'resolver-query', 'resolver-response', 'forwarder-query', 'forwarder-response',
];

export interface DnstapOptions {
  /** A collector's Unix socket (bidirectional Frame Streams). */
  socket?: string | undefined;
  /** A file (unidirectional Frame Streams), appended... replaced at start, as BIND does. */
  file?: string | undefined;
  identity?: string | undefined;
  version?: string | undefined;
  messages?: readonly DnstapMessageName[] | undefined;
  /** About this many frames may wait for the collector; more are dropped. */
  queueFrames?: number | undefined;
}

/** Octets one frame is assumed to take when bounding the queue. */
const FRAME_ESTIMATE = 512;
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/** A protobuf encoder over one growing scratch buffer (proto2 wire format). */
class Pb {
  buf = Buffer.allocUnsafe(4096);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n + 1024));
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }

  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  uint(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }

  fixed32(field: number, v: number): void {
    this.tag(field, 5);
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  bytes(field: number, b: Uint8Array, len = b.length): void {
    this.tag(field, 2);
    this.varint(len);
    this.ensure(len);
    for (let i = 0; i < len; i++) this.buf[this.pos + i] = b[i]!;
    this.pos += len;
  }
}

export class DnstapWriter {
  /** Frames written (to the socket or file). */
  sent = 0;
  /** Frames dropped: no collector, or too many waiting. */
  dropped = 0;
  private readonly identity: Buffer | undefined;
  private readonly version: Buffer | undefined;
  private readonly want = new Uint8Array(16);
  private readonly maxWaitingBytes: number;
  private readonly pb = new Pb();
  private readonly msg = new Pb();
  private readonly addr = new Uint8Array(16);
  private out: Socket | WriteStream | undefined;
  /** True once data frames may be written (file opened; socket: ACCEPT received and START sent). */
  private ready = false;
  private closed = false;
  private reconnectMs = RECONNECT_MIN_MS;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: DnstapOptions, private readonly logger: Logger) {
    this.identity = opts.identity === undefined ? undefined : Buffer.from(opts.identity, 'utf8');
    this.version = opts.version === undefined ? undefined : Buffer.from(opts.version, 'utf8');
    const messages = opts.messages ?? DNSTAP_MESSAGE_NAMES;
    const code: Record<DnstapMessageName, number> = {
      'client-query': DnstapType.CLIENT_QUERY, 'client-response': DnstapType.CLIENT_RESPONSE,
      'auth-query': DnstapType.AUTH_QUERY, 'auth-response': DnstapType.AUTH_RESPONSE,
      'resolver-query': DnstapType.RESOLVER_QUERY, 'resolver-response': DnstapType.RESOLVER_RESPONSE,
      'forwarder-query': DnstapType.FORWARDER_QUERY, 'forwarder-response': DnstapType.FORWARDER_RESPONSE,
    };
    for (const m of messages) this.want[code[m]] = 1;
    this.maxWaitingBytes = (opts.queueFrames ?? 10_000) * FRAME_ESTIMATE;
    if (opts.file !== undefined) this.openFile(opts.file);
    else if (opts.socket !== undefined) this.connect(opts.socket);
  }

  private openFile(path: string): void {
    mkdirSync(dirname(path), { recursive: true });
    const f = createWriteStream(path, { flags: 'w' });
    f.on('error', (err) => {
      this.logger.warn({ err, file: path }, 'dnstap file write failed');
      this.ready = false;
    });
    // Unidirectional Frame Streams: START with the content type, then data frames.
    f.write(controlFrame(Control.START, DNSTAP_CONTENT_TYPE));
    this.out = f;
    this.ready = true;
  }

  private connect(path: string): void {
    if (this.closed) return;
    const s = createConnection(path);
    this.out = s;
    let pending: Buffer = Buffer.alloc(0);
    s.on('connect', () => {
      // Bidirectional: READY with the content type we write; the reader answers ACCEPT.
      s.write(controlFrame(Control.READY, DNSTAP_CONTENT_TYPE));
    });
    s.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      try {
        for (let f = parseFrame(pending); f !== undefined; f = parseFrame(pending)) {
          pending = pending.subarray(f.length);
          if (f.kind !== 'control') continue;
          if (f.frame.type === Control.ACCEPT && !this.ready) {
            if (f.frame.contentTypes.length > 0 && !f.frame.contentTypes.includes(DNSTAP_CONTENT_TYPE)) {
              throw new Error(`collector accepts ${f.frame.contentTypes.join(', ')}, not ${DNSTAP_CONTENT_TYPE}`);
            }
            s.write(controlFrame(Control.START, DNSTAP_CONTENT_TYPE));
            this.ready = true;
            this.reconnectMs = RECONNECT_MIN_MS;
            this.logger.info({ socket: path }, 'dnstap collector connected');
          } else if (f.frame.type === Control.FINISH) {
            s.end();
          }
        }
      } catch (err) {
        this.logger.warn({ err, socket: path }, 'dnstap collector spoke no Frame Streams we understand');
        s.destroy();
      }
    });
    s.on('error', (err) => {
      if (this.reconnectMs === RECONNECT_MIN_MS) this.logger.warn({ err, socket: path }, 'dnstap collector unreachable; retrying');
    });
    s.on('close', () => {
      this.ready = false;
      if (this.out === s) this.out = undefined;
      if (this.closed) return;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.connect(path);
      }, this.reconnectMs);
      this.timer.unref();
      this.reconnectMs = Math.min(this.reconnectMs * 2, RECONNECT_MAX_MS);
    });
  }

  /**
   * A query and its reply from a client (the engine's view): CLIENT_QUERY/CLIENT_RESPONSE when
   * the query asked for recursion, AUTH_QUERY/AUTH_RESPONSE otherwise. Times are performance.now().
   */
  clientMessage(queryMs: number, replyMs: number, transport: number, client: string, port: number,
    query: Uint8Array, queryLen: number, reply: Uint8Array, replyLen: number, local: LocalAddress | undefined): void {
    if (queryLen < 12) return;
    const rd = (query[2]! & 0x01) !== 0;
    const qt = rd ? DnstapType.CLIENT_QUERY : DnstapType.AUTH_QUERY;
    const rt = rd ? DnstapType.CLIENT_RESPONSE : DnstapType.AUTH_RESPONSE;
    const origin = performance.timeOrigin;
    if (this.want[qt] === 1) this.emit(qt, transport, client, port, local, origin + queryMs, query, queryLen, -1, reply, 0);
    if (this.want[rt] === 1 && replyLen > 0) this.emit(rt, transport, client, port, local, origin + queryMs, undefined, 0, origin + replyMs, reply, replyLen);
  }

  /**
   * One upstream exchange of the resolver (RESOLVER_QUERY/RESOLVER_RESPONSE, as Unbound's
   * dnstap-log-resolver-*-messages) or the forwarder (FORWARDER_*): the query as sent, at
   * `queryTimeMs` (ms since the epoch), and the reply when one came. The server is the
   * responder (response_address/port), we are the initiator (query_address/port, when known).
   */
  upstreamMessage(forwarder: boolean, queryTimeMs: number, replyTimeMs: number, tcp: boolean, server: string, serverPort: number,
    local: LocalAddress | undefined, query: Uint8Array, reply: Uint8Array | undefined, zone: Uint8Array | undefined): void {
    const qt = forwarder ? DnstapType.FORWARDER_QUERY : DnstapType.RESOLVER_QUERY;
    const rt = forwarder ? DnstapType.FORWARDER_RESPONSE : DnstapType.RESOLVER_RESPONSE;
    const transport = tcp ? 1 : 0;
    if (this.want[qt] === 1) this.emit(qt, transport, server, serverPort, local, queryTimeMs, query, query.length, -1, query, 0, true, zone);
    if (this.want[rt] === 1 && reply !== undefined) {
      this.emit(rt, transport, server, serverPort, local, queryTimeMs, undefined, 0, replyTimeMs, reply, reply.length, true, zone);
    }
  }

  /**
   * `peer` is the client (its query_address/port; `local` our listener's, as response_address/port)
   * or, `outgoing`, the upstream server (response_address/port; `local` our socket, query_address/port).
   */
  private emit(type: number, transport: number, peer: string, peerPort: number, local: LocalAddress | undefined, queryTimeMs: number,
    query: Uint8Array | undefined, queryLen: number, replyTimeMs: number, reply: Uint8Array, replyLen: number,
    outgoing = false, zone?: Uint8Array): void {
    const out = this.out;
    if (out === undefined || !this.ready || out.writableLength > this.maxWaitingBytes) {
      this.dropped++;
      return;
    }
    // Message first (its length prefixes it inside Dnstap).
    const m = this.msg;
    m.pos = 0;
    m.uint(1, type);
    const a = this.addr;
    let alen = 0;
    if (ipv4Into(peer, a, 0)) alen = 4;
    else if (ipv6Into(peer, a, 0)) alen = 16;
    if (alen > 0) {
      m.uint(2, alen === 4 ? 1 : 2); // SocketFamily INET / INET6
      m.uint(3, SOCKET_PROTOCOL[transport] ?? 1);
      const hasLocal = local !== undefined && local.port > 0;
      if (!outgoing) {
        m.bytes(4, a, alen);
        // The address we answered on, as Unbound and BIND give it (not a wildcard: that says nothing).
        if (hasLocal && this.localInto(local.address, alen)) m.bytes(5, a, alen);
        m.uint(6, peerPort);
        if (hasLocal) m.uint(7, local.port);
      } else {
        const peerBytes = Uint8Array.from(a.subarray(0, alen));
        if (hasLocal && this.localInto(local.address, alen)) m.bytes(4, a, alen);
        m.bytes(5, peerBytes, alen);
        if (hasLocal) m.uint(6, local.port);
        m.uint(7, peerPort);
      }
    }
    const qs = Math.floor(queryTimeMs / 1000);
    m.uint(8, qs);
    m.fixed32(9, Math.floor((queryTimeMs - qs * 1000) * 1e6));
    if (query !== undefined) m.bytes(10, query, queryLen);
    if (zone !== undefined) m.bytes(11, zone); // query_zone: the zone the server was asked as authoritative for
    if (replyTimeMs >= 0) {
      const rs = Math.floor(replyTimeMs / 1000);
      m.uint(12, rs);
      m.fixed32(13, Math.floor((replyTimeMs - rs * 1000) * 1e6));
      m.bytes(14, reply, replyLen);
    }
    const p = this.pb;
    p.pos = 4; // the frame's length goes first
    if (this.identity !== undefined) p.bytes(1, this.identity);
    if (this.version !== undefined) p.bytes(2, this.version);
    p.tag(14, 2);
    p.varint(m.pos);
    p.ensure(m.pos);
    m.buf.copy(p.buf, p.pos, 0, m.pos);
    p.pos += m.pos;
    p.uint(15, 1); // Dnstap.Type MESSAGE
    p.buf.writeUInt32BE(p.pos - 4, 0);
    out.write(Buffer.from(p.buf.subarray(0, p.pos)));
    this.sent++;
  }

  /** Our address `l` into `addr` when it is of the peer's family and not a wildcard. */
  private localInto(l: string, alen: number): boolean {
    const a = this.addr;
    return alen === 4 ? ipv4Into(l, a, 0) && l !== '0.0.0.0' : ipv6Into(l, a, 0) && l !== '::' && l !== '::ffff:0.0.0.0';
  }

  /** True while frames are being written: the file is open, or the collector ACCEPTed and START was sent. */
  get connected(): boolean {
    return this.ready;
  }

  /** Ends the stream: STOP (and, on a socket, waits briefly for FINISH). */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const out = this.out;
    if (out === undefined) return;
    if (this.ready) out.write(controlFrame(Control.STOP));
    this.ready = false;
    out.end();
  }
}

