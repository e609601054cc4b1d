/**
 * The recursive resolver against a real hierarchy on loopback (root, TLDs, leaf zones served by
 * Sovereign, BIND and NSD behind counting proxies on 127.25.x:53), side by side with Unbound
 * resolving the same names over the same hierarchy: answers must agree, and Sovereign's upstream
 * query count must be no worse than Unbound's.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { RRCache } from '../../src/resolver/cache.js';
import { Resolver } from '../../src/resolver/iterator.js';
import { loadRootHints } from '../../src/resolver/root-hints.js';
import { DnsServer } from '../../src/server/server.js';
import { EdeCode, Rcode } from '../../src/wire/constants.js';
import { decodeOption, newEdns } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { recordToString } from '../../src/wire/record.js';
import { RRType, typeFromString } from '../../src/wire/types.js';
import { type RunningPeer, addLoopbackAddress, havePeers, startUnbound, tempDir } from '../helpers/peers.js';
import { ADDR, type Hierarchy, NAMES, startHierarchy } from './resolver-hierarchy.js';

let dir: ReturnType<typeof tempDir> | undefined;
let h: Hierarchy | undefined;
let ours: DnsServer | undefined;
let unbound: RunningPeer | undefined;
let skipped = false;

/** Everything except Unbound's outgoing address is our resolver (it sends from 127.0.0.1). */
const fromOurs = (s: string): boolean => s !== ADDR.unbound;

async function ask(server: string, name: string, type: string, opts: { rd?: boolean; localAddress?: string } = {}): Promise<Message> {
  const q = Message.query(name, typeFromString(type)!, { rd: opts.rd ?? true, edns: newEdns({ udpSize: 1232 }) });
  const r = await exchange(q, { address: server, port: 53 }, { timeoutMs: 8000, tries: 2, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
  return r.message;
}

/** rcode + answer RRsets as sorted text without TTLs (what two resolvers must agree on). */
function summary(m: Message): string {
  const rrs = m.answer.map((r) => recordToString({ ...r, ttl: 0 }).toLowerCase().replace(/\s+/g, ' ')).sort();
  return `${m.rcode} ${rrs.join(' | ')}`;
}

test('hierarchy and resolvers start', async (t) => {
  if (!havePeers(t, 'named', 'nsd', 'unbound')) {
    skipped = true;
    return;
  }
  dir = tempDir('sovereign-resolver-');
  h = await startHierarchy(dir.path);
  addLoopbackAddress(ADDR.ours);
  addLoopbackAddress(ADDR.unbound);
  // A zone of our own: answered from the zone (AA), never recursed, although mine.sov. is not delegated.
  writeFileSync(`${dir.path}/mine.sov.zone`, '$TTL 300\n@ SOA ns.mine.sov. h.mine.sov. 1 3600 600 86400 300\n@ NS ns\nns A 127.25.0.53\nwww A 127.25.6.6\n');
  const config = defaultConfig({
    listen: [`${ADDR.ours}:53`], workers: 1, control: { enabled: false }, zones: [{ name: 'mine.sov.', file: `${dir.path}/mine.sov.zone` }],
    resolver: { enabled: true, dnssec: false, rootHints: h.hintsFile, allow: ['!127.25.0.99', '127.0.0.0/8'] },
  });
  ours = new DnsServer({ config, logger: silentLogger });
  await ours.loadZones();
  await ours.start();
  const { mkdirSync } = await import('node:fs');
  const ubDir = `${dir.path}/unbound`;
  mkdirSync(ubDir);
  unbound = await startUnbound(ubDir, ADDR.unbound, 53, h.hintsFile, `  outgoing-interface: ${ADDR.unbound}\n`);
  // Let our start-up priming finish so it is counted in the totals below.
  await ours.resolver!.prime();
});

after(async () => {
  await ours?.stop();
  await unbound?.stop();
  await h?.stop();
  dir?.cleanup();
});

test('answers agree with Unbound, and cold upstream queries are no more than Unbound\'s', async (t) => {
  if (skipped) return t.skip('peers missing');
  const rows: string[] = [];
  const oursBefore = h!.queries(fromOurs).total;
  const ubBefore = h!.queries(ADDR.unbound).total;
  for (const [name, type] of NAMES) {
    const o0 = h!.queries(fromOurs).total;
    const u0 = h!.queries(ADDR.unbound).total;
    const a = await ask(ADDR.ours, name, type);
    const b = await ask(ADDR.unbound, name, type).catch((err: unknown) => {
      throw new Error(`Unbound, ${name} ${type}: ${(err as Error).message}`);
    });
    assert.equal(summary(a), summary(b), `${name} ${type}: ours vs Unbound`);
    assert.equal(a.ra, true);
    rows.push(`${name} ${type}: rcode ${a.rcode}, ours ${h!.queries(fromOurs).total - o0}, unbound ${h!.queries(ADDR.unbound).total - u0}`);
  }
  // Unbound fetches some things in the background (e.g. missing nameserver addresses): let it settle.
  await new Promise((r) => setTimeout(r, 500));
  const oursTotal = h!.queries(fromOurs).total - oursBefore;
  const ubTotal = h!.queries(ADDR.unbound).total - ubBefore;
  for (const row of rows) t.diagnostic(row);
  t.diagnostic(`upstream queries for ${NAMES.length} cold names (priming excluded for both): ours ${oursTotal} Unbound ${ubTotal}`);
  assert.ok(oursTotal <= ubTotal, `ours ${oursTotal} > Unbound ${ubTotal}`);
});

test('truncated UDP answers are retried over TCP', async (t) => {
  if (skipped) return t.skip('peers missing');
  ours!.cache.flush();
  h!.resetCounts();
  const m = await ask(ADDR.ours, 'big.example.sov.', 'TXT');
  assert.equal(m.rcode, Rcode.NOERROR);
  assert.equal(m.answer.length, 40);
  const seen = [...h!.proxies.get(ADDR.exampleSov)!.counter.bySource].filter(([s]) => fromOurs(s));
  assert.ok(seen.some(([, c]) => c.tcp >= 1), `TCP used after TC: ${JSON.stringify(seen)}`);
});

test('CNAME chain across three zones, through a glueless delegation, and DNAME', async (t) => {
  if (skipped) return t.skip('peers missing');
  const m = await ask(ADDR.ours, 'www.example.sov.', 'A');
  assert.deepEqual(m.answer.map((r) => `${r.name.toString()} ${r.type}`), [
    'www.example.sov. 5', 'web.example.bnd. 5', 'host.glueless.sov. 1',
  ]);
  const d = await ask(ADDR.ours, 'www.alias.example.sov.', 'A');
  assert.equal(d.rcode, Rcode.NOERROR);
  assert.deepEqual(d.answer.map((r) => r.type), [RRType.DNAME, RRType.CNAME, RRType.A]);
});

test('NXDOMAIN and NODATA are cached for the SOA negative TTL, then asked again', async (t) => {
  if (skipped) return t.skip('peers missing');
  ours!.cache.flush(); // keep the delegations out of the way: start cold
  await ask(ADDR.ours, 'a.example.sov.', 'A'); // warm the delegations
  for (const [name, type, rcode] of [['nx.example.sov.', 'A', Rcode.NXDOMAIN], ['a.example.sov.', 'TXT', Rcode.NOERROR]] as const) {
    const first = await ask(ADDR.ours, name, type);
    assert.equal(first.rcode, rcode);
    assert.equal(first.answer.length, 0);
    assert.equal(first.authority[0]?.type, RRType.SOA);
    assert.ok(first.authority[0]!.ttl <= 2, 'negative TTL = min(SOA TTL, MINIMUM) = 2');
    const n0 = h!.queries(fromOurs).total;
    const second = await ask(ADDR.ours, name, type);
    assert.equal(second.rcode, rcode);
    assert.equal(h!.queries(fromOurs).total, n0, 'answered from the negative cache');
  }
  await new Promise((r) => setTimeout(r, 2200));
  const n1 = h!.queries(fromOurs).total;
  const again = await ask(ADDR.ours, 'nx.example.sov.', 'A');
  assert.equal(again.rcode, Rcode.NXDOMAIN);
  assert.ok(h!.queries(fromOurs).total > n1, 'expired negative entry: asked upstream again');
});

test('positive answers are cached with TTLs counting down, and expire', async (t) => {
  if (skipped) return t.skip('peers missing');
  const a = await ask(ADDR.ours, 'shortttl.example.sov.', 'A');
  assert.equal(a.answer[0]?.ttl !== undefined && a.answer[0].ttl <= 2, true);
  const n0 = h!.queries(fromOurs).total;
  await ask(ADDR.ours, 'shortttl.example.sov.', 'A');
  assert.equal(h!.queries(fromOurs).total, n0);
  await new Promise((r) => setTimeout(r, 2200));
  await ask(ADDR.ours, 'shortttl.example.sov.', 'A');
  assert.ok(h!.queries(fromOurs).total > n0);
});

test('lame and silent servers: answers still come, and the bad servers are avoided afterwards', async (t) => {
  if (skipped) return t.skip('peers missing');
  const lame = await ask(ADDR.ours, 'www.lame.sov.', 'A');
  assert.equal(summary(lame), `0 www.lame.sov. 0 in a 127.25.8.6`);
  const silent = await ask(ADDR.ours, 'www.silent.sov.', 'A');
  assert.equal(summary(silent), `0 www.silent.sov. 0 in a 127.25.8.7`);
  const sel = ours!.resolver!.selector;
  const seen = (a: string): number => {
    let n = 0;
    for (const [src, c] of h!.proxies.get(a)!.counter.bySource) if (fromOurs(src)) n += c.udp + c.tcp;
    return n;
  };
  const lame0 = seen(ADDR.lame);
  const silent0 = seen(ADDR.silent);
  if (lame0 > 0) assert.equal(sel.usable(ADDR.lame, Name.fromText('lame.sov.').key), false, 'lame server marked');
  // Fresh lookups (cache flushed, server knowledge kept) go to the good servers only.
  ours!.cache.flush();
  assert.equal(summary(await ask(ADDR.ours, 'www.lame.sov.', 'A')), `0 www.lame.sov. 0 in a 127.25.8.6`);
  assert.equal(summary(await ask(ADDR.ours, 'www.silent.sov.', 'A')), `0 www.silent.sov. 0 in a 127.25.8.7`);
  if (lame0 > 0) assert.equal(seen(ADDR.lame), lame0, 'lame server avoided');
  if (silent0 > 0) assert.equal(seen(ADDR.silent), silent0, 'silent server avoided');
});

test('a forged reply (wrong ID, wrong question) is ignored and never cached', async (t) => {
  if (skipped) return t.skip('peers missing');
  const m = await ask(ADDR.ours, 'www.spoof.sov.', 'A');
  assert.equal(summary(m), '0 www.spoof.sov. 0 in a 127.25.7.7');
  const evil = await ask(ADDR.ours, 'evil.spoof.sov.', 'A');
  assert.equal(evil.rcode, Rcode.SERVFAIL);
  const ede = evil.edns?.options.map((o) => decodeOption(o)).find((o) => o.code === 15) as { infoCode?: number } | undefined;
  assert.equal(ede?.infoCode, EdeCode.NO_REACHABLE_AUTHORITY);
  for (const row of ours!.cache.dump()) {
    for (const r of row.records) assert.notEqual((r.data as { address?: string }).address, '6.6.6.6', `forged data cached at ${row.name.toString()}`);
  }
});

test('local names never leave the resolver', async (t) => {
  if (skipped) return t.skip('peers missing');
  const n0 = h!.queries().total;
  const lh = await ask(ADDR.ours, 'localhost.', 'A');
  assert.equal(summary(lh), '0 localhost. 0 in a 127.0.0.1');
  const ptr = await ask(ADDR.ours, '1.0.0.127.in-addr.arpa.', 'PTR');
  assert.equal(summary(ptr), '0 1.0.0.127.in-addr.arpa. 0 in ptr localhost.');
  const priv = await ask(ADDR.ours, '5.1.168.192.in-addr.arpa.', 'PTR');
  assert.equal(priv.rcode, Rcode.NXDOMAIN);
  const inv = await ask(ADDR.ours, 'foo.invalid.', 'A');
  assert.equal(inv.rcode, Rcode.NXDOMAIN);
  assert.equal(h!.queries().total, n0, 'no upstream traffic');
});

test('recursion is refused to clients outside the ACL', async (t) => {
  if (skipped) return t.skip('peers missing');
  addLoopbackAddress('127.25.0.99');
  const m = await ask(ADDR.ours, 'a.example.sov.', 'A', { localAddress: '127.25.0.99' });
  assert.equal(m.rcode, Rcode.REFUSED);
  const ede = m.edns?.options.map((o) => decodeOption(o)).find((o) => o.code === 15) as { infoCode?: number } | undefined;
  assert.equal(ede?.infoCode, EdeCode.PROHIBITED);
});

test('0x20: random-case queries are answered by Sovereign, BIND and NSD servers alike', async (t) => {
  if (skipped) return t.skip('peers missing');
  const r = new Resolver({ cache: new RRCache(), hints: loadRootHints(h!.hintsFile), use0x20: true });
  for (const [name, want] of [['www.example.sov.', '127.25.9.9'], ['www.example.bnd.', '127.25.8.1'], ['x.sub.deep.example.sov.', '127.25.8.5']] as const) {
    const res = await r.resolve(Name.fromText(name), RRType.A);
    assert.equal(res.rcode, Rcode.NOERROR, name);
    assert.equal((res.answer[res.answer.length - 1]!.data as { address: string }).address, want, name);
    assert.equal(res.answer[0]!.name.toString(), name, 'owner spelled as asked');
  }
});

test('RD=0 queries get cached data only and cause no upstream traffic', async (t) => {
  if (skipped) return t.skip('peers missing');
  await ask(ADDR.ours, 'a.example.sov.', 'A');
  const n0 = h!.queries().total;
  const cached = await ask(ADDR.ours, 'a.example.sov.', 'A', { rd: false });
  assert.equal(summary(cached), '0 a.example.sov. 0 in a 127.25.8.2');
  const uncached = await ask(ADDR.ours, 'never-asked.example.sov.', 'A', { rd: false });
  assert.equal(uncached.rcode, Rcode.NOERROR);
  assert.equal(uncached.answer.length, 0);
  assert.equal(h!.queries().total, n0);
});

test('names we are authoritative for are answered from the zone, not recursed', async (t) => {
  if (skipped) return t.skip('peers missing');
  const n0 = h!.queries().total;
  const m = await ask(ADDR.ours, 'www.mine.sov.', 'A');
  assert.equal(m.aa, true);
  assert.equal(summary(m), '0 www.mine.sov. 0 in a 127.25.6.6');
  assert.equal(h!.queries().total, n0);
  // Unbound, recursing from the root, finds no such delegation.
  const u = await ask(ADDR.unbound, 'www.mine.sov.', 'A');
  assert.equal(u.rcode, Rcode.NXDOMAIN);
});

test('local names: the same answers as Unbound\'s built-in local zones', async (t) => {
  if (skipped) return t.skip('peers missing');
  for (const [name, type] of [
    ['localhost.', 'A'], ['localhost.', 'AAAA'], ['www.localhost.', 'A'], ['1.0.0.127.in-addr.arpa.', 'PTR'],
    ['4.3.2.10.in-addr.arpa.', 'PTR'], ['10.in-addr.arpa.', 'SOA'], ['1.1.168.192.in-addr.arpa.', 'PTR'], ['x.onion.', 'A'],
    ['1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.', 'PTR'], ['foo.home.arpa.', 'A'],
  ] as const) {
    const a = await ask(ADDR.ours, name, type);
    const b = await ask(ADDR.unbound, name, type);
    assert.equal(summary(a), summary(b), `${name} ${type}`);
  }
});
