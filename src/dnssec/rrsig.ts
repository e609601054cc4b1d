/**
 * Making and checking one RRSIG over one RRset (RFC 4034 §3, RFC 4035 §5.3). Only the
 * cryptography and the structural match between RRSIG, RRset and DNSKEY live here; time windows,
 * TTL rules and the chain of trust are the validator's, key choice and timing the signer's.
 */
import type { KeyObject } from 'node:crypto';
import type { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRType, type DNSKEYData, type RRSIGData } from '../wire/types.js';
import { createSignature, verifySignature } from './algorithms.js';
import { signedData, type RrsigHeader } from './canonical.js';
import { keyTag } from './key-tag.js';

/** DNSKEY flag bits (RFC 4034 §2.1.1, RFC 5011 §7). */
export const DnskeyFlag = { ZONE: 0x0100, REVOKE: 0x0080, SEP: 0x0001 } as const;

/**
 * RFC 4035 §5.3.1's structural conditions between an RRSIG and a DNSKEY: same algorithm and key
 * tag, protocol 3, zone-key bit set, owner equal to the signer name.
 */
export function rrsigMatchesKey(sig: RRSIGData, keyOwner: Name, key: DNSKEYData): boolean {
  return sig.algorithm === key.algorithm
    && key.protocol === 3
    && (key.flags & DnskeyFlag.ZONE) !== 0
    && sig.signerName.equals(keyOwner)
    && sig.keyTag === keyTag(key.flags, key.protocol, key.algorithm, key.publicKey);
}

/** Checks the signature of `sig` over `rrset` with a public key already imported (no time checks). */
export function verifyRrsig(rrset: readonly ResourceRecord[], sig: RRSIGData, publicKey: KeyObject): boolean {
  return verifySignature(sig.algorithm, publicKey, signedData(sig, rrset), sig.signature);
}

/** What the signer needs to know about a key. */
export interface SigningKey {
  readonly owner: Name;
  readonly algorithm: number;
  readonly keyTag: number;
  readonly privateKey: KeyObject;
}

export interface SignOptions {
  /** Seconds since the epoch (RFC 4034 §3.1.5 serial-number arithmetic applies on the wire). */
  inception: number;
  expiration: number;
  /** Defaults to the RRset's TTL. */
  originalTtl?: number;
}

/**
 * Signs an RRset (all RRs share owner, type, class and TTL). The labels field leaves out a leading
 * `*` (RFC 4034 §3.1.3), so wildcard RRsets sign as their own owner and validate when expanded.
 */
export function signRrset(rrset: readonly ResourceRecord[], key: SigningKey, opts: SignOptions): ResourceRecord<RRSIGData> {
  const first = rrset[0]!;
  const owner = first.name;
  const labels = owner.isWildcard ? owner.labelCount - 1 : owner.labelCount;
  const originalTtl = opts.originalTtl ?? first.ttl;
  const header: RrsigHeader = {
    typeCovered: first.type,
    algorithm: key.algorithm,
    labels,
    originalTtl,
    signatureExpiration: opts.expiration >>> 0,
    signatureInception: opts.inception >>> 0,
    keyTag: key.keyTag,
    signerName: key.owner,
  };
  const signature = createSignature(key.algorithm, key.privateKey, signedData(header, rrset));
  return {
    name: owner,
    type: RRType.RRSIG,
    class: first.class,
    ttl: first.ttl,
    data: { ...header, signature },
  };
}
