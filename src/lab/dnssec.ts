/**
 * DNSSEC in the lab: every zone Sovereign serves is signed in the server (one CSK, ECDSA P-256,
 * algorithm 13), the key made here once per lab (K-files in <lab dir>/keys, which the server's
 * signer finds and uses), so that the parent's DS (RFC 4034 §5) and the resolver's trust anchor
 * (the lab root's DS) are known before any server starts. Zones served by NSD or BIND stay
 * unsigned: their parents carry no DS (an insecure delegation, RFC 4035 §5.2).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { generateKey, isKsk, readZoneKeys, writeKeyPair } from '../dnssec/key-file.js';
import { dsOf } from '../dnssec/signer/cds.js';
import { Name } from '../wire/name.js';
import type { LabZone } from './zones.js';

/** ECDSA P-256 with SHA-256 (RFC 6605), the algorithm Sovereign's policy signs with by default. */
const ALGORITHM = 13;

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase();
}

/** The DS RDATA text of each signed zone ("TAG 13 2 DIGEST"), making its key when there is none yet. */
export function labDs(keyDir: string, zones: LabZone[]): Map<string, string> {
  if (!existsSync(keyDir)) mkdirSync(keyDir, { recursive: true, mode: 0o700 });
  const out = new Map<string, string>();
  for (const z of zones) {
    const owner = Name.fromText(z.name);
    let key = readZoneKeys(keyDir, owner).find(isKsk);
    if (key === undefined) {
      key = generateKey(owner, { algorithm: ALGORITHM, ksk: true, now: Math.floor(Date.now() / 1000) });
      writeKeyPair(keyDir, key);
    }
    const ds = dsOf(owner, key);
    out.set(z.name, `${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${hex(ds.digest)}`);
  }
  return out;
}

/** The same DS with its digest changed (`lab break wrong-ds`): it matches no DNSKEY of the child. */
export function wrongDs(ds: string): string {
  const parts = ds.split(' ');
  const d = parts[3]!;
  parts[3] = (d[0] === '0' ? '1' : '0') + d.slice(1);
  return parts.join(' ');
}
