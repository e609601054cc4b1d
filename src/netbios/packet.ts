/**
 * NetBIOS name service packets (RFC 1002 §4.2), a legacy protocol kept for old Windows and SMB
 * networks: the DNS-like header (R, opcode, AA/TC/RD/RA/B flags), the first-level encoded name
 * (RFC 1001 §14.1: 16 octets, 15 characters padded and a suffix octet such as <00> or <20>, each
 * half-octet written as a letter 'A'..'P', carried as one 32-octet label plus the scope), NB
 * records (flags + IPv4 address) and NODE STATUS replies (§4.2.18).
 *
 * Invariants: decoding reads inside the datagram or throws WireFormatError (via Reader); names
 * that are not 32 letters 'A'..'P' are refused; no sockets here.
 */
import { WireFormatError } from '../errors.js';
import { Name } from '../wire/name.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';

/** RFC 1002 §4.2.1.3 / §4.2.18 question and RR types. */
export const NB = 0x0020;
export const NBSTAT = 0x0021;
export const NB_CLASS_IN = 0x0001;
/** RFC 1002 §4.2.1.1 header flags. */
export const NbFlag = { R: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080, B: 0x0010 } as const;
/** RFC 1002 §4.2.1.1: opcodes (query 0, registration 5, release 6, WACK 7, refresh 8). */
export const NbOpcode = { QUERY: 0, REGISTRATION: 5, RELEASE: 6, WACK: 7, REFRESH: 8 } as const;
/** NAME_FLAGS of a node status entry (§4.2.18). */
export const NameFlag = { GROUP: 0x8000, DRG: 0x1000, CNF: 0x0800, ACTIVE: 0x0400, PERMANENT: 0x0200 } as const;
/** The UDP port of the name service (RFC 1002 §4.1 / IANA). */
export const NETBIOS_NS_PORT = 137;

/** A NetBIOS name: up to 15 characters and the 16th octet, the suffix. */
export interface NetbiosName {
  name: string;
  suffix: number;
  /** The NetBIOS scope (dotted), '' for none. */
  scope: string;
}

/** RFC 1001 §14.1 first-level encoding: the 32-letter label. The wildcard `*` is padded with NULs. */
export function encodeLabel(n: NetbiosName): string {
  const raw = new Uint8Array(16);
  const upper = n.name === '*' ? '*' : n.name.toUpperCase();
  if (upper.length > 15) throw new WireFormatError(0, 'NetBIOS name', `"${n.name}" is longer than 15 characters`);
  const pad = n.name === '*' ? 0x00 : 0x20;
  for (let i = 0; i < 15; i++) raw[i] = i < upper.length ? upper.charCodeAt(i) & 0xff : pad;
  raw[15] = n.name === '*' ? 0x00 : n.suffix;
  let out = '';
  for (const b of raw) out += String.fromCharCode(0x41 + (b >> 4), 0x41 + (b & 0x0f));
  return out;
}

/** The encoded name as a wire Name (label plus scope labels). */
export function encodeName(n: NetbiosName): Name {
  return Name.fromText(encodeLabel(n) + (n.scope === '' ? '' : '.' + n.scope) + '.');
}

/** Decodes a wire Name holding a first-level encoded NetBIOS name. */
export function decodeName(name: Name): NetbiosName {
  const labels = name.labels();
  const first = labels[0] ?? '';
  if (first.length !== 32) throw new WireFormatError(0, 'NetBIOS name', `first label has ${first.length} octets, not 32`);
  const raw = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const hi = first.charCodeAt(2 * i) - 0x41;
    const lo = first.charCodeAt(2 * i + 1) - 0x41;
    if (hi < 0 || hi > 15 || lo < 0 || lo > 15) throw new WireFormatError(0, 'NetBIOS name', 'not letters A..P (RFC 1001 §14.1)');
    raw[i] = (hi << 4) | lo;
  }
  let end = 15;
  while (end > 0 && (raw[end - 1] === 0x20 || raw[end - 1] === 0x00)) end--;
  return { name: String.fromCharCode(...raw.subarray(0, end)), suffix: raw[15]!, scope: labels.slice(1).join('.') };
}

/** `NAME<xx>` as nmblookup prints names. */
export function nameText(n: { name: string; suffix: number }): string {
  return `${n.name}<${n.suffix.toString(16).padStart(2, '0')}>`;
}

export interface NbRecord {
  name: Name;
  type: number;
  class: number;
  ttl: number;
  rdata: Uint8Array;
}

export interface NbPacket {
  id: number;
  flags: number;
  opcode: number;
  rcode: number;
  questions: { name: Name; type: number; class: number }[];
  answers: NbRecord[];
  authority: NbRecord[];
  additional: NbRecord[];
}

export function decodePacket(b: Uint8Array): NbPacket {
  const r = new Reader(b);
  if (b.length < 12) r.fail('header', 'shorter than 12 octets', 0);
  const id = r.u16('id');
  const word = r.u16('flags');
  const counts = [r.u16('qdcount'), r.u16('ancount'), r.u16('nscount'), r.u16('arcount')];
  if (counts[0]! * 5 + (counts[1]! + counts[2]! + counts[3]!) * 11 > b.length - 12) r.fail('header', 'counts exceed the packet', 4);
  const p: NbPacket = {
    id, flags: word & 0x87f0, opcode: (word >> 11) & 0xf, rcode: word & 0xf, questions: [], answers: [], authority: [], additional: [],
  };
  for (let i = 0; i < counts[0]!; i++) p.questions.push({ name: r.name('question name'), type: r.u16('question type'), class: r.u16('question class') });
  const sections = [p.answers, p.authority, p.additional];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const name = r.name('RR name');
      const type = r.u16('RR type');
      const cls = r.u16('RR class');
      const ttl = r.u32('TTL');
      const len = r.u16('RDLENGTH');
      sections[s]!.push({ name, type, class: cls, ttl, rdata: Uint8Array.from(r.bytes(len, 'RDATA')) });
    }
  }
  return p;
}

export function encodePacket(p: Omit<NbPacket, 'flags' | 'rcode'> & { flags: number; rcode?: number }): Uint8Array {
  const w = new Writer();
  w.reset();
  w.u16(p.id);
  w.u16(p.flags | ((p.opcode & 0xf) << 11) | ((p.rcode ?? 0) & 0xf));
  w.u16(p.questions.length);
  w.u16(p.answers.length);
  w.u16(p.authority.length);
  w.u16(p.additional.length);
  for (const q of p.questions) {
    w.name(q.name, false);
    w.u16(q.type);
    w.u16(q.class);
  }
  for (const rr of [...p.answers, ...p.authority, ...p.additional]) {
    w.name(rr.name, false);
    w.u16(rr.type);
    w.u16(rr.class);
    w.u32(rr.ttl);
    w.u16(rr.rdata.length);
    w.bytes(rr.rdata);
  }
  return w.toBytes();
}

/** NB RDATA (§4.2.2): entries of NB_FLAGS (G bit, ONT) and an IPv4 address. */
export function decodeNbRdata(rdata: Uint8Array): { group: boolean; ont: number; address: string }[] {
  const out: { group: boolean; ont: number; address: string }[] = [];
  for (let i = 0; i + 6 <= rdata.length; i += 6) {
    const flags = (rdata[i]! << 8) | rdata[i + 1]!;
    out.push({ group: (flags & 0x8000) !== 0, ont: (flags >> 13) & 3, address: `${rdata[i + 2]}.${rdata[i + 3]}.${rdata[i + 4]}.${rdata[i + 5]}` });
  }
  return out;
}

export function encodeNbRdata(entries: readonly { group: boolean; address: string }[]): Uint8Array {
  const out = new Uint8Array(entries.length * 6);
  entries.forEach((e, i) => {
    // ONT 00: B node (RFC 1002 §4.2.1.3).
    out[i * 6] = e.group ? 0x80 : 0x00;
    const parts = e.address.split('.').map(Number);
    for (let k = 0; k < 4; k++) out[i * 6 + 2 + k] = parts[k]! & 0xff;
  });
  return out;
}

export interface StatusEntry {
  name: string;
  suffix: number;
  flags: number;
}

/** NODE STATUS RDATA (§4.2.18): the name table and the 46-octet statistics, whose first 6 octets are the MAC. */
export function decodeStatusRdata(rdata: Uint8Array): { names: StatusEntry[]; mac: Uint8Array } {
  const n = rdata[0] ?? 0;
  const names: StatusEntry[] = [];
  let off = 1;
  for (let i = 0; i < n; i++) {
    if (off + 18 > rdata.length) throw new WireFormatError(off, 'NODE STATUS', 'name table runs past the RDATA');
    let end = 15;
    while (end > 0 && (rdata[off + end - 1] === 0x20 || rdata[off + end - 1] === 0)) end--;
    names.push({
      name: String.fromCharCode(...rdata.subarray(off, off + end)), suffix: rdata[off + 15]!, flags: (rdata[off + 16]! << 8) | rdata[off + 17]!,
    });
    off += 18;
  }
  return { names, mac: rdata.slice(off, off + 6) };
}

export function encodeStatusRdata(names: readonly StatusEntry[], mac: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + names.length * 18 + 46);
  out[0] = names.length;
  names.forEach((e, i) => {
    const at = 1 + i * 18;
    const upper = e.name.toUpperCase();
    for (let k = 0; k < 15; k++) out[at + k] = k < upper.length ? upper.charCodeAt(k) & 0xff : 0x20;
    out[at + 15] = e.suffix;
    out[at + 16] = e.flags >> 8;
    out[at + 17] = e.flags & 0xff;
  });
  out.set(mac.subarray(0, 6), 1 + names.length * 18);
  return out;
}
