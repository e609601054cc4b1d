/**
 * RDATA from a DNS message straight to the zone's stored form (message form, names
 * uncompressed, case kept: what ZoneStore keeps), with no decoded object per record: the
 * inbound AXFR path (src/transfer/axfr-in.ts) builds a zone from the wire with it.
 *
 * Each type's layout (a "plan") is derived from THE type table's fields (src/wire/types.ts):
 * fixed-size integers and addresses are copied, names are decompressed (RFC 1035 §4.1.4; a
 * receiver follows pointers in any type's names, as Reader.name does), character-strings are
 * length-checked and copied, opaque rest-of-RDATA fields copied. A type with any other field
 * kind, or with a hand-written decoder that checks more than its fields (LOC, HIP), has no plan:
 * the caller decodes it with decodeRData and stores that (the old path, one record at a time).
 *
 * Invariants: for every input a plan takes, the bytes are exactly what storing decodeRData's
 * result would give with names written whole, and an input decodeRData would refuse is refused
 * here (-1): the caller then runs decodeRData to get its WireFormatError, so errors stay the
 * table's. Pointers are followed only backwards (strictly below every offset already visited),
 * at most 127 hops, names at most 255 octets: Reader.name's rules.
 */
import { MAX_NAME_LENGTH } from '../wire/name.js';
import { RRType, typeDef } from '../wire/types.js';

/** Plan ops: > 0 a fixed field of that many octets; else one of these. */
const OP_NAME = -1;
const OP_CSTR = -2;
const OP_CSTRS = -3;
const OP_REST = -4;

const FIXED_KINDS: Record<string, number> = {
  u8: 1, u16: 2, u32: 4, u48: 6, ttl: 4, type: 2, rrsigTime: 4, ipv4: 4, ipv6: 16, protocol: 1, eui48: 6, eui64: 8,
};
const OTHER_KINDS: Record<string, number> = { name: OP_NAME, charString: OP_CSTR, charStrings: OP_CSTRS, base64Rest: OP_REST, hexRest: OP_REST };

/**
 * Types whose FastCodec decode is bound by its contract (types.ts FastCodec) to behave as the
 * fields' walk: their plan is the fields'. Other hand-written decoders (LOC checks ranges, HIP's
 * wire is not its fields in order) get no plan.
 */
const FIELD_DECODERS = new Set<number>([RRType.A, RRType.NS, RRType.CNAME, RRType.PTR, RRType.MX, RRType.AAAA]);

/** A type's layout for storeWire/storedEqual; `names` says it has name fields. */
export interface WirePlan {
  readonly ops: Int32Array;
  readonly names: boolean;
  /** storedEqual under this plan (made once per type, for ZoneStore.addStored). */
  readonly equals: (stored: Uint8Array, src: Uint8Array, len: number) => boolean;
}

/** Plans by type code (null: none), made on first use from the table, which does not change. */
const smallPlans: (WirePlan | null | undefined)[] = new Array<WirePlan | null | undefined>(256).fill(undefined);
const plans = new Map<number, WirePlan | null>();

/**
 * The plan of `type`, or undefined when the type goes the decoding way (no table entry: RFC
 * 3597 opaque data is stored as received, but unknown types are rare enough to share the
 * generic path; or a field kind this module does not walk).
 */
export function wirePlan(type: number): WirePlan | undefined {
  let p = type < 256 ? smallPlans[type] : plans.get(type);
  if (p === undefined) {
    p = makePlan(type);
    if (type < 256) smallPlans[type] = p;
    else plans.set(type, p);
  }
  return p ?? undefined;
}

function makePlan(type: number): WirePlan | null {
  const def = typeDef(type);
  if (def === undefined || (def.ownDecode && !FIELD_DECODERS.has(type))) return null;
  const ops: number[] = [];
  let names = 0;
  for (const f of def.fields) {
    const op = FIXED_KINDS[f.kind] ?? OTHER_KINDS[f.kind];
    if (op === undefined) return null;
    if (op === OP_NAME) names++;
    ops.push(op);
  }
  // The output buffer holds RDATA (< 64 KiB) grown by its names' decompression.
  if (names > MAX_PLAN_NAMES) return null;
  const plan: WirePlan = {
    ops: Int32Array.from(ops), names: names > 0, equals: (stored, src, len) => storedEqual(plan, stored, src, len),
  };
  return plan;
}

const MAX_PLAN_NAMES = 8;
/** Largest stored form a plan can produce: RDLENGTH plus every name expanded. */
export const MAX_STORED = 0xffff + MAX_PLAN_NAMES * (MAX_NAME_LENGTH + 1);
const MAX_POINTER_HOPS = 127;

/** Message offset just after the in-place part of the name readName last read. */
let nameEnd = 0;

/**
 * Reads the possibly compressed name at `msg[start]` (its in-place part ending by `limit`,
 * pointers reaching anywhere before it in the message) into `out[o..]` uncompressed: the new
 * end in `out`, or -1 when Reader.name would refuse it. Sets nameEnd.
 */
export function readName(msg: Uint8Array, start: number, limit: number, out: Uint8Array, o: number): number {
  let p = start;
  let lim = limit;
  let w = 0;
  let hops = 0;
  let after = -1;
  let lowest = start;
  for (;;) {
    if (p >= lim) return -1;
    const len = msg[p]!;
    if (len === 0) {
      out[o + w] = 0;
      w++;
      p++;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (p + 2 > lim) return -1;
      const target = ((len & 0x3f) << 8) | msg[p + 1]!;
      if (target >= lowest || ++hops > MAX_POINTER_HOPS) return -1;
      if (after < 0) after = p + 2;
      lowest = target;
      p = target;
      lim = msg.length;
      continue;
    }
    if (kind !== 0 || p + 1 + len > lim || w + len + 2 > MAX_NAME_LENGTH) return -1;
    const d = o + w;
    out[d] = len;
    for (let k = 1; k <= len; k++) out[d + k] = msg[p + k]!;
    w += len + 1;
    p += len + 1;
  }
  nameEnd = after < 0 ? p : after;
  return o + w;
}

/** The message offset after the last name readName read (see there). */
export function lastNameEnd(): number {
  return nameEnd;
}

/**
 * Writes RDATA `msg[pos..end)` of a type with plan `plan` into `out` in stored form; returns
 * its length, or -1 when decodeRData would refuse it (see the module comment). `out` holds at
 * least MAX_STORED octets.
 */
export function storeWire(msg: Uint8Array, pos: number, end: number, plan: WirePlan, out: Uint8Array): number {
  const ops = plan.ops;
  let p = pos;
  let o = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    let n: number;
    if (op > 0) {
      n = op;
      if (p + n > end) return -1;
    } else if (op === OP_NAME) {
      const e = readName(msg, p, end, out, o);
      if (e < 0) return -1;
      o = e;
      p = nameEnd;
      continue;
    } else if (op === OP_REST) {
      n = end - p;
    } else {
      // One character-string, or (the rest of the RDATA) one or more.
      const q = p;
      do {
        if (p >= end || p + 1 + msg[p]! > end) return -1;
        p += 1 + msg[p]!;
      } while (op === OP_CSTRS && p < end);
      n = p - q;
      p = q;
    }
    if (n <= 64) {
      for (let k = 0; k < n; k++) out[o + k] = msg[p + k]!;
    } else {
      out.set(msg.subarray(p, p + n), o);
    }
    o += n;
    p += n;
  }
  return p === end ? o : -1;
}

/**
 * rdataEquals() on two stored forms written by storeWire under `plan`: names compare without
 * ASCII case (RFC 4343), everything else exactly. `b` is `b[0..bLen)`.
 */
export function storedEqual(plan: WirePlan, a: Uint8Array, b: Uint8Array, bLen: number): boolean {
  if (a.length !== bLen) return false;
  if (!plan.names) {
    for (let i = 0; i < bLen; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  const ops = plan.ops;
  let p = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    let n: number;
    if (op === OP_NAME) {
      for (;;) {
        const len = a[p];
        // (undefined: past the end, which a stored form never is; refused rather than looped on)
        if (len === undefined || len !== b[p]) return false;
        p++;
        if (len === 0) break;
        for (let k = 0; k < len; k++, p++) {
          const x = a[p]!;
          const y = b[p]!;
          if (x !== y && ((x | 0x20) !== (y | 0x20) || (x | 0x20) < 0x61 || (x | 0x20) > 0x7a)) return false;
        }
      }
      continue;
    }
    if (op > 0) {
      n = op;
    } else if (op === OP_REST) {
      n = bLen - p;
    } else {
      let q = p;
      do q += 1 + a[q]!;
      while (op === OP_CSTRS && q < bLen);
      n = q - p;
    }
    for (let k = 0; k < n; k++, p++) if (a[p] !== b[p]) return false;
  }
  return true;
}
