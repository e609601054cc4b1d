/**
 * One RRset against its RRSIGs and a zone's keys (RFC 4035 §5.3, RFC 6840 §5), with the work
 * limits that keep KeyTrap (CVE-2023-50387) and NSEC3 closest-encloser (CVE-2023-50868) zones from
 * stalling the validator.
 *
 * Invariants: every signature check and NSEC3 hash of one client query is charged to one Budget;
 * once spent, the answer is bogus (never a long computation). Time windows follow Unbound: the
 * allowed skew is 10% of the signature's validity period, clamped to [1 h, 24 h]
 * (val-sig-skew-min/max), with RFC 1982 serial arithmetic on the 32-bit times (RFC 4034 §3.1.5).
 */
import type { KeyObject } from 'node:crypto';
import { EdeCode } from '../../wire/constants.js';
import type { Name } from '../../wire/name.js';
import type { ResourceRecord } from '../../wire/record.js';
import type { DNSKEYData, RRSIGData } from '../../wire/types.js';
import { isSupportedAlgorithm, publicKeyFromDnskey } from '../algorithms.js';
import { DnskeyFlag, verifyRrsig } from '../rrsig.js';
import { keyTag } from '../key-tag.js';

/** Per-query work limits (defaults in DEFAULT_LIMITS). */
export interface ValidationLimits {
  /** Signatures tried per RRset (Unbound 1.19.1 stops after 8). */
  maxSigsPerRrset: number;
  /** Keys with the same tag and algorithm tried for one signature (KeyTrap: colliding key tags). */
  maxKeyCollisions: number;
  /** Signature verifications per client query, the whole chain of trust included. */
  maxSigsPerQuery: number;
  /** NSEC3 hashes computed per client query (CVE-2023-50868). */
  maxNsec3Hashes: number;
  /** NSEC3 iterations above which a proof is insecure (RFC 9276 §3.2; Unbound 1.17's table is 150 for every key size). */
  maxNsec3Iterations: number;
}

export const DEFAULT_LIMITS: ValidationLimits = {
  maxSigsPerRrset: 8, maxKeyCollisions: 4, maxSigsPerQuery: 96, maxNsec3Hashes: 128, maxNsec3Iterations: 150,
};

/** Work left for one client query. */
export class Budget {
  sigs: number;
  nsec3: number;
  /** Set when a limit was hit (the answer is bogus and says why). */
  exhausted: string | undefined = undefined;
  /** Set when any limit stopped work (per RRset or per query), for the counters. */
  limited = false;
  constructor(readonly limits: ValidationLimits) {
    this.sigs = limits.maxSigsPerQuery;
    this.nsec3 = limits.maxNsec3Hashes;
  }
}

/** A zone key ready to verify with. */
export interface ZoneKey {
  rr: ResourceRecord<DNSKEYData>;
  tag: number;
  /** Imported lazily; null when the key is malformed. */
  key: KeyObject | null | undefined;
}

export function zoneKeysOf(dnskeys: readonly ResourceRecord[]): ZoneKey[] {
  const out: ZoneKey[] = [];
  for (const r of dnskeys) {
    const d = r.data as DNSKEYData;
    // RFC 4035 §5.3.1: only zone keys (bit 7) with protocol 3; RFC 5011 §7: never a revoked key.
    if ((d.flags & DnskeyFlag.ZONE) === 0 || d.protocol !== 3 || (d.flags & DnskeyFlag.REVOKE) !== 0) continue;
    out.push({ rr: r as ResourceRecord<DNSKEYData>, tag: keyTag(d.flags, d.protocol, d.algorithm, d.publicKey), key: undefined });
  }
  return out;
}

/**
 * Imported public keys by algorithm and key material, shared by every DNSKEY set fetched again
 * (TTL expiry, a flush, the forwarder's and the resolver's validators): the import (JWK/DER
 * parsing) costs more than a verification. Bounded: emptied when full.
 */
const imported = new Map<string, KeyObject | null>();
const MAX_IMPORTED = 4096;

function importKey(k: ZoneKey): KeyObject | null {
  if (k.key === undefined) {
    const d = k.rr.data;
    const id = `${d.algorithm}/${Buffer.from(d.publicKey.buffer, d.publicKey.byteOffset, d.publicKey.byteLength).toString('base64')}`;
    let key = imported.get(id);
    if (key === undefined) {
      try {
        key = publicKeyFromDnskey(d.algorithm, d.publicKey);
      } catch {
        key = null;
      }
      if (imported.size >= MAX_IMPORTED) imported.clear();
      imported.set(id, key);
    }
    k.key = key;
  }
  return k.key;
}

/** The outcome of checking one RRset. */
export type RrsetCheck =
  | { ok: true; ttl: number; sig: RRSIGData; key: ZoneKey; wildcard: Name | undefined }
  | { ok: false; ede: number; why: string };

/** RFC 1982 difference b - a of 32-bit serials, as a signed number. */
function serialDiff(b: number, a: number): number {
  return ((b - a) | 0);
}

/** Unbound's skew: 10% of the validity period, between 1 h and 24 h. */
function skewFor(sig: RRSIGData): number {
  const period = serialDiff(sig.signatureExpiration, sig.signatureInception);
  return Math.min(86_400, Math.max(3600, Math.floor(period / 10)));
}

/** Checks the validity window at `now` (seconds since the epoch). 0 = fine, else an EDE code. */
export function timeCheck(sig: RRSIGData, now: number): number {
  const n = now >>> 0;
  if (serialDiff(sig.signatureExpiration, sig.signatureInception) < 0) return EdeCode.SIGNATURE_EXPIRED_BEFORE_VALID;
  const skew = skewFor(sig);
  if (serialDiff(sig.signatureInception, n) > skew) return EdeCode.SIGNATURE_NOT_YET_VALID;
  if (serialDiff(n, sig.signatureExpiration) > skew) return EdeCode.SIGNATURE_EXPIRED;
  return 0;
}

/** Labels of an owner as RRSIG counts them (a leading `*` is not counted, RFC 4034 §3.1.3). */
function sigLabels(owner: Name): number {
  return owner.isWildcard ? owner.labelCount - 1 : owner.labelCount;
}

/**
 * Verifies `rrset` (one owner/type, no RRSIGs) with `sigs` (RRSIGs covering it) against `keys` of
 * `zone`. On success: the TTL it may be kept for (RFC 4035 §5.3.3: min of TTL, original TTL and
 * time to expiry) and, for a wildcard expansion, the wildcard owner (`*.<labels>`) whose
 * non-existence proof of the next closer name the caller must still check (RFC 4035 §5.3.4).
 */
export function checkRrset(rrset: readonly ResourceRecord[], sigs: readonly ResourceRecord[], zone: Name,
  keys: readonly ZoneKey[], now: number, budget: Budget): RrsetCheck {
  const first = rrset[0]!;
  const owner = first.name;
  if (sigs.length === 0) return { ok: false, ede: EdeCode.RRSIGS_MISSING, why: `no RRSIG for ${owner.toString()}/${first.type}` };
  let timeEde = 0;
  let tried = 0;
  let unsupported = 0;
  let why = `no valid RRSIG for ${owner.toString()}/${first.type} by a ${zone.toString()} key`;
  for (const s of sigs) {
    const sig = s.data as RRSIGData;
    if (sig.typeCovered !== first.type) continue;
    // RFC 4035 §5.3.1: signer is the zone holding the RRset; labels no more than the owner's.
    if (!sig.signerName.equals(zone) || !owner.isSubdomainOf(zone)) continue;
    if (sig.labels > sigLabels(owner)) continue;
    if (!isSupportedAlgorithm(sig.algorithm)) {
      unsupported++;
      continue;
    }
    if (++tried > budget.limits.maxSigsPerRrset) {
      why = `more than ${budget.limits.maxSigsPerRrset} RRSIGs tried for ${owner.toString()}/${first.type}`;
      budget.limited = true;
      break;
    }
    const t = timeCheck(sig, now);
    if (t !== 0) {
      timeEde = t;
      continue;
    }
    let collisions = 0;
    for (const k of keys) {
      if (k.tag !== sig.keyTag || k.rr.data.algorithm !== sig.algorithm) continue;
      if (++collisions > budget.limits.maxKeyCollisions) {
        why = `more than ${budget.limits.maxKeyCollisions} keys with tag ${sig.keyTag}`;
        budget.limited = true;
        break;
      }
      const key = importKey(k);
      if (key === null) continue;
      if (budget.sigs <= 0) {
        budget.exhausted = `more than ${budget.limits.maxSigsPerQuery} signature checks for one query`;
        budget.limited = true;
        return { ok: false, ede: EdeCode.DNSSEC_BOGUS, why: budget.exhausted };
      }
      budget.sigs--;
      if (verifyRrsig(rrset, sig, key)) {
        let ttl = first.ttl;
        for (const r of rrset) if (r.ttl < ttl) ttl = r.ttl;
        if (sig.originalTtl < ttl) ttl = sig.originalTtl;
        const left = serialDiff(sig.signatureExpiration, now >>> 0);
        if (left < ttl) ttl = Math.max(0, left);
        const wildcard = sig.labels < sigLabels(owner) ? owner.suffix(sig.labels).prepend('*') : undefined;
        return { ok: true, ttl, sig, key: k, wildcard };
      }
    }
  }
  if (tried === 0 && unsupported > 0) return { ok: false, ede: EdeCode.UNSUPPORTED_DNSKEY_ALGORITHM, why: 'RRSIGs only of unsupported algorithms' };
  if (tried === 0 && timeEde === 0) return { ok: false, ede: EdeCode.RRSIGS_MISSING, why: `no usable RRSIG for ${owner.toString()}/${first.type} by ${zone.toString()}` };
  if (timeEde !== 0) {
    const w = timeEde === EdeCode.SIGNATURE_EXPIRED ? 'expired' : timeEde === EdeCode.SIGNATURE_NOT_YET_VALID ? 'not yet valid' : 'expired before valid';
    return { ok: false, ede: timeEde, why: `RRSIG for ${owner.toString()}/${first.type} ${w}` };
  }
  return { ok: false, ede: EdeCode.DNSSEC_BOGUS, why };
}
