/**
 * The multi-threaded signer (src/dnssec/signer/parallel-sign.ts) writes the zone the in-process
 * signer writes: the same records in the same order with the same expirations for the same random
 * source (only the ECDSA signature octets differ, ECDSA being randomized), for NSEC, NSEC3 and
 * NSEC3 opt-out, with a KSK/ZSK split; and the text it writes loads and passes our verifier.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateKey } from '../../src/dnssec/key-file.js';
import { signZoneParallel } from '../../src/dnssec/signer/parallel-sign.js';
import { type Nsec3Options, signZone } from '../../src/dnssec/signer/sign-zone.js';
import { verifyZone } from '../../src/dnssec/signer/verify-zone.js';
import { Name } from '../../src/wire/name.js';
import { recordToString } from '../../src/wire/record.js';
import { RRType } from '../../src/wire/types.js';
import { loadZone } from '../../src/zone/load.js';
import type { Zone } from '../../src/zone/zone.js';
import { tempDir } from '../helpers/peers.js';
import { signedZoneText } from '../helpers/signed-zones.js';

const ORIGIN = Name.fromText('par.example.');
const NOW = Math.floor(Date.now() / 1000);

/** The shared zone plus enough names that a run spans many batches (1024 RRsets each). */
function zoneText(): string {
  let text = signedZoneText('par.example');
  for (let i = 0; i < 1200; i++) text += `h${i} A 10.0.${i >> 8}.${i & 255}\n${i % 7 === 0 ? `d${i} NS ns.d${i}\nns.d${i} A 192.0.2.${i & 255}\n` : ''}`;
  return text;
}

function load(file: string): Zone {
  const r = loadZone(file, ORIGIN);
  assert.ok(r.zone, r.problems.map((p) => p.reason).join('\n'));
  return r.zone;
}

/** A seeded random source (Park-Miller), so both runs draw the same jitter. */
function seeded(): () => number {
  let s = 42;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}

/** The zone's text with each RRSIG's signature field (its last) cut off. */
function withoutSignatures(text: string): string[] {
  return text.split('\n').filter((l) => l !== '').map((l) => (l.split('\t')[3] === 'RRSIG' ? l.replace(/\s\S+$/, '') : l));
}

const DENIALS: [string, Nsec3Options | undefined][] = [
  ['NSEC', undefined],
  ['NSEC3', { iterations: 0, salt: new Uint8Array(0), optOut: false }],
  ['NSEC3 opt-out', { iterations: 2, salt: new Uint8Array([0xc0, 0xff, 0xee]), optOut: true }],
];

for (const [label, nsec3] of DENIALS) {
  test(`parallel signer (${label}, 3 threads) writes the in-process signer's zone`, async () => {
    const dir = tempDir('sovereign-parallel-sign-');
    try {
      const file = join(dir.path, 'zone');
      writeFileSync(file, zoneText());
      const ksk = generateKey(ORIGIN, { algorithm: 13, ksk: true, now: NOW });
      const zsk = generateKey(ORIGIN, { algorithm: 13, ksk: false, now: NOW, avoidTags: new Set([ksk.keyTag]) });
      const base = { keys: [ksk, zsk], inception: NOW - 3600, expiration: NOW + 30 * 86400, jitter: 86400, nsec3 };

      let inProcess = '';
      const one = signZone(load(file), { ...base, random: seeded(), emit: (rr) => { inProcess += recordToString(rr) + '\n'; } });
      let parallel = '';
      const many = await signZoneParallel(load(file), { ...base, random: seeded(), threads: 3, write: (t) => { parallel += t; } });

      assert.equal(many.signed, one.signed);
      assert.ok(one.signed > 2400);
      const a = withoutSignatures(inProcess);
      const b = withoutSignatures(parallel);
      assert.equal(b.length, a.length);
      for (let i = 0; i < a.length; i++) assert.equal(b[i], a[i], `line ${i + 1}`);
      // The signatures themselves are made anew (ECDSA): the two texts differ only there.
      assert.notEqual(parallel, inProcess);

      // What the threads wrote is a zone our verifier accepts, with the KSK signing the DNSKEY RRset.
      const signedFile = join(dir.path, 'zone.signed');
      writeFileSync(signedFile, parallel);
      const signed = load(signedFile);
      assert.deepEqual(verifyZone(signed, NOW).errors, []);
      const dnskeySigs = signed.apex.get(RRType.RRSIG)!.rdata.filter((d) => (d as { typeCovered: number }).typeCovered === RRType.DNSKEY);
      assert.deepEqual(dnskeySigs.map((d) => (d as { keyTag: number }).keyTag), [ksk.keyTag]);
    } finally {
      dir.cleanup();
    }
  });
}
