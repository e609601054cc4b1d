// Bad input: short buffers, lying counts, RDLENGTH that disagrees with the RDATA, bad pointers,
// trailing garbage, oversize names. Each is ONE WireFormatError saying what and where; nothing
// else escapes and nothing hangs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Message, Name, RRType, Reader, WireFormatError, newEdns, parseRecord } from '../../src/index.js';

const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

function expectWireError(buf: Uint8Array, reason: RegExp, offset?: number): WireFormatError {
  let caught: unknown;
  try {
    Message.decode(buf);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof WireFormatError, `expected WireFormatError, got ${String(caught)}`);
  assert.match(caught.message, reason);
  assert.ok(caught.offset >= 0 && caught.offset <= buf.length, `offset ${caught.offset} inside the message`);
  if (offset !== undefined) assert.equal(caught.offset, offset);
  assert.equal(caught.code, 'ERR_DNS_WIRE_FORMAT');
  assert.equal(caught.rcode, 1, 'FORMERR');
  assert.match(caught.message, / at offset \d+: /);
  return caught;
}

const HEADER = (qd: number, an: number, ns: number, ar: number): string =>
  '1234 8180' + [qd, an, ns, ar].map((n) => n.toString(16).padStart(4, '0')).join('');
const Q = '076578616d706c6500 0001 0001'; // example. A IN, at offset 12
const RR = (type: string, rdlen: number, rdata: string): string =>
  `c00c ${type} 0001 00000e10 ${rdlen.toString(16).padStart(4, '0')} ${rdata}`;

describe('short buffers', () => {
  test('anything under 12 octets', () => {
    for (let n = 0; n < 12; n++) expectWireError(new Uint8Array(n), /shorter than the 12-octet header/, 0);
  });
  test('every truncation of a real response fails cleanly', () => {
    const m = new Message();
    m.qr = true;
    m.question.push({ name: Name.fromText('www.example.com.'), type: RRType.MX, class: 1 });
    m.answer.push(parseRecord('www.example.com. 60 IN MX 10 mail.example.com.'));
    m.answer.push(parseRecord('www.example.com. 60 IN TXT "a" "bc"'));
    m.authority.push(parseRecord('example.com. 60 IN SOA ns.example.com. h.example.com. 1 2 3 4 5'));
    m.additional.push(parseRecord('mail.example.com. 60 IN AAAA 2001:db8::1'));
    m.edns = newEdns({ options: [{ code: 10, data: new Uint8Array(8) }] });
    const full = m.encode();
    Message.decode(full);
    for (let n = 0; n < full.length; n++) expectWireError(full.subarray(0, n), /./);
  });
});

describe('lying counts', () => {
  test('a question count with no question', () => {
    expectWireError(bytes(HEADER(1, 0, 0, 0)), /counts .* need more octets/, 4);
  });
  test('counts that cannot fit are refused before looping', () => {
    expectWireError(bytes(HEADER(65535, 65535, 65535, 65535) + Q), /counts/, 4);
  });
  test('more answers claimed than present', () => {
    expectWireError(bytes(HEADER(1, 2, 0, 0) + Q + RR('0001', 4, 'c0000201')), /runs past the end|needs/);
  });
  test('fewer records claimed than present: trailing data', () => {
    expectWireError(bytes(HEADER(1, 0, 0, 0) + Q + RR('0001', 4, 'c0000201')), /16 octets of trailing data/, 25);
  });
});

describe('RDLENGTH against the RDATA', () => {
  test('A with RDLENGTH 5', () => {
    expectWireError(bytes(HEADER(1, 1, 0, 0) + Q + RR('0001', 5, 'c000020101')), /A RDATA.*fields take 4 octets, RDLENGTH says 5/);
  });
  test('A with RDLENGTH 3', () => {
    expectWireError(bytes(HEADER(1, 1, 0, 0) + Q + RR('0001', 3, 'c00002')), /needs 4 octets, 3 left/);
  });
  test('MX whose name ends before RDLENGTH', () => {
    expectWireError(bytes(HEADER(1, 1, 0, 0) + Q + RR('000f', 6, '000a c00c 0000')), /MX RDATA.*fields take 4 octets, RDLENGTH says 6/);
  });
  test('MX whose name runs past RDLENGTH (into the next record)', () => {
    expectWireError(bytes(HEADER(1, 1, 0, 0) + Q + RR('000f', 4, '000a 0161 00')), /runs past the end/);
  });
  test('RDLENGTH past the end of the message', () => {
    expectWireError(bytes(HEADER(1, 1, 0, 0) + Q + RR('0001', 8, 'c0000201')), /RDLENGTH 8 runs past the end of the message/);
  });
  test('TXT character-string longer than its RDATA', () => {
    expectWireError(bytes(HEADER(1, 1, 0, 0) + Q + RR('0010', 3, '05 6162')), /character-string of 5 octets runs past RDATA end/);
  });
  test('NSEC bitmap window with length 0 or 33, or out of order', () => {
    const bad = ['00 00', '00 21' + '00'.repeat(33), '01 01 40 00 01 40'];
    for (const bm of bad) {
      const rdata = '00' + bm.replace(/\s+/g, '');
      expectWireError(bytes(HEADER(1, 1, 0, 0) + Q + RR('002f', rdata.length / 2, rdata)), /type bit map/);
    }
  });
  test('SVCB with keys out of order or malformed known values', () => {
    for (const params of ['0003 0002 0035 0001 0003 026832', '0003 0001 35', '0004 0003 c00002', '0001 0000', '0000 0002 0000']) {
      const rdata = '0001 00 ' + params;
      const h = rdata.replace(/\s+/g, '');
      expectWireError(bytes(HEADER(1, 1, 0, 0) + Q + RR('0040', h.length / 2, h)), /params/);
    }
  });
  test('unknown types take their RDATA as opaque bytes, any length', () => {
    const m = Message.decode(bytes(HEADER(1, 1, 0, 0) + Q + RR('ff00', 3, 'abcdef')));
    assert.deepEqual(m.answer[0]!.data, { rdata: bytes('abcdef') });
  });
});

describe('pointers', () => {
  test('owner name pointing forward', () => {
    expectWireError(bytes(HEADER(1, 1, 0, 0) + Q + 'c01d 0001 0001 00000e10 0004 c0000201'), /compression pointer to 29 is not backwards/, 25);
  });
  test('owner name pointing at itself', () => {
    expectWireError(bytes(HEADER(1, 1, 0, 0) + Q + 'c019 0001 0001 00000e10 0004 c0000201'), /not backwards/);
  });
  test('two pointers forming a loop', () => {
    // question name at 12 is a pointer to 14, which is a pointer back to 12
    expectWireError(bytes(HEADER(1, 0, 0, 0) + 'c00e c00c 0001 0001'), /not backwards/, 12);
  });
  test('a pointer inside RDATA that loops', () => {
    expectWireError(bytes(HEADER(1, 1, 0, 0) + Q + RR('0002', 2, 'c029')), /not backwards/);
  });
  test('pointer beyond the message', () => {
    expectWireError(bytes(HEADER(1, 0, 0, 0) + 'ffff 0001 0001'), /not backwards/);
  });
  test('reserved label types 01 and 10', () => {
    expectWireError(bytes(HEADER(1, 0, 0, 0) + '4161 00 0001 0001'), /unknown label type 0x40/, 12);
    expectWireError(bytes(HEADER(1, 0, 0, 0) + '8161 00 0001 0001'), /unknown label type 0x80/, 12);
  });
});

describe('oversize names', () => {
  test('a 256-octet name written without compression', () => {
    const label = '3f' + '61'.repeat(63);
    const name = label.repeat(4) + '00'; // 4*64+1 = 257
    expectWireError(bytes(HEADER(1, 0, 0, 0) + name + '0001 0001'), /name exceeds 255 octets/);
  });
  test('a 255-octet name is fine', () => {
    const label = '3f' + '61'.repeat(63);
    const name = label.repeat(3) + '3d' + '62'.repeat(61) + '00';
    const m = Message.decode(bytes(HEADER(1, 0, 0, 0) + name + '0001 0001'));
    assert.equal(m.question[0]!.name.wire.length, 255);
  });
});

describe('the reader itself', () => {
  test('reads never pass `end`', () => {
    const r = new Reader(bytes('0102030405'), 0, 3);
    assert.equal(r.u16('a'), 0x0102);
    assert.throws(() => r.u16('b'), (e: unknown) => e instanceof WireFormatError && e.offset === 2 && e.field === 'b');
    assert.throws(() => r.bytes(2, 'c'), WireFormatError);
    assert.equal(r.u8('d'), 3);
    assert.throws(() => r.u8('e'), WireFormatError);
  });
  test('u32 is unsigned', () => {
    assert.equal(new Reader(bytes('ffffffff')).u32('x'), 0xffffffff);
  });
});
