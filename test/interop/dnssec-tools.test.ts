/**
 * Interop of the offline DNSSEC tools with BIND's and ldns's:
 * - zones signed by `sovereign dnssec sign` (algorithms 8, 13, 14, 15, 16; NSEC, NSEC3, NSEC3
 *   opt-out) pass dnssec-verify and ldns-verify-zone, and our own verify;
 * - keys made by dnssec-keygen sign with Sovereign, keys made by `sovereign dnssec keygen` sign with
 *   dnssec-signzone (both checked by dnssec-verify), and the DS of each agrees with dnssec-dsfromkey;
 * - our verify finds a broken signature and a broken chain; private keys are 0600 and no error
 *   message carries key material.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { havePeers, runTool, tempDir } from '../helpers/peers.js';
import { signedZoneText } from '../helpers/signed-zones.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
/**
 * Runs `sovereign ...`. A run the clock killed (status null: spawnSync's timeout, seen once in CI on a
 * starved machine during an RSA keygen) is tried once more, so the assertion judges the tool, not the
 * machine; a second stall fails with what the tool printed.
 */
const sovereign = (...args: string[]): ReturnType<typeof runTool> => {
  const first = runTool(process.execPath, [BIN, ...args], { timeoutMs: 120_000 });
  if (first.status !== null) return first;
  process.stderr.write(`# sovereign ${args.join(' ')}: killed after 120 s (${first.stderr.trim()}); trying once more\n`);
  return runTool(process.execPath, [BIN, ...args], { timeoutMs: 120_000 });
};

const ALGORITHMS = [8, 13, 14, 15, 16];
const DENIALS: { name: string; args: string[] }[] = [
  { name: 'NSEC', args: [] },
  { name: 'NSEC3', args: ['-3', '-'] },
  { name: 'NSEC3 opt-out', args: ['-3', 'C0FFEE', '-H', '5', '-A'] },
];

describe('sovereign dnssec: keys and signed zones BIND and ldns accept', { concurrency: false }, () => {
  let dir: { path: string; cleanup(): void };

  before(() => {
    dir = tempDir('sovereign-dnssec-tools-');
  });
  after(() => dir.cleanup());

  for (const alg of ALGORITHMS) {
    for (const d of DENIALS) {
      test(`algorithm ${alg}, ${d.name}: signed by us, verified by dnssec-verify, ldns-verify-zone and us`, (t) => {
        if (!havePeers(t, 'dnssec-verify', 'ldns-verify-zone')) return;
        const origin = `a${alg}-${d.name.replace(/\W/g, '')}.example`.toLowerCase();
        const kdir = join(dir.path, origin);
        mkdirSync(kdir);
        const ksk = sovereign('dnssec', 'keygen', '-K', kdir, '-a', String(alg), '-f', 'KSK', origin);
        assert.equal(ksk.status, 0, ksk.stderr);
        assert.match(ksk.stdout, new RegExp(`^K${origin}\\.\\+0${alg < 10 ? '0' : ''}${alg}\\+\\d{5}\\n$`));
        assert.equal(sovereign('dnssec', 'keygen', '-K', kdir, '-a', String(alg), origin).status, 0);
        for (const f of readdirSync(kdir)) {
          // Private keys are for the owner only (as dnssec-keygen writes them).
          if (f.endsWith('.private')) assert.equal(statSync(join(kdir, f)).mode & 0o777, 0o600, f);
        }
        const zone = join(kdir, 'zone');
        writeFileSync(zone, signedZoneText(origin));
        const out = join(kdir, 'zone.signed');
        const s = sovereign('dnssec', 'sign', '-o', origin, '-K', kdir, '-f', out, ...d.args, zone);
        assert.equal(s.status, 0, s.stderr);
        const bind = runTool('dnssec-verify', ['-o', origin, out]);
        assert.equal(bind.status, 0, bind.stderr + bind.stdout);
        assert.match(bind.stderr + bind.stdout, /Zone fully signed/);
        const ldns = runTool('ldns-verify-zone', [out]);
        assert.equal(ldns.status, 0, ldns.stderr + ldns.stdout);
        assert.match(ldns.stdout + ldns.stderr, /Zone is verified and complete/);
        const ours = sovereign('dnssec', 'verify', '-o', origin, out);
        assert.equal(ours.status, 0, ours.stderr);
        assert.match(ours.stdout, new RegExp(`Zone fully signed \\(${d.name.startsWith('NSEC3') ? 'NSEC3' : 'NSEC'}\\)`));
      });
    }
  }

  test('one thread (-n 1) and four (-n 4) sign the same zone, both verified by dnssec-verify and ldns-verify-zone', (t) => {
    if (!havePeers(t, 'dnssec-verify', 'ldns-verify-zone')) return;
    const origin = 'threads.example';
    const kdir = join(dir.path, origin);
    mkdirSync(kdir);
    assert.equal(sovereign('dnssec', 'keygen', '-K', kdir, '-a', '13', '-f', 'KSK', origin).status, 0);
    assert.equal(sovereign('dnssec', 'keygen', '-K', kdir, '-a', '13', origin).status, 0);
    const zone = join(kdir, 'zone');
    writeFileSync(zone, signedZoneText(origin));
    const texts: string[] = [];
    const start = Math.floor(Date.now() / 1000) - 3600;
    for (const [n, denial] of [['1', []], ['4', []], ['1', ['-3', '-']], ['4', ['-3', '-']]] as const) {
      const out = join(kdir, `zone.signed-${n}-${denial.length}`);
      // Fixed times and -j 0 (no jitter): both runs give every RRSIG the same validity period.
      const now = Math.floor(Date.now() / 1000);
      const times = ['-s', String(start), '-e', String(start + 30 * 86400), '-j', '0'];
      assert.ok(now >= start);
      const s = sovereign('dnssec', 'sign', '-n', n, ...times, '-o', origin, '-K', kdir, '-f', out, ...denial, zone);
      assert.equal(s.status, 0, s.stderr);
      const bind = runTool('dnssec-verify', ['-o', origin, out]);
      assert.equal(bind.status, 0, bind.stderr + bind.stdout);
      const ldns = runTool('ldns-verify-zone', [out]);
      assert.equal(ldns.status, 0, ldns.stderr + ldns.stdout);
      // Everything but the first line (a comment with the time) and the signature octets.
      texts.push(readFileSync(out, 'utf8').split('\n').slice(1).map((l) => (l.split('\t')[3] === 'RRSIG' ? l.replace(/\s\S+$/, '') : l)).join('\n'));
    }
    assert.equal(texts[1], texts[0]);
    assert.equal(texts[3], texts[2]);
    assert.match(texts[2]!, /\tNSEC3PARAM\t1 0 0 -/);
    const bad = sovereign('dnssec', 'sign', '-n', '0', '-o', origin, '-K', kdir, zone);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /-n: 0 is not a number of threads/);
  });

  test('keys from dnssec-keygen sign with Sovereign; keys from sovereign dnssec keygen sign with dnssec-signzone', (t) => {
    if (!havePeers(t, 'dnssec-keygen', 'dnssec-signzone', 'dnssec-verify', 'dnssec-dsfromkey')) return;
    for (const alg of ['RSASHA256', 'ECDSAP384SHA384', 'ED25519']) {
      // BIND's keys, our signer.
      const a = join(dir.path, `bind-keys-${alg}`);
      mkdirSync(a);
      const origin = 'keys.example';
      assert.equal(runTool('dnssec-keygen', ['-q', '-K', a, '-a', alg, '-f', 'KSK', '-n', 'ZONE', origin]).status, 0);
      assert.equal(runTool('dnssec-keygen', ['-q', '-K', a, '-a', alg, '-n', 'ZONE', origin]).status, 0);
      writeFileSync(join(a, 'zone'), signedZoneText(origin));
      const s = sovereign('dnssec', 'sign', '-o', origin, '-K', a, '-f', join(a, 'zone.signed'), join(a, 'zone'));
      assert.equal(s.status, 0, s.stderr);
      const v = runTool('dnssec-verify', ['-o', origin, join(a, 'zone.signed')]);
      assert.equal(v.status, 0, `${alg}: ${v.stderr}`);
      // Our keys, BIND's signer.
      const b = join(dir.path, `our-keys-${alg}`);
      mkdirSync(b);
      const kskGen = sovereign('dnssec', 'keygen', '-K', b, '-a', alg, '-f', 'KSK', origin);
      assert.equal(kskGen.status, 0, `${alg} KSK: ${kskGen.stderr}`);
      const zskGen = sovereign('dnssec', 'keygen', '-K', b, '-a', alg, '-b', '2048', origin);
      assert.equal(zskGen.status, 0, `${alg} ZSK: ${zskGen.stderr}`);
      writeFileSync(join(b, 'zone'), signedZoneText(origin));
      const bs = runTool('dnssec-signzone', ['-S', '-K', b, '-d', b, '-o', origin, '-f', join(b, 'zone.signed'), join(b, 'zone')]);
      assert.equal(bs.status, 0, `${alg}: ${bs.stderr}`);
      const bv = runTool('dnssec-verify', ['-o', origin, join(b, 'zone.signed')]);
      assert.equal(bv.status, 0, `${alg}: ${bv.stderr}`);
      assert.equal(sovereign('dnssec', 'verify', '-o', origin, join(b, 'zone.signed')).status, 0);
      // The DS of every key, ours and BIND's, as dnssec-dsfromkey gives it.
      for (const kd of [a, b]) {
        for (const f of readdirSync(kd).filter((x) => x.endsWith('.key'))) {
          const theirs = runTool('dnssec-dsfromkey', ['-2', join(kd, f)]);
          const ours = sovereign('dnssec', 'ds', join(kd, f));
          assert.equal(ours.status, 0, ours.stderr);
          assert.equal(ours.stdout, theirs.stdout, f);
          const one = sovereign('dnssec', 'ds', '-1', join(kd, f));
          assert.equal(one.stdout, runTool('dnssec-dsfromkey', ['-1', join(kd, f)]).stdout, f);
        }
      }
    }
  });

  test('verify finds a forged record, a broken NSEC chain and an expired signature', (t) => {
    if (!havePeers(t, 'dnssec-verify')) return;
    const kdir = join(dir.path, 'broken');
    mkdirSync(kdir);
    const origin = 'broken.example';
    assert.equal(sovereign('dnssec', 'keygen', '-K', kdir, origin, '-f', 'KSK').status, 0);
    writeFileSync(join(kdir, 'zone'), signedZoneText(origin));
    const out = join(kdir, 'zone.signed');
    assert.equal(sovereign('dnssec', 'sign', '-o', origin, '-K', kdir, '-s', 'now+0', '-e', '+86400', '-f', out, join(kdir, 'zone')).status, 0);
    const text = readFileSync(out, 'utf8');
    const forged = join(kdir, 'forged');
    writeFileSync(forged, text.replace(/\tA\t192\.0\.2\.10\n/, '\tA\t192.0.2.99\n'));
    const f = sovereign('dnssec', 'verify', '-o', origin, forged);
    assert.equal(f.status, 1);
    assert.match(f.stderr, /www\.broken\.example\.\/A: RRSIG by key \d+ does not verify/);
    assert.notEqual(runTool('dnssec-verify', ['-o', origin, forged]).status, 0);
    const unchained = join(kdir, 'unchained');
    writeFileSync(unchained, text.split('\n').filter((l) => !/^txt\.broken\.example\.\t\d+\tIN\tNSEC\t/.test(l)).join('\n'));
    const u = sovereign('dnssec', 'verify', '-o', origin, unchained);
    assert.equal(u.status, 1);
    assert.match(u.stderr, /txt\.broken\.example\.: no NSEC/);
    // Two days later every signature has expired.
    const later = runTool(process.execPath, ['-e', `
      const { runVerify } = await import(${JSON.stringify(new URL('../../src/cli/dnssec-verify.js', import.meta.url).pathname)});
      process.exitCode = runVerify(['-o', '${origin}', ${JSON.stringify(out)}], Math.floor(Date.now() / 1000) + 2 * 86400);
    `, '--input-type=module']);
    assert.equal(later.status, 1, later.stderr);
    assert.match(later.stderr, /outside its validity period/);
  });

  test('a damaged private key is a clear error that does not show the key', () => {
    const kdir = join(dir.path, 'damaged');
    mkdirSync(kdir);
    const origin = 'damaged.example';
    const base = sovereign('dnssec', 'keygen', '-K', kdir, origin).stdout.trim();
    const priv = join(kdir, base + '.private');
    const text = readFileSync(priv, 'utf8');
    const secret = /PrivateKey: (\S+)/.exec(text)![1]!;
    // Another key's scalar: parses, but does not belong to the .key file.
    writeFileSync(priv, text.replace(secret, Buffer.alloc(32, 7).toString('base64')));
    writeFileSync(join(kdir, 'zone'), signedZoneText(origin));
    const s = sovereign('dnssec', 'sign', '-o', origin, '-K', kdir, join(kdir, 'zone'));
    assert.equal(s.status, 1);
    assert.match(s.stderr, /private key does not belong to|unusable ECDSAP256SHA256 private key/);
    assert.ok(!s.stderr.includes(secret) && !s.stderr.includes(Buffer.alloc(32, 7).toString('base64')), s.stderr);
    const missing = sovereign('dnssec', 'sign', '-o', origin, '-K', join(kdir, 'nowhere'), join(kdir, 'zone'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read key directory .*nowhere: ENOENT/);
  });
});
