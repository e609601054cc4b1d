// RFC 1035 §5 master files (with RFC 3597 §5 generic forms): a golden file holding one record
// of every type the codec knows loads, covers the whole type table, and each record survives
// text -> wire -> text and the canonical printer -> parser round trip.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EncodeMode, Name, Reader, Writer, allTypes, decodeRData, encodeRData, printRData, typeToString } from '../../src/index.js';
import { loadZone } from '../../src/zone/load.js';
import { printZone } from '../../src/zone/printer.js';
import { parse, zoneLines } from '../zone/util.js';

const GOLDEN = fileURLToPath(new URL('../../../test/golden/zones/alltypes.zone', import.meta.url));
const ORIGIN = Name.fromText('alltypes.example.');
/** Meta types (RFC 6895 §3.1) never appear in a zone file; MD and MF are obsolete (RFC 973) and refused. */
const META = new Set(['OPT', 'TKEY', 'TSIG', 'MD', 'MF']);

const { zone, problems } = loadZone(GOLDEN, ORIGIN);
/** The types BIND 9.18 knows beyond the common ones are in their own file (test/interop/rrtypes-bind.test.ts). */
const MORE = fileURLToPath(new URL('../../../test/golden/zones/bind-types.zone', import.meta.url));
const more = loadZone(MORE, Name.fromText('bindtypes.example.'));

test('the golden file of every type loads without errors', () => {
  assert.deepEqual(problems.filter((p) => p.severity === 'error'), []);
  assert.ok(zone);
});

test('it and bind-types.zone hold every type in the codec\'s table (except meta types)', () => {
  const seen = new Set<string>();
  assert.deepEqual(more.problems.filter((p) => p.severity === 'error'), []);
  for (const z of [zone!, more.zone!]) for (const node of z.nodes()) for (const set of node.rrsets) seen.add(typeToString(set.type));
  const missing = allTypes().map((t) => t.mnemonic).filter((m) => !META.has(m) && !seen.has(m));
  assert.deepEqual(missing, []);
});

test('every record: text -> wire -> text is stable, and wire -> text -> wire too', () => {
  for (const node of zone!.nodes()) {
    for (const set of node.rrsets) {
      for (const d of set.rdata) {
        const w = new Writer();
        encodeRData(set.type, w, d, EncodeMode.Canonical);
        const bytes = w.toBytes();
        const back = decodeRData(set.type, new Reader(bytes), bytes.length);
        assert.equal(printRData(set.type, back), printRData(set.type, d), typeToString(set.type));
        const w2 = new Writer();
        encodeRData(set.type, w2, back, EncodeMode.Canonical);
        assert.deepEqual(w2.toBytes(), bytes, typeToString(set.type));
      }
    }
  }
});

test('the canonical printout parses back to the same records', () => {
  const printed = [...printZone(zone!)].join('\n') + '\n';
  const again = parse(printed, 'alltypes.example.');
  assert.deepEqual(again.errors, []);
  assert.deepEqual([...again.records].sort(), zoneLines(zone!).sort());
});

test('RFC 3597 §5: TYPE1 \\# data is the same record as its A form', () => {
  const set = zone!.getRRset(Name.fromText('generic-a.alltypes.example.'), 1)!;
  assert.equal(printRData(1, set.rdata[0]), '192.0.2.2');
});

test('RFC 973: MD and MF are refused in zone files (as named-checkzone does)', () => {
  const p = parse('$TTL 60\nmd MD madname.example.\nmf MF madname.example.\n');
  assert.deepEqual(p.errors.map((e) => `${e.line}:${e.column} ${e.reason}`), [
    '2:4 type MD is obsolete (RFC 973): use MX', '3:4 type MF is obsolete (RFC 973): use MX',
  ]);
});
