// The AXFR built from the wire (src/transfer/axfr-in.ts) against the old path (every record
// decoded by Message.decode and added: fromAxfr), record for record:
// - a zone with every type that carries names in RDATA (test/golden/zones/alltypes.zone and
//   bind-types.zone, plus in-zone targets, mixed case, duplicates that differ only in a name's
//   case, a TTL mismatch), in messages whose names are compressed wherever a pointer can go
//   (RDATA of every type, not only RFC 1035's: a receiver follows pointers anywhere), a few
//   records per message;
// - the same zones as BIND 9.18 sends them (its own compression and message sizes);
// - bad input: what decoding refuses, the wire path refuses too (TransferError), and the
//   transfer-level rules (first SOA, first = last serial, out of zone, SOA off the apex,
//   records after the closing SOA).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TcpConnection } from '../../src/client/exchange.js';
import { TransferError } from '../../src/errors.js';
import { WireAxfrBuilder } from '../../src/transfer/axfr-in.js';
import { fromAxfr } from '../../src/transfer/inbound.js';
import {
  EncodeMode, Message, Name, RRType, type ResourceRecord, Writer, encodeQuestion, encodeRData, parseRecord, typeDef,
} from '../../src/wire/index.js';
import { checkZone } from '../../src/zone/checks.js';
import { loadZone } from '../../src/zone/load.js';
import { printZone } from '../../src/zone/printer.js';
import { type Zone, peekRData } from '../../src/zone/zone.js';
import { type RunningPeer, havePeers, pickPort, startNamed, tempDir } from '../helpers/peers.js';

const GOLDEN = (f: string): string => fileURLToPath(new URL(`../../../test/golden/zones/${f}`, import.meta.url));

const NAMES_ZONE = `$ORIGIN names.example.
$TTL 300
@           SOA    ns1 Hostmaster 7 3600 600 86400 300
@           NS     ns1
@           NS     NS2.Names.Example.
ns1         A      192.0.2.1
NS2         A      192.0.2.2
www         CNAME  ns1
@           MX     10 mail
@           MX     20 MAIL2.names.example.
mail        A      192.0.2.3
mail2       AAAA   2001:db8::3
_sip._tcp   SRV    0 5 5060 sip
_sip._tcp   SRV    0 5 5061 Sip.names.example.
sip         A      192.0.2.4
rp          RP     admin.names.example. txt.names.example.
px          PX     10 map.names.example. x400.names.example.
naptr       NAPTR  100 10 "S" "SIP+D2U" "" _sip._tcp
kx          KX     1 kx
afsdb       AFSDB  1 afsdb
rt          RT     1 rt
minfo       MINFO  box.names.example. err.names.example.
mb          MB     mail
dname       DNAME  target.names.example.
svc         SVCB   1 svc alpn=h2
https       HTTPS  1 . alpn=h3
talink      TALINK ns1 www
MixedCase   A      192.0.2.9
sub         NS     ns.sub
ns.sub      A      192.0.2.10
*           TXT    "wild"
lp          LP     10 ns1
nsec        NSEC   www A RRSIG NSEC
`;

/** Records added after the zone's own: duplicates that differ only in a name's case, a TTL mismatch. */
const EXTRA = [
  '_sip._tcp.names.example. 300 IN SRV 0 5 5060 SIP.NAMES.EXAMPLE.',
  'names.example. 300 IN MX 10 MAIL.names.example.',
  'rp.names.example. 300 IN RP ADMIN.names.example. txt.names.example.',
  'px.names.example. 300 IN PX 10 map.NAMES.example. x400.names.example.',
  'mixedcase.names.example. 300 IN A 192.0.2.9',
  'ns1.names.example. 600 IN A 192.0.2.99',
  'www.names.example. 300 IN CNAME NS1.names.example.',
].map((t) => parseRecord(t));

/** Every record of `zone`, SOA first and last (an AXFR's records). */
function axfrRecords(zone: Zone, extra: ResourceRecord[] = []): ResourceRecord[] {
  const soa = zone.soa!;
  const out: ResourceRecord[] = [soa];
  for (const node of zone.nodes()) {
    for (const set of node.rrsets) {
      if (set.type === RRType.SOA) continue;
      for (const d of peekRData(set)) out.push({ name: node.name, type: set.type, class: set.class, ttl: set.ttl, data: d });
    }
  }
  out.push(...extra, soa);
  return out;
}

/**
 * AXFR messages of `records`, `perMessage` records each. With `compressAll`, every name in
 * RDATA that the generic fields walk writes is compressed (pointers in any type); otherwise
 * the encoder's own rules (RFC 1035 types only).
 */
function messagesOf(origin: Name, records: ResourceRecord[], perMessage: number, compressAll: boolean): Uint8Array[] {
  const out: Uint8Array[] = [];
  const w = new Writer();
  for (let i = 0; i < records.length; i += perMessage) {
    const chunk = records.slice(i, i + perMessage);
    w.reset();
    w.u16(0x1234);
    w.u16(0x8400);
    w.u16(i === 0 ? 1 : 0);
    w.u16(chunk.length);
    w.u16(0);
    w.u16(0);
    if (i === 0) encodeQuestion(w, { name: origin, type: RRType.AXFR, class: 1 });
    for (const rr of chunk) {
      w.name(rr.name, true);
      w.u16(rr.type);
      w.u16(rr.class);
      w.u32(rr.ttl);
      const at = w.pos;
      w.u16(0);
      const def = typeDef(rr.type);
      if (compressAll && def !== undefined && !def.ownDecode) {
        const o = rr.data as Record<string, unknown>;
        for (const f of def.fields) {
          if (f.kind === 'name') w.name(o[f.key] as Name, true);
          else f.encode(w, o[f.key], EncodeMode.Message, o);
        }
      } else {
        encodeRData(rr.type, w, rr.data, EncodeMode.Message);
      }
      w.setU16(at, w.pos - at - 2);
    }
    out.push(w.toBytes());
  }
  return out;
}

function wireZone(origin: Name, messages: Uint8Array[]): Zone {
  const b = new WireAxfrBuilder(origin);
  for (const m of messages) b.addMessage(m);
  const zone = b.finish();
  zone.finish();
  return zone;
}

function decodedZone(origin: Name, messages: Uint8Array[]): Zone {
  const records: ResourceRecord[] = [];
  for (const m of messages) records.push(...Message.decode(m).answer);
  return fromAxfr(origin, records);
}

/** Both zones hold the same records: printed alike, same counts, same warnings and check results. */
function assertSameZone(a: Zone, b: Zone): void {
  assert.deepEqual([...printZone(a)], [...printZone(b)]);
  assert.equal(a.recordCount, b.recordCount);
  assert.deepEqual(a.warnings.map((w) => `${w.name.toString()} ${w.type} ${w.reason}`), b.warnings.map((w) => `${w.name.toString()} ${w.type} ${w.reason}`));
  const problems = (z: Zone): string[] => checkZone(z, z.origin.toString()).map((p) => `${p.severity} ${p.reason}`);
  assert.deepEqual(problems(a), problems(b));
  // Names keep their case as first seen, RDATA decodes to the same values (printZone shows both).
  for (const node of a.nodes()) {
    const other = b.node(node.name)!;
    assert.equal(other.name.toString(), node.name.toString());
    for (const set of node.rrsets) {
      const o = other.get(set.type)!;
      assert.equal(o.ttl, set.ttl, `${node.name.toString()} ${set.type} TTL`);
      assert.deepEqual(peekRData(o).map(String), peekRData(set).map(String));
    }
  }
}

const SOURCES: [string, string, string | undefined][] = [
  ['alltypes.example.', GOLDEN('alltypes.zone'), undefined],
  ['bindtypes.example.', GOLDEN('bind-types.zone'), undefined],
  ['names.example.', '', NAMES_ZONE],
];

function loadSource(dir: string, origin: string, file: string, text: string | undefined): { zone: Zone; file: string } {
  let path = file;
  if (text !== undefined) {
    path = join(dir, `${origin}zone`);
    writeFileSync(path, text);
  }
  return { zone: loadZone(path, Name.fromText(origin)).zone!, file: path };
}

describe('AXFR in from the wire equals the decoded path', () => {
  const dir = tempDir('sovereign-axfr-in-');
  after(() => dir.cleanup());

  for (const [origin, file, text] of SOURCES) {
    test(`${origin}: every name-carrying type, names compressed everywhere, several messages`, () => {
      const o = Name.fromText(origin);
      const { zone } = loadSource(dir.path, origin, file, text);
      const records = axfrRecords(zone, origin === 'names.example.' ? EXTRA : []);
      for (const [per, all] of [[1, true], [3, true], [7, false], [1000, true]] as const) {
        const messages = messagesOf(o, records, per, all);
        const fast = wireZone(o, messages);
        const old = decodedZone(o, messages);
        assertSameZone(fast, old);
        // Duplicates dropped as the loader drops them (the extras add one record: the A with another TTL).
        assert.equal(fast.recordCount, zone.recordCount + (origin === 'names.example.' ? 1 : 0), `${per} per message`);
      }
    });
  }

  test('the names-zone extras: case-only duplicates dropped, the TTL mismatch warned, compression pointers really in RDATA', () => {
    const o = Name.fromText('names.example.');
    const { zone } = loadSource(dir.path, 'names.example.', '', NAMES_ZONE);
    const messages = messagesOf(o, axfrRecords(zone, EXTRA), 1000, true);
    const fast = wireZone(o, messages);
    assert.equal(fast.getRRset(Name.fromText('_sip._tcp.names.example.'), RRType.SRV)!.rdata.length, 2);
    assert.equal(fast.getRRset(Name.fromText('names.example.'), RRType.MX)!.rdata.length, 2);
    assert.equal(fast.getRRset(Name.fromText('ns1.names.example.'), RRType.A)!.rdata.length, 2);
    assert.equal(fast.getRRset(Name.fromText('ns1.names.example.'), RRType.A)!.ttl, 300);
    assert.equal(fast.warnings.length, 1);
    // The RP record's second name went as a pointer (c0 xx) in the message, and is whole in the zone.
    const rp = messages[0]!;
    const rpData = decodedZone(o, messages).getRRset(Name.fromText('rp.names.example.'), RRType.RP)!;
    assert.ok(rp.length < messagesOf(o, axfrRecords(zone, EXTRA), 1000, false)[0]!.length, 'compressing every name makes the message smaller');
    assert.equal(String((fast.getRRset(Name.fromText('rp.names.example.'), RRType.RP)!.rdata[0] as { txt: Name }).txt), 'txt.names.example.');
    assert.equal(rpData.rdata.length, 1);
  });
});

describe('AXFR in from the wire: what BIND sends', { concurrency: false }, () => {
  const dir = tempDir('sovereign-axfr-in-bind-');
  const address = '127.31.9.2';
  const port = pickPort();
  let named: RunningPeer | undefined;
  const files: [string, string][] = [];
  before(async () => {
    mkdirSync(join(dir.path, 'z'));
    for (const [origin, file, text] of SOURCES) {
      const path = join(dir.path, 'z', `${origin}zone`);
      writeFileSync(path, text ?? readFileSync(file, 'utf8'));
      files.push([origin, path]);
    }
    try {
      named = await startNamed(join(dir.path), address, port, files.map(([name, file]) => ({ name: name.slice(0, -1), file })),
        'check-names primary ignore; check-integrity no;');
    } catch {
      named = undefined;
    }
  });
  after(async () => {
    await named?.stop();
    dir.cleanup();
  });

  test('each zone as BIND transfers it: the wire path and the decoded path agree, and equal the zone file', async (t) => {
    if (!havePeers(t, 'named')) return;
    assert.ok(named !== undefined, 'named started');
    for (const [origin, file] of files) {
      const o = Name.fromText(origin);
      const conn = await TcpConnection.connect({ address, port }, { timeoutMs: 10_000 });
      const messages: Uint8Array[] = [];
      let soas = 0;
      try {
        for await (const b of conn.streamBytes(Message.query(o, RRType.AXFR, { rd: false }), { idleTimeoutMs: 10_000 })) {
          messages.push(Uint8Array.from(b));
          const m = Message.decode(b);
          assert.equal(m.rcode, 0, `${origin}: BIND answers the AXFR`);
          for (const rr of m.answer) if (rr.type === RRType.SOA) soas++;
          if (soas >= 2) break;
        }
      } finally {
        conn.close();
      }
      const fast = wireZone(o, messages);
      assertSameZone(fast, decodedZone(o, messages));
      const loaded = loadZone(file, o).zone!;
      const lower = (z: Zone): string[] => [...printZone(z)].map((l) => l.toLowerCase()).sort();
      assert.deepEqual(lower(fast), lower(loaded), `${origin}: the transferred zone is the file's`);
    }
  });
});

describe('AXFR in from the wire: bad input', () => {
  const o = Name.fromText('bad.example.');
  const soa = (serial: number): ResourceRecord => parseRecord(`bad.example. 300 IN SOA ns1.bad.example. host.bad.example. ${serial} 3600 600 86400 300`);
  const rec = (t: string): ResourceRecord => parseRecord(t);
  const good = [soa(5), rec('bad.example. 300 IN NS ns1.bad.example.'), rec('ns1.bad.example. 300 IN A 192.0.2.1'),
    rec('www.bad.example. 300 IN CNAME ns1.bad.example.'), rec('t.bad.example. 300 IN TXT "x"'), soa(5)];

  /** Both paths refuse the messages (the wire path with a TransferError matching `why`). */
  function refused(messages: Uint8Array[], why: RegExp): void {
    assert.throws(() => wireZone(o, messages), (e: unknown) => e instanceof TransferError && why.test(e.message), String(why));
    assert.throws(() => decodedZone(o, messages));
  }

  /** The single message of `records` with byte `at` (counted from the end of the message when negative) set to `v`. */
  function patched(records: ResourceRecord[], patch: (b: Uint8Array) => void): Uint8Array[] {
    const [m] = messagesOf(o, records, 1000, false);
    const b = Uint8Array.from(m!);
    patch(b);
    return [b];
  }

  test('the good stream builds', () => {
    assertSameZone(wireZone(o, messagesOf(o, good, 2, true)), decodedZone(o, messagesOf(o, good, 2, true)));
  });

  test('transfer rules: first and last SOA differ, no SOA first, out-of-zone record, SOA off the apex, records after the closing SOA, no closing SOA', () => {
    refused(messagesOf(o, [...good.slice(0, -1), soa(6)], 2, false), /first and last SOA differ/);
    refused(messagesOf(o, good.slice(1), 2, false), /does not start with an SOA/);
    refused(messagesOf(o, [...good.slice(0, -1), rec('www.other.example. 300 IN A 192.0.2.7'), soa(5)], 2, false), /out-of-zone record www\.other\.example\./);
    // Any SOA after the first ends an AXFR (RFC 5936 §2.2): what follows it is refused.
    refused(messagesOf(o, [...good.slice(0, -1), rec('sub.bad.example. 300 IN SOA a.b. c.d. 5 1 1 1 1'), soa(5)], 100, false), /after the closing SOA/);
    refused(messagesOf(o, [rec('sub.bad.example. 300 IN SOA ns1.bad.example. host.bad.example. 5 3600 600 86400 300'), ...good.slice(1)], 100, false),
      /SOA at sub\.bad\.example\., not at the apex/);
    refused(messagesOf(o, [soa(5), rec('sub.bad.example. 300 IN SOA a.b. c.d. 9 1 1 1 1'), ...good.slice(1)], 100, false), /first and last SOA differ/);
    assert.throws(() => wireZone(o, messagesOf(o, [...good, rec('x.bad.example. 300 IN A 192.0.2.8')], 100, false)), /after the closing SOA/);
    assert.throws(() => wireZone(o, messagesOf(o, good.slice(0, -1), 100, false)), /does not end with an SOA/);
  });

  test('malformed RDATA and names: refused as decoding refuses them', () => {
    // The CNAME (4th record) target made a forward pointer: the last two octets of its RDATA.
    const cnameAt = (b: Uint8Array): number => {
      const i = Buffer.from(b).indexOf(Buffer.from([0, 5, 0, 1])); // type CNAME, class IN
      return i + 10; // RDATA start (type, class, ttl, rdlength)
    };
    refused(patched(good, (b) => { const p = cnameAt(b); b[p] = 0xc0; b[p + 1] = 0xff; }), /pointer|name/);
    // A label type 0x40 in the CNAME target.
    refused(patched(good, (b) => { b[cnameAt(b)] = 0x41; }), /name|label/);
    // The A record's RDLENGTH 4 -> 3 (and the message shorter by nothing: the rest misreads).
    refused(patched(good, (b) => { const i = Buffer.from(b).indexOf(Buffer.from([192, 0, 2, 1])); b[i - 1] = 3; }), /A RDATA|malformed|RDATA|octets/);
    // The TXT character-string's length running past its RDATA.
    refused(patched(good, (b) => { const i = Buffer.from(b).lastIndexOf(Buffer.from([1, 0x78])); b[i] = 9; }), /character-string|RDATA|malformed/);
    // A message cut short in the middle of a record.
    const [m] = messagesOf(o, good, 1000, false);
    refused([m!.subarray(0, m!.length - 20)], /malformed|past the end|RDATA|name/);
  });
});
