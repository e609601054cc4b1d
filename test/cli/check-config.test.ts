/**
 * `sovereign check-config`, run as a user would (bin/sovereign.js), beside named-checkconf's habits:
 * every config error at once with line and column, each zone loaded and checked, exit 0/1/2.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCheckConfigArgs } from '../../src/cli/check-config.js';
import { tempDir } from '../helpers/peers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/sovereign.js');
const ZONE = '$ORIGIN ok.test.\n$TTL 300\n@ SOA ns1 host 7 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.1\n';

function check(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [BIN, 'check-config', ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('a good config: zones loaded with their serials, exit 0', () => {
  const dir = tempDir('sov-checkconf-');
  try {
    writeFileSync(join(dir.path, 'ok.zone'), ZONE);
    const f = join(dir.path, 'sovereign.yaml');
    writeFileSync(f, 'listen: 127.0.0.1:5300\nzones:\n  - { name: ok.test, file: ok.zone }\n');
    const r = check(f);
    assert.equal(r.out, 'zone ok.test/IN: loaded serial 7\n');
    assert.equal(r.status, 0);
    const q = check('-q', f);
    assert.equal(q.out, '');
    assert.equal(q.status, 0);
  } finally {
    dir.cleanup();
  }
});

test('every config error and every zone problem at once, exit 1', () => {
  const dir = tempDir('sov-checkconf-');
  try {
    writeFileSync(join(dir.path, 'ok.zone'), ZONE);
    writeFileSync(join(dir.path, 'bad.zone'), '$ORIGIN bad.test.\n$TTL 300\n@ SOA ns1 host 1 3600 900 604800 300\n@ NS ns1\nwww A 999.1.1.1\n');
    const f = join(dir.path, 'sovereign.yaml');
    writeFileSync(f, [
      'listen: "127.0.0.1:"',
      'zones:',
      '  - { name: ok.test, file: ok.zone }',
      '  - { name: bad.test, file: bad.zone }',
      '  - { name: gone.test, file: missing.zone }',
      'cache: { minTtl: 2h, maxTtl: 1h }',
      'resolvr: {}',
    ].join('\n') + '\n');
    const r = check(f);
    assert.equal(r.status, 1, r.out);
    const lines = r.out.trimEnd().split('\n');
    assert.match(lines[0]!, /sovereign\.yaml:1:9: listen: "127\.0\.0\.1:" has a bad port/);
    assert.ok(lines.some((l) => /sovereign\.yaml:7:1: resolvr: unknown key "resolvr"; did you mean "resolver"\?/.test(l)), r.out);
    assert.ok(lines.includes('zone ok.test/IN: loaded serial 7'), r.out);
    assert.ok(lines.some((l) => /bad\.zone:5:\d+: error: .*999\.1\.1\.1/.test(l)), r.out);
    assert.ok(lines.includes('zone bad.test/IN: not loaded due to errors.'), r.out);
    assert.ok(lines.includes('zone gone.test/IN: not loaded due to errors.'), r.out);
  } finally {
    dir.cleanup();
  }
});

test('cross-key errors once the keys are valid: minTtl above maxTtl, a zone twice', () => {
  const dir = tempDir('sov-checkconf-');
  try {
    writeFileSync(join(dir.path, 'ok.zone'), ZONE);
    const f = join(dir.path, 'sovereign.yaml');
    writeFileSync(f, 'cache: { minTtl: 2h, maxTtl: 1h }\nzones:\n  - { name: ok.test, file: ok.zone }\n  - { name: ok.test., file: ok.zone }\n');
    const r = check('--no-zones', f);
    assert.equal(r.status, 1);
    assert.match(r.out, /sovereign\.yaml:1:\d+: cache\.minTtl: minTtl \(7200s\) is above maxTtl \(3600s\)/);
    assert.match(r.out, /sovereign\.yaml:4:\d+: zones\[1\]\.name: zone ok\.test\. is already configured at zones\[0\]/);
  } finally {
    dir.cleanup();
  }
});

test('usage: a missing file is exit 1, bad options exit 2; the default path', () => {
  assert.equal(check('/nonexistent/sovereign.yaml').status, 1);
  assert.match(check('/nonexistent/sovereign.yaml').out, /cannot read/);
  assert.equal(check('--bogus').status, 2);
  assert.equal(check('a.yaml', 'b.yaml').status, 2);
  assert.equal(parseCheckConfigArgs([], {}).file, '/etc/sovereign/sovereign.yaml');
  assert.equal(parseCheckConfigArgs([], { SOVEREIGN_CONFIG: '/x.yaml' }).file, '/x.yaml');
});

test('the sample sovereign.example.yaml passes check-config', () => {
  const r = check(join(ROOT, 'sovereign.example.yaml'));
  assert.equal(r.out, '');
  assert.equal(r.status, 0);
});

test('views: each view\'s own zone files are loaded and checked too (a missing one is exit 1)', () => {
  const dir = tempDir('sov-checkconf-views-');
  try {
    writeFileSync(join(dir.path, 'ok.zone'), ZONE);
    writeFileSync(join(dir.path, 'in.zone'), ZONE.replace(' 7 ', ' 8 '));
    const f = join(dir.path, 'sovereign.yaml');
    writeFileSync(f, 'zones:\n  - { name: ok.test, file: ok.zone }\nviews:\n  - name: inside\n    clients: [10.0.0.0/8]\n    zones: [ok.test]\n'
      + '  - name: outside\n    zones: [{ name: ok.test, file: in.zone }, { name: gone.test, file: gone.zone }]\n');
    const r = check(f);
    assert.match(r.out, /zone ok\.test\/IN: loaded serial 7/);
    assert.match(r.out, /zone ok\.test\/IN: loaded serial 8/);
    assert.match(r.out, /gone\.zone.*no such file/);
    assert.match(r.out, /zone gone\.test\/IN: not loaded due to errors/);
    assert.equal(r.status, 1);
  } finally {
    dir.cleanup();
  }
});
