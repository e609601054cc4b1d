/**
 * Denial-of-existence proofs: NSEC (RFC 4035 §5.4, RFC 6840 §4) and NSEC3 (RFC 5155 §8), for
 * NXDOMAIN, NODATA (plain, empty non-terminal, wildcard), wildcard answers and "no DS here".
 *
 * Invariants: the records given have already been verified as signed by the zone's keys (the
 * caller does it); proofs only reason about names and bitmaps. NSEC3 hashes are charged to the
 * query's Budget (CVE-2023-50868) and memoised per proof; NSEC3 sets whose iterations exceed the
 * limit make the result insecure, as Unbound does (RFC 9276 §3.2). Where Unbound returns insecure
 * for opt-out spans (NXDOMAIN or wildcard next closer covered by an opt-out NSEC3, DS absence
 * under opt-out) so do we.
 */
import { createHash } from 'node:crypto';
import { EdeCode } from '../../wire/constants.js';
import type { Name } from '../../wire/name.js';
import type { ResourceRecord } from '../../wire/record.js';
import { fromBase32Hex } from '../../wire/rdata/text.js';
import { RRType, type NSEC3Data, type NSECData } from '../../wire/types.js';
import { compareBytes } from '../canonical.js';
import type { Budget } from './verify.js';

export type ProofResult =
  | { status: 'secure' }
  | { status: 'insecure'; why: string; ede?: number }
  | { status: 'bogus'; ede: number; why: string };

const SECURE: ProofResult = { status: 'secure' };

function bogus(why: string, ede: number = EdeCode.NSEC_MISSING): ProofResult {
  return { status: 'bogus', ede, why };
}

function has(types: readonly number[], t: number): boolean {
  for (const x of types) if (x === t) return true;
  return false;
}

// ---- NSEC -----------------------------------------------------------------------------------

/** True when the NSEC at `owner` with next `next` covers `name` (owner < name < next, with the wrap at the end). */
export function nsecCovers(owner: Name, next: Name, name: Name): boolean {
  const a = owner.compare(name);
  if (a >= 0) {
    // Only the last NSEC (next <= owner) covers names before its owner, and only those before next.
    return next.compare(owner) <= 0 && name.compare(next) < 0 && a !== 0;
  }
  const last = next.compare(owner) <= 0;
  return last || name.compare(next) < 0;
}

/** The longest common ancestor of two names. */
function commonAncestor(a: Name, b: Name): Name {
  let x = a;
  let y = b;
  while (x.labelCount > y.labelCount) x = x.parent();
  while (y.labelCount > x.labelCount) y = y.parent();
  while (!x.equals(y)) {
    x = x.parent();
    y = y.parent();
  }
  return x;
}

/**
 * RFC 6840 §4.1: an NSEC from the parent side of a delegation (NS without SOA) says nothing
 * about names below the cut; one with DNAME says nothing about names below it (RFC 6672 §5.3.4.1).
 */
function usableFor(nsec: ResourceRecord<NSECData>, name: Name): boolean {
  const t = nsec.data.types;
  if (name.isSubdomainOf(nsec.name) && !name.equals(nsec.name)) {
    if (has(t, RRType.NS) && !has(t, RRType.SOA)) return false;
    if (has(t, RRType.DNAME)) return false;
  }
  return true;
}

function nsecCovering(nsecs: readonly ResourceRecord<NSECData>[], name: Name): ResourceRecord<NSECData> | undefined {
  for (const n of nsecs) if (nsecCovers(n.name, n.data.nextDomainName, name) && usableFor(n, name)) return n;
  return undefined;
}

function nsecAt(nsecs: readonly ResourceRecord<NSECData>[], name: Name): ResourceRecord<NSECData> | undefined {
  for (const n of nsecs) if (n.name.equals(name)) return n;
  return undefined;
}

/** The closest encloser a covering NSEC implies for `qname` (RFC 4035 §5.4); also used by aggressive NSEC (RFC 8198). */
export function nsecClosestEncloser(nsec: ResourceRecord<NSECData>, qname: Name): Name {
  const a = commonAncestor(nsec.name, qname);
  const b = commonAncestor(nsec.data.nextDomainName, qname);
  return a.labelCount >= b.labelCount ? a : b;
}

function nodataBitmapOk(types: readonly number[], qtype: number): boolean {
  return !has(types, qtype) && !has(types, RRType.CNAME);
}

/** NSEC proofs for `qname`/`qtype` in the zone `zone`. */
export function nsecProof(kind: 'nxdomain' | 'nodata', qname: Name, qtype: number, records: readonly ResourceRecord[]): ProofResult {
  const nsecs = records.filter((r) => r.type === RRType.NSEC) as ResourceRecord<NSECData>[];
  if (nsecs.length === 0) return bogus('no NSEC records');
  if (kind === 'nxdomain') {
    const cover = nsecCovering(nsecs, qname);
    if (cover === undefined) return bogus(`no NSEC proves ${qname.toString()} does not exist`);
    const ce = nsecClosestEncloser(cover, qname);
    const wc = ce.prepend('*');
    if (nsecCovering(nsecs, wc) === undefined) return bogus(`no NSEC proves ${wc.toString()} does not exist`);
    return SECURE;
  }
  const at = nsecAt(nsecs, qname);
  if (at !== undefined) {
    const t = at.data.types;
    if (!nodataBitmapOk(t, qtype)) return bogus(`NSEC at ${qname.toString()} lists the type`, EdeCode.DNSSEC_BOGUS);
    if (qtype === RRType.DS) {
      // The child's apex NSEC cannot deny the parent's DS (RFC 4035 §5.4), except at the root.
      if (has(t, RRType.SOA) && !qname.isRoot) return bogus('DS denied by the child zone', EdeCode.DNSSEC_BOGUS);
    } else if (has(t, RRType.NS) && !has(t, RRType.SOA)) {
      return bogus('NODATA proven only by the parent side of a delegation', EdeCode.DNSSEC_BOGUS);
    }
    return SECURE;
  }
  const cover = nsecCovering(nsecs, qname);
  if (cover === undefined) return bogus(`no NSEC for ${qname.toString()}`);
  // Empty non-terminal: the next name is below qname (RFC 4035 §3.1.3.2 via §5.4).
  if (cover.data.nextDomainName.isSubdomainOf(qname) && !cover.data.nextDomainName.equals(qname)) return SECURE;
  // Wildcard NODATA: qname does not exist, the wildcard at its closest encloser does, without the type.
  const ce = nsecClosestEncloser(cover, qname);
  const wcNsec = nsecAt(nsecs, ce.prepend('*'));
  if (wcNsec !== undefined && nodataBitmapOk(wcNsec.data.types, qtype)) return SECURE;
  return bogus(`no NSEC proves NODATA for ${qname.toString()}`);
}

/** A wildcard answer: the next closer name (qname cut to one label below the wildcard's parent) must be denied. */
export function nsecWildcardAnswer(qname: Name, wildcard: Name, records: readonly ResourceRecord[]): ProofResult {
  const nsecs = records.filter((r) => r.type === RRType.NSEC) as ResourceRecord<NSECData>[];
  if (nsecs.length === 0) return bogus('wildcard answer without NSEC proof');
  const nextCloser = qname.suffix(wildcard.labelCount);
  return nsecCovering(nsecs, nextCloser) !== undefined ? SECURE : bogus(`no NSEC denies ${nextCloser.toString()}`);
}

/**
 * What the parent zone's NSEC says about a DS at `name`: a delegation without DS (insecure),
 * no delegation at all (not a zone cut), or nothing provable.
 */
export function nsecNoDs(name: Name, records: readonly ResourceRecord[]): 'insecure' | 'not-cut' | 'bogus' | 'nxdomain' {
  const nsecs = records.filter((r) => r.type === RRType.NSEC) as ResourceRecord<NSECData>[];
  const at = nsecAt(nsecs, name);
  if (at !== undefined) {
    const t = at.data.types;
    if (has(t, RRType.DS) || has(t, RRType.CNAME)) return 'bogus';
    if (has(t, RRType.SOA) && !name.isRoot) return 'bogus';
    return has(t, RRType.NS) ? 'insecure' : 'not-cut';
  }
  const cover = nsecCovering(nsecs, name);
  if (cover === undefined) return 'bogus';
  if (cover.data.nextDomainName.isSubdomainOf(name)) return 'not-cut';
  return 'nxdomain';
}

// ---- NSEC3 ----------------------------------------------------------------------------------

interface N3 {
  rr: ResourceRecord<NSEC3Data>;
  hash: Uint8Array;
}

/** The NSEC3 records of one zone with one parameter set, and a memoised, budgeted hasher. */
export class Nsec3Set {
  private readonly memo = new Map<string, Uint8Array | null>();
  readonly list: N3[] = [];
  zone: Name | undefined = undefined;
  iterations = 0;
  private salt: Uint8Array = new Uint8Array(0);

  constructor(records: readonly ResourceRecord[], private readonly budget: Budget) {
    for (const r of records) {
      if (r.type !== RRType.NSEC3) continue;
      const d = r.data as NSEC3Data;
      // RFC 5155 §8.1/§8.2: unknown hash algorithms and unknown flags are ignored.
      if (d.hashAlgorithm !== 1 || (d.flags & 0xfe) !== 0 || r.name.labelCount === 0) continue;
      const zone = r.name.parent();
      if (this.zone === undefined) {
        this.zone = zone;
        this.iterations = d.iterations;
        this.salt = d.salt;
      } else if (!zone.equals(this.zone) || d.iterations !== this.iterations || compareBytes(d.salt, this.salt) !== 0) {
        continue;
      }
      let hash: Uint8Array;
      try {
        hash = fromBase32Hex(Buffer.from(r.name.label(0)).toString('latin1'), 'NSEC3 owner');
      } catch {
        continue;
      }
      if (hash.length !== 20) continue;
      this.list.push({ rr: r as ResourceRecord<NSEC3Data>, hash });
    }
  }

  /** SHA-1 NSEC3 hash of `name`, or null when the budget is spent. */
  hash(name: Name): Uint8Array | null {
    const k = name.key;
    const m = this.memo.get(k);
    if (m !== undefined) return m;
    if (this.budget.nsec3 <= 0) {
      this.budget.exhausted = `more than ${this.budget.limits.maxNsec3Hashes} NSEC3 hashes for one query`;
      this.memo.set(k, null);
      return null;
    }
    this.budget.nsec3--;
    let x = createHash('sha1').update(name.toLowerCase().wire).update(this.salt).digest();
    for (let i = 0; i < this.iterations; i++) x = createHash('sha1').update(x).update(this.salt).digest();
    const h = new Uint8Array(x);
    this.memo.set(k, h);
    return h;
  }

  match(name: Name): N3 | undefined | null {
    const h = this.hash(name);
    if (h === null) return null;
    for (const n of this.list) if (compareBytes(n.hash, h) === 0) return n;
    return undefined;
  }

  cover(name: Name): N3 | undefined | null {
    const h = this.hash(name);
    if (h === null) return null;
    for (const n of this.list) {
      const next = n.rr.data.nextHashedOwnerName;
      const a = compareBytes(n.hash, h);
      const b = compareBytes(h, next);
      if (compareBytes(next, n.hash) <= 0) {
        if (a < 0 || b < 0) return n; // the last NSEC3 of the chain wraps around
      } else if (a < 0 && b < 0) return n;
    }
    return undefined;
  }
}

const optOut = (n: N3): boolean => (n.rr.data.flags & 1) !== 0;

type Ce = { ce: Name; nc: Name | undefined; ceRec: N3; ncCover: N3 | undefined } | ProofResult;

/**
 * RFC 5155 §8.3: the closest provable encloser of `qname` and the NSEC3 covering its next closer name.
 * Searched from the zone apex down rather than from qname up: the first covered name ends the
 * walk, so a 120-label query under a shallow closest encloser costs a few hashes rather than one
 * per label (CVE-2023-50868: each label is a hash of up to 151 SHA-1 rounds). Ancestors that are
 * neither matched nor covered (the proof need not include the apex's NSEC3) are passed over; an
 * existing name is never covered by a genuine NSEC3, so the first covered name's parent is the
 * closest encloser and must be matched. The budget still caps names that really are deep.
 */
function closestEncloser(set: Nsec3Set, qname: Name): Ce {
  const zone = set.zone!;
  if (!qname.isSubdomainOf(zone)) return bogus(`no NSEC3 matches an ancestor of ${qname.toString()}`);
  // The apex and the names between it and qname, apex first (no hashing yet).
  const path: Name[] = [];
  for (let s = qname; ; s = s.parent()) {
    path.push(s);
    if (s.equals(zone)) break;
  }
  let ce: Name | undefined;
  let ceRec: N3 | undefined;
  for (let i = path.length - 1; i >= 0; i--) {
    const n = path[i]!;
    const m = set.match(n);
    if (m === null) return bogus('NSEC3 work limit', EdeCode.DNSSEC_BOGUS);
    if (m !== undefined) {
      ce = n;
      ceRec = m;
      continue;
    }
    const c = set.cover(n);
    if (c === null) return bogus('NSEC3 work limit', EdeCode.DNSSEC_BOGUS);
    if (c === undefined) continue;
    // n does not exist: its parent must be the matched closest encloser, n the next closer name.
    if (ce === undefined || ceRec === undefined || !ce.equals(path[i + 1]!)) return bogus(`no NSEC3 matches the parent of ${n.toString()}`);
    const t = ceRec.rr.data.types;
    // The closest encloser must not be a delegation or a DNAME (RFC 5155 §8.3).
    if ((has(t, RRType.NS) && !has(t, RRType.SOA)) || has(t, RRType.DNAME)) {
      return bogus('closest encloser is a delegation or DNAME', EdeCode.DNSSEC_BOGUS);
    }
    return { ce, nc: n, ceRec, ncCover: c };
  }
  if (ce !== undefined && ceRec !== undefined && ce.equals(qname)) return { ce: qname, nc: undefined, ceRec, ncCover: undefined };
  return bogus(`no NSEC3 covers a name between ${zone.toString()} and ${qname.toString()}`);
}

function isProof(x: Ce): x is ProofResult {
  return (x as ProofResult).status !== undefined;
}

function nsec3Prelude(records: readonly ResourceRecord[], budget: Budget): Nsec3Set | ProofResult {
  const set = new Nsec3Set(records, budget);
  if (set.list.length === 0) {
    return records.some((r) => r.type === RRType.NSEC3)
      ? { status: 'insecure', why: 'NSEC3 with unknown hash algorithm or flags' }
      : bogus('no NSEC3 records');
  }
  if (set.iterations > budget.limits.maxNsec3Iterations) {
    return { status: 'insecure', why: `NSEC3 iterations ${set.iterations} above ${budget.limits.maxNsec3Iterations}`, ede: EdeCode.UNSUPPORTED_NSEC3_ITERATIONS };
  }
  return set;
}

/** NSEC3 proofs of NXDOMAIN / NODATA for qname/qtype. */
export function nsec3Proof(kind: 'nxdomain' | 'nodata', qname: Name, qtype: number, records: readonly ResourceRecord[], budget: Budget): ProofResult {
  const set = nsec3Prelude(records, budget);
  if (!(set instanceof Nsec3Set)) return set;
  if (kind === 'nodata') {
    const m = set.match(qname);
    if (m === null) return bogus('NSEC3 work limit', EdeCode.DNSSEC_BOGUS);
    if (m !== undefined) {
      const t = m.rr.data.types;
      if (!nodataBitmapOk(t, qtype)) return bogus(`NSEC3 for ${qname.toString()} lists the type`, EdeCode.DNSSEC_BOGUS);
      if (qtype === RRType.DS) {
        if (has(t, RRType.SOA) && !qname.isRoot) return bogus('DS denied by the child zone', EdeCode.DNSSEC_BOGUS);
      } else if (has(t, RRType.NS) && !has(t, RRType.SOA)) {
        return bogus('NODATA proven only by the parent side of a delegation', EdeCode.DNSSEC_BOGUS);
      }
      return SECURE;
    }
    const ce = closestEncloser(set, qname);
    if (isProof(ce)) return ce;
    // Wildcard NODATA (RFC 5155 §8.7): the wildcard at the closest encloser matches, without the type.
    const wm = set.match(ce.ce.prepend('*'));
    if (wm === null) return bogus('NSEC3 work limit', EdeCode.DNSSEC_BOGUS);
    if (wm !== undefined) return nodataBitmapOk(wm.rr.data.types, qtype) ? SECURE : bogus('wildcard NSEC3 lists the type', EdeCode.DNSSEC_BOGUS);
    // DS under opt-out (RFC 5155 §8.6): an insecure delegation may hide in the span.
    if (qtype === RRType.DS && ce.ncCover !== undefined && optOut(ce.ncCover)) return { status: 'insecure', why: 'DS absence under NSEC3 opt-out' };
    return bogus(`no NSEC3 proves NODATA for ${qname.toString()}`);
  }
  const m = set.match(qname);
  if (m === null) return bogus('NSEC3 work limit', EdeCode.DNSSEC_BOGUS);
  if (m !== undefined) return bogus(`NSEC3 shows ${qname.toString()} exists`, EdeCode.DNSSEC_BOGUS);
  const ce = closestEncloser(set, qname);
  if (isProof(ce)) return ce;
  const wc = set.cover(ce.ce.prepend('*'));
  if (wc === null) return bogus('NSEC3 work limit', EdeCode.DNSSEC_BOGUS);
  if (wc === undefined) return bogus(`no NSEC3 denies the wildcard *.${ce.ce.toString()}`);
  if (ce.ncCover !== undefined && optOut(ce.ncCover)) return { status: 'insecure', why: 'NXDOMAIN under NSEC3 opt-out' };
  return SECURE;
}

/** RFC 5155 §8.8: a wildcard answer needs the next closer name covered. */
export function nsec3WildcardAnswer(qname: Name, wildcard: Name, records: readonly ResourceRecord[], budget: Budget): ProofResult {
  const set = nsec3Prelude(records, budget);
  if (!(set instanceof Nsec3Set)) return set;
  const nextCloser = qname.suffix(wildcard.labelCount);
  const c = set.cover(nextCloser);
  if (c === null) return bogus('NSEC3 work limit', EdeCode.DNSSEC_BOGUS);
  if (c === undefined) return bogus(`no NSEC3 denies ${nextCloser.toString()}`);
  if (optOut(c)) return { status: 'insecure', why: 'wildcard next closer under NSEC3 opt-out' };
  return SECURE;
}

/** What the parent's NSEC3 says about a DS at `name` (as nsecNoDs). */
export function nsec3NoDs(name: Name, records: readonly ResourceRecord[], budget: Budget): 'insecure' | 'not-cut' | 'bogus' | 'nxdomain' {
  const set = nsec3Prelude(records, budget);
  if (!(set instanceof Nsec3Set)) return set.status === 'insecure' ? 'insecure' : 'bogus';
  const m = set.match(name);
  if (m === null) return 'bogus';
  if (m !== undefined) {
    const t = m.rr.data.types;
    if (has(t, RRType.DS) || has(t, RRType.CNAME)) return 'bogus';
    if (has(t, RRType.SOA) && !name.isRoot) return 'bogus';
    return has(t, RRType.NS) ? 'insecure' : 'not-cut';
  }
  const ce = closestEncloser(set, name);
  if (isProof(ce)) return 'bogus';
  if (ce.ncCover !== undefined && optOut(ce.ncCover)) return 'insecure';
  return 'nxdomain';
}
