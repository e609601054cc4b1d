/**
 * TSIG keys (RFC 8945 §6): the algorithms (HMAC-MD5 for old peers, HMAC-SHA1/224/256/384/512),
 * a key store looked up by key name, and BIND's key-file format (`tsig-keygen`'s output, read
 * by `dig -k` and `named.conf` includes).
 *
 * Invariants: a TsigKey is immutable and its secret is at least one octet; key names are
 * compared in canonical (lowercased) form, as RFC 8945 §4.2 requires for the MAC.
 */
import { randomBytes } from 'node:crypto';
import { TextFormatError } from '../errors.js';
import { Name } from '../wire/name.js';

export interface TsigAlgorithm {
  /** BIND's short name: `hmac-sha256`. */
  readonly short: string;
  /** The algorithm's domain name as it goes on the wire (RFC 8945 §6). */
  readonly name: Name;
  /** node:crypto hash name. */
  readonly hash: string;
  /** Octets of a full MAC. */
  readonly digestSize: number;
}

function alg(short: string, wire: string, hash: string, digestSize: number): TsigAlgorithm {
  return { short, name: Name.fromText(wire), hash, digestSize };
}

/** RFC 8945 §6 table (the GSS-API entry is not supported). */
export const TSIG_ALGORITHMS: readonly TsigAlgorithm[] = [
  alg('hmac-md5', 'hmac-md5.sig-alg.reg.int.', 'md5', 16),
  alg('hmac-sha1', 'hmac-sha1.', 'sha1', 20),
  alg('hmac-sha224', 'hmac-sha224.', 'sha224', 28),
  alg('hmac-sha256', 'hmac-sha256.', 'sha256', 32),
  alg('hmac-sha384', 'hmac-sha384.', 'sha384', 48),
  alg('hmac-sha512', 'hmac-sha512.', 'sha512', 64),
];

/** The algorithm named `text` (short or full wire name, any case, trailing dot optional). */
export function algorithmByText(text: string): TsigAlgorithm | undefined {
  const t = text.toLowerCase().replace(/\.$/, '');
  return TSIG_ALGORITHMS.find((a) => a.short === t || a.name.toString().replace(/\.$/, '') === t);
}

/** The algorithm whose wire name is `name`. */
export function algorithmByName(name: Name): TsigAlgorithm | undefined {
  const key = name.key;
  for (const a of TSIG_ALGORITHMS) if (a.name.key === key) return a;
  return undefined;
}

export class TsigKey {
  constructor(readonly name: Name, readonly algorithm: TsigAlgorithm, readonly secret: Buffer) {}

  /** The key's name as configured (no trailing dot), for ACL entries and logs. */
  get label(): string {
    const t = this.name.toString();
    return t.length > 1 ? t.slice(0, -1) : t;
  }
}

/**
 * Builds a key from text: `name`, the algorithm (`hmac-sha256`), and the secret in base64.
 * Throws TextFormatError naming what is wrong.
 */
export function makeKey(name: string, algorithm: string, secret: string): TsigKey {
  const a = algorithmByText(algorithm);
  if (a === undefined) {
    throw new TextFormatError('TSIG algorithm', `"${algorithm}" is not one of ${TSIG_ALGORITHMS.map((x) => x.short).join(', ')}`);
  }
  const s = secret.trim();
  if (s === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(s.replace(/\s+/g, ''))) {
    throw new TextFormatError('TSIG secret', 'is not base64 text');
  }
  const bytes = Buffer.from(s.replace(/\s+/g, ''), 'base64');
  if (bytes.length === 0) throw new TextFormatError('TSIG secret', 'is empty');
  const n = Name.fromText(name.endsWith('.') ? name : name + '.');
  return new TsigKey(n, a, bytes);
}

/** Keys by name (canonical form). */
export class KeyStore {
  private readonly keys = new Map<string, TsigKey>();

  constructor(keys: Iterable<TsigKey> = []) {
    for (const k of keys) this.add(k);
  }

  add(key: TsigKey): void {
    this.keys.set(key.name.key, key);
  }

  get(name: Name): TsigKey | undefined {
    return this.keys.get(name.key);
  }

  get size(): number {
    return this.keys.size;
  }
}

/**
 * Reads BIND's key-file syntax: one or more `key "NAME" { algorithm ALG; secret "BASE64"; };`
 * blocks (comments `#`, `//` and `/* *\/` allowed). Throws TextFormatError on anything else.
 */
export function parseKeyFile(text: string): TsigKey[] {
  const clean = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|\s)(#|\/\/)[^\n]*/g, ' ');
  const keys: TsigKey[] = [];
  const re = /key\s+("([^"]+)"|([^\s{]+))\s*\{([^}]*)\}\s*;/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(clean)) !== null) {
    const body = m[4]!;
    const a = /algorithm\s+"?([A-Za-z0-9.-]+)"?\s*;/.exec(body);
    const s = /secret\s+"([^"]*)"\s*;/.exec(body);
    const name = m[2] ?? m[3]!;
    if (a === null) throw new TextFormatError(`key "${name}"`, 'has no algorithm');
    if (s === null) throw new TextFormatError(`key "${name}"`, 'has no secret');
    keys.push(makeKey(name, a[1]!, s[1]!));
  }
  if (keys.length === 0) throw new TextFormatError('key file', 'holds no key "NAME" { algorithm ...; secret "..."; }; block');
  return keys;
}

/** A key in BIND's key-file syntax, exactly as `tsig-keygen` prints it. */
export function keyFileText(key: TsigKey): string {
  return `key "${key.label}" {\n\talgorithm ${key.algorithm.short};\n\tsecret "${key.secret.toString('base64')}";\n};\n`;
}

/** A new random key; its secret is as long as the algorithm's digest (as tsig-keygen does). */
export function generateKey(name: string, algorithm = 'hmac-sha256', random: (n: number) => Buffer = randomBytes): TsigKey {
  const a = algorithmByText(algorithm);
  if (a === undefined) {
    throw new TextFormatError('TSIG algorithm', `"${algorithm}" is not one of ${TSIG_ALGORITHMS.map((x) => x.short).join(', ')}`);
  }
  return makeKey(name, a.short, random(a.digestSize).toString('base64'));
}
