/**
 * The engine's fast path for resolver and forwarder cache hits (src/server/live-answer.ts):
 * a repeat is answered from bytes that equal, byte for byte, what the full chain answers at the
 * same moment (TTLs counted down exactly); a flush, a replacement, an expiry or a prefetch window
 * sends the query back to the chain at once; the ACL is applied per client; the query's ID and
 * case come back; the counters move as on the slow path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExchangeResult, ServerAddress } from '../../src/client/exchange.js';
import { TimeoutError } from '../../src/errors.js';
import { forwarder } from '../../src/handlers/forwarder/index.js';
import { resolverHandler } from '../../src/handlers/resolver/index.js';
import { silentLogger } from '../../src/logging.js';
import { Acl } from '../../src/resolver/acl.js';
import { Credibility, RRCache } from '../../src/resolver/cache.js';
import { Forwarder, UpstreamSet } from '../../src/resolver/forwarder.js';
import { type ExchangeFn, Resolver } from '../../src/resolver/iterator.js';
import { parseRootHints } from '../../src/resolver/root-hints.js';
import { type Handler, composeChain } from '../../src/server/chain.js';
import { QueryEngine } from '../../src/server/engine.js';
import { replyTo } from '../../src/server/query-context.js';
import { ServerStats } from '../../src/server/stats.js';
import { Rcode } from '../../src/wire/constants.js';
import { newEdns } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { parseRecord } from '../../src/wire/record.js';
import { RRType } from '../../src/wire/types.js';
import { Writer } from '../../src/wire/writer.js';

const hints = parseRootHints('. 3600000 NS a.root.\na.root. 3600000 A 192.0.2.1\n');
const silent: ExchangeFn = async (_q: Message, server: ServerAddress): Promise<ExchangeResult> => {
  throw new TimeoutError(`${server.address}#53`, 10);
};
const ACL = new Acl(['127.0.0.0/8']);

interface Rig {
  cache: RRCache;
  /** Engine with the answer cache on (fast path) and one with it off (the full chain every time). */
  fast: QueryEngine;
  slow: QueryEngine;
  clock: { ms: number };
  resolver: Resolver;
}

function rig(opts: { prefetch?: boolean } = {}): Rig {
  const clock = { ms: 1_000_000_000 };
  const cache = new RRCache({ clock: () => clock.ms, prefetch: opts.prefetch === true });
  const resolver = new Resolver({ cache, hints, exchange: silent, resolutionTimeoutMs: 2000, clock: () => clock.ms });
  const chain = (): Handler => composeChain([{ name: 'resolver', middleware: resolverHandler(resolver, { maxUdpSize: 1232, acl: ACL }) }],
    (ctx) => replyTo(ctx.request, Rcode.REFUSED));
  const mk = (bytes?: number): QueryEngine => new QueryEngine(chain(), {
    maxUdpSize: 1232, logger: silentLogger, stats: new ServerStats(), ...(bytes === undefined ? {} : { answerCacheBytes: bytes }),
  });
  return { cache, fast: mk(), slow: mk(0), clock, resolver };
}

function query(name: string, type: number, id: number, opts: { dnssecOk?: boolean; cd?: boolean } = {}): Buffer {
  const m = Message.query(name, type, { id, rd: true, edns: newEdns({ udpSize: 1232, dnssecOk: opts.dnssecOk === true }) });
  if (opts.cd === true) m.cd = true;
  return Buffer.from(m.encode());
}

/** The reply the engine gives over UDP: the fast path when it has it, else the chain (synchronous here). */
function ask(e: QueryEngine, q: Buffer, client = '127.0.0.1'): { bytes: Buffer; fast: boolean } {
  const hit = e.cachedUdpReply(q, q.length, client);
  if (hit !== undefined) return { bytes: hit, fast: true };
  const w = new Writer();
  const n = e.process(q, q.length, 'udp', client, 5353, w);
  assert.equal(typeof n, 'number', 'a cache hit is answered synchronously');
  return { bytes: Buffer.from(w.buf.subarray(0, n as number)), fast: false };
}

test('resolver cache hits: from bytes on repeat, equal to the chain\'s reply, TTLs counted down exactly', () => {
  const r = rig();
  r.cache.put([parseRecord('www.example.com. 300 IN A 192.0.2.80'), parseRecord('www.example.com. 300 IN A 192.0.2.81')], Credibility.AUTH_ANSWER);
  r.cache.putNegative(Name.fromText('nx.example.com.'), RRType.A, 1, 'nxdomain',
    parseRecord('example.com. 600 IN SOA ns hostmaster 1 7200 3600 1209600 120'), Credibility.AUTH_AUTHORITY);
  for (const [name, type] of [['www.example.com.', RRType.A], ['nx.example.com.', RRType.A]] as const) {
    const first = ask(r.fast, query(name, type, 1));
    assert.equal(first.fast, false, 'first answer comes from the chain');
    for (const [step, id] of [[0, 2], [7, 3], [50, 4]] as const) {
      r.clock.ms += step * 1000;
      const q = query(name, type, id);
      const a = ask(r.fast, q);
      const b = ask(r.slow, q);
      assert.equal(a.fast, true, `${name} +${step}s from bytes`);
      assert.equal(b.fast, false);
      assert.deepEqual(a.bytes, b.bytes, `${name} +${step}s: same bytes as the chain`);
      assert.equal(Message.decode(a.bytes).id, id);
    }
  }
  const m = Message.decode(ask(r.fast, query('www.example.com.', RRType.A, 9)).bytes);
  assert.deepEqual(m.answer.map((x) => x.ttl), [300 - 114, 300 - 114]);
  const nx = Message.decode(ask(r.fast, query('nx.example.com.', RRType.A, 9)).bytes);
  assert.equal(nx.rcode, Rcode.NXDOMAIN);
  assert.equal(nx.authority[0]!.ttl, 120 - 114);
});

test('0x20 case, DO and CD: the client\'s spelling comes back, each flag combination has its own bytes', () => {
  const r = rig();
  r.cache.put([parseRecord('www.example.com. 300 IN A 192.0.2.80')], Credibility.AUTH_ANSWER);
  ask(r.fast, query('www.example.com.', RRType.A, 1));
  const mixed = query('wWw.ExAmple.COM.', RRType.A, 2);
  const a = ask(r.fast, mixed);
  assert.equal(a.fast, true, 'case does not split the cache');
  // The answer's owner is compressed against the question, so it follows the client's case (as
  // Unbound's replies do; equal either way, RFC 4343); otherwise the same reply as the chain's.
  const lower = (b: Buffer): string[] => Message.decode(b).answer.map((x) => `${x.name.toString().toLowerCase()} ${x.ttl} ${JSON.stringify(x.data)}`);
  assert.deepEqual(lower(a.bytes), lower(ask(r.slow, mixed).bytes));
  assert.equal(Message.decode(a.bytes).question[0]!.name.toString(), 'wWw.ExAmple.COM.');
  for (const flags of [{ dnssecOk: true }, { cd: true }]) {
    const q = query('www.example.com.', RRType.A, 3, flags);
    assert.equal(ask(r.fast, q).fast, false, `${JSON.stringify(flags)} is its own key`);
    const again = ask(r.fast, q);
    assert.equal(again.fast, true);
    assert.deepEqual(again.bytes, ask(r.slow, q).bytes);
  }
});

test('flush, replacement and expiry take effect at once', () => {
  const r = rig();
  const q = query('www.example.com.', RRType.A, 1);
  r.cache.put([parseRecord('www.example.com. 60 IN A 192.0.2.80')], Credibility.AUTH_ANSWER);
  ask(r.fast, q);
  assert.equal(ask(r.fast, q).fast, true);
  // Flush by name.
  r.cache.flush(Name.fromText('www.example.com.'));
  assert.equal(r.fast.cachedUdpReply(q, q.length, '127.0.0.1'), undefined);
  // Flush everything.
  r.cache.put([parseRecord('www.example.com. 60 IN A 192.0.2.80')], Credibility.AUTH_ANSWER);
  ask(r.fast, q);
  assert.equal(ask(r.fast, q).fast, true);
  r.cache.flush();
  assert.equal(r.fast.cachedUdpReply(q, q.length, '127.0.0.1'), undefined);
  // New data replaces the entry: the next answer carries it.
  r.cache.put([parseRecord('www.example.com. 60 IN A 192.0.2.80')], Credibility.AUTH_ANSWER);
  ask(r.fast, q);
  assert.equal(ask(r.fast, q).fast, true);
  r.cache.put([parseRecord('www.example.com. 60 IN A 192.0.2.99')], Credibility.AUTH_ANSWER);
  const changed = ask(r.fast, q);
  assert.equal(changed.fast, false);
  assert.equal((Message.decode(changed.bytes).answer[0]!.data as { address: string }).address, '192.0.2.99');
  // Expiry: at the last second it is still served from bytes with TTL 1, then never again.
  assert.equal(ask(r.fast, q).fast, true);
  r.clock.ms += 59_000;
  const last = ask(r.fast, q);
  assert.equal(last.fast, true);
  assert.equal(Message.decode(last.bytes).answer[0]!.ttl, 1);
  r.clock.ms += 1000;
  assert.equal(r.fast.cachedUdpReply(q, q.length, '127.0.0.1'), undefined, 'expired: back to the chain');
});

test('the ACL is applied per client before the bytes are sent; counters move as on the slow path', () => {
  const r = rig();
  r.cache.put([parseRecord('www.example.com. 300 IN A 192.0.2.80')], Credibility.AUTH_ANSWER);
  const q = query('www.example.com.', RRType.A, 1);
  ask(r.fast, q);
  const hitsBefore = r.resolver.stats.cacheHits;
  const cacheHitsBefore = r.cache.stats.hits;
  assert.equal(ask(r.fast, q).fast, true);
  assert.equal(r.resolver.stats.cacheHits, hitsBefore + 1);
  assert.equal(r.cache.stats.hits, cacheHitsBefore + 1);
  assert.equal(r.fast.cachedUdpReply(q, q.length, '198.51.100.7'), undefined, 'outside the ACL: not from bytes');
  const refused = Message.decode(ask(r.fast, q, '198.51.100.7').bytes);
  assert.equal(refused.rcode, Rcode.REFUSED);
  assert.equal(ask(r.fast, q).fast, true, 'the allowed client still gets the fast path');
});

test('prefetch: a hit in the last 10% of the TTL goes to the chain, which fires the prefetch', () => {
  const r = rig({ prefetch: true });
  const fired: string[] = [];
  r.cache.onPrefetch = (name) => { fired.push(name.toString()); };
  r.cache.put([parseRecord('www.example.com. 100 IN A 192.0.2.80')], Credibility.AUTH_ANSWER);
  const q = query('www.example.com.', RRType.A, 1);
  ask(r.fast, q);
  r.clock.ms += 89_000;
  assert.equal(ask(r.fast, q).fast, true, '11 s left of 100: from bytes');
  r.clock.ms += 1000;
  assert.equal(ask(r.fast, q).fast, false, '10 s left: the chain answers');
  assert.deepEqual(fired, ['www.example.com.']);
});

test('forwarder cache hits take the same fast path', () => {
  const clock = { ms: 2_000_000_000 };
  const cache = new RRCache({ clock: () => clock.ms });
  const upstreams = new UpstreamSet([{ address: '127.0.0.1', port: 9 }], { probeIntervalMs: 0, exchange: silent, probeName: Name.fromText('.'), probeRd: true });
  const fwd = new Forwarder([{ zone: Name.fromText('.'), kind: 'forward', upstreams }], { cache, exchange: silent, timeoutMs: 50, maxAttempts: 1 });
  const chain = composeChain([{ name: 'forwarder', middleware: forwarder(fwd, { maxUdpSize: 1232, acl: ACL }) }],
    (ctx) => replyTo(ctx.request, Rcode.REFUSED));
  const fast = new QueryEngine(chain, { maxUdpSize: 1232, logger: silentLogger, stats: new ServerStats() });
  const slow = new QueryEngine(chain, { maxUdpSize: 1232, logger: silentLogger, stats: new ServerStats(), answerCacheBytes: 0 });
  cache.put([parseRecord('www.example.net. 300 IN CNAME host.example.net.')], Credibility.NONAUTH_ANSWER);
  cache.put([parseRecord('host.example.net. 120 IN A 192.0.2.7')], Credibility.NONAUTH_ANSWER);
  const q = query('WWW.example.NET.', RRType.A, 11);
  assert.equal(ask(fast, q).fast, false);
  const before = fwd.cacheAnswers;
  clock.ms += 30_000;
  const a = ask(fast, q);
  assert.equal(a.fast, true);
  const lower = (b: Buffer): string[] => Message.decode(b).answer.map((x) => `${x.name.toString().toLowerCase()} ${x.ttl} ${JSON.stringify(x.data)}`);
  assert.deepEqual(lower(a.bytes), lower(ask(slow, q).bytes));
  assert.equal(Message.decode(a.bytes).question[0]!.name.toString(), 'WWW.example.NET.');
  assert.deepEqual(Message.decode(a.bytes).answer.map((x) => x.ttl), [270, 90]);
  assert.equal(fwd.cacheAnswers, before + 2);
  // The chain's second link changes: the answer does too, at once.
  cache.flush(Name.fromText('host.example.net.'));
  assert.equal(fast.cachedUdpReply(q, q.length, '127.0.0.1'), undefined);
  upstreams.close();
});

test('a served hosts file that changes takes over names whose forwarded answers the engine kept', async () => {
  const { DnsServer } = await import('../../src/server/server.js');
  const { defaultConfig } = await import('../../src/config/load.js');
  const { exchange } = await import('../../src/client/exchange.js');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'sovereign-live-hosts-'));
  const path = join(dir, 'hosts');
  writeFileSync(path, '192.0.2.1 other.example.net\n');
  const server = new DnsServer({
    config: defaultConfig({ listen: '127.23.7.21:0', workers: 1, forwarders: ['127.0.0.1:9'], control: { enabled: false },
      hosts: { enabled: true, path, watch: true, pollMs: 50 } }),
    logger: silentLogger,
  });
  await server.loadZones();
  await server.start();
  try {
    const { port } = server.addresses[0]!;
    server.cache.put([parseRecord('www.example.net. 300 IN A 192.0.2.7')], Credibility.NONAUTH_ANSWER);
    const ask1 = async (): Promise<string> => {
      const { message } = await exchange(Message.query('www.example.net.', RRType.A), { address: '127.23.7.21', port }, { timeoutMs: 2000 });
      return (message.answer[0]!.data as { address: string }).address;
    };
    assert.equal(await ask1(), '192.0.2.7');
    assert.equal(await ask1(), '192.0.2.7', 'served again (from bytes)');
    writeFileSync(path, '192.0.2.99 www.example.net\n');
    let got = '';
    for (let i = 0; i < 200 && got !== '192.0.2.99'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      got = await ask1();
    }
    assert.equal(got, '192.0.2.99', 'the hosts entry answers once the file is re-read');
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
