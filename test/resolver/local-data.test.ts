import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { parseLocalData } from '../../src/resolver/local-data.js';
import { Name } from '../../src/wire/name.js';
import { recordToString } from '../../src/wire/record.js';
import { RRType } from '../../src/wire/types.js';

const n = (s: string): Name => Name.fromText(s);

test('localData: records in zone-file syntax, answered by name and type', () => {
  const d = parseLocalData([
    'router.lan. 300 IN A 192.168.1.1',
    'router.lan. 300 IN AAAA fd00::1',
    '$ORIGIN lan.\nnas IN A 192.168.1.2\nwww CNAME router\n_http._tcp.www SRV 0 0 80 router',
  ]);
  const a = d.lookup(n('ROUTER.lan.'), RRType.A);
  assert.equal(a.kind, 'answer');
  assert.deepEqual(a.kind === 'answer' && a.records.map(recordToString), ['router.lan.\t300\tIN\tA\t192.168.1.1']);
  const nas = d.lookup(n('nas.lan.'), RRType.A);
  assert.equal(nas.kind === 'answer' && nas.records[0]!.ttl, 3600);
  const cname = d.lookup(n('www.lan.'), RRType.A);
  assert.deepEqual(cname.kind === 'answer' && cname.records.map(recordToString), ['www.lan.\t3600\tIN\tCNAME\trouter.lan.']);
  assert.deepEqual(d.lookup(n('router.lan.'), RRType.MX), { kind: 'nodata', soa: undefined });
  assert.equal(d.lookup(n('other.lan.'), RRType.A).kind, 'none');
  const any = d.lookup(n('router.lan.'), RRType.ANY);
  assert.equal(any.kind === 'answer' && any.records.length, 2);
});

test('below a local SOA: NXDOMAIN, and NODATA for empty non-terminals (RFC 2308)', () => {
  const d = parseLocalData([
    'home.example. 3600 IN SOA ns.home.example. admin.home.example. 1 3600 600 86400 300',
    'a.b.home.example. 60 IN A 192.0.2.1',
  ]);
  const nx = d.lookup(n('nope.home.example.'), RRType.A);
  assert.equal(nx.kind, 'nxdomain');
  assert.equal(d.lookup(n('b.home.example.'), RRType.A).kind, 'nodata');
  assert.equal(d.lookup(n('example.'), RRType.A).kind, 'none');
});

test('a syntax error is a ConfigError naming the entry and line', () => {
  assert.throws(() => parseLocalData(['ok.lan. A 192.0.2.1', 'x.lan. A\nbad.lan. A 999.1.1.1']), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /localData\[1\]/);
    return true;
  });
});
