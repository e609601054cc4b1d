// Inbound transfers (the secondary's side of src/transfer/inbound.ts):
// - from BIND (TSIG): AXFR into a zone equal to BIND's, written atomically and loadable; after a
//   change at BIND (ixfr-from-differences), IXFR brings the copy up to BIND's new version.
// - from a crafted primary on a real socket: a truncated transfer, first and last SOA
//   differing, an out-of-zone record, an IXFR deleting a record we do not have, and a wrong MAC
//   in the middle message are each rejected with TransferError; the copy we had is untouched.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TransferError } from '../../src/errors.js';
import { generateKey } from '../../src/tsig/key.js';
import { TsigStreamSigner, findTsig } from '../../src/tsig/tsig.js';
import { fetchZone, writeZoneFile } from '../../src/transfer/inbound.js';
import { Message, Name, parseRecord } from '../../src/wire/index.js';
import { loadZone } from '../../src/zone/load.js';
import { printZone } from '../../src/zone/printer.js';
import type { Zone } from '../../src/zone/zone.js';
import { type RunningPeer, havePeers, pickPort, tempDir } from '../helpers/peers.js';
import { type PeerKey, axfrLines, startNamedXfr, waitForSerial } from '../helpers/xfr-peers.js';

const ORIGIN = Name.fromText('in.example.');
const BIND = '127.31.8.2';
const FAKE = '127.31.8.3';

function zoneText(serial: number, body: string): string {
  return `$ORIGIN in.example.\n$TTL 300\n@ SOA ns1 host ${serial} 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n${body}`;
}

function lines(zone: Zone): string[] {
  return [...printZone(zone)].map((l) => l.replace(/\s+/g, ' ').toLowerCase()).sort();
}

describe('inbound transfers from BIND (TSIG)', { concurrency: false }, () => {
  const dir = tempDir('sovereign-inbound-');
  const port = pickPort();
  const k = generateKey('in-key', 'hmac-sha256');
  const key: PeerKey = { name: 'in-key', algorithm: 'hmac-sha256', secret: k.secret.toString('base64') };
  let named: RunningPeer | undefined;
  const file = join(dir.path, 'named', 'in.example.zone');
  const body = Array.from({ length: 3000 }, (_, i) => `h${i} A 10.3.${i >> 8}.${i & 255}\nh${i} TXT "t ${i}"\n`).join('');

  before(async () => {
    if (!havePeers({ skip: () => {} } as never, 'named', 'dig')) return;
    mkdirSync(join(dir.path, 'named'));
    writeFileSync(file, zoneText(10, body));
    named = await startNamedXfr(join(dir.path, 'named'), BIND, port, [key], [{ name: 'in.example', file, allowKey: key.name }]);
  });

  after(async () => {
    await named?.stop();
    dir.cleanup();
  });

  test('AXFR then IXFR: the copy equals BIND\'s version each time; the file written reloads the same', async (t) => {
    if (!havePeers(t, 'named', 'dig')) return;
    const primary = { address: BIND, port, key: key.name };
    assert.ok(await waitForSerial(BIND, port, 'in.example', 10), named!.output().slice(-2000));
    const r = await fetchZone(ORIGIN, undefined, { primary, key: k });
    if (r.kind !== 'axfr') throw new Error(`expected an AXFR, got ${r.kind}`);
    assert.equal(r.serial, 10);
    const bindLines = (await axfrLines(BIND, port, 'in.example', key));
    const ours = lines(r.zone).map((l) => l.replace(/^(\S+) (\d+) in /, '$1 $2 in '));
    assert.equal(ours.length, bindLines.length);
    const copy = join(dir.path, 'copy.zone');
    writeZoneFile(r.zone, copy);
    const loaded = loadZone(copy, ORIGIN).zone!;
    assert.deepEqual(lines(loaded), lines(r.zone));
    assert.match(readFileSync(copy, 'utf8'), /^; zone in\.example\. serial 10/);
    // Up to date: nothing to do.
    assert.equal((await fetchZone(ORIGIN, r.zone, { primary, key: k })).kind, 'uptodate');
    // A change at BIND, reloaded with SIGHUP (ixfr-from-differences makes the difference).
    writeFileSync(file, zoneText(11, body.replace('h5 A 10.3.0.5\n', '') + 'new AAAA 2001:db8::5\n'));
    process.kill(named!.pid, 'SIGHUP');
    assert.ok(await waitForSerial(BIND, port, 'in.example', 11));
    const inc = await fetchZone(ORIGIN, r.zone, { primary, key: k });
    if (inc.kind !== 'ixfr') throw new Error(`expected an IXFR, got ${inc.kind}`);
    assert.equal(inc.serial, 11);
    assert.ok(inc.records < 20, `${inc.records} records: a difference, not the zone`);
    const fresh = await fetchZone(ORIGIN, undefined, { primary, key: k });
    if (fresh.kind === 'uptodate') return;
    assert.deepEqual(lines(inc.zone), lines(fresh.zone));
    assert.equal(r.zone.serial, 10, 'the old copy is unchanged');
    // A wrong key: rejected.
    await assert.rejects(fetchZone(ORIGIN, undefined, { primary, key: generateKey('in-key') }), TransferError);
  });
});

/** A primary that answers each query with messages made by `script` from the query. */
function fakePrimary(script: (query: Uint8Array) => Uint8Array[] | 'close-after-first'): Promise<{ server: Server; port: number }> {
  const port = pickPort();
  return new Promise((resolve) => {
    const server = createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on('error', () => {});
      sock.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        const q = buf.subarray(2, 2 + buf.readUInt16BE(0));
        const out = script(q);
        const msgs = out === 'close-after-first' ? [] : out;
        for (const m of msgs) {
          const f = Buffer.alloc(m.length + 2);
          f.writeUInt16BE(m.length, 0);
          f.set(m, 2);
          sock.write(f);
        }
        sock.end();
      });
    });
    server.listen(port, FAKE, () => resolve({ server, port }));
  });
}

function reply(query: Uint8Array, records: string[], withQuestion = true): Uint8Array {
  const q = Message.decode(query);
  const m = new Message();
  m.id = q.id;
  m.qr = true;
  m.aa = true;
  if (withQuestion) m.question = q.question;
  m.answer = records.map((r) => parseRecord(r, { origin: ORIGIN }));
  return m.encode();
}

const SOA = (s: number): string => `in.example. 300 IN SOA ns1 host ${s} 3600 600 86400 300`;

describe('inbound transfers: bad input is rejected and the old copy kept', { concurrency: false }, () => {
  const dir = tempDir();
  let current: Zone;
  before(() => {
    const f = join(dir.path, 'cur.zone');
    writeFileSync(f, zoneText(5, 'a A 10.0.0.1\n'));
    current = loadZone(f, ORIGIN).zone!;
  });
  after(() => dir.cleanup());

  const cases: [string, (q: Uint8Array) => Uint8Array[] | 'close-after-first', boolean, RegExp][] = [
    ['truncated transfer', (q) => [reply(q, [SOA(6), 'in.example. 300 IN NS ns1', 'ns1 300 IN A 192.0.2.1'])], false, /before its closing SOA|cut short/],
    ['first and last SOA differ', (q) => [reply(q, [SOA(6), 'in.example. 300 IN NS ns1', 'ns1 300 IN A 192.0.2.1', SOA(7)])], false, /first and last SOA differ/],
    ['out-of-zone record', (q) => [reply(q, [SOA(6), 'in.example. 300 IN NS ns1', 'ns1 300 IN A 192.0.2.1', 'evil.example.net. 300 IN A 6.6.6.6', SOA(6)])], false, /out-of-zone/],
    ['IXFR deleting a missing record', (q) => [reply(q, [SOA(6), SOA(5), 'nothere 300 IN A 10.9.9.9', SOA(6), 'b 300 IN A 10.0.0.2', SOA(6)])], true, /does not have/],
    ['IXFR from another serial', (q) => [reply(q, [SOA(6), SOA(4), 'a 300 IN A 10.0.0.1', SOA(6), SOA(6)])], true, /starts at serial 4/],
    ['no SOA first', (q) => [reply(q, ['a 300 IN A 10.0.0.1', SOA(6)])], false, /does not start with an SOA/],
  ];
  for (const [label, script, ixfr, why] of cases) {
    test(label, async () => {
      const { server, port } = await fakePrimary(script);
      try {
        const p = fetchZone(ORIGIN, ixfr ? current : undefined, { primary: { address: FAKE, port, key: undefined }, timeoutMs: 2000 });
        await assert.rejects(p, (e: unknown) => e instanceof TransferError && why.test(e.message));
        assert.equal(current.serial, 5);
      } finally {
        server.close();
      }
    });
  }

  test('a wrong MAC in the middle message of a signed transfer', async () => {
    const key = generateKey('mid-key');
    const signed = (q: Uint8Array, corrupt: boolean): Uint8Array[] => {
      const signer = new TsigStreamSigner(key, findTsig(q)!.mac, () => Math.floor(Date.now() / 1000));
      const parts = [[SOA(6), 'in.example. 300 IN NS ns1'], ['ns1 300 IN A 192.0.2.1'], ['a 300 IN A 10.0.0.1', SOA(6)]];
      return parts.map((recs, i) => {
        const m = reply(q, recs, i === 0);
        const rec = signer.sign(m, m.length);
        const out = new Uint8Array(m.length + rec.length);
        out.set(m);
        out.set(rec, m.length);
        out[11] = 1;
        if (corrupt && i === 1) out[out.length - 12]! ^= 1; // inside the MAC
        return out;
      });
    };
    for (const corrupt of [false, true]) {
      const { server, port } = await fakePrimary((q) => signed(q, corrupt));
      try {
        const p = fetchZone(ORIGIN, undefined, { primary: { address: FAKE, port, key: 'mid-key' }, key, timeoutMs: 2000 });
        if (corrupt) {
          await assert.rejects(p, (e: unknown) => e instanceof TransferError && /BADSIG on message 2/.test(e.message));
        } else {
          const r = await p;
          if (r.kind !== 'axfr') throw new Error(`expected an AXFR, got ${r.kind}`);
          assert.equal(r.zone.recordCount, 4);
        }
      } finally {
        server.close();
      }
    }
  });
});

