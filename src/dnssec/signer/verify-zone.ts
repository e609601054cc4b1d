/**
 * Checking a signed zone as dnssec-verify does: the DNSKEY RRset is signed by a KSK of each
 * algorithm; every authoritative RRset (and DS and NSEC at cuts) has a valid RRSIG of every
 * algorithm in the DNSKEY RRset, within its validity period (RFC 4035 §2.2, RFC 6840 §5.11); the
 * NSEC chain (RFC 4035 §2.3) or the NSEC3 chain (RFC 5155 §7.1) covers exactly the names it
 * must, in order, with the right type bitmaps (opt-out may leave unsigned delegations out).
 */
import type { KeyObject } from 'node:crypto';
import type { Name } from '../../wire/name.js';
import { toBase32Hex } from '../../wire/rdata/text.js';
import type { ResourceRecord } from '../../wire/record.js';
import { RRType, typeToString, type DNSKEYData, type NSEC3Data, type NSEC3PARAMData, type NSECData, type RRSIGData } from '../../wire/types.js';
import type { Zone, ZoneNode } from '../../zone/zone.js';
import { algorithmInfo, publicKeyFromDnskey } from '../algorithms.js';
import { compareBytes } from '../canonical.js';
import { nsec3Hash } from '../digest.js';
import { keyTag } from '../key-tag.js';
import { DnskeyFlag, verifyRrsig } from '../rrsig.js';

export interface VerifyReport {
  errors: string[];
  /** Per algorithm: KSK and ZSK tags (dnssec-verify's summary). */
  algorithms: { algorithm: number; ksks: number[]; zsks: number[] }[];
  denial: 'NSEC' | 'NSEC3';
}

interface ZoneKey {
  data: DNSKEYData;
  tag: number;
  key: KeyObject | undefined;
}

/** Verifies `zone` at time `now` (seconds). */
export function verifyZone(zone: Zone, now: number): VerifyReport {
  const errors: string[] = [];
  const origin = zone.origin;
  const dnskeySet = zone.apex.get(RRType.DNSKEY);
  const keys: ZoneKey[] = [];
  for (const d of (dnskeySet?.rdata ?? []) as DNSKEYData[]) {
    if ((d.flags & DnskeyFlag.ZONE) === 0 || (d.flags & DnskeyFlag.REVOKE) !== 0) continue;
    let key: KeyObject | undefined;
    try {
      key = algorithmInfo(d.algorithm) === undefined ? undefined : publicKeyFromDnskey(d.algorithm, d.publicKey);
    } catch {
      errors.push(`DNSKEY ${keyTag(d.flags, d.protocol, d.algorithm, d.publicKey)}: malformed public key`);
    }
    keys.push({ data: d, tag: keyTag(d.flags, d.protocol, d.algorithm, d.publicKey), key });
  }
  if (keys.length === 0) return { errors: [`${origin.toString()}: no DNSKEY at the apex: the zone is not signed`], algorithms: [], denial: 'NSEC' };
  const algs = [...new Set(keys.map((k) => k.data.algorithm))].sort((a, b) => a - b);
  const summary = algs.map((algorithm) => ({
    algorithm,
    ksks: keys.filter((k) => k.data.algorithm === algorithm && (k.data.flags & DnskeyFlag.SEP) !== 0).map((k) => k.tag),
    zsks: keys.filter((k) => k.data.algorithm === algorithm && (k.data.flags & DnskeyFlag.SEP) === 0).map((k) => k.tag),
  }));

  const checkSigs = (node: ZoneNode, records: ResourceRecord[], type: number): void => {
    const sigs = ((node.get(RRType.RRSIG)?.rdata ?? []) as RRSIGData[]).filter((s) => s.typeCovered === type);
    const where = `${node.name.toString()}/${typeToString(type)}`;
    for (const alg of algs) {
      let ok = false;
      for (const s of sigs) {
        if (s.algorithm !== alg) continue;
        const k = keys.find((x) => x.tag === s.keyTag && x.data.algorithm === alg && x.key !== undefined);
        if (k === undefined || !s.signerName.equals(origin)) continue;
        if (type === RRType.DNSKEY && (k.data.flags & DnskeyFlag.SEP) === 0 && summary.find((x) => x.algorithm === alg)!.ksks.length > 0) continue;
        // RFC 4034 §3.1.5: serial number arithmetic on the 32-bit times.
        if (((now - s.signatureInception) | 0) < 0 || ((s.signatureExpiration - now) | 0) < 0) {
          errors.push(`${where}: RRSIG by key ${s.keyTag} is outside its validity period`);
          continue;
        }
        if (verifyRrsig(records, s, k.key!)) ok = true;
        else errors.push(`${where}: RRSIG by key ${s.keyTag} does not verify`);
      }
      if (!ok) errors.push(`${where}: no valid RRSIG of algorithm ${alg}${type === RRType.DNSKEY ? ' by a KSK' : ''}`);
    }
  };

  // Owners in canonical order, classified as the signer does.
  const nsec3param = ((zone.apex.get(RRType.NSEC3PARAM)?.rdata ?? []) as NSEC3PARAMData[]).find((p) => p.flags === 0);
  const chain: { node: ZoneNode; types: number[]; status: 'auth' | 'delegation' | 'ent' }[] = [];
  const nsec3Owners = new Set<ZoneNode>();
  if (nsec3param !== undefined) {
    for (const node of zone.allNodes()) {
      if (node.parent !== zone.apex || node.children > 0) continue;
      if (node.rrsets.every((s) => s.type === RRType.NSEC3 || s.type === RRType.RRSIG)) nsec3Owners.add(node);
    }
  }
  for (const node of zone.nodes()) {
    if (node.isBelowCut || nsec3Owners.has(node)) continue;
    const sets = node.rrsets.filter((s) => s.type !== RRType.RRSIG);
    const status = node.isDelegation ? 'delegation' : sets.length === 0 && node !== zone.apex ? 'ent' : 'auth';
    for (const set of sets) {
      if (nsec3param !== undefined && set.type === RRType.NSEC3) continue;
      if (status === 'delegation' && set.type !== RRType.DS && set.type !== RRType.NSEC) continue;
      const records = set.rdata.map((data) => ({ name: set.name, type: set.type, class: set.class, ttl: set.ttl, data }));
      checkSigs(node, records, set.type);
    }
    chain.push({ node, types: sets.map((s) => s.type), status });
  }

  if (nsec3param === undefined) {
    const named = chain.filter((c) => c.status !== 'ent');
    for (let i = 0; i < named.length; i++) {
      const c = named[i]!;
      const nsec = c.node.get(RRType.NSEC);
      const where = c.node.name.toString();
      if (nsec === undefined) {
        errors.push(`${where}: no NSEC`);
        continue;
      }
      const d = nsec.rdata[0] as NSECData;
      const next = named[(i + 1) % named.length]!.node.name;
      if (!d.nextDomainName.equals(next)) errors.push(`${where}: NSEC points to ${d.nextDomainName.toString()}, expected ${next.toString()}`);
      const want = [...new Set([...c.types, RRType.RRSIG, RRType.NSEC])].sort((a, b) => a - b);
      if (want.join() !== [...d.types].sort((a, b) => a - b).join()) {
        errors.push(`${where}: NSEC type bitmap ${d.types.map(typeToString).join(' ')} should be ${want.map(typeToString).join(' ')}`);
      }
    }
    return { errors, algorithms: summary, denial: 'NSEC' };
  }

  // NSEC3: every NSEC3 of the chain, by hash; then each name that needs one.
  const p = nsec3param;
  const hashes: { hash: Uint8Array; node: ZoneNode; data: NSEC3Data }[] = [];
  for (const node of nsec3Owners) {
    const set = node.get(RRType.NSEC3)!;
    const d = set.rdata[0] as NSEC3Data;
    if (d.iterations !== p.iterations || compareBytes(d.salt, p.salt) !== 0 || d.hashAlgorithm !== p.hashAlgorithm) continue;
    const records = set.rdata.map((data) => ({ name: set.name, type: set.type, class: set.class, ttl: set.ttl, data }));
    checkSigs(node, records, RRType.NSEC3);
    hashes.push({ hash: hashOfLabel(node), node, data: d });
  }
  hashes.sort((a, b) => compareBytes(a.hash, b.hash));
  for (let i = 0; i < hashes.length; i++) {
    const next = hashes[(i + 1) % hashes.length]!.hash;
    if (compareBytes(hashes[i]!.data.nextHashedOwnerName, next) !== 0) {
      errors.push(`${hashes[i]!.node.name.toString()}: NSEC3 next hashed owner ${toBase32Hex(hashes[i]!.data.nextHashedOwnerName)} should be ${toBase32Hex(next)}`);
    }
  }
  const byHash = new Map(hashes.map((h) => [Buffer.from(h.hash).toString('hex'), h]));
  const needed = new Set<ZoneNode>();
  for (const c of chain) {
    if (c.status === 'ent') continue;
    const insecure = c.status === 'delegation' && !c.types.includes(RRType.DS);
    const h = byHash.get(Buffer.from(nsec3Hash(c.node.name, p.hashAlgorithm, p.iterations, p.salt)).toString('hex'));
    if (insecure && h === undefined) {
      // Opt-out (RFC 5155 §6): allowed only when the NSEC3 covering it has the opt-out flag.
      if (!coveredByOptOut(hashes, nsec3Hash(c.node.name, p.hashAlgorithm, p.iterations, p.salt))) errors.push(`${c.node.name.toString()}: no NSEC3 and not in an opt-out span`);
      continue;
    }
    for (let n: ZoneNode | undefined = c.node; n !== undefined && !needed.has(n); n = n.parent) needed.add(n);
  }
  for (const c of chain) {
    const h = byHash.get(Buffer.from(nsec3Hash(c.node.name, p.hashAlgorithm, p.iterations, p.salt)).toString('hex'));
    const where = c.node.name.toString();
    if (h === undefined) {
      if (needed.has(c.node)) errors.push(`${where}: no NSEC3`);
      continue;
    }
    const want = c.status === 'ent' ? [] : [...c.types.filter((t) => t !== RRType.NSEC3), ...(c.status === 'auth' || c.types.includes(RRType.DS) ? [RRType.RRSIG] : [])];
    const sorted = [...new Set(want)].sort((a, b) => a - b);
    if (sorted.join() !== [...h.data.types].sort((a, b) => a - b).join()) {
      errors.push(`${where}: NSEC3 type bitmap ${h.data.types.map(typeToString).join(' ')} should be ${sorted.map(typeToString).join(' ')}`);
    }
  }
  return { errors, algorithms: summary, denial: 'NSEC3' };
}

function hashOfLabel(node: ZoneNode): Uint8Array {
  const key = node.key;
  const label = key.slice(1, 1 + key.charCodeAt(0));
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    const v = c <= 0x39 ? c - 0x30 : c - 0x61 + 10;
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

function coveredByOptOut(hashes: { hash: Uint8Array; data: NSEC3Data }[], h: Uint8Array): boolean {
  let best = hashes.length - 1;
  for (let i = 0; i < hashes.length; i++) if (compareBytes(hashes[i]!.hash, h) < 0) best = i;
  return best >= 0 && (hashes[best]!.data.flags & 1) === 1;
}

/** dnssec-verify's summary lines. */
export function verifySummary(r: VerifyReport, origin: Name): string {
  const lines = [`Verifying the zone using the following algorithms:`];
  for (const a of r.algorithms) lines.push(`- ${algorithmInfo(a.algorithm)?.mnemonic ?? a.algorithm}`);
  if (r.errors.length > 0) return lines.join('\n') + '\n';
  lines.push(`Zone fully signed (${r.denial}): ${origin.toString()}`);
  for (const a of r.algorithms) {
    lines.push(`Algorithm: ${algorithmInfo(a.algorithm)?.mnemonic ?? a.algorithm}: KSKs: ${a.ksks.length} active, ZSKs: ${a.zsks.length} active`);
  }
  return lines.join('\n') + '\n';
}
