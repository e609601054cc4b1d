/**
 * Reply classification and scrubbing: what one reply from the servers of a zone proves about a
 * question, keeping only records in that zone's bailiwick (the spoofing defence of RFC 5452 §6
 * and Unbound's scrubber). Pure functions over a decoded message: no I/O, no cache.
 *
 * - The answer chain is followed from the query name through CNAMEs and DNAMEs (RFC 6672 §2.2:
 *   the CNAME is synthesised here, never taken from the reply), in bailiwick only; a chain longer
 *   than `maxChain` inside one reply is a ResolutionError (SERVFAIL, as Unbound and BIND answer).
 * - A referral is NS records for a cut strictly below the zone, at or above the name; upward or
 *   sideways referrals, error RCODEs, TC and empty non-authoritative replies are `lame`.
 */
import { ResolutionError } from '../errors.js';
import { EdeCode, Rcode } from '../wire/constants.js';
import type { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRClass, RRType } from '../wire/types.js';
import type { ResolverStats } from './stats.js';

const NS = RRType.NS;
const CNAME = RRType.CNAME;
const DNAME = RRType.DNAME;
const SOA = RRType.SOA;

/** DNSSEC records of a reply (kept only by the validating resolver, which asks with DO=1). */
export interface DnssecParts {
  sigs: ResourceRecord[];
  proof: ResourceRecord[];
}

/** What a reply says about the question. `sec`: RRSIGs of the answer and the authority's NSEC/NSEC3 proof (validating resolver, DO=1 upstream). */
export type Classified =
  | { kind: 'answer'; chain: ResourceRecord[]; tail: Name; final: ResourceRecord[]; sec?: DnssecParts }
  | { kind: 'cname'; chain: ResourceRecord[]; tail: Name; sec?: DnssecParts }
  | { kind: 'nxdomain'; chain: ResourceRecord[]; tail: Name; soa: ResourceRecord | undefined; sec?: DnssecParts }
  | { kind: 'nodata'; chain: ResourceRecord[]; tail: Name; soa: ResourceRecord | undefined; sec?: DnssecParts }
  | { kind: 'referral'; cut: Name; ns: ResourceRecord[] }
  | { kind: 'lame'; why: string };

/** Groups records into RRsets (same owner, type, class), first-seen order. */
export function groupRRsets(rrs: readonly ResourceRecord[]): ResourceRecord[][] {
  const sets = new Map<string, ResourceRecord[]>();
  for (const rr of rrs) {
    const k = rr.name.key + '/' + rr.type + '/' + rr.class;
    const s = sets.get(k);
    if (s === undefined) sets.set(k, [rr]);
    else s.push(rr);
  }
  return [...sets.values()];
}

/** True when `name` is inside zone `zone` (at or below it): the bailiwick rule. */
export function inBailiwick(name: Name, zone: Name): boolean {
  return name.isSubdomainOf(zone);
}

/** The name DNAME `d` (owner strictly above `name`) maps `name` to (RFC 6672 §2.2), or undefined if too long. */
export function dnameSubstitute(name: Name, owner: Name, target: Name): Name | undefined {
  const prefixLabels = name.labelCount - owner.labelCount;
  const prefix = name.wire.subarray(0, name.wire.length - owner.wire.length);
  if (prefix.length + target.wire.length > 255 || prefixLabels <= 0) return undefined;
  const out = new Uint8Array(prefix.length + target.wire.length);
  out.set(prefix, 0);
  out.set(target.wire, prefix.length);
  return new Name(out);
}

/** CNAMEs we synthesised from a DNAME: returned to clients, never cached (the DNAME is). */
export const synthesised = new WeakSet<ResourceRecord>();

export function synthesise(owner: Name, dname: ResourceRecord, target: Name): ResourceRecord {
  const r: ResourceRecord = { name: owner, type: CNAME, class: dname.class, ttl: dname.ttl, data: { cname: target } };
  synthesised.add(r);
  return r;
}

/**
 * What a reply from the servers of `zone` says about (qn, qt), keeping only records in the
 * zone's bailiwick.
 */
export function classify(m: Message, zone: Name, qn: Name, qt: number, qclass: number, maxChain: number, stats: ResolverStats): Classified {
  if (!m.qr) return { kind: 'lame', why: 'reply without QR' };
  if (m.rcode !== Rcode.NOERROR && m.rcode !== Rcode.NXDOMAIN) return { kind: 'lame', why: `rcode ${m.rcode}` };
  if (m.tc) return { kind: 'lame', why: 'truncated reply' };
  // Follow the answer chain from qn, in bailiwick only.
  const chain: ResourceRecord[] = [];
  let tail = qn;
  let final: ResourceRecord[] = [];
  const seen = new Set<string>([qn.key]);
  let links = 0;
  for (; links <= maxChain; links++) {
    final = [];
    for (const r of m.answer) {
      if (r.class !== qclass && qclass !== RRClass.ANY) continue;
      if (r.name.equals(tail) && (r.type === qt || (qt === RRType.ANY && r.type !== CNAME))) final.push(r);
    }
    if (final.length > 0 || qt === CNAME) break;
    let next: Name | undefined;
    // DNAME above the name (RFC 6672 §2.2): synthesise the CNAME ourselves (the server's own
    // synthesised CNAME, if any, is not needed).
    for (const r of m.answer) {
      if (r.type === DNAME && tail.labelCount > r.name.labelCount && tail.isSubdomainOf(r.name) && inBailiwick(r.name, zone)) {
        const target = dnameSubstitute(tail, r.name, (r.data as { target: Name }).target);
        if (target === undefined) break; // RFC 6672 §2.2: the result would be too long
        chain.push(r);
        chain.push(synthesise(tail, r, target));
        next = target;
        break;
      }
    }
    if (next === undefined) {
      for (const r of m.answer) {
        if (r.type === CNAME && r.name.equals(tail)) {
          if (!inBailiwick(r.name, zone)) break;
          chain.push(r);
          next = (r.data as { cname: Name }).cname;
        }
      }
    }
    if (next === undefined) break;
    // A loop inside the reply: hand the repeated name back; resolveName reports the loop.
    if (seen.has(next.key)) return { kind: 'cname', chain, tail: next };
    seen.add(next.key);
    tail = next;
    // Data for the new name counts only when it is also inside this zone.
    if (!inBailiwick(tail, zone)) return { kind: 'cname', chain, tail };
  }
  if (links > maxChain) {
    // The chain inside this one reply is longer than we follow: SERVFAIL, as Unbound and BIND
    // answer (never a NOERROR with part of the chain and no data).
    stats.limitHits++;
    throw new ResolutionError(`CNAME/DNAME chain from ${qn.toString()} longer than ${maxChain}`, EdeCode.OTHER);
  }
  if (final.length > 0) {
    if (!inBailiwick(tail, zone)) return { kind: 'cname', chain, tail };
    return { kind: 'answer', chain, tail, final };
  }
  const soa = findSoa(m, zone, tail);
  if (m.rcode === Rcode.NXDOMAIN) {
    if (!m.aa && soa === undefined) return { kind: 'lame', why: 'NXDOMAIN without AA or SOA' };
    return { kind: 'nxdomain', chain, tail, soa };
  }
  if (chain.length === 0 && m.answer.length === 0) {
    // A referral: NS records for a cut strictly below the zone, at or above the name.
    let cut: Name | undefined;
    const ns: ResourceRecord[] = [];
    for (const r of m.authority) {
      if (r.type !== NS) continue;
      if (cut === undefined) {
        if (r.name.labelCount > zone.labelCount && inBailiwick(r.name, zone) && tail.isSubdomainOf(r.name)) cut = r.name;
        else continue;
      }
      if (r.name.equals(cut)) ns.push(r);
    }
    if (cut !== undefined && soa === undefined) return { kind: 'referral', cut, ns };
    if (soa === undefined && !m.aa) {
      const up = m.authority.some((r) => r.type === NS);
      return { kind: 'lame', why: up ? 'upward or sideways referral' : 'empty non-authoritative reply' };
    }
    return { kind: 'nodata', chain, tail, soa };
  }
  if (chain.length > 0) {
    // The chain ends inside the zone without data: negative for the tail if the server says so.
    if (m.aa || soa !== undefined) return { kind: 'nodata', chain, tail, soa };
    return { kind: 'cname', chain, tail };
  }
  if (m.aa || soa !== undefined) return { kind: 'nodata', chain, tail, soa };
  return { kind: 'lame', why: 'answer section without the asked data' };
}

/** The SOA in the authority section that can speak for `name`: owner in the zone, at or above the name. */
function findSoa(m: Message, zone: Name, name: Name): ResourceRecord | undefined {
  for (const r of m.authority) {
    if (r.type === SOA && inBailiwick(r.name, zone) && name.isSubdomainOf(r.name)) return r;
  }
  return undefined;
}
