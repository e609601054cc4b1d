/**
 * NetBIOS name service client (RFC 1002 §4.2.12 NAME QUERY, §4.2.17 NODE STATUS), as nmblookup
 * asks: a name query broadcast (or unicast to one node), every positive response collected
 * until the timeout; a node status query unicast to one address.
 *
 * Invariants: the transaction ID comes from node:crypto; a response counts only with our ID,
 * R set and an RR of the type asked; each wait has a deadline.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import {
  NB, NBSTAT, NB_CLASS_IN, NETBIOS_NS_PORT, NbFlag, NbOpcode, type NetbiosName, type StatusEntry, decodeName, decodeNbRdata,
  decodePacket, decodeStatusRdata, encodeName, encodePacket,
} from './packet.js';

export interface NbQueryOptions {
  /** Where to send: a broadcast address (default 255.255.255.255) or one node (with `unicast`). */
  to?: string;
  /** Unicast (RD set, B clear) rather than broadcast. */
  unicast?: boolean;
  timeoutMs?: number;
  port?: number;
}

export interface NbAnswer {
  from: string;
  name: NetbiosName;
  addresses: { group: boolean; address: string }[];
}

function openSocket(): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, () => {
      s.off('error', reject);
      s.on('error', () => { /* ICMP errors: the timeout ends the wait */ });
      resolve(s);
    });
  });
}

/** Sends `bytes`, calls `onReply` for each datagram, closes after `timeoutMs` or when `onReply` returns true. */
async function ask(bytes: Uint8Array, to: string, port: number, broadcast: boolean, timeoutMs: number,
  onReply: (b: Buffer, from: string) => boolean): Promise<void> {
  const s = await openSocket();
  if (broadcast) s.setBroadcast(true);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => { s.close(); resolve(); }, timeoutMs);
    s.on('message', (b, r) => {
      if (onReply(b, r.address)) {
        clearTimeout(timer);
        s.close();
        resolve();
      }
    });
    s.send(bytes, port, to);
  });
}

/** NAME QUERY for `name`: the positive responses (RFC 1002 §4.2.13). */
export async function queryName(name: NetbiosName, opts: NbQueryOptions = {}): Promise<NbAnswer[]> {
  const id = randomInt(0, 0x8000);
  const broadcast = opts.unicast !== true;
  const bytes = encodePacket({
    id, flags: broadcast ? NbFlag.B | NbFlag.RD : NbFlag.RD, opcode: NbOpcode.QUERY,
    questions: [{ name: encodeName(name), type: NB, class: NB_CLASS_IN }], answers: [], authority: [], additional: [],
  });
  const out: NbAnswer[] = [];
  await ask(bytes, opts.to ?? '255.255.255.255', opts.port ?? NETBIOS_NS_PORT, broadcast, opts.timeoutMs ?? 2000, (b, from) => {
    try {
      const p = decodePacket(b);
      if (p.id !== id || (p.flags & NbFlag.R) === 0 || p.rcode !== 0) return false;
      const rr = p.answers.find((a) => a.type === NB);
      if (rr === undefined) return false;
      out.push({ from, name: decodeName(rr.name), addresses: decodeNbRdata(rr.rdata) });
      // A unicast query has one answerer; a broadcast one may have several (wait them out).
      return !broadcast;
    } catch {
      return false;
    }
  });
  return out;
}

/** NODE STATUS of the node at `address` (RFC 1002 §4.2.17/§4.2.18), asked with the wildcard name. */
export async function nodeStatus(address: string, opts: { timeoutMs?: number; port?: number; name?: NetbiosName } = {}):
  Promise<{ names: StatusEntry[]; mac: Uint8Array } | undefined> {
  const id = randomInt(0, 0x8000);
  const bytes = encodePacket({
    id, flags: 0, opcode: NbOpcode.QUERY,
    questions: [{ name: encodeName(opts.name ?? { name: '*', suffix: 0, scope: '' }), type: NBSTAT, class: NB_CLASS_IN }],
    answers: [], authority: [], additional: [],
  });
  let result: { names: StatusEntry[]; mac: Uint8Array } | undefined;
  await ask(bytes, address, opts.port ?? NETBIOS_NS_PORT, false, opts.timeoutMs ?? 2000, (b) => {
    try {
      const p = decodePacket(b);
      if (p.id !== id || (p.flags & NbFlag.R) === 0) return false;
      const rr = p.answers.find((a) => a.type === NBSTAT);
      if (rr === undefined) return false;
      result = decodeStatusRdata(rr.rdata);
      return true;
    } catch {
      return false;
    }
  });
  return result;
}
