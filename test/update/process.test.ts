// processUpdate's copy-on-write versions (Zone.derive): the new version must equal a zone built
// from scratch with the same records, and the version it came from must stay exactly as it was
// (a reader holding it mid-answer or mid-AXFR sees the old zone whole).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { processUpdate } from '../../src/update/process.js';
import { Opcode, Rcode } from '../../src/wire/constants.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { EMPTY_RDATA, type ResourceRecord, parseRecord } from '../../src/wire/record.js';
import { RRClass, RRType } from '../../src/wire/types.js';
import type { Zone } from '../../src/zone/zone.js';
import { buildZone, zoneLines } from '../zone/util.js';

const ORIGIN = 'example.com.';
const BASE = `$TTL 300
@ SOA ns1 hostmaster 10 3600 900 604800 300
@ NS ns1
ns1 A 192.0.2.1
sub A 192.0.2.2
deleg NS ns.deleg
ns.deleg A 192.0.2.3
www A 192.0.2.4
www TXT "hello"
`;

function update(records: ResourceRecord[]): Message {
  const m = new Message();
  m.opcode = Opcode.UPDATE;
  m.question.push({ name: Name.fromText(ORIGIN), type: RRType.SOA, class: 1 });
  m.authority.push(...records);
  return m;
}

/** `NONE name TYPE rdata` deletes one record, `ANY name` a whole name (RFC 2136 §2.5.4, §2.5.3); else an add. */
function rr(line: string): ResourceRecord {
  const [how, name, ...rest] = line.split(' ');
  if (how === 'ANY') return { name: Name.fromText(name!), type: RRType.ANY, class: RRClass.ANY, ttl: 0, data: EMPTY_RDATA };
  if (how === 'NONE') return { ...parseRecord(`${name} 0 IN ${rest.join(' ')}`), class: RRClass.NONE, ttl: 0 };
  return parseRecord(line);
}

function apply(zone: Zone, lines: string[]): Zone {
  const r = processUpdate(update(lines.map(rr)), zone, { allowed: () => true, serialMethod: 'increment', now: 0 });
  assert.equal(r.rcode, Rcode.NOERROR, r.notes.join('; '));
  assert.ok(r.zone !== undefined, 'the update changed the zone');
  return r.zone;
}

function kind(zone: Zone, name: string, type: number): string {
  return zone.lookup(Name.fromText(name), type).kind;
}

const sorted = (z: Zone): string[] => zoneLines(z).sort();

test('an update makes a new version equal to a rebuilt zone; the old version is unchanged', () => {
  const v0 = buildZone(BASE, ORIGIN);
  const before = sorted(v0);
  const v1 = apply(v0, [
    'a.b.sub.example.com. 300 IN A 192.0.2.10', // new name two labels below an existing one: b.sub is an empty non-terminal
    'host.deleg.example.com. 300 IN A 192.0.2.11', // glue below the cut
    '*.w.example.com. 300 IN TXT "wild"', // wildcard below a new empty non-terminal
    'www.example.com. 600 IN A 192.0.2.5', // TTL of the whole RRset becomes 600
  ]);
  assert.deepEqual(sorted(v0), before);
  assert.equal(v0.serial, 10);
  assert.equal(v1.serial, 11);
  const expected = buildZone(BASE.replace('10 3600', '11 3600').replace('www A 192.0.2.4', 'www 600 A 192.0.2.4') + `a.b.sub A 192.0.2.10
host.deleg A 192.0.2.11
*.w TXT "wild"
www 600 A 192.0.2.5
`, ORIGIN);
  assert.deepEqual(sorted(v1), sorted(expected));
  assert.equal(v1.recordCount, expected.recordCount);
  // Lookups in the new version: ENT, referral for glue, wildcard synthesis; old version: NXDOMAIN.
  assert.equal(kind(v1, 'b.sub.example.com.', RRType.A), 'nodata');
  assert.equal(kind(v0, 'b.sub.example.com.', RRType.A), 'nxdomain');
  assert.equal(kind(v1, 'a.b.sub.example.com.', RRType.A), 'answer');
  assert.equal(kind(v1, 'host.deleg.example.com.', RRType.A), 'referral');
  assert.equal(kind(v1, 'x.w.example.com.', RRType.TXT), 'answer');
  assert.equal(kind(v0, 'x.w.example.com.', RRType.TXT), 'nxdomain');
  assert.equal(kind(v1, 'sub.example.com.', RRType.A), 'answer');
  // The old version's nodes were copied, not changed: its child counts and flags are as built.
  assert.equal(v0.node(Name.fromText('sub.example.com.'))!.children, 0);
  assert.equal(v1.node(Name.fromText('sub.example.com.'))!.children, 1);
  assert.equal(v0.node(Name.fromText('w.example.com.')), undefined);
  assert.equal(v1.node(Name.fromText('w.example.com.'))!.hasWildcardChild, true);
  assert.equal(v1.node(Name.fromText('host.deleg.example.com.'))!.isBelowCut, true);
  assert.equal(v0.apex.get(RRType.SOA)!.ttl, 300);
  assert.deepEqual(v1.nsOwners!.map((n) => n.key).sort(), v0.nsOwners!.map((n) => n.key).sort());
  assert.equal(v1.nsOwners!.includes(v1.apex), true);
});

test('deletes, cut changes and many versions in a row agree with rebuilt zones', () => {
  let z = buildZone(BASE, ORIGIN);
  const versions: { zone: Zone; lines: string[] }[] = [{ zone: z, lines: sorted(z) }];
  const steps: string[][] = [
    ['NONE www.example.com. TXT "hello"'], // one RRset of a name removed (node keeps A)
    ['ANY sub.example.com.'], // a name removed: NXDOMAIN again (whole rebuild)
    ['newcut.example.com. 300 IN NS ns1.example.com.'], // a new cut (whole rebuild)
    ['ns1.example.com. 300 IN AAAA 2001:db8::1', 'ns1.example.com. 300 IN A 192.0.2.1'], // duplicate A: only AAAA added
  ];
  for (let i = 0; i < 30; i++) steps.push([`h${i}.example.com. 300 IN A 10.0.0.${i}`]);
  for (const s of steps) {
    z = apply(z, s);
    versions.push({ zone: z, lines: sorted(z) });
  }
  // Every version still reads as it did when it was made.
  for (const v of versions) assert.deepEqual(sorted(v.zone), v.lines);
  assert.equal(kind(z, 'sub.example.com.', RRType.A), 'nxdomain');
  assert.equal(kind(z, 'www.example.com.', RRType.TXT), 'nodata');
  assert.equal(kind(z, 'x.newcut.example.com.', RRType.A), 'referral');
  assert.equal(kind(z, 'h29.example.com.', RRType.A), 'answer');
  let text = BASE.replace('10 3600', `${10 + steps.length} 3600`).replace('www TXT "hello"\n', '').replace('sub A 192.0.2.2\n', '') +
    'newcut NS ns1\nns1 AAAA 2001:db8::1\n';
  for (let i = 0; i < 30; i++) text += `h${i} A 10.0.0.${i}\n`;
  const expected = buildZone(text, ORIGIN);
  assert.deepEqual(sorted(z), sorted(expected));
  assert.equal(z.recordCount, expected.recordCount);
});

test('thousands of versions in a row (layered node tables flattened on the way) keep every name', () => {
  const v0 = buildZone(BASE, ORIGIN);
  let z = v0;
  let v100: Zone | undefined;
  const count = 4200; // past NodeTable's overlay limit (64 to 4096 own nodes, by zone size): several versions are full copies
  for (let i = 0; i < count; i++) {
    z = apply(z, [`n${i}.example.com. 300 IN A 10.${(i >> 8) & 255}.${i & 255}.1`]);
    if (i === 100) v100 = z;
  }
  assert.equal(z.serial, 10 + count);
  assert.equal(z.recordCount, v0.recordCount + count);
  assert.equal([...z.allNodes()].length, [...v0.allNodes()].length + count);
  for (const i of [0, 100, 2048, 4095, 4096, 4199]) assert.equal(kind(z, `n${i}.example.com.`, RRType.A), 'answer', `n${i}`);
  assert.equal(kind(z, 'www.example.com.', RRType.TXT), 'answer');
  assert.equal(kind(z, 'host.deleg.example.com.', RRType.A), 'referral');
  // An early version is as it was: its names only.
  assert.equal(kind(v100!, 'n100.example.com.', RRType.A), 'answer');
  assert.equal(kind(v100!, 'n101.example.com.', RRType.A), 'nxdomain');
  assert.equal(v100!.recordCount, v0.recordCount + 101);
  assert.equal(z.apex.get(RRType.SOA)!.rdata.length, 1);
});
