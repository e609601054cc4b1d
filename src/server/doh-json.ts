/**
 * The JSON form of DNS over HTTPS that Google Public DNS (`/resolve`) and Cloudflare
 * (`application/dns-json`) answer: `?name=example.com&type=AAAA&do=1&cd=1` in, and
 * `{"Status":0,"TC":false,...,"Answer":[{"name","type","TTL","data"}]}` out, `data` in
 * presentation format as dig prints it. Not an RFC; this follows Google's documented shape.
 *
 * Invariants: the query built here is an ordinary wire query (ID 0, RD, EDNS with DO when
 * asked), so it takes the same engine path, ACLs and stats as any other; bad parameters give a
 * reason string (answered 400), never an exception.
 */
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import { newEdns } from '../wire/edns.js';
import { printRData, typeFromString } from '../wire/types.js';
import type { ResourceRecord } from '../wire/record.js';

function flag(v: string | null): boolean {
  return v !== null && (v === '1' || v.toLowerCase() === 'true');
}

/** The wire query for `?name=&type=&do=&cd=`, or why it cannot be built. */
export function jsonQuery(params: URLSearchParams): Uint8Array | string {
  const text = params.get('name') ?? '';
  if (text === '' || text.length > 1024) return 'the name parameter must be a domain name';
  let name: Name;
  try {
    name = Name.fromText(text.endsWith('.') ? text : text + '.');
  } catch (err) {
    return `bad name: ${(err as Error).message}`;
  }
  const t = params.get('type') ?? 'A';
  const type = /^\d{1,5}$/.test(t) ? Number(t) : typeFromString(t);
  if (type === undefined || type > 0xffff) return `unknown type "${t}"`;
  const m = Message.query(name, type, { id: 0, rd: true, edns: newEdns({ dnssecOk: flag(params.get('do')) }) });
  m.cd = flag(params.get('cd'));
  return m.encode();
}

function records(list: readonly ResourceRecord[]): { name: string; type: number; TTL: number; data: string }[] {
  return list.map((rr) => ({ name: rr.name.toString(), type: rr.type, TTL: rr.ttl, data: printRData(rr.type, rr.data) }));
}

/** The reply in `bytes` as Google's JSON. */
export function jsonReply(bytes: Uint8Array): string {
  const m = Message.decode(bytes);
  const out: Record<string, unknown> = {
    Status: m.rcode, TC: m.tc, RD: m.rd, RA: m.ra, AD: m.ad, CD: m.cd,
    Question: m.question.map((q) => ({ name: q.name.toString(), type: q.type })),
  };
  if (m.answer.length > 0) out.Answer = records(m.answer);
  if (m.authority.length > 0) out.Authority = records(m.authority);
  if (m.additional.length > 0) out.Additional = records(m.additional);
  return JSON.stringify(out);
}
