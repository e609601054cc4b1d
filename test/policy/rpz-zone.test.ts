/** Compiling policy zones: trigger kinds, IP prefix forms (draft-vixie-dnsop-dns-rpz §4), actions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressBytes, parseIpTrigger } from '../../src/policy/prefix-table.js';
import { compilePolicyZone } from '../../src/policy/rpz-zone.js';
import { Name } from '../../src/wire/name.js';
import { parseRecord } from '../../src/wire/record.js';
import { Zone } from '../../src/zone/zone.js';

function zone(text: string): Zone {
  const origin = Name.fromText('rpz.test.');
  const z = new Zone(origin);
  for (const line of text.trim().split('\n')) z.add(parseRecord(line.trim(), { origin }));
  z.finish();
  return z;
}

test('IP trigger names: IPv4 and IPv6 (zz) forms, bad ones explained', () => {
  const v4 = parseIpTrigger(['24', '0', '2', '0', '192']);
  assert.ok(typeof v4 !== 'string');
  assert.equal(v4.text, '192.0.2.0/24');
  const v6 = parseIpTrigger(['48', 'zz', 'db8', '2001']);
  assert.ok(typeof v6 !== 'string');
  assert.equal(v6.text, '2001:db8::/48');
  const full = parseIpTrigger(['128', '1', 'zz', '3', 'db8', '2001']);
  assert.ok(typeof full !== 'string' && full.text === '2001:db8:3::1/128');
  assert.equal(typeof parseIpTrigger(['33', '1', '0', '0', '127']), 'string');
  assert.equal(typeof parseIpTrigger(['x', '1', '0', '0', '127']), 'string');
  assert.equal(typeof parseIpTrigger(['64', 'zz', '1', 'zz', '2001']), 'string');
});

test('triggers by kind, longest prefix and closest wildcard win', () => {
  const c = compilePolicyZone(zone(`
@ 60 SOA ns. h. 1 3600 600 86400 60
@ 60 NS ns.
bad.example 60 CNAME .
*.example 60 CNAME *.
*.deep.example 60 CNAME rpz-drop.
24.0.2.0.192.rpz-ip 60 CNAME .
32.5.2.0.192.rpz-ip 60 CNAME rpz-passthru.
32.1.0.0.127.rpz-client-ip 60 CNAME rpz-tcp-only.
ns.evil.rpz-nsdname 60 CNAME .
*.evil2.rpz-nsdname 60 CNAME .
64.zz.db8.2001.rpz-nsip 60 A 10.0.0.1
300.1.0.0.127.rpz-ip 60 CNAME .
`));
  assert.deepEqual(c.counts, { 'client-ip': 1, qname: 3, ip: 2, nsdname: 2, nsip: 1 });
  assert.equal(c.problems.length, 1);
  assert.equal(c.qname.match(Name.fromText('bad.example.').key)?.action, 'nxdomain');
  assert.equal(c.qname.match(Name.fromText('x.example.').key)?.action, 'nodata');
  assert.equal(c.qname.match(Name.fromText('a.deep.example.').key)?.action, 'drop');
  assert.equal(c.qname.match(Name.fromText('example.').key), undefined);
  assert.equal(c.ip.match(addressBytes('192.0.2.5')!)?.action, 'passthru');
  assert.equal(c.ip.match(addressBytes('192.0.2.6')!)?.action, 'nxdomain');
  assert.equal(c.ip.match(addressBytes('192.0.3.6')!), undefined);
  assert.equal(c.clientIp.match(addressBytes('127.0.0.1')!)?.action, 'tcp-only');
  assert.equal(c.nsdname.match(Name.fromText('ns.evil.').key)?.action, 'nxdomain');
  assert.equal(c.nsdname.match(Name.fromText('ns1.evil2.').key)?.action, 'nxdomain');
  const nsip = c.nsip.match(addressBytes('2001:db8::53')!);
  assert.equal(nsip?.action, 'local');
  assert.equal(nsip?.sets.length, 1);
});
