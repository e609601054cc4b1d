/**
 * `sovereign dnssec ds`, like dnssec-dsfromkey: the DS record of each key file named
 * (`K...key`, `K...` or `K....private`), SHA-256 by default, as one line each.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DigestType, dsDigest } from '../dnssec/digest.js';
import { keyTag } from '../dnssec/key-tag.js';
import { parseKeyFile } from '../dnssec/key-file.js';

export function runDs(argv: string[]): number {
  let values: { '1'?: boolean; '2'?: boolean; a?: string; T?: string };
  let files: string[];
  try {
    const p = parseArgs({ args: argv, allowPositionals: true, options: { 1: { type: 'boolean' }, 2: { type: 'boolean' }, a: { type: 'string' }, T: { type: 'string' } } });
    values = p.values;
    files = p.positionals;
    if (files.length === 0) throw new Error('name one or more key files');
  } catch (err) {
    process.stderr.write(`sovereign dnssec ds: ${(err as Error).message}\n`);
    return 2;
  }
  const digests: number[] = [];
  if (values['1'] === true) digests.push(DigestType.SHA1);
  if (values['2'] === true) digests.push(DigestType.SHA256);
  if (values.a !== undefined) {
    const a = values.a.toUpperCase().replace('-', '');
    const d = a === 'SHA1' || a === '1' ? DigestType.SHA1 : a === 'SHA256' || a === '2' ? DigestType.SHA256 : a === 'SHA384' || a === '4' ? DigestType.SHA384 : undefined;
    if (d === undefined) {
      process.stderr.write(`sovereign dnssec ds: unknown digest "${values.a}" (SHA-1, SHA-256, SHA-384)\n`);
      return 2;
    }
    digests.push(d);
  }
  if (digests.length === 0) digests.push(DigestType.SHA256);
  let out = '';
  for (const f of files) {
    const file = f.endsWith('.key') ? f : f.replace(/\.private$/, '') + '.key';
    try {
      const k = parseKeyFile(readFileSync(file, 'utf8'), file);
      const rdata = new Uint8Array(4 + k.publicKey.length);
      rdata.set([k.flags >> 8, k.flags & 0xff, 3, k.algorithm]);
      rdata.set(k.publicKey, 4);
      const tag = keyTag(k.flags, 3, k.algorithm, k.publicKey);
      for (const d of digests) {
        const hex = Buffer.from(dsDigest(k.owner, rdata, d)).toString('hex').toUpperCase();
        out += `${k.owner.toString()} ${values.T !== undefined ? values.T + ' ' : ''}IN DS ${tag} ${k.algorithm} ${d} ${hex}\n`;
      }
    } catch (err) {
      process.stderr.write(`sovereign dnssec ds: ${(err as Error).message}\n`);
      return 1;
    }
  }
  process.stdout.write(out);
  return 0;
}
