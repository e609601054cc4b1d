/**
 * The LLMNR sender (RFC 4795 §2.2): one query to the link-scope group(s), every response
 * collected until LLMNR_TIMEOUT, truncated ones asked again over TCP unicast (§2.4), and
 * conflicting answers reported and announced with the C bit (§4.2).
 *
 * Invariants: every wait has a deadline; the ID comes from node:crypto; a response is accepted
 * only from port 5355 with our ID, QR set and our question (§2.1.1, §2.6); everything else is
 * ignored and counted.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { exchange } from '../client/exchange.js';
import { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import { printRData } from '../wire/types.js';
import { LLMNR_GROUP_V4, LLMNR_GROUP_V6, LLMNR_PORT, LLMNR_TIMEOUT_MS, llmnrQuery, tentativeBit } from './protocol.js';

export interface LlmnrQueryOptions {
  /** 4, 6 or both (default 4). */
  family?: 4 | 6 | 'both';
  /** Interface to send the multicast on (an IPv4 address of it for IPv4; its name for IPv6 scope). */
  interface?: string;
  /** IPv4 address of the interface to send IPv4 multicast from. */
  interfaceAddress?: string;
  timeoutMs?: number;
  port?: number;
}

export interface LlmnrResponse {
  from: string;
  message: Message;
  /** The responder set T: it has not verified the name unique yet (§4.1). */
  tentative: boolean;
  /** Came over TCP after a truncated UDP response. */
  tcp: boolean;
}

export interface LlmnrResult {
  responses: LlmnrResponse[];
  /** Responses with T clear disagreed (§4.2); the query was sent again with C set. */
  conflict: boolean;
  ignored: number;
}

/** Sends one LLMNR query and collects the responses. */
export async function queryLlmnr(name: Name, type: number, opts: LlmnrQueryOptions = {}): Promise<LlmnrResult> {
  const port = opts.port ?? LLMNR_PORT;
  const timeoutMs = opts.timeoutMs ?? LLMNR_TIMEOUT_MS;
  const family = opts.family ?? 4;
  const id = randomInt(0, 0x10000);
  const query = llmnrQuery(name, type, { id });
  const bytes = query.encode();
  const result: LlmnrResult = { responses: [], conflict: false, ignored: 0 };
  const sockets: { s: UdpSocket; group: string }[] = [];
  const truncated: string[] = [];
  const onMessage = (b: Buffer, r: { address: string; port: number }): void => {
    let m: Message;
    try {
      if (r.port !== port) throw new Error('port');
      m = Message.decode(b);
    } catch {
      result.ignored++;
      return;
    }
    const q = m.question[0];
    if (!m.qr || m.id !== id || m.question.length !== 1 || q === undefined || q.type !== type || !q.name.equals(name)) {
      result.ignored++;
      return;
    }
    if (m.tc) {
      truncated.push(r.address);
      return;
    }
    result.responses.push({ from: r.address, message: m, tentative: tentativeBit(m), tcp: false });
  };
  try {
    if (family === 4 || family === 'both') {
      const s = await bind('udp4');
      s.setMulticastTTL(1);
      if (opts.interfaceAddress !== undefined) s.setMulticastInterface(opts.interfaceAddress);
      s.on('message', onMessage);
      sockets.push({ s, group: LLMNR_GROUP_V4 });
      s.send(bytes, port, LLMNR_GROUP_V4);
    }
    if (family === 6 || family === 'both') {
      const s = await bind('udp6');
      s.setMulticastTTL(1);
      if (opts.interface !== undefined) s.setMulticastInterface(`::%${opts.interface}`);
      s.on('message', onMessage);
      const group = opts.interface !== undefined ? `${LLMNR_GROUP_V6}%${opts.interface}` : LLMNR_GROUP_V6;
      sockets.push({ s, group });
      s.send(bytes, port, group);
    }
    await new Promise((r) => setTimeout(r, timeoutMs));
    // §2.4: a truncated response is asked again over TCP, unicast to that responder.
    for (const address of truncated) {
      try {
        const t = await exchange(query, { address, port }, { transport: 'tcp', timeoutMs, keepId: true });
        result.responses.push({ from: address, message: t.message, tentative: tentativeBit(t.message), tcp: true });
      } catch {
        result.ignored++;
      }
    }
    // §4.2: different answers from hosts that all claim the name unique: a conflict, announced with C.
    const firm = result.responses.filter((r) => !r.tentative && r.message.answer.length > 0);
    const answers = new Set(firm.map((r) => r.message.answer.map((rr) => `${rr.type} ${printRData(rr.type, rr.data)}`).sort().join('|')));
    if (answers.size > 1) {
      result.conflict = true;
      const c = llmnrQuery(name, type, { id, conflict: true }).encode();
      for (const { s, group } of sockets) s.send(c, port, group);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    for (const { s } of sockets) {
      try { s.close(); } catch { /* closed */ }
    }
  }
  return result;
}

function bind(type: 'udp4' | 'udp6'): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type });
    s.once('error', reject);
    s.bind(0, () => {
      s.off('error', reject);
      s.on('error', () => { /* ICMP errors on a multicast send: nothing to do */ });
      resolve(s);
    });
  });
}
