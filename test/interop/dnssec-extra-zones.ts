/**
 * Extra zones of the signed validation hierarchy (dnssec-hierarchy.ts): a zone signed by Knot's
 * signer (keymgr + kzonesign), a KeyTrap zone (CVE-2023-50387: many DNSKEYs sharing the ZSK's key
 * tag, many RRSIGs naming that tag) and the TTL-cap records (RFC 4035 §5.3.3).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyTag } from '../../src/dnssec/key-tag.js';
import { fromBase64, toBase64 } from '../../src/wire/index.js';
import { runTool } from '../helpers/peers.js';

function must(tool: string, args: string[], cwd: string): string {
  const r = runTool(tool, args, { cwd, timeoutMs: 60_000 });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/**
 * Signs `zone` with Knot's offline signer: keymgr makes a KSK and a ZSK (ECDSAP256SHA256) in a
 * KASP database, kzonesign signs with NSEC3 (0 iterations, no salt: RFC 9276). Returns the
 * signed file and the KSK's SHA-256 DS lines.
 */
export function knotSign(dir: string, zone: string, text: string): { file: string; ds: string[] } {
  const zdir = join(dir, `knot-${zone}`);
  mkdirSync(join(zdir, 'db'), { recursive: true });
  mkdirSync(join(zdir, 'out'), { recursive: true });
  const origin = `${zone}.`;
  writeFileSync(join(zdir, 'zone'), text);
  const conf = join(zdir, 'knot.conf');
  writeFileSync(conf, `database:
  storage: "${join(zdir, 'db')}"
policy:
  - id: signer
    algorithm: ecdsap256sha256
    nsec3: on
    nsec3-iterations: 0
    nsec3-salt-length: 0
    manual: on
template:
  - id: default
    storage: "${zdir}"
    dnssec-signing: on
    dnssec-policy: signer
zone:
  - domain: ${origin}
    file: "${join(zdir, 'zone')}"
`);
  must('keymgr', ['-c', conf, origin, 'generate', 'ksk=yes', 'algorithm=13'], zdir);
  must('keymgr', ['-c', conf, origin, 'generate', 'ksk=no', 'algorithm=13'], zdir);
  const ds = must('keymgr', ['-c', conf, origin, 'ds'], zdir).trim().split('\n').filter((l) => / DS \d+ 13 2 /.test(l));
  must('kzonesign', ['-c', conf, '-o', join(zdir, 'out'), origin], zdir);
  return { file: join(zdir, 'out', 'zone'), ds };
}

/** The key tag of a DNSKEY line (`owner [ttl] [IN] DNSKEY flags proto alg base64...`). */
export function tagOfKeyLine(line: string): { tag: number; algorithm: number } {
  const f = line.trim().split(/\s+/);
  const at = f.indexOf('DNSKEY');
  const flags = Number(f[at + 1]);
  const algorithm = Number(f[at + 3]);
  return { tag: keyTag(flags, Number(f[at + 2]), algorithm, fromBase64(f.slice(at + 4).join(''), 'publicKey')), algorithm };
}

/** `count` Ed25519 zone keys (flags 256) of `origin` whose key tag is `tag`: random bytes, the last two chosen to hit it. */
export function collidingKeys(origin: string, tag: number, count: number): string {
  const out: string[] = [];
  while (out.length < count) {
    const pk = new Uint8Array(randomBytes(32));
    for (let x = 0; x < 65536; x++) {
      pk[30] = x >> 8;
      pk[31] = x & 0xff;
      if (keyTag(256, 3, 15, pk) === tag) {
        out.push(`${origin} 300 IN DNSKEY 256 3 15 ${toBase64(pk)}`);
        break;
      }
    }
  }
  return out.join('\n') + '\n';
}

/**
 * Replaces the RRSIGs of (owner, type) in a signed file (one RR per line, dnssec-signzone -O full)
 * with `count` copies of random signature bytes: same key tag, signer and times, none valid.
 */
export function junkSignatures(file: string, owner: string, type: string, count: number): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: string[] = [];
  for (const l of lines) {
    const f = l.trim().split(/\s+/);
    if (f[0] === owner && f[3] === 'RRSIG' && f[4] === type) {
      // owner ttl IN RRSIG type alg labels origttl exp inc tag signer signature
      for (let i = 0; i < count; i++) out.push([...f.slice(0, 12), toBase64(new Uint8Array(randomBytes(64)))].join(' '));
    } else out.push(l);
  }
  writeFileSync(file, out.join('\n'));
}

/** Sets the TTL field of the lines of (owner, type) and of the RRSIGs covering it (the RRSIG's original TTL kept). */
export function setServedTtl(file: string, owner: string, type: string, ttl: number): void {
  const lines = readFileSync(file, 'utf8').split('\n').map((l) => {
    const f = l.trim().split(/\s+/);
    if (f[0] !== owner || !(f[3] === type || (f[3] === 'RRSIG' && f[4] === type))) return l;
    f[1] = String(ttl);
    return f.join(' ');
  });
  writeFileSync(file, lines.join('\n'));
}
