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
import type { Name } from '../../wire/name.js';
import type { ResourceRecord } from '../../wire/record.js';
import { RRType, type SOAData } from '../../wire/types.js';
import { type RRset, type Zone, peekRData } from '../../zone/zone.js';
import { canonicalRdataSet, compareBytes } from '../canonical.js';
import { type DnssecKey, isKsk } from '../key-file.js';
import { signRrset } from '../rrsig.js';
import { type Nsec3Options, type OutOwner, type WalkOptions, walkZone } from './zone-walk.js';

export type { Nsec3Options } from './zone-walk.js';

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

/**
 * What both signers (this one and parallel-sign.ts) need before the walk: the keys split by role,
 * the merged apex DNSKEY RRset and the NSEC/NSEC3 TTL. Throws DnssecError when no key can sign.
 */
export function prepareSigning(zone: Zone, opts: SignZoneOptions): WalkOptions {
  const origin = zone.origin;
  const soaSet = zone.apex.get(RRType.SOA);
  if (soaSet === undefined) throw new DnssecError('ERR_DNSSEC_SIGN', `zone ${origin.toString()} has no SOA`);
  const soa = peekRData(soaSet)[0] as SOAData;
  // RFC 9077 §3 (RFC 4034 §4 as updated): NSEC/NSEC3 TTL = min(SOA TTL, SOA MINIMUM).
  const negativeTtl = Math.min(soaSet.ttl, soa.minimum);
  const active = opts.active ?? opts.keys;
  if (active.length === 0) throw new DnssecError('ERR_DNSSEC_SIGN', `no active key to sign ${origin.toString()}`);
  for (const k of opts.keys) {
    if (!k.owner.equals(origin)) throw new DnssecError('ERR_DNSSEC_SIGN', `key ${k.keyTag} belongs to ${k.owner.toString()}, not ${origin.toString()}`);
  }
  const { ksks, zsks } = splitKeys(active);
  // DNSKEYs: those of the input plus every published key's, once each.
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
  return { ksks, zsks, dnskeys: merged, apexSets: opts.apexSets ?? [], nsec3: opts.nsec3, negativeTtl };
}

/** The records of one output RRset (an input one decoded for this turn only). */
export function recordsOf(owner: Name, set: { input: RRset | undefined; made: ResourceRecord[] | undefined }): ResourceRecord[] {
  if (set.made !== undefined) return set.made;
  const s = set.input!;
  return peekRData(s).map((data) => ({ name: owner, type: s.type, class: s.class, ttl: s.ttl, data }));
}

/** Signs `zone` (see the module comment). Throws DnssecError when no key can sign it. */
export function signZone(zone: Zone, opts: SignZoneOptions): SignedZoneData {
  const walk = prepareSigning(zone, opts);
  const active = opts.active ?? opts.keys;
  const random = opts.random ?? Math.random;
  const jitter = opts.jitter ?? 0;
  const cache = opts.cache;
  const next = cache === undefined ? undefined : new Map<string, CachedSigs>();
  const keysId = active.map((k) => `${k.algorithm}/${k.keyTag}`).sort().join(',');
  let signed = 0;
  let reused = 0;
  const records: ResourceRecord[] = [];
  const emit = opts.emit ?? ((rr: ResourceRecord): void => { records.push(rr); });
  const visit = (o: OutOwner): void => {
    for (const out of o.sets) {
      const set = recordsOf(o.name, out);
      for (const rr of set) emit(rr);
      const signers = out.signers;
      if (signers === undefined) continue;
      const cacheKey = o.key + '/' + out.type;
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
  };
  for (const o of walkZone(zone, walk)) visit(o);
  if (cache !== undefined) {
    cache.map.clear();
    for (const [k, v] of next!) cache.map.set(k, v);
  }
  return { origin: zone.origin, records, signed, reused };
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
