// `sovereign check-zone` through the real CLI (node bin/sovereign.js), like named-checkzone:
// exit 0 with "zone ORIGIN/IN: loaded serial N", exit 1 with every error, --print for the
// canonical form.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { havePeers, runTool, tempDir } from '../helpers/peers.js';
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
  assert.equal(u.status, 1, 'named-checkzone exits 1 on a usage error');
  assert.match(u.stderr, /usage: sovereign check-zone/);
  const missing = cli('example.com', join(dir.path, 'nope.zone'));
  assert.equal(missing.status, 1);
  assert.match(missing.stdout, /nope\.zone.*(ENOENT|no such file)/);
});

// named-checkzone's everyday options, each run on the same file by both tools.
writeFiles(dir.path, {
  'names.zone': `${HEAD}@ NS bad_ns.example.net.\nbad_a A 192.0.2.9\n*.w A 192.0.2.9\nx-.y AAAA ::1\n` +
    'mx MX 10 bad_mx.example.net.\nsrv SRV 0 0 1 bad_srv.example.net.\n_tcp TXT "x"\n_x A 192.0.2.8\n_srv._tcp SRV 0 0 1 ns1\n',
  'out-of-zone.zone': `${HEAD}www A 192.0.2.2\nwww.example.net. A 192.0.2.3\n`,
  'glue.zone': `${HEAD}sub NS ns.sub\n`,
  'nsaddr.zone': `${HEAD}@ NS 192.0.2.1\n192.0.2.1 A 192.0.2.1\n`,
  'mxcname.zone': `${HEAD}@ MX 10 alias\nalias CNAME ns1\n`,
});

/** Owner or target names a tool flagged with "(check-names)", and whether it loaded. */
function flagged(out: string): string[] {
  const names = new Set<string>();
  for (const m of out.matchAll(/([\w.*-]+?)\.?'?: bad (?:owner )?name \(check-names\)|near '([^']+?)\.?': bad name/g)) names.add((m[1] ?? m[2])!);
  for (const m of out.matchAll(/'([^']+?)\.?': bad name \(check-names\)/g)) names.add(m[1]!);
  return [...names].map((n) => n.replace(/^.*\/\w+ '?/, '')).filter((n) => n !== 'failed').sort();
}

test('-k fail|warn|ignore: the same names flagged as named-checkzone, the same outcome', (t) => {
  if (!havePeers(t, 'named-checkzone')) return;
  const bad = ['_x.example.com', 'bad_a.example.com', 'bad_mx.example.net', 'bad_ns.example.net', 'bad_srv.example.net', 'x-.y.example.com'];
  for (const mode of ['fail', 'warn', 'ignore']) {
    const us = cli('-k', mode, 'example.com', 'names.zone');
    const them = runTool('named-checkzone', ['-i', 'local', '-k', mode, 'example.com', 'names.zone'], { cwd: dir.path });
    assert.equal(us.status, them.status, `-k ${mode}: ${us.stdout}\n${them.stdout}${them.stderr}`);
    assert.deepEqual(flagged(us.stdout), mode === 'ignore' ? [] : bad, us.stdout);
    assert.deepEqual(flagged(them.stdout + them.stderr), mode === 'ignore' ? [] : bad);
  }
  // Without -k, named-checkzone only warns (named itself fails a primary: the server's default).
  assert.equal(cli('example.com', 'names.zone').status, 0);
});

test('out-of-zone data is ignored with a warning, as named-checkzone and kzonecheck do', (t) => {
  const us = cli('example.com', 'out-of-zone.zone');
  assert.equal(us.status, 0, us.stdout);
  assert.match(us.stdout, /^out-of-zone\.zone:6:1: warning: www\.example\.net\.: ignoring out-of-zone data/m);
  const printed = cli('-D', 'example.com', 'out-of-zone.zone');
  assert.doesNotMatch(printed.stdout, /example\.net/);
  if (!havePeers(t, 'named-checkzone', 'kzonecheck')) return;
  const them = runTool('named-checkzone', ['-i', 'local', 'example.com', 'out-of-zone.zone'], { cwd: dir.path });
  assert.equal(them.status, 0);
  assert.match(them.stdout + them.stderr, /ignoring out-of-zone data \(www\.example\.net\)/);
  assert.equal(runTool('kzonecheck', ['-o', 'example.com', 'out-of-zone.zone'], { cwd: dir.path }).status, 0);
});

test('missing glue: an error that says so (as kzonecheck); checks.glue warn makes it a warning', (t) => {
  const us = cli('example.com', 'glue.zone');
  assert.equal(us.status, 1);
  assert.match(us.stdout, /sub\.example\.com\.\/NS 'ns\.sub\.example\.com\.' has no address records \(A or AAAA\): missing glue/);
  if (!havePeers(t, 'kzonecheck')) return;
  const k = runTool('kzonecheck', ['-o', 'example.com', 'glue.zone'], { cwd: dir.path });
  assert.notEqual(k.status, 0);
  assert.match(k.stdout + k.stderr, /missing glue/);
});

test('-n: an NS target written as an address, as named-checkzone reports it', (t) => {
  const warn = cli('example.com', 'nsaddr.zone');
  assert.equal(warn.status, 0, warn.stdout);
  assert.match(warn.stdout, /warning: NS record '192\.0\.2\.1' appears to be an address/);
  assert.equal(cli('-n', 'fail', 'example.com', 'nsaddr.zone').status, 1);
  assert.doesNotMatch(cli('-n', 'ignore', 'example.com', 'nsaddr.zone').stdout, /appears to be an address/);
  if (!havePeers(t, 'named-checkzone')) return;
  const them = runTool('named-checkzone', ['-i', 'local', 'example.com', 'nsaddr.zone'], { cwd: dir.path });
  assert.equal(them.status, 0);
  assert.match(them.stdout + them.stderr, /NS record '192\.0\.2\.1' appears to be an address/);
  assert.equal(runTool('named-checkzone', ['-i', 'local', '-n', 'fail', 'example.com', 'nsaddr.zone'], { cwd: dir.path }).status, 1);
});

test('-M: an MX target that is a CNAME warns, fails or is ignored, as named-checkzone', (t) => {
  for (const [mode, status] of [['warn', 0], ['fail', 1], ['ignore', 0]] as const) {
    const us = cli('-M', mode, 'example.com', 'mxcname.zone');
    assert.equal(us.status, status, us.stdout);
    if (mode === 'ignore') assert.doesNotMatch(us.stdout, /CNAME/);
    if (!havePeers(t, 'named-checkzone')) continue;
    assert.equal(runTool('named-checkzone', ['-i', 'local', '-M', mode, 'example.com', 'mxcname.zone'], { cwd: dir.path }).status, status);
  }
});

test('-q: nothing printed, only the exit code (as named-checkzone)', () => {
  const ok = cli('-q', 'example.com', 'good.zone');
  assert.deepEqual([ok.status, ok.stdout, ok.stderr], [0, '', '']);
  const bad = cli('-q', 'example.com', 'bad.zone');
  assert.deepEqual([bad.status, bad.stdout, bad.stderr], [1, '', '']);
});

test('-D -o FILE: the dump goes to the file, the status lines to stdout; same records as named-checkzone -o', (t) => {
  const r = cli('-D', '-o', 'dump.txt', 'example.com', 'good.zone');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'zone example.com/IN: loaded serial 2024010101\nOK\n');
  const ours = readFileSync(join(dir.path, 'dump.txt'), 'utf8');
  assert.match(ours, /^more\.example\.com\.\s+3600 IN TXT\s+"included"$/m);
  if (!havePeers(t, 'named-checkzone')) return;
  const them = runTool('named-checkzone', ['-i', 'local', '-o', 'named-dump.txt', 'example.com', 'good.zone'], { cwd: dir.path });
  assert.equal(them.status, 0);
  assert.equal(ours, readFileSync(join(dir.path, 'named-dump.txt'), 'utf8'), 'byte for byte the file named-checkzone writes');
});

test('-s relative: $ORIGIN/$TTL layout that loads back to the same records', () => {
  const r = cli('-D', '-s', 'relative', 'example.com', 'good.zone');
  assert.equal(r.status, 0);
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(0, 4), ['$ORIGIN example.com.', '$TTL 3600\t; 1 hour', '@\t\t\tIN SOA\tns1.example.com. hostmaster.example.com. (',
    '\t\t\t\t2024010101 ; serial']);
  assert.ok(lines.includes('\t\t\t\t7200       ; refresh (2 hours)'));
  assert.ok(lines.includes('more\t\t\tTXT\t"included"'));
  writeFiles(dir.path, { 'relative.zone': r.stdout });
  const again = cli('-D', 'example.com', 'relative.zone');
  assert.equal(again.stdout, cli('-D', 'example.com', 'good.zone').stdout);
});

test('-f/-F raw are refused clearly; -c, -w and -v work', () => {
  const raw = cli('-f', 'raw', 'example.com', 'good.zone');
  assert.equal(raw.status, 1);
  assert.match(raw.stderr, /raw format is not supported; convert with named-compilezone -f raw -F text/);
  assert.match(cli('-F', 'raw', '-D', 'example.com', 'good.zone').stderr, /raw format is not supported/);
  assert.equal(cli('-f', 'text', '-F', 'text', 'example.com', 'good.zone').status, 0);
  assert.match(cli('-c', 'IN', 'example.com', 'good.zone').stdout, /zone example\.com\/IN: loaded/);
  assert.equal(cli('-w', dir.path, 'example.com', 'good.zone').status, 0);
  assert.match(cli('-k', 'bogus', 'example.com', 'good.zone').stderr, /invalid argument to -k: bogus/);
  assert.match(cli('-v').stdout, /^Sovereign \d/);
});
