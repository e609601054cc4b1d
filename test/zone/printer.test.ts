// Canonical printer: one RR per line, absolute names, explicit TTL and class, names in DNSSEC
// canonical order (RFC 4034 §6.1), SOA first at the apex, records by canonical RDATA (§6.3).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printZone } from '../../src/zone/printer.js';
import { HEAD, buildZone, parse } from './util.js';

const squash = (l: string): string => l.replace(/\s+/g, ' ');

test('canonical order of names, SOA first, RDATA in canonical order', () => {
  const zone = buildZone(`${HEAD}z A 192.0.2.9
Z.a MX 20 b.example.net.
a MX 10 Z.example.net.
a MX 10 a.example.net.
*.a TXT "w"
yljkjljk.a A 192.0.2.1
\\001.z A 192.0.2.2
z.z A 192.0.2.3
\\200.z A 192.0.2.4
@ TXT "b" 
@ TXT "a"
`);
  assert.deepEqual([...printZone(zone)].map(squash), [
    'example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 900 1209600 300',
    'example.com. 3600 IN NS ns1.example.com.',
    'example.com. 3600 IN TXT "a"',
    'example.com. 3600 IN TXT "b"',
    'a.example.com. 3600 IN MX 10 a.example.net.',
    'a.example.com. 3600 IN MX 10 Z.example.net.',
    '*.a.example.com. 3600 IN TXT "w"',
    'yljkjljk.a.example.com. 3600 IN A 192.0.2.1',
    'Z.a.example.com. 3600 IN MX 20 b.example.net.',
    'ns1.example.com. 3600 IN A 192.0.2.1',
    'z.example.com. 3600 IN A 192.0.2.9',
    '\\001.z.example.com. 3600 IN A 192.0.2.2',
    'z.z.example.com. 3600 IN A 192.0.2.3',
    '\\200.z.example.com. 3600 IN A 192.0.2.4',
  ]);
});

test('lines are laid out in columns like named-checkzone -D and parse back', () => {
  const zone = buildZone(`${HEAD}www 300 A 192.0.2.2\n`);
  const lines = [...printZone(zone)];
  for (const l of lines) assert.match(l, /^\S+\.\t+ +\d+ IN \S+\t+\S/);
  const again = parse(lines.join('\n') + '\n');
  assert.deepEqual(again.errors, []);
  assert.equal(again.records.length, lines.length);
  assert.ok(again.records.includes('www.example.com. 300 IN A 192.0.2.2'));
});
