// RFC 4592 §2.2.1: the example zone and every query the RFC walks through, against
// Zone.lookup (RFC 1034 §4.3.2 as clarified by RFC 4592 §3.3.1), plus empty non-terminals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Name, RRType, typeFromString } from '../../src/index.js';
import { buildZone } from '../zone/util.js';

// RFC 4592 §2.2.1, with SOA and SRV RDATA filled in.
const zone = buildZone(`$ORIGIN example.
example.                 3600 IN  SOA   ns.example.com. hostmaster.example. 1 3600 900 604800 300
example.                 3600     NS    ns.example.com.
example.                 3600     NS    ns.example.net.
*.example.               3600     TXT   "this is a wildcard"
*.example.               3600     MX    10 host1.example.
sub.*.example.           3600     TXT   "this is not a wildcard"
host1.example.           3600     A     192.0.2.1
_ssh._tcp.host1.example. 3600     SRV   0 0 22 host1.example.
_ssh._tcp.host2.example. 3600     SRV   0 0 22 host2.example.
subdel.example.          3600     NS    ns.example.com.
subdel.example.          3600     NS    ns.example.net.
`, 'example.');

function q(name: string, type: string): ReturnType<typeof zone.lookup> {
  return zone.lookup(Name.fromText(name), typeFromString(type)!);
}

test('RFC 4592 §2.2.1: the wildcard matches host3.example. (MX answer, A no data)', () => {
  const mx = q('host3.example.', 'MX');
  assert.equal(mx.kind, 'answer');
  assert.equal(mx.kind === 'answer' && mx.wildcard?.toString(), '*.example.');
  assert.equal(mx.kind === 'answer' && mx.rrset.type, RRType.MX);
  const a = q('host3.example.', 'A');
  assert.equal(a.kind, 'nodata');
  assert.equal(a.kind === 'nodata' && a.wildcard?.toString(), '*.example.');
});

test('RFC 4592 §2.2.1: the wildcard matches foo.bar.example. (several labels)', () => {
  const r = q('foo.bar.example.', 'TXT');
  assert.equal(r.kind, 'answer');
  assert.equal(r.kind === 'answer' && r.wildcard?.toString(), '*.example.');
});

test('RFC 4592 §2.2.1: existing names are not matched by the wildcard', () => {
  const r1 = q('host1.example.', 'MX');
  assert.equal(r1.kind, 'nodata');
  assert.equal(r1.kind === 'nodata' && r1.wildcard, undefined);
  const r2 = q('sub.*.example.', 'MX');
  assert.equal(r2.kind, 'nodata');
  assert.equal(r2.kind === 'nodata' && r2.wildcard, undefined);
  const r3 = q('sub.*.example.', 'TXT');
  assert.equal(r3.kind, 'answer');
});

test('RFC 4592 §2.2.1: an empty non-terminal blocks the wildcard (_tcp.host1, host2)', () => {
  const r = q('_telnet._tcp.host1.example.', 'SRV');
  assert.equal(r.kind, 'nxdomain');
  assert.equal(r.kind === 'nxdomain' && r.closestEncloser.name.toString(), '_tcp.host1.example.');
  const host2 = q('host2.example.', 'A');
  assert.equal(host2.kind, 'nodata');
  assert.equal(host2.kind === 'nodata' && host2.wildcard, undefined);
  assert.equal(q('_tcp.host2.example.', 'TXT').kind, 'nodata');
});

test('RFC 4592 §2.2.1: names at or below a delegation are referred, not synthesised', () => {
  const r = q('host.subdel.example.', 'A');
  assert.equal(r.kind, 'referral');
  assert.equal(r.kind === 'referral' && r.cut.name.toString(), 'subdel.example.');
});

test('RFC 4592 §2.2.1: ghost.*.example. does not exist (no *.*.example.)', () => {
  const r = q('ghost.*.example.', 'MX');
  assert.equal(r.kind, 'nxdomain');
  assert.equal(r.kind === 'nxdomain' && r.closestEncloser.name.toString(), '*.example.');
});

test('RFC 4592 §2.1.1: a query for the wildcard name itself is answered exactly', () => {
  const r = q('*.example.', 'TXT');
  assert.equal(r.kind, 'answer');
  assert.equal(r.kind === 'answer' && r.wildcard, undefined);
});

test('RFC 4592 §3.3.1: the source of synthesis is *.<closest encloser>, not a higher wildcard', () => {
  const z = buildZone(`$TTL 60
@ SOA ns h 1 2 3 4 5
@ NS ns
ns A 192.0.2.1
* TXT "top"
a.b A 192.0.2.2
*.b TXT "b"
`, 'example.');
  const r = z.lookup(Name.fromText('x.b.example.'), RRType.TXT);
  assert.equal(r.kind === 'answer' && r.wildcard?.toString(), '*.b.example.');
  // a.b exists, so z.a.b's closest encloser is a.b, which has no wildcard child.
  assert.equal(z.lookup(Name.fromText('z.a.b.example.'), RRType.TXT).kind, 'nxdomain');
  const top = z.lookup(Name.fromText('q.example.'), RRType.TXT);
  assert.equal(top.kind === 'answer' && top.wildcard?.toString(), '*.example.');
});
