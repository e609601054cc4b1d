// EDNS(0) options: Client Subnet (RFC 7871), Cookie (RFC 7873), Padding (RFC 7830, RFC 8467),
// Extended DNS Error (RFC 8914), TCP keepalive (RFC 7828), NSID (RFC 5001); unknown kept as bytes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EdnsOptionCode, Message, RRType, WireFormatError, decodeOption, ednsOptionToString, newEdns, option, paddingFor,
} from '../../src/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

/** Puts options in a query, encodes, decodes, and returns the options that came back. */
function roundTrip(...opts: { code: number; data: Uint8Array }[]): { code: number; data: Uint8Array }[] {
  const m = Message.query('example.', RRType.A, { edns: newEdns({ options: opts }) });
  return Message.decode(m.encode()).edns!.options;
}

describe('Client Subnet (RFC 7871)', () => {
  test('IPv4 /24: family 1, address truncated to the prefix, host bits cleared', () => {
    const o = option.clientSubnet('192.0.2.77', 24);
    assert.equal(o.code, 8);
    assert.equal(hex(o.data), '0001' + '18' + '00' + 'c00002');
    assert.deepEqual(decodeOption(roundTrip(o)[0]!), {
      code: 8, family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, address: '192.0.2.0',
    });
    assert.equal(ednsOptionToString(o), 'CLIENT-SUBNET: 192.0.2.0/24/0');
  });
  test('IPv6 /56 with scope, odd prefixes, /0', () => {
    const o = option.clientSubnet('2001:db8:1234:56ff::1', 56, 48);
    assert.equal(hex(o.data), '0002' + '38' + '30' + '20010db8123456');
    assert.equal(ednsOptionToString(o), 'CLIENT-SUBNET: 2001:db8:1234:5600::/56/48');
    assert.equal(hex(option.clientSubnet('192.0.2.255', 25).data), '0001190' + '0c0000280');
    assert.equal(hex(option.clientSubnet('0.0.0.0', 0).data), '00010000');
    assert.deepEqual(decodeOption(option.clientSubnet('0.0.0.0', 0)), {
      code: 8, family: 1, sourcePrefixLength: 0, scopePrefixLength: 0, address: '0.0.0.0',
    });
  });
  test('malformed ECS is a WireFormatError (-> FORMERR)', () => {
    for (const h of ['0001', '0003 18 00 c00002', '0001 21 00 c0000201ff', '0001 18 00 c000', '0001 18 00 c0000201', '0001 17 00 c00003']) {
      assert.throws(() => decodeOption({ code: 8, data: bytes(h) }), WireFormatError, h);
    }
    assert.throws(() => option.clientSubnet('192.0.2.1', 33), RangeError);
  });
});

describe('Cookie (RFC 7873)', () => {
  test('client only, and client + server', () => {
    const c = bytes('0102030405060708');
    const s = bytes('010000006b0358936e8dc520d3226996');
    assert.deepEqual(decodeOption(roundTrip(option.cookie(c))[0]!), { code: 10, client: c, server: undefined });
    const both = option.cookie(c, s);
    assert.deepEqual(decodeOption(both), { code: 10, client: c, server: s });
    assert.equal(ednsOptionToString(both), 'COOKIE: 0102030405060708010000006b0358936e8dc520d3226996');
  });
  test('bad lengths', () => {
    for (const n of [0, 7, 9, 15, 41]) {
      assert.throws(() => decodeOption({ code: 10, data: new Uint8Array(n) }), WireFormatError, String(n));
    }
    assert.throws(() => option.cookie(new Uint8Array(7)), RangeError);
    assert.throws(() => option.cookie(new Uint8Array(8), new Uint8Array(33)), RangeError);
  });
});

describe('Padding (RFC 7830, RFC 8467)', () => {
  test('zero octets of the given length; only the length matters', () => {
    const o = option.padding(12);
    assert.equal(hex(o.data), '00'.repeat(12));
    assert.deepEqual(decodeOption(roundTrip(o)[0]!), { code: 12, length: 12 });
    assert.deepEqual(decodeOption({ code: 12, data: bytes('ffff') }), { code: 12, length: 2 });
    assert.equal(ednsOptionToString(o), 'PAD: (12 bytes)');
    assert.equal(ednsOptionToString(option.padding(0)), 'PAD:');
  });
  test('block padding brings a message to a multiple of the block', () => {
    const m = Message.query('example.', RRType.A, { edns: newEdns({ options: [option.padding(0)] }) });
    const unpadded = m.encode().length;
    m.edns!.options = [option.padding(paddingFor(unpadded, 128))];
    assert.equal(m.encode().length % 128, 0);
    assert.equal(paddingFor(256, 128), 0);
  });
});

describe('Extended DNS Error (RFC 8914)', () => {
  test('info-code and UTF-8 extra text', () => {
    const o = option.extendedError(18, 'not for you \u2713');
    assert.equal(hex(o.data.subarray(0, 2)), '0012');
    assert.deepEqual(decodeOption(roundTrip(o)[0]!), { code: 15, infoCode: 18, extraText: 'not for you \u2713' });
    assert.equal(ednsOptionToString(option.extendedError(18)), 'EDE: 18 (Prohibited)');
    assert.equal(ednsOptionToString(option.extendedError(6, 'bogus')), 'EDE: 6 (DNSSEC Bogus): (bogus)');
    assert.equal(ednsOptionToString(option.extendedError(999)), 'EDE: 999');
    assert.throws(() => decodeOption({ code: 15, data: bytes('00') }), WireFormatError);
  });
});

describe('TCP keepalive (RFC 7828)', () => {
  test('empty in queries, a 16-bit timeout in 100 ms units in responses', () => {
    assert.deepEqual(decodeOption(roundTrip(option.tcpKeepalive())[0]!), { code: 11, timeout: undefined });
    const o = option.tcpKeepalive(300);
    assert.equal(hex(o.data), '012c');
    assert.deepEqual(decodeOption(o), { code: 11, timeout: 300 });
    assert.equal(ednsOptionToString(o), 'TCP KEEPALIVE: 30.0 secs');
    assert.equal(ednsOptionToString(option.tcpKeepalive()), 'TCP KEEPALIVE:');
    assert.throws(() => decodeOption({ code: 11, data: bytes('01') }), WireFormatError);
  });
});

describe('NSID and unknown options', () => {
  test('NSID as dig prints it', () => {
    assert.equal(ednsOptionToString(option.nsid(bytes('6e7331'))), 'NSID: 6e 73 31 ("ns1")');
    assert.equal(ednsOptionToString(option.nsid()), 'NSID:');
  });
  test('unknown options are kept byte for byte, in order', () => {
    const opts = [{ code: 65001, data: bytes('cafe') }, { code: 3, data: new Uint8Array(0) }, { code: 20, data: bytes('00') }];
    assert.deepEqual(roundTrip(...opts), opts);
    assert.deepEqual(decodeOption(opts[0]!), { code: 65001, data: bytes('cafe') });
    assert.equal(ednsOptionToString(opts[0]!), 'OPT=65001: ca fe ("..")');
  });
  test('an option running past the OPT RDATA is a WireFormatError', () => {
    const bad = bytes('0001 0000 0000 0000 0000 0001 00 0029 1000 00000000 0006 000a 0008 0102');
    assert.throws(() => Message.decode(bad), WireFormatError);
  });
  test('option codes are IANA\'s', () => {
    assert.deepEqual([EdnsOptionCode.NSID, EdnsOptionCode.CLIENT_SUBNET, EdnsOptionCode.COOKIE, EdnsOptionCode.TCP_KEEPALIVE,
      EdnsOptionCode.PADDING, EdnsOptionCode.EDE], [3, 8, 10, 11, 12, 15]);
  });
  test('the OPT pseudosection in dig\'s words', () => {
    const m = Message.query('example.', RRType.A, {
      edns: newEdns({ udpSize: 1232, dnssecOk: true, options: [option.nsid(), option.cookie(bytes('0102030405060708'))] }),
    });
    const text = Message.decode(m.encode()).toString();
    assert.match(text, /;; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags: do; udp: 1232\n; NSID:\n; COOKIE: 0102030405060708\n;; QUESTION SECTION:/);
  });
});
