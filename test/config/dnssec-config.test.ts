/**
 * `dnssec:` on a zone in the config file and `sovereign serve --sign [--nsec3] [--key-dir]`:
 * defaults (one ECDSAP256SHA256 CSK, NSEC, 14 days of validity refreshed 7 days before expiry),
 * paths resolved against the config file, and errors naming the key and the fix.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseServeArgs } from '../../src/cli/serve.js';
import { loadConfigFile, validateConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

test('dnssec: { policy: default } gets the default policy; keyDir resolves against the config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sov-dnssec-config-'));
  const f = join(dir, 'sovereign.yaml');
  writeFileSync(f, 'zones:\n  - name: example.com\n    file: db.example\n    dnssec: { policy: default }\n' +
    '  - name: example.org\n    file: db.org\n    dnssec: { policy: default, nsec3: true, keys: split, algorithm: ED25519, keyDir: keys }\n');
  const c = loadConfigFile(f);
  assert.deepEqual(c.zones[0]!.dnssec, { policy: 'default', algorithm: 13, keys: 'csk', nsec3: false, optOut: false, signatureValidity: 1209600, signatureRefresh: 604800,
    // BIND's dnssec-policy default delays; keys never roll unless a lifetime is given.
    kskLifetime: 0, zskLifetime: 0, cskLifetime: 0, dnskeyTtl: 3600, propagationDelay: 300, publishSafety: 3600, retireSafety: 3600,
    parentDsTtl: 86400, parentPropagationDelay: 3600, parentalAgents: [] });
  assert.equal(c.zones[1]!.dnssec!.keyDir, join(dir, 'keys'));
  assert.equal(c.zones[1]!.dnssec!.algorithm, 'ED25519');
});

test('dnssec config errors name the key and the fix', () => {
  const bad = (dnssec: unknown, key: RegExp, fix: RegExp): void => {
    assert.throws(() => validateConfig({ zones: [{ name: 'example.com', file: 'db', dnssec }] }, '/'), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, key);
      assert.match(e.message, fix);
      return true;
    });
  };
  bad({ policy: 'default', algorithm: 5 }, /zones\[0\]\.dnssec\.algorithm/, /13 \(ECDSAP256SHA256\)/);
  bad({ policy: 'default', algorithm: 'RSAMD5' }, /zones\[0\]\.dnssec\.algorithm/, /use 8/);
  bad({ policy: 'default', signatureRefresh: 86400 * 20 }, /signatureRefresh/, /shorter than signatureValidity/);
  bad({ policy: 'default', parentalAgents: ['not an address'] }, /zones\[0\]\.dnssec\.parentalAgents\[0\]/, /127\.0\.0\.1:5301/);
  bad({ policy: 'default', zskLifetime: '-1d' }, /zones\[0\]\.dnssec\.zskLifetime/, /kskLifetime/);
  bad({ policy: 'default', optOut: true }, /optOut/, /nsec3: true/);
  bad({ policy: 'strict' }, /zones\[0\]\.dnssec\.policy/, /policy: default/);
  bad({ policy: 'default', colour: 'blue' }, /colour/, /.+/);
});

test('dnssec: on a secondary zone (one with primaries) is a config error naming the key and the fix', () => {
  for (const zone of [
    { name: 'example.com', file: 'db', primaries: ['127.0.0.1:5301'], dnssec: { policy: 'default' } },
    { name: 'example.com', file: 'db', type: 'secondary', primaries: ['127.0.0.1'], dnssec: { policy: 'default' } },
  ]) {
    assert.throws(() => validateConfig({ zones: [zone] }, '/'), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, /zones\[0\]\.dnssec/);
      assert.match(e.message, /secondary zone is not signed here/);
      assert.match(e.message, /sign it on its primary, or remove primaries:/);
      return true;
    });
  }
  // The same zone as a primary signs: no error.
  validateConfig({ zones: [{ name: 'example.com', file: 'db', dnssec: { policy: 'default' } }] }, '/');
});

test('serve --sign signs every --zone; --nsec3 and --key-dir go with it', () => {
  const a = parseServeArgs(['--zone', 'example.com=/z/db.com', '--zone', 'example.org=/z/db.org', '--sign', '--nsec3', '--key-dir', '/k']);
  for (const z of a.config.zones) {
    assert.equal(z.dnssec?.policy, 'default');
    assert.equal(z.dnssec?.nsec3, true);
    assert.equal(z.dnssec?.keyDir, '/k');
  }
  const b = parseServeArgs(['--zone', 'example.com=/z/db.com', '--sign']);
  assert.equal(b.config.zones[0]!.dnssec?.nsec3, false);
  assert.equal(b.config.zones[0]!.dnssec?.keyDir, undefined);
  assert.throws(() => parseServeArgs(['--zone', 'example.com=/z/db.com', '--nsec3']), /only mean something with --sign/);
  assert.equal(parseServeArgs(['--zone', 'example.com=/z/db.com']).config.zones[0]!.dnssec, undefined);
});
