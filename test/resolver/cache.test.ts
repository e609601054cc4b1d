import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CacheSpace, Credibility, RRCache, negativeTtl } from '../../src/resolver/cache.js';
import { Name } from '../../src/wire/name.js';
import { type ResourceRecord, parseRecord } from '../../src/wire/record.js';
import { RRClass, RRType } from '../../src/wire/types.js';

const IN = RRClass.IN;
const rr = (text: string): ResourceRecord => parseRecord(text);
const n = (text: string): Name => Name.fromText(text);

function clock(startMs = 1_000_000): { now: () => number; advance: (s: number) => void } {
  let t = startMs;
  return { now: () => t, advance: (s) => { t += s * 1000; } };
}

const soa = rr('example.com. 3600 IN SOA ns.example.com. host.example.com. 1 7200 900 1209600 300');

test('TTL counts down with the clock and the entry expires', () => {
  const c = clock();
  const cache = new RRCache({ clock: c.now });
  cache.put([rr('www.example.com. 300 IN A 192.0.2.1'), rr('www.example.com. 200 IN A 192.0.2.2')], Credibility.AUTH_ANSWER);
  let hit = cache.get(n('WWW.example.com.'), RRType.A, IN)!;
  assert.equal(hit.kind, 'positive');
  // RFC 2181 §5.2: one TTL per RRset, the smallest.
  assert.deepEqual(hit.records.map((r) => r.ttl), [200, 200]);
  c.advance(50);
  hit = cache.get(n('www.example.com.'), RRType.A, IN)!;
  assert.deepEqual(hit.records.map((r) => r.ttl), [150, 150]);
  assert.equal(hit.ttl, 150);
  c.advance(150);
  assert.equal(cache.get(n('www.example.com.'), RRType.A, IN), undefined);
  assert.equal(cache.stats.hits, 2);
  assert.equal(cache.stats.misses, 1);
  assert.equal(cache.size, 0, 'expired entry swept on access (serve-stale off)');
});

test('minTtl and maxTtl bound stored TTLs', () => {
  const cache = new RRCache({ clock: clock().now, minTtl: 60, maxTtl: 3600 });
  cache.put([rr('a.example. 5 IN A 192.0.2.1')], Credibility.AUTH_ANSWER);
  cache.put([rr('b.example. 999999 IN A 192.0.2.1')], Credibility.AUTH_ANSWER);
  assert.equal(cache.get(n('a.example.'), RRType.A, IN)!.ttl, 60);
  assert.equal(cache.get(n('b.example.'), RRType.A, IN)!.ttl, 3600);
});

test('negative caching per RFC 2308: NXDOMAIN covers every type, NODATA one type, TTL from the SOA', () => {
  const c = clock();
  const cache = new RRCache({ clock: c.now });
  assert.equal(negativeTtl(soa), 300);
  cache.putNegative(n('nx.example.com.'), RRType.A, IN, 'nxdomain', soa, Credibility.AUTH_ANSWER);
  cache.putNegative(n('www.example.com.'), RRType.AAAA, IN, 'nodata', soa, Credibility.AUTH_ANSWER);
  const nx = cache.get(n('nx.example.com.'), RRType.MX, IN)!;
  assert.equal(nx.kind, 'nxdomain');
  assert.equal(nx.soa[0]!.ttl, 300);
  assert.equal(nx.records.length, 0);
  const nodata = cache.get(n('www.example.com.'), RRType.AAAA, IN)!;
  assert.equal(nodata.kind, 'nodata');
  assert.equal(cache.get(n('www.example.com.'), RRType.A, IN), undefined, 'NODATA is per type');
  c.advance(100);
  assert.equal(cache.get(n('nx.example.com.'), RRType.A, IN)!.soa[0]!.ttl, 200);
  c.advance(200);
  assert.equal(cache.get(n('nx.example.com.'), RRType.A, IN), undefined);
  // No SOA: not cached (RFC 2308 §5).
  assert.equal(cache.putNegative(n('x.example.com.'), RRType.A, IN, 'nxdomain', undefined, Credibility.AUTH_ANSWER), undefined);
});

test('negative TTL is min(SOA TTL, MINIMUM) and capped by maxNegativeTtl', () => {
  const cache = new RRCache({ clock: clock().now, maxNegativeTtl: 100 });
  const lowTtl = rr('example.com. 30 IN SOA ns.example.com. host.example.com. 1 7200 900 1209600 300');
  cache.putNegative(n('a.example.com.'), RRType.A, IN, 'nodata', lowTtl, Credibility.AUTH_ANSWER);
  assert.equal(cache.get(n('a.example.com.'), RRType.A, IN)!.ttl, 30);
  cache.putNegative(n('b.example.com.'), RRType.A, IN, 'nodata', soa, Credibility.AUTH_ANSWER);
  assert.equal(cache.get(n('b.example.com.'), RRType.A, IN)!.ttl, 100);
});

test('positive data replaces a cached NXDOMAIN for the name; NXDOMAIN removes lower-ranked data', () => {
  const cache = new RRCache({ clock: clock().now });
  cache.putNegative(n('x.example.com.'), RRType.A, IN, 'nxdomain', soa, Credibility.AUTH_ANSWER);
  cache.put([rr('x.example.com. 60 IN A 192.0.2.9')], Credibility.AUTH_ANSWER);
  assert.equal(cache.get(n('x.example.com.'), RRType.A, IN)!.kind, 'positive');
  assert.equal(cache.get(n('x.example.com.'), RRType.MX, IN), undefined);
  cache.putNegative(n('x.example.com.'), RRType.A, IN, 'nxdomain', soa, Credibility.AUTH_ANSWER);
  assert.equal(cache.get(n('x.example.com.'), RRType.A, IN)!.kind, 'nxdomain');
});

test('credibility (RFC 2181 §5.4.1): glue never overwrites an authoritative answer, and is not served as one', () => {
  const cache = new RRCache({ clock: clock().now });
  cache.put([rr('ns.example.com. 3600 IN A 192.0.2.1')], Credibility.AUTH_ANSWER);
  assert.equal(cache.put([rr('ns.example.com. 3600 IN A 203.0.113.66')], Credibility.GLUE), undefined);
  assert.equal(cache.stats.refused, 1);
  assert.equal((cache.get(n('ns.example.com.'), RRType.A, IN)!.records[0]!.data as { address: string }).address, '192.0.2.1');
  // Same or higher rank replaces.
  cache.put([rr('ns.example.com. 3600 IN A 192.0.2.7')], Credibility.AUTH_ANSWER);
  assert.equal((cache.get(n('ns.example.com.'), RRType.A, IN)!.records[0]!.data as { address: string }).address, '192.0.2.7');
  // Glue alone: usable by the iterator (peek at any rank), not as a client answer (get at answer rank).
  cache.put([rr('ns2.example.com. 3600 IN A 192.0.2.8')], Credibility.GLUE);
  assert.equal(cache.get(n('ns2.example.com.'), RRType.A, IN), undefined);
  assert.notEqual(cache.peek(n('ns2.example.com.'), RRType.A, IN), undefined);
  // Authoritative data replaces glue.
  cache.put([rr('ns2.example.com. 3600 IN A 192.0.2.9')], Credibility.AUTH_ANSWER);
  assert.equal(cache.get(n('ns2.example.com.'), RRType.A, IN)!.rank, Credibility.AUTH_ANSWER);
});

test('expired better data may be replaced by lower-ranked fresh data', () => {
  const c = clock();
  const cache = new RRCache({ clock: c.now });
  cache.put([rr('ns.example.com. 10 IN A 192.0.2.1')], Credibility.AUTH_ANSWER);
  c.advance(11);
  assert.notEqual(cache.put([rr('ns.example.com. 3600 IN A 192.0.2.2')], Credibility.GLUE), undefined);
});

test('bounded size with least-recently-used eviction', () => {
  const cache = new RRCache({ clock: clock().now, maxEntries: 3 });
  for (const x of ['a', 'b', 'c']) cache.put([rr(`${x}.example. 60 IN A 192.0.2.1`)], Credibility.AUTH_ANSWER);
  cache.get(n('a.example.'), RRType.A, IN); // a is now most recent; b is least recent
  cache.put([rr('d.example. 60 IN A 192.0.2.1')], Credibility.AUTH_ANSWER);
  assert.equal(cache.size, 3);
  assert.equal(cache.stats.evictions, 1);
  assert.equal(cache.peek(n('b.example.'), RRType.A, IN), undefined);
  for (const x of ['a', 'c', 'd']) assert.notEqual(cache.peek(n(`${x}.example.`), RRType.A, IN), undefined, x);
  assert.deepEqual([...cache.entries()].map((e) => e.name.toString()), ['d.example.', 'a.example.', 'c.example.']);
});

test('serve-stale (RFC 8767): expired data within the stale window, TTL 30', () => {
  const c = clock();
  const cache = new RRCache({ clock: c.now, staleTtl: 3600 });
  cache.put([rr('www.example.com. 60 IN A 192.0.2.1')], Credibility.AUTH_ANSWER);
  c.advance(120);
  assert.equal(cache.get(n('www.example.com.'), RRType.A, IN), undefined);
  const stale = cache.getStale(n('www.example.com.'), RRType.A, IN)!;
  assert.equal(stale.stale, true);
  assert.equal(stale.records[0]!.ttl, 30);
  assert.equal(cache.stats.staleHits, 1);
  c.advance(3600);
  assert.equal(cache.getStale(n('www.example.com.'), RRType.A, IN), undefined);
  const off = new RRCache({ clock: c.now });
  off.put([rr('www.example.com. 60 IN A 192.0.2.1')], Credibility.AUTH_ANSWER);
  c.advance(61);
  assert.equal(off.getStale(n('www.example.com.'), RRType.A, IN), undefined);
});

test('prefetch hook fires once in the last 10% of the TTL', () => {
  const c = clock();
  const cache = new RRCache({ clock: c.now, prefetch: true });
  const fired: string[] = [];
  cache.onPrefetch = (name, type) => fired.push(`${name.toString()}/${type}`);
  cache.put([rr('www.example.com. 100 IN A 192.0.2.1')], Credibility.AUTH_ANSWER);
  cache.get(n('www.example.com.'), RRType.A, IN);
  c.advance(85);
  cache.get(n('www.example.com.'), RRType.A, IN);
  assert.deepEqual(fired, []);
  c.advance(6);
  cache.get(n('www.example.com.'), RRType.A, IN);
  cache.get(n('www.example.com.'), RRType.A, IN);
  assert.deepEqual(fired, ['www.example.com./1']);
  assert.equal(cache.stats.prefetches, 1);
});

test('dump lists name, type, original and remaining TTL; flush by name and subtree', () => {
  const c = clock();
  const cache = new RRCache({ clock: c.now });
  cache.put([rr('www.example.com. 300 IN A 192.0.2.1')], Credibility.AUTH_ANSWER);
  cache.put([rr('www.example.com. 300 IN AAAA 2001:db8::1')], Credibility.AUTH_ANSWER);
  cache.put([rr('a.b.example.com. 300 IN A 192.0.2.1')], Credibility.AUTH_ANSWER);
  cache.put([rr('example.org. 300 IN A 192.0.2.1')], Credibility.AUTH_ANSWER);
  cache.putNegative(n('nx.example.com.'), RRType.A, IN, 'nxdomain', soa, Credibility.AUTH_ANSWER);
  c.advance(10);
  const rows = cache.dump(n('www.example.com.'));
  assert.deepEqual(rows.map((r) => [r.name.toString(), r.type, r.originalTtl, r.remainingTtl]),
    [['www.example.com.', RRType.A, 300, 290], ['www.example.com.', RRType.AAAA, 300, 290]]);
  assert.deepEqual(cache.dump(undefined, RRType.AAAA).length, 1);
  assert.equal(cache.dump().length, 5);
  assert.equal(cache.dump(n('nx.example.com.'))[0]!.kind, 'nxdomain');
  assert.equal(cache.flush(n('www.example.com.')), 2);
  assert.equal(cache.flush(n('example.com.'), { subtree: true }), 2);
  assert.equal(cache.dump().map((r) => r.name.toString()).join(), 'example.org.');
  assert.equal(cache.flush(), 1);
  assert.equal(cache.size, 0);
});

test('closestDelegation walks up to the nearest cached NS set', () => {
  const cache = new RRCache({ clock: clock().now });
  cache.put([rr('. 86400 IN NS a.root-servers.net.')], Credibility.AUTH_ANSWER);
  cache.put([rr('example.com. 3600 IN NS ns.example.com.')], Credibility.GLUE);
  assert.equal(cache.closestDelegation(n('a.b.example.com.'), IN)!.records[0]!.name.toString(), 'example.com.');
  assert.equal(cache.closestDelegation(n('example.org.'), IN)!.records[0]!.name.toString(), '.');
});

test('hits within the same second share one counted-down view (no per-hit allocation)', () => {
  const cache = new RRCache({ clock: clock().now });
  cache.put([rr('www.example.com. 300 IN A 192.0.2.1')], Credibility.AUTH_ANSWER);
  const a = cache.get(n('www.example.com.'), RRType.A, IN)!;
  const b = cache.get(n('www.example.com.'), RRType.A, IN)!;
  assert.equal(a.records, b.records);
});

test('RFC 2181 §8: a TTL with the top bit set is 0; capped() gives what a put stores', () => {
  const cache = new RRCache({ clock: clock().now, maxTtl: 86_400 });
  const set = [rr('big.example. 2147483648 IN A 192.0.2.1'), rr('big.example. 2147483648 IN A 192.0.2.2')];
  assert.deepEqual(cache.capped(set).map((r) => r.ttl), [0, 0]);
  const e = cache.put(set, Credibility.AUTH_ANSWER)!;
  assert.equal(e.originalTtl, 0);
  assert.deepEqual(e.records.map((r) => r.ttl), [0, 0]);
  assert.equal(cache.get(n('big.example.'), RRType.A, IN), undefined, 'a TTL-0 record outlived its TTL');
  assert.deepEqual(cache.capped([rr('x.example. 2147483647 IN A 192.0.2.1')]).map((r) => r.ttl), [86_400]);
  // The SOA of a negative answer too.
  assert.equal(negativeTtl(rr('example. 2147483648 IN SOA ns.example. h.example. 1 2 3 4 300')), 0);
});

test('checked and unchecked (CD=1) data live apart; RRSIGs stay with their RRset', () => {
  const cache = new RRCache({ clock: clock().now });
  const sig = rr('www.example. 300 IN RRSIG A 13 2 300 20300101000000 20200101000000 12345 example. dGVzdA==');
  cache.put([rr('www.example. 300 IN A 192.0.2.66')], Credibility.NONAUTH_ANSWER, { space: CacheSpace.UNCHECKED, dnssec: true, sigs: [sig] });
  assert.equal(cache.get(n('www.example.'), RRType.A, IN), undefined, 'unchecked data answered a checked lookup');
  const hit = cache.get(n('www.example.'), RRType.A, IN, Credibility.AUTH_AUTHORITY, true, CacheSpace.UNCHECKED)!;
  assert.equal(hit.records.length, 1);
  assert.deepEqual(hit.sigs.map((r) => r.type), [RRType.RRSIG]);
  assert.equal(hit.entry.dnssec, true);
  // An unchecked NXDOMAIN does not remove checked data of the name, nor answer checked lookups.
  cache.put([rr('www.example. 300 IN AAAA 2001:db8::1')], Credibility.NONAUTH_ANSWER);
  cache.putNegative(n('www.example.'), RRType.A, IN, 'nxdomain', soa, Credibility.NONAUTH_ANSWER, { space: CacheSpace.UNCHECKED });
  assert.equal(cache.get(n('www.example.'), RRType.AAAA, IN)!.kind, 'positive');
  assert.equal(cache.get(n('www.example.'), RRType.MX, IN), undefined);
  assert.equal(cache.get(n('www.example.'), RRType.MX, IN, Credibility.AUTH_AUTHORITY, true, CacheSpace.UNCHECKED)!.kind, 'nxdomain');
});

test('bounded by estimated bytes: big RRsets push out the least recently used, one bigger than the bound is not kept', () => {
  const cache = new RRCache({ clock: clock().now, maxBytes: 64 * 1024 });
  const txt = (i: number, size: number): ResourceRecord =>
    ({ name: n(`t${i}.example.`), type: RRType.TXT, class: IN, ttl: 300, data: { data: [new Uint8Array(size)] } }) as ResourceRecord;
  for (let i = 0; i < 40; i++) {
    cache.put([txt(i, 4000)], Credibility.AUTH_ANSWER);
    assert.ok(cache.bytes <= 64 * 1024, `${cache.bytes} bytes after ${i + 1} puts`);
  }
  assert.ok(cache.stats.evictions >= 20, `${cache.stats.evictions} evictions`);
  assert.notEqual(cache.peek(n('t39.example.'), RRType.TXT, IN), undefined);
  assert.equal(cache.peek(n('t0.example.'), RRType.TXT, IN), undefined);
  assert.equal(cache.put([txt(99, 100_000)], Credibility.AUTH_ANSWER), undefined);
  assert.equal(cache.tooLarge, 1);
  assert.ok(cache.bytes <= 64 * 1024);
  cache.flush();
  assert.equal(cache.bytes, 0);
});

test('validating resolver: a negative entry keeps the SOA RRSIGs and the NSEC proof apart, both counted in its bytes and counted down', () => {
  const c = clock();
  const cache = new RRCache({ clock: c.now });
  const soaSig = rr('example.com. 3600 IN RRSIG SOA 13 2 3600 20300101000000 20200101000000 12345 example.com. dGVzdA==');
  const nsec = rr('example.com. 300 IN NSEC www.example.com. A NS SOA RRSIG NSEC');
  const nsecSig = rr('example.com. 300 IN RRSIG NSEC 13 2 300 20300101000000 20200101000000 12345 example.com. dGVzdA==');
  const plain = cache.putNegative(n('nope.example.com.'), RRType.A, IN, 'nxdomain', soa, Credibility.AUTH_ANSWER)!;
  const e = cache.putNegative(n('gone.example.com.'), RRType.A, IN, 'nxdomain', soa, Credibility.AUTH_ANSWER,
    { sigs: [soaSig], proof: [nsec, nsecSig], dnssec: true })!;
  assert.ok(e.bytes > plain.bytes + 3 * 96, `${e.bytes} vs ${plain.bytes}: sigs and proof counted`);
  assert.equal(cache.bytes, e.bytes + plain.bytes);
  c.advance(100);
  const hit = cache.get(n('gone.example.com.'), RRType.TXT, IN)!;
  assert.deepEqual(hit.sigs.map((r) => [r.type, r.ttl]), [[RRType.RRSIG, 200]]);
  assert.deepEqual(hit.proof.map((r) => [r.type, r.ttl]), [[RRType.NSEC, 200], [RRType.RRSIG, 200]]);
  // The validation verdict lives on the entry; a flush takes it with the data.
  hit.entry.status = 1;
  assert.equal(cache.get(n('gone.example.com.'), RRType.A, IN)!.entry.status, 1);
  cache.flush(n('example.com.'), { subtree: true });
  assert.equal(cache.bytes, 0);
});
