// Root hints: the built-in IANA set, the named.root parser, and its errors.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { builtinRootHints, builtinRootHintsText, hintServers, parseRootHints } from '../../src/resolver/root-hints.js';
import { ZoneSyntaxError } from '../../src/errors.js';
import { Name } from '../../src/wire/index.js';

test('built-in hints: 13 root servers a..m with one IPv4 and one IPv6 address each', () => {
  const h = builtinRootHints();
  assert.equal(h.ns.length, 13);
  assert.deepEqual(h.ns.map((n) => n.toString()), 'abcdefghijklm'.split('').map((l) => `${l}.root-servers.net.`));
  for (const n of h.ns) {
    const a = h.addresses.get(n.key)!;
    assert.equal(a.length, 2);
    assert.match(a[0]!, /^\d+\.\d+\.\d+\.\d+$/);
    assert.match(a[1]!, /:/);
  }
  assert.deepEqual(h.addresses.get(Name.fromText('A.ROOT-SERVERS.NET.').key), ['198.41.0.4', '2001:503:ba3e::2:30']);
  assert.deepEqual(h.addresses.get(Name.fromText('b.root-servers.net.').key), ['170.247.170.2', '2801:1b8:10::b']);
  assert.equal(hintServers(h).length, 26);
  assert.equal(hintServers(h, 4).length, 13);
  assert.ok(hintServers(h, 6).every((s) => s.address.includes(':')));
});

test('built-in hints text parses back to the same hints', () => {
  const h = parseRootHints(builtinRootHintsText());
  const b = builtinRootHints();
  assert.deepEqual(h.ns.map((n) => n.key), b.ns.map((n) => n.key));
  assert.deepEqual([...h.addresses], [...b.addresses]);
  assert.equal(h.ttl, 3600000);
});

test("built-in hints agree with Debian's /usr/share/dns/root.hints when present", (t) => {
  const path = '/usr/share/dns/root.hints';
  if (!existsSync(path)) return t.skip('dns-root-data not installed');
  const h = parseRootHints(readFileSync(path, 'utf8'), path);
  const b = builtinRootHints();
  assert.deepEqual(h.ns.map((n) => n.key), b.ns.map((n) => n.key));
  assert.deepEqual([...h.addresses], [...b.addresses]);
});

test('parses named.root format with comments, case, mixed order and relative TTL forms', () => {
  const text = [
    ';       This file holds the information on root name servers',
    '.                        3600000      NS    NS1.TEST-ROOT.',
    '.                        3600000      NS    ns2.test-root.',
    'ns2.test-root.           3600000      AAAA  ::1',
    'NS1.TEST-ROOT.           3600000      A     127.24.0.1',
    'ns2.test-root.           1h      IN   A     127.24.0.2',
    '; End of file',
  ].join('\n');
  const h = parseRootHints(text);
  assert.deepEqual(h.ns.map((n) => n.toString()), ['NS1.TEST-ROOT.', 'ns2.test-root.']);
  assert.deepEqual(h.addresses.get(Name.fromText('ns1.test-root.').key), ['127.24.0.1']);
  assert.deepEqual(h.addresses.get(Name.fromText('ns2.test-root.').key), ['127.24.0.2', '::1']);
  assert.deepEqual(hintServers(h, 4).map((s) => s.address), ['127.24.0.1', '127.24.0.2']);
});

test('rejects hints that are not hints, with file and line', () => {
  const cases: [string, RegExp][] = [
    ['', /no NS records/],
    ['example. 60 NS ns.example.\n', /only NS records for the root/],
    ['. 60 NS a.root.\n. 60 MX 10 a.root.\n', /only NS, A and AAAA/],
    ['. 60 NS a.root.\nb.root. 60 A 127.0.0.1\n', /not a root server/],
    ['. 60 CH NS a.root.\n', /class IN/],
    ['. 60 NS\n', /./],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseRootHints(text, 'hints.txt'), (e: unknown) => e instanceof ZoneSyntaxError && re.test(e.message) &&
      e.file === 'hints.txt', text);
  }
  try {
    parseRootHints('. 60 NS a.root.\n\nb.root. 60 A 127.0.0.1\n', 'h');
  } catch (e) {
    assert.equal((e as ZoneSyntaxError).line, 3);
  }
});
