// Interop with dnspython (Debian's python3-dnspython, /usr/bin/python3): for every record of the
// golden zone, dnspython builds a message from the zone text and writes its wire form and its
// text; we decode dnspython's bytes and compare the record and the text. The other way round,
// dnspython decodes the bytes WE encode and prints them, and that text must parse (with our
// parser) to the same record. Whole queries with EDNS options built by dnspython are decoded
// and checked field by field.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EncodeMode, Message, Name, Writer, decodeOption, encodeRData, parseRecord, recordEquals, recordToString, toHex, typeToString,
} from '../../src/index.js';
import { PEER_BINARIES, haveDnspython, runTool } from '../helpers/peers.js';
import { normalizeRecordLine } from '../golden/dig-text.js';
import { goldenRecords } from '../golden/zone-records.js';

/** Types dnspython 2.3 (Debian 12) cannot parse by name; it gets them in RFC 3597 form. */
const DNSPYTHON_GENERIC = new Set(['MINFO', 'MB', 'MG', 'MR', 'TA', 'RESINFO', 'WALLET']);

const RECORDS_SCRIPT = String.raw`
import sys, json, dns.message
out = []
for line in sys.stdin.read().split('\n'):
    if not line.strip(): continue
    text, ours = line.split('\t@@\t')
    r = {}
    try:
        m = dns.message.from_text("id 4660\nopcode QUERY\nrcode NOERROR\nflags QR AA\n;QUESTION\ninterop.test. IN A\n;ANSWER\n" + text + "\n")
        r['wire'] = m.to_wire().hex()
        r['text'] = m.answer[0].to_text()
    except Exception as e:
        r['error'] = repr(e)
    try:
        r['fromOurs'] = dns.message.from_wire(bytes.fromhex(ours)).answer[0].to_text()
    except Exception as e:
        r['errorOurs'] = repr(e)
    out.append(r)
print(json.dumps(out))
`;

const QUERIES_SCRIPT = String.raw`
import json, dns.message, dns.edns, dns.flags, dns.rdatatype, dns.rdataclass, dns.opcode
qs = []
q = dns.message.make_query('www.example.com.', 'MX', use_edns=0, payload=1232, want_dnssec=True, id=4242,
    options=[dns.edns.ECSOption('192.0.2.0', 24), dns.edns.GenericOption(10, bytes.fromhex('0102030405060708')),
             dns.edns.GenericOption(12, bytes(17)), dns.edns.GenericOption(65001, b'\xca\xfe')])
q.flags |= dns.flags.CD
qs.append(q)
q = dns.message.make_query('Mixed.Case.Example.', 'TYPE65280', rdclass='CH', use_edns=False, id=1)
q.flags &= ~dns.flags.RD
qs.append(q)
q = dns.message.make_query('a\\.b\\032c.example.', 'SVCB', use_edns=0, payload=4096, id=2,
    options=[dns.edns.ECSOption('2001:db8:1234::', 48, 0), dns.edns.GenericOption(15, b'\x00\x12hello')])
q.set_opcode(dns.opcode.NOTIFY)
qs.append(q)
r = dns.message.make_response(qs[0])
r.set_rcode(16)
qs.append(r)
print(json.dumps([{'wire': m.to_wire().hex(), 'text': m.to_text()} for m in qs]))
`;

interface PyRecord {
  wire?: string;
  text?: string;
  fromOurs?: string;
  error?: string;
  errorOurs?: string;
}

function canonicalGeneric(rrText: string): string {
  const rr = parseRecord(rrText);
  const w = new Writer();
  encodeRData(rr.type, w, rr.data, EncodeMode.Canonical);
  return `${rr.name.toString()} ${rr.ttl} IN TYPE${rr.type} \\# ${w.pos} ${toHex(w.toBytes())}`;
}

/** dnspython prints hex and base32 in lowercase, quotes every SvcParam value and chunks base64: compare without those. */
const relaxed = (l: string): string => normalizeRecordLine(l).replace(/="([^"]*)"/g, '=$1').toLowerCase();

describe('dnspython', () => {
  test('every golden record: dnspython\'s wire decodes to it, and its text matches ours', (t) => {
    if (!haveDnspython(t)) return;
    const golden = goldenRecords();
    const input = golden.map((g) => {
      const type = typeToString(g.rr.type);
      const text = DNSPYTHON_GENERIC.has(type) ? canonicalGeneric(recordToString(g.rr)) : recordToString(g.rr);
      const m = new Message();
      m.id = 4660;
      m.qr = true;
      m.aa = true;
      m.question.push({ name: Name.fromText('interop.test.'), type: 1, class: 1 });
      m.answer.push(g.rr);
      return `${text}\t@@\t${toHex(m.encode())}`;
    }).join('\n');
    const r = runTool(PEER_BINARIES.python3, ['-c', RECORDS_SCRIPT], { input });
    assert.equal(r.status, 0, r.stderr);
    const results = JSON.parse(r.stdout) as PyRecord[];
    assert.equal(results.length, golden.length);
    results.forEach((py, i) => {
      const g = golden[i]!;
      const generic = DNSPYTHON_GENERIC.has(typeToString(g.rr.type));
      assert.equal(py.error, undefined, `dnspython could not read ${g.text}`);
      assert.equal(py.errorOurs, undefined, `dnspython could not decode our wire for ${g.text}`);
      // dnspython's bytes -> our decoder -> the zone's record
      const m = Message.decode(Buffer.from(py.wire!, 'hex'));
      assert.equal(m.id, 4660);
      assert.ok(m.qr && m.aa);
      assert.equal(m.answer.length, 1);
      assert.ok(recordEquals(m.answer[0]!, g.rr), `${g.text}\n decoded as ${recordToString(m.answer[0]!)}`);
      // dnspython's text parses to the same record, and reads like ours
      // (for types dnspython does not know it prints our RDATA as \# hex, and for MINFO/MB/MG/MR,
      // which RFC 1035 lets us compress, that hex holds our compression pointers: skip those)
      for (const text of generic ? [py.text!] : [py.text!, py.fromOurs!]) {
        assert.ok(recordEquals(parseRecord(text), g.rr), `dnspython printed ${text}`);
        if (!generic) assert.equal(relaxed(text), relaxed(recordToString(g.rr)));
      }
    });
  });

  test('queries and responses dnspython builds decode field by field', (t) => {
    if (!haveDnspython(t)) return;
    const r = runTool(PEER_BINARIES.python3, ['-c', QUERIES_SCRIPT]);
    assert.equal(r.status, 0, r.stderr);
    const [q1, q2, q3, resp] = (JSON.parse(r.stdout) as { wire: string; text: string }[]).map((x) => ({
      m: Message.decode(Buffer.from(x.wire, 'hex')), wire: Buffer.from(x.wire, 'hex'), text: x.text,
    }));

    assert.equal(q1!.m.id, 4242);
    assert.ok(q1!.m.rd && q1!.m.cd && !q1!.m.qr);
    assert.equal(q1!.m.question[0]!.name.toString(), 'www.example.com.');
    assert.equal(typeToString(q1!.m.question[0]!.type), 'MX');
    assert.deepEqual([q1!.m.edns!.version, q1!.m.edns!.udpSize, q1!.m.edns!.dnssecOk], [0, 1232, true]);
    assert.deepEqual(q1!.m.edns!.options.map(decodeOption), [
      { code: 8, family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, address: '192.0.2.0' },
      { code: 10, client: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), server: undefined },
      { code: 12, length: 17 },
      { code: 65001, data: Uint8Array.from([0xca, 0xfe]) },
    ]);
    assert.match(q1!.text, /^id 4242$/m);
    assert.match(q1!.text, /^flags RD CD$/m);

    assert.equal(q2!.m.edns, undefined);
    assert.ok(!q2!.m.rd);
    assert.equal(q2!.m.question[0]!.name.toString(), 'Mixed.Case.Example.');
    assert.deepEqual([q2!.m.question[0]!.type, q2!.m.question[0]!.class], [65280, 3]);

    assert.equal(q3!.m.opcode, 4);
    assert.equal(q3!.m.question[0]!.name.toString(), 'a\\.b\\032c.example.');
    assert.equal(q3!.m.edns!.udpSize, 4096);
    assert.deepEqual(q3!.m.edns!.options.map(decodeOption), [
      { code: 8, family: 2, sourcePrefixLength: 48, scopePrefixLength: 0, address: '2001:db8:1234::' },
      { code: 15, infoCode: 18, extraText: 'hello' },
    ]);

    // BADVERS (16): 0 in the header, 1 in the OPT extended RCODE
    assert.equal(resp!.m.rcode, 16);
    assert.ok(resp!.m.qr);
    assert.match(resp!.text, /^rcode BADVERS$/m);
    assert.match(resp!.m.toString(), /status: BADVERS/);

    // our encoder writes dnspython's messages back byte for byte
    for (const x of [q1!, q2!, q3!, resp!]) assert.deepEqual(x.m.encode(), new Uint8Array(x.wire));
  });
});
