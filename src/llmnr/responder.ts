/**
 * The LLMNR responder (RFC 4795): answers queries for this host's names on 224.0.0.252 and
 * ff02::1:3, port 5355, over UDP (unicast replies to the sender, §2.5) and TCP (§2.5), and
 * verifies that its names are unique on the link before claiming them (§4.1).
 *
 * Invariants:
 * - Answers only for its configured single-label names (§2.3: a responder answers only names it
 *   is authoritative for); every other query is silently ignored, as are malformed ones and those
 *   §2.1.1 says to discard (QR set, opcode not 0, QDCOUNT not 1, AN or NS records).
 * - Until a name is verified unique its answers carry the T bit (§4.1); a name found in use by
 *   another host (a response with T clear, or with T set from a smaller address) is no longer
 *   answered and the conflict is logged. A query with the C bit set is not answered; it starts a
 *   new verification of the name (§4.2).
 * - Bad input never throws out of a socket handler; it is counted in `stats.dropped`.
 * - Off by default (config `llmnr.enabled`); it sends multicast only on the interfaces it is given.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger } from '../logging.js';
import { TcpFramer, frame } from '../client/framing.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRClass, RRType } from '../wire/types.js';
import {
  LLMNR_DEFAULT_TTL, LLMNR_GROUP_V4, LLMNR_GROUP_V6, LLMNR_PORT, LLMNR_TIMEOUT_MS, acceptableQuery, acceptableQueryHeader,
  compareAddresses, llmnrQuery, tentativeBit,
} from './protocol.js';

export interface LlmnrResponderOptions {
  /** This host's names (single labels, e.g. `fileserver`); compared without case (§2.3). */
  names: readonly string[];
  /** Interfaces to serve (multicast joined there); empty: every non-loopback interface with an address. */
  interfaces?: readonly string[];
  /** Addresses to answer with; default: the addresses of the interfaces served. */
  addresses?: readonly string[];
  ttl?: number;
  port?: number;
  /** IPv6 too (ff02::1:3); default true. */
  ipv6?: boolean;
  /** Wait for responses to a uniqueness probe, per try (§2.7 LLMNR_TIMEOUT). */
  verifyTimeoutMs?: number;
  /** Probes sent per verification (§2.7: a query is retransmitted when nothing answers). */
  verifyTries?: number;
  logger: Logger;
}

export type NameState = 'verifying' | 'unique' | 'conflict';

interface OwnName {
  name: Name;
  state: NameState;
  /** ID of the verification probe in flight, or -1. */
  probeId: number;
}

/** Counters, for tests and the control endpoint. */
export interface LlmnrStats {
  queries: number;
  answered: number;
  dropped: number;
  conflicts: number;
}

export class LlmnrResponder {
  readonly stats: LlmnrStats = { queries: 0, answered: 0, dropped: 0, conflicts: 0 };
  private readonly own = new Map<string, OwnName>();
  private udp4: UdpSocket | undefined;
  private udp6: UdpSocket | undefined;
  private readonly tcp: Server[] = [];
  private readonly tcpConnections = new Set<TcpSocket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly port: number;
  private readonly ttl: number;
  private interfaces: { name: string; v4: string[]; v6: string[] }[] = [];
  private answerV4: string[] = [];
  private answerV6: string[] = [];
  private stopped = false;

  constructor(private readonly opts: LlmnrResponderOptions) {
    this.port = opts.port ?? LLMNR_PORT;
    this.ttl = opts.ttl ?? LLMNR_DEFAULT_TTL;
    for (const n of opts.names) {
      const name = Name.fromText(n.endsWith('.') ? n : n + '.');
      this.own.set(name.key, { name, state: 'verifying', probeId: -1 });
    }
  }

  /** State of one of our names (for tests and logs). */
  state(name: string): NameState | undefined {
    return this.own.get(Name.fromText(name.endsWith('.') ? name : name + '.').key)?.state;
  }

  /** Binds UDP and TCP on port 5355, joins the groups on the interfaces, starts verifying every name. */
  async start(): Promise<void> {
    this.interfaces = pickInterfaces(this.opts.interfaces ?? []);
    if (this.interfaces.length === 0) throw new Error('LLMNR: no usable interface (llmnr.interfaces names none with an address)');
    const given = this.opts.addresses ?? [];
    this.answerV4 = given.length > 0 ? given.filter((a) => !a.includes(':')) : this.interfaces.flatMap((i) => i.v4);
    this.answerV6 = given.length > 0 ? given.filter((a) => a.includes(':')) : this.interfaces.flatMap((i) => i.v6);

    this.udp4 = await bindUdp('udp4', '0.0.0.0', this.port);
    this.udp4.setMulticastTTL(1); // §2.5: multicast LLMNR stays on the link
    this.udp4.setMulticastLoopback(false);
    for (const i of this.interfaces) for (const a of i.v4) this.udp4.addMembership(LLMNR_GROUP_V4, a);
    this.udp4.on('message', (b, r) => this.onUdp(this.udp4!, b, r));
    if (this.opts.ipv6 !== false && this.interfaces.some((i) => i.v6.length > 0)) {
      this.udp6 = await bindUdp('udp6', '::', this.port);
      this.udp6.setMulticastTTL(1);
      this.udp6.setMulticastLoopback(false);
      for (const i of this.interfaces) if (i.v6.length > 0) this.udp6.addMembership(LLMNR_GROUP_V6, `::%${i.name}`);
      this.udp6.on('message', (b, r) => this.onUdp(this.udp6!, b, r));
    }
    this.tcp.push(await listenTcp('0.0.0.0', this.port, (s) => this.onTcp(s)));
    if (this.udp6 !== undefined) this.tcp.push(await listenTcp('::', this.port, (s) => this.onTcp(s)));
    for (const o of this.own.values()) this.verify(o);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.tcpConnections) c.destroy();
    await Promise.all(this.tcp.map((s) => new Promise<void>((r) => s.close(() => r()))));
    for (const s of [this.udp4, this.udp6]) {
      if (s === undefined) continue;
      try { s.close(); } catch { /* already closed */ }
    }
  }

  /**
   * §4.1 uniqueness verification: a query of type ANY for the name to the groups; a response from
   * another host with T clear (or T set and a smaller address) means the name is taken.
   */
  private verify(o: OwnName): void {
    if (this.stopped) return;
    o.state = 'verifying';
    const tries = this.opts.verifyTries ?? 3;
    const wait = this.opts.verifyTimeoutMs ?? LLMNR_TIMEOUT_MS;
    let sent = 0;
    const probe = (): void => {
      if (this.stopped || o.state !== 'verifying') return;
      if (sent === tries) {
        o.state = 'unique';
        o.probeId = -1;
        this.opts.logger.info({ name: o.name.toString() }, 'LLMNR name verified unique on the link');
        return;
      }
      sent++;
      o.probeId = randomInt(0, 0x10000);
      const q = llmnrQuery(o.name, RRType.ANY, { id: o.probeId }).encode();
      this.udp4?.send(q, this.port, LLMNR_GROUP_V4, () => {});
      if (this.udp6 !== undefined) {
        for (const i of this.interfaces) if (i.v6.length > 0) this.udp6.send(q, this.port, `${LLMNR_GROUP_V6}%${i.name}`, () => {});
      }
      this.later(probe, wait);
    };
    probe();
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => { this.timers.delete(t); fn(); }, ms);
    this.timers.add(t);
  }

  private onUdp(sock: UdpSocket, b: Buffer, r: RemoteInfo): void {
    if (b.length >= 12 && (b[2]! & 0x80) !== 0) {
      this.onProbeResponse(b, r);
      return;
    }
    this.stats.queries++;
    if (!acceptableQueryHeader(b)) {
      this.stats.dropped++;
      return;
    }
    // §2.5: a response goes to the sender's address and port, never to the group.
    const reply = this.answer(b, 512);
    if (reply === undefined) return;
    sock.send(reply, r.port, r.address, () => {});
  }

  /** A response to one of our verification probes (any other response is dropped). */
  private onProbeResponse(b: Buffer, r: RemoteInfo): void {
    let m: Message;
    try {
      m = Message.decode(b);
    } catch {
      this.stats.dropped++;
      return;
    }
    const q = m.question[0];
    if (q === undefined) return;
    const o = this.own.get(q.name.key);
    if (o === undefined || o.state !== 'verifying' || m.id !== o.probeId) {
      this.stats.dropped++;
      return;
    }
    if (this.isOwnAddress(r.address)) return; // §4.1: our own response is no conflict
    const ours = (r.family === 'IPv6' ? this.answerV6 : this.answerV4)[0];
    // §4.1: T clear: the other host has the name. T set: the smaller address wins.
    const lose = !tentativeBit(m) || (ours !== undefined && compareAddresses(r.address, ours) < 0);
    if (!lose) return;
    o.state = 'conflict';
    this.stats.conflicts++;
    this.opts.logger.warn({ name: o.name.toString(), other: r.address, tentative: tentativeBit(m) },
      'LLMNR name conflict: another host on the link answers for this name; no longer answering for it (RFC 4795 §4)');
  }

  private isOwnAddress(a: string): boolean {
    const plain = a.replace(/%.*$/, '').replace(/^::ffff:/, '');
    return this.interfaces.some((i) => i.v4.includes(plain) || i.v6.includes(plain)) ||
      this.answerV4.includes(plain) || this.answerV6.includes(plain);
  }

  /** The encoded response to query `b`, or undefined when none is due. */
  private answer(b: Uint8Array, maxSize: number): Uint8Array | undefined {
    let q: Message;
    try {
      q = Message.decode(b);
    } catch {
      this.stats.dropped++;
      return undefined;
    }
    if (!acceptableQuery(q)) {
      this.stats.dropped++;
      return undefined;
    }
    const question = q.question[0]!;
    const o = this.own.get(question.name.key);
    if (o === undefined || o.state === 'conflict') return undefined;
    if (q.aa) {
      // §4.2: a query with C set is not answered; the name's uniqueness is verified again.
      this.opts.logger.warn({ name: o.name.toString() }, 'LLMNR query with the conflict bit set; verifying the name again');
      if (o.state !== 'verifying') this.verify(o);
      return undefined;
    }
    const r = new Message();
    r.id = q.id;
    r.qr = true;
    r.rd = o.state === 'verifying'; // T: not yet verified unique (§4.1)
    r.question.push(question);
    if (question.class === RRClass.IN || question.class === RRClass.ANY) {
      const type = question.type;
      if (type === RRType.A || type === RRType.ANY) for (const a of this.answerV4) r.answer.push(this.rr(question.name, RRType.A, { address: a }));
      if (type === RRType.AAAA || type === RRType.ANY) for (const a of this.answerV6) r.answer.push(this.rr(question.name, RRType.AAAA, { address: a }));
    }
    this.stats.answered++;
    // §2.4: a response too big for UDP has TC set; the sender asks again over TCP.
    return r.encode({ maxSize });
  }

  private rr(name: Name, type: number, data: unknown): ResourceRecord {
    return { name, type, class: RRClass.IN, ttl: this.ttl, data };
  }

  private onTcp(s: TcpSocket): void {
    this.tcpConnections.add(s);
    const framer = new TcpFramer();
    s.setTimeout(10_000, () => s.destroy());
    s.on('error', () => s.destroy());
    s.on('close', () => this.tcpConnections.delete(s));
    s.on('data', (chunk: Buffer) => {
      let msgs: Uint8Array[];
      try {
        msgs = [...framer.push(chunk)];
      } catch {
        this.stats.dropped++;
        s.destroy();
        return;
      }
      for (const b of msgs) {
        this.stats.queries++;
        if (!acceptableQueryHeader(b)) {
          this.stats.dropped++;
          continue;
        }
        const reply = this.answer(b, 65535);
        if (reply !== undefined) s.write(frame(reply));
      }
    });
  }
}

/** The interfaces to serve with their addresses (IPv6 scope suffixes dropped). */
function pickInterfaces(wanted: readonly string[]): { name: string; v4: string[]; v6: string[] }[] {
  const all = networkInterfaces();
  const out: { name: string; v4: string[]; v6: string[] }[] = [];
  for (const [name, addrs] of Object.entries(all)) {
    if (addrs === undefined) continue;
    if (wanted.length > 0 ? !wanted.includes(name) : addrs.every((a) => a.internal)) continue;
    out.push({
      name,
      v4: addrs.filter((a) => a.family === 'IPv4').map((a) => a.address),
      v6: addrs.filter((a) => a.family === 'IPv6').map((a) => a.address.replace(/%.*$/, '')),
    });
  }
  return out.filter((i) => i.v4.length + i.v6.length > 0);
}

function bindUdp(type: 'udp4' | 'udp6', address: string, port: number): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type, reuseAddr: true, ipv6Only: type === 'udp6' });
    s.once('error', reject);
    s.bind({ address, port }, () => {
      s.off('error', reject);
      s.on('error', () => { /* a send error on a datagram socket: nothing to undo */ });
      resolve(s);
    });
  });
}

function listenTcp(host: string, port: number, onConnection: (s: TcpSocket) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer(onConnection);
    srv.once('error', reject);
    srv.listen({ host, port, ipv6Only: host === '::' }, () => {
      srv.off('error', reject);
      resolve(srv);
    });
  });
}
