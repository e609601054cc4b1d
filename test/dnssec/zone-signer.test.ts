/**
 * The server's zone signer with an injected clock: keys made when absent (0600), the zone signed
 * so that our verifier and dnssec-verify accept it, incremental re-signing after a change (only
 * the changed RRset and the denial records around it), refresh before expiry with jitter, and key
 * problems as clear errors that make no new key.
 */
import assert from 'node:assert/strict';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DnssecError } from '../../src/errors.js';
import { DEFAULT_POLICY, RFC9276_NSEC3, ZoneSigner } from '../../src/dnssec/signer/zone-signer.js';
import { verifyZone } from '../../src/dnssec/signer/verify-zone.js';
import { Name } from '../../src/wire/name.js';
import { recordToString } from '../../src/wire/record.js';
import { RRType, type RRSIGData } from '../../src/wire/types.js';
import { loadZone } from '../../src/zone/load.js';
import type { Zone } from '../../src/zone/zone.js';
import { runTool, tempDir } from '../helpers/peers.js';
import { signedZoneText } from '../helpers/signed-zones.js';

const ORIGIN = 'inc.example';
/** The real time: dnssec-verify checks validity periods against its own clock. */
const T0 = Math.floor(Date.now() / 1000);

function load(dir: string, text: string): Zone {
  const file = join(dir, `zone-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  const r = loadZone(file, Name.fromText(ORIGIN + '.'));
  assert.ok(r.zone, r.problems.map((p) => p.reason).join('\n'));
  return r.zone;
}

function sigsOf(zone: Zone): RRSIGData[] {
  const out: RRSIGData[] = [];
  for (const node of zone.nodes()) out.push(...((node.get(RRType.RRSIG)?.rdata ?? []) as RRSIGData[]));
  return out;
}

for (const nsec3 of [false, true]) {
  test(`zone signer (${nsec3 ? 'NSEC3, RFC 9276' : 'NSEC'}): keys, incremental re-signing, refresh with jitter`, () => {
    const dir = tempDir('sovereign-zone-signer-');
    try {
      let now = T0;
      const keyDir = join(dir.path, 'keys');
      const signer = new ZoneSigner(Name.fromText(ORIGIN + '.'), {
        keyDir, policy: { ...DEFAULT_POLICY, nsec3: nsec3 ? RFC9276_NSEC3 : undefined }, now: () => now,
      });
      const first = signer.sign(load(dir.path, signedZoneText(ORIGIN)));
      // One ECDSAP256SHA256 CSK, made in the key directory, private half 0600.
      const files = readdirSync(keyDir).sort();
      assert.equal(files.length, 2);
      assert.match(files[0]!, /^Kinc\.example\.\+013\+\d{5}\.key$/);
      assert.equal(statSync(join(keyDir, files[1]!)).mode & 0o777, 0o600);
      assert.equal(signer.generated.length, 1);
      assert.deepEqual(verifyZone(first, now).errors, []);
      assert.equal(signer.lastReused, 0);
      const total = signer.lastSigned;
      // Times from the injected clock; expirations spread by jitter.
      const sigs = sigsOf(first);
      assert.ok(sigs.every((s) => s.signatureInception === T0 - 3600));
      assert.ok(sigs.every((s) => s.signatureExpiration <= T0 + DEFAULT_POLICY.validity && s.signatureExpiration > T0 + DEFAULT_POLICY.refresh));
      assert.ok(new Set(sigs.map((s) => s.signatureExpiration)).size > sigs.length / 2, 'jitter spreads expirations');

      // dnssec-verify agrees (when BIND's tools are here; the CI installs them).
      const out = join(dir.path, 'signed');
      const lines: string[] = [];
      for (const node of first.nodes()) for (const set of node.rrsets) for (const d of set.rdata) lines.push(recordToString({ name: set.name, type: set.type, class: set.class, ttl: set.ttl, data: d }));
      writeFileSync(out, lines.join('\n') + '\n');
      // -z: one CSK (its KSK flag also signs the zone data), which dnssec-verify only accepts so.
      const v = runTool('dnssec-verify', ['-z', '-o', ORIGIN, out]);
      if (v.status !== null || process.env.CI === 'true') assert.equal(v.status, 0, v.stderr);

      // Reload with one record changed and one added: only those RRsets and the denial records
      // around them are signed again.
      now += 3600;
      const changed = signedZoneText(ORIGIN).replace('txt      TXT "hello world"', 'txt      TXT "changed"') + 'newname A 192.0.2.99\n';
      const second = signer.sign(load(dir.path, changed));
      assert.deepEqual(verifyZone(second, now).errors, []);
      assert.ok(signer.lastSigned >= 2 && signer.lastSigned <= (nsec3 ? 6 : 5), `signed ${signer.lastSigned} of ${total}`);
      assert.equal(signer.lastSigned + signer.lastReused, total + (nsec3 ? 2 : 2));
      assert.equal(readdirSync(keyDir).length, 2, 'no new key');

      // Nothing due before the refresh time; then every signature, each expiring within the
      // refresh margin, is made anew with the later clock.
      assert.ok(signer.nextRefreshAt() > now);
      now = signer.nextRefreshAt() + 1;
      const third = signer.refresh()!;
      assert.ok(signer.lastSigned >= 1);
      assert.deepEqual(verifyZone(third, now).errors, []);
      now = T0 + 3 * DEFAULT_POLICY.validity;
      const fourth = signer.refresh()!;
      assert.equal(signer.lastReused, 0, 'every signature was due');
      assert.deepEqual(verifyZone(fourth, now).errors, []);
      assert.ok(sigsOf(fourth).every((s) => s.signatureInception === now - 3600));
    } finally {
      dir.cleanup();
    }
  });
}

test('zone signer: a lost private key or an unreadable key directory is a clear error and no new key is made', () => {
  const dir = tempDir('sovereign-zone-signer-');
  try {
    const keyDir = join(dir.path, 'keys');
    const signer = new ZoneSigner(Name.fromText(ORIGIN + '.'), { keyDir, policy: DEFAULT_POLICY, now: () => T0 });
    const zone = load(dir.path, signedZoneText(ORIGIN));
    signer.sign(zone);
    const priv = readdirSync(keyDir).find((f) => f.endsWith('.private'))!;
    rmSync(join(keyDir, priv));
    assert.throws(() => signer.sign(zone), (e: unknown) => e instanceof DnssecError && /has no \.private file: restore it or remove the key/.test(e.message));
    assert.equal(readdirSync(keyDir).length, 1, 'no key was made in its place');
    const blocked = join(dir.path, 'file-not-dir');
    writeFileSync(blocked, '');
    const other = new ZoneSigner(Name.fromText(ORIGIN + '.'), { keyDir: blocked, policy: DEFAULT_POLICY, now: () => T0 });
    assert.throws(() => other.sign(zone), (e: unknown) => e instanceof DnssecError && /key directory .*file-not-dir/.test(e.message));
  } finally {
    dir.cleanup();
  }
});
