/**
 * DNSSEC algorithms (RFC 8624 §3.1) over node:crypto: the DNSKEY public-key formats, signing and
 * verification, one table row per algorithm number.
 *
 * Invariants: a DNSKEY public key is converted to a KeyObject once per key (callers cache it);
 * signatures are in the wire format each algorithm's RFC gives (RSA: PKCS#1 v1.5 bytes, RFC 3110/5702;
 * ECDSA: r||s, RFC 6605 §4; EdDSA: RFC 8080 §4), so they go straight into RRSIG RDATA.
 * An algorithm not in the table is "unsupported": validators treat its zones as insecure
 * (RFC 4035 §5.2), signers refuse it.
 */
import { createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { DnssecError } from '../errors.js';

/** DNSSEC algorithm numbers (IANA "DNS Security Algorithm Numbers"). */
export const DnssecAlgorithm = {
  RSASHA1: 5,
  NSEC3RSASHA1: 7,
  RSASHA256: 8,
  RSASHA512: 10,
  ECDSAP256SHA256: 13,
  ECDSAP384SHA384: 14,
  ED25519: 15,
  ED448: 16,
} as const;

type Family = 'rsa' | 'ec' | 'okp';

export interface AlgorithmInfo {
  readonly number: number;
  /** Mnemonic as BIND spells it (RFC 8624 table, K-file comments). */
  readonly mnemonic: string;
  readonly family: Family;
  /** node:crypto digest name; `null` for EdDSA, which hashes internally. */
  readonly hash: string | null;
  /** EC/OKP curve (JWK `crv`). */
  readonly curve?: string;
  /** Bytes of one coordinate / of the raw public key (EC: x and y each; OKP: the key). */
  readonly keyBytes?: number;
  /** RFC 8624 §3.1: may a validator rely on it today ("MUST"/"RECOMMENDED" to validate)? */
  readonly validate: boolean;
  /** RFC 8624 §3.1: may a signer use it ("MUST"/"RECOMMENDED"/"MAY" to sign)? */
  readonly sign: boolean;
}

const TABLE: readonly AlgorithmInfo[] = [
  { number: 5, mnemonic: 'RSASHA1', family: 'rsa', hash: 'sha1', validate: true, sign: false },
  { number: 7, mnemonic: 'NSEC3RSASHA1', family: 'rsa', hash: 'sha1', validate: true, sign: false },
  { number: 8, mnemonic: 'RSASHA256', family: 'rsa', hash: 'sha256', validate: true, sign: true },
  { number: 10, mnemonic: 'RSASHA512', family: 'rsa', hash: 'sha512', validate: true, sign: true },
  { number: 13, mnemonic: 'ECDSAP256SHA256', family: 'ec', hash: 'sha256', curve: 'P-256', keyBytes: 32, validate: true, sign: true },
  { number: 14, mnemonic: 'ECDSAP384SHA384', family: 'ec', hash: 'sha384', curve: 'P-384', keyBytes: 48, validate: true, sign: true },
  { number: 15, mnemonic: 'ED25519', family: 'okp', hash: null, curve: 'Ed25519', keyBytes: 32, validate: true, sign: true },
  { number: 16, mnemonic: 'ED448', family: 'okp', hash: null, curve: 'Ed448', keyBytes: 57, validate: true, sign: true },
];

const byNumber: (AlgorithmInfo | undefined)[] = new Array(256).fill(undefined);
for (const a of TABLE) byNumber[a.number] = a;

/** The algorithm's row, or undefined when we do not implement it. */
export function algorithmInfo(alg: number): AlgorithmInfo | undefined {
  return byNumber[alg & 0xff];
}

/** True when signatures of this algorithm can be verified here. */
export function isSupportedAlgorithm(alg: number): boolean {
  return byNumber[alg & 0xff] !== undefined;
}

/** Every algorithm the table knows. */
export function supportedAlgorithms(): readonly AlgorithmInfo[] {
  return TABLE;
}

/** A signing algorithm by number or mnemonic (BIND's spelling, case-blind); undefined when not one we sign with. */
export function signingAlgorithmFrom(text: string | number): number | undefined {
  const n = typeof text === 'number' || /^\d+$/.test(text) ? Number(text) : TABLE.find((a) => a.mnemonic.toLowerCase() === text.toLowerCase())?.number;
  return n !== undefined && byNumber[n & 0xff]?.sign === true && n < 256 ? n : undefined;
}

function b64url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

function fromB64url(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64url'));
}

function need(alg: number): AlgorithmInfo {
  const info = byNumber[alg & 0xff];
  if (info === undefined) throw new DnssecError('ERR_DNSSEC_ALGORITHM', `DNSSEC algorithm ${alg} is not supported`);
  return info;
}

/**
 * The DNSKEY public-key field as a KeyObject. RSA keys use RFC 3110 §2's layout (exponent length
 * in one octet, or 0 then two octets, then exponent, then modulus); EC keys are x||y (RFC 6605 §4);
 * EdDSA keys are the raw public key (RFC 8080 §3). Throws DnssecError on a malformed key.
 */
export function publicKeyFromDnskey(alg: number, key: Uint8Array): KeyObject {
  const info = need(alg);
  try {
    if (info.family === 'rsa') {
      if (key.length < 3) throw new Error('RSA key too short');
      let off = 1;
      let expLen = key[0]!;
      if (expLen === 0) {
        expLen = (key[1]! << 8) | key[2]!;
        off = 3;
      }
      if (expLen === 0 || off + expLen >= key.length) throw new Error('RSA exponent length runs past the key');
      const e = key.subarray(off, off + expLen);
      const n = key.subarray(off + expLen);
      // RFC 3110 §2 allows 512..4096-bit moduli; RFC 8624 keeps the range and OpenSSL refuses smaller ones anyway.
      if (n.length < 64 || n.length > 512) throw new Error(`RSA modulus of ${n.length * 8} bits`);
      return createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' });
    }
    if (info.family === 'ec') {
      const len = info.keyBytes!;
      if (key.length !== 2 * len) throw new Error(`ECDSA key of ${key.length} octets, expected ${2 * len}`);
      return createPublicKey({
        key: { kty: 'EC', crv: info.curve!, x: b64url(key.subarray(0, len)), y: b64url(key.subarray(len)) },
        format: 'jwk',
      });
    }
    if (key.length !== info.keyBytes) throw new Error(`${info.mnemonic} key of ${key.length} octets, expected ${info.keyBytes}`);
    return createPublicKey({ key: { kty: 'OKP', crv: info.curve!, x: b64url(key) }, format: 'jwk' });
  } catch (e) {
    if (e instanceof DnssecError) throw e;
    throw new DnssecError('ERR_DNSSEC_KEY', `malformed ${info.mnemonic} public key: ${(e as Error).message}`, { cause: e });
  }
}

/** The DNSKEY public-key field for a public (or private) KeyObject of the algorithm's family. */
export function dnskeyFromPublicKey(alg: number, key: KeyObject): Uint8Array {
  const info = need(alg);
  const jwk = key.export({ format: 'jwk' }) as { n?: string; e?: string; x?: string; y?: string; crv?: string };
  if (info.family === 'rsa') {
    if (jwk.n === undefined || jwk.e === undefined) throw new DnssecError('ERR_DNSSEC_KEY', 'not an RSA key');
    const n = fromB64url(jwk.n);
    const e = fromB64url(jwk.e);
    const head = e.length <= 255 ? [e.length] : [0, e.length >> 8, e.length & 0xff];
    const out = new Uint8Array(head.length + e.length + n.length);
    out.set(head, 0);
    out.set(e, head.length);
    out.set(n, head.length + e.length);
    return out;
  }
  if (jwk.crv !== info.curve || jwk.x === undefined) {
    throw new DnssecError('ERR_DNSSEC_KEY', `not a ${info.curve} key`);
  }
  if (info.family === 'ec') {
    const len = info.keyBytes!;
    const out = new Uint8Array(2 * len);
    out.set(leftPad(fromB64url(jwk.x), len), 0);
    out.set(leftPad(fromB64url(jwk.y!), len), len);
    return out;
  }
  return fromB64url(jwk.x);
}

function leftPad(b: Uint8Array, len: number): Uint8Array {
  if (b.length === len) return b;
  const out = new Uint8Array(len);
  out.set(b, len - b.length);
  return out;
}

/** Verifies `signature` (in RRSIG wire form) over `data`. A malformed signature is simply false. */
export function verifySignature(alg: number, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  const info = byNumber[alg & 0xff];
  if (info === undefined) return false;
  try {
    if (info.family === 'ec') {
      if (signature.length !== 2 * info.keyBytes!) return false;
      return cryptoVerify(info.hash!, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    return cryptoVerify(info.hash, data, key, signature);
  } catch {
    return false;
  }
}

/** Signs `data` with a private KeyObject; the result goes into the RRSIG's signature field. */
export function createSignature(alg: number, privateKey: KeyObject, data: Uint8Array): Uint8Array {
  const info = need(alg);
  const sig = info.family === 'ec'
    ? cryptoSign(info.hash!, data, { key: privateKey, dsaEncoding: 'ieee-p1363' })
    : cryptoSign(info.hash, data, privateKey);
  return new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
}
