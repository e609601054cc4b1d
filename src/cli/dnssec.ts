/**
 * `sovereign dnssec <keygen|sign|verify|ds>`: the offline DNSSEC tools, each taking the options
 * of its BIND counterpart (dnssec-keygen, dnssec-signzone, dnssec-verify, dnssec-dsfromkey) and
 * reading and writing BIND's key files (src/dnssec/key-file.ts). One file per tool.
 */
import type { Command } from './command.js';

const TOOLS: Record<string, () => Promise<(argv: string[]) => number>> = {
  keygen: async () => (await import('./dnssec-keygen.js')).runKeygen,
  sign: async () => (await import('./dnssec-sign.js')).runSign,
  verify: async () => (await import('./dnssec-verify.js')).runVerify,
  ds: async () => (await import('./dnssec-ds.js')).runDs,
};

export const command: Command = {
  summary: 'DNSSEC tools: keygen, sign, verify, ds (like dnssec-keygen, -signzone, -verify, -dsfromkey)',
  usage: `usage: sovereign dnssec <tool> [options]

  sovereign dnssec keygen [-a ALG] [-f KSK] [-b BITS] [-L TTL] [-K DIR] [-n ZONE] ZONE
      make a key pair in BIND's format (K<zone>+<alg>+<tag>.key/.private); ALG by name or
      number (default ECDSAP256SHA256); prints the base name, like dnssec-keygen
  sovereign dnssec sign [-o ORIGIN] [-f OUTPUT] [-3 SALT|-] [-H ITER] [-A] [-S] [-K DIR]
                        [-s START] [-e END] [-j JITTER] ZONEFILE [KEY...]
      sign a zone file, like dnssec-signzone: keys from -K DIR (default .) or named; NSEC, or
      NSEC3 with -3 (- = no salt), -H iterations (default 0), -A opt-out; START/END as
      YYYYMMDDHHMMSS, +SECONDS (END: from START) or now+SECONDS; writes ZONEFILE.signed
  sovereign dnssec verify [-o ORIGIN] ZONEFILE
      check every signature and the NSEC/NSEC3 chain, like dnssec-verify
  sovereign dnssec ds [-1|-2|-a DIGEST] [-T TTL] KEYFILE...
      print the DS record of each key (default SHA-256), like dnssec-dsfromkey
`,
  async run(argv: string[]): Promise<number> {
    const [tool, ...rest] = argv;
    const load = tool === undefined ? undefined : TOOLS[tool];
    if (load === undefined) {
      process.stderr.write(tool === undefined
        ? 'sovereign dnssec: name a tool: keygen, sign, verify or ds (see sovereign dnssec --help)\n'
        : `sovereign dnssec: unknown tool or option "${tool}" (keygen, sign, verify, ds)\n`);
      return 2;
    }
    return (await load())(rest);
  },
};

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
