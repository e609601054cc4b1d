// Secondary zones in the server (src/transfer/secondary.ts, secondaries.ts), Sovereign against
// Sovereign on real sockets:
// - a secondary transfers at start (AXFR, TSIG), follows a change at the primary announced by
//   NOTIFY with IXFR, writes its copy and journal, and serves the copy after a restart with the
//   primary down;
// - NOTIFY from a non-primary is REFUSED (counted), for a zone not here NOTAUTH, from the
//   primary NOERROR+AA; UPDATE to a secondary zone REFUSED;
// - expire: with the primary gone past the SOA expire, SERVFAIL; back when the primary returns;
// - bad primaries (nobody listening, wrong key, garbage answers): logged, retried with
//   back-off, the server keeps answering.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { defaultConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { journalPathFor } from '../../src/journal/journal.js';
import { generateKey } from '../../src/tsig/key.js';
import { Opcode, Rcode } from '../../src/wire/constants.js';
import { Message, Name, RRType, parseRecord } from '../../src/wire/index.js';
import { printZone } from '../../src/zone/printer.js';
import { addLoopbackAddress, pickPort, tempDir } from '../helpers/peers.js';

const P = '127.31.9.1';
const S = '127.31.9.2';
const OTHER = '127.31.9.3';
const ZONE = 'sec.example';

function zoneText(serial: number, extra = '', timers = '3600 600 86400'): string {
  return `$ORIGIN sec.example.\n$TTL 300\n@ SOA ns1 host ${serial} ${timers} 300\n@ NS ns1\nns1 A 192.0.2.1\n` +
    Array.from({ length: 200 }, (_, i) => `h${i} A 10.9.${i >> 8}.${i & 255}\n`).join('') + extra;
}

type ZoneInput = NonNullable<ConfigInput['zones']>[number];

async function serve(address: string, port: number, zones: ZoneInput[], keys: ConfigInput['keys'] = {}): Promise<DnsServer> {
  addLoopbackAddress(address);
  const server = new DnsServer({ config: defaultConfig({ listen: [`${address}:${port}`], workers: 1, zones, keys }), logger: silentLogger });
  await server.loadZones();
  await server.start();
  return server;
}

async function soa(address: string, port: number, zone = ZONE): Promise<{ rcode: number; serial: number | undefined }> {
  try {
    const { message } = await exchange(Message.query(zone + '.', RRType.SOA, { rd: false }), { address, port }, { timeoutMs: 1000 });
    const rr = message.answer.find((r) => r.type === RRType.SOA);
    return { rcode: message.rcode, serial: rr === undefined ? undefined : (rr.data as { serial: number }).serial };
  } catch {
    return { rcode: -1, serial: undefined };
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function zoneLines(server: DnsServer, zone = ZONE): string[] {
  const z = server.zones().find((x) => x.origin.equals(Name.fromText(zone + '.')));
  assert.ok(z !== undefined, `${zone} is served`);
  return [...printZone(z)].sort();
}

function notifyQuery(zone: string, serial?: number): Message {
  const q = Message.query(zone + '.', RRType.SOA, { rd: false });
  q.opcode = Opcode.NOTIFY;
  q.aa = true;
  if (serial !== undefined) q.answer.push(parseRecord(`${zone}. 300 IN SOA ns1.${zone}. host.${zone}. ${serial} 3600 600 86400 300`));
  return q;
}

describe('Sovereign secondary of a Sovereign primary', { concurrency: false }, () => {
  const dir = tempDir('sovereign-secondary-');
  const servers: DnsServer[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
    dir.cleanup();
  });

  test('AXFR at start, NOTIFY then IXFR, copy and journal on disk, restart from the copy with the primary down', async () => {
    const k = generateKey('sec-key', 'hmac-sha256');
    const keys = { 'sec-key': { algorithm: 'hmac-sha256' as const, secret: k.secret.toString('base64') } };
    const pPort = pickPort();
    const sPort = pickPort();
    const pFile = join(dir.path, 'primary.zone');
    mkdirSync(join(dir.path, 'sec'));
    const copy = join(dir.path, 'sec', 'sec.example.zone');
    writeFileSync(pFile, zoneText(1));
    const primary = await serve(P, pPort, [{ name: ZONE, file: pFile, allowTransfer: ['key sec-key'], notify: [`${S}:${sPort}`] }], keys);
    servers.push(primary);
    const secondaryZone: ZoneInput = { name: ZONE, file: copy, primaries: [`${P}:${pPort} key sec-key`] };
    let secondary = await serve(S, sPort, [secondaryZone], keys);
    servers.push(secondary);
    await until('the secondary serves serial 1', async () => (await soa(S, sPort)).serial === 1);
    assert.deepEqual(zoneLines(secondary), zoneLines(primary));
    let st = secondary.zoneStatus()[0]!.secondary!;
    assert.equal(st.lastTransfer?.kind, 'axfr');
    assert.equal(st.serial, 1);
    assert.ok(st.nextRefresh !== null && st.expires !== null);
    // The copy on disk is written after the zone is live (in the background, as BIND does).
    await until('the copy on disk holds serial 1', async () => existsSync(copy) && /serial 1, received by transfer/.test(readFileSync(copy, 'utf8')));

    // A change at the primary: its reload sends NOTIFY; the secondary comes up by IXFR.
    writeFileSync(pFile, zoneText(2, 'new AAAA 2001:db8::2\n').replace('h7 A 10.9.0.7\n', ''));
    await primary.reload();
    await until('the secondary serves serial 2', async () => (await soa(S, sPort)).serial === 2);
    assert.deepEqual(zoneLines(secondary), zoneLines(primary));
    st = secondary.zoneStatus()[0]!.secondary!;
    assert.equal(st.lastTransfer?.kind, 'ixfr');
    assert.ok(st.lastTransfer!.records < 10, `IXFR of ${st.lastTransfer!.records} records`);
    assert.ok(secondary.secondaries.counters.notifyIn >= 1);
    await until('the copy on disk holds serial 2', async () => /serial 2, received by transfer/.test(readFileSync(copy, 'utf8')));
    assert.ok(existsSync(journalPathFor(copy)), 'the difference 1 -> 2 is in the journal, for IXFR downstream');

    // The secondary serves IXFR 1 -> 2 itself (from its journal), as a primary to a tertiary.
    const ixfr = Message.query(ZONE + '.', RRType.IXFR, { rd: false });
    ixfr.authority.push(parseRecord(`${ZONE}. 0 IN SOA ns1.${ZONE}. host.${ZONE}. 1 3600 600 86400 300`));
    const tr = await exchange(ixfr, { address: S, port: sPort }, { transport: 'tcp', timeoutMs: 2000 });
    const serials = tr.message.answer.filter((r) => r.type === RRType.SOA).map((r) => (r.data as { serial: number }).serial);
    assert.deepEqual(serials, [2, 1, 2, 2]);

    // NOTIFY: from the primary's address NOERROR+AA; from elsewhere REFUSED; unknown zone NOTAUTH.
    const fromPrimary = await exchange(notifyQuery(ZONE, 2), { address: S, port: sPort }, { localAddress: P, timeoutMs: 2000 });
    assert.equal(fromPrimary.message.rcode, Rcode.NOERROR);
    assert.equal(fromPrimary.message.aa, true);
    assert.equal(fromPrimary.message.opcode, Opcode.NOTIFY);
    addLoopbackAddress(OTHER);
    const refused = await exchange(notifyQuery(ZONE, 3), { address: S, port: sPort }, { localAddress: OTHER, timeoutMs: 2000 });
    assert.equal(refused.message.rcode, Rcode.REFUSED);
    assert.equal(secondary.secondaries.counters.notifyRefused, 1);
    const notAuth = await exchange(notifyQuery('elsewhere.example', 3), { address: S, port: sPort }, { localAddress: P, timeoutMs: 2000 });
    assert.equal(notAuth.message.rcode, Rcode.NOTAUTH);

    // UPDATE to a secondary zone without forwardUpdates: REFUSED (BIND's default).
    const upd = Message.query(ZONE + '.', RRType.SOA, { rd: false });
    upd.opcode = Opcode.UPDATE;
    upd.authority.push(parseRecord(`x.${ZONE}. 300 IN A 192.0.2.9`));
    const updated = await exchange(upd, { address: S, port: sPort }, { timeoutMs: 2000 });
    assert.equal(updated.message.rcode, Rcode.REFUSED);

    // Restart with the primary down: the copy serves at once, and the failed refresh is reported.
    await primary.stop();
    await secondary.stop();
    secondary = await serve(S, sPort, [secondaryZone], keys);
    servers.push(secondary);
    assert.equal((await soa(S, sPort)).serial, 2);
    await until('the refresh failure is reported', () => (secondary.zoneStatus()[0]!.secondary!.failures ?? 0) >= 1);
    st = secondary.zoneStatus()[0]!.secondary!;
    assert.match(st.lastResult ?? '', /^failed: /);
    assert.equal(st.expired, false);
    assert.equal((await soa(S, sPort)).serial, 2);
  });

  test('expire: SERVFAIL once the primary is gone past the SOA expire, served again when it returns', async () => {
    const pPort = pickPort();
    const sPort = pickPort();
    const pFile = join(dir.path, 'expire-primary.zone');
    writeFileSync(pFile, zoneText(5, '', '1 1 3'));
    let primary = await serve(P, pPort, [{ name: ZONE, file: pFile }]);
    servers.push(primary);
    const secondary = await serve(S, sPort, [{ name: ZONE, file: join(dir.path, 'expire-copy.zone'), primaries: [`${P}:${pPort}`] }]);
    servers.push(secondary);
    await until('the secondary serves serial 5', async () => (await soa(S, sPort)).serial === 5);
    await primary.stop();
    await until('SERVFAIL after expire', async () => (await soa(S, sPort)).rcode === Rcode.SERVFAIL);
    const st = secondary.zoneStatus()[0]!;
    assert.equal(st.secondary!.expired, true);
    assert.equal(st.loaded, false);
    primary = await serve(P, pPort, [{ name: ZONE, file: pFile }]);
    servers.push(primary);
    await until('served again once the primary is back', async () => (await soa(S, sPort)).serial === 5);
    assert.equal(secondary.zoneStatus()[0]!.secondary!.expired, false);
  });

  test('bad primaries (nobody listening, wrong key, garbage): logged, retried, never a crash', async () => {
    const pPort = pickPort();
    const sPort = pickPort();
    const gPort = pickPort();
    const pFile = join(dir.path, 'bad-primary.zone');
    writeFileSync(pFile, zoneText(9));
    const right = generateKey('right', 'hmac-sha256');
    const wrong = generateKey('right', 'hmac-sha256');
    const primary = await serve(P, pPort, [{ name: ZONE, file: pFile, allowTransfer: ['key right'] }],
      { right: { algorithm: 'hmac-sha256', secret: right.secret.toString('base64') } });
    servers.push(primary);
    // A "primary" answering every datagram with garbage.
    addLoopbackAddress(OTHER);
    const garbage = createSocket('udp4');
    garbage.on('message', (_m, rinfo) => garbage.send(Buffer.from('this is not DNS at all'), rinfo.port, rinfo.address));
    await new Promise<void>((r) => garbage.bind(gPort, OTHER, r));
    try {
      const secondary = await serve(S, sPort, [
        { name: 'a.example', file: join(dir.path, 'a.zone'), primaries: [`127.31.9.4:${pickPort()}`] },
        { name: ZONE, file: join(dir.path, 'wrong-key.zone'), primaries: [`${P}:${pPort} key right`] },
        { name: 'g.example', file: join(dir.path, 'g.zone'), primaries: [`${OTHER}:${gPort}`] },
      ], { right: { algorithm: 'hmac-sha256', secret: wrong.secret.toString('base64') } });
      servers.push(secondary);
      const status = (name: string) => secondary.zoneStatus().find((z) => z.name === name)!.secondary!;
      await until('two failed refreshes of each zone', () => ['a.example.', 'sec.example.', 'g.example.'].every((n) => status(n).failures >= 2), 60_000);
      assert.match(status('sec.example.').lastResult!, /TSIG|BADSIG|NOTAUTH|signed/i);
      assert.match(status('a.example.').lastResult!, /^failed: /);
      assert.match(status('g.example.').lastResult!, /^failed: /);
      // Back-off: the next try is further away than the first retry (5 s with no copy).
      const next = Date.parse(status('a.example.').nextRefresh!) - Date.now();
      assert.ok(next > 5000, `next refresh in ${next} ms`);
      for (const z of ['a.example', ZONE, 'g.example']) assert.equal((await soa(S, sPort, z)).rcode, Rcode.SERVFAIL);
    } finally {
      garbage.close();
    }
  });
});
