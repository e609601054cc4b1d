/**
 * Authoritative answers (RFC 1034 §4.3.2, as NSD and Knot give them) from one zone's lookup:
 * answers with AA, CNAME chains followed inside the zone, DNAME synthesis (RFC 6672 §3.3),
 * wildcard synthesis (RFC 4592), referrals with glue and no AA (in-domain glue marked required,
 * RFC 9471), NXDOMAIN/NODATA with the SOA and the RFC 2308 §3 negative TTL, additional A/AAAA
 * for NS, MX and SRV targets.
 *
 * Invariants: zone RRsets are read-only; records are only created where the owner differs from
 * the zone's (wildcards, synthesized CNAMEs) or to rotate an RRset. CNAME/DNAME chains are
 * capped (MAX_CHAIN) so a looping zone cannot hold a query.
 */
import { Rcode } from '../wire/constants.js';
import type { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRType, type SOAData, additionalTargets } from '../wire/types.js';
import { negativeSoa as negativeSoaRecord } from '../wire/ttl.js';
import type { LookupResult, RRset, Zone, ZoneNode } from '../zone/zone.js';
import type { SignedZone } from './dnssec.js';

/** Longest CNAME/DNAME chain followed inside one answer. */
export const MAX_CHAIN = 16;

export interface AnswerOptions {
  /** Rotate multi-record RRsets (round robin). */
  rotate: boolean;
  /** Answer ANY with every RRset, or with one (RFC 8482 §4.1, what Knot does on UDP and TCP). */
  anyAll: boolean;
  /** Round-robin offset to use (>= 0), or -1 for the zone's next one (Zone.nextRotation). */
  rotation?: number;
  /** The zone's DNSSEC index when it is signed (see SignedZone.build). */
  signed?: SignedZone | undefined;
  /** DO bit (RFC 3225): add RRSIGs and denial proofs (RFC 4035 §3.1); without it none of them. */
  dnssecOk?: boolean;
}

/** `offset` (>= 0) is the round-robin position when `rotate` is set. */
function recordsOf(rrset: RRset, owner: Name | undefined, rotate: boolean, offset = 0): ResourceRecord[] {
  const n = rrset.rdata.length;
  const out: ResourceRecord[] = new Array(n);
  const start = rotate && n > 1 ? offset % n : 0;
  const name = owner ?? rrset.name;
  for (let i = 0; i < n; i++) {
    out[i] = { name, type: rrset.type, class: rrset.class, ttl: rrset.ttl, data: rrset.rdata[(start + i) % n] };
  }
  return out;
}

function pushAll(dst: ResourceRecord[], src: ResourceRecord[]): void {
  for (let i = 0; i < src.length; i++) dst.push(src[i]!);
}

/** The SOA for a negative answer, its TTL min(SOA TTL, MINIMUM) (RFC 2308 §3). */
function negativeSoa(zone: Zone): ResourceRecord[] {
  const soa = zone.getRRset(zone.origin, RRType.SOA);
  if (soa === undefined) return [];
  const data = soa.rdata[0] as SOAData;
  return [negativeSoaRecord({ name: soa.name, type: RRType.SOA, class: soa.class, ttl: soa.ttl, data })];
}

/** Adds A/AAAA records of in-zone targets (RFC 1034 §3.6.2 "additional section processing"), signed with DO. */
function addAdditional(zone: Zone, reply: Message, rrs: readonly ResourceRecord[], seen: Set<string>, dnssec: SignedZone | undefined): void {
  for (const rr of rrs) {
    // Which fields name targets is the type table's fact (NS, MX, SRV: see wire/types.ts).
    const keys = additionalTargets(rr.type);
    for (let k = 0; k < keys.length; k++) {
      const target = (rr.data as Record<string, unknown>)[keys[k]!] as Name;
      if (seen.has(target.key) || !target.isSubdomainOf(zone.origin)) continue;
      seen.add(target.key);
      const node = zone.node(target);
      if (node === undefined) continue;
      for (const type of ADDRESS_TYPES) {
        const set = node.get(type);
        if (set === undefined) continue;
        pushAll(reply.additional, recordsOf(set, undefined, false));
        // Glue below a cut has no RRSIG; authoritative addresses do (RFC 4035 §3.1.1).
        if (dnssec !== undefined) dnssec.pushSigs(reply.additional, node, type, set.name, set.ttl);
      }
    }
  }
}

/**
 * Fills `reply` (already a reply to the query: ID, question, flags copied) with the zone's
 * answer for `qname`/`qtype`. Returns how many different answers round robin gives for this
 * question (the size of the rotated RRset, 1 when nothing rotates).
 */
export function answerFromZone(zone: Zone, reply: Message, qname: Name, qtype: number, opts: AnswerOptions): number {
  reply.aa = true;
  let name = qname;
  const additionalSeen = new Set<string>();
  const signed = opts.signed;
  const dnssec = signed !== undefined && opts.dnssecOk === true ? signed : undefined;
  for (let hop = 0; hop <= MAX_CHAIN; hop++) {
    let r = zone.lookup(name, qtype);
    if (signed !== undefined) r = hideNsec3Owners(signed, zone, r);
    switch (r.kind) {
      case 'answer': {
        // The query's own name keeps the client's case (as Knot answers; compression no longer
        // borrows the question's case), so does a wildcard's synthesized owner (RFC 4592 §3.3.1).
        const owner = r.wildcard !== undefined || name === qname ? name : undefined;
        const fixed = opts.rotation ?? -1;
        const offset = !opts.rotate ? 0 : fixed >= 0 ? fixed : zone.nextRotation();
        let variants = 1;
        if (qtype === RRType.ANY) {
          const sets = r.node.rrsets;
          const chosen = opts.anyAll ? sets : sets.slice(0, 1);
          for (const set of chosen) {
            pushAll(reply.answer, recordsOf(set, owner, opts.rotate, offset));
            if (dnssec !== undefined) dnssec.pushSigs(reply.answer, r.node, set.type, owner ?? set.name, set.ttl);
            if (opts.rotate) variants = Math.max(variants, set.rdata.length);
          }
        } else if (qtype === RRType.RRSIG) {
          pushRrsigs(reply.answer, r.node, r.rrset, owner);
        } else {
          pushAll(reply.answer, recordsOf(r.rrset, owner, opts.rotate, offset));
          if (dnssec !== undefined) dnssec.pushSigs(reply.answer, r.node, r.rrset.type, owner ?? r.rrset.name, r.rrset.ttl);
          if (opts.rotate) variants = r.rrset.rdata.length;
        }
        // RFC 4035 §3.1.3.3: a wildcard expansion comes with the proof that the name itself is absent.
        if (dnssec !== undefined && r.wildcard !== undefined) dnssec.proveWildcardAnswer(reply.authority, name, r.node);
        addAdditional(zone, reply, reply.answer, additionalSeen, dnssec);
        return variants;
      }
      case 'cname': {
        // The query's own name keeps the client's case (as Knot answers; compression no longer
        // borrows the question's case), so does a wildcard's synthesized owner (RFC 4592 §3.3.1).
        const owner = r.wildcard !== undefined || name === qname ? name : undefined;
        const recs = recordsOf(r.rrset, owner, false);
        pushAll(reply.answer, recs);
        if (dnssec !== undefined) {
          dnssec.pushSigs(reply.answer, r.node, RRType.CNAME, owner ?? r.rrset.name, r.rrset.ttl);
          if (r.wildcard !== undefined) dnssec.proveWildcardAnswer(reply.authority, name, r.node);
        }
        const target = (recs[0]!.data as { cname: Name }).cname;
        // Follow only inside this zone, as NSD and Knot do; the resolver takes it from there.
        if (!target.isSubdomainOf(zone.origin)) return 1;
        // A loop ends the chain where it closes, NOERROR with each CNAME once (as Knot does;
        // BIND answers SERVFAIL after its restart limit instead).
        if (visitedBefore(reply.answer, target)) return 1;
        name = target;
        continue;
      }
      case 'dname': {
        pushAll(reply.answer, recordsOf(r.rrset, undefined, false));
        // The synthesized CNAME is unsigned (RFC 6672 §5.3.1): validators check it against the DNAME.
        if (dnssec !== undefined) dnssec.pushSigs(reply.answer, r.node, RRType.DNAME, r.rrset.name, r.rrset.ttl);
        const dname = r.rrset.name;
        const target = (r.rrset.rdata[0] as { target: Name }).target;
        let synthesized: Name;
        try {
          // RFC 6672 §2.2: replace the DNAME owner suffix with the target.
          const prefixLabels = name.labelCount - dname.labelCount;
          const prefix = Name.fromLabels(Array.from({ length: prefixLabels }, (_, i) => name.label(i)));
          synthesized = prefix.concat(target);
        } catch {
          // RFC 6672 §2.2: the result would exceed 255 octets.
          reply.rcode = Rcode.YXDOMAIN;
          return 1;
        }
        reply.answer.push({ name, type: RRType.CNAME, class: r.rrset.class, ttl: r.rrset.ttl, data: { cname: synthesized } });
        if (!synthesized.isSubdomainOf(zone.origin) || visitedBefore(reply.answer, synthesized)) return 1;
        name = synthesized;
        continue;
      }
      case 'referral': {
        // A delegation is not our data: no AA (RFC 1034 §4.3.2 step 3b), unless we already
        // answered part of a CNAME chain with authority.
        reply.aa = reply.answer.length > 0;
        pushAll(reply.authority, recordsOf(r.ns, undefined, false));
        // RFC 4035 §3.1.4: DS and its RRSIG, or the proof there is none, only with DO (RFC 3225 §3).
        if (dnssec !== undefined) dnssec.proveReferral(reply.authority, r.cut);
        addGlue(zone, reply, r.ns);
        return 1;
      }
      case 'nodata':
        pushNegativeSoa(zone, reply.authority, dnssec);
        if (dnssec !== undefined) {
          if (r.wildcard !== undefined) dnssec.proveWildcardNodata(reply.authority, name, r.node);
          else dnssec.proveNodata(reply.authority, name, r.node);
        }
        return 1;
      case 'nxdomain':
        // RFC 6604 §3: the RCODE describes the last name in the chain.
        reply.rcode = Rcode.NXDOMAIN;
        pushNegativeSoa(zone, reply.authority, dnssec);
        if (dnssec !== undefined) dnssec.proveNxdomain(reply.authority, name, r.closestEncloser);
        return 1;
      case 'outside':
        return 1;
    }
  }
  // Chain too long: what we have is all we give (NOERROR with the partial chain).
  return 1;
}

/**
 * The RRSIGs at a name, asked for by type: each at the TTL of the RRset it covers (the zone keeps
 * one TTL for all of them; signers give each the covered RRset's), as BIND answers.
 */
function pushRrsigs(dst: ResourceRecord[], node: ZoneNode, sigs: RRset, owner: Name | undefined): void {
  const data = sigs.rdata;
  const name = owner ?? sigs.name;
  for (let i = 0; i < data.length; i++) {
    const d = data[i] as { typeCovered: number };
    const ttl = node.get(d.typeCovered)?.ttl ?? sigs.ttl;
    dst.push({ name, type: RRType.RRSIG, class: sigs.class, ttl, data: d });
  }
}

/** The negative SOA, and with DO its RRSIGs at the same TTL (RFC 4035 §3.1.3). */
function pushNegativeSoa(zone: Zone, dst: ResourceRecord[], dnssec: SignedZone | undefined): void {
  const soa = negativeSoa(zone);
  pushAll(dst, soa);
  if (dnssec !== undefined && soa.length > 0) dnssec.pushSigs(dst, zone.apex, RRType.SOA, soa[0]!.name, soa[0]!.ttl);
}

/**
 * RFC 5155 §7.2.8: names that only hold NSEC3 records are not part of the zone; a query for one
 * (or below one) gets the answer for a name that does not exist, as BIND and Knot give it.
 */
function hideNsec3Owners(signed: SignedZone, zone: Zone, r: LookupResult): LookupResult {
  let node: ZoneNode | undefined;
  if (r.kind === 'answer' || r.kind === 'nodata' || r.kind === 'cname') node = r.node;
  else if (r.kind === 'nxdomain') node = r.closestEncloser;
  if (node === undefined || !signed.isNsec3Only(node)) return r;
  return { kind: 'nxdomain', closestEncloser: zone.apex };
}

/** True when `name` already owns a CNAME in the answer (the chain would loop). */
function visitedBefore(answer: readonly ResourceRecord[], name: Name): boolean {
  for (let i = 0; i < answer.length; i++) {
    const rr = answer[i]!;
    if (rr.type === RRType.CNAME && rr.name.equals(name)) return true;
  }
  return false;
}

/**
 * Glue for a referral, in two passes as Knot orders it: first the addresses of in-domain name
 * servers (at or below the cut, which only the parent can give), in NS order, A before AAAA;
 * they are marked required, so a UDP reply they do not all fit in gets TC (RFC 9471 §3.1).
 * Then the addresses of other NS targets inside this zone (sibling glue, RFC 9471 §3.2, and
 * authoritative addresses), which stay optional and may be dropped without TC.
 * BIND 9.18 (Debian's) drops in-domain glue silently instead; we follow the RFC and match Knot 3.2.
 */
function addGlue(zone: Zone, reply: Message, ns: RRset): void {
  const cut = ns.name;
  const required: ResourceRecord[] = [];
  for (const d of ns.rdata) {
    const target = (d as { nsdname: Name }).nsdname;
    if (!target.isSubdomainOf(cut)) continue;
    for (const type of ADDRESS_TYPES) {
      const set = zone.getRRset(target, type);
      if (set !== undefined) pushAll(required, recordsOf(set, undefined, false));
    }
  }
  if (required.length > 0) {
    // Required records are a prefix of the additional section (Message.requiredAdditional).
    reply.additional.splice(reply.requiredAdditional, 0, ...required);
    reply.requiredAdditional += required.length;
  }
  for (const d of ns.rdata) {
    const target = (d as { nsdname: Name }).nsdname;
    if (target.isSubdomainOf(cut) || !target.isSubdomainOf(zone.origin)) continue;
    for (const type of ADDRESS_TYPES) {
      const set = zone.getRRset(target, type);
      if (set !== undefined) pushAll(reply.additional, recordsOf(set, undefined, false));
    }
  }
}

const ADDRESS_TYPES = [RRType.A, RRType.AAAA] as const;
