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
  EncodeMode, Message, RRType, Writer, encodeRData, recordEquals, recordToString, toHex, typeDef, typeToString,
} from '../../src/index.js';
import { PEER_BINARIES, type RunningPeer, havePeers, startKnot, tempDir } from '../helpers/peers.js';
import {
  UdpTap, digMessageBlock, normalizeMessageText, normalizeRecordLine, recordLines, runAsync, tcpExchange,
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

let knot: RunningPeer | undefined;
let dir: { path: string; cleanup(): void } | undefined;
let relay: UdpTap | undefined;

describe('Knot responses', () => {
  before(async () => {
    if (!existsSync(PEER_BINARIES.knotd)) return; // each test then skips (or fails in CI) via havePeers
    dir = tempDir('sovereign-wire-knot-');
    const file = join(dir.path, 'interop.zone');
    writeFileSync(file, knotZone());
    knot = await startKnot(dir.path, KNOT, PORT, [{ name: GOLDEN_ORIGIN, file }]);
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

  test('kdig prints the records we print (generic ones as the same \\# hex)', async (t) => {
    if (!havePeers(t, 'knotd', 'kdig')) return;
    const r = await runAsync(PEER_BINARIES.kdig, [`@${KNOT}`, '-p', String(PORT), '+tcp', '+noall', '+answer', 'AXFR', GOLDEN_ORIGIN]);
    assert.equal(r.code, 0, r.stderr);
    const theirs = recordLines(r.stdout);
    // dig and kdig differ on how they print SVCB values: dig (and we) quote alpn and keyNNNN
    // values, kdig does not. Both are valid RFC 9460 presentation; compare without the quotes.
    const unquoteSvcb = (l: string): string => (/ (SVCB|HTTPS) /i.test(l) ? l.replace(/="([^"]*)"/g, '=$1') : l);
    let compared = 0;
    for (const g of golden) {
      const ours = normalizeRecordLine(recordToString(g.rr));
      const type = typeToString(g.rr.type);
      if (KNOT_GENERIC.has(type)) {
        const { len, hex } = canonicalHex(g.rr.type, g.rr.data);
        const generic = `${g.rr.name.toString()} ${g.rr.ttl} IN TYPE${g.rr.type} \\# ${len} ${hex}`.toLowerCase();
        assert.ok(theirs.some((l) => l.toLowerCase() === generic), `kdig lacks ${generic}`);
      } else {
        // Knot lowercases domain names inside RDATA when it loads a zone (`Mail2.Interop.Test.`
        // is served as `mail2.interop.test.`), so for types with name fields case is not compared.
        // kdig also prints the NSEC3 next hashed owner in lowercase base32hex; dig (and we) in uppercase.
        const hasName = typeDef(g.rr.type)?.fields.some((f) => f.kind === 'name') === true || g.rr.type === RRType.NSEC3;
        assert.ok(theirs.some((l) => unquoteSvcb(l) === unquoteSvcb(ours) ||
          (hasName && unquoteSvcb(l).toLowerCase() === unquoteSvcb(ours).toLowerCase())), `kdig prints differently: ${ours}`);
      }
      compared++;
    }
    assert.equal(compared, golden.length);
  });
});
