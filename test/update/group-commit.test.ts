/**
 * Group commit of the update journal (src/update/dynamic.ts): updates that arrive while a
 * journal flush runs are judged against the newest accepted version (not the one served, which
 * waits for durability), written behind it, and acknowledged in order after the flush that
 * covers them; a restart replays every one of them.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { defaultConfig } from '../../src/config/load.js';
import type { Logger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Opcode, Rcode } from '../../src/wire/constants.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { EMPTY_RDATA, type ResourceRecord, parseRecord } from '../../src/wire/record.js';
import { RRType } from '../../src/wire/types.js';
import { pickPort, tempDir } from '../helpers/peers.js';

const ADDR = '127.0.0.1';
const ZONE = `$ORIGIN gc.example.
$TTL 300
@ SOA ns hostmaster 10 3600 900 604800 300
@ NS ns
ns A 192.0.2.1
`;
const quiet: Logger = { trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function update(id: number, prereq: ResourceRecord[], records: ResourceRecord[]): Message {
  const m = new Message();
  m.id = id;
  m.opcode = Opcode.UPDATE;
  m.rd = false;
  m.question.push({ name: Name.fromText('gc.example.'), type: RRType.SOA, class: 1 });
  m.answer.push(...prereq);
  m.authority.push(...records);
  return m;
}

async function start(dir: string, port: number): Promise<DnsServer> {
  const s = new DnsServer({
    config: defaultConfig({
      listen: [`${ADDR}:${port}`], workers: 1,
      zones: [{ name: 'gc.example', file: join(dir, 'gc.zone'), allowUpdate: ['127.0.0.0/8'] }],
    }),
    logger: quiet,
  });
  await s.loadZones();
  await s.start();
  return s;
}

async function ask(port: number, name: string, type: number): Promise<Message> {
  return (await exchange(Message.query(name, type, { rd: false }), { address: ADDR, port }, { timeoutMs: 3000 })).message;
}

/** Sends every message from one UDP socket back to back (they queue at the server in this order); the RCODE of each, by ID. */
async function burst(port: number, messages: Message[]): Promise<Map<number, number>> {
  const socket = createSocket('udp4');
  const rcodes = new Map<number, number>();
  try {
    const bytes = messages.map((m) => m.encode());
    await new Promise<void>((r) => socket.bind(0, ADDR, () => r()));
    const all = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${rcodes.size} of ${messages.length} answered`)), 10_000);
      socket.on('message', (b: Buffer) => {
        const m = Message.decode(b);
        rcodes.set(m.id, m.rcode);
        if (rcodes.size === messages.length) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    for (const b of bytes) socket.send(b, port, ADDR);
    await all;
  } finally {
    socket.close();
  }
  return rcodes;
}

test('updates in flight together: each judged against the one before it, all acknowledged, all replayed after a restart', async () => {
  const dir = tempDir();
  const port = pickPort();
  writeFileSync(join(dir.path, 'gc.zone'), ZONE);
  let s = await start(dir.path, port);
  try {
    const messages: Message[] = [];
    // 1 adds chain; 2 requires it (RFC 2136 §2.4.1, RRset exists, value independent): it must see 1's version.
    messages.push(update(1, [], [parseRecord('chain.gc.example. 300 IN A 192.0.2.50')]));
    messages.push(update(2, [{ name: Name.fromText('chain.gc.example.'), type: RRType.A, class: 255, ttl: 0, data: EMPTY_RDATA }],
      [parseRecord('after.gc.example. 300 IN A 192.0.2.51')]));
    // 3 requires a name that 4 only adds later: NXRRSET, and 4 still lands.
    messages.push(update(3, [{ name: Name.fromText('late.gc.example.'), type: RRType.A, class: 255, ttl: 0, data: EMPTY_RDATA }],
      [parseRecord('never.gc.example. 300 IN A 192.0.2.52')]));
    messages.push(update(4, [], [parseRecord('late.gc.example. 300 IN A 192.0.2.53')]));
    for (let i = 0; i < 30; i++) messages.push(update(100 + i, [], [parseRecord(`c${i}.gc.example. 300 IN A 10.0.0.${i}`)]));
    const rcodes = await burst(port, messages);
    assert.equal(rcodes.get(1), Rcode.NOERROR);
    assert.equal(rcodes.get(2), Rcode.NOERROR);
    assert.equal(rcodes.get(3), Rcode.NXRRSET);
    assert.equal(rcodes.get(4), Rcode.NOERROR);
    for (let i = 0; i < 30; i++) assert.equal(rcodes.get(100 + i), Rcode.NOERROR, `update c${i}`);
    const check = async (): Promise<void> => {
      assert.equal((await ask(port, 'after.gc.example.', RRType.A)).answer.length, 1);
      assert.equal((await ask(port, 'never.gc.example.', RRType.A)).rcode, Rcode.NXDOMAIN);
      for (let i = 0; i < 30; i++) assert.equal((await ask(port, `c${i}.gc.example.`, RRType.A)).answer.length, 1, `c${i}`);
      // One serial step per update that changed the zone: 1, 2, 4 and the 30.
      const soa = await ask(port, 'gc.example.', RRType.SOA);
      assert.equal((soa.answer[0]!.data as { serial: number }).serial, 10 + 33);
    };
    await check();
    await s.stop();
    // The journal alone (stop writes the zone file: remove nothing, just start again) has them.
    s = await start(dir.path, port);
    await check();
  } finally {
    await s.stop();
    dir.cleanup();
  }
});
