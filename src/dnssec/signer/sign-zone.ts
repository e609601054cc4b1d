/**
 * Signing a whole zone (RFC 4035 §2, RFC 5155 §7.1), as dnssec-signzone does: DNSKEYs at the
 * apex, an NSEC or NSEC3 chain over the authoritative names and delegations, an RRSIG by every
 * active key of every algorithm over every authoritative RRset (RFC 6840 §5.11), DNSKEY/CDS/CDNSKEY
 * by the KSKs, the rest by the ZSKs (a lone CSK signs everything).
 *
 * Incremental re-signing: a SignatureCache remembers each RRset's canonical bytes and its RRSIGs;
 * signing again reuses the RRSIGs of every RRset whose bytes and signing keys are unchanged and
 * whose signatures are not due for refresh, so a reload that changed one record re-signs that
 * RRset and the NSEC/NSEC3 records around it, not the zone.
 *
 * Invariants: the input zone is read-only; RRSIG, NSEC, NSEC3 and NSEC3PARAM records in it are
 * dropped and made anew (DNSKEY, CDS and CDNSKEY records in it are kept). The output lists each
 * owner's RRsets, each followed by its RRSIGs, owners in canonical order (RFC 4034 §6.1).
 * Randomness (jitter) comes from `random`, time from the caller: both injectable.
 */
import { DnssecError } from '../../errors.js';
import { Name } from '../../wire/name.js';
import { toBase32Hex } from '../../wire/rdata/text.js';
import type { ResourceRecord } from '../../wire/record.js';
import { RRType, type SOAData } from '../../wire/types.js';
import { type Zone, type ZoneNode, peekRData } from '../../zone/zone.js';
import { canonicalRdataSet, compareBytes, compareNameKeys } from '../canonical.js';
import { nsec3Hash } from '../digest.js';
import { type DnssecKey, isKsk } from '../key-file.js';
import { signRrset } from '../rrsig.js';

export interface Nsec3Options {
  iterations: number;
  salt: Uint8Array;
  /** RFC 5155 §6: unsigned delegations get no NSEC3 of their own. */
  optOut: boolean;
}

export interface SignZoneOptions {
  /** Keys whose DNSKEY is published. */
  keys: readonly DnssecKey[];
  /** Keys that sign (a subset of `keys`; default all of them). */
  active?: readonly DnssecKey[];
  /** Seconds since the epoch. */
  inception: number;
  expiration: number;
  /** Each RRset's expiration is moved earlier by up to this many seconds, at random (spreads re-signing). */
  jitter?: number;
  /** Uniform in [0, 1); injectable for tests (default Math.random is fine: jitter is not a secret). */
  random?: () => number;
  /** NSEC3 parameters; NSEC when absent. */
  nsec3?: Nsec3Options | undefined;
  /** DNSKEY TTL (default: the zone's DNSKEY TTL, else the keys', else the SOA's). */
  dnskeyTtl?: number;
  /** Signatures of a previous run to reuse (and to fill for the next). */
  cache?: SignatureCache;
  /** With a cache: signatures expiring before this time (seconds) are made anew. */
  refreshBefore?: number;
  /** Each record as it is made, in output order, instead of collecting them in `records` (which stays empty). */
  emit?: (rr: ResourceRecord) => void;
  /** RRsets put at the apex in place of the input's of the same type (CDS/CDNSKEY of the key manager). */
  apexSets?: readonly (readonly ResourceRecord[])[];
}

/** What signing produced, owner by owner. */
export interface SignedZoneData {
  origin: Name;
  /** Records in output order (see the module comment). */
  records: ResourceRecord[];
  /** RRsets signed this run, and RRsets whose signatures came from the cache. */
  signed: number;
  reused: number;
}

interface CachedSigs {
  data: Uint8Array;
  keys: string;
  expiration: number;
  sigs: ResourceRecord[];
}

/** RRSIGs of earlier runs by owner key + type (see the module comment). */
export class SignatureCache {
  readonly map = new Map<string, CachedSigs>();
}

/** Types that never go through from the input: they are what signing makes. */
const MADE_HERE = new Set<number>([RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM]);
/** Signed by the KSKs (RFC 6781 §3.1; RFC 7344 §4.1 for CDS/CDNSKEY). */
const KSK_SIGNED = new Set<number>([RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]);

type Status = 'auth' | 'delegation' | 'glue' | 'ent';

/**
 * One owner name to sign. Its input RRsets stay in the zone's wire form until the owner is
 * written (decoded then, signed, handed on and dropped), so the whole zone is never held as
 * objects at once: only names, types and the records made here (DNSKEY, CDS, NSEC...).
 */
interface Owner {
  name: Name;
  key: string;
  status: Status;
  /** The input node, whose RRsets (less MADE_HERE and `replaced`) are this owner's. */
  node: ZoneNode | undefined;
  /** Types present at the owner, input and made here (for the NSEC/NSEC3 bitmaps). */
  types: number[];
  /** RRsets made here. */
  added: ResourceRecord[][];
  /** Input types a made RRset takes the place of. */
  replaced: Set<number> | undefined;
}

function addSet(o: Owner, set: ResourceRecord[]): void {
  const type = set[0]!.type;
  if (o.types.includes(type)) (o.replaced ??= new Set()).add(type);
  else o.types.push(type);
  o.added.push(set);
}

/** The owner's RRsets in type order (the apex's SOA first, as a master file starts, RFC 1035 §5.2). */
function materialize(o: Owner, apex: boolean): ResourceRecord[][] {
  const sets: ResourceRecord[][] = [];
  if (o.node !== undefined) {
    for (const set of o.node.rrsets) {
      if (MADE_HERE.has(set.type) || o.replaced?.has(set.type) === true) continue;
      const name = o.node.name;
      sets.push(peekRData(set).map((data) => ({ name, type: set.type, class: set.class, ttl: set.ttl, data })));
    }
  }
  for (const a of o.added) sets.push(a);
  sets.sort((a, b) => (apex && a[0]!.type === RRType.SOA ? -1 : apex && b[0]!.type === RRType.SOA ? 1 : a[0]!.type - b[0]!.type));
  return sets;
}

/** Signs `zone` (see the module comment). Throws DnssecError when no key can sign it. */
export function signZone(zone: Zone, opts: SignZoneOptions): SignedZoneData {
  const origin = zone.origin;
  const soaSet = zone.apex.get(RRType.SOA);
  if (soaSet === undefined) throw new DnssecError('ERR_DNSSEC_SIGN', `zone ${origin.toString()} has no SOA`);
  const soa = soaSet.rdata[0] as SOAData;
  // RFC 9077 §3 (RFC 4034 §4 as updated): NSEC/NSEC3 TTL = min(SOA TTL, SOA MINIMUM).
  const negativeTtl = Math.min(soaSet.ttl, soa.minimum);
  const active = opts.active ?? opts.keys;
  if (active.length === 0) throw new DnssecError('ERR_DNSSEC_SIGN', `no active key to sign ${origin.toString()}`);
  for (const k of opts.keys) {
    if (!k.owner.equals(origin)) throw new DnssecError('ERR_DNSSEC_SIGN', `key ${k.keyTag} belongs to ${k.owner.toString()}, not ${origin.toString()}`);
  }
  const { ksks, zsks } = splitKeys(active);

  // 1. Owners in canonical order, classified (names and types only); DNSSEC records of the input dropped.
  const owners: Owner[] = [];
  for (const node of zone.nodes()) {
    const types: number[] = [];
    for (const set of node.rrsets) if (!MADE_HERE.has(set.type)) types.push(set.type);
    let status: Status;
    if (node.isBelowCut) status = 'glue';
    else if (node.isDelegation) status = 'delegation';
    else if (types.length === 0 && node !== zone.apex) status = 'ent';
    else status = 'auth';
    if (types.length === 0 && node.children === 0 && node !== zone.apex) continue; // an old NSEC3 owner
    owners.push({ name: node.name, key: node.key, status, node, types, added: [], replaced: undefined });
  }
  const apex = owners[0]!;

  // 2. DNSKEYs: those of the input plus every published key's, once each.
  const input = zone.apex.get(RRType.DNSKEY);
  const dnskeys = input === undefined ? undefined : peekRData(input).map((data) => ({ name: origin, type: RRType.DNSKEY, class: zone.class, ttl: input.ttl, data }));
  const ttl = opts.dnskeyTtl ?? dnskeys?.[0]!.ttl ?? opts.keys.find((k) => k.ttl !== undefined)?.ttl ?? soaSet.ttl;
  const have = new Set((dnskeys ?? []).map((r) => keyId(r.data as { flags: number; algorithm: number; publicKey: Uint8Array })));
  const merged: ResourceRecord[] = (dnskeys ?? []).map((r) => ({ ...r, ttl }));
  for (const k of opts.keys) {
    if (have.has(keyId(k))) continue;
    have.add(keyId(k));
    merged.push({ name: origin, type: RRType.DNSKEY, class: zone.class, ttl, data: { flags: k.flags, protocol: 3, algorithm: k.algorithm, publicKey: k.publicKey } });
  }
  addSet(apex, merged);
  for (const set of opts.apexSets ?? []) if (set.length > 0) addSet(apex, [...set]);

  // 3. Denial of existence.
  const extra: Owner[] = [];
  if (opts.nsec3 === undefined) addNsecChain(owners, negativeTtl, zone.class);
  else addNsec3Chain(zone, owners, extra, opts.nsec3, negativeTtl);

  // 4. Signatures, owner by owner.
  const random = opts.random ?? Math.random;
  const jitter = opts.jitter ?? 0;
  const cache = opts.cache;
  const next = cache === undefined ? undefined : new Map<string, CachedSigs>();
  const keysId = active.map((k) => `${k.algorithm}/${k.keyTag}`).sort().join(',');
  let signed = 0;
  let reused = 0;
  const records: ResourceRecord[] = [];
  const emit = opts.emit ?? ((rr: ResourceRecord): void => { records.push(rr); });
  const all = extra.length === 0 ? owners : [...owners, ...extra].sort((a, b) => compareNameKeys(a.key, b.key));
  for (const o of all) {
    for (const set of materialize(o, o === apex)) {
      for (const rr of set) emit(rr);
      const type = set[0]!.type;
      if (o.status === 'glue' || o.status === 'ent') continue;
      // At a cut only DS and the denial records are the parent's to sign (RFC 4035 §2.2).
      if (o.status === 'delegation' && type !== RRType.DS && type !== RRType.NSEC) continue;
      const signers = KSK_SIGNED.has(type) && o.name.equals(origin) ? ksks : zsks;
      const cacheKey = o.key + '/' + type;
      let sigs: ResourceRecord[] | undefined;
      let data: Uint8Array | undefined;
      if (cache !== undefined) {
        data = setBytes(set);
        const old = cache.map.get(cacheKey);
        if (old !== undefined && old.keys === keysId && compareBytes(old.data, data) === 0 && old.expiration > (opts.refreshBefore ?? opts.inception)) {
          sigs = old.sigs;
          reused++;
          next!.set(cacheKey, old);
        }
      }
      if (sigs === undefined) {
        const expiration = jitter > 0 ? opts.expiration - Math.floor(random() * jitter) : opts.expiration;
        sigs = signers.map((k) => signRrset(set, k, { inception: opts.inception, expiration }) as ResourceRecord);
        signed++;
        if (next !== undefined) next.set(cacheKey, { data: data!, keys: keysId, expiration, sigs });
      }
      for (const s of sigs) emit(s);
    }
    // What was made for this owner is written: let it go.
    o.added = [];
  }
  if (cache !== undefined) {
    cache.map.clear();
    for (const [k, v] of next!) cache.map.set(k, v);
  }
  return { origin, records, signed, reused };
}

/** KSKs sign the key RRsets, ZSKs the rest, per algorithm; an algorithm with only one kind uses it for both. */
function splitKeys(keys: readonly DnssecKey[]): { ksks: DnssecKey[]; zsks: DnssecKey[] } {
  const ksks: DnssecKey[] = [];
  const zsks: DnssecKey[] = [];
  const algorithms = new Set(keys.map((k) => k.algorithm));
  for (const alg of algorithms) {
    const of = keys.filter((k) => k.algorithm === alg);
    const k = of.filter(isKsk);
    const z = of.filter((x) => !isKsk(x));
    ksks.push(...(k.length > 0 ? k : z));
    zsks.push(...(z.length > 0 ? z : k));
  }
  return { ksks, zsks };
}

function keyId(k: { flags: number; algorithm: number; publicKey: Uint8Array }): string {
  return `${k.flags & ~0x80}/${k.algorithm}/${Buffer.from(k.publicKey).toString('base64')}`;
}

/** Canonical bytes of an RRset (TTL included): equal bytes, equal signatures. */
function setBytes(set: readonly ResourceRecord[]): Uint8Array {
  const parts = canonicalRdataSet(set);
  let len = 4;
  for (const p of parts) len += 2 + p.length;
  const out = new Uint8Array(len);
  const ttl = set[0]!.ttl;
  out[0] = ttl >>> 24;
  out[1] = (ttl >>> 16) & 0xff;
  out[2] = (ttl >>> 8) & 0xff;
  out[3] = ttl & 0xff;
  let at = 4;
  for (const p of parts) {
    out[at] = p.length >> 8;
    out[at + 1] = p.length & 0xff;
    out.set(p, at + 2);
    at += 2 + p.length;
  }
  return out;
}

/** Types present at an owner, for its NSEC/NSEC3 bitmap (in type order). */
function typesOf(o: Owner): number[] {
  return [...o.types].sort((a, b) => a - b);
}

/**
 * RFC 4035 §2.3: an NSEC at every authoritative name and every delegation, pointing at the next
 * one in canonical order (the last back to the apex); bitmaps list the owner's types, RRSIG and NSEC.
 */
function addNsecChain(owners: Owner[], ttl: number, cls: number): void {
  const chain = owners.filter((o) => o.status === 'auth' || o.status === 'delegation');
  for (let i = 0; i < chain.length; i++) {
    const o = chain[i]!;
    const next = chain[(i + 1) % chain.length]!.name;
    const types = [...typesOf(o), RRType.RRSIG, RRType.NSEC];
    addSet(o, [{ name: o.name, type: RRType.NSEC, class: cls, ttl, data: { nextDomainName: next, types } }]);
  }
}

/**
 * RFC 5155 §7.1: an NSEC3 per authoritative name, delegation (with opt-out only signed ones) and
 * empty non-terminal on the way to one, at the hashed owner, chained in hash order; the apex gets
 * the NSEC3PARAM (TTL 0, as BIND writes it; flags 0, RFC 5155 §4.1.2).
 */
function addNsec3Chain(zone: Zone, owners: Owner[], extra: Owner[], p: Nsec3Options, ttl: number): void {
  const origin = zone.origin;
  const cls = zone.class;
  const apex = owners[0]!;
  addSet(apex, [{ name: origin, type: RRType.NSEC3PARAM, class: cls, ttl: 0, data: { hashAlgorithm: 1, flags: 0, iterations: p.iterations, salt: p.salt } }]);
  // Which names need an NSEC3: the data and signed delegations, and (RFC 5155 §7.1) the empty
  // non-terminals above them; with opt-out, names only leading to unsigned delegations do not.
  const needed = new Set<string>();
  const nodeOf = (o: Owner): ZoneNode => zone.nodeByKey(o.key)!;
  for (const o of owners) {
    if (o.status === 'glue' || o.status === 'ent') continue;
    if (o.status === 'delegation' && p.optOut && !o.types.includes(RRType.DS)) continue;
    for (let n: ZoneNode | undefined = nodeOf(o); n !== undefined && !needed.has(n.key); n = n.parent) needed.add(n.key);
  }
  const hashed: { hash: Uint8Array; owner: Owner }[] = [];
  for (const o of owners) {
    if (!needed.has(o.key)) continue;
    hashed.push({ hash: nsec3Hash(o.name, 1, p.iterations, p.salt), owner: o });
  }
  hashed.sort((a, b) => compareBytes(a.hash, b.hash));
  for (let i = 1; i < hashed.length; i++) {
    if (compareBytes(hashed[i - 1]!.hash, hashed[i]!.hash) === 0) {
      throw new DnssecError('ERR_DNSSEC_SIGN', `NSEC3 hash collision between ${hashed[i - 1]!.owner.name.toString()} and ${hashed[i]!.owner.name.toString()}: choose another salt`);
    }
  }
  const flags = p.optOut ? 1 : 0;
  for (let i = 0; i < hashed.length; i++) {
    const { hash, owner: o } = hashed[i]!;
    const next = hashed[(i + 1) % hashed.length]!.hash;
    let types = o.status === 'ent' ? [] : typesOf(o);
    // The owner's RRSIGs: everything authoritative is signed; at a cut only a DS is.
    if (o.status === 'auth' || (o.status === 'delegation' && types.includes(RRType.DS))) types = [...types, RRType.RRSIG];
    const name = Name.fromText(toBase32Hex(hash).toLowerCase(), origin);
    const data = { hashAlgorithm: 1, flags, iterations: p.iterations, salt: p.salt, nextHashedOwnerName: next, types };
    extra.push({ name, key: name.key, status: 'auth', node: undefined, types: [RRType.NSEC3], added: [[{ name, type: RRType.NSEC3, class: cls, ttl, data }]], replaced: undefined });
  }
}
