// The loader's direct-to-wire path (src/zone/raw-rdata.ts) must store exactly the bytes the
// generic parser + encoder store, and leave every error to the generic parser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Name, RRType } from '../../src/index.js';
import type { ZoneSyntaxError } from '../../src/errors.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { RawRData, parseRawRData } from '../../src/zone/raw-rdata.js';
import { Zone, ZoneRRset } from '../../src/zone/zone.js';
import { tokenize } from '../../src/wire/rdata/text.js';

const ORIGIN = Name.fromText('example.com.');

/** Loads `text` into a Zone through the parser with or without the raw path; returns every stored RDATA as hex, and the errors. */
function load(text: string, raw: boolean): { stored: string[]; errors: string[] } {
  const zone = new Zone(ORIGIN);
  const errors: string[] = [];
  const entries = parseZoneText(text, {
    origin: ORIGIN, file: 'raw.zone', rawRData: raw,
    onError: (e: ZoneSyntaxError) => errors.push(`${e.line}:${e.column} ${e.reason}`),
  });
  for (const e of entries) zone.add(e.record, e);
  zone.finish();
  const stored: string[] = [];
  for (const node of zone.nodes()) {
    for (const set of node.rrsets) {
      const z = set as ZoneRRset;
      for (let i = 0; i < z.count; i++) stored.push(`${node.name.toString()} ${set.type} ${Buffer.from(z.storedAt(i)).toString('hex')}`);
    }
  }
  return { stored, errors };
}

const ZONE = `$TTL 300
@ SOA ns1 hostmaster 1 2 3 4 5
@ NS ns1
@ NS NS2.Example.NET.
ns1 A 192.0.2.1
ns1 A "192.0.2.2"
ns1 AAAA 2001:db8::1
ns1 AAAA ::ffff:192.0.2.3
Mixed.Case A 10.0.0.1
a CNAME @
b CNAME Target.Example.com.
c PTR rel\\.dot
d DNAME target
mx MX 10 mail
mx MX 0 .
mx MX 65535 Mail.Example.NET.
mx MX 10 MAIL
t TXT "v=spf1 include:_spf.example.net ~all" "id=1"
t TXT plain "" "q\\"uote" "\\065\\066" "caf\u00e9"
t TXT "${'x'.repeat(300)}"
t TXT \\# 3 026869
g A \\# 4 0a000001
dup A 10.0.0.9
dup A 10.0.0.9
dupns NS a.example.net.
dupns NS A.EXAMPLE.NET.
`;

test('raw path stores the same bytes as the generic parser and encoder', () => {
  const generic = load(ZONE, false);
  const raw = load(ZONE, true);
  assert.deepEqual(generic.errors, []);
  assert.deepEqual(raw.errors, []);
  assert.deepEqual(raw.stored, generic.stored);
  // Duplicates (names compared ignoring case) are dropped on both paths.
  assert.equal(raw.stored.filter((l) => l.startsWith('dup.')).length, 1);
  assert.equal(raw.stored.filter((l) => l.startsWith('dupns.')).length, 1);
});

test('raw path leaves bad input to the generic parser: same errors, same positions', () => {
  const bad = `$TTL 300
@ SOA ns1 hostmaster 1 2 3 4 5
@ NS ns1
a A 10.0.0.256
b A 10.0.0.1 extra
c AAAA 2001:db8:::1
d CNAME a..b
e MX 65536 mail
f MX 10
g TXT "\\999"
h NS ${'x'.repeat(64)}
i A 010.0.0.1
`;
  const generic = load(bad, false);
  const raw = load(bad, true);
  assert.equal(generic.errors.length, 9);
  assert.deepEqual(raw.errors, generic.errors);
  assert.deepEqual(raw.stored, generic.stored);
});

test('parseRawRData declines what it does not take plainly', () => {
  const at = (text: string) => tokenize(text);
  assert.equal(parseRawRData(RRType.SOA, at('a b 1 2 3 4 5'), 0, ORIGIN), undefined);
  assert.equal(parseRawRData(RRType.A, at('\\# 4 0a000001'), 0, ORIGIN), undefined);
  assert.equal(parseRawRData(RRType.A, at('1.2.3.4 5.6.7.8'), 0, ORIGIN), undefined);
  const r = parseRawRData(RRType.MX, at('10 mail'), 0, ORIGIN);
  assert.ok(r instanceof RawRData);
  assert.equal(Buffer.from(r.bytes.subarray(0, r.length)).toString('hex'), '000a046d61696c076578616d706c6503636f6d00');
});
