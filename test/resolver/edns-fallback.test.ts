// EDNS buffer-size fallback (RFC 6891 §6.2.5) of the recursive resolver and the forwarder, over a
// path that drops big UDP datagrams: a relay on 127.73.0.3 (UDP and TCP) in front of BIND
// (127.73.0.2, authoritative for mtu.) passes UDP replies up to 1000 octets and silently drops
// bigger ones, as a link with MTU 1000 whose fragments are filtered does. The root (Sovereign,
// 127.73.0.1) delegates mtu. to the relay. Names with ~1070-octet answers must still resolve:
// after the timeout at 1232 (and 4096) the server is offered 512, BIND answers TC=1, TCP carries
// the answer, and the smaller size is remembered for the next question (no second loss).
import assert from 'node:assert/strict';
import { type Socket as UdpSocket, createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { type Server as TcpServer, type Socket, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { examinePathMtu } from '../../src/doctor/path-mtu.js';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { RRCache } from '../../src/resolver/cache.js';
import { nextUdpSize, ServerSelector } from '../../src/resolver/infra.js';
import { Resolver } from '../../src/resolver/iterator.js';
import { parseRootHints } from '../../src/resolver/root-hints.js';
import { DnsServer } from '../../src/server/server.js';
import { Rcode } from '../../src/wire/constants.js';
import { newEdns } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { recordToString } from '../../src/wire/record.js';
import { RRClass, RRType } from '../../src/wire/types.js';
import { type RunningPeer, addLoopbackAddress, havePeers, startNamed, tempDir } from '../helpers/peers.js';

const ROOT = '127.73.0.1';
const BIND = '127.73.0.2';
const RELAY = '127.73.0.3';
const FWD = '127.73.0.4';
const MTU = 1000;

/** Five 200-character strings: a TXT answer of ~1070 octets, above MTU and below 1232. */
const txt = (c: string): string => Array.from({ length: 5 }, () => `"${c.repeat(200)}"`).join(' ');

interface Seen {
  /** EDNS UDP size the query offered (0: no EDNS). */
  offered: number;
  qname: string;
  replySize: number;
  dropped: boolean;
}

/** The broken path: UDP replies above `max` octets are lost; TCP passes. Records every UDP query. */
async function lossyRelay(address: string, upstream: string, max: number): Promise<{ seen: Seen[]; tcpConnections: () => number; close(): Promise<void> }> {
  const seen: Seen[] = [];
  let tcpCount = 0;
  const sockets = new Set<Socket>();
  const tcp: TcpServer = createServer((client) => {
    tcpCount++;
    const up = connect(53, upstream);
    sockets.add(client).add(up);
    client.pipe(up).pipe(client);
    const end = (): void => { client.destroy(); up.destroy(); sockets.delete(client); sockets.delete(up); };
    client.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((res, rej) => { tcp.once('error', rej); tcp.listen(53, address, () => res()); });
  const udp: UdpSocket = createSocket('udp4');
  const ups = new Set<UdpSocket>();
  udp.on('message', (msg, rinfo) => {
    const q = Message.decode(msg);
    const up = createSocket('udp4');
    ups.add(up);
    const done = (): void => { if (ups.delete(up)) up.close(); };
    up.on('message', (reply) => {
      const dropped = reply.length > max;
      seen.push({ offered: q.edns?.udpSize ?? 0, qname: q.question[0]!.name.toString().toLowerCase(), replySize: reply.length, dropped });
      if (!dropped) udp.send(reply, rinfo.port, rinfo.address);
      done();
    });
    up.on('error', done);
    up.send(msg, 53, upstream);
  });
  await new Promise<void>((res, rej) => { udp.once('error', rej); udp.bind(53, address, () => res()); });
  return {
    seen, tcpConnections: () => tcpCount,
    async close() {
      for (const s of sockets) s.destroy();
      for (const u of ups) u.close();
      await new Promise<void>((r) => udp.close(() => r()));
      await new Promise((r) => tcp.close(r));
    },
  };
}

test('nextUdpSize: 4096 -> 1232 -> 512 -> nothing smaller', () => {
  assert.equal(nextUdpSize(4096), 1232);
  assert.equal(nextUdpSize(1400), 1232);
  assert.equal(nextUdpSize(1232), 512);
  assert.equal(nextUdpSize(600), 512);
  assert.equal(nextUdpSize(512), undefined);
});

test('the infra cache remembers the smaller size for a while, then offers the configured one again', () => {
  let now = 1_000;
  const s = new ServerSelector({ clock: () => now, lameMs: 60_000 });
  assert.equal(s.udpSizeFor('192.0.2.1', 1232), 1232);
  assert.equal(s.recordUdpTimeout('192.0.2.1', 1232), 512);
  assert.equal(s.udpSizeFor('192.0.2.1', 1232), 512);
  assert.equal(s.udpSizeFor('192.0.2.2', 1232), 1232, 'other servers keep theirs');
  assert.equal(s.recordUdpTimeout('192.0.2.1', 512), undefined, '512 is the floor');
  now += 60_001;
  assert.equal(s.udpSizeFor('192.0.2.1', 1232), 1232);
});

describe('a path that drops UDP datagrams above 1000 octets', { concurrency: false }, () => {
  const dir = tempDir('sov-edns-fallback-');
  let bind: RunningPeer | undefined;
  let root: DnsServer | undefined;
  let relay: Awaited<ReturnType<typeof lossyRelay>> | undefined;
  let skip: string | undefined;
  const hints = parseRootHints(`. 3600000 NS a.root.\na.root. 3600000 A ${ROOT}\n`);

  before(async () => {
    for (const a of [ROOT, BIND, RELAY, FWD]) addLoopbackAddress(a);
    const zone = join(dir.path, 'mtu.zone');
    writeFileSync(zone, `$ORIGIN mtu.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
ns A ${RELAY}
www A 192.0.2.1
big TXT ${txt('a')}
big2 TXT ${txt('b')}
big3 TXT ${txt('c')}
big4 TXT ${txt('d')}
`);
    const rootZone = join(dir.path, 'root.zone');
    writeFileSync(rootZone, `. 86400 SOA a.root. hostmaster.root. 1 3600 600 86400 300
. 86400 NS a.root.
a.root. 86400 A ${ROOT}
mtu. 86400 NS ns.mtu.
ns.mtu. 86400 A ${RELAY}
`);
    root = new DnsServer({ config: defaultConfig({ listen: [`${ROOT}:53`], zones: [{ name: '.', file: rootZone }], workers: 1 }), logger: silentLogger });
    await root.loadZones();
    await root.start();
    try {
      bind = await startNamed(dir.path, BIND, 53, [{ name: 'mtu', file: zone }]);
    } catch (e) {
      skip = (e as Error).message;
      if (process.env.CI === 'true') throw e;
      return;
    }
    relay = await lossyRelay(RELAY, BIND, MTU);
  });

  after(async () => {
    await relay?.close();
    await root?.stop();
    await bind?.stop();
    dir.cleanup();
  });

  const resolver = (ednsUdpSize?: number): Resolver => new Resolver({
    cache: new RRCache({}), hints, failureTtlMs: 0, resolutionTimeoutMs: 15_000, ...(ednsUdpSize === undefined ? {} : { ednsUdpSize }),
  });
  const txtOf = (records: readonly { type: number }[]): string[] =>
    records.filter((r) => r.type === RRType.TXT).map((r) => recordToString(r as never).split('\t').slice(4).join(' '));

  test('resolver: the answer lost at 1232 comes at 512 (TC=1, then TCP), and 512 is remembered', async (t) => {
    if (skip !== undefined || !havePeers(t, 'named')) return t.skip(skip);
    const r = resolver();
    relay!.seen.length = 0;
    const small = await r.resolve(Name.fromText('www.mtu.'), RRType.A, RRClass.IN);
    assert.deepEqual(small.answer.map((x) => recordToString(x)), ['www.mtu.\t300\tIN\tA\t192.0.2.1']);
    assert.ok(relay!.seen.every((s) => !s.dropped && s.offered === 1232), JSON.stringify(relay!.seen));
    relay!.seen.length = 0;
    const tcpBefore = relay!.tcpConnections();
    const big = await r.resolve(Name.fromText('big.mtu.'), RRType.TXT, RRClass.IN);
    assert.equal(big.rcode, Rcode.NOERROR);
    assert.deepEqual(txtOf(big.answer), [txt('a')]);
    // What crossed the path for big.mtu. TXT: lost at 1232, TC at 512 (then TCP).
    const forBig = relay!.seen.filter((s) => s.qname === 'big.mtu.');
    assert.deepEqual(forBig.map((s) => `${s.offered} ${s.dropped ? 'lost' : s.replySize <= 512 ? 'small' : 'big'}`), ['1232 lost', '512 small'], JSON.stringify(relay!.seen));
    assert.ok(forBig[0]!.replySize > MTU && forBig[0]!.replySize <= 1232, `the answer (${forBig[0]!.replySize} octets) fits 1232 but not the path`);
    assert.equal(relay!.tcpConnections(), tcpBefore + 1, 'the answer came over TCP');
    assert.equal(r.stats.ednsSizeFallbacks, 1);
    assert.equal(r.stats.tcpRetries, 1);
    assert.equal(r.selector.udpSizeFor(RELAY, 1232), 512, 'remembered in the infra cache');

    // The next big answer from the same server: no loss, straight to TC and TCP.
    relay!.seen.length = 0;
    const big2 = await r.resolve(Name.fromText('big2.mtu.'), RRType.TXT, RRClass.IN);
    assert.deepEqual(txtOf(big2.answer), [txt('b')]);
    assert.deepEqual(relay!.seen.map((s) => `${s.qname} ${s.offered} ${s.dropped ? 'lost' : 'passed'}`), ['big2.mtu. 512 passed']);
    assert.equal(r.stats.ednsSizeFallbacks, 1);
  });

  test('resolver offering 4096: lost at 4096 and at 1232, answered at 512', async (t) => {
    if (skip !== undefined || !havePeers(t, 'named')) return t.skip(skip);
    const r = resolver(4096);
    relay!.seen.length = 0;
    const big = await r.resolve(Name.fromText('big3.mtu.'), RRType.TXT, RRClass.IN);
    assert.deepEqual(txtOf(big.answer), [txt('c')]);
    assert.deepEqual(relay!.seen.filter((s) => s.qname === 'big3.mtu.').map((s) => `${s.offered} ${s.dropped ? 'lost' : 'passed'}`),
      ['4096 lost', '1232 lost', '512 passed'], JSON.stringify(relay!.seen));
    assert.equal(r.stats.ednsSizeFallbacks, 2);
  });

  test('forwarder (a Sovereign server forwarding to the relay): the big answer arrives, the smaller size is kept', async (t) => {
    if (skip !== undefined || !havePeers(t, 'named')) return t.skip(skip);
    const fwd = new DnsServer({
      config: defaultConfig({ listen: [`${FWD}:53`], forwarders: [RELAY], forwarding: { timeoutMs: 400, maxAttempts: 3 }, workers: 1 }),
      logger: silentLogger,
    });
    await fwd.start();
    try {
      relay!.seen.length = 0;
      const ask = async (name: string): Promise<Message> =>
        (await exchange(Message.query(Name.fromText(name), RRType.TXT, { edns: newEdns({ udpSize: 4096 }) }), { address: FWD, port: 53 }, { timeoutMs: 5000 })).message;
      const m = await ask('big4.mtu.');
      assert.equal(m.rcode, Rcode.NOERROR);
      assert.deepEqual(txtOf(m.answer), [txt('d')]);
      assert.deepEqual(relay!.seen.map((s) => `${s.qname} ${s.offered} ${s.dropped ? 'lost' : 'passed'}`), ['big4.mtu. 1232 lost', 'big4.mtu. 512 passed']);
      relay!.seen.length = 0;
      const again = await ask('big.mtu.');
      assert.deepEqual(txtOf(again.answer), [txt('a')]);
      assert.deepEqual(relay!.seen.map((s) => `${s.qname} ${s.offered} ${s.dropped ? 'lost' : 'passed'}`), ['big.mtu. 512 passed'], 'remembered: no second loss');
      assert.deepEqual(fwd.forwarder!.snapshot()[0]!.upstreams.map((u) => [u.upstream, u.ednsSizeFallbacks, u.timeouts]), [[`${RELAY}#53`, 1, 1]]);
    } finally {
      await fwd.stop();
    }
  });

  test('doctor (this host\'s path): "path MTU / fragments dropped" for the big answer, ok for a small one', async (t) => {
    if (skip !== undefined || !havePeers(t, 'named')) return t.skip(skip);
    const big = await examinePathMtu({ large: { name: Name.fromText('big.mtu.'), type: RRType.TXT }, hints, timeoutMs: 1000 });
    assert.deepEqual(big.map((f) => [f.check, f.verdict, f.subject]), [['path-mtu', 'fail', `path to ${RELAY}:53`]]);
    assert.match(big[0]!.seen, /^path MTU \/ fragments dropped: big\.mtu\. TXT with DO=1 from 127\.73\.0\.3:53 is lost over UDP \(no reply within 1000 ms\) while TCP carries it \(\d+ octets\)/);
    assert.match(big[0]!.fix, /^fix the MTU of the uplink/);
    const small = await examinePathMtu({ large: { name: Name.fromText('www.mtu.'), type: RRType.A }, hints, timeoutMs: 1000 });
    assert.deepEqual(small.map((f) => [f.check, f.verdict]), [['path-mtu', 'ok']]);
  });
});
