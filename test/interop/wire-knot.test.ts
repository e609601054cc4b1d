// Interop with Knot DNS: knotd serves the golden zone on 127.21.3.1 (types Knot does not know are
// written in RFC 3597 `\#` form, from our own encoder). We decode Knot's AXFR and UDP answers and
// compare: records against the zone text, our printout of each response against dig's printout
// of the same bytes, and our record text against kdig's (kdig prints a few things differently:
// noted where it happens).
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  EncodeMode, Message, RRType, Writer, encodeRData, parseRecord, recordEquals, recordToString, toHex, typeToString,
} from '../../src/index.js';
import { PEER_BINARIES, type RunningPeer, havePeers, startKnot, tempDir } from '../helpers/peers.js';
import {
  UdpTap, digMessageBlock, normalizeMessageText, normalizeRecordLine, recordLines, runAsync, tcpExchange, udpExchange,
} from '../golden/dig-text.js';
import { GOLDEN_ORIGIN, goldenRecords } from '../golden/zone-records.js';

const KNOT = '127.21.3.1';
const RELAY = '127.21.3.2';
const PORT = 53031;
const golden = goldenRecords();
/** Types Knot 3.2 does not load by name (kzonecheck says "unsupported record type"). */
const KNOT_GENERIC = new Set(['WKS', 'PX', 'X25', 'MB', 'MG', 'MR', 'TA', 'DLV', 'AVC', 'RESINFO', 'WALLET']);

function canonicalHex(type: number, data: unknown): { len: number; hex: string } {
  const w = new Writer();
  encodeRData(type, w, data, EncodeMode.Canonical);
  return { len: w.pos, hex: toHex(w.toBytes()) };
}

/** The golden zone as Knot can load it. */
function knotZone(): string {
  const lines = [`$ORIGIN ${GOLDEN_ORIGIN}`, '$TTL 3600'];
  for (const g of golden) {
    const type = typeToString(g.rr.type);
    if (!KNOT_GENERIC.has(type)) {
      lines.push(g.text);
      continue;
    }
    const { len, hex } = canonicalHex(g.rr.type, g.rr.data);
    lines.push(`${g.rr.name.toString()} ${g.rr.ttl} IN TYPE${g.rr.type} \\# ${len} ${hex}`);
  }
  return lines.join('\n') + '\n';
}

/** RRsets too big for 512 octets, to compare truncation with Knot's. */
const BIG_ZONE = ['$ORIGIN big.test.', '$TTL 60', '@ SOA ns. h. 1 2 3 4 5', '@ NS ns.', 'x A 192.0.2.1', 'x AAAA ::1',
  ...Array.from({ length: 10 }, (_, i) => `x TXT "${i}${'y'.repeat(100)}"`),
  ...Array.from({ length: 30 }, (_, i) => `m A 192.0.2.${i + 1}`),
  ...Array.from({ length: 40 }, (_, i) => `n A 192.0.2.${i + 1}`)].join('\n') + '\n';

let knot: RunningPeer | undefined;
let dir: { path: string; cleanup(): void } | undefined;
let relay: UdpTap | undefined;

describe('Knot responses', () => {
  before(async () => {
    if (!existsSync(PEER_BINARIES.knotd)) return; // each test then skips (or fails in CI) via havePeers
    dir = tempDir('sovereign-wire-knot-');
    const file = join(dir.path, 'interop.zone');
    writeFileSync(file, knotZone());
    const big = join(dir.path, 'big.zone');
    writeFileSync(big, BIG_ZONE);
    knot = await startKnot(dir.path, KNOT, PORT, [{ name: GOLDEN_ORIGIN, file }, { name: 'big.test.', file: big }]);
    relay = await UdpTap.open(RELAY, PORT, { upstream: { address: KNOT, port: PORT } });
  });
  after(async () => {
    relay?.close();
    await knot?.stop();
    dir?.cleanup();
  });

  test('AXFR over TCP: every record Knot sends equals the zone text', async (t) => {
    if (!havePeers(t, 'knotd')) return;
    const q = Message.query(GOLDEN_ORIGIN, RRType.AXFR, { id: 0x3131, rd: false });
    const msgs = await tcpExchange(KNOT, PORT, q.encode(), (ms) => {
      let soas = 0;
      for (const m of ms) for (const rr of Message.decode(m).answer) if (rr.type === RRType.SOA) soas++;
      return soas >= 2;
    });
    const rrs = msgs.flatMap((m) => {
      const d = Message.decode(m);
      assert.equal(Message.decode(d.encode()).toString(), d.toString(), 'decode -> encode -> decode stable');
      return d.answer;
    });
    const body = rrs.slice(0, -1);
    assert.equal(body.length, golden.length);
    for (const g of golden) {
      const match = body.find((rr) => recordEquals(rr, g.rr));
      assert.ok(match !== undefined, `Knot's AXFR lacks ${recordToString(g.rr)}`);
      assert.equal(recordToString(match).toLowerCase(), recordToString(g.rr).toLowerCase());
    }
  });

  test('UDP answers: our text == dig\'s text of Knot\'s bytes', async (t) => {
    if (!havePeers(t, 'knotd', 'dig')) return;
    const pairs = new Map<string, string[]>();
    for (const g of golden) {
      if (g.rr.type === RRType.NSEC3) continue;
      pairs.set(`${g.rr.name.toString()} ${typeToString(g.rr.type)}`, [g.rr.name.toString(), typeToString(g.rr.type)]);
    }
    const from = relay!.exchanges.length;
    const r = await runAsync(PEER_BINARIES.dig, [`@${RELAY}`, '-p', String(PORT), '+norec', '+dnssec', '+nsid', '+tries=1', '+timeout=3',
      ...[...pairs.values()].flat()]);
    assert.equal(r.code, 0, r.stderr);
    const exchanges = relay!.exchanges.slice(from);
    assert.equal(exchanges.length, pairs.size);
    exchanges.forEach((ex, i) => {
      const m = Message.decode(ex.response!);
      assert.deepEqual(normalizeMessageText(m.toString()), digMessageBlock(r.stdout, i), [...pairs.keys()][i]);
    });
  });

  test('encoding into 512 octets truncates like Knot: whole RRsets dropped, TC set', async (t) => {
    if (!havePeers(t, 'knotd')) return;
    for (const [qname, qtype] of [['x.big.test.', RRType.TXT], ['m.big.test.', RRType.A], ['n.big.test.', RRType.A], ['x.big.test.', RRType.AAAA]] as const) {
      const q = Message.query(qname, qtype, { id: 99, rd: false });
      const [full] = await tcpExchange(KNOT, PORT, q.encode(), (ms) => ms.length > 0);
      const udp = await udpExchange(KNOT, PORT, q.encode());
      const knotReply = Message.decode(udp);
      // Knot's full answer (over TCP), encoded by us into the 512 octets of plain UDP
      const ours = Message.decode(full!).encode({ maxSize: 512 });
      assert.equal(Message.decode(ours).tc, knotReply.tc, `${qname} TC`);
      assert.deepEqual(ours, udp, `${qname} ${typeToString(qtype)}: same bytes as Knot's UDP reply`);
    }
  });

  test('kdig prints the records we print (generic ones as the same \\# hex)', async (t) => {
    if (!havePeers(t, 'knotd', 'kdig')) return;
    const r = await runAsync(PEER_BINARIES.kdig, [`@${KNOT}`, '-p', String(PORT), '+tcp', '+noall', '+answer', 'AXFR', GOLDEN_ORIGIN]);
    assert.equal(r.code, 0, r.stderr);
    const theirs = recordLines(r.stdout);
    // kdig's printer differs from dig's (which we follow) in style only: SVCB alpn/keyNNNN values
    // unquoted, EUI48/EUI64 and the NSEC3 hash in other case, CERT type and algorithm as numbers,
    // and Knot lowercases names inside RDATA when it loads a zone. So: kdig's text must parse
    // (with our parser) to exactly the zone's record, and match our text up to case and quotes.
    const relaxed = (l: string): string => l.replace(/="([^"]*)"/g, '=$1').toLowerCase();
    let compared = 0;
    for (const g of golden) {
      const ours = normalizeRecordLine(recordToString(g.rr));
      const type = typeToString(g.rr.type);
      if (KNOT_GENERIC.has(type)) {
        const { len, hex } = canonicalHex(g.rr.type, g.rr.data);
        const generic = `${g.rr.name.toString()} ${g.rr.ttl} IN TYPE${g.rr.type} \\# ${len} ${hex}`.toLowerCase();
        assert.ok(theirs.some((l) => l.toLowerCase() === generic), `kdig lacks ${generic}`);
      } else {
        const line = theirs.find((l) => {
          try {
            return recordEquals(parseRecord(l), g.rr);
          } catch {
            return false;
          }
        });
        assert.ok(line !== undefined, `no kdig line parses to ${ours}`);
        if (g.rr.type !== RRType.CERT) assert.equal(relaxed(line), relaxed(ours));
      }
      compared++;
    }
    assert.equal(compared, golden.length);
  });
});
