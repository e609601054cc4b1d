/**
 * UPDATE forwarding (RFC 2136 §6, BIND's allow-update-forwarding): a secondary sends an UPDATE
 * it received on to its primary exactly as it came, and relays the primary's reply exactly as
 * it came, so a TSIG made by the client is verified by the primary and the primary's TSIG on the
 * reply (made over the client's MAC) is verified by the client.
 *
 * Invariants: one TCP connection per forwarded message (any size fits, RFC 7766), closed
 * after the reply; the reply must carry the request's ID and QR=1 and be of opcode UPDATE,
 * else the forward fails; every wait is bounded by `timeoutMs`.
 */
import { type Socket, connect } from 'node:net';
import { NetworkError, TimeoutError } from '../errors.js';
import { Opcode } from '../wire/constants.js';

export function forwardRaw(request: Uint8Array, server: { address: string; port: number }, timeoutMs = 5000): Promise<Uint8Array> {
  const label = `${server.address}#${server.port}`;
  return new Promise((resolve, reject) => {
    let sock: Socket | undefined;
    let got: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | undefined, reply?: Uint8Array): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock?.destroy();
      if (err !== undefined) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => finish(new TimeoutError(label, timeoutMs)), timeoutMs);
    sock = connect({ host: server.address, port: server.port });
    sock.on('error', (e) => finish(new NetworkError(label, e.message, e)));
    sock.on('connect', () => {
      const framed = Buffer.allocUnsafe(request.length + 2);
      framed.writeUInt16BE(request.length, 0);
      framed.set(request, 2);
      sock!.write(framed);
    });
    sock.on('data', (chunk: Buffer) => {
      got = got.length === 0 ? chunk : Buffer.concat([got, chunk]);
      if (got.length < 2) return;
      const n = got.readUInt16BE(0);
      if (got.length < n + 2) return;
      const reply = Uint8Array.prototype.slice.call(got, 2, n + 2) as Uint8Array;
      if (n < 12 || reply[0] !== request[0] || reply[1] !== request[1] || (reply[2]! & 0x80) === 0 || ((reply[2]! >> 3) & 0xf) !== Opcode.UPDATE) {
        finish(new NetworkError(label, 'the primary\'s reply is not an answer to the forwarded UPDATE'));
        return;
      }
      finish(undefined, reply);
    });
    sock.on('end', () => finish(new NetworkError(label, 'connection closed before the reply')));
  });
}
