/**
 * UDP sockets for outgoing queries, bound ahead of time: binding a socket costs a system call
 * and a turn of the event loop, which a resolver pays for every upstream query on the critical
 * path of a cold resolution. A few spare sockets per address family are kept bound to
 * crypto-random ports (RFC 5452 §9.2); a query takes one, and a new spare is bound in the
 * background.
 *
 * Invariants: a socket carries exactly one exchange, as before (a port is never reused across
 * queries, so pre-binding costs no port randomness); spares are unref'd (they never keep a
 * process alive) and have a no-op 'error' listener while idle; a datagram that reaches a spare
 * before it is used is ignored by the exchange's source/ID/question check like any other.
 * Sockets asked for with a specific local address are bound on demand, never pooled.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { NetworkError } from '../errors.js';

/** Spare sockets kept per address family. */
const SPARES = 8;
/** Random ports tried before letting the kernel choose (its choice is randomised too). */
const PORT_ATTEMPTS = 16;
/** Random source ports are drawn from the unprivileged range (RFC 6056 §3.2). */
const MIN_PORT = 1024;

function ignore(): void {}

const spares: [UdpSocket[], UdpSocket[]] = [[], []];
const filling = [0, 0];

/** Binds a new UDP socket to `port` (0: the kernel's choice); rejects with the raw bind error. */
async function bindOnce(v6: boolean, localAddress: string | undefined, port: number): Promise<UdpSocket> {
  const sock = createSocket({ type: v6 ? 'udp6' : 'udp4' });
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ port, address: localAddress ?? (v6 ? '::' : '0.0.0.0'), exclusive: true }, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    return sock;
  } catch (e) {
    try { sock.close(); } catch { /* never bound */ }
    throw e;
  }
}

/** Binds a new UDP socket to a crypto-random port (retrying when taken). */
export async function bindRandomPort(v6: boolean, localAddress: string | undefined, label: string): Promise<UdpSocket> {
  let lastError: unknown;
  for (let i = 0; i <= PORT_ATTEMPTS; i++) {
    try {
      return await bindOnce(v6, localAddress, i === PORT_ATTEMPTS ? 0 : randomInt(MIN_PORT, 0x10000));
    } catch (e) {
      lastError = e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' && code !== 'EACCES') break;
    }
  }
  throw new NetworkError(label, `cannot open a UDP socket: ${(lastError as Error).message}`, lastError);
}

/** Binds a UDP socket to the port asked for (nsupdate `local ADDR PORT`); a taken port is an error. */
export async function bindPort(v6: boolean, localAddress: string | undefined, port: number, label: string): Promise<UdpSocket> {
  try {
    return await bindOnce(v6, localAddress, port);
  } catch (e) {
    throw new NetworkError(label, `cannot bind UDP port ${port}: ${(e as Error).message}`, e);
  }
}

/** Binds spares in the background until SPARES are waiting (errors only mean fewer spares). */
function refill(family: 0 | 1): void {
  const list = spares[family];
  while (list.length + filling[family]! < SPARES) {
    filling[family]!++;
    bindRandomPort(family === 1, undefined, 'spare').then((sock) => {
      filling[family]!--;
      sock.on('error', ignore);
      sock.unref();
      list.push(sock);
    }, () => {
      filling[family]!--;
    });
  }
}

/**
 * A UDP socket bound to a random port, for one exchange: a spare when one is waiting (no bind
 * on the query's path), else bound now. The caller owns and closes it.
 */
export async function takeUdpSocket(v6: boolean, localAddress: string | undefined, label: string): Promise<UdpSocket> {
  if (localAddress !== undefined) return bindRandomPort(v6, localAddress, label);
  const family = v6 ? 1 : 0;
  const sock = spares[family].pop();
  refill(family);
  if (sock === undefined) return bindRandomPort(v6, undefined, label);
  sock.off('error', ignore);
  sock.ref();
  return sock;
}

/** Closes every spare socket (tests, shutdown). */
export function closeSpareSockets(): void {
  for (const list of spares) {
    for (const s of list.splice(0)) {
      try { s.close(); } catch { /* already closed */ }
    }
  }
}
