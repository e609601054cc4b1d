// In-memory zone: RRsets, duplicates, node tree with empty non-terminals, canonical order,
// and the RFC 1034 §4.3.2 lookup (exact, CNAME, delegation, DNAME, wildcard, NXDOMAIN).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Name, RRClass, RRType } from '../../src/index.js';
import { Zone } from '../../src/zone/zone.js';
import { HEAD, buildZone, zoneLines } from './util.js';

const n = (s: string): Name => Name.fromText(s);

const zone = buildZone(`${HEAD}www A 192.0.2.10
www A 192.0.2.11
www A 192.0.2.10
WWW 300 A 192.0.2.12
alias CNAME www
a.b.c A 192.0.2.20
sub NS ns.sub
sub NS ns.example.net.
sub DS 12345 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.sub A 192.0.2.30
deep.below.sub A 192.0.2.31
d DNAME example.net.
*.w TXT "wild"
*.w MX 10 www
*.c CNAME www
`);

test('records of one name and type form an RRset; duplicates are dropped; first TTL wins with a warning', () => {
  const set = zone.getRRset(n('www.example.com.'), RRType.A)!;
  assert.equal(set.rdata.length, 3);
  assert.equal(set.ttl, 3600);
  assert.equal(zone.warnings.length, 1);
  assert.match(zone.warnings[0]!.reason, /TTL 300 differs from the RRset's TTL 3600/);
  assert.equal(zone.recordCount, 17);
});

test('empty non-terminals exist as nodes without data', () => {
  for (const ent of ['b.c.example.com.', 'c.example.com.', 'below.sub.example.com.']) {
    const node = zone.node(n(ent));
    assert.ok(node, ent);
    assert.equal(node.isEmptyNonTerminal, true);
  }
  assert.equal(zone.node(n('nothere.example.com.')), undefined);
});

test('delegation flags are decided at finish()', () => {
  assert.equal(zone.node(n('sub.example.com.'))!.isDelegation, true);
  assert.equal(zone.node(n('ns.sub.example.com.'))!.isBelowCut, true);
  assert.equal(zone.node(n('deep.below.sub.example.com.'))!.isBelowCut, true);
  assert.equal(zone.apex.isDelegation, false);
  assert.equal(zone.node(n('www.example.com.'))!.isBelowCut, false);
});

test('nodes() is in DNSSEC canonical order (RFC 4034 §6.1), apex first', () => {
  const names = zone.nodes().map((x) => x.name.toString());
  assert.equal(names[0], 'example.com.');
  const sorted = [...zone.nodes()].sort((a, b) => a.name.compare(b.name)).map((x) => x.name.toString());
  assert.deepEqual(names, sorted);
  assert.ok(names.indexOf('c.example.com.') < names.indexOf('*.c.example.com.'));
  assert.ok(names.indexOf('*.c.example.com.') < names.indexOf('b.c.example.com.'));
});

test('lookup: exact match, case-insensitive', () => {
  const r = zone.lookup(n('WwW.ExAmPlE.CoM.'), RRType.A);
  assert.equal(r.kind, 'answer');
  assert.equal(r.kind === 'answer' && r.rrset.rdata.length, 3);
  assert.equal(r.kind === 'answer' && r.wildcard, undefined);
});

test('lookup: nodata at an existing name and at an empty non-terminal', () => {
  assert.equal(zone.lookup(n('www.example.com.'), RRType.MX).kind, 'nodata');
  assert.equal(zone.lookup(n('b.c.example.com.'), RRType.A).kind, 'nodata');
});

test('lookup: CNAME for other types, the CNAME itself for CNAME', () => {
  const r = zone.lookup(n('alias.example.com.'), RRType.A);
  assert.equal(r.kind, 'cname');
  assert.equal(zone.lookup(n('alias.example.com.'), RRType.CNAME).kind, 'answer');
});

test('lookup: at and below a cut gives a referral with NS and DS; DS at the cut is answered by the parent', () => {
  for (const q of ['sub.example.com.', 'ns.sub.example.com.', 'x.deep.below.sub.example.com.']) {
    const r = zone.lookup(n(q), RRType.A);
    assert.equal(r.kind, 'referral', q);
    if (r.kind === 'referral') {
      assert.equal(r.cut.name.toString(), 'sub.example.com.');
      assert.equal(r.ns.rdata.length, 2);
      assert.equal(r.ds?.type, RRType.DS);
    }
  }
  assert.equal(zone.lookup(n('sub.example.com.'), RRType.NS).kind, 'referral');
  const ds = zone.lookup(n('sub.example.com.'), RRType.DS);
  assert.equal(ds.kind, 'answer');
});

test('lookup: DNAME above the name (RFC 6672 §3.3); the DNAME owner itself answers normally', () => {
  const r = zone.lookup(n('x.y.d.example.com.'), RRType.A);
  assert.equal(r.kind, 'dname');
  assert.equal(r.kind === 'dname' && r.node.name.toString(), 'd.example.com.');
  assert.equal(zone.lookup(n('d.example.com.'), RRType.DNAME).kind, 'answer');
  assert.equal(zone.lookup(n('d.example.com.'), RRType.A).kind, 'nodata');
});

test('lookup: wildcard synthesis reports its source; wildcard CNAME', () => {
  const r = zone.lookup(n('anything.w.example.com.'), RRType.MX);
  assert.equal(r.kind, 'answer');
  assert.equal(r.kind === 'answer' && r.wildcard?.toString(), '*.w.example.com.');
  const nodata = zone.lookup(n('anything.w.example.com.'), RRType.A);
  assert.equal(nodata.kind, 'nodata');
  assert.equal(nodata.kind === 'nodata' && nodata.wildcard?.toString(), '*.w.example.com.');
  const c = zone.lookup(n('x.c.example.com.'), RRType.A);
  assert.equal(c.kind, 'cname');
  assert.equal(c.kind === 'cname' && c.wildcard?.toString(), '*.c.example.com.');
});

test('lookup: NXDOMAIN carries the closest encloser', () => {
  const r = zone.lookup(n('x.a.b.c.example.com.'), RRType.A);
  assert.equal(r.kind, 'nxdomain');
  assert.equal(r.kind === 'nxdomain' && r.closestEncloser.name.toString(), 'a.b.c.example.com.');
  const top = zone.lookup(n('nothere.example.com.'), RRType.A);
  assert.equal(top.kind === 'nxdomain' && top.closestEncloser, zone.apex);
});

test('lookup: names outside the zone', () => {
  assert.equal(zone.lookup(n('example.org.'), RRType.A).kind, 'outside');
  assert.equal(zone.lookup(n('com.'), RRType.A).kind, 'outside');
  assert.equal(zone.lookup(n('www.example.com.evil.'), RRType.A).kind, 'outside');
  assert.equal(zone.lookup(n('notexample.com.'), RRType.A).kind, 'outside');
});

test('lookup: the apex', () => {
  assert.equal(zone.lookup(n('example.com.'), RRType.SOA).kind, 'answer');
  assert.equal(zone.lookup(n('example.com.'), RRType.NS).kind, 'answer');
  assert.equal(zone.lookup(n('example.com.'), RRType.TXT).kind, 'nodata');
  assert.equal(zone.serial, 2024010101);
  assert.equal(zone.soa?.ttl, 3600);
});

test('wireOf gives canonical (lowercased, uncompressed) RDATA once', () => {
  const z = buildZone(`${HEAD}m MX 10 MAIL.Example.NET.\n`);
  const set = z.getRRset(n('m.example.com.'), RRType.MX)!;
  const w = Zone.wireOf(set);
  assert.deepEqual([...w[0]!], [0, 10, 4, 109, 97, 105, 108, 7, 101, 120, 97, 109, 112, 108, 101, 3, 110, 101, 116, 0]);
  assert.equal(Zone.wireOf(set), w);
});

test('add after finish and names outside the zone are refused', () => {
  const z = new Zone(n('example.com.'));
  assert.throws(() => z.add({ name: n('example.org.'), type: RRType.A, class: 1, ttl: 1, data: { address: '192.0.2.1' } }), RangeError);
  z.finish();
  assert.throws(() => z.add({ name: n('a.example.com.'), type: RRType.A, class: 1, ttl: 1, data: { address: '192.0.2.1' } }), RangeError);
});

test('records are stored as bytes: decoded on demand, case kept, equal to what was added', () => {
  const z = buildZone(`${HEAD}alias CNAME WwW\nwww A 192.0.2.1\nm MX 10 Mail.Example.NET.\nm MX 20 b.example.net.\nm MX 10 mail.example.net.\n`);
  const target = (z.getRRset(n('alias.example.com.'), RRType.CNAME)!.rdata[0] as { cname: Name }).cname;
  assert.equal(target.toString(), 'WwW.example.com.');
  const mx = z.getRRset(n('m.example.com.'), RRType.MX)!;
  // The third MX equals the first but for case: a duplicate (RFC 4343), dropped.
  assert.deepEqual(mx.rdata.map((d) => (d as { exchange: Name }).exchange.toString()), ['Mail.Example.NET.', 'b.example.net.']);
  assert.equal(mx.rdata, mx.rdata, 'decoded once, then kept');
  assert.equal(mx.name, z.node(n('m.example.com.'))!.name);
  assert.deepEqual(zoneLines(z).slice(2), [
    'alias.example.com. 3600 IN CNAME WwW.example.com.',
    'm.example.com. 3600 IN MX 10 Mail.Example.NET.',
    'm.example.com. 3600 IN MX 20 b.example.net.',
    'ns1.example.com. 3600 IN A 192.0.2.1',
    'www.example.com. 3600 IN A 192.0.2.1',
  ]);
});

test('each zone keeps its own source file names (nothing shared between zones or reloads)', () => {
  const a = new Zone(n('example.com.'));
  const b = new Zone(n('example.com.'));
  const rr = { name: n('www.example.com.'), type: RRType.A, class: RRClass.IN, ttl: 60, data: { address: '192.0.2.1' } };
  a.add(rr, { file: 'a.zone', line: 3, column: 1 });
  b.add(rr, { file: 'b.zone', line: 7, column: 2 });
  a.finish();
  b.finish();
  assert.deepEqual(a.sourceOf(a.getRRset(n('www.example.com.'), RRType.A)!), { file: 'a.zone', line: 3, column: 1 });
  assert.deepEqual(b.sourceOf(b.getRRset(n('www.example.com.'), RRType.A)!), { file: 'b.zone', line: 7, column: 2 });
});

test('source positions are kept for the checks', () => {
  const z = buildZone(`${HEAD}www A 192.0.2.1\n`);
  assert.deepEqual(z.sourceOf(z.getRRset(n('www.example.com.'), RRType.A)!), { file: 'test.zone', line: 5, column: 1 });
});
