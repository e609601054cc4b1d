/**
 * Signed zones for the DNSSEC interop tests: one zone's content under any origin (wildcards,
 * empty non-terminals, signed and unsigned delegations, DNAME, a large TXT RRset), and signing
 * it with BIND's dnssec-keygen and dnssec-signzone.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PEER_BINARIES, runTool } from './peers.js';

/** One zone's content, under any origin (signed three ways below). */
export function signedZoneText(origin: string): string {
  return `$ORIGIN ${origin}.
$TTL 3600
@        IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
@        NS  ns1
@        NS  ns2
@        MX  10 mail
@        TXT "v=spf1 -all"
ns1      A   192.0.2.1
ns2      AAAA 2001:db8::2
mail     A   192.0.2.2
mail     AAAA 2001:db8::3
www      A   192.0.2.10
www      A   192.0.2.11
alias    CNAME www
chain    CNAME alias
dangling CNAME nothere
*.wild   A   192.0.2.20
*.wild   TXT "wild"
exists.wild AAAA 2001:db8::20
*.cwild  CNAME www
a.b.ent  A   192.0.2.30
secure   NS  ns.secure
secure   DS  12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
ns.secure A  192.0.2.40
insecure NS  ns.insecure
ns.insecure A 192.0.2.41
a.b.unsigned NS ns.example.net.
dn       DNAME other.${origin}.
x.other  A   192.0.2.50
txt      TXT "hello world"
${[1, 2, 3, 4, 5].map((i) => `big      TXT "${'a'.repeat(150)}" "${i}"`).join('\n')}
`;
}

/** How each zone is signed: dnssec-signzone arguments for the denial of existence. */
export const SIGNINGS = [
  { origin: 'nsec.example', args: [] as string[] },
  { origin: 'nsec3.example', args: ['-3', '-', '-H', '0'] },
  { origin: 'optout.example', args: ['-3', 'AABBCCDD', '-H', '2', '-A'] },
];

/**
 * Makes a KSK and a ZSK (ECDSAP256SHA256) with dnssec-keygen and signs `origin`'s zone with
 * dnssec-signzone into `<dir>/<origin>.signed`; returns the signed file and the KSK's DNSKEY line.
 */
export function signWithBind(dir: string, origin: string, text: string, args: string[]): { file: string; ksk: string } {
  const kdir = join(dir, `keys-${origin}`);
  mkdirSync(kdir);
  const ksk = runTool(PEER_BINARIES['dnssec-keygen'], ['-q', '-K', kdir, '-a', 'ECDSAP256SHA256', '-f', 'KSK', '-n', 'ZONE', origin]);
  assert.equal(ksk.status, 0, ksk.stderr);
  const zsk = runTool(PEER_BINARIES['dnssec-keygen'], ['-q', '-K', kdir, '-a', 'ECDSAP256SHA256', '-n', 'ZONE', origin]);
  assert.equal(zsk.status, 0, zsk.stderr);
  const unsigned = join(dir, `${origin}.zone`);
  writeFileSync(unsigned, text);
  const file = join(dir, `${origin}.signed`);
  const r = runTool(PEER_BINARIES['dnssec-signzone'], ['-S', '-K', kdir, '-d', kdir, '-o', origin, '-f', file, ...args, unsigned]);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const kskFile = readdirSync(kdir).find((f) => f.startsWith(`K${origin}.+`) && f.endsWith('.key') &&
    readFileSync(join(kdir, f), 'utf8').includes('DNSKEY 257'))!;
  const keyLine = readFileSync(join(kdir, kskFile), 'utf8').split('\n').find((l) => l.includes('DNSKEY'))!;
  return { file, ksk: keyLine };
}

