/**
 * DNSSEC keys in BIND's key-file format, so keys move between Sovereign and dnssec-keygen /
 * dnssec-signzone both ways:
 *   K<zone>+<alg>+<tag>.key      the DNSKEY record, after comment lines with the timing metadata
 *   K<zone>+<alg>+<tag>.private  "Private-key-format: v1.3", the algorithm, the private key fields
 *                                (RSA: Modulus ... Coefficient; ECDSA/EdDSA: PrivateKey), then the
 *                                timing metadata (Created, Publish, Activate, ...) as YYYYMMDDHHMMSS
 *
 * Invariants: private key material is only ever written to the .private file, created 0600 (as
 * dnssec-keygen does), and never put in an error message or log line; errors name the file only.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { closeSync, openSync, readFileSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DnssecError } from '../errors.js';
import { Name } from '../wire/name.js';
import { algorithmInfo, createSignature, dnskeyFromPublicKey, publicKeyFromDnskey, verifySignature } from './algorithms.js';
import { keyTag } from './key-tag.js';
import { DnskeyFlag, type SigningKey } from './rrsig.js';

/** Timing metadata fields, as BIND names them, in the order it writes them. */
export const TIMING_FIELDS = ['Created', 'Publish', 'Activate', 'Revoke', 'Inactive', 'Delete', 'SyncPublish', 'SyncDelete'] as const;
export type TimingField = (typeof TIMING_FIELDS)[number];

/** A DNSSEC key pair with what BIND keeps beside it. */
export interface DnssecKey extends SigningKey {
  readonly flags: number;
  /** DNSKEY public-key field. */
  readonly publicKey: Uint8Array;
  /** DNSKEY TTL when the .key file gives one. */
  readonly ttl: number | undefined;
  /** Seconds since the epoch, per field present. */
  readonly timing: Partial<Record<TimingField, number>>;
}

/** `K<zone>+<alg>+<tag>` (the zone without its trailing dot, except the root's). */
export function keyBaseName(owner: Name, algorithm: number, tag: number): string {
  const zone = owner.isRoot ? '.' : owner.toString().replace(/\.$/, '').toLowerCase();
  return `K${zone}.+${String(algorithm).padStart(3, '0')}+${String(tag).padStart(5, '0')}`;
}

/** True for a key with the SEP bit (a KSK or CSK). */
export function isKsk(key: { flags: number }): boolean {
  return (key.flags & DnskeyFlag.SEP) !== 0;
}

/** YYYYMMDDHHMMSS (UTC) for seconds since the epoch. */
export function formatKeyTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function parseKeyTime(text: string, file: string, field: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text.trim());
  if (m === null) throw new DnssecError('ERR_DNSSEC_KEY_FILE', `${file}: ${field}: "${text.trim()}" is not YYYYMMDDHHMMSS`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
}

const b64ToUrl = (s: string): string => Buffer.from(s, 'base64').toString('base64url');
const urlToB64 = (s: string): string => Buffer.from(s, 'base64url').toString('base64');

/** RSA fields of a v1.3 .private file and their JWK names. */
const RSA_FIELDS: readonly [string, string][] = [
  ['Modulus', 'n'], ['PublicExponent', 'e'], ['PrivateExponent', 'd'], ['Prime1', 'p'], ['Prime2', 'q'],
  ['Exponent1', 'dp'], ['Exponent2', 'dq'], ['Coefficient', 'qi'],
];

/** Parses the DNSKEY line of a .key file (comments and blank lines skipped). */
export function parseKeyFile(text: string, file: string): { owner: Name; ttl: number | undefined; flags: number; algorithm: number; publicKey: Uint8Array } {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/;.*$/, '').trim();
    if (line === '') continue;
    const f = line.split(/\s+/);
    const at = f.findIndex((x) => x.toUpperCase() === 'DNSKEY');
    if (at < 1 || f.length < at + 5) throw new DnssecError('ERR_DNSSEC_KEY_FILE', `${file}: expected "<zone> [TTL] [IN] DNSKEY <flags> 3 <algorithm> <key>"`);
    const ttlField = f.slice(1, at).find((x) => /^\d+$/.test(x));
    const flags = Number(f[at + 1]);
    const algorithm = Number(f[at + 3]);
    if (!Number.isInteger(flags) || !Number.isInteger(algorithm) || f[at + 2] !== '3') {
      throw new DnssecError('ERR_DNSSEC_KEY_FILE', `${file}: bad DNSKEY flags, protocol or algorithm`);
    }
    return {
      owner: Name.fromText(f[0]!), ttl: ttlField === undefined ? undefined : Number(ttlField), flags, algorithm,
      publicKey: new Uint8Array(Buffer.from(f.slice(at + 4).join(''), 'base64')),
    };
  }
  throw new DnssecError('ERR_DNSSEC_KEY_FILE', `${file}: no DNSKEY record`);
}

/** Reads `<base>.key` and `<base>.private` (`base` is a path without the extension). */
export function readKeyPair(base: string): DnssecKey {
  const keyFile = base + '.key';
  const privFile = base + '.private';
  let keyText: string;
  let privText: string;
  try {
    keyText = readFileSync(keyFile, 'utf8');
    privText = readFileSync(privFile, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new DnssecError('ERR_DNSSEC_KEY_FILE', `cannot read key ${base}: ${e.code ?? e.message}${e.path !== undefined ? ` (${e.path})` : ''}`, { cause: err });
  }
  const pub = parseKeyFile(keyText, keyFile);
  const info = algorithmInfo(pub.algorithm);
  if (info === undefined) throw new DnssecError('ERR_DNSSEC_ALGORITHM', `${keyFile}: DNSSEC algorithm ${pub.algorithm} is not supported`);
  const fields = new Map<string, string>();
  for (const line of privText.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) fields.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const format = fields.get('Private-key-format') ?? '';
  if (!/^v1\.[0-9]+$/.test(format)) throw new DnssecError('ERR_DNSSEC_KEY_FILE', `${privFile}: not a BIND private key file (Private-key-format v1.x)`);
  const alg = Number((fields.get('Algorithm') ?? '').split(/\s/)[0]);
  if (alg !== pub.algorithm) throw new DnssecError('ERR_DNSSEC_KEY_FILE', `${privFile}: algorithm ${alg} does not match the .key file's ${pub.algorithm}`);
  let privateKey: KeyObject;
  try {
    if (info.family === 'rsa') {
      const jwk: Record<string, string> = { kty: 'RSA' };
      for (const [field, name] of RSA_FIELDS) {
        const v = fields.get(field);
        if (v === undefined) throw new Error(`no ${field}`);
        jwk[name] = b64ToUrl(v);
      }
      privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
    } else {
      const d = fields.get('PrivateKey');
      if (d === undefined) throw new Error('no PrivateKey');
      const len = info.keyBytes!;
      const pk = pub.publicKey;
      const jwk = info.family === 'ec'
        ? { kty: 'EC', crv: info.curve!, x: Buffer.from(pk.subarray(0, len)).toString('base64url'), y: Buffer.from(pk.subarray(len)).toString('base64url'), d: b64ToUrl(d) }
        : { kty: 'OKP', crv: info.curve!, x: Buffer.from(pk).toString('base64url'), d: b64ToUrl(d) };
      privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
    }
  } catch (err) {
    // The message names the file and the missing field only: never key material.
    throw new DnssecError('ERR_DNSSEC_KEY_FILE', `${privFile}: unusable ${info.mnemonic} private key (${(err as Error).message.split('\n')[0]})`);
  }
  // The private key must be the .key file's: a mismatched pair would make signatures nobody can
  // check. A JWK import keeps the x/y it was given, so the pair is proved by signing a probe.
  if (!pairMatches(pub.algorithm, privateKey, pub.publicKey)) {
    throw new DnssecError('ERR_DNSSEC_KEY_FILE', `${privFile}: private key does not belong to ${keyFile}`);
  }
  const timing: Partial<Record<TimingField, number>> = {};
  for (const t of TIMING_FIELDS) {
    const v = fields.get(t);
    if (v !== undefined) timing[t] = parseKeyTime(v, privFile, t);
  }
  return {
    owner: pub.owner, algorithm: pub.algorithm, flags: pub.flags, publicKey: pub.publicKey, ttl: pub.ttl,
    keyTag: keyTag(pub.flags, 3, pub.algorithm, pub.publicKey), privateKey, timing,
  };
}

function pairMatches(alg: number, privateKey: KeyObject, publicKey: Uint8Array): boolean {
  try {
    const probe = new TextEncoder().encode('sovereign key-pair probe');
    return verifySignature(alg, publicKeyFromDnskey(alg, publicKey), probe, createSignature(alg, privateKey, probe));
  } catch {
    return false;
  }
}

/** Every key pair for `zone` in `dir` (files named K<zone>+...), in file-name order. */
export function readZoneKeys(dir: string, zone: Name): DnssecKey[] {
  const prefix = keyBaseName(zone, 0, 0).replace(/\+000\+00000$/, '+');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new DnssecError('ERR_DNSSEC_KEY_FILE', `cannot read key directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  const out: DnssecKey[] = [];
  for (const n of names.sort()) {
    if (!n.toLowerCase().startsWith(prefix.toLowerCase()) || !n.endsWith('.private')) continue;
    const key = readKeyPair(join(dir, n.slice(0, -'.private'.length)));
    if (key.owner.equals(zone)) out.push(key);
  }
  return out;
}

export interface GenerateKeyOptions {
  algorithm: number;
  /** KSK/CSK: the SEP bit (flags 257); else a ZSK (256). */
  ksk: boolean;
  /** RSA modulus bits (default 2048, as dnssec-keygen). */
  bits?: number;
  /** Creation time, seconds since the epoch (also Publish and Activate unless given). */
  now: number;
  ttl?: number;
  /** Key tags to avoid (keys already in the directory): regenerate on a collision. */
  avoidTags?: ReadonlySet<number>;
}

/** Makes a new key pair (node:crypto's CSPRNG). */
export function generateKey(owner: Name, opts: GenerateKeyOptions): DnssecKey {
  const info = algorithmInfo(opts.algorithm);
  if (info === undefined || !info.sign) {
    throw new DnssecError('ERR_DNSSEC_ALGORITHM', `DNSSEC algorithm ${opts.algorithm} cannot be used for signing (RFC 8624: use 8, 10, 13, 14, 15 or 16)`);
  }
  const flags = DnskeyFlag.ZONE | (opts.ksk ? DnskeyFlag.SEP : 0);
  for (let attempt = 0; ; attempt++) {
    let privateKey: KeyObject;
    if (info.family === 'rsa') privateKey = generateKeyPairSync('rsa', { modulusLength: opts.bits ?? 2048, publicExponent: 65537 }).privateKey;
    else if (info.family === 'ec') privateKey = generateKeyPairSync('ec', { namedCurve: info.curve === 'P-256' ? 'prime256v1' : 'secp384r1' }).privateKey;
    else privateKey = info.curve === 'Ed25519' ? generateKeyPairSync('ed25519').privateKey : generateKeyPairSync('ed448').privateKey;
    const publicKey = dnskeyFromPublicKey(opts.algorithm, privateKey);
    const tag = keyTag(flags, 3, opts.algorithm, publicKey);
    // A tag already used (or its revoked twin, RFC 5011 §7) would make RRSIGs ambiguous.
    if (attempt < 100 && (opts.avoidTags?.has(tag) === true || opts.avoidTags?.has(keyTag(flags | DnskeyFlag.REVOKE, 3, opts.algorithm, publicKey)) === true)) continue;
    return {
      owner, algorithm: opts.algorithm, flags, publicKey, ttl: opts.ttl, keyTag: tag, privateKey,
      timing: { Created: opts.now, Publish: opts.now, Activate: opts.now },
    };
  }
}

/** The DNSKEY record as one line of text ("zone. [TTL] IN DNSKEY flags 3 alg base64"). */
export function dnskeyLine(key: DnssecKey): string {
  return `${key.owner.toString()} ${key.ttl !== undefined ? `${key.ttl} ` : ''}IN DNSKEY ${key.flags} 3 ${key.algorithm} ${Buffer.from(key.publicKey).toString('base64')}`;
}

function ctime(seconds: number): string {
  // As BIND prints it: "Thu Dec  3 10:18:28 2026" (UTC here).
  const d = new Date(seconds * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** The .key file's text. */
export function keyFileText(key: DnssecKey): string {
  const lines = [`; This is a ${isKsk(key) ? 'key' : 'zone'}-signing key, keyid ${key.keyTag}, for ${key.owner.toString()}`];
  for (const t of TIMING_FIELDS) {
    const v = key.timing[t];
    if (v !== undefined) lines.push(`; ${t}: ${formatKeyTime(v)} (${ctime(v)})`);
  }
  lines.push(dnskeyLine(key));
  return lines.join('\n') + '\n';
}

/** The .private file's text (Private-key-format v1.3). */
export function privateFileText(key: DnssecKey): string {
  const info = algorithmInfo(key.algorithm)!;
  const lines = ['Private-key-format: v1.3', `Algorithm: ${key.algorithm} (${info.mnemonic})`];
  const jwk = key.privateKey.export({ format: 'jwk' }) as Record<string, string>;
  if (info.family === 'rsa') {
    for (const [field, name] of RSA_FIELDS) lines.push(`${field}: ${urlToB64(jwk[name]!)}`);
  } else {
    // ECDSA: the private scalar at full length (RFC 6605 sizes); EdDSA: the seed (RFC 8080).
    let d = Buffer.from(jwk.d!, 'base64url');
    const len = info.family === 'ec' ? info.keyBytes! : d.length;
    if (d.length < len) d = Buffer.concat([Buffer.alloc(len - d.length), d]);
    lines.push(`PrivateKey: ${d.toString('base64')}`);
  }
  for (const t of TIMING_FIELDS) {
    const v = key.timing[t];
    if (v !== undefined) lines.push(`${t}: ${formatKeyTime(v)}`);
  }
  return lines.join('\n') + '\n';
}

function writeNew(path: string, text: string, mode: number): void {
  // 'wx': never overwrite a key; the mode is set at creation, so the secret is never readable by others.
  const fd = openSync(path, 'wx', mode);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** Writes `<dir>/K...key` (0644) and `.private` (0600); returns the base path (without extension). */
export function writeKeyPair(dir: string, key: DnssecKey): string {
  const base = join(dir, keyBaseName(key.owner, key.algorithm, key.keyTag));
  try {
    writeNew(base + '.private', privateFileText(key), 0o600);
    writeNew(base + '.key', keyFileText(key), 0o644);
  } catch (err) {
    throw new DnssecError('ERR_DNSSEC_KEY_FILE', `cannot write key ${base}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  return base;
}

function replaceFile(path: string, text: string, mode: number): void {
  // Written beside and renamed over: a reader sees the old file or the new one, never half of one.
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Rewrites an existing key pair's files with its (changed) timing metadata; the .private stays 0600. */
export function rewriteKeyPair(dir: string, key: DnssecKey): string {
  const base = join(dir, keyBaseName(key.owner, key.algorithm, key.keyTag));
  try {
    replaceFile(base + '.private', privateFileText(key), 0o600);
    replaceFile(base + '.key', keyFileText(key), 0o644);
  } catch (err) {
    throw new DnssecError('ERR_DNSSEC_KEY_FILE', `cannot write key ${base}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  return base;
}
