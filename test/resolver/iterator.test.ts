/**
 * Iterator rules that need exact control over what servers say (bailiwick, referral glue, limits,
 * EDNS fallback, serve-stale): the upstream is a table of canned authoritative replies behind
 * the `exchange` seam. Real-network behaviour is covered by test/interop/resolver-hierarchy.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExchangeResult, ServerAddress } from '../../src/client/exchange.js';
import { ResolutionError, TimeoutError } from '../../src/errors.js';
import { Credibility, RRCache } from '../../src/resolver/cache.js';
import { ServerSelector } from '../../src/resolver/infra.js';
import { type ExchangeFn, Resolver } from '../../src/resolver/iterator.js';
import { parseRootHints } from '../../src/resolver/root-hints.js';
import { EdeCode, Rcode } from '../../src/wire/constants.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { parseRecord } from '../../src/wire/record.js';
import { RRClass, RRType } from '../../src/wire/types.js';

const hints = parseRootHints('. 3600000 NS a.root.\na.root. 3600000 A 192.0.2.1\n');

interface Canned { aa?: boolean; rcode?: number; answer?: string[]; authority?: string[]; additional?: string[] }
type Table = (server: string, qname: string, qtype: number, edns: boolean) => Canned | 'timeout';

function upstream(table: Table): { fn: ExchangeFn; log: string[] } {
  const log: string[] = [];
  const fn: ExchangeFn = async (query: Message, server: ServerAddress) => {
    const q = query.question[0]!;
    log.push(`${server.address} ${q.name.toString().toLowerCase()} ${q.type}`);
    const c = table(server.address, q.name.toString().toLowerCase(), q.type, query.edns !== undefined);
    if (c === 'timeout') throw new TimeoutError(`${server.address}#53`, 100);
    const m = new Message();
    m.id = query.id;
    m.qr = true;
    m.aa = c.aa ?? false;
    m.rcode = c.rcode ?? Rcode.NOERROR;
    m.question = query.question;
    m.answer = (c.answer ?? []).map((t) => parseRecord(t));
    m.authority = (c.authority ?? []).map((t) => parseRecord(t));
    m.additional = (c.additional ?? []).map((t) => parseRecord(t));
    const r: ExchangeResult = { message: m, bytes: new Uint8Array(0), rttMs: 1, transport: 'udp', server, truncatedRetry: false, queryBytes: new Uint8Array(0), ignored: 0 };
    return r;
  };
  return { fn, log };
}

const rootNs = { aa: true, answer: ['. 86400 IN NS a.root.'], additional: ['a.root. 86400 IN A 192.0.2.1'] };

/** root -> com (192.0.2.2) -> example.com (192.0.2.3). */
function basicTable(overrides: Partial<Record<string, Canned>> = {}): Table {
  return (server, qname, qtype) => {
    if (qname === '.' && qtype === RRType.NS) return rootNs;
    const key = `${server} ${qname} ${qtype}`;
    if (overrides[key] !== undefined) return overrides[key]!;
    if (server === '192.0.2.1') {
      return {
        authority: ['com. 172800 IN NS ns.com.'],
        additional: ['ns.com. 172800 IN A 192.0.2.2',
          // Out of the root's... actually the root may vouch for anything: but only NS targets count as glue.
          'www.example.com. 172800 IN A 203.0.113.66'],
      };
    }
    if (server === '192.0.2.2') {
      return {
        authority: ['example.com. 172800 IN NS ns.example.com.', 'example.com. 172800 IN NS ns.evil.org.'],
        additional: ['ns.example.com. 172800 IN A 192.0.2.3', 'ns.evil.org. 172800 IN A 203.0.113.66'],
      };
    }
    if (server === '192.0.2.3') {
      if (qname === 'www.example.com.' && qtype === RRType.A) {
        return {
          aa: true, answer: ['www.example.com. 300 IN A 192.0.2.80'],
          authority: ['example.com. 3600 IN NS ns.example.com.'],
          additional: ['ns.example.com. 3600 IN A 192.0.2.3', 'www.other.org. 3600 IN A 203.0.113.66'],
        };
      }
      return { aa: true, rcode: Rcode.NXDOMAIN, authority: ['example.com. 3600 IN SOA ns.example.com. h.example.com. 1 2 3 4 60'] };
    }
    return 'timeout';
  };
}

function resolver(table: Table, opts: Partial<ConstructorParameters<typeof Resolver>[0]> = {}): { r: Resolver; cache: RRCache; log: string[] } {
  const cache = new RRCache({ staleTtl: opts.serveStale ? 3600 : 0 });
  const { fn, log } = upstream(table);
  const r = new Resolver({ cache, hints, exchange: fn, selector: new ServerSelector({ random: () => 0.5, exploration: 0 }), ...opts });
  return { r, cache, log };
}

test('follows referrals from the root with QNAME minimisation and caches the answer', async () => {
  const { r, cache, log } = resolver(basicTable());
  const res = await r.resolve(Name.fromText('www.example.com.'), RRType.A);
  assert.equal(res.rcode, Rcode.NOERROR);
  assert.deepEqual(res.answer.map((x) => (x.data as { address: string }).address), ['192.0.2.80']);
  // Priming, then one minimised query per level (RFC 9156: QTYPE A for the hidden levels).
  assert.deepEqual(log, [
    '192.0.2.1 . 2', '192.0.2.1 com. 1', '192.0.2.2 example.com. 1', '192.0.2.3 www.example.com. 1',
  ]);
  const again = await r.resolve(Name.fromText('WWW.example.com.'), RRType.A);
  assert.equal(again.cached, true);
  assert.equal(log.length, 4);
  assert.equal(cache.peek(Name.fromText('www.example.com.'), RRType.A, RRClass.IN)!.rank, Credibility.AUTH_ANSWER);
});

test('bailiwick: glue outside the delegating zone and unrelated additional data are never cached', async () => {
  const { r, cache } = resolver(basicTable());
  await r.resolve(Name.fromText('www.example.com.'), RRType.A);
  // com. servers may not vouch for ns.evil.org; nobody may slip www.other.org in; the root's stray A is not glue.
  assert.equal(cache.peek(Name.fromText('ns.evil.org.'), RRType.A, RRClass.IN), undefined);
  assert.equal(cache.peek(Name.fromText('www.other.org.'), RRType.A, RRClass.IN), undefined);
  const www = cache.peek(Name.fromText('www.example.com.'), RRType.A, RRClass.IN)!;
  assert.equal((www.records[0]!.data as { address: string }).address, '192.0.2.80');
  // In-bailiwick glue for the NS is cached as glue (not an answer for clients).
  assert.equal(cache.peek(Name.fromText('ns.example.com.'), RRType.A, RRClass.IN)!.rank, Credibility.GLUE);
});

test('an answer for a name outside the asked zone is not trusted: the chain continues at its own zone', async () => {
  const table = basicTable({
    '192.0.2.3 alias.example.com. 1': {
      aa: true, answer: ['alias.example.com. 300 IN CNAME www.example.net.', 'www.example.net. 300 IN A 203.0.113.66'],
    },
  });
  const { r, log } = resolver((server, qname, qtype, edns) => {
    if (qname === 'www.example.net.' || qname === 'net.' || qname === 'example.net.') {
      if (server === '192.0.2.1') return { authority: ['net. 172800 IN NS ns.net.'], additional: ['ns.net. 172800 IN A 192.0.2.9'] };
      if (server === '192.0.2.9') {
        if (qname === 'www.example.net.') return { aa: true, answer: ['www.example.net. 300 IN A 192.0.2.99'] };
        return { aa: true, authority: ['net. 300 IN SOA ns.net. h.net. 1 2 3 4 60'] };
      }
    }
    return table(server, qname, qtype, edns);
  });
  const res = await r.resolve(Name.fromText('alias.example.com.'), RRType.A);
  assert.deepEqual(res.answer.map((x) => x.type), [RRType.CNAME, RRType.A]);
  assert.equal((res.answer[1]!.data as { address: string }).address, '192.0.2.99');
  assert.ok(log.some((l) => l.startsWith('192.0.2.9 www.example.net.')));
});

test('NXDOMAIN is cached from the SOA and answers every type', async () => {
  const { r, log } = resolver(basicTable());
  const res = await r.resolve(Name.fromText('nope.example.com.'), RRType.A);
  assert.equal(res.rcode, Rcode.NXDOMAIN);
  assert.equal(res.authority[0]!.type, RRType.SOA);
  assert.equal(res.authority[0]!.ttl, 60);
  const n = log.length;
  const mx = await r.resolve(Name.fromText('nope.example.com.'), RRType.MX);
  assert.equal(mx.rcode, Rcode.NXDOMAIN);
  assert.equal(log.length, n);
});

test('EDNS is dropped for a server that answers FORMERR to it, and remembered', async () => {
  const { r, log } = resolver((server, qname, qtype, edns) => {
    if (server === '192.0.2.3' && edns) return { rcode: Rcode.FORMERR };
    return basicTable()(server, qname, qtype, edns);
  });
  const res = await r.resolve(Name.fromText('www.example.com.'), RRType.A);
  assert.equal(res.rcode, Rcode.NOERROR);
  assert.equal(r.stats.ednsFallbacks, 1);
  assert.equal(r.selector.edns('192.0.2.3'), false);
  assert.equal(log.filter((l) => l.startsWith('192.0.2.3')).length, 2);
});

test('NXNS defence: glueless NS fan-out and queries per client query are capped', async () => {
  // attack.com delegates to 50 glueless names in another zone, each of which times out.
  const ns = Array.from({ length: 50 }, (_, i) => `attack.com. 300 IN NS ns${i}.victim.org.`);
  const { r, log } = resolver((server, qname, qtype) => {
    if (qname === '.' && qtype === RRType.NS) return rootNs;
    if (server === '192.0.2.1') {
      if (qname.endsWith('org.')) return { authority: ['org. 172800 IN NS ns.org.'], additional: ['ns.org. 172800 IN A 192.0.2.4'] };
      return { authority: ['com. 172800 IN NS ns.com.'], additional: ['ns.com. 172800 IN A 192.0.2.2'] };
    }
    if (server === '192.0.2.2') return { authority: ns };
    if (server === '192.0.2.4') return { authority: ['victim.org. 300 IN NS ns.victim.org.'], additional: ['ns.victim.org. 300 IN A 192.0.2.5'] };
    if (server === '192.0.2.5') return { aa: true, rcode: Rcode.NXDOMAIN, authority: ['victim.org. 300 IN SOA ns.victim.org. h.victim.org. 1 2 3 4 60'] };
    return 'timeout';
  }, { maxNsFanout: 4 });
  await assert.rejects(r.resolve(Name.fromText('www.attack.com.'), RRType.A), (err: unknown) => {
    assert.ok(err instanceof ResolutionError);
    assert.equal(err.ede, EdeCode.NO_REACHABLE_AUTHORITY);
    return true;
  });
  const victimQueries = log.filter((l) => l.startsWith('192.0.2.5')).length;
  assert.ok(victimQueries <= 4, `victim got ${victimQueries} queries`);
  assert.ok(log.length <= 64);
});

test('serve-stale: expired data answers (EDE 3) when every server fails', async () => {
  let now = 1_000_000;
  let broken = false;
  const cache = new RRCache({ staleTtl: 3600, clock: () => now });
  const { fn } = upstream((server, qname, qtype, edns) => (broken ? 'timeout' : basicTable()(server, qname, qtype, edns)));
  const r = new Resolver({ cache, hints, exchange: fn, serveStale: true, selector: new ServerSelector({ random: () => 0.5, exploration: 0 }) });
  await r.resolve(Name.fromText('www.example.com.'), RRType.A);
  now += 400_000; // past the 300 s TTL
  broken = true;
  const stale = await r.resolve(Name.fromText('www.example.com.'), RRType.A);
  assert.equal(stale.stale, true);
  assert.equal(stale.ede?.code, EdeCode.STALE_ANSWER);
  assert.equal(stale.answer[0]!.ttl, 30);
});

test('local names are answered without any upstream query', async () => {
  const { r, log } = resolver(basicTable());
  for (const [name, type, rcode] of [
    ['localhost.', RRType.A, Rcode.NOERROR], ['foo.localhost.', RRType.AAAA, Rcode.NOERROR], ['x.invalid.', RRType.A, Rcode.NXDOMAIN],
    ['4.3.2.10.in-addr.arpa.', RRType.PTR, Rcode.NXDOMAIN], ['1.0.0.127.in-addr.arpa.', RRType.PTR, Rcode.NOERROR],
    ['20.172.in-addr.arpa.', RRType.SOA, Rcode.NOERROR], ['x.onion.', RRType.A, Rcode.NXDOMAIN],
  ] as const) {
    const res = await r.resolve(Name.fromText(name), type);
    assert.equal(res.rcode, rcode, name);
  }
  assert.deepEqual(log, []);
});

test('a CNAME loop is a SERVFAIL, not a hang', async () => {
  const { r } = resolver(basicTable({
    '192.0.2.3 a.example.com. 1': { aa: true, answer: ['a.example.com. 300 IN CNAME b.example.com.', 'b.example.com. 300 IN CNAME a.example.com.'] },
  }));
  await assert.rejects(r.resolve(Name.fromText('a.example.com.'), RRType.A), ResolutionError);
});

test('prefetch: a hit in the last 10% of the TTL refreshes the entry in the background', async () => {
  let now = 1_000_000;
  const cache = new RRCache({ prefetch: true, clock: () => now });
  const { fn, log } = upstream(basicTable());
  const r = new Resolver({ cache, hints, exchange: fn, selector: new ServerSelector({ random: () => 0.5, exploration: 0 }) });
  await r.resolve(Name.fromText('www.example.com.'), RRType.A);
  const n = log.length;
  now += 280_000; // 20 s of 300 left
  const hit = r.answerLocally(Name.fromText('www.example.com.'), RRType.A, RRClass.IN)!;
  assert.equal(hit.answer[0]!.ttl, 20);
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(r.stats.prefetches, 1);
  assert.equal(log.length, n + 1, 'one upstream query refreshed it');
  assert.equal(r.answerLocally(Name.fromText('www.example.com.'), RRType.A, RRClass.IN)!.answer[0]!.ttl, 300);
});

test('DS is asked of the parent zone, not the child', async () => {
  const { r, log } = resolver(basicTable({
    '192.0.2.2 example.com. 43': { aa: true, answer: ['example.com. 86400 IN DS 12345 13 2 ' + 'ab'.repeat(32)] },
  }));
  await r.resolve(Name.fromText('www.example.com.'), RRType.A); // caches the example.com delegation
  const ds = await r.resolve(Name.fromText('example.com.'), RRType.DS);
  assert.equal(ds.rcode, Rcode.NOERROR);
  assert.equal(ds.answer[0]!.type, RRType.DS);
  assert.equal(log[log.length - 1], '192.0.2.2 example.com. 43');
});

test('RFC 8020: names below a cached NXDOMAIN are NXDOMAIN without asking', async () => {
  const { r, log } = resolver(basicTable());
  assert.equal((await r.resolve(Name.fromText('nope.example.com.'), RRType.A)).rcode, Rcode.NXDOMAIN);
  const n = log.length;
  const below = await r.resolve(Name.fromText('a.b.nope.example.com.'), RRType.TXT);
  assert.equal(below.rcode, Rcode.NXDOMAIN);
  assert.equal(below.authority[0]!.type, RRType.SOA);
  assert.equal(log.length, n);
});

test('QNAME minimisation: NXDOMAIN for a hidden level is checked with the full name (empty non-terminals of broken servers)', async () => {
  // example.com's server wrongly says NXDOMAIN for the empty non-terminal b.example.com.
  const table = basicTable({
    '192.0.2.3 b.example.com. 1': { aa: true, rcode: Rcode.NXDOMAIN, authority: ['example.com. 3600 IN SOA ns.example.com. h.example.com. 1 2 3 4 60'] },
    '192.0.2.3 a.b.example.com. 1': { aa: true, answer: ['a.b.example.com. 300 IN A 192.0.2.77'] },
  });
  const { r, log } = resolver(table);
  await r.resolve(Name.fromText('www.example.com.'), RRType.A);
  const res = await r.resolve(Name.fromText('a.b.example.com.'), RRType.A);
  assert.equal(res.rcode, Rcode.NOERROR);
  assert.equal((res.answer[0]!.data as { address: string }).address, '192.0.2.77');
  assert.deepEqual(log.slice(-2), ['192.0.2.3 b.example.com. 1', '192.0.2.3 a.b.example.com. 1']);
  // Strict mode believes it (RFC 8020).
  const strict = resolver(table, { qnameMinimisationStrict: true });
  await strict.r.resolve(Name.fromText('www.example.com.'), RRType.A);
  assert.equal((await strict.r.resolve(Name.fromText('a.b.example.com.'), RRType.A)).rcode, Rcode.NXDOMAIN);
});

/** lab.example's stub server (port 5353) delegates sub.lab.example; it also tries to plant glue outside its zone. */
function stubTable(): Table {
  return (server, qname, qtype) => {
    if (server === '192.0.2.50') {
      if (qname === 'www.lab.example.' && qtype === RRType.A) return { aa: true, answer: ['www.lab.example. 300 IN A 192.0.2.90'] };
      if (qname.endsWith('sub.lab.example.')) {
        return {
          authority: ['sub.lab.example. 3600 IN NS ns.sub.lab.example.', 'sub.lab.example. 3600 IN NS ns.evil.org.'],
          additional: ['ns.sub.lab.example. 3600 IN A 192.0.2.51', 'ns.evil.org. 3600 IN A 203.0.113.66'],
        };
      }
      return { aa: true, rcode: Rcode.NXDOMAIN, authority: ['lab.example. 3600 IN SOA ns.lab.example. h.lab.example. 1 2 3 4 60'] };
    }
    if (server === '192.0.2.51' && qname === 'x.sub.lab.example.') return { aa: true, answer: ['x.sub.lab.example. 300 IN A 192.0.2.91'] };
    if (server === '192.0.2.51') return { aa: true, rcode: Rcode.NXDOMAIN, authority: ['sub.lab.example. 3600 IN SOA ns.sub.lab.example. h.lab.example. 1 2 3 4 60'] };
    return 'timeout';
  };
}

test('stub zone: iteration starts at the configured servers (their port), and referrals below are followed with bailiwick rules', async () => {
  const ports: string[] = [];
  const { fn, log } = upstream(stubTable());
  const cache = new RRCache();
  const r = new Resolver({
    cache, hints, selector: new ServerSelector({ random: () => 0.5, exploration: 0 }), recursion: false,
    exchange: (q, server, o) => {
      ports.push(`${server.address}#${server.port}`);
      return fn(q, server, o);
    },
    stubZones: [{ zone: Name.fromText('lab.example.'), servers: [{ address: '192.0.2.50', port: 5353 }] }],
  });
  const www = await r.resolve(Name.fromText('www.lab.example.'), RRType.A);
  assert.deepEqual(www.answer.map((x) => (x.data as { address: string }).address), ['192.0.2.90']);
  const x = await r.resolve(Name.fromText('x.sub.lab.example.'), RRType.A);
  assert.equal(x.rcode, Rcode.NOERROR);
  assert.deepEqual(x.answer.map((a) => (a.data as { address: string }).address), ['192.0.2.91']);
  // Never the root; the stub server on its own port, the child's server (glue) on the usual one.
  assert.deepEqual(log, ['192.0.2.50 www.lab.example. 1', '192.0.2.50 sub.lab.example. 1', '192.0.2.51 x.sub.lab.example. 1']);
  assert.deepEqual(ports, ['192.0.2.50#5353', '192.0.2.50#5353', '192.0.2.51#53']);
  assert.equal(cache.peek(Name.fromText('ns.evil.org.'), RRType.A, RRClass.IN), undefined, 'glue outside lab.example is not cached');
  // The learned child delegation is used next time; the stub servers are not asked again.
  await r.resolve(Name.fromText('y.sub.lab.example.'), RRType.A);
  assert.equal(log[log.length - 1], '192.0.2.51 y.sub.lab.example. 1');
  assert.equal(log.filter((l) => l.startsWith('192.0.2.50')).length, 2);
  // Without recursion, names outside the stub zone are not this resolver's.
  assert.equal(r.covers(Name.fromText('www.example.com.')), false);
  assert.equal(r.covers(Name.fromText('a.sub.lab.example.')), true);
  await assert.rejects(r.resolve(Name.fromText('www.example.com.'), RRType.A), (e: unknown) => e instanceof ResolutionError && e.ede === EdeCode.NOT_SUPPORTED);
  const [zone] = r.stubZoneSnapshot();
  assert.equal(zone!.zone, 'lab.example.');
  assert.equal(zone!.servers[0]!.server, '192.0.2.50#5353');
  assert.equal(zone!.servers[0]!.queries, 2);
});

test('stub zone beside full recursion: the stub wins below its domain, a cached delegation above it does not', async () => {
  const base = basicTable();
  const table: Table = (server, qname, qtype, edns) => (server === '192.0.2.50' ? stubTable()(server, qname, qtype, edns) : base(server, qname, qtype, edns));
  const { r, log } = resolver(table, { stubZones: [{ zone: Name.fromText('lab.example.com.'), servers: [{ address: '192.0.2.50', port: 53 }] }] });
  await r.resolve(Name.fromText('www.example.com.'), RRType.A); // caches example.com's delegation
  const n = log.length;
  const res = await r.resolve(Name.fromText('www.lab.example.com.'), RRType.A);
  assert.equal(res.rcode, Rcode.NXDOMAIN); // the stub server's own view (its table has no such name)
  assert.deepEqual(log.slice(n), ['192.0.2.50 www.lab.example.com. 1']);
});

test('counters of the recursive path: cache hits and misses, local answers, upstream queries and latency', async () => {
  const { r } = resolver(basicTable());
  assert.equal(r.answerLocally(Name.fromText('www.example.com.'), RRType.A, RRClass.IN), undefined);
  await r.resolve(Name.fromText('www.example.com.'), RRType.A, RRClass.IN, { cacheChecked: true });
  assert.ok(r.answerLocally(Name.fromText('www.example.com.'), RRType.A, RRClass.IN) !== undefined);
  assert.ok(r.answerLocally(Name.fromText('localhost.'), RRType.A, RRClass.IN) !== undefined);
  assert.equal((await r.resolve(Name.fromText('nx.example.com.'), RRType.A)).rcode, Rcode.NXDOMAIN);
  const s = r.stats;
  assert.equal(s.cacheHits, 1);
  assert.equal(s.cacheMisses, 2); // the explicit one, and resolve() checking for nx.example.com
  assert.equal(s.localAnswers, 1);
  assert.equal(s.resolutions, 2);
  assert.equal(s.upstreamQueries, 5); // priming, com, example.com, www; then nx at the cached example.com cut
  assert.equal(s.upstreamReplies, 5);
  assert.equal(s.upstreamRttMsSum, 5); // the canned upstream reports 1 ms per reply
  assert.ok(s.resolutionMsSum >= 0);
  assert.equal(s.failures, 0);
});

test('glue gone from the cache (flushed): the parent delegation, or the hints at the root, bring it back', async () => {
  const { r, cache, log } = resolver(basicTable());
  await r.resolve(Name.fromText('www.example.com.'), RRType.A);
  // `cache flush example.com --subtree` takes ns.example.com's address with it; so does flushing the root server's name.
  cache.flush(Name.fromText('example.com.'), { subtree: true });
  cache.flush(Name.fromText('a.root.'), { subtree: true });
  assert.equal(cache.peek(Name.fromText('a.root.'), RRType.A, RRClass.IN), undefined);
  const again = await r.resolve(Name.fromText('www.example.com.'), RRType.A);
  assert.equal(again.rcode, Rcode.NOERROR);
  assert.deepEqual(again.answer.map((x) => (x.data as { address: string }).address), ['192.0.2.80']);
  // Both example.com's and com's servers lose their addresses: up two levels, to the root.
  cache.flush(Name.fromText('ns.example.com.'));
  cache.flush(Name.fromText('ns.com.'));
  const n = log.length;
  const third = await r.resolve(Name.fromText('ftp.example.com.'), RRType.A);
  assert.equal(third.rcode, Rcode.NXDOMAIN);
  assert.deepEqual(log.slice(n), ['192.0.2.1 com. 1', '192.0.2.2 example.com. 1', '192.0.2.3 ftp.example.com. 1']);
});

test('a stub zone for a private reverse zone (RFC 6303) is asked instead of answering locally', async () => {
  const table: Table = (server, qname) => {
    if (server !== '192.0.2.60') return 'timeout';
    if (qname === '1.1.168.192.in-addr.arpa.') return { aa: true, answer: ['1.1.168.192.in-addr.arpa. 300 IN PTR router.lan.'] };
    return { aa: true, authority: ['168.192.in-addr.arpa. 300 IN SOA router.lan. h.lan. 1 2 3 4 60'] }; // empty non-terminal
  };
  const { r, log } = resolver(table, { recursion: false, stubZones: [{ zone: Name.fromText('168.192.in-addr.arpa.'), servers: [{ address: '192.0.2.60', port: 53 }] }] });
  assert.equal(r.answerLocally(Name.fromText('1.1.168.192.in-addr.arpa.'), RRType.PTR, RRClass.IN), undefined);
  const res = await r.resolve(Name.fromText('1.1.168.192.in-addr.arpa.'), RRType.PTR);
  assert.equal((res.answer[0]!.data as { ptrdname: Name }).ptrdname.toString(), 'router.lan.');
  // QNAME minimisation walks down one label (RFC 9156), then the full question.
  assert.deepEqual(log, ['192.0.2.60 1.168.192.in-addr.arpa. 1', '192.0.2.60 1.1.168.192.in-addr.arpa. 12']);
  // Other private ranges stay local.
  assert.equal(r.answerLocally(Name.fromText('1.0.0.10.in-addr.arpa.'), RRType.PTR, RRClass.IN)?.rcode, Rcode.NXDOMAIN);
});

test('RFC 2181 §8: an answer TTL with the top bit set is 0, in the reply and in the cache (not maxTtl)', async () => {
  const { r, cache, log } = resolver(basicTable({
    '192.0.2.3 huge.example.com. 1': { aa: true, answer: ['huge.example.com. 2147483648 IN A 192.0.2.81'] },
  }), { qnameMinimisation: false });
  const res = await r.resolve(Name.fromText('huge.example.com.'), RRType.A);
  assert.deepEqual(res.answer.map((x) => x.ttl), [0]);
  assert.equal(cache.peek(Name.fromText('huge.example.com.'), RRType.A, RRClass.IN), undefined, 'cached for maxTtl');
  const n = log.length;
  await r.resolve(Name.fromText('huge.example.com.'), RRType.A);
  assert.equal(log.length, n + 1);
});

test('a refused put (better data cached) still hands out capped TTLs', async () => {
  const { r, cache } = resolver(basicTable({
    '192.0.2.3 capped.example.com. 1': { aa: true, answer: ['capped.example.com. 999999 IN A 192.0.2.82'] },
  }), { qnameMinimisation: false });
  cache.put([parseRecord('capped.example.com. 60 IN A 192.0.2.82')], Credibility.LOCAL);
  const res = await r.resolve(Name.fromText('capped.example.com.'), RRType.A, RRClass.IN, { refresh: true });
  assert.deepEqual(res.answer.map((x) => x.ttl), [86_400]);
});

test('an IPv6-only glueless server keeps working when its AAAA expires before its A NODATA', async () => {
  let now = 1_000_000;
  const cache = new RRCache({ clock: () => now });
  const v6 = '2001:db8::53';
  const table: Table = (server, qname, qtype) => {
    if (qname === '.' && qtype === RRType.NS) return rootNs;
    if (server === '192.0.2.1') {
      if (qname.endsWith('org.')) return { authority: ['org. 172800 IN NS ns.org.'], additional: ['ns.org. 172800 IN A 192.0.2.4'] };
      return { authority: ['com. 172800 IN NS ns.com.'], additional: ['ns.com. 172800 IN A 192.0.2.2'] };
    }
    if (server === '192.0.2.2') return { authority: ['six.com. 86400 IN NS ns.six.org.'] };
    if (server === '192.0.2.4') {
      if (qname === 'ns.six.org.' && qtype === RRType.AAAA) return { aa: true, answer: [`ns.six.org. 100 IN AAAA ${v6}`] };
      // No A record: NODATA, cached for an hour (SOA MINIMUM 3600).
      return { aa: true, authority: ['org. 3600 IN SOA ns.org. h.org. 1 2 3 4 3600'] };
    }
    if (server === v6) return { aa: true, answer: [`${qname} 60 IN A 192.0.2.66`] };
    return 'timeout';
  };
  const { fn, log } = upstream(table);
  const r = new Resolver({ cache, hints, exchange: fn, qnameMinimisation: false, selector: new ServerSelector({ random: () => 0.5, exploration: 0 }), clock: () => now });
  assert.equal((await r.resolve(Name.fromText('a.six.com.'), RRType.A)).rcode, Rcode.NOERROR);
  now += 200_000; // the AAAA (100 s) expired; the A NODATA (3600 s) did not
  assert.notEqual(cache.peek(Name.fromText('ns.six.org.'), RRType.A, RRClass.IN), undefined);
  assert.equal(cache.peek(Name.fromText('ns.six.org.'), RRType.AAAA, RRClass.IN), undefined);
  const before = log.length;
  const res = await r.resolve(Name.fromText('b.six.com.'), RRType.A);
  assert.equal(res.rcode, Rcode.NOERROR);
  assert.deepEqual(res.answer.map((x) => (x.data as { address: string }).address), ['192.0.2.66']);
  const again = log.slice(before);
  assert.ok(again.includes('192.0.2.4 ns.six.org. 28'), again.join(', '));
  assert.ok(!again.includes('192.0.2.4 ns.six.org. 1'), 'the cached A NODATA was asked again');
});

test('RFC 8767 §5: with stale data, a slow resolution answers stale after the client-response timer, then refreshes', async () => {
  let now = 1_000_000;
  const cache = new RRCache({ staleTtl: 3600, clock: () => now });
  let release: (() => void) | undefined;
  let slow = false;
  const { fn } = upstream(basicTable({ '192.0.2.3 www.example.com. 1': { aa: true, answer: ['www.example.com. 300 IN A 192.0.2.81'] } }));
  const gated: ExchangeFn = async (q, server, o) => {
    if (slow) await new Promise<void>((resolve) => { release = resolve; });
    return fn(q, server, o);
  };
  const r = new Resolver({
    cache, hints, exchange: gated, serveStale: true, staleClientTimeoutMs: 20, qnameMinimisation: false, clock: () => now,
    selector: new ServerSelector({ random: () => 0.5, exploration: 0 }),
  });
  cache.put([parseRecord('www.example.com. 300 IN A 192.0.2.80')], Credibility.AUTH_ANSWER);
  await r.prime();
  now += 400_000; // past the TTL, inside the stale window
  slow = true;
  const res = await r.resolve(Name.fromText('www.example.com.'), RRType.A);
  assert.equal(res.stale, true);
  assert.equal(res.ede?.code, EdeCode.STALE_ANSWER);
  assert.deepEqual(res.answer.map((x) => (x.data as { address: string }).address), ['192.0.2.80']);
  assert.equal(r.stats.failures, 0, 'the answer came from the timer, not from a failed resolution');
  // The resolution goes on and refreshes the cache.
  slow = false;
  while (release === undefined) await new Promise((x) => setTimeout(x, 5));
  release();
  for (let i = 0; i < 100 && cache.peek(Name.fromText('www.example.com.'), RRType.A, RRClass.IN) === undefined; i++) {
    await new Promise((x) => setTimeout(x, 5));
  }
  const fresh = cache.get(Name.fromText('www.example.com.'), RRType.A, RRClass.IN)!;
  assert.deepEqual(fresh.records.map((x) => (x.data as { address: string }).address), ['192.0.2.81']);
});

test('authority NS of an answer: only for ancestors of the query name, and never above referral rank (Unbound scrubs the rest)', async () => {
  const { r, cache } = resolver(basicTable({
    '192.0.2.3 www.example.com. 1': {
      aa: true, answer: ['www.example.com. 300 IN A 192.0.2.80'],
      authority: ['example.com. 3600 IN NS ns.example.com.', 'other.example.com. 3600 IN NS ns.evil.example.com.'],
      additional: ['ns.example.com. 3600 IN A 192.0.2.3', 'ns.evil.example.com. 3600 IN A 203.0.113.66'],
    },
  }), { qnameMinimisation: false });
  await r.resolve(Name.fromText('www.example.com.'), RRType.A);
  assert.equal(cache.peek(Name.fromText('other.example.com.'), RRType.NS, RRClass.IN), undefined, 'NS for a non-ancestor was cached');
  assert.equal(cache.peek(Name.fromText('ns.evil.example.com.'), RRType.A, RRClass.IN), undefined);
  const ns = cache.peek(Name.fromText('example.com.'), RRType.NS, RRClass.IN)!;
  assert.equal(ns.rank, Credibility.GLUE);
});

test('the failure cache follows the injected clock', async () => {
  let now = 1_000_000;
  const cache = new RRCache({ clock: () => now });
  const { fn, log } = upstream(() => 'timeout');
  const r = new Resolver({ cache, hints, exchange: fn, failureTtlMs: 5000, clock: () => now, selector: new ServerSelector({ random: () => 0.5, exploration: 0, clock: () => now }) });
  await assert.rejects(r.resolve(Name.fromText('www.example.com.'), RRType.A));
  const n = log.length;
  await assert.rejects(r.resolve(Name.fromText('www.example.com.'), RRType.A), (e: unknown) => (e as ResolutionError).ede === EdeCode.CACHED_ERROR);
  assert.equal(log.length, n);
  now += 6000;
  await assert.rejects(r.resolve(Name.fromText('www.example.com.'), RRType.A), (e: unknown) => (e as ResolutionError).ede !== EdeCode.CACHED_ERROR);
  assert.ok(log.length > n);
});
