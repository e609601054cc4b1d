/**
 * TSIG (RFC 8945) on wire messages: find the TSIG record, compute and check MACs, append a
 * signed TSIG record, and carry the MAC chain across the messages of a transfer (§5.3.1).
 *
 * Invariants: MACs are computed over the bytes as they are (or were) on the wire, with the
 * header's ID put back to the Original ID and ARCOUNT less the TSIG (§4.3.1), followed by the
 * TSIG variables in canonical form (§4.3.3); comparisons are constant-time. Verification
 * order is §5.2: key (BADKEY), then MAC (BADSIG), then time (BADTIME). Nothing here allocates
 * per message beyond the HMAC object and the record it appends.
 */
import { createHmac, timingSafeEqual, type Hmac } from 'node:crypto';
import { WireFormatError } from '../errors.js';
import { Name } from '../wire/name.js';
import { Reader } from '../wire/reader.js';
import { RRClass, RRType } from '../wire/types.js';
import { type KeyStore, type TsigKey, algorithmByName } from './key.js';

/** TSIG error codes (RFC 8945 §3). */
export const TsigErr = { NOERROR: 0, BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;
/** RFC 8945 §10: 300 seconds is the recommended fudge. */
export const DEFAULT_FUDGE = 300;
/** RCODE of a TSIG error reply (RFC 8945 §5.2). */
export const NOTAUTH = 9;

/** The TSIG record of a message, as found on the wire. */
export interface TsigRecord {
  /** Offset where the TSIG RR starts (the message without it ends here). */
  start: number;
  keyName: Name;
  algorithm: Name;
  /** Seconds since the epoch (48 bits). */
  timeSigned: number;
  fudge: number;
  mac: Uint8Array;
  originalId: number;
  error: number;
  otherData: Uint8Array;
}

/**
 * The message's TSIG record, or undefined when it has none. Throws WireFormatError when a
 * TSIG is not the last record of the additional section (RFC 8945 §5.1: FORMERR), or is
 * malformed.
 */
export function findTsig(msg: Uint8Array, len = msg.length): TsigRecord | undefined {
  if (len < 12) return undefined;
  const qd = (msg[4]! << 8) | msg[5]!;
  const total = ((msg[6]! << 8) | msg[7]!) + ((msg[8]! << 8) | msg[9]!) + ((msg[10]! << 8) | msg[11]!);
  if (total === 0) return undefined;
  const r = new Reader(msg, 12, len);
  for (let i = 0; i < qd; i++) {
    r.skipName('question name');
    r.need(4, 'question');
    r.pos += 4;
  }
  for (let i = 0; i < total; i++) {
    const start = r.pos;
    r.skipName('owner name');
    const type = r.u16('type');
    r.pos += 6; // class, TTL (checked by u16 below)
    const rdlength = r.u16('rdlength');
    if (r.pos + rdlength > len) r.fail('rdata', 'runs past the end of the message');
    if (type !== RRType.TSIG) {
      r.pos += rdlength;
      continue;
    }
    if (i !== total - 1 || (msg[10]! << 8 | msg[11]!) === 0) r.fail('TSIG', 'not the last record of the additional section (RFC 8945 §5.1)', start);
    const owner = new Reader(msg, start, len);
    const keyName = owner.name('TSIG key name');
    const d = new Reader(msg, r.pos, r.pos + rdlength);
    const algorithm = d.name('TSIG algorithm');
    const hi = d.u16('TSIG time signed');
    const lo = d.u32('TSIG time signed');
    const fudge = d.u16('TSIG fudge');
    const macSize = d.u16('TSIG MAC size');
    const mac = d.bytes(macSize, 'TSIG MAC');
    const originalId = d.u16('TSIG original ID');
    const error = d.u16('TSIG error');
    const otherLen = d.u16('TSIG other length');
    const otherData = d.bytes(otherLen, 'TSIG other data');
    if (d.pos !== r.pos + rdlength) d.fail('TSIG', 'RDLENGTH does not match its fields');
    return { start, keyName, algorithm, timeSigned: hi * 0x100000000 + lo, fudge, mac, originalId, error, otherData };
  }
  return undefined;
}

function u16(n: number): Uint8Array {
  return Uint8Array.of(n >>> 8, n & 0xff);
}

function u48(n: number): Uint8Array {
  const hi = Math.floor(n / 0x100000000);
  const lo = n >>> 0;
  return Uint8Array.of(hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff);
}

/** Feeds a message (up to `end`) with its ID set to `id` and ARCOUNT lowered by `less`. */
function feedMessage(h: Hmac, msg: Uint8Array, end: number, id: number, less: number): void {
  const head = Uint8Array.from(msg.subarray(0, 12));
  head[0] = id >>> 8;
  head[1] = id & 0xff;
  const ar = ((head[10]! << 8) | head[11]!) - less;
  head[10] = ar >>> 8;
  head[11] = ar & 0xff;
  h.update(head);
  h.update(msg.subarray(12, end));
}

/** The TSIG variables of RFC 8945 §4.3.3 (all of them, or only the timers: §4.3.1 continuation). */
function feedVariables(h: Hmac, key: TsigKey, timeSigned: number, fudge: number, error: number, other: Uint8Array,
  timersOnly: boolean): void {
  if (!timersOnly) {
    h.update(key.name.toLowerCase().wire);
    h.update(u16(RRClass.ANY));
    h.update(new Uint8Array(4)); // TTL 0
    h.update(key.algorithm.name.toLowerCase().wire);
  }
  h.update(u48(timeSigned));
  h.update(u16(fudge));
  if (!timersOnly) {
    h.update(u16(error));
    h.update(u16(other.length));
    h.update(other);
  }
}

function feedPrior(h: Hmac, mac: Uint8Array | undefined): void {
  if (mac === undefined) return;
  h.update(u16(mac.length));
  h.update(mac);
}

export interface SignOptions {
  /** Seconds since the epoch. */
  timeSigned: number;
  fudge?: number;
  /** A reply's first message: the request's MAC (RFC 8945 §4.3.2). Later messages: the previous message's MAC. */
  priorMac?: Uint8Array;
  /** A later message of a multi-message reply: MAC over the timers only (§4.3.1 / §5.3.1). */
  timersOnly?: boolean;
  error?: number;
  otherData?: Uint8Array;
  /** Leave the MAC empty (BADKEY/BADSIG error replies, §5.3.2). */
  unsigned?: boolean;
}

/** Octets a TSIG RR with this key adds to a message (for reserving room before encoding). */
export function tsigSize(key: TsigKey, otherLen = 0): number {
  return key.name.length + 10 + key.algorithm.name.length + 16 + key.algorithm.digestSize + otherLen;
}

/**
 * Signs `msg[0..len)`: returns the TSIG RR to append (the caller also adds 1 to ARCOUNT) and the
 * MAC (for chaining). The ID in the header is taken as the Original ID.
 */
export function signature(msg: Uint8Array, len: number, key: TsigKey, opts: SignOptions): { record: Uint8Array; mac: Uint8Array } {
  const fudge = opts.fudge ?? DEFAULT_FUDGE;
  const error = opts.error ?? 0;
  const other = opts.otherData ?? new Uint8Array(0);
  let mac: Uint8Array = new Uint8Array(0);
  if (opts.unsigned !== true) {
    const h = createHmac(key.algorithm.hash, key.secret);
    feedPrior(h, opts.priorMac);
    h.update(msg.subarray(0, len));
    feedVariables(h, key, opts.timeSigned, fudge, error, other, opts.timersOnly === true);
    mac = h.digest();
  }
  const owner = key.name.wire;
  const algName = key.algorithm.name.wire;
  const rdlen = algName.length + 16 + mac.length + other.length;
  const rec = new Uint8Array(owner.length + 10 + rdlen);
  let p = 0;
  rec.set(owner, p); p += owner.length;
  rec[p++] = 0; rec[p++] = RRType.TSIG;
  rec[p++] = 0; rec[p++] = RRClass.ANY;
  p += 4; // TTL 0
  rec[p++] = rdlen >>> 8; rec[p++] = rdlen & 0xff;
  rec.set(algName, p); p += algName.length;
  rec.set(u48(opts.timeSigned), p); p += 6;
  rec[p++] = fudge >>> 8; rec[p++] = fudge & 0xff;
  rec[p++] = mac.length >>> 8; rec[p++] = mac.length & 0xff;
  rec.set(mac, p); p += mac.length;
  rec[p++] = msg[0]!; rec[p++] = msg[1]!; // Original ID
  rec[p++] = error >>> 8; rec[p++] = error & 0xff;
  rec[p++] = other.length >>> 8; rec[p++] = other.length & 0xff;
  rec.set(other, p);
  return { record: rec, mac };
}

/** `msg` with a TSIG appended and ARCOUNT raised: a new array. */
export function signMessage(msg: Uint8Array, key: TsigKey, opts: SignOptions): { bytes: Uint8Array; mac: Uint8Array } {
  const { record, mac } = signature(msg, msg.length, key, opts);
  const out = new Uint8Array(msg.length + record.length);
  out.set(msg, 0);
  out.set(record, msg.length);
  const ar = ((out[10]! << 8) | out[11]!) + 1;
  out[10] = ar >>> 8;
  out[11] = ar & 0xff;
  return { bytes: out, mac };
}

export interface VerifyOptions {
  /** Seconds since the epoch, now. */
  now: number;
  /** Request MAC (verifying a reply) or previous message's MAC (later messages of a stream). */
  priorMac?: Uint8Array;
  timersOnly?: boolean;
  /** Unsigned messages received since the last signed one (RFC 8945 §5.3.1), fed before this one. */
  unsignedBefore?: readonly Uint8Array[];
}

export interface VerifyResult {
  /** 0, or BADKEY / BADSIG / BADTIME / BADTRUNC. */
  error: number;
  key: TsigKey | undefined;
  record: TsigRecord;
}

/**
 * Checks `msg`'s TSIG `rec` against the key store (or the one key a client expects), per
 * RFC 8945 §5.2 (server) and §5.3 (client): the key must be known with the same algorithm, the
 * MAC must match (full length, or truncated no shorter than max(10, half the digest), §5.2.2.1),
 * and the time must be within the fudge.
 */
export function verifyMessage(msg: Uint8Array, len: number, rec: TsigRecord, keys: KeyStore | TsigKey, opts: VerifyOptions): VerifyResult {
  const key = 'secret' in keys ? (keys.name.key === rec.keyName.key ? keys : undefined) : keys.get(rec.keyName);
  const alg = algorithmByName(rec.algorithm);
  if (key === undefined || alg === undefined || alg !== key.algorithm) return { error: TsigErr.BADKEY, key: undefined, record: rec };
  const digest = key.algorithm.digestSize;
  const macLen = rec.mac.length;
  if (macLen > digest) throw new WireFormatError(rec.start, 'TSIG MAC', `${macLen} octets, more than the ${digest} of ${key.algorithm.short}`);
  if (macLen === 0) return { error: TsigErr.BADSIG, key, record: rec };
  if (macLen < digest && macLen < Math.max(10, Math.ceil(digest / 2))) return { error: TsigErr.BADTRUNC, key, record: rec };
  const h = createHmac(key.algorithm.hash, key.secret);
  feedPrior(h, opts.priorMac);
  for (const u of opts.unsignedBefore ?? []) h.update(u);
  feedMessage(h, msg, rec.start, rec.originalId, 1);
  feedVariables(h, key, rec.timeSigned, rec.fudge, rec.error, rec.otherData, opts.timersOnly === true);
  const full = h.digest();
  if (!timingSafeEqual(full.subarray(0, macLen), rec.mac)) return { error: TsigErr.BADSIG, key, record: rec };
  if (Math.abs(opts.now - rec.timeSigned) > rec.fudge) return { error: TsigErr.BADTIME, key, record: rec };
  return { error: 0, key, record: rec };
}

/** RFC 8945 §5.3.1: a client accepts at most 99 unsigned messages in a row. */
const MAX_UNSIGNED_RUN = 99;

/**
 * Verifies the messages of a signed multi-message reply (AXFR/IXFR) in order: the first
 * against the request's MAC with all variables, each later one against the previous MAC with
 * the timers only, unsigned messages in between folded into the next MAC (RFC 8945 §5.3.1).
 */
export class TsigStreamVerifier {
  private prior: Uint8Array;
  private first = true;
  private readonly unsigned: Uint8Array[] = [];
  /** Messages verified so far. */
  count = 0;

  constructor(private readonly key: TsigKey, requestMac: Uint8Array, private readonly now: () => number) {
    this.prior = requestMac;
  }

  /**
   * Checks the next message. Returns undefined when it is acceptable, else a reason: wrong or
   * missing MAC, error in the TSIG, or too many unsigned messages. `last` = the stream ends here
   * (the last message must be signed).
   */
  check(msg: Uint8Array, last: boolean): string | undefined {
    let rec: TsigRecord | undefined;
    try {
      rec = findTsig(msg);
    } catch (e) {
      return (e as Error).message;
    }
    if (rec === undefined) {
      if (this.first) return 'the first message is not signed';
      if (last) return 'the last message is not signed';
      if (this.unsigned.length >= MAX_UNSIGNED_RUN) return `more than ${MAX_UNSIGNED_RUN} unsigned messages in a row`;
      this.unsigned.push(Uint8Array.from(msg));
      return undefined;
    }
    if (rec.error !== 0) return `TSIG error ${tsigErrorText(rec.error)} from the server`;
    const v = verifyMessage(msg, msg.length, rec, this.key, {
      now: this.now(), priorMac: this.prior, timersOnly: !this.first, unsignedBefore: this.unsigned,
    });
    if (v.error !== 0) return `TSIG ${tsigErrorText(v.error)} on message ${this.count + this.unsigned.length + 1}`;
    this.unsigned.length = 0;
    this.prior = rec.mac;
    this.first = false;
    this.count++;
    return undefined;
  }
}

/**
 * Signs the messages of a multi-message reply in order (RFC 8945 §5.3.1): every message is
 * signed (as BIND and Knot do), the first with the request's MAC and all variables, the next
 * ones with the previous MAC and the timers.
 */
export class TsigStreamSigner {
  private prior: Uint8Array | undefined;
  private first = true;

  constructor(private readonly key: TsigKey, requestMac: Uint8Array | undefined, private readonly now: () => number) {
    this.prior = requestMac;
  }

  /** Signature record for `msg[0..len)` (the caller appends it and adds 1 to ARCOUNT). */
  sign(msg: Uint8Array, len: number): Uint8Array {
    const { record, mac } = signature(msg, len, this.key, { timeSigned: this.now(), priorMac: this.prior, timersOnly: !this.first });
    this.prior = mac;
    this.first = false;
    return record;
  }
}

export function tsigErrorText(e: number): string {
  switch (e) {
    case TsigErr.BADSIG: return 'BADSIG';
    case TsigErr.BADKEY: return 'BADKEY';
    case TsigErr.BADTIME: return 'BADTIME';
    case TsigErr.BADTRUNC: return 'BADTRUNC';
    default: return String(e);
  }
}

/** Seconds since the epoch from a millisecond clock. */
export function epochSeconds(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}
