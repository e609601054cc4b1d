/**
 * RPZ in a running server: every trigger and action of draft-vixie-dnsop-dns-rpz as BIND applies
 * them, over real sockets. Our server forwards to an authoritative server of our own on loopback
 * (the "Internet"), and rewrites what comes back from its policy zones.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Rcode } from '../../src/wire/constants.js';
import { newEdns } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { recordToString } from '../../src/wire/record.js';
import { typeFromString } from '../../src/wire/types.js';
import { addLoopbackAddress, pickPort, tempDir } from '../helpers/peers.js';
import { udpExchange } from '../server/net-helpers.js';

const UPSTREAM = `$ORIGIN ex.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
www A 192.0.2.1
ok A 192.0.2.4
bad A 192.0.2.66
v6 AAAA 2001:db8::66
alias CNAME target
target A 192.0.2.3
walled A 192.0.2.100
*.garden A 192.0.2.200
pass A 192.0.2.5
tcp A 192.0.2.6
drop A 192.0.2.7
sub.wild A 192.0.2.8
nsd A 192.0.2.9
`;

const RPZ1 = `$TTL 60
@ SOA localhost. root.localhost. 7 3600 600 86400 60
@ NS localhost.
nx.ex CNAME .
nodata.ex CNAME *.
*.wild.ex CNAME .
pass.ex CNAME rpz-passthru.
drop.ex CNAME rpz-drop.
tcp.ex CNAME rpz-tcp-only.
local.ex A 10.0.0.1
local.ex TXT "blocked by policy"
redirect.ex CNAME walled.ex.
*.gw.ex CNAME *.garden.ex.
target.ex CNAME .
32.66.2.0.192.rpz-ip CNAME *.
128.66.zz.db8.2001.rpz-ip CNAME .
32.9.0.0.127.rpz-client-ip CNAME .
`;

// A second zone: consulted only when the first has no match.
const RPZ2 = `$TTL 60
@ SOA localhost. root.localhost. 1 3600 600 86400 60
@ NS localhost.
nx.ex A 10.9.9.9
ok.ex CNAME .
pass.ex CNAME .
`;

let dir: ReturnType<typeof tempDir>;
let upstream: DnsServer;
let ours: DnsServer;
let port = 0;
const ADDR = '127.0.0.1';

async function ask(name: string, type: string, opts: { tcp?: boolean; from?: string; do?: boolean } = {}): Promise<Message> {
  const q = Message.query(name, typeFromString(type)!, { rd: true, edns: newEdns({ udpSize: 1232, dnssecOk: opts.do === true }) });
  const r = await exchange(q, { address: ADDR, port }, {
    timeoutMs: 3000, transport: opts.tcp === true ? 'tcp' : 'udp', ignoreTruncation: true, ...(opts.from !== undefined ? { localAddress: opts.from } : {}),
  });
  return r.message;
}

/**
 * Records as text. The upstream's 300 s records come through the forwarder's cache, whose TTLs
 * count down: a few seconds lost on a loaded machine print as 300 still (policy data is 5 s).
 */
function rrs(section: Message['answer']): string[] {
  return section.map((r) => recordToString({ ...r, ttl: r.ttl >= 290 && r.ttl <= 300 ? 300 : r.ttl }).replace(/\s+/g, ' ').toLowerCase());
}

before(async () => {
  dir = tempDir('sovereign-rpz-');
  addLoopbackAddress('127.0.0.9');
  writeFileSync(`${dir.path}/ex.zone`, UPSTREAM);
  writeFileSync(`${dir.path}/rpz1.zone`, RPZ1);
  writeFileSync(`${dir.path}/rpz2.zone`, RPZ2);
  const up = pickPort();
  upstream = new DnsServer({ config: defaultConfig({ listen: [`127.0.0.1:${up}`], workers: 1, control: { enabled: false }, zones: [{ name: 'ex.', file: `${dir.path}/ex.zone` }] }), logger: silentLogger });
  await upstream.loadZones();
  await upstream.start();
  port = pickPort();
  ours = new DnsServer({
    config: defaultConfig({
      listen: [`${ADDR}:${port}`], workers: 1, control: { enabled: false }, forwarders: [`127.0.0.1:${up}`],
      rpz: { zones: [{ name: 'rpz.one.', file: `${dir.path}/rpz1.zone`, log: false }, { name: 'rpz.two.', file: `${dir.path}/rpz2.zone`, log: false }] },
    }),
    logger: silentLogger,
  });
  await ours.loadZones();
  await ours.start();
});

after(async () => {
  await ours?.stop();
  await upstream?.stop();
  dir?.cleanup();
});

test('QNAME CNAME . is NXDOMAIN with the policy zone SOA; CNAME *. is NODATA', async () => {
  const nx = await ask('nx.ex.', 'A');
  assert.equal(nx.rcode, Rcode.NXDOMAIN);
  assert.deepEqual(nx.answer, []);
  // The policy zone's SOA in the additional section (draft §6, as BIND), nothing in authority.
  assert.deepEqual(nx.authority, []);
  assert.deepEqual(rrs(nx.additional), ['rpz.one. 60 in soa localhost. root.localhost. 7 3600 600 86400 60']);
  assert.equal(nx.ra, true);
  assert.equal(nx.ad, false);
  const nd = await ask('nodata.ex.', 'A');
  assert.equal(nd.rcode, Rcode.NOERROR);
  assert.deepEqual(nd.answer, []);
  assert.equal(nd.additional[0]?.name.toString(), 'rpz.one.');
});

test('wildcard QNAME triggers match strict subdomains only', async () => {
  assert.equal((await ask('sub.wild.ex.', 'A')).rcode, Rcode.NXDOMAIN);
  assert.equal((await ask('a.b.wild.ex.', 'A')).rcode, Rcode.NXDOMAIN);
  // wild.ex itself is not matched by *.wild.ex (draft §4.1.1): upstream says NXDOMAIN... with the upstream SOA.
  const self = await ask('wild.ex.', 'A');
  assert.equal(self.authority[0]?.name.toString(), 'ex.');
});

test('PASSTHRU answers as upstream and stops later zones', async () => {
  const r = await ask('pass.ex.', 'A');
  assert.equal(r.rcode, Rcode.NOERROR);
  assert.deepEqual(rrs(r.answer), ['pass.ex. 300 in a 192.0.2.5']);
});

test('DROP sends nothing; TCP-only truncates over UDP and answers over TCP', async () => {
  const q = Message.query('drop.ex.', 1, { rd: true });
  q.id = 4242;
  assert.equal(await udpExchange(ADDR, port, q.encode(), 700), undefined);
  const udp = await ask('tcp.ex.', 'A');
  assert.equal(udp.tc, true);
  assert.deepEqual(udp.answer, []);
  const tcp = await ask('tcp.ex.', 'A', { tcp: true });
  assert.equal(tcp.tc, false);
  assert.deepEqual(rrs(tcp.answer), ['tcp.ex. 300 in a 192.0.2.6']);
});

test('local data answers its own types, NODATA for others', async () => {
  assert.deepEqual(rrs((await ask('local.ex.', 'A')).answer), ['local.ex. 5 in a 10.0.0.1']);
  assert.deepEqual(rrs((await ask('local.ex.', 'TXT')).answer), ['local.ex. 5 in txt "blocked by policy"']);
  const mx = await ask('local.ex.', 'MX');
  assert.equal(mx.rcode, Rcode.NOERROR);
  assert.deepEqual(mx.answer, []);
});

test('a CNAME to a walled garden is followed; *.garden. puts the query name in front', async () => {
  assert.deepEqual(rrs((await ask('redirect.ex.', 'A')).answer), ['redirect.ex. 5 in cname walled.ex.', 'walled.ex. 300 in a 192.0.2.100']);
  assert.deepEqual(rrs((await ask('x.gw.ex.', 'A')).answer), ['x.gw.ex. 5 in cname x.gw.ex.garden.ex.', 'x.gw.ex.garden.ex. 300 in a 192.0.2.200']);
});

test('a QNAME trigger on a CNAME target keeps the CNAMEs before it', async () => {
  const r = await ask('alias.ex.', 'A');
  assert.equal(r.rcode, Rcode.NXDOMAIN);
  assert.deepEqual(rrs(r.answer), ['alias.ex. 300 in cname target.ex.']);
});

test('rpz-ip matches A and AAAA in the answer', async () => {
  const a = await ask('bad.ex.', 'A');
  assert.equal(a.rcode, Rcode.NOERROR);
  assert.deepEqual(a.answer, []);
  assert.equal(a.additional[0]?.name.toString(), 'rpz.one.');
  assert.equal((await ask('v6.ex.', 'AAAA')).rcode, Rcode.NXDOMAIN);
  assert.deepEqual(rrs((await ask('www.ex.', 'A')).answer), ['www.ex. 300 in a 192.0.2.1']);
});

test('rpz-client-ip applies to that client only, before QNAME rules', async () => {
  const r = await ask('www.ex.', 'A', { from: '127.0.0.9' });
  assert.equal(r.rcode, Rcode.NXDOMAIN);
  assert.equal((await ask('www.ex.', 'A')).rcode, Rcode.NOERROR);
  // Again from the first client: the answer cache must not have kept the other client's answer.
  assert.equal((await ask('www.ex.', 'A', { from: '127.0.0.9' })).rcode, Rcode.NXDOMAIN);
  assert.equal((await ask('www.ex.', 'A')).answer.length, 1);
});

test('zones in order: the first zone with a match wins; the second applies where the first has none', async () => {
  assert.equal((await ask('nx.ex.', 'A')).rcode, Rcode.NXDOMAIN); // rpz.one, not rpz.two's local data
  const ok = await ask('ok.ex.', 'A');
  assert.equal(ok.rcode, Rcode.NXDOMAIN);
  assert.equal(ok.additional[0]?.name.toString(), 'rpz.two.');
});

test('DO=1 with unsigned data is rewritten (break-dnssec matters only for signed data)', async () => {
  assert.equal((await ask('nx.ex.', 'A', { do: true })).rcode, Rcode.NXDOMAIN);
});

test('hits are counted per zone, trigger and client', () => {
  const snap = ours.policyStats.snapshot();
  const one = snap.rpz.zones['rpz.one.']!;
  assert.ok(one.hits >= 10, `hits ${one.hits}`);
  assert.ok((one.byTrigger.qname ?? 0) >= 8);
  assert.ok((one.byTrigger.ip ?? 0) >= 2);
  assert.ok((one.byTrigger['client-ip'] ?? 0) >= 2);
  assert.ok((snap.rpz.clients['127.0.0.9'] ?? 0) >= 2);
  assert.ok((snap.rpz.zones['rpz.two.']?.hits ?? 0) >= 1);
});

test('policy override: a zone given policy nodata answers NODATA for every trigger; disabled ones are skipped', async () => {
  const p2 = pickPort();
  const s = new DnsServer({
    config: defaultConfig({
      listen: [`${ADDR}:${p2}`], workers: 1, control: { enabled: false }, forwarders: [`127.0.0.1:${upstream.addresses[0]!.port}`],
      rpz: { zones: [{ name: 'rpz.one.', file: `${dir.path}/rpz1.zone`, policy: 'disabled', log: false }, { name: 'rpz.two.', file: `${dir.path}/rpz2.zone`, policy: 'nodata', log: false }] },
    }),
    logger: silentLogger,
  });
  await s.loadZones();
  await s.start();
  try {
    const q = (name: string): Promise<Message> => exchange(Message.query(name, 1, { rd: true }), { address: ADDR, port: p2 }, { timeoutMs: 3000 }).then((r) => r.message);
    // rpz.one is disabled: nx.ex falls to rpz.two, whose local data becomes NODATA by the override.
    const nx = await q('nx.ex.');
    assert.equal(nx.rcode, Rcode.NOERROR);
    assert.deepEqual(nx.answer, []);
    assert.equal(nx.additional[0]?.name.toString(), 'rpz.two.');
    // Not in rpz.two: the upstream answer.
    assert.equal((await q('local.ex.')).rcode, Rcode.NXDOMAIN);
    assert.ok((s.policyStats.snapshot().rpz.zones['rpz.one.']?.disabled ?? 0) >= 1);
  } finally {
    await s.stop();
  }
});

test('DNSSEC: with DO=1 a signed answer is left alone unless breakDnssec (BIND\'s break-dnssec)', async () => {
  writeFileSync(`${dir.path}/sec.zone`, '$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 127.0.0.1\nwww A 192.0.2.70\n');
  writeFileSync(`${dir.path}/rpz-sec.zone`, '$TTL 60\n@ SOA localhost. root.localhost. 1 3600 600 86400 60\n@ NS localhost.\nwww.sec.ex CNAME .\n');
  const signedPort = pickPort();
  const signed = new DnsServer({
    config: defaultConfig({ listen: [`127.0.0.1:${signedPort}`], workers: 1, control: { enabled: false }, zones: [{ name: 'sec.ex.', file: `${dir.path}/sec.zone`, dnssec: { policy: 'default' } }] }),
    logger: silentLogger,
  });
  await signed.loadZones();
  await signed.start();
  try {
    for (const breakDnssec of [false, true]) {
      const p = pickPort();
      const s = new DnsServer({
        config: defaultConfig({
          listen: [`${ADDR}:${p}`], workers: 1, control: { enabled: false }, forwarders: [`127.0.0.1:${signedPort}`],
          rpz: { breakDnssec, zones: [{ name: 'rpz.sec.', file: `${dir.path}/rpz-sec.zone`, log: false }] },
        }),
        logger: silentLogger,
      });
      await s.loadZones();
      await s.start();
      try {
        const q = (dnssecOk: boolean): Promise<Message> => exchange(Message.query('www.sec.ex.', 1, { rd: true, edns: newEdns({ udpSize: 1232, dnssecOk }) }),
          { address: ADDR, port: p }, { timeoutMs: 3000 }).then((r) => r.message);
        assert.equal((await q(false)).rcode, Rcode.NXDOMAIN, 'DO=0: rewritten');
        const withDo = await q(true);
        if (breakDnssec) {
          assert.equal(withDo.rcode, Rcode.NXDOMAIN, 'break-dnssec: rewritten anyway');
          assert.equal(withDo.ad, false);
        } else {
          assert.equal(withDo.rcode, Rcode.NOERROR, 'DO=1, signed: left alone');
          assert.deepEqual(withDo.answer.map((r) => r.type).sort((a, b) => a - b), [1, 46]);
        }
      } finally {
        await s.stop();
      }
    }
  } finally {
    await signed.stop();
  }
});

test('reload re-reads the policy zone files; a file that fails keeps the version serving', async () => {
  assert.equal((await ask('www.ex.', 'A')).rcode, Rcode.NOERROR);
  writeFileSync(`${dir.path}/rpz2.zone`, RPZ2 + 'www.ex CNAME .\n');
  await ours.reload();
  assert.equal((await ask('www.ex.', 'A')).rcode, Rcode.NXDOMAIN, 'the new rule applies, the cached answer is gone');
  writeFileSync(`${dir.path}/rpz2.zone`, 'this is not a zone\n');
  await ours.reload();
  assert.equal((await ask('www.ex.', 'A')).rcode, Rcode.NXDOMAIN, 'the last good version keeps serving');
});
