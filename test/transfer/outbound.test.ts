// AXFR/IXFR out on real sockets (in process): a transfer that overlaps a reload sends one
// version; the answers to edge cases (AXFR over UDP, a zone we do not serve, IXFR without an
// SOA, up-to-date and UDP IXFR, access refused); IXFR from a bounded history, with the
// AXFR-style fallback when the history does not reach the asked serial; history kept across a
// restart through the journal.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { TcpConnection } from '../../src/client/exchange.js';
import { defaultConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Message, Name, RRType, type ResourceRecord, recordToString } from '../../src/wire/index.js';
import { pickPort, tempDir } from '../helpers/peers.js';
import { udpQuery } from '../server/net-helpers.js';

const ADDRESS = '127.31.7.1';

/** The zone at `serial`; `count` TXT records of ~200 octets make it larger than the sockets' buffers. */
function zoneText(serial: number, extra = '', count = 0): string {
  const pad = 'x'.repeat(180);
  return `$ORIGIN out.example.\n$TTL 300\n@ SOA ns1 host ${serial} 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n` +
    Array.from({ length: count }, (_, i) => `n${i} TXT "${pad}"\n`).join('') + extra;
}

async function serve(dir: string, body: string, zone: Partial<ConfigInput['zones'] extends (infer Z)[] | undefined ? Z : never> = {}):
  Promise<{ server: DnsServer; port: number; file: string }> {
  const file = join(dir, 'out.example.zone');
  writeFileSync(file, body);
  const port = pickPort();
  const server = new DnsServer({
    config: defaultConfig({ listen: [`${ADDRESS}:${port}`], workers: 1, zones: [{ name: 'out.example', file, ...zone }] }),
    logger: silentLogger,
  });
  await server.loadZones();
  await server.start();
  return { server, port, file };
}

/** Every record of a transfer, with the message count. */
async function transfer(port: number, q: Message): Promise<{ records: ResourceRecord[]; messages: number; rcode: number }> {
  const conn = await TcpConnection.connect({ address: ADDRESS, port });
  const records: ResourceRecord[] = [];
  let messages = 0;
  let rcode = 0;
  let soas = 0;
  try {
    for await (const { message } of conn.stream(q, { idleTimeoutMs: 5000 })) {
      messages++;
      rcode = message.rcode;
      if (rcode !== 0) break;
      for (const rr of message.answer) {
        records.push(rr);
        if (rr.type === RRType.SOA) soas++;
      }
      const first = records[0]?.data as { serial: number } | undefined;
      const last = records.at(-1);
      // Ends: a lone SOA (up to date), or the first SOA's serial again at the end after more.
      if (records.length === 1 && messages === 1 && message.answer.length === 1 && q.question[0]!.type === RRType.IXFR) break;
      if (soas >= 2 && last?.type === RRType.SOA && (last.data as { serial: number }).serial === first?.serial &&
        (q.question[0]!.type === RRType.AXFR || records[1]?.type !== RRType.SOA || soas > 2 && soas % 2 === 0)) break;
    }
  } finally {
    conn.close();
  }
  return { records, messages, rcode };
}

function ixfrQuery(serial: number): Message {
  const q = Message.query('out.example.', RRType.IXFR, { rd: false });
  q.authority.push({ name: Name.fromText('out.example.'), type: RRType.SOA, class: 1, ttl: 0,
    data: { mname: Name.ROOT, rname: Name.ROOT, serial, refresh: 0, retry: 0, expire: 0, minimum: 0 } });
  return q;
}

const serials = (rs: ResourceRecord[]): number[] => rs.filter((r) => r.type === RRType.SOA).map((r) => (r.data as { serial: number }).serial);

test('a transfer overlapping a reload sends the version it started with, whole', async () => {
  const dir = tempDir();
  const { server, port, file } = await serve(dir.path, zoneText(1, 'changed A 10.9.9.1\n', 100_000));
  try {
    // A client that reads one chunk and then stops reading: the server must wait for it.
    const sock = connect({ host: ADDRESS, port });
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const chunks: Buffer[] = [];
    const q = Message.query('out.example.', RRType.AXFR, { rd: false, id: 77 }).encode();
    const framed = Buffer.alloc(q.length + 2);
    framed.writeUInt16BE(q.length, 0);
    framed.set(q, 2);
    sock.write(framed);
    await new Promise<void>((r) => sock.once('data', (c: Buffer) => { chunks.push(c); r(); }));
    sock.pause();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(server.stats.xfrOutMs, 0, 'the transfer is still in progress (the client is not reading)');
    writeFileSync(file, zoneText(2, 'changed A 10.9.9.2\n', 100_000));
    assert.equal((await server.reload())[0]!.serial, 2);
    // Now read the rest.
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.resume();
    await new Promise<void>((resolve) => {
      const check = (): void => { if (server.stats.xfrOutMs > 0) resolve(); else setTimeout(check, 50); };
      check();
    });
    await new Promise((r) => setTimeout(r, 200));
    sock.destroy();
    const all = Buffer.concat(chunks);
    const records: ResourceRecord[] = [];
    for (let p = 0; p < all.length;) {
      const len = all.readUInt16BE(p);
      const m = Message.decode(all.subarray(p + 2, p + 2 + len));
      assert.equal(m.id, 77);
      records.push(...m.answer);
      p += 2 + len;
    }
    assert.deepEqual(serials(records), [1, 1]);
    assert.equal(records.length, 100_004 + 1);
    assert.ok(records.some((r) => recordToString(r) === 'changed.out.example.\t300\tIN\tA\t10.9.9.1'));
    assert.ok(!records.some((r) => recordToString(r).includes('10.9.9.2')));
    // A transfer started after the reload gets the new version.
    const after = await transfer(port, Message.query('out.example.', RRType.AXFR, { rd: false }));
    assert.deepEqual(serials(after.records), [2, 2]);
  } finally {
    await server.stop();
    dir.cleanup();
  }
});

test('edge cases: AXFR over UDP FORMERR, not our zone NOTAUTH, IXFR without SOA FORMERR, up to date and UDP IXFR one SOA, ACL REFUSED', async () => {
  const dir = tempDir();
  const { server, port } = await serve(dir.path, zoneText(5, 'a A 10.0.0.1\n'));
  try {
    assert.equal((await udpQuery(ADDRESS, port, Message.query('out.example.', RRType.AXFR))).rcode, 1);
    assert.equal((await transfer(port, Message.query('other.example.', RRType.AXFR))).rcode, 9);
    assert.equal((await transfer(port, Message.query('out.example.', RRType.IXFR))).rcode, 1);
    const upToDate = await transfer(port, ixfrQuery(5));
    assert.deepEqual(serials(upToDate.records), [5]);
    assert.equal(upToDate.records.length, 1);
    const udp = await udpQuery(ADDRESS, port, ixfrQuery(4));
    assert.deepEqual(serials(udp.answer), [5]);
    assert.equal(udp.answer.length, 1);
    assert.ok(udp.aa);
  } finally {
    await server.stop();
  }
  const refused = await serve(dir.path, zoneText(5), { allowTransfer: ['192.0.2.0/24'] });
  try {
    assert.equal((await transfer(refused.port, Message.query('out.example.', RRType.AXFR))).rcode, 5);
    assert.ok(refused.server.stats.xfrOutRefused >= 1);
  } finally {
    await refused.server.stop();
    dir.cleanup();
  }
});

test('IXFR from a bounded history; AXFR-style when it does not reach; history survives a restart', async () => {
  const dir = tempDir();
  let { server, port, file } = await serve(dir.path, zoneText(1, 'a A 10.0.0.1\n'), { ixfrHistory: 2 });
  try {
    writeFileSync(file, zoneText(2, 'a A 10.0.0.2\n'));
    await server.reload();
    writeFileSync(file, zoneText(3, 'a A 10.0.0.2\nb A 10.0.0.3\n'));
    await server.reload();
    writeFileSync(file, zoneText(4, 'b A 10.0.0.3\n'));
    await server.reload();
    assert.equal(server.transfers.history(server.zones()[0]!).length, 2);
    // From 2: two differences (2->3, 3->4), RFC 1995 §4 layout.
    const inc = await transfer(port, ixfrQuery(2));
    assert.deepEqual(inc.records.map(recordToString).map((l) => l.replace(/\t/g, ' ')), [
      'out.example. 300 IN SOA ns1.out.example. host.out.example. 4 3600 600 86400 300',
      'out.example. 300 IN SOA ns1.out.example. host.out.example. 2 3600 600 86400 300',
      'out.example. 300 IN SOA ns1.out.example. host.out.example. 3 3600 600 86400 300',
      'b.out.example. 300 IN A 10.0.0.3',
      'out.example. 300 IN SOA ns1.out.example. host.out.example. 3 3600 600 86400 300',
      'a.out.example. 300 IN A 10.0.0.2',
      'out.example. 300 IN SOA ns1.out.example. host.out.example. 4 3600 600 86400 300',
      'out.example. 300 IN SOA ns1.out.example. host.out.example. 4 3600 600 86400 300',
    ]);
    // From 1: the history (bounded to 2) does not reach: the whole zone, AXFR-style.
    const full = await transfer(port, ixfrQuery(1));
    assert.deepEqual(serials(full.records), [4, 4]);
    assert.equal(full.records.length, 5);
    await server.stop();
    // Restart: the journal beside the zone file gives the history back.
    ({ server, port, file } = await serve(dir.path, zoneText(4, 'b A 10.0.0.3\n'), { ixfrHistory: 2 }));
    assert.equal(server.transfers.history(server.zones()[0]!).length, 2);
    const again = await transfer(port, ixfrQuery(3));
    assert.deepEqual(serials(again.records), [4, 3, 4, 4]);
  } finally {
    await server.stop();
    dir.cleanup();
  }
});
