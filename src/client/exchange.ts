/**
 * One DNS query/response exchange with a server over UDP or TCP (RFC 1035 §4.2, RFC 7766), as
 * the resolver, the forwarder, zone transfers and `sovereign dig` all use it.
 *
 * Invariants:
 * - Every wait has a deadline (`timeoutMs` per attempt); nothing here waits forever.
 * - IDs and UDP source ports come from node:crypto, never Math.random. Each UDP exchange gets
 *   its own socket on a random port (RFC 5452 §9.2), connected to the server so the kernel
 *   drops datagrams from elsewhere; the source address and port are checked again anyway.
 * - A reply is accepted only when its source address+port, ID, QR bit and question (name, type,
 *   class) match the query (RFC 5452 §9.1). Anything else is ignored and counted, and the wait
 *   goes on until the deadline. Undecodable UDP datagrams are ignored too (an attacker could
 *   send them); an undecodable TCP reply is a NetworkError (the stream is from the server).
 * - Failures are typed: TimeoutError (EDE 22), NetworkError (EDE 23), AbortedError, so callers
 *   can map them to SERVFAIL + Extended DNS Error without string matching.
 * - The caller's query Message is never modified: a fresh ID is patched into the encoded bytes.
 */
import type { Socket as UdpSocket } from 'node:dgram';
import { isIPv6, Socket as TcpSocket, type TcpSocketConnectOpts } from 'node:net';
import { performance } from 'node:perf_hooks';
import { NetworkError, TimeoutError } from '../errors.js';
import type { Message } from '../wire/message.js';
import { Attempt, type AttemptResult, ignoreError, socketError, withTries } from './attempt.js';
import { TcpFramer, frame, streamAttempt } from './framing.js';
import { bindPort, takeUdpSocket } from './udp-pool.js';
import {
  type IgnoredHook, IgnoredTally, ReplyMatcher, type ServerAddress, encodeQuery, getId, randomId, serverLabel, setId,
} from './match.js';

export { TcpFramer } from './framing.js';
export { type IgnoredReason, ReplyMatcher, type ServerAddress, randomId, serverLabel } from './match.js';

export interface ExchangeOptions {
  /** Transport of the first attempt; default 'udp'. UDP retries over TCP when the reply has TC. */
  transport?: 'udp' | 'tcp';
  /** Time allowed for each attempt, in milliseconds; default 2000. */
  timeoutMs?: number;
  /** Attempts per transport (a timeout or network error moves to the next); default 1. */
  tries?: number;
  /** Return a truncated UDP reply as it is instead of retrying over TCP. */
  ignoreTruncation?: boolean;
  /**
   * Require the question name back byte-for-byte, case included (the "0x20" defence of
   * draft-vixie-dnsext-dns0x20); default false: names compare ignoring ASCII case (RFC 4343).
   */
  matchCase?: boolean;
  /** Send the query with its own ID; default false: a fresh crypto-random ID is used. */
  keepId?: boolean;
  /** Cancels the exchange; it then rejects with AbortedError. */
  signal?: AbortSignal;
  /** Local address to send from (default: any address of the server's family). */
  localAddress?: string;
  /** Local port to send from (nsupdate's `local ADDR PORT`, dig -b ADDR#PORT); default: crypto-random. */
  localPort?: number;
  /** Largest UDP datagram accepted; default 65535. */
  maxUdpSize?: number;
  /** Told about every message that was received but not accepted (for logs and counters). */
  onIgnored?: IgnoredHook;
  /** Signs the encoded query (ID already final) before it is sent: TSIG (src/tsig). */
  sign?: (query: Uint8Array) => Uint8Array;
}

export interface ExchangeResult {
  /** The accepted reply. */
  message: Message;
  /** The reply exactly as received (without the TCP length prefix). */
  bytes: Uint8Array;
  /** Time from sending the query to receiving the accepted reply, of the attempt that succeeded. */
  rttMs: number;
  /** Transport that carried the accepted reply. */
  transport: 'udp' | 'tcp';
  server: ServerAddress;
  /** True when a UDP reply came back truncated and this reply is the TCP retry's. */
  truncatedRetry: boolean;
  /** The query as sent (with the ID actually used). */
  queryBytes: Uint8Array;
  /** How many received messages were ignored (wrong source, ID, question, or malformed). */
  ignored: number;
  /** Where the query was sent from, when known (UDP); for dnstap. */
  local?: { address: string; port: number } | undefined;
}

const DEFAULT_TIMEOUT_MS = 2000;

/**
 * Sends `query` to `server` and resolves with the first acceptable reply (see the module
 * comment for what "acceptable" means). Rejects with TimeoutError when every attempt timed
 * out, NetworkError on socket failures, AbortedError when `opts.signal` fires.
 */
export async function exchange(query: Message, server: ServerAddress, opts: ExchangeOptions = {}): Promise<ExchangeResult> {
  let bytes = encodeQuery(query, opts.keepId);
  if (opts.sign !== undefined) bytes = opts.sign(bytes);
  const matcher = new ReplyMatcher(getId(bytes), query.question[0], opts.matchCase === true);
  const tries = Math.max(1, opts.tries ?? 1);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const first = opts.transport ?? 'udp';
  const tally = new IgnoredTally(opts.onIgnored);

  if (first === 'udp') {
    const r = await withTries(tries, opts.signal, () => udpAttempt(bytes, server, matcher, timeoutMs, opts, tally));
    if (!r.message.tc || opts.ignoreTruncation === true) {
      return { ...r, transport: 'udp', server, truncatedRetry: false, queryBytes: bytes, ignored: tally.count };
    }
    // RFC 7766 §5: a truncated UDP reply is retried over TCP.
    const t = await withTries(tries, opts.signal, () => tcpAttempt(bytes, server, matcher, timeoutMs, opts, tally));
    return { ...t, transport: 'tcp', server, truncatedRetry: true, queryBytes: bytes, ignored: tally.count };
  }
  const t = await withTries(tries, opts.signal, () => tcpAttempt(bytes, server, matcher, timeoutMs, opts, tally));
  return { ...t, transport: 'tcp', server, truncatedRetry: false, queryBytes: bytes, ignored: tally.count };
}

/** The socket's local address and port (undefined once it is closed). */
function localOf(sock: UdpSocket): { address: string; port: number } | undefined {
  try {
    const a = sock.address();
    return { address: a.address, port: a.port };
  } catch {
    return undefined;
  }
}

/** Strips IPv4-mapped prefixes and lowercases, so addresses from rinfo compare with ours. */
function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const na = a.toLowerCase().replace(/^::ffff:(?=\d+\.)/, '');
  const nb = b.toLowerCase().replace(/^::ffff:(?=\d+\.)/, '');
  return na === nb;
}

/** A UDP socket bound to a crypto-random port for one exchange (pre-bound spares: udp-pool.ts). */
function openUdpSocket(server: ServerAddress, localAddress: string | undefined, localPort: number | undefined): Promise<UdpSocket> {
  const v6 = isIPv6(server.address);
  if (localPort !== undefined && localPort !== 0) return bindPort(v6, localAddress, localPort, serverLabel(server));
  return takeUdpSocket(v6, localAddress, serverLabel(server));
}

function releaseUdp(sock: UdpSocket): void {
  sock.removeAllListeners('message');
  sock.on('error', ignoreError);
  try { sock.close(); } catch { /* already closed */ }
}

/** One UDP attempt on a fresh socket. */
async function udpAttempt(query: Uint8Array, server: ServerAddress, matcher: ReplyMatcher, timeoutMs: number,
  opts: ExchangeOptions, tally: IgnoredTally): Promise<AttemptResult> {
  const sock = await openUdpSocket(server, opts.localAddress, opts.localPort);
  const label = serverLabel(server);
  const maxSize = opts.maxUdpSize ?? 65535;
  return new Promise<AttemptResult>((resolve, reject) => {
    let sentAt = 0;
    const attempt = new Attempt<AttemptResult>(resolve, reject, () => releaseUdp(sock), opts.signal, label, timeoutMs, 'udp');
    if (attempt.done) return;

    sock.on('error', (e: NodeJS.ErrnoException) => attempt.finish(socketError(label, 'udp', e)));
    sock.on('message', (msg: Buffer, rinfo) => {
      const b = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
      const from = { address: rinfo.address, port: rinfo.port };
      if (rinfo.port !== server.port || !sameAddress(rinfo.address, server.address)) return tally.note('source', from, b);
      if (b.length > maxSize) return tally.note('malformed', from, b);
      const m = matcher.check(b);
      if (typeof m === 'string') return tally.note(m, from, b);
      attempt.finish(undefined, { message: m, bytes: Uint8Array.from(b), rttMs: performance.now() - sentAt, local: localOf(sock) });
    });
    // Connecting lets the kernel drop other sources and report ICMP port-unreachable.
    // Node hands a failed connect (no route: ENETUNREACH) to this callback rather than to 'error'
    // (its typings omit the argument); sending on the unconnected socket would then throw.
    sock.connect(server.port, server.address, ((e?: NodeJS.ErrnoException) => {
      if (attempt.done) return;
      if (e) {
        attempt.finish(socketError(label, 'udp', e));
        return;
      }
      sentAt = performance.now();
      sock.send(query, (e) => {
        if (e) attempt.finish(new NetworkError(label, `udp send: ${e.message}`, e));
      });
    }) as () => void);
  });
}

function tcpConnectOptions(server: ServerAddress, localAddress: string | undefined, localPort?: number): TcpSocketConnectOpts {
  const o: TcpSocketConnectOpts = { host: server.address, port: server.port };
  if (localAddress !== undefined) o.localAddress = localAddress;
  if (localPort !== undefined && localPort !== 0) o.localPort = localPort;
  return o;
}

/** One TCP attempt: connect, send the framed query, read framed messages until the reply. */
function tcpAttempt(query: Uint8Array, server: ServerAddress, matcher: ReplyMatcher, timeoutMs: number,
  opts: ExchangeOptions, tally: IgnoredTally): Promise<AttemptResult> {
  return streamAttempt(new TcpSocket(), tcpConnectOptions(server, opts.localAddress, opts.localPort), 'tcp', query, server, matcher, tally,
    timeoutMs, opts.signal);
}

/**
 * A TCP connection carrying several queries (RFC 7766 §6.2.1: pipelined, replies matched by
 * ID and question, possibly out of order), and streams of replies such as AXFR (RFC 5936).
 * Every wait has a deadline; the caller closes the connection.
 */
/** What a raw stream's waiter is handed instead of a decoded message: nothing (streamBytes reads only the bytes). */
const NO_MESSAGE = undefined as unknown as Message;

export class TcpConnection {
  private readonly framer = new TcpFramer();
  private readonly waiters = new Map<number, {
    matcher: ReplyMatcher;
    /** Only the header and question are checked; onMessage gets no decoded message (streamBytes). */
    raw: boolean;
    onMessage: (m: Message, bytes: Uint8Array) => boolean;
    fail: (e: Error) => void;
  }>();
  private closedError: Error | undefined;
  /** Messages received that matched no outstanding query. */
  ignored = 0;

  private constructor(private readonly sock: TcpSocket, readonly server: ServerAddress) {
    const label = serverLabel(server);
    sock.on('data', (chunk: Buffer) => {
      for (const b of this.framer.push(chunk)) this.dispatch(b);
    });
    sock.on('error', (e) => this.failAll(new NetworkError(label, `tcp: ${e.message}`, e)));
    sock.on('close', () => this.failAll(new NetworkError(label, 'tcp: connection closed')));
  }

  /** Connects to `server`, failing with TimeoutError after `timeoutMs` (default 2000). */
  static connect(server: ServerAddress, opts: { timeoutMs?: number; signal?: AbortSignal; localAddress?: string } = {}): Promise<TcpConnection> {
    const label = serverLabel(server);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const sock = new TcpSocket();
      const timer = setTimeout(() => { sock.destroy(); reject(new TimeoutError(label, timeoutMs, 'tcp connect')); }, timeoutMs);
      const onError = (e: Error): void => {
        clearTimeout(timer);
        sock.destroy();
        reject(socketError(label, 'tcp', e));
      };
      sock.once('error', onError);
      sock.connect(tcpConnectOptions(server, opts.localAddress), () => {
        clearTimeout(timer);
        sock.off('error', onError);
        sock.setNoDelay(true);
        resolve(new TcpConnection(sock, server));
      });
    });
  }

  private dispatch(b: Uint8Array): void {
    if (b.length < 12) {
      this.ignored++;
      return;
    }
    const w = this.waiters.get(getId(b));
    if (w === undefined) {
      this.ignored++;
      return;
    }
    if (w.raw) {
      const why = w.matcher.checkHead(b);
      if (why === 'malformed') return w.fail(new NetworkError(serverLabel(this.server), 'tcp: malformed reply'));
      if (why !== undefined) {
        this.ignored++;
        return;
      }
      if (!w.onMessage(NO_MESSAGE, b)) this.waiters.delete(w.matcher.id);
      return;
    }
    const m = w.matcher.check(b);
    if (m === 'malformed') return w.fail(new NetworkError(serverLabel(this.server), 'tcp: malformed reply'));
    if (typeof m === 'string') {
      this.ignored++;
      return;
    }
    if (!w.onMessage(m, b)) this.waiters.delete(w.matcher.id);
  }

  private failAll(e: Error): void {
    if (this.closedError !== undefined) return;
    this.closedError = e;
    for (const w of this.waiters.values()) w.fail(e);
    this.waiters.clear();
  }

  private register(query: Message, opts: { timeoutMs?: number; keepId?: boolean; matchCase?: boolean; sign?: (q: Uint8Array) => Uint8Array; stream?: boolean; raw?: boolean },
    onMessage: (m: Message, bytes: Uint8Array, rttMs: number) => boolean, fail: (e: Error) => void): { unregister: () => void; sent: Uint8Array } {
    if (this.closedError !== undefined) throw this.closedError;
    let bytes = query.encode();
    let id = getId(bytes);
    if (opts.keepId !== true) {
      // A fresh ID not already outstanding on this connection (RFC 7766 §7).
      do id = randomId(); while (this.waiters.has(id));
      setId(bytes, id);
    } else if (this.waiters.has(id)) {
      throw new NetworkError(serverLabel(this.server), `ID ${id} is already outstanding on this connection`);
    }
    if (opts.sign !== undefined) bytes = opts.sign(bytes);
    const sentAt = performance.now();
    this.waiters.set(id, {
      matcher: new ReplyMatcher(id, query.question[0], opts.matchCase === true, opts.stream === true),
      raw: opts.raw === true,
      onMessage: (m, b) => onMessage(m, b, performance.now() - sentAt),
      fail,
    });
    this.sock.write(frame(bytes));
    return { unregister: () => this.waiters.delete(id), sent: bytes };
  }

  /** Sends one query and resolves with its reply; TimeoutError after `timeoutMs` (default 2000). */
  query(query: Message, opts: { timeoutMs?: number; keepId?: boolean; matchCase?: boolean; sign?: (q: Uint8Array) => Uint8Array } = {}): Promise<ExchangeResult> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let sent: Uint8Array = new Uint8Array(0);
      const { unregister, sent: s } = this.register(query, opts, (message, bytes, rttMs) => {
        clearTimeout(timer);
        resolve({ message, bytes, rttMs, transport: 'tcp', server: this.server, truncatedRetry: false, queryBytes: sent, ignored: this.ignored });
        return false;
      }, (e) => { clearTimeout(timer); reject(e); });
      sent = s;
      timer = setTimeout(() => { unregister(); reject(new TimeoutError(serverLabel(this.server), timeoutMs, 'tcp')); }, timeoutMs);
    });
  }

  /**
   * Sends one query and yields every reply message with its ID, decoded and as received
   * (AXFR/IXFR send many), until the caller stops iterating. `idleTimeoutMs` (default 2000) bounds the wait for each message.
   */
  async *stream(query: Message, opts: { idleTimeoutMs?: number; keepId?: boolean; matchCase?: boolean; sign?: (q: Uint8Array) => Uint8Array } = {}):
    AsyncGenerator<{ message: Message; bytes: Uint8Array }> {
    yield* this.streamOf(query, opts, false);
  }

  /**
   * stream() for a caller that reads the messages itself (an inbound AXFR builds its zone from
   * the wire): each reply's bytes, only its header and question checked, nothing decoded.
   */
  async *streamBytes(query: Message, opts: { idleTimeoutMs?: number; keepId?: boolean; matchCase?: boolean; sign?: (q: Uint8Array) => Uint8Array } = {}):
    AsyncGenerator<Uint8Array> {
    for await (const { bytes } of this.streamOf(query, opts, true)) yield bytes;
  }

  private async *streamOf(query: Message, opts: { idleTimeoutMs?: number; keepId?: boolean; matchCase?: boolean; sign?: (q: Uint8Array) => Uint8Array }, raw: boolean):
    AsyncGenerator<{ message: Message; bytes: Uint8Array }> {
    const timeoutMs = opts.idleTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const queue: { message: Message; bytes: Uint8Array }[] = [];
    let error: Error | undefined;
    let wake: (() => void) | undefined;
    const { unregister } = this.register(query, { ...opts, stream: true, raw }, (message, bytes) => {
      queue.push({ message, bytes });
      wake?.();
      return true;
    }, (e) => { error = e; wake?.(); });
    try {
      for (;;) {
        if (queue.length > 0) {
          yield queue.shift()!;
          continue;
        }
        if (error !== undefined) throw error;
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await new Promise<boolean>((resolve) => {
          wake = () => resolve(false);
          timer = setTimeout(() => resolve(true), timeoutMs);
        });
        clearTimeout(timer);
        wake = undefined;
        if (timedOut && queue.length === 0 && error === undefined) throw new TimeoutError(serverLabel(this.server), timeoutMs, 'tcp stream');
      }
    } finally {
      unregister();
    }
  }

  /** Closes the connection; outstanding queries fail with NetworkError. */
  close(): void {
    this.sock.end();
    this.sock.destroy();
  }
}
