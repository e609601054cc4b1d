/**
 * Small raw-socket clients for server tests: send bytes, get bytes (or nothing) back, with timeouts.
 */
import { createSocket } from 'node:dgram';
import { type Socket, connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { type Logger, silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Message } from '../../src/wire/message.js';
import { tempDir } from '../helpers/peers.js';

export const ZONE = `$ORIGIN example.com.
$TTL 3600
@    SOA ns1 hostmaster 1 7200 3600 1209600 300
@    NS  ns1
ns1  A   192.0.2.1
www  A   192.0.2.10
www  A   192.0.2.11
www  A   192.0.2.12
one  A   192.0.2.20
`;

/** Sends one UDP datagram; resolves with the reply, or undefined after `timeoutMs`. */
export function udpExchange(address: string, port: number, bytes: Uint8Array, timeoutMs = 500): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.on('error', () => undefined);
    s.send(bytes, port, address);
  });
}

/** Sends a decoded query over UDP and decodes the reply (throws when none came). */
export async function udpQuery(address: string, port: number, q: Message): Promise<Message> {
  const r = await udpExchange(address, port, q.encode(), 2000);
  if (r === undefined) throw new Error('no UDP reply');
  return Message.decode(r);
}

/** A TCP connection that collects length-prefixed messages as they arrive. */
export class TcpClient {
  readonly socket: Socket;
  readonly messages: Buffer[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 2) {
        const len = this.buf.readUInt16BE(0);
        if (this.buf.length < len + 2) break;
        this.messages.push(this.buf.subarray(2, 2 + len));
        this.buf = this.buf.subarray(2 + len);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(address: string, port: number): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: address, port });
      s.once('connect', () => resolve(new TcpClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Writes one message with its 2-octet length prefix. */
  send(bytes: Uint8Array): void {
    const b = Buffer.alloc(bytes.length + 2);
    b.writeUInt16BE(bytes.length, 0);
    b.set(bytes, 2);
    this.socket.write(b);
  }

  /** Resolves once `n` messages arrived or the connection closed, or after `timeoutMs`. */
  async waitFor(n: number, timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < n && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves once the server closed the connection, or after `timeoutMs` (returns whether it closed). */
  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A running in-process server for example.com on `address` (ephemeral port) with config overrides. */
export async function startServer(address: string, overrides: ConfigInput = {}, logger: Logger = silentLogger,
  zoneText = ZONE): Promise<{ server: DnsServer; port: number; zoneFile: string; stop(): Promise<void> }> {
  const dir = tempDir('sovereign-server-test-');
  const zoneFile = join(dir.path, 'example.com.zone');
  writeFileSync(zoneFile, zoneText);
  const server = new DnsServer({
    config: defaultConfig({ listen: [`${address}:0`], zones: [{ name: 'example.com', file: zoneFile }], workers: 1, ...overrides }),
    logger,
  });
  await server.loadZones();
  await server.start();
  const port = server.addresses[0]!.port;
  return {
    server, port, zoneFile,
    async stop() {
      await server.stop();
      dir.cleanup();
    },
  };
}
