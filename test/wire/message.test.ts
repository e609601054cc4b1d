// Messages (RFC 1035 §4.1): header flags, opcodes, RCODEs (extended ones via OPT, RFC 6891 §6.1.3),
// the four sections, EDNS(0), and encoding into a size limit (whole RRsets dropped, TC per RFC 2181 §9).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EncodeError, Flag, Message, Name, Opcode, RRType, Rcode, WireFormatError, newEdns, opcodeToString, option,
  parseRecord, rcodeFromString, rcodeToString, recordToString,
} from '../../src/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

/** A response with every section filled (zone text, one RR per line). */
function response(): Message {
  const m = new Message();
  m.id = 0x1234;
  m.qr = true;
  m.aa = true;
  m.rd = true;
  m.question.push({ name: Name.fromText('www.example.com.'), type: RRType.A, class: 1 });
  m.answer.push(parseRecord('www.example.com. 300 IN CNAME web.example.com.'));
  m.answer.push(parseRecord('web.example.com. 300 IN A 192.0.2.1'));
  m.answer.push(parseRecord('web.example.com. 300 IN A 192.0.2.2'));
  m.authority.push(parseRecord('example.com. 86400 IN NS ns1.example.com.'));
  m.authority.push(parseRecord('example.com. 86400 IN NS ns2.example.net.'));
  m.additional.push(parseRecord('ns1.example.com. 86400 IN A 192.0.2.53'));
  m.additional.push(parseRecord('ns1.example.com. 86400 IN AAAA 2001:db8::53'));
  return m;
}

describe('header', () => {
  test('a dig query decodes field by field', () => {
    // dig +noedns www.example.com A (id 0xabcd, RD)
    const m = Message.decode(bytes('abcd 0100 0001 0000 0000 0000 03777777076578616d706c6503636f6d00 0001 0001'));
    assert.equal(m.id, 0xabcd);
    assert.deepEqual([m.qr, m.opcode, m.aa, m.tc, m.rd, m.ra, m.z, m.ad, m.cd, m.rcode],
      [false, 0, false, false, true, false, false, false, false, 0]);
    assert.equal(m.question.length, 1);
    assert.equal(m.question[0]!.name.toString(), 'www.example.com.');
    assert.equal(m.edns, undefined);
  });

  const flags: [keyof Message & string, number][] = [
    ['qr', Flag.QR], ['aa', Flag.AA], ['tc', Flag.TC], ['rd', Flag.RD], ['ra', Flag.RA], ['z', Flag.Z], ['ad', Flag.AD],
    ['cd', Flag.CD],
  ];
  for (const [field, bit] of flags) {
    test(`flag ${field} is bit 0x${bit.toString(16)} and round-trips alone`, () => {
      const m = Message.query('example.', RRType.A, { rd: false });
      (m as unknown as Record<string, boolean>)[field] = true;
      const wire = m.encode();
      assert.equal((wire[2]! << 8) | wire[3]!, bit);
      const back = Message.decode(wire);
      for (const [other] of flags) assert.equal((back as unknown as Record<string, boolean>)[other], other === field, other);
    });
  }

  test('every opcode round-trips and has dig\'s name', () => {
    for (let op = 0; op < 16; op++) {
      const m = Message.query('example.', RRType.SOA);
      m.opcode = op;
      const wire = m.encode();
      assert.equal((wire[2]! >> 3) & 0xf, op);
      assert.equal(Message.decode(wire).opcode, op);
    }
    assert.deepEqual([0, 1, 2, 4, 5, 6, 3].map(opcodeToString), ['QUERY', 'IQUERY', 'STATUS', 'NOTIFY', 'UPDATE', 'DSO', '3']);
    assert.equal(Opcode.NOTIFY, 4);
  });

  test('every 4-bit RCODE round-trips without EDNS', () => {
    for (let rc = 0; rc < 16; rc++) {
      const m = response();
      m.rcode = rc;
      const back = Message.decode(m.encode());
      assert.equal(back.rcode, rc);
    }
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map(rcodeToString), ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN',
      'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE', 'DSOTYPENI']);
    assert.equal(rcodeToString(12), 'RESERVED12');
    assert.equal(rcodeFromString('nxdomain'), 3);
  });

  test('extended RCODEs travel in the OPT TTL (RFC 6891 §6.1.3)', () => {
    for (const rc of [Rcode.BADVERS, Rcode.BADCOOKIE, Rcode.BADTRUNC, 0xfff]) {
      const m = response();
      m.edns = newEdns();
      m.rcode = rc;
      const wire = m.encode();
      assert.equal(wire[3]! & 0xf, rc & 0xf, 'low 4 bits in the header');
      const back = Message.decode(wire);
      assert.equal(back.rcode, rc);
      assert.equal(rcodeToString(back.rcode), rcodeToString(rc));
    }
    // BADVERS: header 0, OPT extended RCODE 1 (dig: "status: BADVERS")
    const badvers = bytes('0001 8000 0000 0000 0000 0001 00 0029 04d0 01 00 0000 0000');
    assert.equal(Message.decode(badvers).rcode, 16);
    assert.match(Message.decode(badvers).toString(), /status: BADVERS/);
  });
});

describe('sections', () => {
  test('all four sections round-trip, with compression', () => {
    const m = response();
    m.edns = newEdns({ udpSize: 1232, dnssecOk: true });
    const wire = m.encode();
    const back = Message.decode(wire);
    assert.equal(back.answer.length, 3);
    assert.equal(back.authority.length, 2);
    assert.equal(back.additional.length, 2);
    for (const [a, b] of [[m.answer, back.answer], [m.authority, back.authority], [m.additional, back.additional]] as const) {
      assert.deepEqual(b.map(recordToString), a.map(recordToString));
    }
    assert.equal(Message.decode(back.encode()).toString(), back.toString(), 'decode -> encode -> decode is stable');
    assert.deepEqual(back.encode(), wire, 'byte for byte');
    // the owner of the first answer is a pointer to the question name at offset 12
    assert.equal(hex(wire.subarray(33, 35)), 'c00c');
    assert.ok(wire.length < 200, `compressed size ${wire.length}`);
  });

  test('counts in the header match the sections', () => {
    const m = response();
    const w = m.encode();
    assert.equal(hex(w.subarray(4, 12)), '0001000300020002');
  });

  test('dig-like text', () => {
    const m = response();
    m.edns = newEdns({ udpSize: 1232, dnssecOk: true });
    const text = Message.decode(m.encode()).toString();
    assert.match(text, /;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4660/);
    assert.match(text, /;; flags: qr aa rd; QUERY: 1, ANSWER: 3, AUTHORITY: 2, ADDITIONAL: 3/);
    assert.match(text, /; EDNS: version: 0, flags: do; udp: 1232/);
    assert.match(text, /;; QUESTION SECTION:\n;www\.example\.com\.\t\tIN\tA/);
    assert.match(text, /;; ANSWER SECTION:\nwww\.example\.com\.\t300\tIN\tCNAME\tweb\.example\.com\./);
  });

  test('a query helper builds what stub resolvers send', () => {
    const q = Message.query('example.com.', RRType.MX, { id: 7, edns: newEdns({ udpSize: 4096 }) });
    assert.equal(hex(q.encode()), '0007010000010000000000010765' + '78616d706c6503636f6d00000f0001' + '00 0029 1000 00000000 0000'.replace(/ /g, ''));
  });
});

describe('EDNS(0) (RFC 6891)', () => {
  test('version, DO, UDP size, Z flags and options round-trip', () => {
    const m = Message.query('example.', RRType.A);
    m.edns = newEdns({
      version: 0, udpSize: 4096, dnssecOk: true, zFlags: 0x0123,
      options: [option.cookie(bytes('0102030405060708')), { code: 65001, data: bytes('cafe') }],
    });
    const back = Message.decode(m.encode());
    assert.deepEqual(back.edns, m.edns);
    // one OPT record in ADDITIONAL, owner root
    const w = m.encode();
    assert.equal(hex(w.subarray(10, 12)), '0001');
  });

  test('version 1 is decoded as given (the server answers BADVERS, not the codec)', () => {
    const m = Message.query('example.', RRType.A);
    m.edns = newEdns({ version: 1 });
    assert.equal(Message.decode(m.encode()).edns!.version, 1);
  });

  test('OPT placement rules are enforced', () => {
    const two = bytes('0001 0000 0000 0000 0000 0002 00 0029 1000 00000000 0000 00 0029 1000 00000000 0000');
    assert.throws(() => Message.decode(two), /more than one OPT/);
    const owner = bytes('0001 0000 0000 0000 0000 0001 0161 00 0029 1000 00000000 0000');
    assert.throws(() => Message.decode(owner), /not the root/);
    const inAnswer = bytes('0001 0000 0000 0001 0000 0000 00 0029 1000 00000000 0000');
    assert.throws(() => Message.decode(inAnswer), (e: unknown) => e instanceof WireFormatError && e.offset === 12 && /answer section/.test(e.message));
    const inAuthority = bytes('0001 0000 0000 0000 0001 0000 00 0029 1000 00000000 0000');
    assert.throws(() => Message.decode(inAuthority), /OPT in the authority section/);
  });
});

describe('encoding into a size limit', () => {
  /** A response whose answer is `n` TXT RRsets of one record each (~110 octets each). */
  function big(n: number, additional = 0): Message {
    const m = new Message();
    m.qr = true;
    m.question.push({ name: Name.fromText('big.example.'), type: RRType.TXT, class: 1 });
    for (let i = 0; i < n; i++) m.answer.push(parseRecord(`t${i}.big.example. 60 IN TXT "${'x'.repeat(100)}"`));
    for (let i = 0; i < additional; i++) m.additional.push(parseRecord(`a${i}.big.example. 60 IN A 192.0.2.${i}`));
    return m;
  }

  test('fits: nothing dropped, no TC', () => {
    const m = big(3, 2);
    const back = Message.decode(m.encode({ maxSize: 512 }));
    assert.equal(back.tc, false);
    assert.equal(back.answer.length, 3);
    assert.equal(back.additional.length, 2);
  });

  test('answer too big for 512: whole RRsets from the end are dropped and TC is set', () => {
    const m = big(10);
    const wire = m.encode({ maxSize: 512 });
    assert.ok(wire.length <= 512);
    const back = Message.decode(wire);
    assert.equal(back.tc, true);
    assert.ok(back.answer.length > 0 && back.answer.length < 10);
    assert.deepEqual(back.answer.map((r) => r.name.toString()), m.answer.slice(0, back.answer.length).map((r) => r.name.toString()));
    assert.equal(m.tc, false, 'the message object is not changed');
  });

  test('an RRset is never split: all of it or none of it', () => {
    const m = new Message();
    m.qr = true;
    m.question.push({ name: Name.fromText('set.example.'), type: RRType.A, class: 1 });
    for (let i = 0; i < 40; i++) m.answer.push(parseRecord(`set.example. 60 IN A 192.0.2.${i}`));
    const back = Message.decode(m.encode({ maxSize: 512 }));
    assert.equal(back.tc, true);
    assert.equal(back.answer.length, 0);
  });

  test('RRSIGs stay with the RRset they cover', () => {
    const m = new Message();
    m.qr = true;
    m.question.push({ name: Name.fromText('s.example.'), type: RRType.A, class: 1 });
    m.answer.push(parseRecord('s.example. 60 IN A 192.0.2.1'));
    m.answer.push(parseRecord(`s.example. 60 IN RRSIG A 8 2 60 20240101000000 20230101000000 1 example. ${'A'.repeat(340)}`));
    m.answer.push(parseRecord('s.example. 60 IN TXT "x"'));
    m.answer.push(parseRecord(`s.example. 60 IN RRSIG TXT 8 2 60 20240101000000 20230101000000 1 example. ${'A'.repeat(340)}`));
    const back = Message.decode(m.encode({ maxSize: 512 }));
    assert.equal(back.tc, true);
    assert.deepEqual(back.answer.map((r) => r.type), [RRType.A, RRType.RRSIG]);
  });

  test('additional data that does not fit is dropped silently (no TC)', () => {
    const m = big(3, 40);
    const back = Message.decode(m.encode({ maxSize: 512 }));
    assert.equal(back.tc, false);
    assert.equal(back.answer.length, 3);
    assert.ok(back.additional.length < 40);
  });

  test('authority that does not fit sets TC', () => {
    const m = big(0);
    for (let i = 0; i < 10; i++) m.authority.push(parseRecord(`n${i}.big.example. 60 IN TXT "${'y'.repeat(100)}"`));
    const back = Message.decode(m.encode({ maxSize: 512 }));
    assert.equal(back.tc, true);
    assert.ok(back.authority.length < 10);
  });

  test('the OPT record always survives and the EDNS size is the limit', () => {
    const m = big(30);
    m.edns = newEdns({ udpSize: 1232, options: [option.padding(20)] });
    const small = Message.decode(m.encode({ maxSize: 512 }));
    assert.ok(small.edns !== undefined);
    assert.equal(small.tc, true);
    const wire = m.encode({ maxSize: 1232 });
    assert.ok(wire.length <= 1232 && wire.length > 512);
    const back = Message.decode(wire);
    assert.ok(back.edns !== undefined);
    assert.ok(back.answer.length > small.answer.length);
  });

  test('when even the question does not fit: EncodeError', () => {
    const m = Message.query('a.example.', RRType.A);
    m.edns = newEdns({ options: [option.padding(600)] });
    assert.throws(() => m.encode({ maxSize: 512 }), EncodeError);
  });
});
