/**
 * A signed DNS hierarchy on loopback for validation tests: our own root key (RSASHA256, NSEC),
 * a TLD `vld.` (ECDSAP256, NSEC3), an unsigned TLD `uns.`, child zones signed with
 * dnssec-signzone (Ed25519 NSEC, ECDSA NSEC3 opt-out) and ldns-signzone (RSASHA256 NSEC3, and
 * NSEC3 with 200 iterations), Knot's kzonesign (ECDSA NSEC3, served by knotd), unsigned children,
 * a KeyTrap zone, RFC 4035 §5.3.3 TTL-cap records, and broken zones: expired and not-yet-valid
 * signatures, tampered data, a DS matching no key, a DNSKEY set without RRSIG, stripped NSEC,
 * DS of an unknown algorithm and of an unknown digest type.
 *
 * Servers: BIND for the root (127.26.0.1), BIND for the TLDs (127.26.1.1), BIND for the
 * dnssec-signzone leaves (127.26.2.1), NSD for the ldns-signzone leaves (127.26.3.1), knotd for
 * the Knot-signed leaf (127.26.4.1). Resolvers
 * under test get `hintsFile` and `anchorFile` (the root KSK's DS).
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EdeCode } from '../../src/wire/constants.js';
import { type RunningPeer, runTool, startKnot, startNamed, startNsd } from '../helpers/peers.js';
import { collidingKeys, junkSignatures, knotSign, setServedTtl, tagOfKeyLine } from './dnssec-extra-zones.js';

export const DADDR = {
  root: '127.26.0.1',
  tld: '127.26.1.1',
  leaf: '127.26.2.1',
  ldns: '127.26.3.1',
  knot: '127.26.4.1',
  ours: '127.26.0.53',
  unbound: '127.26.0.54',
} as const;

/** [name, type, expected RCODE, expected AD (with DO)]: what Unbound must also say. */
export const CASES: [string, string, string, boolean][] = [
  ['.', 'SOA', 'NOERROR', true],
  ['nx.', 'A', 'NXDOMAIN', true],
  ['vld.', 'SOA', 'NOERROR', true],
  ['nx.vld.', 'A', 'NXDOMAIN', true],
  ['www.good.vld.', 'A', 'NOERROR', true],
  ['www.good.vld.', 'AAAA', 'NOERROR', true],
  ['www.good.vld.', 'TXT', 'NOERROR', true],            // NODATA, NSEC
  ['nx.good.vld.', 'A', 'NXDOMAIN', true],              // NSEC
  ['ent.good.vld.', 'A', 'NOERROR', true],              // empty non-terminal, NSEC
  ['a.wild.good.vld.', 'TXT', 'NOERROR', true],         // wildcard answer
  ['a.wild.good.vld.', 'A', 'NOERROR', true],           // wildcard NODATA
  ['cname.good.vld.', 'A', 'NOERROR', true],            // CNAME into an NSEC3 zone (ldns)
  ['cins.good.vld.', 'A', 'NOERROR', false],            // CNAME into an insecure zone
  ['www.dn.good.vld.', 'A', 'NOERROR', true],           // DNAME
  ['www.ldns.vld.', 'A', 'NOERROR', true],              // RSASHA256 NSEC3 by ldns-signzone, on NSD
  ['nx.ldns.vld.', 'A', 'NXDOMAIN', true],
  ['mx.ldns.vld.', 'A', 'NOERROR', true],               // NSEC3 NODATA
  ['a.w.ldns.vld.', 'A', 'NOERROR', true],              // NSEC3 wildcard
  ['a.w.ldns.vld.', 'TXT', 'NOERROR', true],            // NSEC3 wildcard NODATA
  ['www.ln.vld.', 'A', 'NOERROR', true],                // ECDSA NSEC by ldns-signzone
  ['nx.ln.vld.', 'A', 'NXDOMAIN', true],
  ['b.w.ln.vld.', 'TXT', 'NOERROR', true],
  ['www.optout.vld.', 'A', 'NOERROR', true],            // NSEC3 opt-out zone
  ['www.insec.optout.vld.', 'A', 'NOERROR', false],     // unsigned delegation under opt-out
  ['www.ins.vld.', 'A', 'NOERROR', false],              // insecure delegation (NSEC3 no DS)
  ['nx.ins.vld.', 'A', 'NXDOMAIN', false],
  ['www.uns.', 'A', 'NOERROR', false],                  // unsigned TLD (root NSEC no DS)
  ['www.unkalg.vld.', 'A', 'NOERROR', false],           // DS of an unknown algorithm: insecure
  ['www.unkdig.vld.', 'A', 'NOERROR', false],           // DS of an unknown digest: insecure
  ['www.iter.vld.', 'A', 'NOERROR', true],              // 200 NSEC3 iterations: positive answers fine
  ['nx.iter.vld.', 'A', 'NXDOMAIN', false],             // ... denial above 150 iterations: insecure
  ['www.stripnsec.vld.', 'A', 'NOERROR', true],
  ['www.expired.vld.', 'A', 'SERVFAIL', false],
  ['www.ntaexp.vld.', 'A', 'NOERROR', false],           // expired, under a configured negative trust anchor
  ['www.future.vld.', 'A', 'SERVFAIL', false],
  ['www.tamper.vld.', 'A', 'SERVFAIL', false],
  ['www.nokey.vld.', 'A', 'SERVFAIL', false],
  ['www.nosig.vld.', 'A', 'SERVFAIL', false],
  ['wwx.stripnsec.vld.', 'A', 'SERVFAIL', false],       // NXDOMAIN without the covering NSEC
  ['www.stripnsec.vld.', 'TXT', 'SERVFAIL', false],     // NODATA without the NSEC
  ['www.knot.vld.', 'A', 'NOERROR', true],              // ECDSA NSEC3 by Knot's kzonesign, on knotd
  ['nx.knot.vld.', 'A', 'NXDOMAIN', true],
  ['mx.knot.vld.', 'A', 'NOERROR', true],               // NSEC3 NODATA
  ['a.w.knot.vld.', 'TXT', 'NOERROR', true],            // NSEC3 wildcard
  ['a.w.knot.vld.', 'A', 'NOERROR', true],              // NSEC3 wildcard NODATA
  ['orig.ttlcap.vld.', 'A', 'NOERROR', true],
  ['long.ttlcap.vld.', 'TXT', 'NOERROR', true],
  ['www.keytrap.vld.', 'A', 'SERVFAIL', false],         // KeyTrap: no valid signature among the colliding ones
];

/** Our Extended DNS Error per broken name. */
export const EDE: Record<string, number> = {
  'www.expired.vld.': EdeCode.SIGNATURE_EXPIRED,
  'www.future.vld.': EdeCode.SIGNATURE_NOT_YET_VALID,
  'www.tamper.vld.': EdeCode.DNSSEC_BOGUS,
  'www.nokey.vld.': EdeCode.DNSKEY_MISSING,
  'www.nosig.vld.': EdeCode.RRSIGS_MISSING,
  'wwx.stripnsec.vld.': EdeCode.NSEC_MISSING,
};

/** DNSKEYs sharing the ZSK's tag and junk RRSIGs over www.keytrap.vld. A (unbounded work: sigs x keys). */
export const KEYTRAP_KEYS = 24;
export const KEYTRAP_SIGS = 24;

export interface SignedHierarchy {
  dir: string;
  hintsFile: string;
  /** The root KSK's DS record (master-file format). */
  anchorFile: string;
  /** The root KSK's DNSKEY record (master-file format). */
  anchorKeyFile: string;
  /** The same key as a BIND `trust-anchors` clause (what delv -a reads). */
  bindAnchorFile: string;
  peers: RunningPeer[];
  stop(): Promise<void>;
}

function must(tool: string, args: string[], cwd: string): string {
  const r = runTool(tool, args, { cwd, timeoutMs: 60_000 });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** YYYYMMDDHHMMSS of now + `days`. */
function stamp(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function leafZone(name: string, ns: string, extra = ''): string {
  return `$TTL 300
@ SOA ns.${name} hostmaster.${name} 1 3600 600 86400 300
@ NS ns.${name}
ns A ${ns}
www A 192.0.2.1
www AAAA 2001:db8::1
${extra}`;
}

interface Signed {
  file: string;
  /** DS lines of the KSK (SHA-256). */
  ds: string[];
  /** DNSKEY line of the KSK. */
  ksk: string;
}

/** Signs with dnssec-signzone: KSK + ZSK of `alg`; NSEC3 when `nsec3` is given. */
function bindSign(dir: string, zone: string, text: string, alg: string,
  opts: { nsec3?: { iterations: number; optOut?: boolean }; start?: string; end?: string; extraKeys?: (zskLine: string) => string } = {}): Signed {
  const zdir = join(dir, `bind-${zone}`);
  mkdirSync(zdir, { recursive: true });
  const origin = `${zone}.`;
  const bits = alg === 'RSASHA256' ? ['-b', '2048'] : [];
  const ksk = must('dnssec-keygen', ['-q', '-K', zdir, '-a', alg, ...bits, '-f', 'KSK', '-n', 'ZONE', origin], zdir).trim();
  const zsk = must('dnssec-keygen', ['-q', '-K', zdir, '-a', alg, ...bits, '-n', 'ZONE', origin], zdir).trim();
  // Keys go into the zone and are named explicitly (no smart signing: its key timing would refuse
  // to sign with validity windows in the past or future).
  const keys = [ksk, zsk].map((k) => readFileSync(join(zdir, `${k}.key`), 'utf8')).join('\n') +
    (opts.extraKeys?.(readFileSync(join(zdir, `${zsk}.key`), 'utf8').split('\n').find((l) => l.includes('DNSKEY'))!) ?? '');
  writeFileSync(join(zdir, 'zone'), text + '\n' + keys);
  const args = ['-q', '-P', '-O', 'full', '-K', zdir, '-o', origin, '-f', join(zdir, 'zone.signed'), '-d', zdir, '-k', join(zdir, ksk)];
  if (opts.nsec3 !== undefined) args.push('-3', 'beef', '-H', String(opts.nsec3.iterations), ...(opts.nsec3.optOut === true ? ['-A'] : []));
  if (opts.start !== undefined) args.push('-s', opts.start);
  if (opts.end !== undefined) args.push('-e', opts.end);
  args.push(join(zdir, 'zone'), join(zdir, zsk));
  must('dnssec-signzone', args, zdir);
  const ds = must('dnssec-dsfromkey', ['-2', join(zdir, `${ksk}.key`)], zdir).trim().split('\n');
  const kskLine = readFileSync(join(zdir, `${ksk}.key`), 'utf8').split('\n').find((l) => l.includes('DNSKEY'))!;
  return { file: join(zdir, 'zone.signed'), ds, ksk: kskLine };
}

/** Signs with ldns-signzone (KSK + ZSK from ldns-keygen); NSEC3 when `iterations` is given. */
function ldnsSign(dir: string, zone: string, text: string, alg: string, iterations?: number): Signed {
  const zdir = join(dir, `ldns-${zone}`);
  mkdirSync(zdir, { recursive: true });
  const origin = `${zone}.`;
  const bits = alg === 'RSASHA256' ? ['-b', '2048'] : [];
  const ksk = must('ldns-keygen', ['-a', alg, ...bits, '-k', origin], zdir).trim();
  const zsk = must('ldns-keygen', ['-a', alg, ...bits, origin], zdir).trim();
  writeFileSync(join(zdir, 'zone'), text);
  const nsec3 = iterations !== undefined ? ['-n', '-s', 'cafe', '-t', String(iterations)] : [];
  must('ldns-signzone', [...nsec3, '-o', origin, '-f', join(zdir, 'zone.signed'), join(zdir, 'zone'), zsk, ksk], zdir);
  const ds = readFileSync(join(zdir, `${ksk}.ds`), 'utf8').trim().split('\n');
  const kskLine = readFileSync(join(zdir, `${ksk}.key`), 'utf8').trim();
  // ldns-keygen writes a SHA-1 DS for RSA keys; give the parent SHA-256 as dnssec-signzone zones do.
  const sha256 = ds.map((l) => l.replace(/\s+/g, ' ')).filter((l) => / DS \d+ \d+ 2 /.test(l));
  return { file: join(zdir, 'zone.signed'), ds: sha256.length > 0 ? sha256 : dsFromKey(zdir, kskLine, origin), ksk: kskLine };
}

function dsFromKey(zdir: string, dnskey: string, origin: string): string[] {
  writeFileSync(join(zdir, 'ksk.dnskey'), dnskey + '\n');
  return must('dnssec-dsfromkey', ['-2', '-f', join(zdir, 'ksk.dnskey'), origin], zdir).trim().split('\n');
}

/** Removes records matching `drop` from a signed zone file written with `-O full` (one RR per line). */
function strip(file: string, drop: (line: string) => boolean): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  writeFileSync(file, lines.filter((l) => !drop(l.replace(/\s+/g, ' '))).join('\n') + '\n');
}

function delegation(child: string, addr: string, ds: string[] = []): string {
  const label = child.split('.')[0]!;
  return `${label} NS ns.${label}\nns.${label} A ${addr}\n${ds.map((d) => d.replace(/^\S+\s+(\d+\s+)?(IN\s+)?/, `${label} `)).join('\n')}\n`;
}

/** Builds, signs and serves the hierarchy. */
export async function startSignedHierarchy(dir: string): Promise<SignedHierarchy> {
  const peers: RunningPeer[] = [];
  const L = DADDR.leaf;
  const N = DADDR.ldns;
  const leaves: { name: string; file: string }[] = [];
  const ldnsLeaves: { name: string; file: string }[] = [];
  let tldDelegations = '';

  // ---- leaves signed by dnssec-signzone (served by BIND on DADDR.leaf) ----
  const good = bindSign(dir, 'good.vld', leafZone('good.vld.', L, `*.wild TXT "wild"
cname CNAME www.ldns.vld.
cins CNAME www.ins.vld.
dn DNAME ldns.vld.
txt TXT "hello"
sub.ent A 192.0.2.9
`), 'ED25519');
  leaves.push({ name: 'good.vld.', file: good.file });
  tldDelegations += delegation('good.vld', L, good.ds);

  const optout = bindSign(dir, 'optout.vld', leafZone('optout.vld.', L, `insec NS ns.insec
ns.insec A ${L}
insec2 NS ns.insec
`), 'ECDSAP256SHA256', { nsec3: { iterations: 0, optOut: true } });
  leaves.push({ name: 'optout.vld.', file: optout.file });
  tldDelegations += delegation('optout.vld', L, optout.ds);
  writeFileSync(join(dir, 'insec.optout.vld.zone'), leafZone('insec.optout.vld.', L));
  leaves.push({ name: 'insec.optout.vld.', file: join(dir, 'insec.optout.vld.zone') });

  writeFileSync(join(dir, 'ins.vld.zone'), leafZone('ins.vld.', L));
  leaves.push({ name: 'ins.vld.', file: join(dir, 'ins.vld.zone') });
  tldDelegations += delegation('ins.vld', L);

  const expired = bindSign(dir, 'expired.vld', leafZone('expired.vld.', L), 'ECDSAP256SHA256', { start: stamp(-40), end: stamp(-10) });
  leaves.push({ name: 'expired.vld.', file: expired.file });
  tldDelegations += delegation('expired.vld', L, expired.ds);

  // Expired too, but named as a negative trust anchor by both resolvers (RFC 7646): insecure.
  const ntaexp = bindSign(dir, 'ntaexp.vld', leafZone('ntaexp.vld.', L), 'ECDSAP256SHA256', { start: stamp(-40), end: stamp(-10) });
  leaves.push({ name: 'ntaexp.vld.', file: ntaexp.file });
  tldDelegations += delegation('ntaexp.vld', L, ntaexp.ds);

  const future = bindSign(dir, 'future.vld', leafZone('future.vld.', L), 'ECDSAP256SHA256', { start: stamp(10), end: stamp(40) });
  leaves.push({ name: 'future.vld.', file: future.file });
  tldDelegations += delegation('future.vld', L, future.ds);

  const tamper = bindSign(dir, 'tamper.vld', leafZone('tamper.vld.', L), 'ECDSAP256SHA256');
  writeFileSync(tamper.file, readFileSync(tamper.file, 'utf8').replace(/192\.0\.2\.1\b/, '192.0.2.66'));
  leaves.push({ name: 'tamper.vld.', file: tamper.file });
  tldDelegations += delegation('tamper.vld', L, tamper.ds);

  const nokey = bindSign(dir, 'nokey.vld', leafZone('nokey.vld.', L), 'ECDSAP256SHA256');
  const other = bindSign(dir, 'other.vld', leafZone('other.vld.', L), 'ECDSAP256SHA256');
  leaves.push({ name: 'nokey.vld.', file: nokey.file });
  tldDelegations += delegation('nokey.vld', L, other.ds.map((d) => d.replace(/^other\.vld\./, 'nokey.vld.')));

  const nosig = bindSign(dir, 'nosig.vld', leafZone('nosig.vld.', L), 'ECDSAP256SHA256');
  strip(nosig.file, (l) => / RRSIG DNSKEY /.test(l));
  leaves.push({ name: 'nosig.vld.', file: nosig.file });
  tldDelegations += delegation('nosig.vld', L, nosig.ds);

  const stripnsec = bindSign(dir, 'stripnsec.vld', leafZone('stripnsec.vld.', L), 'ECDSAP256SHA256');
  // Every NSEC but the apex's (BIND serves RRSIGs only from zones with an apex NSEC/NSEC3).
  strip(stripnsec.file, (l) => / NSEC /.test(l) && !l.startsWith('stripnsec.vld. '));
  leaves.push({ name: 'stripnsec.vld.', file: stripnsec.file });
  tldDelegations += delegation('stripnsec.vld', L, stripnsec.ds);

  const unkalg = bindSign(dir, 'unkalg.vld', leafZone('unkalg.vld.', L), 'ECDSAP256SHA256');
  leaves.push({ name: 'unkalg.vld.', file: unkalg.file });
  // The DS names algorithm 100 (unassigned): validators treat the zone as insecure (RFC 4035 §5.2).
  tldDelegations += delegation('unkalg.vld', L, unkalg.ds.map((d) => d.replace(/ DS (\d+) 13 /, ' DS $1 100 ')));

  const unkdig = bindSign(dir, 'unkdig.vld', leafZone('unkdig.vld.', L), 'ECDSAP256SHA256');
  leaves.push({ name: 'unkdig.vld.', file: unkdig.file });
  // Digest type 200 (unassigned), same digest bytes.
  tldDelegations += delegation('unkdig.vld', L, unkdig.ds.map((d) => d.replace(/ DS (\d+) 13 2 /, ' DS $1 13 200 ')));

  // KeyTrap (CVE-2023-50387): 24 more Ed25519 keys sharing the ZSK's tag in the signed DNSKEY set,
  // and www's A and the *.trap wildcard's TXT signed by 24 RRSIGs naming that tag, none valid.
  const keytrap = bindSign(dir, 'keytrap.vld', leafZone('keytrap.vld.', L, '*.trap TXT "trap"\n'), 'ED25519', {
    extraKeys: (zsk) => collidingKeys('keytrap.vld.', tagOfKeyLine(zsk).tag, KEYTRAP_KEYS),
  });
  junkSignatures(keytrap.file, 'www.keytrap.vld.', 'A', KEYTRAP_SIGS);
  junkSignatures(keytrap.file, '*.trap.keytrap.vld.', 'TXT', KEYTRAP_SIGS);
  leaves.push({ name: 'keytrap.vld.', file: keytrap.file });
  tldDelegations += delegation('keytrap.vld', L, keytrap.ds);

  // RFC 4035 §5.3.3 TTL caps: signatures expire in 3 hours; `orig` was signed with TTL 60 but is
  // served with 86400; `long` has TTL 86400.
  const ttlcap = bindSign(dir, 'ttlcap.vld', leafZone('ttlcap.vld.', L, `orig 60 A 192.0.2.60
long 86400 TXT "long"
`), 'ECDSAP256SHA256', { start: stamp(-1), end: stamp(3 / 24) });
  setServedTtl(ttlcap.file, 'orig.ttlcap.vld.', 'A', 86_400);
  leaves.push({ name: 'ttlcap.vld.', file: ttlcap.file });
  tldDelegations += delegation('ttlcap.vld', L, ttlcap.ds);

  // ---- a leaf signed by Knot's signer (keymgr + kzonesign), served by knotd on DADDR.knot ----
  const K = DADDR.knot;
  const knot = knotSign(dir, 'knot.vld', leafZone('knot.vld.', K, `*.w TXT "knot wildcard"
mx MX 10 www
`));
  tldDelegations += delegation('knot.vld', K, knot.ds);

  // ---- leaves signed by ldns-signzone (served by NSD on DADDR.ldns) ----
  const ldns = ldnsSign(dir, 'ldns.vld', leafZone('ldns.vld.', N, `*.w A 192.0.2.7
mx MX 10 www
`), 'RSASHA256', 1);
  ldnsLeaves.push({ name: 'ldns.vld.', file: ldns.file });
  tldDelegations += delegation('ldns.vld', N, ldns.ds);

  const iter = ldnsSign(dir, 'iter.vld', leafZone('iter.vld.', N), 'ED25519', 200);
  ldnsLeaves.push({ name: 'iter.vld.', file: iter.file });
  tldDelegations += delegation('iter.vld', N, iter.ds);

  const ldnsNsec = ldnsSign(dir, 'ln.vld', leafZone('ln.vld.', N, '*.w TXT "ldns wildcard"\n'), 'ECDSAP256SHA256');
  ldnsLeaves.push({ name: 'ln.vld.', file: ldnsNsec.file });
  tldDelegations += delegation('ln.vld', N, ldnsNsec.ds);

  // ---- TLDs (BIND on DADDR.tld) ----
  const T = DADDR.tld;
  const vld = bindSign(dir, 'vld', `$TTL 3600
@ SOA ns.nic.vld. hostmaster.nic.vld. 1 3600 600 86400 300
@ NS ns.nic
ns.nic A ${T}
${tldDelegations}`, 'ECDSAP256SHA256', { nsec3: { iterations: 0 } });
  writeFileSync(join(dir, 'uns.zone'), `$TTL 3600
@ SOA ns.nic.uns. hostmaster.nic.uns. 1 3600 600 86400 300
@ NS ns.nic
ns.nic A ${T}
www A 192.0.2.3
`);

  // ---- root (BIND on DADDR.root) ----
  const R = DADDR.root;
  const root = bindSign(dir, '', `$TTL 86400
. SOA a.root.vld. hostmaster.root.vld. 1 1800 900 604800 86400
. NS a.root.vld.
a.root.vld. A ${R}
vld. 172800 NS ns.nic.vld.
ns.nic.vld. 172800 A ${T}
${vld.ds.map((d) => d.replace(/^vld\.\s+(\d+\s+)?(IN\s+)?/, 'vld. ')).join('\n')}
uns. 172800 NS ns.nic.uns.
ns.nic.uns. 172800 A ${T}
`, 'RSASHA256');
  const anchorFile = join(dir, 'root.ds');
  writeFileSync(anchorFile, root.ds.join('\n') + '\n');
  const anchorKeyFile = join(dir, 'root.key');
  writeFileSync(anchorKeyFile, root.ksk + '\n');
  const f = root.ksk.trim().split(/\s+/);
  const at = f.indexOf('DNSKEY');
  const bindAnchorFile = join(dir, 'anchor.conf');
  writeFileSync(bindAnchorFile, `trust-anchors {\n  . static-key ${f[at + 1]} ${f[at + 2]} ${f[at + 3]} "${f.slice(at + 4).join('')}";\n};\n`);
  const hintsFile = join(dir, 'root.hints');
  writeFileSync(hintsFile, `. 3600000 NS a.root.vld.\na.root.vld. 3600000 A ${R}\n`);

  const mk = (n: string): string => {
    const p = join(dir, n);
    mkdirSync(p, { recursive: true });
    return p;
  };
  try {
    peers.push(await startNamed(mk('named-root'), R, 53, [{ name: '.', file: root.file }]));
    peers.push(await startNamed(mk('named-tld'), T, 53, [{ name: 'vld.', file: vld.file }, { name: 'uns.', file: join(dir, 'uns.zone') }]));
    peers.push(await startNamed(mk('named-leaf'), L, 53, leaves));
    peers.push(await startNsd(mk('nsd-leaf'), N, 53, ldnsLeaves));
    peers.push(await startKnot(mk('knot-leaf'), K, 53, [{ name: 'knot.vld.', file: knot.file }]));
  } catch (e) {
    await Promise.all(peers.map((p) => p.stop()));
    throw e;
  }
  void readdirSync;
  return {
    dir, hintsFile, anchorFile, anchorKeyFile, bindAnchorFile, peers,
    stop: async () => {
      await Promise.all(peers.map((p) => p.stop()));
    },
  };
}
