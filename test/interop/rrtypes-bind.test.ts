// Interop for the types BIND 9.18 knows beyond the common ones (LOC, APL, IPSECKEY, HIP, KEY, SIG,
// NXT, A6, AMTRELAY, DOA, ... : test/golden/zones/bind-types.zone has one record of each).
// 1. named-checkzone -D and `sovereign check-zone --print` load the same records and print each
//    one with the same RDATA text (whitespace folded, the base64 BIND splits joined).
// 2. named serves the zone; dig asks for every owner/type through a relay that keeps the bytes;
//    our decoding of those bytes prints exactly what dig prints, and each record equals the one
//    we parsed from the zone text (so BIND's text -> wire agrees with ours).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Message, Name, recordEquals, recordToString, typeToString } from '../../src/index.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { readFileSync } from 'node:fs';
import { PEER_BINARIES, type RunningPeer, havePeers, runTool, startNamed, tempDir } from '../helpers/peers.js';
import { formatRecord } from '../../src/cli/dig-format.js';
import { digReply } from '../helpers/dig-reply.js';
import { serveOnAll } from '../helpers/serve-all.js';
import { UdpTap, digMessageBlock, normalizeMessageText, normalizeRecordLine, runAsync } from '../golden/dig-text.js';

const ZONE = fileURLToPath(new URL('../../../test/golden/zones/bind-types.zone', import.meta.url));
const BIN = fileURLToPath(new URL('../../../bin/sovereign.js', import.meta.url));
const ORIGIN = 'bindtypes.example.';
const NAMED = '127.21.18.1';
const RELAY = '127.21.18.2';
const PORT = 53118;

const records = [...parseZoneText(readFileSync(ZONE, 'utf8'), { origin: Name.fromText(ORIGIN), file: ZONE })].map((e) => e.record);

/** Zone-file record lines (from -D or --print), whitespace folded and split base64 joined, sorted. */
function dumpLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '' && !/^(zone |OK$|;)/.test(l)).map(normalizeRecordLine).sort();
}

describe('types BIND 9.18 knows: the zone of every type', () => {
  test('named-checkzone -D and check-zone -D give the same records, printed byte for byte the same', (t) => {
    if (!havePeers(t, 'named-checkzone')) return;
    const them = runTool('named-checkzone', ['-i', 'local', '-D', '-o', '-', ORIGIN, ZONE]);
    assert.equal(them.status, 0, them.stdout + them.stderr);
    const us = spawnSync(process.execPath, [BIN, 'check-zone', '--print', ORIGIN, ZONE], { encoding: 'utf8' });
    assert.equal(us.status, 0, us.stderr);
    const ours = dumpLines(us.stdout);
    assert.equal(ours.length, records.length);
    assert.deepEqual(ours, dumpLines(them.stdout));
    // And byte for byte: same order, columns, and base64 cut where BIND cuts it (src/wire/layout.ts).
    const exact = (text: string): string[] => text.split('\n').filter((l) => l !== '' && !/^(zone |OK$)/.test(l));
    assert.deepEqual(exact(us.stdout), exact(them.stdout));
  });

  let named: RunningPeer | undefined;
  let relay: UdpTap | undefined;
  let dir: { path: string; cleanup(): void } | undefined;
  before(async () => {
    if (!existsSync(PEER_BINARIES.named)) return;
    dir = tempDir('sovereign-rrtypes-bind-');
    named = await startNamed(dir.path, NAMED, PORT, [{ name: ORIGIN, file: ZONE }]);
    relay = await UdpTap.open(RELAY, PORT, { upstream: { address: NAMED, port: PORT } });
  });
  after(async () => {
    relay?.close();
    await named?.stop();
    dir?.cleanup();
  });

  test('dig of BIND\'s answers == our printing of the same bytes; records equal our parse of the zone', async (t) => {
    if (!havePeers(t, 'named', 'dig')) return;
    const pairs = new Map<string, [string, string]>();
    for (const rr of records) pairs.set(`${rr.name.toString()} ${typeToString(rr.type)}`, [rr.name.toString(), typeToString(rr.type)]);
    const from = relay!.exchanges.length;
    const r = await runAsync(PEER_BINARIES.dig, [`@${RELAY}`, '-p', String(PORT), '+norec', '+nocookie', '+noedns', '+tries=1', '+timeout=3',
      ...[...pairs.values()].flat()]);
    assert.equal(r.code, 0, r.stderr);
    const exchanges = relay!.exchanges.slice(from);
    assert.equal(exchanges.length, pairs.size);
    const keys = [...pairs.keys()];
    let answered = 0;
    exchanges.forEach((ex, i) => {
      assert.ok(ex.response !== undefined, `no response for ${keys[i]}`);
      const m = Message.decode(ex.response);
      assert.deepEqual(normalizeMessageText(m.toString()), digMessageBlock(r.stdout, i), keys[i]);
      for (const rr of m.answer) {
        const mine = records.find((x) => recordEquals(x, rr));
        assert.ok(mine !== undefined, `BIND's ${recordToString(rr)} is not what we parsed from the zone`);
        answered++;
      }
    });
    assert.equal(answered, records.length, 'every record came back');
  });

  test('dig +multiline of BIND\'s answers == our +multiline layout (src/wire/layout.ts) of the same bytes', async (t) => {
    if (!havePeers(t, 'named', 'dig')) return;
    const pairs = new Map<string, [string, string]>();
    for (const rr of records) pairs.set(`${rr.name.toString()} ${typeToString(rr.type)}`, [rr.name.toString(), typeToString(rr.type)]);
    const from = relay!.exchanges.length;
    const r = await runAsync(PEER_BINARIES.dig, [`@${RELAY}`, '-p', String(PORT), '+norec', '+nocookie', '+noedns', '+tries=1', '+timeout=3',
      '+multiline', '+noall', '+answer', ...[...pairs.values()].flat()]);
    assert.equal(r.code, 0, r.stderr);
    const ours: string[] = [];
    for (const ex of relay!.exchanges.slice(from)) {
      for (const rr of Message.decode(ex.response!).answer) ours.push(formatRecord(rr, { ttlid: true, showClass: true, multiline: true }));
    }
    assert.deepEqual(ours.join('\n').split('\n'), r.stdout.trimEnd().split('\n'));
  });
});

describe('sovereign serve and BIND serving the zone of every type', () => {
  test('dig gets the same answers (status, flags, records as dig prints them) from both', async (t) => {
    if (!havePeers(t, 'named', 'dig')) return;
    const dir = tempDir('sovereign-rrtypes-serve-');
    const served = await serveOnAll(dir.path, [{ name: ORIGIN, file: ZONE }], { sovereign: '127.21.18.3', bind: '127.21.18.4' });
    try {
      const pairs = new Map<string, [string, string]>();
      for (const rr of records) pairs.set(`${rr.name.toString()} ${typeToString(rr.type)}`, [rr.name.toString(), typeToString(rr.type)]);
      let compared = 0;
      for (const [key, q] of pairs) {
        const [ours, bind] = await Promise.all([digReply('127.21.18.3', served.port, q), digReply('127.21.18.4', served.port, q)]);
        assert.equal(ours.status, 'NOERROR', key);
        assert.deepEqual([ours.status, ours.flags, ours.answer], [bind.status, bind.flags, bind.answer], key);
        compared += ours.answer.length;
      }
      assert.equal(compared, records.length);
    } finally {
      await served.stop();
      dir.cleanup();
    }
  });
});
