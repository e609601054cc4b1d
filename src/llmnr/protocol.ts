/**
 * LLMNR (RFC 4795): the constants and the header bits that differ from DNS, shared by the
 * responder and the client. An LLMNR message is a DNS message (RFC 4795 §2.1) whose header
 * reuses three DNS bits: C (conflict) where DNS has AA, TC as in DNS, and T (tentative) where
 * DNS has RD (§2.1.1). Our Message keeps them in `aa` and `rd`; these helpers name them.
 *
 * Invariant: no sockets here; pure functions over messages.
 */
import { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';

/** RFC 4795 §2: the UDP and TCP port. */
export const LLMNR_PORT = 5355;
/** RFC 4795 §2: the IPv4 link-scope multicast group. */
export const LLMNR_GROUP_V4 = '224.0.0.252';
/** RFC 4795 §2: the IPv6 link-scope multicast group. */
export const LLMNR_GROUP_V6 = 'ff02::1:3';
/** RFC 4795 §2.7: LLMNR_TIMEOUT, the default wait for responses to a multicast query. */
export const LLMNR_TIMEOUT_MS = 1000;
/** RFC 4795 §2.8: the recommended TTL of the records in a response. */
export const LLMNR_DEFAULT_TTL = 30;

/** The C bit (RFC 4795 §2.1.1), carried in the DNS AA position. */
export function conflictBit(m: Message): boolean {
  return m.aa;
}

/** The T bit (RFC 4795 §2.1.1), carried in the DNS RD position. */
export function tentativeBit(m: Message): boolean {
  return m.rd;
}

/** An LLMNR query for one question: opcode 0, no RD (that bit is T), C as asked. */
export function llmnrQuery(name: Name, type: number, opts: { id?: number; conflict?: boolean } = {}): Message {
  const m = Message.query(name, type, { rd: false, id: opts.id ?? 0 });
  m.aa = opts.conflict === true;
  return m;
}

/**
 * RFC 4795 §2.1.1: responders discard queries with QR set, an opcode other than 0, QDCOUNT other
 * than 1, or answer/authority records. True when `m` is a query a responder may consider.
 */
export function acceptableQuery(m: Message): boolean {
  return !m.qr && m.opcode === 0 && m.question.length === 1 && m.answer.length === 0 && m.authority.length === 0;
}

/** The header-only check before decoding (counts are at fixed offsets): QR clear, opcode 0, QDCOUNT 1, AN/NS 0. */
export function acceptableQueryHeader(b: Uint8Array): boolean {
  if (b.length < 12) return false;
  if ((b[2]! & 0x80) !== 0 || ((b[2]! >> 3) & 0xf) !== 0) return false;
  return b[4] === 0 && b[5] === 1 && b[6] === 0 && b[7] === 0 && b[8] === 0 && b[9] === 0;
}

/**
 * Compares two addresses of one family as unsigned integers in network byte order (RFC 4795
 * §4.1: on a tentative response, the host with the smaller address keeps the name).
 */
export function compareAddresses(a: string, b: string): number {
  const ba = addressBytes(a);
  const bb = addressBytes(b);
  for (let i = 0; i < Math.min(ba.length, bb.length); i++) if (ba[i] !== bb[i]) return ba[i]! - bb[i]!;
  return ba.length - bb.length;
}

function addressBytes(a: string): number[] {
  const plain = a.replace(/%.*$/, '');
  if (!plain.includes(':')) return plain.split('.').map(Number);
  const [head, tail] = plain.includes('::') ? plain.split('::') as [string, string] : [plain, undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out: number[] = [];
  for (const g of groups) {
    const v = parseInt(g, 16);
    out.push(v >> 8, v & 0xff);
  }
  return out;
}
