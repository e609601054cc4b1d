/**
 * DS digests (RFC 4034 §5.1.4, RFC 4509, RFC 6605) and NSEC3 owner hashes (RFC 5155 §5).
 */
import { createHash } from 'node:crypto';
import type { Name } from '../wire/name.js';
import { DnssecError } from '../errors.js';

/** DS digest types (IANA "Delegation Signer (DS) Resource Record (RR) Type Digest Algorithms"). */
export const DigestType = { SHA1: 1, SHA256: 2, GOST: 3, SHA384: 4 } as const;

const DIGESTS: (readonly [string, number] | undefined)[] = [undefined, ['sha1', 20], ['sha256', 32], undefined, ['sha384', 48]];

/** Digest length in octets for a digest type we implement, else undefined. */
export function digestLength(digestType: number): number | undefined {
  return DIGESTS[digestType]?.[1];
}

/** True when DS records of this digest type can be checked here (RFC 8624 §3.3). */
export function isSupportedDigest(digestType: number): boolean {
  return DIGESTS[digestType] !== undefined;
}

/** The DS digest of a DNSKEY: H(owner in canonical form | DNSKEY RDATA) (RFC 4034 §5.1.4). */
export function dsDigest(owner: Name, dnskeyRdata: Uint8Array, digestType: number): Uint8Array {
  const d = DIGESTS[digestType];
  if (d === undefined) throw new DnssecError('ERR_DNSSEC_DIGEST', `DS digest type ${digestType} is not supported`);
  const h = createHash(d[0]);
  h.update(owner.toLowerCase().wire);
  h.update(dnskeyRdata);
  return new Uint8Array(h.digest());
}

/**
 * NSEC3 hash of an owner name (RFC 5155 §5): IH(0) = SHA-1(owner | salt), IH(k) = SHA-1(IH(k-1) | salt),
 * over `iterations` extra rounds. Only hash algorithm 1 (SHA-1) is defined.
 */
export function nsec3Hash(owner: Name, hashAlgorithm: number, iterations: number, salt: Uint8Array): Uint8Array {
  if (hashAlgorithm !== 1) throw new DnssecError('ERR_DNSSEC_NSEC3_HASH', `NSEC3 hash algorithm ${hashAlgorithm} is not supported`);
  let x = createHash('sha1').update(owner.toLowerCase().wire).update(salt).digest();
  for (let i = 0; i < iterations; i++) x = createHash('sha1').update(x).update(salt).digest();
  return new Uint8Array(x);
}
