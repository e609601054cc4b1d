// Dynamic update in a running server (real sockets on 127.x): the answer cache never serves a
// pre-update answer after NOERROR (query, update, query again); IXFR from the journal carries the
// update; the serial methods; a restart replays the journal onto the zone file; a zone file
// edited by hand while updates are pending is refused (and not overwritten by sync); a torn
// journal tail is cut with a log line; the update policy's rule types.
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { defaultConfig } from '../../src/config/load.js';
import type { Logger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { UpdatePolicy } from '../../src/update/policy.js';
import { nextSerial } from '../../src/update/process.js';
import { Opcode, Rcode } from '../../src/wire/constants.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { type ResourceRecord, parseRecord } from '../../src/wire/record.js';
import { RRType } from '../../src/wire/types.js';
import { pickPort, tempDir } from '../helpers/peers.js';

const ADDR = '127.0.0.1';
const ZONE = `$ORIGIN dyn.example.
$TTL 300
@ SOA ns hostmaster 10 3600 900 604800 300
@ NS ns
ns A 192.0.2.1
www A 192.0.2.10
`;

function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const keep = (_o: unknown, m?: unknown): void => { lines.push(String(m)); };
  return { logger: { trace: () => {}, debug: () => {}, info: keep, warn: keep, error: keep }, lines };
}

function update(records: ResourceRecord[]): Message {
  const m = new Message();
  m.opcode = Opcode.UPDATE;
  m.rd = false;
  m.question.push({ name: Name.fromText('dyn.example.'), type: RRType.SOA, class: 1 });
  m.authority.push(...records);
  return m;
}

async function start(dir: string, port: number, logger: Logger, extra: Record<string, unknown> = {}): Promise<DnsServer> {
  const s = new DnsServer({
    config: defaultConfig({
      listen: [`${ADDR}:${port}`], workers: 1,
      zones: [{ name: 'dyn.example', file: join(dir, 'dyn.zone'), allowUpdate: ['127.0.0.0/8'], ...extra }],
    }),
    logger,
  });
  await s.loadZones();
  await s.start();
  return s;
}

async function ask(port: number, name: string, type: number): Promise<Message> {
  return (await exchange(Message.query(name, type, { rd: false }), { address: ADDR, port }, { timeoutMs: 3000 })).message;
}

async function send(port: number, m: Message): Promise<number> {
  return (await exchange(m, { address: ADDR, port }, { timeoutMs: 3000, transport: 'tcp' })).message.rcode;
}

test('query, update, query again: the answer cache never serves the old answer after NOERROR', async () => {
  const dir = tempDir();
  const port = pickPort();
  writeFileSync(join(dir.path, 'dyn.zone'), ZONE);
  const s = await start(dir.path, port, capture().logger);
  try {
    // Asked twice so the second comes from the UDP answer cache.
    for (let i = 0; i < 2; i++) assert.equal((await ask(port, 'www.dyn.example.', RRType.A)).answer.length, 1);
    assert.equal((await ask(port, 'new.dyn.example.', RRType.A)).rcode, Rcode.NXDOMAIN);
    assert.equal((await ask(port, 'new.dyn.example.', RRType.A)).rcode, Rcode.NXDOMAIN);
    const rcode = await send(port, update([
      parseRecord('www.dyn.example. 300 IN A 192.0.2.11'),
      parseRecord('new.dyn.example. 60 IN A 192.0.2.20'),
    ]));
    assert.equal(rcode, Rcode.NOERROR);
    const www = await ask(port, 'www.dyn.example.', RRType.A);
    assert.deepEqual(www.answer.map((r) => (r.data as { address: string }).address).sort(), ['192.0.2.10', '192.0.2.11']);
    const fresh = await ask(port, 'new.dyn.example.', RRType.A);
    assert.equal(fresh.rcode, Rcode.NOERROR);
    assert.equal((fresh.answer[0]!.data as { address: string }).address, '192.0.2.20');
    const soa = await ask(port, 'dyn.example.', RRType.SOA);
    assert.equal((soa.answer[0]!.data as { serial: number }).serial, 11);
    // IXFR from 10: the update's difference, from the journal's history.
    const ixfr = Message.query('dyn.example.', RRType.IXFR, { rd: false });
    ixfr.authority.push(parseRecord('dyn.example. 300 IN SOA ns.dyn.example. hostmaster.dyn.example. 10 3600 900 604800 300'));
    const r = (await exchange(ixfr, { address: ADDR, port }, { transport: 'tcp', timeoutMs: 3000 })).message;
    const serials = r.answer.filter((x) => x.type === RRType.SOA).map((x) => (x.data as { serial: number }).serial);
    assert.deepEqual(serials, [11, 10, 11, 11]);
    assert.deepEqual(r.answer.filter((x) => x.type === RRType.A).map((x) => `${x.name.toString()} ${(x.data as { address: string }).address}`).sort(),
      ['new.dyn.example. 192.0.2.20', 'www.dyn.example. 192.0.2.11']);
  } finally {
    await s.stop();
    dir.cleanup();
  }
});

test('restart replays the journal; a hand-edited zone file is refused while updates are pending, and sync does not overwrite it', async () => {
  const dir = tempDir();
  const port = pickPort();
  const file = join(dir.path, 'dyn.zone');
  writeFileSync(file, ZONE);
  const log = capture();
  let s = await start(dir.path, port, log.logger);
  assert.equal(await send(port, update([parseRecord('a.dyn.example. 300 IN A 192.0.2.30')])), Rcode.NOERROR);
  // A crash (no stop, so no sync): the file still says serial 10.
  await Promise.all([...(s as unknown as { udp: { close(): Promise<void> }[] }).udp.map((u) => u.close()),
    ...(s as unknown as { tcp: { close(): Promise<void> }[] }).tcp.map((t) => t.close())]);
  s.dynamic.stopTimer();
  assert.match(readFileSync(file, 'utf8'), / 10 3600/);
  s = await start(dir.path, port, log.logger);
  try {
    assert.equal((await ask(port, 'a.dyn.example.', RRType.A)).answer.length, 1, 'journal replayed');
    assert.ok(log.lines.includes('journal replayed onto the zone file'));
    // Edited by hand while the update is only in the journal.
    writeFileSync(file, ZONE.replace('www A 192.0.2.10', 'www A 192.0.2.99'));
    const reports = await s.reload();
    assert.equal(reports[0]!.ok, false);
    assert.match(reports[0]!.problems.join('\n'), /changed on disk while 1 acknowledged update\(s\) exist only in the journal/);
    assert.equal((await ask(port, 'a.dyn.example.', RRType.A)).answer.length, 1, 'the running version keeps serving');
    const sync = s.dynamic.syncAll();
    assert.equal(sync[0]!.ok, false);
    assert.match(readFileSync(file, 'utf8'), /192\.0\.2\.99/, 'the edited file is not overwritten');
    // Put back what we wrote: sync writes it, journal compacted; then a hand edit with nothing pending is taken.
    writeFileSync(file, ZONE);
    const ok = s.dynamic.syncAll();
    assert.equal(ok[0]!.ok, true);
    assert.match(readFileSync(file, 'utf8'), /a\.dyn\.example\.\s+300 IN A\s+192\.0\.2\.30/);
    writeFileSync(file, readFileSync(file, 'utf8').replace(' 11 3600', ' 12 3600').replace('192.0.2.30', '192.0.2.31'));
    const again = await s.reload();
    assert.equal(again[0]!.ok, true);
    assert.equal(((await ask(port, 'a.dyn.example.', RRType.A)).answer[0]!.data as { address: string }).address, '192.0.2.31');
  } finally {
    await s.stop();
    dir.cleanup();
  }
});

test('a torn journal tail is cut with a log line; the updates before it are replayed', async () => {
  const dir = tempDir();
  const port = pickPort();
  const file = join(dir.path, 'dyn.zone');
  writeFileSync(file, ZONE);
  const log = capture();
  let s = await start(dir.path, port, log.logger);
  assert.equal(await send(port, update([parseRecord('t.dyn.example. 300 IN A 192.0.2.40')])), Rcode.NOERROR);
  await Promise.all([...(s as unknown as { udp: { close(): Promise<void> }[] }).udp.map((u) => u.close()),
    ...(s as unknown as { tcp: { close(): Promise<void> }[] }).tcp.map((t) => t.close())]);
  s.dynamic.stopTimer();
  appendFileSync(`${file}.sovjnl`, Buffer.from([0, 0, 1, 0, 0xde, 0xad]));
  s = await start(dir.path, port, log.logger);
  try {
    assert.ok(log.lines.some((l) => /journal: torn record .* cutting 6 octets/.test(l)), log.lines.join('\n'));
    assert.equal((await ask(port, 't.dyn.example.', RRType.A)).answer.length, 1);
  } finally {
    await s.stop();
    dir.cleanup();
  }
});

test('serial update methods: increment, unixtime, date (BIND serial-update-method)', () => {
  assert.equal(nextSerial(10, 'increment', 0), 11);
  assert.equal(nextSerial(0xffffffff, 'increment', 0), 1);
  assert.equal(nextSerial(10, 'unixtime', 1_700_000_000), 1_700_000_000);
  assert.equal(nextSerial(1_800_000_000, 'unixtime', 1_700_000_000), 1_800_000_001);
  assert.equal(nextSerial(10, 'date', Date.UTC(2026, 11, 3) / 1000), 2026120300);
  assert.equal(nextSerial(2026120305, 'date', Date.UTC(2026, 11, 3) / 1000), 2026120306);
});

test('update policy: rule types, identities, default and ANY types (BIND update-policy)', () => {
  const origin = Name.fromText('p.example.');
  const p = UpdatePolicy.parse([
    'grant acme wildcard _acme-challenge.*.p.example. TXT',
    'grant acme name _acme-challenge TXT',
    'deny upd name locked A',
    'grant upd zonesub',
    'grant *.hosts.p.example. self . A AAAA',
    'grant dhcp subdomain dhcp ANY',
  ], origin);
  const n = (t: string): Name => Name.fromText(t);
  assert.equal(p.allows('acme', n('_acme-challenge.www.p.example.'), RRType.TXT), true);
  assert.equal(p.allows('acme', n('_acme-challenge.a.b.p.example.'), RRType.TXT), true);
  assert.equal(p.allows('acme', n('_acme-challenge.p.example.'), RRType.TXT), true);
  assert.equal(p.allows('acme', n('_acme-challenge.www.p.example.'), RRType.A), false);
  assert.equal(p.allows('acme', n('www.p.example.'), RRType.TXT), false);
  assert.equal(p.allows(undefined, n('_acme-challenge.www.p.example.'), RRType.TXT), false);
  assert.equal(p.allows('upd', n('x.p.example.'), RRType.MX), true);
  assert.equal(p.allows('upd', n('p.example.'), RRType.NS), false, 'no types: not NS/SOA/DNSSEC');
  assert.equal(p.allows('upd', n('locked.p.example.'), RRType.A), false, 'deny first');
  assert.equal(p.allows('host1.hosts.p.example', n('host1.hosts.p.example.'), RRType.A), true);
  assert.equal(p.allows('host1.hosts.p.example', n('host2.hosts.p.example.'), RRType.A), false);
  assert.equal(p.allows('dhcp', n('h.dhcp.p.example.'), RRType.NS), true, 'ANY includes NS');
  assert.equal(p.allows('dhcp', n('h.dhcp.p.example.'), RRType.NSEC), false);
});

test('a signed zone: an update is served signed at once (RRSIG over the new RRset, NSEC chain through it)', async () => {
  const dir = tempDir();
  const port = pickPort();
  writeFileSync(join(dir.path, 'dyn.zone'), ZONE);
  const s = await start(dir.path, port, capture().logger, { dnssec: { policy: 'default' } });
  try {
    assert.equal(await send(port, update([parseRecord('signed.dyn.example. 300 IN TXT "fresh"')])), Rcode.NOERROR);
    const q = Message.query('signed.dyn.example.', RRType.TXT, { rd: false, edns: { version: 0, udpSize: 1232, dnssecOk: true, zFlags: 0, options: [] } });
    const r = (await exchange(q, { address: ADDR, port }, { timeoutMs: 3000, transport: 'tcp' })).message;
    assert.equal(r.rcode, Rcode.NOERROR);
    assert.deepEqual(r.answer.map((x) => x.type).sort((a, b) => a - b), [RRType.TXT, RRType.RRSIG]);
    // The NSEC at www now points on to the next name in the new chain (signed < www).
    const nsec = (await exchange(Message.query('signed.dyn.example.', RRType.NSEC, { rd: false, edns: { version: 0, udpSize: 1232, dnssecOk: true, zFlags: 0, options: [] } }),
      { address: ADDR, port }, { timeoutMs: 3000, transport: 'tcp' })).message;
    const n = nsec.answer.find((x) => x.type === RRType.NSEC);
    assert.ok(n !== undefined, 'NSEC at the new name');
    assert.equal((n.data as { nextDomainName: Name }).nextDomainName.toString(), 'www.dyn.example.');
    const soa = await ask(port, 'dyn.example.', RRType.SOA);
    assert.equal((soa.answer[0]!.data as { serial: number }).serial, 11);
  } finally {
    await s.stop();
    dir.cleanup();
  }
});
