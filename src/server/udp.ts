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

export interface UdpListenerOptions {
  address: string;
  port: number;
  family: 4 | 6;
  engine: QueryEngine;
  logger: Logger;
  /** Let several processes share the port (cluster workers bind the primary's handle). */
  exclusive?: boolean;
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

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // never bound, or closed already
      }
    });
  }
}
