/** Blocklist parsing (hosts, domains, adblock) and lookups, with Pi-hole's exact-match semantics. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Allowlist, Blocklist, hostKey, listBlocks } from '../../src/policy/blocklist.js';
import { Name } from '../../src/wire/name.js';

const key = (n: string): string => Name.fromText(n).key;

test('hostKey is Name.key for valid names, undefined for others', () => {
  for (const n of ['ads.example.com', 'ADS.Example.COM.', 'a-b_c.example', 'x.y']) assert.equal(hostKey(n), key(n.endsWith('.') ? n : n + '.'));
  for (const n of ['', '.', 'a..b', 'bad name', 'ex*ample.com', 'ünicode.example', 'a'.repeat(64) + '.com', 'http://x.example/']) assert.equal(hostKey(n), undefined, n);
});

test('hosts format: every name after the address, exact only; the machine\'s own names skipped', () => {
  const l = Blocklist.parse(`# a hosts file
127.0.0.1 localhost
::1 localhost ip6-localhost
0.0.0.0 ads.example tracker.example # trailing comment
0.0.0.0   Mixed.Case.Example
`);
  assert.equal(l.size, 3);
  assert.equal(l.skipped, 0);
  assert.ok(listBlocks(l, key('ads.example.')));
  assert.ok(listBlocks(l, key('MIXED.case.example.')));
  assert.ok(!listBlocks(l, key('sub.ads.example.')), 'hosts entries are exact (Pi-hole)');
  assert.ok(!listBlocks(l, key('localhost.')));
});

test('domains format: one per line, exact', () => {
  const l = Blocklist.parse('ads.example\n\n# comment\ntracker.example.\n');
  assert.equal(l.size, 2);
  assert.ok(listBlocks(l, key('tracker.example.')));
  assert.ok(!listBlocks(l, key('x.tracker.example.')));
});

test('adblock format: ||name^ blocks the name and its subdomains; @@|| excepts; other rules skipped', () => {
  const l = Blocklist.parse(`[Adblock Plus 2.0]
! comment
||ads.example^
||cdn.ads.example^$important
@@||ok.ads.example^
||example.org/path^
`);
  assert.equal(l.size, 2);
  assert.ok(listBlocks(l, key('ads.example.')));
  assert.ok(listBlocks(l, key('deep.sub.ads.example.')));
  assert.ok(!listBlocks(l, key('ok.ads.example.')), 'exception');
  assert.ok(!listBlocks(l, key('x.ok.ads.example.')), 'exception covers subdomains');
  assert.ok(!listBlocks(l, key('example.org.')));
  assert.equal(l.skipped, 1);
  assert.equal(l.problems[0]!.line, 6);
});

test('malformed lines are skipped with their line numbers; the rest loads', () => {
  const l = Blocklist.parse('good.example\nbad name here\n0.0.0.0 fine.example b@d.example\n<html>\n');
  assert.equal(l.size, 2);
  assert.deepEqual(l.problems.map((p) => p.line), [2, 3, 4]);
});

test('format narrows what a line may be', () => {
  const l = Blocklist.parse('0.0.0.0 a.example\nb.example\n||c.example^\n', 'domains');
  assert.equal(l.size, 1);
  assert.equal(l.skipped, 2);
});

test('allowlist: exact names, and *.name / ||name^ for subtrees', () => {
  const a = new Allowlist();
  assert.ok(a.add('good.example'));
  assert.ok(a.add('*.cdn.example'));
  assert.ok(a.add('||safe.example^'));
  assert.ok(!a.add('not a name'));
  assert.ok(a.allows(key('good.example.')));
  assert.ok(!a.allows(key('x.good.example.')));
  assert.ok(a.allows(key('cdn.example.')));
  assert.ok(a.allows(key('a.b.cdn.example.')));
  assert.ok(a.allows(key('x.safe.example.')));
});
