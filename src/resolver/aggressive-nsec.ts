/**
 * Aggressive use of DNSSEC-validated cache (RFC 8198), NSEC only, as Unbound's aggressive-nsec:
 * NSEC records proven secure by the validator are kept per zone in canonical order; a later
 * question whose name falls in a cached range (and whose source of synthesis `*.<closest
 * encloser>` is denied too) is answered NXDOMAIN, and a name or wildcard whose cached NSEC lacks
 * the type is answered NODATA, without asking upstream.
 *
 * Invariants:
 * - Only NSEC sets the validator verified with a secure zone's keys go in (`ValidationResult.nsecs`),
 *   with the zone's SOA and its RRSIGs from a validated negative answer; a zone without a cached
 *   SOA is not used (the synthesised answer needs it in the authority section).
 * - A range lives min(NSEC TTL allowed by its signature, SOA TTL, SOA MINIMUM) (RFC 8198 §5.4,
 *   RFC 9077); expired ranges are dropped when met. Bounded: `maxZones` zones of `maxPerZone` NSECs.
 * - The proofs are the validator's own (proofs.ts): parent-side NSECs at a delegation and DNAME
 *   owners never deny names below them (RFC 6840 §4.1). NSEC3 is not used (as in Unbound); DS
 *   questions are never synthesised (the answer belongs to the parent zone).
 */
import { nsecClosestEncloser, nsecProof } from '../dnssec/validator/proofs.js';
import type { VerifiedNsec } from '../dnssec/validator/index.js';
import type { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRType, type NSECData, type SOAData } from '../wire/types.js';

interface Range {
  owner: Name;
  nsec: ResourceRecord<NSECData>;
  /** The NSEC and its RRSIGs, as they go into the authority section. */
  records: ResourceRecord[];
  /** Seconds since the epoch. */
  expiresAt: number;
}

interface ZoneRanges {
  zone: Name;
  soa: ResourceRecord[];
  soaExpiresAt: number;
  /** Sorted by owner in canonical order (RFC 4034 §6.1). */
  ranges: Range[];
}

/** A synthesised negative answer. */
export interface SynthesisedDenial {
  kind: 'nxdomain' | 'nodata';
  /** SOA and its RRSIGs, then the NSEC records and their RRSIGs, TTLs counted down. */
  authority: ResourceRecord[];
}

export class AggressiveNsec {
  private readonly zones = new Map<string, ZoneRanges>();

  constructor(private readonly maxZones = 1000, private readonly maxPerZone = 5000) {}

  /** Remembers validated NSECs; `soa` (SOA + RRSIGs) when the answer was a validated negative one. */
  add(nsecs: readonly VerifiedNsec[], soa: readonly ResourceRecord[], nowSec: number): void {
    for (const v of nsecs) {
      let z = this.zones.get(v.zone.key);
      const soaRec = soa.find((r) => r.type === RRType.SOA && r.name.equals(v.zone));
      if (z === undefined) {
        if (soaRec === undefined) continue;
        if (this.zones.size >= this.maxZones) this.zones.clear();
        z = { zone: v.zone, soa: [], soaExpiresAt: 0, ranges: [] };
        this.zones.set(v.zone.key, z);
      }
      if (soaRec !== undefined) {
        const d = soaRec.data as SOAData;
        z.soa = soa.filter((r) => r.name.equals(v.zone));
        z.soaExpiresAt = nowSec + Math.min(soaRec.ttl, d.minimum);
      }
      const nsec = v.records[0] as ResourceRecord<NSECData>;
      let ttl = v.ttl;
      for (const r of z.soa) if (r.type === RRType.SOA) ttl = Math.min(ttl, r.ttl, (r.data as SOAData).minimum);
      const range: Range = { owner: nsec.name, nsec, records: [...v.records, ...v.sigs], expiresAt: nowSec + ttl };
      const i = this.search(z.ranges, nsec.name);
      if (i >= 0 && z.ranges[i]!.owner.equals(nsec.name)) z.ranges[i] = range;
      else {
        if (z.ranges.length >= this.maxPerZone) z.ranges.length = 0;
        z.ranges.splice(i + 1, 0, range);
      }
    }
  }

  /** A negative answer for (qname, qtype) proven by cached NSECs, or undefined (ask upstream). */
  lookup(qname: Name, qtype: number, nowSec: number): SynthesisedDenial | undefined {
    if (this.zones.size === 0 || qtype === RRType.DS) return undefined;
    let z: ZoneRanges | undefined;
    for (let n = qname; ; n = n.parent()) {
      z = this.zones.get(n.key);
      if (z !== undefined || n.isRoot) break;
    }
    if (z === undefined || z.soaExpiresAt <= nowSec) return undefined;
    const cover = this.live(z, qname, nowSec);
    if (cover === undefined) return undefined;
    const used: Range[] = [cover];
    let kind: 'nxdomain' | 'nodata';
    const next = cover.nsec.data.nextDomainName;
    if (cover.owner.equals(qname)) kind = 'nodata';
    // An empty non-terminal: the next name is below qname (RFC 4035 §3.1.3.2).
    else if (next.isSubdomainOf(qname) && !next.equals(qname)) kind = 'nodata';
    else {
      // The source of synthesis *.<closest encloser> (RFC 4592) must be denied too, or exist
      // without the type (wildcard NODATA); a wildcard with the type would need its data: ask.
      const ce = nsecClosestEncloser(cover.nsec, qname);
      if (!ce.isSubdomainOf(z.zone)) return undefined;
      const wc = ce.prepend('*');
      const wcRange = this.live(z, wc, nowSec);
      if (wcRange === undefined) return undefined;
      if (wcRange !== cover) used.push(wcRange);
      kind = wcRange.owner.equals(wc) ? 'nodata' : 'nxdomain';
    }
    const nsecs = used.map((r) => r.nsec);
    if (nsecProof(kind, qname, qtype, nsecs).status !== 'secure') return undefined;
    let ttl = z.soaExpiresAt - nowSec;
    for (const r of used) if (r.expiresAt - nowSec < ttl) ttl = r.expiresAt - nowSec;
    const authority: ResourceRecord[] = [];
    for (const r of z.soa) authority.push({ name: r.name, type: r.type, class: r.class, ttl, data: r.data });
    for (const u of used) for (const r of u.records) authority.push({ name: r.name, type: r.type, class: r.class, ttl, data: r.data });
    return { kind, authority };
  }

  /** Forgets everything (cache flush, anchors or NTAs changed). */
  clear(): void {
    this.zones.clear();
  }

  /** The unexpired range whose owner is the greatest at or before `name` (the last one wraps around). */
  private live(z: ZoneRanges, name: Name, nowSec: number): Range | undefined {
    if (z.ranges.length === 0) return undefined;
    let i = this.search(z.ranges, name);
    if (i < 0) i = z.ranges.length - 1;
    const r = z.ranges[i]!;
    if (r.expiresAt <= nowSec) {
      z.ranges.splice(i, 1);
      return undefined;
    }
    return r;
  }

  /** Index of the last range with owner <= name (canonical order), -1 when none. */
  private search(ranges: readonly Range[], name: Name): number {
    let lo = 0;
    let hi = ranges.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ranges[mid]!.owner.compare(name) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}
