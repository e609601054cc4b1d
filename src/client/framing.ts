/**
 * DNS messages over a byte stream (RFC 1035 §4.2.2, RFC 7766; TLS too, RFC 7858 §3.3): each
 * message is preceded by its length as two octets. One query/reply attempt over TCP or TLS is
 * here, so both stream transports read, match and fail in the same way.
 *
 * Invariants:
 * - The framer hands out complete messages only; a partial one waits for more data.
 * - The reply must pass the ReplyMatcher (ID, QR, question); other well-formed messages on the
 *   stream are ignored and counted. An undecodable message is a NetworkError: unlike a UDP
 *   datagram it comes from the server we connected to.
 */
import type { Socket as TcpSocket, TcpSocketConnectOpts } from 'node:net';
import { performance } from 'node:perf_hooks';
import { NetworkError } from '../errors.js';
import { Attempt, type AttemptResult, ignoreError, socketError } from './attempt.js';
import { type IgnoredTally, type ReplyMatcher, type ServerAddress, serverLabel } from './match.js';

/**
 * Reassembles length-prefixed DNS messages (RFC 1035 §4.2.2) from TCP stream chunks.
 * Invariant: `push` returns complete messages only; a partial one waits for more data.
 */
export class TcpFramer {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Uint8Array[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Uint8Array[] = [];
    while (this.buf.length >= 2) {
      const len = this.buf.readUInt16BE(0);
      if (this.buf.length < 2 + len) break;
      out.push(Uint8Array.from(this.buf.subarray(2, 2 + len)));
      this.buf = this.buf.subarray(2 + len);
    }
    return out;
  }

  /** Octets of an incomplete message still buffered. */
  get pending(): number {
    return this.buf.length;
  }
}

/** `message` with its two-octet length prefix, ready to write to a stream. */
export function frame(message: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(2 + message.length);
  b.writeUInt16BE(message.length, 0);
  b.set(message, 2);
  return b;
}

function releaseStream(sock: TcpSocket): void {
  sock.removeAllListeners('data');
  sock.on('error', ignoreError);
  sock.destroy();
}

/**
 * One attempt over a stream socket: once it is ready ('connect' for TCP, 'secureConnect' for
 * TLS), write the framed `query`, then read framed messages until the reply. `connectTo` starts a
 * plain TCP socket's connection (after the handlers are in place); a TLS socket comes already
 * connecting. `proto` prefixes error messages; timeouts read `(tcp)` for both, as the transport
 * reported in ExchangeResult is 'tcp' for both.
 */
export function streamAttempt(sock: TcpSocket, connectTo: TcpSocketConnectOpts | undefined, proto: 'tcp' | 'tls',
  query: Uint8Array, server: ServerAddress, matcher: ReplyMatcher, tally: IgnoredTally, timeoutMs: number,
  signal: AbortSignal | undefined): Promise<AttemptResult> {
  const label = serverLabel(server);
  return new Promise<AttemptResult>((resolve, reject) => {
    const framer = new TcpFramer();
    let sentAt = 0;
    const attempt = new Attempt<AttemptResult>(resolve, reject, () => releaseStream(sock), signal, label, timeoutMs, 'tcp');
    if (attempt.done) return;

    sock.on('error', (e: NodeJS.ErrnoException) => attempt.finish(socketError(label, proto, e)));
    sock.on('end', () => attempt.finish(new NetworkError(label, framer.pending > 0
      ? `${proto}: connection closed in the middle of a message` : `${proto}: connection closed before a reply`)));
    sock.on('data', (chunk: Buffer) => {
      for (const b of framer.push(chunk)) {
        const m = matcher.check(b);
        if (m === 'malformed') return attempt.finish(new NetworkError(label, `${proto}: malformed reply`));
        if (typeof m === 'string') {
          tally.note(m, server, b);
          continue;
        }
        return attempt.finish(undefined, { message: m, bytes: b, rttMs: performance.now() - sentAt });
      }
    });
    sock.once(proto === 'tls' ? 'secureConnect' : 'connect', () => {
      if (attempt.done) return;
      sock.setNoDelay(true);
      sentAt = performance.now();
      sock.write(frame(query));
    });
    if (connectTo !== undefined) sock.connect(connectTo);
  });
}
