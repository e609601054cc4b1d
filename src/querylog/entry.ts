/**
 * Query log entries as people and the API see them, derived from a ring slot's stored octets
 * (ring.ts) only when read: the question, the query's flags, the reply's RCODE (extended by its
 * OPT record, RFC 6891 §6.1.3) and a short answer summary (the first answer's data and how many
 * more records came, as dig +short would start). Also the search filters of `GET /v1/querylog`.
 *
 * Invariant: a stored message cut short (the ring keeps a prefix) or malformed never throws
 * here: what can be read is shown, the rest left out.
 */
import { rcodeToString } from '../wire/constants.js';
import { Name } from '../wire/name.js';
import { Reader } from '../wire/reader.js';
import { decodeRecord } from '../wire/record.js';
import { RRType, printRData, typeToString } from '../wire/types.js';
import { CACHE_KIND_NAMES, CacheKind, type QueryRing, TRANSPORT_NAMES } from './ring.js';

/** One logged query: the shape of `GET /v1/querylog` entries and of the JSON lines. */
export interface QueryLogEntry {
  /** When the query came, ISO 8601 in UTC with milliseconds. */
  time: string;
  client: string;
  port: number;
  transport: string;
  /** The question's name, absolute ("www.example."). */
  name: string;
  type: string;
  /** The query's flags as words: rd, cd, ad (RFC 6840 §5.7), do (RFC 3225). */
  flags: string;
  rcode: string;
  /** The first answer record's data and "(+N)" more records; "" with no answer. */
  answer: string;
  /** The chain element that answered ("authority", "resolver"...; "transfer", "update"). */
  handler: string | null;
  /** The policy that shaped the answer (see QueryContext.policy), or null. */
  policy: string | null;
  latencyUs: number;
  cacheHit: boolean;
  /** Which cache: "answer" (the engine's encoded answers), "live" (a resolver cache answer replayed), "resolver", or null. */
  cache: string | null;
}

/** The question and flags of a stored query. */
export interface QueryFacts {
  name: Name | undefined;
  type: number;
  rd: boolean;
  cd: boolean;
  ad: boolean;
  do: boolean;
}

/** Reads the question and flags of a query message (a prefix may be cut anywhere). */
export function queryFacts(q: Uint8Array): QueryFacts {
  const f: QueryFacts = { name: undefined, type: -1, rd: false, cd: false, ad: false, do: false };
  if (q.length < 12) return f;
  f.rd = (q[2]! & 0x01) !== 0;
  f.ad = (q[3]! & 0x20) !== 0;
  f.cd = (q[3]! & 0x10) !== 0;
  const qd = (q[4]! << 8) | q[5]!;
  const counts = ((q[6]! << 8) | q[7]!) + ((q[8]! << 8) | q[9]!);
  const ar = (q[10]! << 8) | q[11]!;
  if (qd === 0) return f;
  try {
    const r = new Reader(q, 12);
    f.name = r.name('qname');
    f.type = r.u16('qtype');
    r.u16('qclass');
    for (let i = 1; i < qd; i++) {
      r.skipName('qname');
      r.pos += 4;
    }
    for (let i = 0; i < counts; i++) skipRecord(r);
    for (let i = 0; i < ar; i++) {
      r.skipName('owner');
      const type = r.u16('type');
      r.u16('class');
      const ttl = r.u32('ttl');
      const len = r.u16('rdlength');
      if (type === RRType.OPT) f.do = (ttl & 0x8000) !== 0;
      r.pos += len;
    }
  } catch { /* cut short: what was read stands */ }
  return f;
}

function skipRecord(r: Reader): void {
  r.skipName('owner');
  r.pos += 8;
  const len = r.u16('rdlength'); // read first: `pos += u16()` would lose u16's own advance
  r.pos += len;
  if (r.pos > r.end) r.fail('rdata', 'past the end');
}

/** The query's flags as the `flags` field spells them. */
export function flagWords(f: QueryFacts): string {
  let s = '';
  if (f.rd) s = 'rd';
  if (f.cd) s += s === '' ? 'cd' : ' cd';
  if (f.ad) s += s === '' ? 'ad' : ' ad';
  if (f.do) s += s === '' ? 'do' : ' do';
  return s;
}

/** The RCODE of a stored reply: the header's 4 bits, extended by its OPT when that was kept. */
export function replyRcode(reply: Uint8Array, fullLength: number): number {
  if (reply.length < 12) return -1;
  let rcode = reply[3]! & 0x0f;
  const ar = (reply[10]! << 8) | reply[11]!;
  if (ar === 0 || reply.length < fullLength) return rcode;
  try {
    const r = new Reader(reply, 12);
    const qd = (reply[4]! << 8) | reply[5]!;
    for (let i = 0; i < qd; i++) {
      r.skipName('qname');
      r.pos += 4;
    }
    const before = ((reply[6]! << 8) | reply[7]!) + ((reply[8]! << 8) | reply[9]!);
    for (let i = 0; i < before; i++) skipRecord(r);
    for (let i = 0; i < ar; i++) {
      r.skipName('owner');
      const type = r.u16('type');
      r.u16('class');
      const ttl = r.u32('ttl');
      const len = r.u16('rdlength');
      // RFC 6891 §6.1.3: the OPT's upper 8 bits of the 12-bit RCODE.
      if (type === RRType.OPT) rcode |= (ttl >>> 24) << 4;
      r.pos += len;
    }
  } catch { /* keep the header's */ }
  return rcode;
}

/**
 * "192.0.2.1 (+1)": the first answer record's data (with its type in front when it is not the
 * question's type, e.g. a CNAME), then how many more answer records; "" when there are none.
 */
export function answerSummary(reply: Uint8Array, qtype: number): string {
  if (reply.length < 12) return '';
  const an = (reply[6]! << 8) | reply[7]!;
  if (an === 0) {
    const ns = (reply[8]! << 8) | reply[9]!;
    const aa = (reply[2]! & 0x04) !== 0;
    // A referral (RFC 1034 §4.3.2 step 3b): no answer, NS records, not authoritative.
    return ns > 0 && !aa && (reply[3]! & 0x0f) === 0 ? `referral (${ns} in authority)` : '';
  }
  const more = an > 1 ? ` (+${an - 1})` : '';
  try {
    const r = new Reader(reply, 12);
    const qd = (reply[4]! << 8) | reply[5]!;
    for (let i = 0; i < qd; i++) {
      r.skipName('qname');
      r.pos += 4;
    }
    const rr = decodeRecord(r);
    const data = printRData(rr.type, rr.data);
    return (rr.type === qtype ? data : `${typeToString(rr.type)} ${data}`) + more;
  } catch {
    return `(${an} records)`;
  }
}

/** The entry of ring slot `i`. */
export function entryAt(ring: QueryRing, i: number, facts?: QueryFacts): QueryLogEntry {
  const f = facts ?? queryFacts(ring.queryOf(i));
  const reply = ring.replyOf(i);
  const rcode = replyRcode(reply, ring.replyFull[i]!);
  const cache = ring.cache[i]!;
  return {
    time: isoTime(ring.timeMs[i]!),
    client: ring.client[i]!,
    port: ring.port[i]!,
    transport: TRANSPORT_NAMES[ring.transport[i]!] ?? 'udp',
    name: f.name === undefined ? '' : f.name.toString(),
    type: f.type < 0 ? '' : typeToString(f.type),
    flags: flagWords(f),
    rcode: rcode < 0 ? '' : rcodeToString(rcode),
    answer: answerSummary(reply, f.type),
    handler: ring.handler[i] ?? null,
    policy: ring.policy[i] ?? null,
    latencyUs: Math.round(ring.latencyUs[i]!),
    cacheHit: cache !== CacheKind.NONE,
    cache: CACHE_KIND_NAMES[cache] ?? null,
  };
}

/** The filters of `GET /v1/querylog` (all optional; all given must match). */
export interface QueryLogFilter {
  /** The name or a name below it ("example.com" matches www.example.com.). */
  name?: string | undefined;
  /** The client's address, exactly. */
  client?: string | undefined;
  /** An RCODE name (NXDOMAIN) or number. */
  rcode?: string | undefined;
  /** A type name (AAAA) or TYPEnnn. */
  type?: string | undefined;
  /** Only entries at or after this time (ms since the epoch). */
  sinceMs?: number | undefined;
  /** Only entries before this time (ms since the epoch). */
  untilMs?: number | undefined;
  /** At most this many entries (newest first); default 100. */
  limit?: number | undefined;
}

/** What the search answers: newest first, and how many entries matched in all. */
export interface QueryLogResult {
  entries: QueryLogEntry[];
  total: number;
}

/** Filter values parsed once per search. */
export interface CompiledFilter {
  name: Name | undefined;
  client: string | undefined;
  rcode: number | undefined;
  type: number | undefined;
  sinceMs: number;
  untilMs: number;
  limit: number;
}

/**
 * Searches the ring, newest first: cheap columns (time, client) are checked before any octets
 * are decoded, and only the `limit` newest matches become entries.
 */
export function searchRing(ring: QueryRing, f: CompiledFilter, held = ring.capacity): QueryLogResult {
  const entries: QueryLogEntry[] = [];
  let total = 0;
  const oldest = Math.max(ring.oldest, ring.seq - held);
  for (let s = ring.seq - 1; s >= oldest; s--) {
    const i = ring.slot(s);
    const t = ring.timeMs[i]!;
    if (t < f.sinceMs || t >= f.untilMs) continue;
    if (f.client !== undefined && ring.client[i] !== f.client) continue;
    let facts: QueryFacts | undefined;
    if (f.name !== undefined || f.type !== undefined) {
      facts = queryFacts(ring.queryOf(i));
      if (f.type !== undefined && facts.type !== f.type) continue;
      if (f.name !== undefined && (facts.name === undefined || !facts.name.isSubdomainOf(f.name))) continue;
    }
    if (f.rcode !== undefined && replyRcode(ring.replyOf(i), ring.replyFull[i]!) !== f.rcode) continue;
    total++;
    if (entries.length < f.limit) entries.push(entryAt(ring, i, facts));
  }
  return { entries, total };
}

/** One JSON line of the log file: the entry, as the API shows it (JSON.stringify's output, built by hand: twice as fast). */
export function entryLine(e: QueryLogEntry): string {
  return `{"time":"${e.time}","client":${str(e.client)},"port":${e.port},"transport":"${e.transport}",` + lineMiddle(e) +
    `"latencyUs":${e.latencyUs},"cacheHit":${e.cacheHit},"cache":${e.cache === null ? 'null' : `"${e.cache}"`}}\n`;
}

/** The fields from name to policy, with the comma after (see LineMemo). */
export function lineMiddle(e: QueryLogEntry): string {
  return `"name":${str(e.name)},"type":${str(e.type)},"flags":"${e.flags}","rcode":${str(e.rcode)},"answer":${str(e.answer)},` +
    `"handler":${e.handler === null ? 'null' : str(e.handler)},"policy":${e.policy === null ? 'null' : str(e.policy)},`;
}

/** `entryLine(entryAt(ring, i))` given the middle already built for this answer. */
export function memoLine(ring: QueryRing, i: number, middle: string): string {
  const cache = ring.cache[i]!;
  return `{"time":"${isoTime(ring.timeMs[i]!)}","client":${str(ring.client[i]!)},"port":${ring.port[i]!},"transport":"${TRANSPORT_NAMES[ring.transport[i]!] ?? 'udp'}",` +
    middle + `"latencyUs":${Math.round(ring.latencyUs[i]!)},"cacheHit":${cache !== CacheKind.NONE},"cache":${cache === CacheKind.NONE ? 'null' : `"${CACHE_KIND_NAMES[cache]}"`}}\n`;
}

/** A JSON string literal: quoted as is when nothing needs escaping (the usual case), else JSON.stringify's. */
function str(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** ISO 8601 times: the part up to the second is built once per second (a log's lines share it). */
let isoSecond = -1;
let isoPrefix = '';

/** `new Date(ms).toISOString()`, cheaper for times within the same second as the last one. */
export function isoTime(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec !== isoSecond) {
    isoSecond = sec;
    isoPrefix = new Date(sec * 1000).toISOString().slice(0, 20);
  }
  const m = Math.floor(ms - sec * 1000);
  return `${isoPrefix}${m < 10 ? '00' : m < 100 ? '0' : ''}${m}Z`;
}

/**
 * A BIND-style querylog line: `03-Dec-2026 16:25:14.123 client 127.0.0.1#5353 (www.example.): query:
 * www.example. IN A +E (udp) -> NOERROR 192.0.2.1 (+1) [authority] 120us cache`. BIND's flag
 * letters: + recursion desired (- not), E EDNS (only known here as D), D DO, C CD.
 */
export function bindLine(e: QueryLogEntry): string {
  const d = new Date(e.time);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${p2(d.getUTCDate())}-${months[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
  const words = e.flags.split(' ');
  let flags = words.includes('rd') ? '+' : '-';
  if (words.includes('do')) flags += 'ED';
  if (words.includes('cd')) flags += 'C';
  let line = `${stamp} client ${e.client}#${e.port} (${e.name}): query: ${e.name} IN ${e.type} ${flags} (${e.transport}) -> ${e.rcode}`;
  if (e.answer !== '') line += ` ${e.answer}`;
  if (e.handler !== null) line += ` [${e.handler}]`;
  if (e.policy !== null) line += ` policy=${e.policy}`;
  line += ` ${e.latencyUs}us`;
  if (e.cacheHit) line += ` cache=${e.cache ?? 'hit'}`;
  return line;
}
