/**
 * DNSSEC data in authoritative answers for zones signed elsewhere or by our signer (RFC 4035
 * §3.1, RFC 5155 §7.2): RRSIGs beside every RRset we give, and the NSEC or NSEC3 records that
 * prove a name or type absent, a wildcard expansion legitimate, or a delegation unsigned.
 *
 * Everything costly is decided once, when the zone is indexed (SignedZone.build, at load and
 * reload): which denial the zone uses, the NSEC owners in canonical order (so the NSEC covering a
 * name is one binary search), the NSEC3 owners by hash in hash order, and the nodes that exist
 * only to hold NSEC3 records (not part of the zone's namespace, RFC 5155 §7.2.8). At query time
 * only the hashes of names that do not exist are computed (RFC 5155 needs them; nothing else can).
 *
 * Invariants: the zone is read-only; records here are new ResourceRecords pointing at the zone's
 * RDATA. An RRSIG always follows the RRset it covers in a section, so the encoder keeps the two
 * together when it truncates. RRSIG TTLs are those of the RRsets they cover (as signers write
 * them; the zone keeps one TTL per RRSIG RRset, which mixes covered types).
 */
import { compareBytes, compareNameKeys as compareKeys } from '../dnssec/canonical.js';
import { nsec3Hash } from '../dnssec/digest.js';
import type { Name } from '../wire/name.js';
import { fromBase32Hex } from '../wire/rdata/text.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRType, type NSEC3Data, type NSEC3PARAMData, type RRSIGData } from '../wire/types.js';
import type { RRset, Zone, ZoneNode } from '../zone/zone.js';

/** NSEC3 hash parameters (RFC 5155 §4.1), from the apex NSEC3PARAM. */
export interface Nsec3Params {
  hashAlgorithm: number;
  iterations: number;
  salt: Uint8Array;
}

/** RFC 9276 §3.2 lets validators give up above 100 iterations and dnssec-signzone refuses > 150: so do we. */
export const MAX_NSEC3_ITERATIONS = 150;

const WILDCARD_LABEL = '\x01*';

/** The DNSSEC index of one signed zone. */
export class SignedZone {
  readonly zone: Zone;
  /** Set for NSEC3 zones; undefined for NSEC zones. */
  readonly nsec3: Nsec3Params | undefined;
  /** NSEC owners in RFC 4034 §6.1 canonical order (NSEC zones). */
  private readonly nsecOwners: ZoneNode[];
  /** NSEC3 owner hashes in ascending order, and the node holding each (NSEC3 zones). */
  private readonly hashes: Uint8Array[];
  private readonly hashNodes: ZoneNode[];
  /** Nodes holding nothing but NSEC3 (and its RRSIG): not names of the zone (RFC 5155 §7.2.8). */
  private readonly nsec3Only: Set<ZoneNode>;

  private constructor(zone: Zone, nsec3: Nsec3Params | undefined) {
    this.zone = zone;
    this.nsec3 = nsec3;
    this.nsecOwners = [];
    this.hashes = [];
    this.hashNodes = [];
    this.nsec3Only = new Set();
  }

  /**
   * Indexes `zone` when it is signed (a DNSKEY RRset with an RRSIG at the apex); undefined for an
   * unsigned zone. NSEC3 when the apex has an NSEC3PARAM with flags 0 (RFC 5155 §4.1.2), else NSEC.
   */
  static build(zone: Zone): SignedZone | undefined {
    const apex = zone.apex;
    if (apex.get(RRType.DNSKEY) === undefined || apex.get(RRType.RRSIG) === undefined) return undefined;
    let params: Nsec3Params | undefined;
    const p = apex.get(RRType.NSEC3PARAM);
    if (p !== undefined) {
      for (const d of p.rdata as NSEC3PARAMData[]) {
        if (d.flags === 0 && d.hashAlgorithm === 1 && d.iterations <= MAX_NSEC3_ITERATIONS) {
          params = { hashAlgorithm: d.hashAlgorithm, iterations: d.iterations, salt: d.salt };
          break;
        }
      }
    }
    const sz = new SignedZone(zone, params);
    if (params === undefined) {
      for (const node of zone.nodes()) if (node.get(RRType.NSEC) !== undefined) sz.nsecOwners.push(node);
      return sz;
    }
    const pairs: { hash: Uint8Array; node: ZoneNode }[] = [];
    for (const node of zone.allNodes()) {
      const set = node.get(RRType.NSEC3);
      if (set === undefined || node.parent?.key !== apex.key) continue;
      const d = set.rdata[0] as NSEC3Data;
      // Only the chain NSEC3PARAM names is served (RFC 5155 §7.2: one chain per answer).
      if (d.hashAlgorithm !== params.hashAlgorithm || d.iterations !== params.iterations || compareBytes(d.salt, params.salt) !== 0) continue;
      const label = node.key.slice(1, 1 + node.key.charCodeAt(0));
      let hash: Uint8Array;
      try {
        hash = fromBase32Hex(label, 'NSEC3 owner');
      } catch {
        continue;
      }
      pairs.push({ hash, node });
      let other = false;
      for (let i = 0, n = node.setCount; i < n; i++) {
        const t = node.setAt(i).type;
        if (t !== RRType.NSEC3 && t !== RRType.RRSIG) other = true;
      }
      if (!other && node.children === 0) sz.nsec3Only.add(node);
    }
    pairs.sort((a, b) => compareBytes(a.hash, b.hash));
    for (const x of pairs) {
      sz.hashes.push(x.hash);
      sz.hashNodes.push(x.node);
    }
    return sz;
  }

  /** True for a node that only holds NSEC3 records: answered as a name that does not exist. */
  isNsec3Only(node: ZoneNode): boolean {
    return this.nsec3Only.size > 0 && this.nsec3Only.has(node);
  }

  /**
   * Appends the RRSIGs at `node` covering `type` to `dst`, owned by `owner` (the query's name for
   * a wildcard expansion: the RRSIG's labels field shows the expansion, RFC 4035 §3.1.3.3).
   */
  pushSigs(dst: ResourceRecord[], node: ZoneNode, type: number, owner: Name, ttl: number): void {
    const sigs = node.get(RRType.RRSIG);
    if (sigs === undefined) return;
    const data = sigs.rdata as RRSIGData[];
    for (let i = 0; i < data.length; i++) {
      const d = data[i]!;
      if (d.typeCovered === type) dst.push({ name: owner, type: RRType.RRSIG, class: sigs.class, ttl, data: d });
    }
  }

  /** An RRset of the zone and its RRSIGs. */
  private pushSigned(dst: ResourceRecord[], node: ZoneNode, set: RRset): void {
    const name = set.name;
    const rdata = set.rdata;
    for (let i = 0; i < rdata.length; i++) dst.push({ name, type: set.type, class: set.class, ttl: set.ttl, data: rdata[i] });
    this.pushSigs(dst, node, set.type, name, set.ttl);
  }

  /** The NSEC (NSEC zones) or NSEC3 (NSEC3 zones) RRset at `node` with its RRSIGs, once per answer. */
  private pushDenial(dst: ResourceRecord[], node: ZoneNode | undefined, seen: ZoneNode[]): void {
    if (node === undefined || seen.includes(node)) return;
    const set = node.get(this.nsec3 === undefined ? RRType.NSEC : RRType.NSEC3);
    if (set === undefined) return;
    seen.push(node);
    this.pushSigned(dst, node, set);
  }

  // ---- NSEC (RFC 4035 §3.1.3) ----

  /** The NSEC owner at or before `key` in canonical order: the NSEC matching or covering it. */
  private nsecAtOrBefore(key: string): ZoneNode | undefined {
    const owners = this.nsecOwners;
    let lo = 0;
    let hi = owners.length - 1;
    if (hi < 0) return undefined;
    // The apex is the first name of the chain; everything in the zone sorts after it.
    let best = hi;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(owners[mid]!.key, key) <= 0) {
        best = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return owners[best];
  }

  // ---- NSEC3 (RFC 5155 §7.2) ----

  private hashOf(name: Name): Uint8Array {
    const p = this.nsec3!;
    return nsec3Hash(name, p.hashAlgorithm, p.iterations, p.salt);
  }

  /** The NSEC3 whose owner hash equals `hash`. */
  private nsec3Matching(hash: Uint8Array): ZoneNode | undefined {
    const i = this.search(hash);
    return i >= 0 && compareBytes(this.hashes[i]!, hash) === 0 ? this.hashNodes[i] : undefined;
  }

  /** The NSEC3 covering `hash` (owner hash before it, next hash after; the last wraps to the first). */
  private nsec3Covering(hash: Uint8Array): ZoneNode | undefined {
    const n = this.hashes.length;
    if (n === 0) return undefined;
    let i = this.search(hash);
    if (i >= 0 && compareBytes(this.hashes[i]!, hash) === 0) i--;
    return this.hashNodes[i < 0 ? n - 1 : i];
  }

  /** Index of the greatest hash <= `hash`, or -1. */
  private search(hash: Uint8Array): number {
    const hashes = this.hashes;
    let lo = 0;
    let hi = hashes.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(hashes[mid]!, hash) <= 0) {
        best = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return best;
  }

  /**
   * RFC 5155 §7.2.1 closest encloser proof: the NSEC3 matching the closest encloser and the one
   * covering the next closer name. `ce` must be an ancestor of `name`.
   */
  private closestEncloserProof(dst: ResourceRecord[], ce: Name, name: Name, seen: ZoneNode[]): void {
    this.pushDenial(dst, this.nsec3Matching(this.hashOf(ce)), seen);
    this.pushDenial(dst, this.nsec3Covering(this.hashOf(name.suffix(ce.labelCount + 1))), seen);
  }

  /**
   * RFC 5155 §7.2.4/§7.2.7 with opt-out: when `name` has no NSEC3, the closest provable encloser
   * (the nearest ancestor that has one) and the NSEC3 covering the next closer name (opt-out set).
   */
  private closestProvableEncloserProof(dst: ResourceRecord[], name: Name, seen: ZoneNode[]): void {
    const origin = this.zone.origin;
    for (let labels = name.labelCount - 1; labels >= origin.labelCount; labels--) {
      const ancestor = name.suffix(labels);
      const match = this.nsec3Matching(this.hashOf(ancestor));
      if (match === undefined) continue;
      this.pushDenial(dst, match, seen);
      this.pushDenial(dst, this.nsec3Covering(this.hashOf(name.suffix(labels + 1))), seen);
      return;
    }
  }

  // ---- proofs, by kind of answer ----

  /** NXDOMAIN for `qname` below `closestEncloser` (RFC 4035 §3.1.3.2, RFC 5155 §7.2.2). */
  proveNxdomain(dst: ResourceRecord[], qname: Name, closestEncloser: ZoneNode): void {
    const seen: ZoneNode[] = [];
    if (this.nsec3 === undefined) {
      this.pushDenial(dst, this.nsecAtOrBefore(qname.key), seen);
      this.pushDenial(dst, this.nsecAtOrBefore(WILDCARD_LABEL + closestEncloser.key), seen);
      return;
    }
    const ce = closestEncloser.name;
    this.closestEncloserProof(dst, ce, qname, seen);
    this.pushDenial(dst, this.nsec3Covering(this.hashOf(ce.prepend('*'))), seen);
  }

  /** NODATA at an existing `node` named `qname` (RFC 4035 §3.1.3.1, RFC 5155 §7.2.3/§7.2.4). */
  proveNodata(dst: ResourceRecord[], qname: Name, node: ZoneNode): void {
    const seen: ZoneNode[] = [];
    if (this.nsec3 === undefined) {
      // An empty non-terminal has no NSEC: the one covering it shows the name has no types.
      this.pushDenial(dst, node.get(RRType.NSEC) !== undefined ? node : this.nsecAtOrBefore(qname.key), seen);
      return;
    }
    const match = this.nsec3Matching(this.hashOf(qname));
    if (match !== undefined) this.pushDenial(dst, match, seen);
    else this.closestProvableEncloserProof(dst, qname, seen);
  }

  /**
   * A positive answer synthesized from `source` (`*.<closest encloser>`): the proof that `qname`
   * itself does not exist (RFC 4035 §3.1.3.3, RFC 5155 §7.2.6).
   */
  proveWildcardAnswer(dst: ResourceRecord[], qname: Name, source: ZoneNode): void {
    const seen: ZoneNode[] = [];
    if (this.nsec3 === undefined) {
      this.pushDenial(dst, this.nsecAtOrBefore(qname.key), seen);
      return;
    }
    const ceLabels = source.name.labelCount - 1;
    this.pushDenial(dst, this.nsec3Covering(this.hashOf(qname.suffix(ceLabels + 1))), seen);
  }

  /** NODATA from the wildcard `source` (RFC 4035 §3.1.3.4, RFC 5155 §7.2.5). */
  proveWildcardNodata(dst: ResourceRecord[], qname: Name, source: ZoneNode): void {
    const seen: ZoneNode[] = [];
    if (this.nsec3 === undefined) {
      this.pushDenial(dst, this.nsecAtOrBefore(qname.key), seen);
      this.pushDenial(dst, source, seen);
      return;
    }
    const ce = source.name.suffix(source.name.labelCount - 1);
    this.closestEncloserProof(dst, ce, qname, seen);
    this.pushDenial(dst, this.nsec3Matching(this.hashOf(source.name)), seen);
  }

  /**
   * The delegation's DS with its RRSIG, or the proof that the child is unsigned: the NSEC at the
   * cut (RFC 4035 §3.1.4), the NSEC3 matching it, or with opt-out the closest provable encloser
   * proof (RFC 5155 §7.2.7).
   */
  proveReferral(dst: ResourceRecord[], cut: ZoneNode): void {
    const ds = cut.get(RRType.DS);
    if (ds !== undefined) {
      this.pushSigned(dst, cut, ds);
      return;
    }
    const seen: ZoneNode[] = [];
    if (this.nsec3 === undefined) {
      this.pushDenial(dst, cut, seen);
      return;
    }
    const match = this.nsec3Matching(this.hashOf(cut.name));
    if (match !== undefined) this.pushDenial(dst, match, seen);
    else this.closestProvableEncloserProof(dst, cut.name, seen);
  }
}
