/**
 * `sovereign dnssec <keygen|sign|verify|ds>`: the offline DNSSEC tools, each taking the options
 * of its BIND counterpart (dnssec-keygen, dnssec-signzone, dnssec-verify, dnssec-dsfromkey) and
 * reading and writing BIND's key files (src/dnssec/key-file.ts). One file per tool.
 */
import type { Command } from './command.js';

const TOOLS: Record<string, () => Promise<(argv: string[]) => number | Promise<number>>> = {
  keygen: async () => (await import('./dnssec-keygen.js')).runKeygen,
  sign: async () => (await import('./dnssec-sign.js')).runSign,
  verify: async () => (await import('./dnssec-verify.js')).runVerify,
  ds: async () => (await import('./dnssec-ds.js')).runDs,
  status: async () => (await import('./dnssec-status.js')).runStatus,
  checkds: async () => (await import('./dnssec-status.js')).runCheckds,
};

export const command: Command = {
  summary: 'DNSSEC tools: keygen, sign, verify, ds (like dnssec-keygen, -signzone, -verify, -dsfromkey); status, checkds (like rndc dnssec)',
  usage: `usage: sovereign dnssec <tool> [options]

  sovereign dnssec keygen [-a ALG] [-f KSK] [-b BITS] [-L TTL] [-K DIR] [-n ZONE] ZONE
      make a key pair in BIND's format (K<zone>+<alg>+<tag>.key/.private); ALG by name or
      number (default ECDSAP256SHA256); prints the base name, like dnssec-keygen
  sovereign dnssec sign [-o ORIGIN] [-f OUTPUT] [-3 SALT|-] [-H ITER] [-A] [-S] [-K DIR]
                        [-s START] [-e END] [-j JITTER] [-n THREADS] ZONEFILE [KEY...]
      sign a zone file, like dnssec-signzone: keys from -K DIR (default .) or named; NSEC, or
      NSEC3 with -3 (- = no salt), -H iterations (default 0), -A opt-out; START/END as
      YYYYMMDDHHMMSS, +SECONDS (END: from START) or now+SECONDS; -n signing threads (default
      one per core, like dnssec-signzone -n); writes ZONEFILE.signed
  sovereign dnssec verify [-o ORIGIN] ZONEFILE
      check every signature and the NSEC/NSEC3 chain, like dnssec-verify
  sovereign dnssec ds [-1|-2|-a DIGEST] [-T TTL] KEYFILE...
      print the DS record of each key (default SHA-256), like dnssec-dsfromkey
  sovereign dnssec status ZONE [--json] [target options]
      the running server's keys for ZONE: role, state, timing, CDS and parent DS, next event
      (like rndc dnssec -status)
  sovereign dnssec checkds ZONE published|withdrawn [--key TAG] [target options]
      tell the server the parent's DS for the key (default: every KSK whose CDS is published)
      is there now, or gone (like rndc dnssec -checkds); a KSK roll waits for it
`,
  async run(argv: string[]): Promise<number> {
    const [tool, ...rest] = argv;
    const load = tool === undefined ? undefined : TOOLS[tool];
    if (load === undefined) {
      process.stderr.write(tool === undefined
        ? 'sovereign dnssec: name a tool: keygen, sign, verify, ds, status or checkds (see sovereign dnssec --help)\n'
        : `sovereign dnssec: unknown tool or option "${tool}" (keygen, sign, verify, ds, status, checkds)\n`);
      return 2;
    }
    return (await load())(rest);
  },
};
