/**
 * The forwarder against small upstreams written here on real UDP sockets (127.26.3.x), so each
 * test controls exactly what an upstream says and counts what reaches it.
 */
import assert from 'node:assert/strict';
import { type Socket, createSocket } from 'node:dgram';
import { after, describe, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { defaultConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { silentLogger } from '../../src/logging.js';
import { AddressError } from '../../src/errors.js';
import { Acl } from '../../src/resolver/acl.js';
import { Credibility } from '../../src/resolver/cache.js';
import { parseUpstream } from '../../src/resolver/forwarder.js';
import { DnsServer } from '../../src/server/server.js';
import { EdeCode, Rcode } from '../../src/wire/constants.js';
import { decodeOption, newEdns } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { parseRecord, recordToString } from '../../src/wire/record.js';
import { RRType } from '../../src/wire/types.js';

interface ToyUpstream {
  address: string;
  port: number;
  queries: Message[];
  close(): Promise<void>;
}

/** A UDP "server" answering with `answer(query)` (undefined: stay silent). */
async function toyUpstream(address: string, answer: (q: Message) => Message | undefined): Promise<ToyUpstream> {
  const sock: Socket = createSocket('udp4');
  const queries: Message[] = [];
  sock.on('message', (buf, rinfo) => {
    const q = Message.decode(buf);
    queries.push(q);
    const r = answer(q);
    if (r !== undefined) sock.send(r.encode(), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, address, resolve));
  return { address, port: sock.address().port, queries, close: () => new Promise((r) => sock.close(() => r())) };
}

function reply(q: Message, rcode: number, answer: string[], authority: string[] = [], aa = false): Message {
  const m = new Message();
  m.id = q.id;
  m.qr = true;
  m.rd = q.rd;
  m.ra = true;
  m.aa = aa;
  m.rcode = rcode;
  m.question = q.question;
  m.answer = answer.map((t) => parseRecord(t));
  m.authority = authority.map((t) => parseRecord(t));
  return m;
}

const SOA = 'example. 300 IN SOA ns.example. host.example. 1 3600 600 86400 30';

/** Answers like a resolver for example. */
function resolverLike(q: Message): Message {
  const name = q.question[0]!.name.toString().toLowerCase();
  if (name === 'www.example.') return reply(q, 0, ['www.example. 300 IN A 192.0.2.1']);
  if (name === 'alias.example.') return reply(q, 0, ['alias.example. 300 IN CNAME www.example.', 'www.example. 300 IN A 192.0.2.1']);
  if (name === 'poison.example.') {
    return reply(q, 0, ['poison.example. 300 IN A 192.0.2.66', 'victim.example. 300 IN A 6.6.6.6']);
  }
  return reply(q, Rcode.NXDOMAIN, [], [SOA]);
}

async function ask(server: DnsServer, name: string, type: number = RRType.A, localAddress?: string): Promise<Message> {
  const a = server.addresses.find((x) => x.transport === 'udp')!;
  const q = Message.query(name, type, { edns: newEdns({ udpSize: 1232 }) });
  const r = await exchange(q, { address: a.address, port: a.port }, { timeoutMs: 3000, ...(localAddress ? { localAddress } : {}) });
  return r.message;
}

async function sovereign(cfg: ConfigInput): Promise<DnsServer> {
  const s = new DnsServer({
    config: defaultConfig({ listen: ['127.26.3.10:0'], workers: 1, ...cfg, forwarding: { timeoutMs: 200, probeIntervalMs: 100, maxFailures: 1, ...cfg.forwarding } }),
    logger: silentLogger,
  });
  await s.start();
  return s;
}

const ede = (m: Message): number[] => (m.edns?.options ?? []).map(decodeOption).filter((o) => o.code === 15).map((o) => (o as { infoCode: number }).infoCode);

describe('forwarder', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups) await c();
  });

  test('answers are cached: the second question (and a CNAME chain) does not reach the upstream; poison is not cached', async () => {
    const up = await toyUpstream('127.26.3.1', resolverLike);
    const s = await sovereign({ forwarders: [`${up.address}:${up.port}`] });
    cleanups.push(() => s.stop(), () => up.close());
    const r1 = await ask(s, 'www.example');
    assert.deepEqual(r1.answer.map(recordToString), ['www.example.\t300\tIN\tA\t192.0.2.1']);
    assert.equal(r1.ra, true);
    assert.equal(up.queries.length, 1);
    assert.equal(up.queries[0]!.rd, true);
    const r2 = await ask(s, 'WWW.example');
    assert.equal(r2.answer.length, 1);
    assert.equal(up.queries.length, 1);
    await ask(s, 'alias.example');
    const r3 = await ask(s, 'alias.example');
    assert.deepEqual(r3.answer.map((r) => r.type), [RRType.CNAME, RRType.A]);
    assert.equal(up.queries.length, 2);
    const nx = await ask(s, 'nx.example');
    assert.equal(nx.rcode, Rcode.NXDOMAIN);
    assert.equal(nx.authority[0]!.type, RRType.SOA);
    await ask(s, 'nx.example', RRType.MX);
    assert.equal(up.queries.length, 3);
    const p = await ask(s, 'poison.example');
    assert.equal(p.answer.length, 1);
    assert.equal(s.cache.peek(parseRecord('victim.example. 1 IN A 1.1.1.1').name, RRType.A, 1), undefined);
    assert.ok(s.cache.stats.hits >= 3);
  });

  test('a dead upstream is skipped after failing, a probe brings it back; none answering gives SERVFAIL + EDE', async () => {
    let up1Silent = true;
    const up1 = await toyUpstream('127.26.3.2', (q) => (up1Silent ? undefined : resolverLike(q)));
    const up2 = await toyUpstream('127.26.3.3', resolverLike);
    const s = await sovereign({ forwarders: [`${up1.address}:${up1.port}`, `${up2.address}:${up2.port}`], forwarding: { probeIntervalMs: 100000 } });
    cleanups.push(() => s.stop(), () => up1.close(), () => up2.close());
    const ups = s.forwarder!.allRoutes()[0]!.upstreams.upstreams;
    ups[0]!.srttMs = 1;
    ups[1]!.srttMs = 50;
    for (let i = 0; i < 5; i++) {
      const r = await ask(s, `n${i}.example`);
      assert.equal(r.rcode, Rcode.NXDOMAIN, `question ${i}`);
    }
    const u1 = ups[0]!;
    assert.equal(u1.up, false);
    assert.ok(up1.queries.length <= 1, 'the dead upstream was asked again');
    up1Silent = false;
    await s.forwarder!.allRoutes()[0]!.upstreams.probe();
    assert.equal(u1.up, true);
    await up1.close();
    await up2.close();
    cleanups.length -= 2;
    const r = await ask(s, 'gone.example');
    assert.equal(r.rcode, Rcode.SERVFAIL);
    assert.equal(r.ra, true);
    const codes = ede(r);
    assert.ok(codes.includes(EdeCode.NO_REACHABLE_AUTHORITY) || codes.includes(EdeCode.NETWORK_ERROR), String(codes));
    assert.equal(s.forwarder!.failures, 1);
  });

  test('an upstream answering SERVFAIL is passed over for the next one', async () => {
    const bad = await toyUpstream('127.26.3.4', (q) => reply(q, Rcode.SERVFAIL, []));
    const good = await toyUpstream('127.26.3.5', resolverLike);
    // Order is by SRTT (random at first): make sure the bad one is tried first.
    const s = await sovereign({ forwarders: [`${bad.address}:${bad.port}`, `${good.address}:${good.port}`] });
    cleanups.push(() => s.stop(), () => bad.close(), () => good.close());
    const ups = s.forwarder!.allRoutes()[0]!.upstreams.upstreams;
    ups[0]!.srttMs = 1;
    ups[1]!.srttMs = 50;
    const r = await ask(s, 'www.example');
    assert.equal(r.rcode, Rcode.NOERROR);
    assert.equal(bad.queries.length, 1);
    assert.equal(ups[0]!.errorReplies, 1);
  });

  test('forwardZones by longest match, stubZones iterated with RD=0, the rest to the default forwarder', async () => {
    const dflt = await toyUpstream('127.26.3.6', resolverLike);
    const corp = await toyUpstream('127.26.3.7', (q) => reply(q, 0, [`${q.question[0]!.name.toString()} 60 IN A 10.0.0.1`]));
    const deep = await toyUpstream('127.26.3.8', (q) => reply(q, 0, [`${q.question[0]!.name.toString()} 60 IN A 10.0.0.2`]));
    const stub = await toyUpstream('127.26.3.9', (q) => reply(q, 0, [`${q.question[0]!.name.toString()} 60 IN A 10.0.0.3`], [], true));
    const s = await sovereign({
      forwarders: [`${dflt.address}:${dflt.port}`],
      forwardZones: { 'corp.example': [`${corp.address}:${corp.port}`], 'lab.corp.example.': [`${deep.address}#${deep.port}`] },
      stubZones: { 'stub.example': [`${stub.address}:${stub.port}`], 'in.corp.example': [`${stub.address}:${stub.port}`] },
    });
    cleanups.push(() => s.stop(), () => dflt.close(), () => corp.close(), () => deep.close(), () => stub.close());
    assert.equal(((await ask(s, 'host.corp.example')).answer[0]!.data as { address: string }).address, '10.0.0.1');
    assert.equal(((await ask(s, 'x.lab.corp.example')).answer[0]!.data as { address: string }).address, '10.0.0.2');
    assert.equal(((await ask(s, 'a.stub.example')).answer[0]!.data as { address: string }).address, '10.0.0.3');
    assert.equal(stub.queries[0]!.rd, false);
    assert.equal(corp.queries[0]!.rd, true);
    // A stub zone inside a forwarded domain: the deeper stub wins, iterated (RD=0), not forwarded.
    assert.equal(((await ask(s, 'h.in.corp.example')).answer[0]!.data as { address: string }).address, '10.0.0.3');
    assert.equal(corp.queries.length, 1);
    assert.equal(stub.queries[1]!.rd, false);
    assert.equal(((await ask(s, 'www.example')).answer[0]!.data as { address: string }).address, '192.0.2.1');
    assert.equal(dflt.queries.length, 1);
  });

  test('clients outside the recursion ACL get REFUSED with EDE 18 (Prohibited)', async () => {
    const up = await toyUpstream('127.26.3.11', resolverLike);
    const s = await sovereign({ forwarders: [`${up.address}:${up.port}`], allowRecursion: ['!127.26.3.99', '127.0.0.0/8'] });
    cleanups.push(() => s.stop(), () => up.close());
    const r = await ask(s, 'www.example', RRType.A, '127.26.3.99');
    assert.equal(r.rcode, Rcode.REFUSED);
    assert.deepEqual(ede(r), [EdeCode.PROHIBITED]);
    assert.equal(up.queries.length, 0);
    assert.equal((await ask(s, 'www.example', RRType.A, '127.26.3.98')).rcode, Rcode.NOERROR);
  });

  test('RFC 2181 §8: an upstream TTL with the top bit set reaches the client as 0 on the first answer too', async () => {
    const up = await toyUpstream('127.26.3.18', (q) => reply(q, 0, [`${q.question[0]!.name.toString()} 2147483648 IN A 192.0.2.9`]));
    const s = await sovereign({ forwarders: [`${up.address}:${up.port}`] });
    cleanups.push(() => s.stop(), () => up.close());
    const r1 = await ask(s, 'huge.example');
    assert.deepEqual(r1.answer.map((r) => r.ttl), [0]);
    const r2 = await ask(s, 'huge.example');
    assert.deepEqual(r2.answer.map((r) => r.ttl), [0]);
    assert.equal(up.queries.length, 2, 'a TTL-0 answer was served from the cache');
  });

  test('identical questions in flight share one upstream exchange', async () => {
    const up = await toyUpstream('127.26.3.12', (q) => {
      setTimeout(() => void 0, 0);
      return resolverLike(q);
    });
    const s = await sovereign({ forwarders: [`${up.address}:${up.port}`] });
    cleanups.push(() => s.stop(), () => up.close());
    const rs = await Promise.all([0, 1, 2, 3, 4].map(() => ask(s, 'www.example')));
    for (const r of rs) assert.equal(r.answer.length, 1);
    assert.ok(up.queries.length <= 2, `${up.queries.length} upstream queries`);
  });
});

test('special-use names are answered locally, not forwarded, unless a deeper route is configured', async () => {
  const up = await toyUpstream('127.26.3.16', resolverLike);
  const rev = await toyUpstream('127.26.3.17', (q) => reply(q, 0, [`${q.question[0]!.name.toString()} 60 IN PTR router.lan.`]));
  const s = await sovereign({ forwarders: [`${up.address}:${up.port}`], forwardZones: { '168.192.in-addr.arpa': [`${rev.address}:${rev.port}`] } });
  try {
    const lh = await ask(s, 'localhost');
    assert.equal((lh.answer[0]!.data as { address: string }).address, '127.0.0.1');
    assert.equal((await ask(s, 'foo.invalid')).rcode, Rcode.NXDOMAIN);
    assert.equal((await ask(s, '1.0.0.10.in-addr.arpa', RRType.PTR)).rcode, Rcode.NXDOMAIN);
    assert.equal(up.queries.length, 0);
    const ptr = await ask(s, '1.1.168.192.in-addr.arpa', RRType.PTR);
    assert.equal(ptr.answer[0]!.type, RRType.PTR);
    assert.equal(rev.queries.length, 1);
  } finally {
    await s.stop();
    await up.close();
    await rev.close();
  }
});

test('serve-stale (RFC 8767): with no upstream answering, expired data is served with EDE 3', async () => {
  const up = await toyUpstream('127.26.3.13', () => undefined);
  const s = await sovereign({ forwarders: [`${up.address}:${up.port}`], cache: { staleTtl: 60 }, resolver: { serveStale: true } });
  try {
    s.cache.put([parseRecord('old.example. 0 IN A 192.0.2.77')], Credibility.NONAUTH_ANSWER);
    const r = await ask(s, 'old.example');
    assert.equal(r.rcode, Rcode.NOERROR);
    assert.equal((r.answer[0]!.data as { address: string }).address, '192.0.2.77');
    assert.equal(r.answer[0]!.ttl, 30);
    assert.deepEqual(ede(r), [EdeCode.STALE_ANSWER]);
    assert.equal((await ask(s, 'never.example')).rcode, Rcode.SERVFAIL);
  } finally {
    await s.stop();
    await up.close();
  }
});

test('a reload keeps upstream health and counters', async () => {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tempDir } = await import('../helpers/peers.js');
  const { loadConfigFile } = await import('../../src/config/load.js');
  const dir = tempDir();
  const path = join(dir.path, 'sovereign.yaml');
  writeFileSync(path, 'listen: ["127.26.3.10:0"]\nworkers: 1\nforwarders: ["127.26.3.14:5300", "127.26.3.15:5300"]\n');
  const s = new DnsServer({ config: loadConfigFile(path), configPath: path, logger: silentLogger });
  try {
    const before = s.forwarder!;
    const u = before.allRoutes()[0]!.upstreams.upstreams[0]!;
    u.up = false;
    u.queries = 7;
    await s.reload();
    assert.notEqual(s.forwarder, before);
    const after = s.forwarder!.allRoutes()[0]!.upstreams.upstreams[0]!;
    assert.equal(after.up, false);
    assert.equal(after.queries, 7);
    assert.equal(after.label, '127.26.3.14#5300');
  } finally {
    await s.stop();
    dir.cleanup();
  }
});

test('ACL: prefixes, negation, IPv4 and IPv6, any/none', () => {
  const acl = new Acl(['!192.168.1.66', '192.168.0.0/16', '2001:db8::/32', '::1']);
  assert.ok(acl.allows('192.168.1.1'));
  assert.ok(!acl.allows('192.168.1.66'));
  assert.ok(!acl.allows('10.0.0.1'));
  assert.ok(acl.allows('2001:db8:1::5'));
  assert.ok(acl.allows('::1'));
  assert.ok(!acl.allows('2001:db9::1'));
  assert.ok(acl.allows('::ffff:192.168.3.3'));
  assert.ok(new Acl(['any']).allows('203.0.113.1'));
  assert.ok(!new Acl(['none', 'any']).allows('203.0.113.1'));
  assert.throws(() => new Acl(['192.168.0.0/33']), /prefix/);
  assert.throws(() => new Acl(['host.example']), (e: unknown) => e instanceof AddressError && /not an address/.test(e.message));
  assert.throws(() => parseUpstream('192.0.2.1:0'), AddressError);
});

test('upstream addresses: address, address:port, [v6]:port, address#port', () => {
  assert.deepEqual(parseUpstream('192.0.2.1'), { address: '192.0.2.1', port: 53 });
  assert.deepEqual(parseUpstream('192.0.2.1:5353'), { address: '192.0.2.1', port: 5353 });
  assert.deepEqual(parseUpstream('192.0.2.1#5353'), { address: '192.0.2.1', port: 5353 });
  assert.deepEqual(parseUpstream('[2001:db8::1]:853'), { address: '2001:db8::1', port: 853 });
  assert.deepEqual(parseUpstream('2001:db8::1'), { address: '2001:db8::1', port: 53 });
  assert.deepEqual(parseUpstream('tls://192.0.2.1#dns.example'), { address: '192.0.2.1', port: 853, tls: { servername: 'dns.example' } });
  assert.deepEqual(parseUpstream('tls://[2001:db8::1]:8853'), { address: '2001:db8::1', port: 8853, tls: { servername: undefined } });
  assert.throws(() => parseUpstream('tls://192.0.2.1#'), /empty name/);
  assert.deepEqual(parseUpstream('https://192.0.2.1/dns-query#dns.example'),
    { address: '192.0.2.1', port: 443, https: { path: '/dns-query', servername: 'dns.example' } });
  assert.deepEqual(parseUpstream('https://[2001:db8::1]:8443'), { address: '2001:db8::1', port: 8443, https: { path: '/dns-query', servername: undefined } });
  assert.throws(() => parseUpstream('https://dns.example/dns-query'), /IP address/);
  assert.throws(() => parseUpstream('dns.example:53'), /not an IP address/);
  assert.throws(() => parseUpstream('192.0.2.1:0'), /bad port/);
});

test('`serve --forward` sets forwarders; no file and no zones means the embedded default (never started here)', async () => {
  const { parseServeArgs } = await import('../../src/cli/serve.js');
  const a = parseServeArgs(['--forward', '127.26.3.1', '--forward', '127.26.3.2:5353', '--zone', 'example=/dev/null']);
  assert.deepEqual(a.config.forwarders, ['127.26.3.1', '127.26.3.2:5353']);
  assert.equal(a.config.resolver.enabled, false);
  const d = parseServeArgs([]);
  assert.equal(d.config.resolver.enabled, true);
  assert.equal(d.config.hosts.enabled, true);
  assert.deepEqual(d.config.listen, ['127.0.0.1:5300', '[::1]:5300']);
  assert.equal(d.config.control.listen, '127.0.0.1:8053');
});
