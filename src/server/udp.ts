/**
 * UDP transport: one socket per listen address, one Writer per socket (replies are encoded into
 * it and copied out once), no closure per packet. Queries whose answer the engine has cached are
 * answered from it before any decoding (the ID patched into a copy of the cached reply).
 */
import { type Socket, createSocket } from 'node:dgram';
import { ListenError } from '../errors.js';
import type { Logger } from '../logging.js';
import { Writer } from '../wire/writer.js';
import { type LocalAddress, NO_LOCAL, type QueryEngine, RRL_DROPPED } from './engine.js';
import { type BatchAddon, SLOTS, SLOT_SIZE, type UdpBatching, batchLoadError, loadBatchAddon, socketHandle, udpBatchingMode } from './udp-batch.js';

export interface UdpListenerOptions {
  address: string;
  port: number;
  family: 4 | 6;
  engine: QueryEngine;
  logger: Logger;
  /** Let several processes share the port (cluster workers bind the primary's handle). */
  exclusive?: boolean;
  /** recvmmsg/sendmmsg through the native addon (udp-batch.ts); default from udpBatchingMode. */
  batching?: UdpBatching;
}

export class UdpListener {
  private readonly socket: Socket;
  private readonly writer = new Writer();
  private readonly engine: QueryEngine;
  private readonly logger: Logger;
  private readonly opts: UdpListenerOptions;
  /** The address bound (views' `destinations`); undefined on a wildcard socket, which cannot tell. */
  private localAddress: string | undefined = undefined;
  /** Where the socket is bound (for dnstap), once it is. */
  private local: LocalAddress = NO_LOCAL;
  /** Set while the native batch path reads this socket (see udp-batch.ts). */
  private batch: BatchState | undefined = undefined;

  constructor(opts: UdpListenerOptions) {
    this.opts = opts;
    this.engine = opts.engine;
    this.logger = opts.logger;
    this.socket = createSocket({ type: opts.family === 6 ? 'udp6' : 'udp4', ipv6Only: opts.family === 6 });
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
    // Socket errors (e.g. ICMP unreachable surfaced on send) must never crash the server.
    this.socket.on('error', (err) => this.logger.warn({ err }, 'udp socket error'));
  }

  listen(): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new ListenError('udp', this.opts.address, this.opts.port, err));
      this.socket.once('error', onError);
      this.socket.bind({ address: this.opts.address, port: this.opts.port, exclusive: this.opts.exclusive ?? true }, () => {
        this.socket.off('error', onError);
        const a = this.socket.address();
        this.localAddress = a.address === '0.0.0.0' || a.address === '::' ? undefined : a.address;
        this.local = { address: a.address, port: a.port };
        try {
          this.startBatching();
        } catch (err) {
          this.socket.close();
          reject(new ListenError('udp', this.opts.address, this.opts.port, err as Error));
          return;
        }
        resolve({ address: a.address, port: a.port });
      });
    });
  }

  private onMessage(msg: Buffer, address: string, port: number): void {
    this.engine.local = this.local;
    // Fast path: a copy of the reply the engine already encoded for this query, ID and name case patched in.
    const cached = this.engine.cachedUdpReply(msg, msg.length, address, port, this.localAddress);
    if (cached !== undefined) {
      if (cached !== RRL_DROPPED) this.socket.send(cached, port, address);
      return;
    }
    const r = this.engine.process(msg, msg.length, 'udp', address, port, this.writer, this.localAddress);
    if (typeof r === 'number') {
      this.send(r, address, port);
      return;
    }
    // Asynchronous chain only: this closure is the price of remembering the client.
    this.engine.settle(r, this.writer, (len) => this.send(len, address, port));
  }

  private send(len: number, address: string, port: number): void {
    if (len < 0) return;
    // Copy out of the shared writer: the send may complete after the next packet reuses it.
    const out = Buffer.allocUnsafe(len);
    out.set(this.writer.buf.subarray(0, len));
    this.socket.send(out, port, address);
  }

  /** Whether the native batch path serves this socket. */
  get batched(): boolean {
    return this.batch !== undefined;
  }

  /** Hands reading to the addon when batching is on (or auto and it loads); `on` without it throws. */
  private startBatching(): void {
    const mode = udpBatchingMode(this.opts.batching);
    if (mode === 'off') return;
    const addon = loadBatchAddon();
    const handle = addon === undefined ? undefined : socketHandle(this.socket);
    if (addon === undefined || handle === undefined) {
      const why = addon === undefined ? batchLoadError() : 'no descriptor on the socket';
      if (mode === 'on') throw new Error(`udp.batching is on but the native addon is unusable: ${why}; run npm install with a C compiler, or set udp.batching: auto`);
      this.logger.debug({ reason: why }, 'udp batching unavailable; using node:dgram');
      return;
    }
    const state = new BatchState(addon, this);
    state.handle = addon.open(handle.fd, SLOTS, SLOT_SIZE, state.recv, state.send, state.meta, state, state.onBatch);
    handle.recvStop();
    this.batch = state;
  }

  /** One batch from the addon: answers each datagram in its slot, returns how many slots to flush. */
  answerBatch(s: BatchState, n: number): number {
    const meta = s.meta;
    const mi = s.metaInts;
    let replies = 0;
    this.engine.local = this.local;
    for (let i = 0; i < n; i++) {
      const m = i * mi;
      const len = meta[m]!;
      if (len < 0) continue;
      const port = meta[m + 1]!;
      const address = meta[m + 2] === 4 ? s.ipv4(meta[m + 3]!, m) : s.text(m);
      const msg = s.inViews[i]!;
      const cached = this.engine.cachedUdpReply(msg, len, address, port, this.localAddress);
      if (cached !== undefined) {
        if (cached !== RRL_DROPPED) {
          s.outViews[i]!.set(cached);
          meta[m + 5] = cached.length;
          replies++;
        }
        continue;
      }
      const r = this.engine.process(msg, len, 'udp', address, port, this.writer, this.localAddress);
      if (typeof r === 'number') {
        if (r >= 0) {
          s.outViews[i]!.set(this.writer.buf.subarray(0, r));
          meta[m + 5] = r;
          replies++;
        }
        continue;
      }
      this.engine.settle(r, this.writer, (l) => this.send(l, address, port));
    }
    return replies > 0 ? n : 0;
  }

  close(): Promise<void> {
    if (this.batch !== undefined) {
      this.batch.addon.close(this.batch.handle);
      this.batch = undefined;
    }
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // never bound, or closed already
      }
    });
  }
}

/** The addon's buffers and this listener's per-slot views (made once per socket). */
class BatchState {
  readonly addon: BatchAddon;
  readonly listener: UdpListener;
  readonly recv = new ArrayBuffer(SLOTS * SLOT_SIZE);
  readonly send = new ArrayBuffer(SLOTS * SLOT_SIZE);
  readonly metaInts: number;
  readonly meta: Int32Array;
  readonly metaBytes: Buffer;
  readonly inViews: Buffer[] = [];
  readonly outViews: Buffer[] = [];
  /** IPv4 client addresses as strings, keyed by the address as a 32-bit integer (bounded). */
  private readonly v4 = new Map<number, string>();
  handle: unknown = undefined;
  readonly onBatch: (n: number) => number;

  constructor(addon: BatchAddon, listener: UdpListener) {
    this.addon = addon;
    this.listener = listener;
    this.metaInts = addon.META_INTS;
    this.meta = new Int32Array(SLOTS * this.metaInts);
    this.metaBytes = Buffer.from(this.meta.buffer);
    for (let i = 0; i < SLOTS; i++) {
      this.inViews.push(Buffer.from(this.recv, i * SLOT_SIZE, SLOT_SIZE));
      this.outViews.push(Buffer.from(this.send, i * SLOT_SIZE, SLOT_SIZE));
    }
    // Bound once: the addon calls it with `this` set to this state.
    this.onBatch = (n: number): number => this.listener.answerBatch(this, n);
  }

  ipv4(key: number, m: number): string {
    let s = this.v4.get(key);
    if (s === undefined) {
      if (this.v4.size >= 65536) this.v4.clear();
      s = this.text(m);
      this.v4.set(key, s);
    }
    return s;
  }

  /** The address text the addon wrote after the slot's eight integers. */
  text(m: number): string {
    const start = (m + 8) * 4;
    return this.metaBytes.toString('latin1', start, start + this.meta[m + 4]!);
  }
}
