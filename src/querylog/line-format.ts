/**
 * The query log's JSON lines written as octets straight from a ring slot's stored query and
 * reply (ring.ts): the name from its wire labels, type, flags and RCODE from tables of
 * prepared octets, the answer summary's common types (A, AAAA, NS, CNAME, PTR, DNAME, MX)
 * from the RDATA, numbers as digits. No entry object, no Name, no string per field, and the
 * sink takes octets (no UTF-8 encoding of a batch string): the file writer's cost per line is
 * a few hundred octet stores.
 *
 * Invariant: the octets are exactly `entryLine(entryAt(ring, i))` (entry.ts, the reference the
 * API uses) as UTF-8; anything unusual (a cut or odd message, a rare RDATA type) is handed to
 * that reference, so the fast path never has to be right about edge cases.
 */
import { rcodeToString } from '../wire/constants.js';
import { formatIPv6 } from '../wire/rdata/addresses.js';
import { typeToString } from '../wire/types.js';
import { answerSummary, entryAt, entryLine } from './entry.js';
import { CACHE_KIND_NAMES, CacheKind, type LineMemo, QUERY_OCTETS, type QueryRing, REPLY_OCTETS, TRANSPORT_NAMES } from './ring.js';

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');

const TIME = enc('{"time":"');
const CLIENT = enc('","client":');
const PORT = enc(',"port":');
const TRANSPORTS = TRANSPORT_NAMES.map((t) => enc(`,"transport":"${t}",`));
const NAME = enc('"name":"');
const TYPE = enc('","type":"');
const FLAGS = enc('","flags":"');
const RCODE = enc('","rcode":"');
const ANSWER = enc('","answer":');
const HANDLER = enc(',"handler":');
const POLICY = enc(',"policy":');
const LATENCY = enc('"latencyUs":');
const CACHES = CACHE_KIND_NAMES.map((c) => enc(c === null ? ',"cacheHit":false,"cache":null}\n' : `,"cacheHit":true,"cache":"${c}"}\n`));
const NULL = enc('null');
/** flagWords for each combination of rd (1), cd (2), ad (4), do (8). */
const FLAG_WORDS: Buffer[] = [];
for (let f = 0; f < 16; f++) {
  const w = [(f & 1) !== 0 ? 'rd' : '', (f & 2) !== 0 ? 'cd' : '', (f & 4) !== 0 ? 'ad' : '', (f & 8) !== 0 ? 'do' : ''].filter((x) => x !== '');
  FLAG_WORDS.push(enc(w.join(' ')));
}
const typeNames = new Map<number, Buffer>();
const rcodeNames = new Map<number, Buffer>();

/** Octets reserved per line before it is written (names escape to at most 4x, summaries of cut replies are short). */
const LINE_ROOM = 8192;
/** Pointer hops followed in one compressed name (RFC 1035 §4.1.4 allows no loops; a message has at most 255 labels). */
const MAX_HOPS = 128;

/** One batch of lines: octets appended to a buffer that grows as needed. */
export class LineFormatter {
  buf: Buffer;
  pos = 0;
  private isoSecond = -1;
  private readonly isoPrefix = Buffer.alloc(20);
  /** Lines written through the reference (entry.ts) because the fast path declined. */
  slow = 0;

  constructor(bytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(bytes);
  }

  /** Starts a batch of about `lines` lines in a fresh buffer (the previous one belongs to the sink now). */
  begin(lines: number): void {
    this.buf = Buffer.allocUnsafe(Math.max(LINE_ROOM * 2, lines * 320));
    this.pos = 0;
  }

  /** The batch's octets (a view of the buffer, handed to the sink). */
  end(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }

  private put(b: Buffer): void {
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  /** A whole number >= 0 as decimal digits. */
  private digits(n: number): void {
    const b = this.buf;
    if (n < 10) {
      b[this.pos++] = 48 + n;
      return;
    }
    let len = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
    let p = this.pos + len;
    this.pos = p;
    for (let x = n; ; ) {
      const q = Math.floor(x / 10);
      b[--p] = 48 + (x - q * 10);
      if (q === 0) break;
      x = q;
    }
  }

  /** A JSON string literal of `s` (the usual ASCII quoted as is; else JSON.stringify's, as UTF-8). */
  private str(s: string): void {
    this.room(s.length + 2);
    const b = this.buf;
    const start = this.pos;
    let p = start + 1;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) {
        this.room(s.length * 6 + 2);
        this.pos = start + this.buf.write(JSON.stringify(s), start, 'utf8');
        return;
      }
      b[p++] = c;
    }
    b[start] = 0x22;
    b[p++] = 0x22;
    this.pos = p;
  }

  /** ISO 8601 time with milliseconds, as isoTime (entry.ts). */
  private time(ms: number): void {
    const sec = Math.floor(ms / 1000);
    if (sec !== this.isoSecond) {
      this.isoSecond = sec;
      this.isoPrefix.write(new Date(sec * 1000).toISOString().slice(0, 20), 0, 'latin1');
    }
    this.put(this.isoPrefix);
    const m = Math.floor(ms - sec * 1000);
    const b = this.buf;
    b[this.pos++] = 48 + Math.floor(m / 100);
    b[this.pos++] = 48 + (Math.floor(m / 10) % 10);
    b[this.pos++] = 48 + (m % 10);
    b[this.pos++] = 0x5a; // Z
  }

  /**
   * The name at `at` in `msg` (`end` octets held) in presentation form (Name.toString's escapes)
   * inside a JSON string (its own escapes on top), following compression pointers when
   * `pointers`. Returns where the name ends at `at`, or -1 when it is cut short or malformed.
   */
  private name(msg: Uint8Array, at: number, end: number, pointers: boolean): number {
    const b = this.buf;
    let p = at;
    let after = -1;
    let hops = 0;
    let total = 1;
    let wrote = false;
    for (;;) {
      if (p >= end) return -1;
      const len = msg[p]!;
      if (len === 0) {
        if (after < 0) after = p + 1;
        break;
      }
      if (len >= 0xc0) {
        if (!pointers || p + 1 >= end || ++hops > MAX_HOPS) return -1;
        if (after < 0) after = p + 2;
        p = ((len & 0x3f) << 8) | msg[p + 1]!;
        continue;
      }
      total += len + 1;
      if (len > 63 || p + 1 + len > end || total > 255) return -1; // RFC 1035 §3.1: 255 octets at most
      for (let k = p + 1; k <= p + len; k++) {
        const c = msg[k]!;
        if (c <= 0x20 || c >= 0x7f) {
          // \DDD, its backslash doubled for JSON
          b[this.pos++] = 0x5c;
          b[this.pos++] = 0x5c;
          b[this.pos++] = 48 + Math.floor(c / 100);
          b[this.pos++] = 48 + (Math.floor(c / 10) % 10);
          b[this.pos++] = 48 + (c % 10);
        } else if (c === 0x2e || c === 0x28 || c === 0x29 || c === 0x3b || c === 0x40 || c === 0x24) {
          b[this.pos++] = 0x5c;
          b[this.pos++] = 0x5c;
          b[this.pos++] = c;
        } else if (c === 0x22 || c === 0x5c) {
          // \" or \\ in presentation form: each octet escaped again for JSON
          b[this.pos++] = 0x5c;
          b[this.pos++] = 0x5c;
          b[this.pos++] = 0x5c;
          b[this.pos++] = c;
        } else {
          b[this.pos++] = c;
        }
      }
      b[this.pos++] = 0x2e;
      wrote = true;
      p += len + 1;
    }
    if (!wrote) b[this.pos++] = 0x2e; // the root
    return after;
  }

  private table(map: Map<number, Buffer>, code: number, text: (c: number) => string): void {
    let t = map.get(code);
    if (t === undefined) {
      t = enc(text(code));
      if (map.size < 4096) map.set(code, t);
    }
    this.put(t);
  }

  /**
   * Appends the line of ring slot `i`. With a memo (a cached answer's, see LineMemo) whose name
   * is spelled as this query's, its stored middle is copied; otherwise the middle is built (and
   * kept in the memo).
   */
  line(ring: QueryRing, i: number, memo: LineMemo | undefined): void {
    this.room(LINE_ROOM);
    const start = this.pos;
    this.put(TIME);
    this.time(ring.timeMs[i]!);
    this.put(CLIENT);
    this.str(ring.client[i]!);
    this.put(PORT);
    this.digits(ring.port[i]!);
    this.put(TRANSPORTS[ring.transport[i]!] ?? TRANSPORTS[0]!);
    const qo = i * QUERY_OCTETS;
    const ql = ring.queryLen[i]!;
    const m = memo?.bytes;
    if (m !== undefined && sameName(memo!.name!, ring.query, qo + 12, ql)) {
      this.room(m.length);
      this.put(m);
    } else {
      const mid = this.pos;
      if (!this.middle(ring, i)) {
        this.pos = start;
        this.slowLine(ring, i);
        return;
      }
      if (memo !== undefined) {
        memo.bytes = Buffer.from(this.buf.subarray(mid, this.pos));
        memo.name = nameWire(ring.query, qo + 12, qo + ql);
      }
    }
    this.put(LATENCY);
    this.digits(Math.round(ring.latencyUs[i]!));
    this.put(CACHES[ring.cache[i]!] ?? CACHES[CacheKind.NONE]!);
  }

  private slowLine(ring: QueryRing, i: number): void {
    this.slow++;
    const s = entryLine(entryAt(ring, i));
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** The fields from name to policy and the comma after; false when the reference must do it. */
  private middle(ring: QueryRing, i: number): boolean {
    const q = ring.query;
    const qo = i * QUERY_OCTETS;
    const qend = qo + ring.queryLen[i]!;
    if (qend - qo < 12) return false;
    const qd = (q[qo + 4]! << 8) | q[qo + 5]!;
    if (qd !== 1 || q[qo + 6] !== 0 || q[qo + 7] !== 0 || q[qo + 8] !== 0 || q[qo + 9] !== 0) return false;
    this.put(NAME);
    let p = this.name(q, qo + 12, qend, false);
    if (p < 0 || p + 4 > qend) return false;
    const qtype = (q[p]! << 8) | q[p + 1]!;
    p += 4;
    let flags = (q[qo + 2]! & 0x01) | ((q[qo + 3]! & 0x10) >> 3) | ((q[qo + 3]! & 0x20) >> 3);
    // The DO bit of the query's OPT (RFC 3225): as queryFacts reads it, records cut short end the walk.
    const ar = (q[qo + 10]! << 8) | q[qo + 11]!;
    for (let k = 0; k < ar; k++) {
      p = skipName(q, p, qend);
      if (p < 0 || p + 10 > qend) break;
      if (q[p] === 0 && q[p + 1] === 41 && (q[p + 6]! & 0x80) !== 0) flags |= 8;
      p += 10 + ((q[p + 8]! << 8) | q[p + 9]!);
    }
    this.put(TYPE);
    this.table(typeNames, qtype, typeToString);
    this.put(FLAGS);
    this.put(FLAG_WORDS[flags]!);
    // The reply: RCODE (extended by the OPT when the whole reply was kept) and where its first answer is.
    const r = ring.reply;
    const ro = i * REPLY_OCTETS;
    const rend = ro + ring.replyLen[i]!;
    if (rend - ro < 12) return false;
    let rcode = r[ro + 3]! & 0x0f;
    const rqd = (r[ro + 4]! << 8) | r[ro + 5]!;
    const an = (r[ro + 6]! << 8) | r[ro + 7]!;
    const ns = (r[ro + 8]! << 8) | r[ro + 9]!;
    const rar = (r[ro + 10]! << 8) | r[ro + 11]!;
    let rp = ro + 12;
    for (let k = 0; k < rqd && rp >= 0; k++) {
      rp = skipName(r, rp, rend);
      if (rp >= 0) rp += 4;
    }
    const first = rp >= 0 && rp <= rend ? rp : -1;
    if (rar > 0 && rend - ro >= ring.replyFull[i]! && first >= 0) {
      let x = first;
      const before = an + ns;
      for (let k = 0; k < before && x >= 0; k++) x = skipRecord(r, x, rend);
      for (let k = 0; k < rar && x >= 0; k++) {
        x = skipName(r, x, rend);
        if (x < 0 || x + 10 > rend) break;
        const type = (r[x]! << 8) | r[x + 1]!;
        // RFC 6891 §6.1.3: the OPT's upper 8 bits of the 12-bit RCODE.
        if (type === 41) rcode |= r[x + 4]! << 4;
        x += 10 + ((r[x + 8]! << 8) | r[x + 9]!);
        if (x > rend) break;
      }
    }
    this.put(RCODE);
    this.table(rcodeNames, rcode, rcodeToString);
    this.put(ANSWER);
    if (an === 0) {
      const aa = (r[ro + 2]! & 0x04) !== 0;
      // A referral (RFC 1034 §4.3.2 step 3b): no answer, NS records, not authoritative.
      if (ns > 0 && !aa && (r[ro + 3]! & 0x0f) === 0) {
        this.buf.write('"referral (', this.pos, 'latin1');
        this.pos += 11;
        this.digits(ns);
        this.buf.write(' in authority)"', this.pos, 'latin1');
        this.pos += 15;
      } else {
        this.buf[this.pos++] = 0x22;
        this.buf[this.pos++] = 0x22;
      }
    } else if (first < 0 || !this.firstAnswer(r, ro, first, rend, qtype)) {
      this.str(answerSummary(ring.replyOf(i), qtype));
    } else if (an > 1) {
      this.buf.write(' (+', this.pos, 'latin1');
      this.pos += 3;
      this.digits(an - 1);
      this.buf[this.pos++] = 0x29;
      this.buf[this.pos++] = 0x22;
    } else {
      this.buf[this.pos++] = 0x22;
    }
    this.put(HANDLER);
    const h = ring.handler[i];
    if (h === undefined) this.put(NULL);
    else this.str(h);
    this.put(POLICY);
    const pol = ring.policy[i];
    if (pol === undefined) this.put(NULL);
    else this.str(pol);
    this.buf[this.pos++] = 0x2c;
    return true;
  }

  /**
   * The opening quote and the data of the answer record at `at` when its type is one printed
   * here (with its mnemonic first when it is not the question's type, as answerSummary); false
   * (nothing written) otherwise.
   */
  private firstAnswer(r: Uint8Array, ro: number, at: number, end: number, qtype: number): boolean {
    const p = skipName(r, at, end);
    if (p < 0 || p + 10 > end) return false;
    const type = (r[p]! << 8) | r[p + 1]!;
    const len = (r[p + 8]! << 8) | r[p + 9]!;
    const d = p + 10;
    if (d + len > end) return false;
    const mark = this.pos;
    const b = this.buf;
    b[this.pos++] = 0x22;
    if (type !== qtype) {
      if (type !== 5 && type !== 39) return this.undo(mark); // CNAME and DNAME are the usual others; the rest: reference
      this.table(typeNames, type, typeToString);
      b[this.pos++] = 0x20;
    }
    const view = ro === 0 ? r : r.subarray(ro, end);
    switch (type) {
      case 1: // A
        if (len !== 4) return this.undo(mark);
        this.digits(r[d]!);
        b[this.pos++] = 0x2e;
        this.digits(r[d + 1]!);
        b[this.pos++] = 0x2e;
        this.digits(r[d + 2]!);
        b[this.pos++] = 0x2e;
        this.digits(r[d + 3]!);
        return true;
      case 28: // AAAA
        if (len !== 16) return this.undo(mark);
        this.pos += b.write(formatIPv6(r, d), this.pos, 'latin1');
        return true;
      case 2: case 5: case 12: case 39: { // NS, CNAME, PTR, DNAME: one name (compressed in RFC 1035 types)
        const e = this.name(view, d - ro, end - ro, true);
        return e === d - ro + len ? true : this.undo(mark);
      }
      case 15: { // MX
        if (len < 3) return this.undo(mark);
        this.digits((r[d]! << 8) | r[d + 1]!);
        b[this.pos++] = 0x20;
        const e = this.name(view, d + 2 - ro, end - ro, true);
        return e === d - ro + len ? true : this.undo(mark);
      }
      default:
        return this.undo(mark);
    }
  }

  private undo(mark: number): false {
    this.pos = mark;
    return false;
  }
}

/** Where the name at `p` ends (after a pointer or the root label), or -1 when cut short. */
function skipName(m: Uint8Array, p: number, end: number): number {
  for (;;) {
    if (p >= end) return -1;
    const len = m[p]!;
    if (len === 0) return p + 1;
    if (len >= 0xc0) return p + 2 <= end ? p + 2 : -1;
    if (len > 63) return -1;
    p += len + 1;
  }
}

/** Where the record at `p` ends, or -1 when cut short. */
function skipRecord(m: Uint8Array, p: number, end: number): number {
  p = skipName(m, p, end);
  if (p < 0 || p + 10 > end) return -1;
  p += 10 + ((m[p + 8]! << 8) | m[p + 9]!);
  return p <= end ? p : -1;
}

/** The wire labels of the name at `at` (up to `end`), or undefined when cut short. */
export function nameWire(buf: Uint8Array, at: number, end: number): Uint8Array | undefined {
  let p = at;
  while (p < end && buf[p] !== 0) p += buf[p]! + 1;
  return p < end ? buf.slice(at, p + 1) : undefined;
}

/** True when the name at `at` is spelled exactly as `name` (same octets, case included). */
export function sameName(name: Uint8Array | undefined, buf: Uint8Array, at: number, len: number): boolean {
  if (name === undefined || name.length + 12 > len) return false;
  for (let k = 0; k < name.length; k++) if (buf[at + k] !== name[k]) return false;
  return true;
}
