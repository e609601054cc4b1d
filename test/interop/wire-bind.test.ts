// Interop with BIND: named serves the golden zone (every record type, escapes, generic types) on
// 127.21.2.1. We decode what BIND writes — a full AXFR over TCP with our own socket, and UDP
// answers relayed through our socket while dig asks — and compare every record with the zone
// text, and our whole printout of each response with dig's printout of the very same bytes.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Message, RRType, newEdns, recordEquals, recordToString, typeToString } from '../../src/index.js';
import { PEER_BINARIES, type RunningPeer, havePeers, startNamed, tempDir } from '../helpers/peers.js';
import { UdpTap, digMessageBlock, normalizeMessageText, runAsync, tcpExchange, udpExchange } from '../golden/dig-text.js';
import { GOLDEN_ORIGIN, GOLDEN_ZONE, goldenRecords } from '../golden/zone-records.js';

const NAMED = '127.21.2.1';
const RELAY = '127.21.2.2';
const PORT = 53021;
const golden = goldenRecords();

let named: RunningPeer | undefined;
let dir: { path: string; cleanup(): void } | undefined;
let relay: UdpTap | undefined;

describe('BIND responses', () => {
  before(async () => {
    if (!existsSync(PEER_BINARIES.named)) return; // each test then skips (or fails in CI) via havePeers
    dir = tempDir('sovereign-wire-bind-');
    named = await startNamed(dir.path, NAMED, PORT, [{ name: GOLDEN_ORIGIN, file: GOLDEN_ZONE }], 'check-names primary ignore;');
    relay = await UdpTap.open(RELAY, PORT, { upstream: { address: NAMED, port: PORT } });
  });
  after(async () => {
    relay?.close();
    await named?.stop();
    dir?.cleanup();
  });

  test('AXFR over TCP: every record BIND sends equals the zone text, printed the same', async (t) => {
    if (!havePeers(t, 'named')) return;
    const q = Message.query(GOLDEN_ORIGIN, RRType.AXFR, { id: 0x2121, rd: false });
    const msgs = await tcpExchange(NAMED, PORT, q.encode(), (ms) => {
      let soas = 0;
      for (const m of ms) for (const rr of Message.decode(m).answer) if (rr.type === RRType.SOA) soas++;
      return soas >= 2;
    });
    const rrs = msgs.flatMap((m) => {
      const d = Message.decode(m);
      assert.equal(d.id, 0x2121);
      assert.ok(d.qr && d.aa);
      // decode -> encode -> decode is stable on BIND's compressed messages
      assert.equal(Message.decode(d.encode()).toString(), d.toString());
      return d.answer;
    });
    assert.equal(rrs[0]!.type, RRType.SOA);
    assert.equal(rrs[rrs.length - 1]!.type, RRType.SOA);
    const body = rrs.slice(0, -1);
    assert.equal(body.length, golden.length, 'as many records as the zone has');
    for (const g of golden) {
      const match = body.find((rr) => recordEquals(rr, g.rr));
      assert.ok(match !== undefined, `BIND's AXFR lacks ${recordToString(g.rr)}`);
      // (BIND compresses ignoring case, so `Mail2.Interop.Test.` comes back as `Mail2.interop.test.`)
      assert.equal(recordToString(match).toLowerCase(), recordToString(g.rr).toLowerCase(), 'same text from BIND\'s wire as from the zone file');
      assert.equal(match.ttl, g.rr.ttl);
    }
  });

  test('UDP answers for every owner and type: our text == dig\'s text of the same bytes', async (t) => {
    if (!havePeers(t, 'named', 'dig')) return;
    const pairs = new Map<string, string[]>();
    for (const g of golden) pairs.set(`${g.rr.name.toString()} ${typeToString(g.rr.type)}`, [g.rr.name.toString(), typeToString(g.rr.type)]);
    const args = [...pairs.values()].flat();
    const from = relay!.exchanges.length;
    const r = await runAsync(PEER_BINARIES.dig, [`@${RELAY}`, '-p', String(PORT), '+norec', '+dnssec', '+nsid', '+cookie=0102030405060708',
      '+tries=1', '+timeout=3', ...args]);
    assert.equal(r.code, 0, r.stderr);
    const exchanges = relay!.exchanges.slice(from);
    assert.equal(exchanges.length, pairs.size);
    const seen: Message[] = [];
    exchanges.forEach((ex, i) => {
      assert.ok(ex.response !== undefined, `no response for query ${i}`);
      const m = Message.decode(ex.response);
      seen.push(m);
      assert.deepEqual(normalizeMessageText(m.toString()), digMessageBlock(r.stdout, i), `response ${i}: ${[...pairs.keys()][i]}`);
    });
    // every record of the zone (NSEC3 lives in its own tree and is not answered by name) came back
    for (const g of golden) {
      if (g.rr.type === RRType.NSEC3) continue;
      assert.ok(seen.some((m) => m.answer.some((rr) => recordEquals(rr, g.rr))), `not answered: ${g.text}`);
    }
  });

  test('small EDNS sizes, no EDNS and NXDOMAIN decode like dig says', async (t) => {
    if (!havePeers(t, 'named', 'dig')) return;
    const from = relay!.exchanges.length;
    const r = await runAsync(PEER_BINARIES.dig, [`@${RELAY}`, '-p', String(PORT), '+norec', '+ignore', '+bufsize=512', '+tries=1',
      `dnskey.${GOLDEN_ORIGIN}`, 'DNSKEY', `txt.${GOLDEN_ORIGIN}`, 'TXT', '+noedns', `nonexistent.${GOLDEN_ORIGIN}`, 'A']);
    assert.equal(r.code, 0, r.stderr);
    const exchanges = relay!.exchanges.slice(from);
    exchanges.forEach((ex, i) => {
      const m = Message.decode(ex.response!);
      assert.deepEqual(normalizeMessageText(m.toString()), digMessageBlock(r.stdout, i));
    });
    const nx = Message.decode(exchanges[exchanges.length - 1]!.response!);
    assert.equal(nx.rcode, 3);
    assert.equal(nx.authority[0]!.type, RRType.SOA);
  });

  test('our encoded queries get the answers dig gets (BIND accepts our wire)', async (t) => {
    if (!havePeers(t, 'named')) return;
    for (const g of golden.slice(0, 20)) {
      const q = Message.query(g.rr.name, g.rr.type, { id: 777, rd: false, edns: newEdns({ udpSize: 4096, dnssecOk: true }) });
      const m = Message.decode(await udpExchange(NAMED, PORT, q.encode()));
      assert.equal(m.id, 777);
      assert.equal(m.rcode, 0, `${g.text}: ${m.toString()}`);
      assert.ok(m.answer.some((rr) => recordEquals(rr, g.rr)), g.text);
      assert.equal(m.edns?.dnssecOk, true);
    }
  });
});
