/**
 * `sovereign dnssec sign`, like dnssec-signzone: reads a zone file and the zone's keys (from the
 * key directory, as `-S` smart signing does, and any named on the command line), writes the
 * signed zone as a master file. Keys take part by their timing metadata: published once Publish
 * has passed, signing once Activate has (and until Inactive), gone after Delete.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { type DnssecKey, readKeyPair, readZoneKeys } from '../dnssec/key-file.js';
import { signZoneParallel } from '../dnssec/signer/parallel-sign.js';
import { type Nsec3Options, signZone } from '../dnssec/signer/sign-zone.js';
import { Name } from '../wire/name.js';
import { recordToString } from '../wire/record.js';
import { loadZone } from '../zone/load.js';

/** Default validity (dnssec-signzone's): from an hour ago to 30 days after the start. */
const HOUR = 3600;
const DEFAULT_VALIDITY = 30 * 86400;

export interface SignArgs {
  file: string;
  origin: Name;
  output: string;
  nsec3: Nsec3Options | undefined;
  keyDir: string;
  keyFiles: string[];
  inception: number;
  expiration: number;
  jitter: number;
  /** Signing threads (-n, as dnssec-signzone's; default one per core). */
  threads: number;
}

export function parseSignArgs(argv: string[], now: number): SignArgs {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      o: { type: 'string' }, f: { type: 'string' }, 3: { type: 'string' }, H: { type: 'string' }, A: { type: 'boolean' },
      S: { type: 'boolean' }, K: { type: 'string' }, s: { type: 'string' }, e: { type: 'string' }, j: { type: 'string' },
      q: { type: 'boolean' }, n: { type: 'string' },
    },
  });
  if (positionals.length < 1) throw new Error('name the zone file');
  const file = positionals[0]!;
  const originText = values.o ?? file.slice(file.lastIndexOf('/') + 1);
  const origin = Name.fromText(originText.endsWith('.') ? originText : originText + '.');
  let nsec3: Nsec3Options | undefined;
  if (values['3'] !== undefined) {
    const salt = values['3'] === '-' ? '' : values['3'];
    if (!/^([0-9a-fA-F]{2})*$/.test(salt) || salt.length > 510) throw new Error(`-3: salt "${values['3']}" is not hex (or - for none)`);
    const iterations = values.H === undefined ? 0 : Number(values.H);
    // dnssec-signzone refuses more than 150; RFC 9276 §3.1 asks for 0.
    if (!Number.isInteger(iterations) || iterations < 0 || iterations > 150) throw new Error(`-H: ${values.H} iterations (0..150; RFC 9276 recommends 0)`);
    nsec3 = { iterations, salt: new Uint8Array(Buffer.from(salt, 'hex')), optOut: values.A === true };
  } else if (values.A === true || values.H !== undefined) {
    throw new Error('-A and -H need NSEC3 (-3 SALT or -3 -)');
  }
  const inception = values.s === undefined ? now - HOUR : parseSignTime(values.s, now, now);
  const expiration = values.e === undefined ? inception + DEFAULT_VALIDITY : parseSignTime(values.e, now, inception);
  if (expiration <= inception) throw new Error('-e: the end must come after the start');
  const jitter = values.j === undefined ? Math.floor((expiration - inception) / 16) : Number(values.j);
  if (!Number.isInteger(jitter) || jitter < 0 || jitter >= expiration - inception) throw new Error(`-j: ${values.j} is not a jitter below the validity period`);
  const threads = values.n === undefined ? availableParallelism() : Number(values.n);
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new Error(`-n: ${values.n} is not a number of threads (1..256)`);
  return {
    file, origin, output: values.f ?? file + '.signed', nsec3, keyDir: values.K ?? '.', keyFiles: positionals.slice(1),
    inception, expiration, jitter, threads,
  };
}

/** Keys published and active at `now`, by their timing metadata (RFC 7583 §3). */
export function keysAt(keys: readonly DnssecKey[], now: number): { published: DnssecKey[]; active: DnssecKey[] } {
  const published = keys.filter((k) => (k.timing.Publish ?? 0) <= now && (k.timing.Delete === undefined || k.timing.Delete > now));
  const active = published.filter((k) => (k.timing.Activate ?? 0) <= now && (k.timing.Inactive === undefined || k.timing.Inactive > now));
  return { published, active };
}

export async function runSign(argv: string[], now = Math.floor(Date.now() / 1000)): Promise<number> {
  let args: SignArgs;
  try {
    args = parseSignArgs(argv, now);
  } catch (err) {
    process.stderr.write(`sovereign dnssec sign: ${(err as Error).message}\n`);
    return 2;
  }
  try {
    const { zone, problems } = loadZone(args.file, args.origin);
    for (const p of problems) if (p.severity === 'error') process.stderr.write(`${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.reason}\n`);
    if (zone === undefined) {
      process.stderr.write(`sovereign dnssec sign: ${args.file}: zone not loaded due to errors\n`);
      return 1;
    }
    const keys = [...readZoneKeys(args.keyDir, args.origin)];
    for (const f of args.keyFiles) {
      const k = readKeyPair(f.replace(/\.(key|private)$/, ''));
      if (!keys.some((x) => x.keyTag === k.keyTag && x.algorithm === k.algorithm)) keys.push(k);
    }
    const { published, active } = keysAt(keys, now);
    if (active.length === 0) {
      process.stderr.write(`sovereign dnssec sign: no active key for ${args.origin.toString()} in ${args.keyDir} (make one with sovereign dnssec keygen)\n`);
      return 1;
    }
    // Each record is written as it is made, in 1 MiB pieces: neither the signed zone's records
    // nor its text are ever held whole. With more than one thread, worker threads sign and
    // print (src/dnssec/signer/parallel-sign.ts) and their texts are written in order.
    const fd = openSync(args.output, 'w');
    try {
      let buf = `; File written by sovereign dnssec sign on ${new Date(now * 1000).toISOString()}\n`;
      const write = (text: string): void => {
        buf += text;
        if (buf.length > 1 << 20) {
          writeSync(fd, buf);
          buf = '';
        }
      };
      const sign = { keys: published, active, inception: args.inception, expiration: args.expiration, jitter: args.jitter, nsec3: args.nsec3 };
      if (args.threads > 1) await signZoneParallel(zone, { ...sign, threads: args.threads, write });
      else signZone(zone, { ...sign, emit: (rr) => write(recordToString(rr) + '\n') });
      writeSync(fd, buf);
    } finally {
      closeSync(fd);
    }
    process.stdout.write(args.output + '\n');
    return 0;
  } catch (err) {
    process.stderr.write(`sovereign dnssec sign: ${(err as Error).message}\n`);
    return 1;
  }
}

/** Parses a time as dnssec-signzone takes it: YYYYMMDDHHMMSS, +N (from `base`), now+N, or seconds. */
export function parseSignTime(text: string, now: number, base: number): number {
  if (/^\d{14}$/.test(text)) {
    return Date.UTC(+text.slice(0, 4), +text.slice(4, 6) - 1, +text.slice(6, 8), +text.slice(8, 10), +text.slice(10, 12), +text.slice(12, 14)) / 1000;
  }
  let m = /^\+(\d+)$/.exec(text);
  if (m !== null) return base + Number(m[1]);
  m = /^now\+(\d+)$/.exec(text);
  if (m !== null) return now + Number(m[1]);
  if (text === 'now') return now;
  if (/^\d{1,10}$/.test(text)) return Number(text);
  throw new Error(`"${text}" is not a time (YYYYMMDDHHMMSS, +SECONDS or now+SECONDS)`);
}
