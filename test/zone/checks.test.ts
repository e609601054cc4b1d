// Zone checks as named-checkzone / kzonecheck make them; each case is the shared header plus a
// few records, and the expected problems say severity, line and reason. The severities follow
// the peers (see src/zone/checks.ts); test/interop/zone-check.test.ts runs both on the same files.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HEAD, loadText } from './util.js';

interface Case {
  name: string;
  body: string;
  /** Expected problems as `severity line reason-regex`; anything else is a failure. */
  want: [severity: 'error' | 'warning', line: number, reason: RegExp][];
}

// HEAD is lines 1-4, so the body starts on line 5.
const cases: Case[] = [
  { name: 'a clean zone', body: 'www A 192.0.2.2\n', want: [] },
  { name: 'SOA below the apex', body: 'x SOA ns1 h 1 2 3 4 5\n', want: [['error', 5, /x\.example\.com\.: SOA record not at the zone apex/]] },
  { name: 'two SOA records at the apex', body: '@ SOA ns1 h 2 2 3 4 5\n', want: [['error', 2, /multiple SOA records at the apex/]] },
  { name: 'CNAME at the apex', body: '@ CNAME www\nwww A 192.0.2.2\n', want: [['error', 5, /CNAME at the zone apex/], ['error', 3, /CNAME and other data \(NS\)/]] },
  { name: 'CNAME and other data', body: 'a CNAME www\na A 192.0.2.9\nwww A 192.0.2.2\n', want: [['error', 6, /a\.example\.com\.: CNAME and other data \(A\)/]] },
  { name: 'two CNAMEs', body: 'a CNAME www\na CNAME ns1\nwww A 192.0.2.2\n', want: [['error', 5, /more than one CNAME record/]] },
  { name: 'CNAME with DNSSEC types is fine (RFC 4035 §2.5)', body: 'a CNAME www\na RRSIG CNAME 8 3 300 20300101000000 20200101000000 1 example.com. AAAA\na NSEC www CNAME RRSIG NSEC\nwww A 192.0.2.2\n', want: [] },
  { name: 'out-of-zone data is skipped with a warning (BIND, Knot)', body: 'foo.example.org. A 192.0.2.9\n', want: [['warning', 5, /foo\.example\.org\.: ignoring out-of-zone data/]] },
  { name: 'missing glue below a delegation', body: 'sub NS ns.sub\n', want: [['error', 5, /sub\.example\.com\.\/NS 'ns\.sub\.example\.com\.' has no address records \(A or AAAA\): missing glue for the delegation/]] },
  { name: 'an out-of-zone NS target is not glue', body: 'sub NS ns.example.net.\n', want: [] },
  { name: 'check-names: bad A owner and MX/NS/SRV targets fail (BIND primary default)', body: 'bad_a A 192.0.2.9\n*.w A 192.0.2.9\nm MX 10 bad_mx.example.net.\n_s._tcp SRV 0 0 1 ns1\n',
    want: [['error', 5, /bad_a\.example\.com\.: bad owner name \(check-names\)/], ['error', 7, /'bad_mx\.example\.net\.': bad name \(check-names\)/]] },
  { name: 'check-names: PTR targets only in reverse trees, rname as a mailbox', body: 'x PTR bad_p.example.net.\n',
    want: [] },
  { name: 'delegation with glue and an out-of-zone server', body: 'sub NS ns.sub\nsub NS ns.example.net.\nns.sub A 192.0.2.3\nns.sub AAAA 2001:db8::3\n', want: [] },
  { name: 'records under a delegation other than glue are occluded', body: 'sub NS ns.sub\nns.sub A 192.0.2.3\nns.sub TXT "x"\nx.sub A 192.0.2.4\n', want: [
    ['warning', 7, /ns\.sub\.example\.com\.\/TXT: occluded by the delegation above it/],
    ['warning', 8, /x\.sub\.example\.com\.\/A: occluded by the delegation above it/],
  ] },
  { name: 'data beside NS at a delegation point is occluded', body: 'sub NS ns.example.net.\nsub MX 10 mail\nsub DS 1 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n', want: [['warning', 6, /sub\.example\.com\.\/MX: occluded at the delegation point/]] },
  { name: 'data below a DNAME', body: 'd DNAME example.net.\nx.d A 192.0.2.9\n', want: [['error', 6, /x\.d\.example\.com\.: data below DNAME d\.example\.com\./]] },
  { name: 'DNAME beside other data (not CNAME) is fine', body: 'd DNAME example.net.\nd A 192.0.2.9\n', want: [] },
  { name: 'NS and DNAME at one name', body: 'd DNAME example.net.\nd NS ns.example.net.\n', want: [['error', 5, /NS and DNAME at the same name/]] },
  { name: 'MX target is a CNAME', body: '@ MX 10 m\nm CNAME ns1\n', want: [['warning', 5, /example\.com\.\/MX 'm\.example\.com\.' is a CNAME \(illegal\)/]] },
  { name: 'SRV target is a CNAME', body: 's SRV 0 0 1 m\nm CNAME ns1\n', want: [['warning', 5, /s\.example\.com\.\/SRV 'm\.example\.com\.' is a CNAME/]] },
  { name: 'NS target is a CNAME', body: '@ NS n2\nn2 CNAME ns1\n', want: [['error', 3, /NS 'n2\.example\.com\.' is a CNAME \(illegal\)/]] },
  { name: 'MX target without addresses', body: '@ MX 10 nothere\n', want: [['warning', 5, /MX 'nothere\.example\.com\.' has no address records/]] },
  { name: 'SRV "." target means no service', body: '_x._tcp SRV 0 0 0 .\n', want: [] },
  { name: 'NS target without addresses', body: '@ NS nothere\n', want: [['error', 3, /NS 'nothere\.example\.com\.' has no address records/]] },
  { name: 'TTLs differ within an RRset', body: 'a 60 A 192.0.2.1\na 70 A 192.0.2.2\n', want: [['warning', 6, /TTL 70 differs from the RRset's TTL 60/]] },
];

for (const c of cases) {
  test(`checks: ${c.name}`, () => {
    const r = loadText(HEAD + c.body);
    const got = r.problems.map((p) => `${p.severity} ${p.line} ${p.reason}`);
    assert.equal(r.problems.length, c.want.length, got.join('\n'));
    for (const [severity, line, reason] of c.want) {
      assert.ok(r.problems.some((p) => p.severity === severity && p.line === line && reason.test(p.reason)), `missing ${severity} ${line} ${reason}\n${got.join('\n')}`);
    }
    for (const p of r.problems) assert.equal(p.file, 'test.zone');
    assert.equal(r.zone === undefined, c.want.some(([s]) => s === 'error'));
  });
}

test('checks: options (config `checks`, check-zone -k/-n/-M/-S/-i)', () => {
  const glue = loadText(HEAD + 'sub NS ns.sub\n', 'example.com.', 'test.zone', { glue: 'warn' });
  assert.ok(glue.zone !== undefined);
  assert.deepEqual(glue.problems.map((p) => p.severity), ['warning']);
  const names = loadText(HEAD + 'bad_a A 192.0.2.9\n', 'example.com.', 'test.zone', { names: 'warn' });
  assert.ok(names.zone !== undefined);
  assert.equal(loadText(HEAD + 'bad_a A 192.0.2.9\n', 'example.com.', 'test.zone', { names: 'ignore' }).problems.length, 0);
  const rev = loadText('$TTL 60\n@ SOA ns1.example. h.example. 1 2 3 4 5\n@ NS ns1.example.\n1 PTR bad_p.example.\n', '2.0.192.in-addr.arpa.');
  assert.match(rev.problems[0]!.reason, /'bad_p\.example\.': bad name \(check-names\)/);
  const none = loadText(HEAD + '@ MX 10 nothere\n', 'example.com.', 'test.zone', { integrity: 'none' });
  assert.equal(none.problems.length, 0);
  const mx = loadText(HEAD + '@ MX 10 m\nm CNAME ns1\n', 'example.com.', 'test.zone', { mxCname: 'fail' });
  assert.equal(mx.zone, undefined);
});

test('checks: no SOA and no NS at all', () => {
  const r = loadText('$TTL 60\nwww A 192.0.2.1\n');
  assert.equal(r.zone, undefined);
  assert.deepEqual(r.problems.map((p) => p.reason), ['zone example.com.: has no SOA record at the apex', 'zone example.com.: has no NS records at the apex']);
});

test('checks: syntax errors and check errors are all reported, in file order first', () => {
  const r = loadText(`${HEAD}bad A 1.2.3\nx SOA ns1 h 1 2 3 4 5\nfoo.example.org. A 192.0.2.1\n`);
  assert.deepEqual(r.problems.map((p) => `${p.line}:${p.column}`), ['5:7', '7:1', '6:1']);
});
