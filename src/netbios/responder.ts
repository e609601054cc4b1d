/**
 * NetBIOS name service responder (RFC 1001 §15, RFC 1002 §4.2) for this host's names, as a
 * B-node answers: NAME QUERY requests (broadcast or unicast) for one of our names get a
 * POSITIVE NAME QUERY RESPONSE with our IPv4 addresses (§4.2.13), NODE STATUS requests for our
 * name or `*` get our name table (§4.2.18). Legacy and IPv4 only; off by default (`netbios:`).
 *
 * Invariants: answers only for its own names (each registered with the <00> workstation and <20>
 * server suffixes); never answers negatively to broadcasts (RFC 1001 §15.1.3: B nodes stay silent);
 * replies go unicast to the asker's address and port; malformed packets are dropped and counted.
 * Not done: name registration and defence (§15.2), the NBNS (WINS) server role.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { Logger } from '../logging.js';
import {
  NB, NBSTAT, NB_CLASS_IN, NETBIOS_NS_PORT, NameFlag, NbFlag, NbOpcode, decodeName, decodePacket, encodeNbRdata, encodePacket,
  encodeStatusRdata, type StatusEntry,
} from './packet.js';

export interface NetbiosResponderOptions {
  /** NetBIOS names (up to 15 characters; compared without case). */
  names: readonly string[];
  /** Interfaces to serve; empty: every non-loopback interface with an IPv4 address. */
  interfaces?: readonly string[];
  /** IPv4 addresses to answer with; default: those of the interfaces. */
  addresses?: readonly string[];
  /** TTL of positive answers, seconds (Samba uses 3 days). */
  ttl?: number;
  port?: number;
  logger: Logger;
}

/** The suffixes a workstation with file sharing registers (RFC 1001 leaves them to applications). */
const SUFFIXES = [0x00, 0x20];

export class NetbiosResponder {
  readonly stats = { queries: 0, answered: 0, dropped: 0 };
  private sock: UdpSocket | undefined;
  private addresses: string[] = [];
  private readonly names: Set<string>;
  private readonly table: StatusEntry[];

  constructor(private readonly opts: NetbiosResponderOptions) {
    for (const n of opts.names) if (n.length > 15) throw new Error(`NetBIOS name "${n}" is longer than 15 characters`);
    this.names = new Set(opts.names.map((n) => n.toUpperCase()));
    this.table = [...this.names].flatMap((name) => SUFFIXES.map((suffix) => ({ name, suffix, flags: NameFlag.ACTIVE })));
  }

  async start(): Promise<void> {
    const wanted = this.opts.interfaces ?? [];
    const given = this.opts.addresses ?? [];
    if (given.length > 0) this.addresses = [...given];
    else {
      for (const [name, addrs] of Object.entries(networkInterfaces())) {
        if (addrs === undefined || (wanted.length > 0 ? !wanted.includes(name) : addrs.every((a) => a.internal))) continue;
        for (const a of addrs) if (a.family === 'IPv4') this.addresses.push(a.address);
      }
    }
    if (this.addresses.length === 0) throw new Error('NetBIOS: no IPv4 address to answer with (netbios.interfaces / netbios.addresses)');
    this.sock = await new Promise<UdpSocket>((resolve, reject) => {
      const s = createSocket({ type: 'udp4', reuseAddr: true });
      s.once('error', reject);
      s.bind({ address: '0.0.0.0', port: this.opts.port ?? NETBIOS_NS_PORT }, () => {
        s.off('error', reject);
        s.on('error', () => { /* send errors: nothing to undo */ });
        resolve(s);
      });
    });
    this.sock.on('message', (b, r) => this.onMessage(b, r));
  }

  async stop(): Promise<void> {
    try { this.sock?.close(); } catch { /* closed */ }
  }

  private onMessage(b: Buffer, r: RemoteInfo): void {
    this.stats.queries++;
    let p;
    try {
      p = decodePacket(b);
    } catch {
      this.stats.dropped++;
      return;
    }
    // Requests only (R clear), opcode QUERY, one question (RFC 1002 §4.2.12, §4.2.17).
    if ((p.flags & NbFlag.R) !== 0 || p.opcode !== NbOpcode.QUERY || p.questions.length !== 1) {
      if ((p.flags & NbFlag.R) === 0) this.stats.dropped++;
      return;
    }
    const q = p.questions[0]!;
    let asked;
    try {
      asked = decodeName(q.name);
    } catch {
      this.stats.dropped++;
      return;
    }
    const mine = this.names.has(asked.name.toUpperCase()) && SUFFIXES.includes(asked.suffix);
    let rdata: Uint8Array;
    let type: number;
    let ttl: number;
    if (q.type === NB) {
      if (!mine) return;
      type = NB;
      ttl = this.opts.ttl ?? 259_200;
      rdata = encodeNbRdata(this.addresses.map((address) => ({ group: false, address })));
    } else if (q.type === NBSTAT) {
      // §4.2.17: the status of this node, asked by our name or by the wildcard `*`.
      if (!mine && asked.name !== '*') return;
      type = NBSTAT;
      ttl = 0;
      rdata = encodeStatusRdata(this.table, new Uint8Array(6));
    } else {
      this.stats.dropped++;
      return;
    }
    // §4.2.13 / §4.2.18: R, AA, RD copied; the question name comes back as the RR name.
    const reply = encodePacket({
      id: p.id, flags: NbFlag.R | NbFlag.AA | (p.flags & NbFlag.RD), opcode: NbOpcode.QUERY, questions: [],
      answers: [{ name: q.name, type, class: NB_CLASS_IN, ttl, rdata }], authority: [], additional: [],
    });
    this.stats.answered++;
    this.sock?.send(reply, r.port, r.address);
  }
}
