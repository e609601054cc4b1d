/**
 * `sovereign dnssec keygen`, like dnssec-keygen: one key pair in BIND's key-file format in the
 * key directory, its base name on stdout. The private key is never printed.
 */
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DnssecAlgorithm, signingAlgorithmFrom, supportedAlgorithms } from '../dnssec/algorithms.js';
import { generateKey, parseKeyFile, writeKeyPair } from '../dnssec/key-file.js';
import { Name } from '../wire/name.js';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

export interface KeygenArgs {
  zone: Name;
  algorithm: number;
  ksk: boolean;
  bits: number | undefined;
  ttl: number | undefined;
  dir: string;
}

/** An algorithm by number or mnemonic (as BIND spells it, case-blind). */
export function parseAlgorithm(text: string): number {
  const n = signingAlgorithmFrom(text);
  if (n === undefined) {
    throw new Error(`unsupported algorithm "${text}" (use ${supportedAlgorithms().filter((a) => a.sign).map((a) => a.mnemonic).join(', ')})`);
  }
  return n;
}

export function parseKeygenArgs(argv: string[]): KeygenArgs {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      a: { type: 'string' }, f: { type: 'string' }, b: { type: 'string' }, L: { type: 'string' },
      K: { type: 'string' }, n: { type: 'string' }, q: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new Error('name one zone');
  if (values.n !== undefined && values.n.toUpperCase() !== 'ZONE') throw new Error('-n: only ZONE keys are made');
  if (values.f !== undefined && values.f.toUpperCase() !== 'KSK') throw new Error('-f: only KSK is known');
  const num = (v: string | undefined, what: string): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new Error(`${what}: "${v}" is not a number`);
    return Number(v);
  };
  return {
    zone: Name.fromText(positionals[0]!.endsWith('.') ? positionals[0]! : positionals[0]! + '.'),
    algorithm: values.a === undefined ? DnssecAlgorithm.ECDSAP256SHA256 : parseAlgorithm(values.a),
    ksk: values.f !== undefined, bits: num(values.b, '-b'), ttl: num(values.L, '-L'), dir: values.K ?? '.',
  };
}

export function runKeygen(argv: string[], now = Math.floor(Date.now() / 1000)): number {
  let args: KeygenArgs;
  try {
    args = parseKeygenArgs(argv);
  } catch (err) {
    process.stderr.write(`sovereign dnssec keygen: ${(err as Error).message}\n`);
    return 2;
  }
  try {
    // Tags of keys already there are avoided (RFC 4034 B: tags are not unique by construction).
    const tags = new Set<number>();
    for (const f of readdirSync(args.dir)) {
      if (!f.endsWith('.key') || !f.startsWith('K')) continue;
      try {
        const k = parseKeyFile(readFileSync(join(args.dir, f), 'utf8'), f);
        if (k.owner.equals(args.zone)) tags.add(Number(/\+(\d+)\.key$/.exec(f)?.[1] ?? -1));
      } catch {
        // Not a key file of ours to worry about.
      }
    }
    const key = generateKey(args.zone, { algorithm: args.algorithm, ksk: args.ksk, now, avoidTags: tags,
      ...(args.bits !== undefined ? { bits: args.bits } : {}), ...(args.ttl !== undefined ? { ttl: args.ttl } : {}) });
    const base = writeKeyPair(args.dir, key);
    process.stdout.write(base.slice(base.lastIndexOf('/') + 1) + '\n');
    return 0;
  } catch (err) {
    process.stderr.write(`sovereign dnssec keygen: ${(err as Error).message}\n`);
    return 1;
  }
}
