// `sovereign check-zone` through the real CLI (node bin/sovereign.js), like named-checkzone:
// exit 0 with "zone ORIGIN/IN: loaded serial N", exit 1 with every error, --print for the
// canonical form.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/peers.js';
import { HEAD, writeFiles } from './util.js';

const BIN = fileURLToPath(new URL('../../../bin/sovereign.js', import.meta.url));
const dir = tempDir();
after(() => dir.cleanup());

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'check-zone', ...args], { encoding: 'utf8', cwd: dir.path });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

writeFiles(dir.path, {
  'good.zone': `${HEAD}www A 192.0.2.2\n$INCLUDE inc/more.zone\n`,
  'inc/more.zone': 'more TXT "included"\n',
  'bad.zone': `${HEAD}bad A 192.0.2.300\nx SOA ns1 h 1 2 3 4 5\na CNAME www\na A 192.0.2.1\nwww A 192.0.2.2\n`,
  'warn.zone': `${HEAD}@ MX 10 nothere\n`,
});

test('a good zone: exit 0 and named-checkzone\'s status line', () => {
  const r = cli('example.com', 'good.zone');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'zone example.com/IN: loaded serial 2024010101\nOK\n');
});

test('the origin may be given with a trailing dot; the root zone prints as "."', () => {
  assert.match(cli('example.com.', 'good.zone').stdout, /^zone example\.com\/IN: loaded serial 2024010101$/m);
  const root = cli('.', 'good.zone');
  assert.equal(root.status, 0);
  assert.match(root.stdout, /^zone \.\/IN: loaded serial 2024010101$/m);
});

test('a broken zone: exit 1 and every error with file, line and column', () => {
  const r = cli('example.com', 'bad.zone');
  assert.equal(r.status, 1);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines, [
    'bad.zone:5:7: error: address: "192.0.2.300" is not an IPv4 address',
    'bad.zone:6:1: error: x.example.com.: SOA record not at the zone apex',
    'bad.zone:8:1: error: a.example.com.: CNAME and other data (A)',
    'zone example.com/IN: not loaded due to errors.',
  ]);
});

test('warnings are printed and the zone still loads', () => {
  const r = cli('example.com', 'warn.zone');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^warn\.zone:5:1: warning: example\.com\.\/MX 'nothere\.example\.com\.' has no address records \(A or AAAA\)$/m);
  assert.match(r.stdout, /loaded serial 2024010101/);
});

test('--print: canonical presentation on stdout, status on stderr', () => {
  const r = cli('--print', 'example.com', 'good.zone');
  assert.equal(r.status, 0);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.replace(/\s+/g, ' ')), [
    'example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 900 1209600 300',
    'example.com. 3600 IN NS ns1.example.com.',
    'more.example.com. 3600 IN TXT "included"',
    'ns1.example.com. 3600 IN A 192.0.2.1',
    'www.example.com. 3600 IN A 192.0.2.2',
  ]);
  assert.match(r.stderr, /zone example\.com\/IN: loaded serial 2024010101/);
});

test('usage errors and unreadable files', () => {
  const u = cli('example.com');
  assert.equal(u.status, 2);
  assert.match(u.stderr, /usage: sovereign check-zone/);
  const missing = cli('example.com', join(dir.path, 'nope.zone'));
  assert.equal(missing.status, 1);
  assert.match(missing.stdout, /nope\.zone.*(ENOENT|no such file)/);
});
