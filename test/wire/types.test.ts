// Walks THE type table (src/wire/types.ts): every entry round-trips text -> wire -> text and
// wire -> text -> wire byte-for-byte, in message and canonical form, and also through the
// RFC 3597 `\# len hex` form. A type added to the table without a sample here fails the test.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EncodeMode, Name, additionalTargets, RRClass, RRType, Reader, TextFormatError, TokenCursor, WireFormatError, Writer, allTypes,
  classFromString, classToString, decodeRData, encodeRData, isType, parseRData, parseRecord, printRData, recordEquals,
  recordToString, tokenize, toHex, typeFromString, typeToString,
} from '../../src/index.js';

const KEY = 'AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8gcCjFFVQUTf6v58fLjwBd0YI0EzrAcQqBGCzh/RStIoO8g0Nf' +
  'nfL2MTJRkxoXbfDaUeVPQuYEhg37NZWAJQ9VnMVDxP/VHL496M/QZxkjf5/Efucp2gaDX6RS6CXpoY68LsvPVjR0ZSwzz1apAzvN9dlzEheX7ICJ' +
  'BBtuA6G3LQpzW5hOA2hzCTMjJPJ8LbqF6dsV6DoBQzgul0sGIcGOYl7OyQdXfZ57relSQageu+ipAdTTJ25AsRTAoub8ONGcLmqrAmRLKBP1dfwh' +
  'YB4N7knNnulqQxA+Uk1ihz0=';
const SHA256 = 'E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D';

/**
 * Sample RDATA per mnemonic: [input text, printed text when it differs]. Realistic values, with
 * the awkward cases (escapes, empty salts, multiple strings, mixed case) the printers must keep.
 */
const SAMPLES: Record<string, [string, string?][]> = {
  A: [['192.0.2.1'], ['0.0.0.0'], ['255.255.255.255']],
  NS: [['ns1.Example.com.']],
  MD: [['madname.example.']],
  MF: [['madname.example.']],
  CNAME: [['target.example.'], ['a\\.b.example.']],
  SOA: [['ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300'],
    ['ns1.example.com. host\\.master.example.com. ( 1 2h 1h 2w 5m )', 'ns1.example.com. host\\.master.example.com. 1 7200 3600 1209600 300']],
  MB: [['mb.example.']],
  MG: [['mg.example.']],
  MR: [['mr.example.']],
  WKS: [['192.0.2.3 6 21 22 25 80'], ['192.0.2.3 tcp smtp http', '192.0.2.3 6 25 80'], ['192.0.2.4 17 53']],
  PTR: [['host.example.']],
  HINFO: [['"PDP-11" "UNIX"'], ['INTEL-386 "Windows NT"', '"INTEL-386" "Windows NT"']],
  MINFO: [['rmail.example. email.example.']],
  MX: [['10 mail.example.'], ['0 .']],
  TXT: [
    ['"hello world" "second string" "with \\"quotes\\" and \\\\ backslash" "semi;colon" "tab\\009byte" "\\255\\000"'],
    ['"v=spf1 -all"'], ['""'], ['unquoted', '"unquoted"'], ['"a" "" "c"'],
    ['"caf\\195\\169"'], ['"' + 'x'.repeat(255) + '" "y"'],
  ],
  RP: [['admin.example. txt.example.'], ['. .']],
  AFSDB: [['1 afs.example.']],
  X25: [['"311061700956"']],
  RT: [['10 relay.example.']],
  PX: [['10 map822.example. mapx400.example.']],
  AAAA: [['2001:db8::1'], ['::'], ['::1'], ['::ffff:192.0.2.1'], ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:DB8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], ['fe80::1:2:3:4']],
  SRV: [['0 5 5060 sip.example.'], ['10 0 0 .']],
  NAPTR: [['100 10 "S" "SIP+D2U" "" _sip._udp.example.'],
    ['100 50 "a" "z3950+N2L+N2C" "!^urn:cid:.+@([^\\\\.]+\\\\.)(.*)$!\\\\2!i" .']],
  KX: [['10 kx.example.']],
  CERT: [['PKIX 12345 RSASHA256 MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'],
    ['1 12345 8 MIIBIjANBgkqhkiG9w0BAQEF', 'PKIX 12345 RSASHA256 MIIBIjANBgkqhkiG9w0BAQEF'], ['65000 1 200 AQID']],
  DNAME: [['example.net.']],
  OPT: [['10:0102030405060708 12:0000'], ['']],
  DS: [['60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118'], [`20326 8 2 ${SHA256}`],
    ['20326 8 2 e06d44b80b8f1d39a95c0b0d7c65d08458e880409bbc6834 57104237c7f8ec8d', `20326 8 2 ${SHA256}`]],
  SSHFP: [['4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789']],
  RRSIG: [['A 8 3 3600 20240201000000 20240101000000 20326 Interop.Test. V6kDYcVXPEIu4xnW1ChcUC8RsgOdDvq4f6hTE+kXZ4HTv0lRLbrL4c7I9AS3Rb8Gdn6TGOSnYjSXNzn3xbgFBI6H1ScyWeFs6KzwGJ40zDt7SmvnG37Cr5cmmY2Iz5VbMaHRHhE3tmRqYqtrW4ItUHmIZyZc0nVyCpoD8vMVnyY='],
    ['TYPE65280 13 2 300 1700000000 1600000000 1 . AQID', 'TYPE65280 13 2 300 20231114221320 20200913122640 1 . AQID']],
  NSEC: [['ns1.interop.test. A NS SOA MX TXT AAAA RRSIG NSEC DNSKEY TYPE65534'], ['Next.Example. NSEC'],
    ['b.example. TYPE1 A TYPE2', 'b.example. A NS'], ['c.example.']],
  DNSKEY: [[`257 3 8 ${KEY}`], ['256 3 253'], ['256 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==']],
  DHCID: [['AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=']],
  NSEC3: [['1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG'],
    ['1 0 0 - 2vptu5timamqttgl4luu9kg21e0aor3s NS SOA RRSIG DNSKEY NSEC3PARAM', '1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S NS SOA RRSIG DNSKEY NSEC3PARAM'],
    ['1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S']],
  NSEC3PARAM: [['1 0 12 AABBCCDD'], ['1 0 0 -']],
  TLSA: [[`3 1 1 ${SHA256}`], ['3 1 1']],
  SMIMEA: [[`3 1 1 ${SHA256}`]],
  CDS: [[`20326 8 2 ${SHA256}`], ['0 0 0 00']],
  CDNSKEY: [['257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==']],
  OPENPGPKEY: [['AQID']],
  CSYNC: [['66 3 A NS AAAA']],
  ZONEMD: [[`2024010101 1 1 ${SHA256}${SHA256.slice(0, 32)}`]],
  SVCB: [
    ['1 svc.example. alpn="h2,h3" port=8443 ipv4hint=192.0.2.1,192.0.2.2 ech=AEP+DQA/ANgA ipv6hint=2001:db8::1,2001:db8::2'],
    ['0 pool.svc.example.'],
    ['16 foo.example.org. mandatory=alpn,ipv4hint alpn="h2,h3-19" ipv4hint=192.0.2.1 key65333="ex1"'],
    ['16 foo.example.org. key65333=ex1 ipv4hint=192.0.2.1 alpn=h2,h3-19 mandatory=ipv4hint,alpn',
      '16 foo.example.org. mandatory=alpn,ipv4hint alpn="h2,h3-19" ipv4hint=192.0.2.1 key65333="ex1"'],
    ['1 . alpn="f\\\\\\\\oo\\\\,bar,h2" no-default-alpn'],
    ['1 . alpn=f\\\\\\\\oo\\\\,bar,h2 no-default-alpn', '1 . alpn="f\\\\\\\\oo\\\\,bar,h2" no-default-alpn'],
    ['1 . key667="hello\\210qoo"'], ['1 . key65000'], ['1 . dohpath="/dns-query{?dns}" ohttp'],
    ['1 . key1="h2" key3=53', '1 . alpn="h2" port=53'],
  ],
  HTTPS: [['1 . alpn="h3,h2" ipv4hint=192.0.2.10'], ['0 svc.example.']],
  SPF: [['"v=spf1 -all"']],
  L32: [['10 10.1.2.0']],
  LP: [['10 l64-subnet.example.']],
  EUI48: [['00-00-5e-00-53-2a'], ['00-00-5E-00-53-2A', '00-00-5e-00-53-2a']],
  EUI64: [['00-00-5e-ef-10-00-00-2a']],
  TKEY: [['gss-tsig. 1700000000 1700003600 3 0 4 AQIDBA== 0']],
  TSIG: [['hmac-sha256. 1700000000 300 4 AQIDBA== 4660 NOERROR 0'], ['hmac-md5.sig-alg.reg.int. 1 300 0 1 BADSIG 6 AAAAAAAA'],
    ['hmac-sha256. 281474976710655 300 0 1 18 0', 'hmac-sha256. 281474976710655 300 0 1 BADTIME 0']],
  URI: [['10 1 "https://www.example.com/path"'], ['10 1 ""']],
  CAA: [['0 issue "letsencrypt.org"'], ['128 iodef "mailto:security@example.com"'], ['0 issuewild ";"'], ['0 issue ""'],
    ['0 tbs "Unknown \\"quoted\\""']],
  AVC: [['"app-name:WOLFENSTEIN|app-class:OLD"']],
  RESINFO: [['qnamemin exterr=15,16,17 "infourl=https://resolver.example.com/guide"', '"qnamemin" "exterr=15,16,17" "infourl=https://resolver.example.com/guide"']],
  WALLET: [['"BTC" "bc1qexample"']],
  TA: [[`20326 8 2 ${SHA256}`]],
  NULL: [['\\# 3 010203'], ['\\# 0']],
  ISDN: [['"150862028003217" "004"'], ['"150862028003217"'], ['150862028003217', '"150862028003217"']],
  NSAP: [['0x47.0005.80.005a00.0000.0001.e133.ffffff000161.00', '0x47000580005a0000000001e133ffffff00016100'], ['0x01']],
  'NSAP-PTR': [['foo.example.com.']],
  SIG: [['A 8 2 3600 20300101000000 20240101000000 12345 example.com. dGVzdCBzaWduYXR1cmUgYnl0ZXM='],
    ['TYPE0 0 0 0 20240101000000 20231231235500 0 . AQID']],
  KEY: [['256 3 8 AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8gcCjFFVQU'], ['0xC000 3 5', '49152 3 5'],
    ['NOCONF|USER 3 RSASHA1 AQID', '16384 3 5 AQID'], ['512 IPSEC 8 AQID', '512 4 8 AQID']],
  GPOS: [['-32.6882 116.8652 10.0', '"-32.6882" "116.8652" "10.0"']],
  LOC: [['42 21 54 N 71 06 18 W -24m 30m', '42 21 54.000 N 71 6 18.000 W -24.00m 30m 10000m 10m'],
    ['42 21 54.123 N 71 06 18.5 W -24.5m 1m 10000m 10m', '42 21 54.123 N 71 6 18.500 W -24.50m 1m 10000m 10m'],
    ['0 N 0 E 0m', '0 0 0.000 N 0 0 0.000 E 0.00m 1m 10000m 10m'],
    ['52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m'],
    ['90 S 180 W 42849672.95m 90000000m 90000000m 90000000m', '90 0 0.000 S 180 0 0.000 W 42849672.95m 90000000m 90000000m 90000000m'],
    ['1 2 3.456 S 5 6 7 E 15 15 0.15 0.05', '1 2 3.456 S 5 6 7.000 E 15.00m 10m 0.10m 0.05m'],
    ['1 N 1 E 0 0.10 0.09 0.1', '1 0 0.000 N 1 0 0.000 E 0.00m 0.10m 0.09m 0.10m'],
    ['1 N 1 E 0 9999999 1.5 0.99', '1 0 0.000 N 1 0 0.000 E 0.00m 9000000m 1m 0.90m'],
    ['1 2 3. S 5 6 7 E 15.5 15m', '1 2 3.000 S 5 6 7.000 E 15.50m 10m 10000m 10m'],
    ['1 N 1 E 0.1 0.11 0.9 1.05', '1 0 0.000 N 1 0 0.000 E 0.10m 0.10m 0.90m 1m']],
  NXT: [['a.example.com. A MX SIG NXT'], ['b.example.com. NS'], ['c.example.']],
  EID: [['12 89 AB', '1289AB']],
  NIMLOC: [['32 89 4A AB CD', '32894AABCD']],
  ATMA: [['39246f00e7c9c0312000100100001234567800'], ['+358400.1234567', '+3584001234567']],
  A6: [['0 2001:db8::1'], ['64 ::1:2:3:4 prefix.example.com.'], ['128 prefix.example.com.', '128  prefix.example.com.'],
    ['65 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff p.example.', '65 ::7fff:ffff:ffff:ffff p.example.']],
  SINK: [['1 0 0 AQID'], ['1 0 0']],
  APL: [['1:192.168.32.0/21 !1:192.168.38.0/28'], ['1:224.0.0.0/4 2:FF00:0:0:0:0:0:0:0/8', '1:224.0.0.0/4 2:ff00::/8'], [''],
    ['1:0.0.0.0/0 2:2001:db8::/32 !2:2001:db8:1::/48']],
  IPSECKEY: [['10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=='],
    ['10 0 2 . AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=='],
    ['10 3 2 mygateway.example.com. AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=='],
    ['10 2 2 2001:0DB8:0:8002::2000:1 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==', '10 2 2 2001:db8:0:8002::2000:1 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==']],
  HIP: [['( 2 200100107B1A74DF365639CC39F1D578 AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8cIvM4p9+LrV4e19WzK00+CI6zBCQTdtWsuxKbWIy87UOoJTwkUs7lBu+Upr1gsNrut79ryra+bSRGQb1slImA8YVJyuIDsj7kwzG7jnERNqnWxZ48AWkskmdHaVDP4BcelrTI3rMXdXF5D rvs1.example.com. rvs2.example.com. )',
    '2 200100107B1A74DF365639CC39F1D578 AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8cIvM4p9+LrV4e19WzK00+CI6zBCQTdtWsuxKbWIy87UOoJTwkUs7lBu+Upr1gsNrut79ryra+bSRGQb1slImA8YVJyuIDsj7kwzG7jnERNqnWxZ48AWkskmdHaVDP4BcelrTI3rMXdXF5D rvs1.example.com. rvs2.example.com.'],
    ['2 200100107b1a74df365639cc39f1d578 AwEAAbdxyhNu', '2 200100107B1A74DF365639CC39F1D578 AwEAAbdxyhNu']],
  NINFO: [['"hello" "world"']],
  RKEY: [['0 3 5 AQID']],
  TALINK: [['prev.example.com. next.example.com.']],
  DSYNC: [['CDS NOTIFY 5359 ns.example.com.'], ['CSYNC 1 53 .', 'CSYNC NOTIFY 53 .'], ['A 2 1 t.example.']],
  HHIT: [['AQID']],
  BRID: [['AQID']],
  UINFO: [['\\# 4 03616263']],
  UID: [['\\# 4 000003E8']],
  GID: [['\\# 4 000003E8']],
  UNSPEC: [['\\# 3 010203']],
  NID: [['10 0014:4fff:ff20:ee64', '10 14:4fff:ff20:ee64']],
  L64: [['10 2001:0DB8:1140:1000', '10 2001:db8:1140:1000']],
  DOA: [['0 1 2 "" aHR0cHM6Ly93d3cuaXNjLm9yZy8='], ['1234567890 1234567890 1 "image/pgp" -']],
  AMTRELAY: [['10 0 0 .'], ['10 1 1 203.0.113.15'], ['10 0 2 2001:db8::15'], ['128 1 3 amtrelays.example.com.']],
  DLV: [[`20326 8 2 ${SHA256}`]],
};

function encode(type: number, data: unknown, mode: EncodeMode): Uint8Array {
  const w = new Writer();
  encodeRData(type, w, data, mode);
  return w.toBytes();
}

function decode(type: number, wire: Uint8Array): unknown {
  return decodeRData(type, new Reader(wire), wire.length);
}

function parse(type: number, text: string, origin?: Name): unknown {
  return parseRData(type, new TokenCursor(tokenize(text)), origin);
}

describe('every table entry round-trips', () => {
  test('every defined type has samples', () => {
    const missing = allTypes().map((d) => d.mnemonic).filter((m) => SAMPLES[m] === undefined);
    assert.deepEqual(missing, []);
  });

  for (const def of allTypes()) {
    for (const [input, printed = input] of SAMPLES[def.mnemonic] ?? []) {
      test(`${def.mnemonic} ${input.slice(0, 60)}`, () => {
        const type = def.code;
        // text -> data -> text
        const data = parse(type, input);
        assert.equal(printRData(type, data), printed);
        // printed text parses to the same data
        assert.ok(def.equals(parse(type, printed), data));
        for (const mode of [EncodeMode.Message, EncodeMode.Canonical]) {
          // text -> wire -> text
          const wire = encode(type, data, mode);
          const back = decode(type, wire);
          // (canonical form lowercases some names, so its text is compared in message mode only)
          if (mode === EncodeMode.Message) assert.equal(printRData(type, back), printed);
          assert.ok(def.equals(back, data));
          // wire -> text -> wire, byte for byte
          assert.deepEqual(encode(type, parse(type, printRData(type, back)), mode), wire);
        }
        // RFC 3597 form of a known type (BIND accepts it and checks it)
        const canonical = encode(type, data, EncodeMode.Canonical);
        const generic = `\\# ${canonical.length}${canonical.length ? ' ' + toHex(canonical) : ''}`;
        assert.ok(def.equals(parse(type, generic), data));
        assert.deepEqual(encode(type, parse(type, generic), EncodeMode.Canonical), canonical);
        // and the full record through the record parser and printer
        const rr = parseRecord(`owner.example. 300 IN ${def.mnemonic} ${input}`);
        assert.equal(recordToString(rr), `owner.example.\t300\tIN\t${def.mnemonic}${printed ? '\t' + printed : ''}`);
      });
    }
  }
});

describe('RFC 3597 generic types', () => {
  test('TYPE65280 \\# 3 abcdef', () => {
    const rr = parseRecord('x.example. 60 IN TYPE65280 \\# 3 abcdef');
    assert.equal(rr.type, 65280);
    assert.deepEqual(rr.data, { rdata: Uint8Array.from([0xab, 0xcd, 0xef]) });
    assert.equal(recordToString(rr), 'x.example.\t60\tIN\tTYPE65280\t\\# 3 ABCDEF');
    assert.deepEqual(encode(65280, rr.data, EncodeMode.Message), Uint8Array.from([0xab, 0xcd, 0xef]));
    assert.deepEqual(decode(65280, Uint8Array.from([1, 2])), { rdata: Uint8Array.from([1, 2]) });
  });

  test('empty and split hex; lengths are checked', () => {
    assert.equal(printRData(65281, parse(65281, '\\# 0')), '\\# 0');
    assert.equal(printRData(65281, parse(65281, '\\# 4 ab cd ( ef 01 )')), '\\# 4 ABCDEF01');
    assert.throws(() => parse(65281, '\\# 4 abcdef'), TextFormatError);
    assert.throws(() => parse(65281, 'abcdef'), /RFC 3597/);
    assert.throws(() => parse(65281, '\\# 2 zz00'), TextFormatError);
  });

  test('unassigned and not-in-table types are named TYPEnnn and kept, never dropped', () => {
    for (const code of [0, 54, 69, 260, 263, 4000, 65535]) {
      const name = typeToString(code);
      if (typeFromString(name) === undefined) assert.fail(name);
      assert.equal(typeFromString(name), code);
    }
    assert.equal(typeToString(65280), 'TYPE65280');
    assert.equal(typeFromString('type65280'), 65280);
    assert.equal(typeFromString('TYPE65536'), undefined);
    assert.equal(typeFromString('TYPE'), undefined);
    assert.equal(typeFromString('mx'), RRType.MX);
  });

  test('a known type in \\# form is decoded and validated as BIND does', () => {
    const rr = parseRecord('m.example. 60 IN MX \\# 16 000a046d61696c076578616d706c6500');
    assert.ok(isType(rr, RRType.MX));
    assert.equal(rr.data.preference, 10);
    assert.equal(rr.data.exchange.toString(), 'mail.example.');
    assert.throws(() => parseRecord('m.example. 60 IN A \\# 3 c00002'), WireFormatError);
    assert.throws(() => parseRecord('m.example. 60 IN A \\# 5 c000020100'), WireFormatError);
  });

  test('DS digests are checked against the digest type on the wire too (as BIND does)', () => {
    assert.throws(() => decode(RRType.DS, Uint8Array.from([0, 1, 8, 2, 0xab])), /digest type 2 takes 32 octets, not 1/);
    assert.throws(() => decode(RRType.APL, Uint8Array.from([0, 1, 8, 1, 0])), /zero octet/);
    assert.equal(printRData(RRType.DS, decode(RRType.DS, Uint8Array.from([0, 1, 8, 99, 0xab]))), '1 8 99 AB');
  });
});

describe('classes', () => {
  const cases: [string, number][] = [['IN', 1], ['CH', 3], ['HS', 4], ['NONE', 254], ['ANY', 255], ['CLASS42', 42]];
  for (const [text, code] of cases) {
    test(text, () => {
      assert.equal(classFromString(text), code);
      assert.equal(classToString(code), text);
      const rr = parseRecord(`x.example. 60 ${text} TXT "a"`);
      assert.equal(rr.class, code);
      assert.equal(recordToString(rr), `x.example.\t60\t${text}\tTXT\t"a"`);
    });
  }
  test('aliases and case', () => {
    assert.equal(classFromString('chaos'), RRClass.CH);
    assert.equal(classFromString('HESIOD'), RRClass.HS);
    assert.equal(classFromString('in'), RRClass.IN);
    assert.equal(classFromString('CLASS65536'), undefined);
    // TTL and class in either order (RFC 1035 §5.1)
    assert.equal(parseRecord('x. CH 60 TXT "a"').ttl, 60);
    assert.equal(parseRecord('x. 60 CH TXT "a"').class, RRClass.CH);
  });
});

describe('canonical form (RFC 4034 §6.2)', () => {
  // Types whose embedded names are lowercased (RFC 4034 §6.2 as amended by RFC 6840 §5.1: not NSEC).
  const lowered: [string, string][] = [
    ['NS', 'NS1.Example.'], ['CNAME', 'T.Example.'], ['PTR', 'H.Example.'], ['MX', '10 M.Example.'],
    ['SOA', 'NS.Example. Host.Example. 1 2 3 4 5'], ['MINFO', 'R.Example. E.Example.'], ['RP', 'M.Example. T.Example.'],
    ['AFSDB', '1 A.Example.'], ['RT', '1 R.Example.'], ['PX', '1 A.Example. B.Example.'], ['SRV', '0 0 1 S.Example.'],
    ['NAPTR', '1 1 "" "" "" R.Example.'], ['KX', '1 K.Example.'], ['DNAME', 'D.Example.'],
    ['RRSIG', 'A 8 2 60 20240101000000 20230101000000 1 Signer.Example. 1234'],
  ];
  for (const [mnemonic, text] of lowered) {
    test(`${mnemonic} names are lowercased and uncompressed`, () => {
      const type = typeFromString(mnemonic)!;
      const canon = encode(type, parse(type, text), EncodeMode.Canonical);
      assert.deepEqual(canon, encode(type, parse(type, text.toLowerCase()), EncodeMode.Canonical));
      assert.notDeepEqual(canon, encode(type, parse(type, text), EncodeMode.Message), 'message form keeps case');
    });
  }
  const kept: [string, string][] = [['NSEC', 'Next.Example. A'], ['SVCB', '1 Target.Example.'], ['HTTPS', '1 Target.Example.']];
  for (const [mnemonic, text] of kept) {
    test(`${mnemonic} names keep their case`, () => {
      const type = typeFromString(mnemonic)!;
      const data = parse(type, text);
      assert.equal(printRData(type, decode(type, encode(type, data, EncodeMode.Canonical))), text);
    });
  }
  test('only RFC 1035 types compress in messages (RFC 3597 §4)', () => {
    const w = new Writer();
    w.name(Name.fromText('example.'), true);
    encodeRData(RRType.MX, w, parse(RRType.MX, '10 example.'), EncodeMode.Message);
    encodeRData(RRType.SRV, w, parse(RRType.SRV, '0 0 1 example.'), EncodeMode.Message);
    encodeRData(RRType.RRSIG, w, parse(RRType.RRSIG, 'A 8 1 60 1 1 1 example. AQID'), EncodeMode.Message);
    const b = w.toBytes();
    // MX: 000a c000 ; SRV: six octets + uncompressed name ; RRSIG: uncompressed signer
    assert.equal(toHex(b.subarray(9, 13)), '000AC000');
    assert.equal(toHex(b.subarray(13, 28)), '000000000001076578616D706C6500');
  });
  test('canonical RDATA of MX with mixed case is lowercase', () => {
    assert.equal(toHex(encode(RRType.MX, parse(RRType.MX, '10 MAIL.Example.'), EncodeMode.Canonical)),
      '000A046D61696C076578616D706C6500');
  });
});

describe('bad text is a TextFormatError naming the field', () => {
  const bad: [string, string, RegExp][] = [
    ['A', '192.0.2', /IPv4/], ['A', '192.0.2.256', /IPv4/], ['A', '01.2.3.4', /IPv4/], ['AAAA', '2001:db8:::1', /IPv6/],
    ['AAAA', '1:2:3:4:5:6:7:8:9', /IPv6/], ['MX', '65536 a.', /exceeds 65535/], ['MX', '10', /missing/],
    ['MX', '10 a. extra', /unexpected/], ['TXT', '"' + 'x'.repeat(256) + '" "\\256"', /exceeds 255/],
    ['DS', '1 8 2 XYZ', /hex/], ['DNSKEY', '257 3 8 !!!!', /base64/], ['SVCB', '1 . alpn', /needs a value/],
    ['SVCB', '1 . port=70000', /exceeds/], ['SVCB', '1 . foo=bar', /unknown SvcParamKey/],
    ['SVCB', '1 . port=1 port=2', /repeated/], ['SVCB', '1 . mandatory=port', /missing/],
    ['SVCB', '1 . mandatory=mandatory,port port=1', /mandatory/], ['SVCB', '1 . no-default-alpn=x', /no value/],
    ['SVCB', '1 . ipv4hint=1.2.3', /IPv4/], ['CAA', '0 is-sue "x"', /CAA tag/], ['EUI48', '00-00-5e', /hex pairs/],
    ['NSEC', 'a. BOGUS', /unknown type/], ['DS', '1 8 2 2BB183AF5F22588179A53B0A98631FAD1A292118', /digest type 2 takes 32 octets, not 20/],
    ['CDS', '1 8 1 00', /digest type 1 takes 20/], ['DS', `1 8 4 ${SHA256}`, /takes 48/], ['LOC', '91 N 0 E 0', /degrees/],
    ['LOC', '1 2 3.4567 S 0 E 0', /seconds/], ['LOC', '1 n 0 E 0', /minutes/], ['APL', '3:1.2.3.4/8', /family 3/],
    ['APL', '1:1.2.3.4/33', /too long/], ['IPSECKEY', '10 4 2 . AQID', /gateway type 4/], ['IPSECKEY', '10 1 2 . AQID', /IPv4/],
    ['AMTRELAY', '10 2 0 .', /0 or 1/], ['A6', '129 ::1 p.', /exceeds 128/], ['NID', '10 1:2:3', /four/],
    ['NSAP', '47.0005', /0x/], ['NXT', 'a. TYPE200', /1\.\.127/], ['NULL', '1 2 3', /RFC 3597/], ['UID', '1000', /RFC 3597/],
    ['KEY', 'BOGUS 3 8 AQID', /key flag/], ['ATMA', '+12a', /E\.164/], ['SOA', 'a. b. 1 2 3 4 5x', /TTL/], ['NSEC3', '1 0 0 - ZZZ', /base32hex/],
  ];
  for (const [mnemonic, text, reason] of bad) {
    test(`${mnemonic} ${text.slice(0, 40)}`, () => {
      assert.throws(() => parse(typeFromString(mnemonic)!, text), (e: unknown) => {
        assert.ok(e instanceof TextFormatError, String(e));
        assert.match(e.message, reason);
        return true;
      });
    });
  }
});

describe('records', () => {
  test('recordEquals ignores owner case and TTL, not RDATA', () => {
    const a = parseRecord('A.Example. 60 IN MX 10 Mail.Example.');
    const b = parseRecord('a.example. 99 IN MX 10 mail.example.');
    const c = parseRecord('a.example. 99 IN MX 20 mail.example.');
    assert.ok(recordEquals(a, b));
    assert.ok(!recordEquals(a, c));
  });
  test('defaults and origin', () => {
    const rr = parseRecord('www MX 10 mail', { origin: Name.fromText('example.com.'), defaultTtl: 3600, defaultClass: RRClass.CH });
    assert.equal(recordToString(rr), 'www.example.com.\t3600\tCH\tMX\t10 mail.example.com.');
  });
});

describe('random RDATA of every table type', () => {
  // A fresh seed each run (printed, FUZZ_SEED= to repeat): whatever decodes must print, parse back
  // and encode to the same bytes; anything else must be a WireFormatError.
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 0x7fffffff));
  console.log(`FUZZ_SEED=${seed}`);
  test(`decode -> text -> wire is the identity (seed ${seed})`, () => {
    let state = seed >>> 0 || 1;
    const rand = (n: number): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    for (const def of allTypes()) {
      if (def.mnemonic === 'OPT') continue;
      // Start from a valid sample's wire form and mutate it, so that deep fields get reached.
      const base = (SAMPLES[def.mnemonic] ?? []).map(([text]) => encode(def.code, parse(def.code, text), EncodeMode.Canonical));
      for (let i = 0; i < 300; i++) {
        const from = base.length > 0 && rand(4) !== 0 ? Array.from(base[rand(base.length)]!) : [];
        const n = rand(4);
        for (let k = 0; k < n + 1; k++) {
          const op = rand(3);
          if (op === 0 || from.length === 0) from.splice(rand(from.length + 1), 0, rand(256));
          else if (op === 1) from[rand(from.length)] = rand(256);
          else from.splice(rand(from.length), 1);
        }
        const wire = Uint8Array.from(from);
        let data: unknown;
        try {
          data = decode(def.code, wire);
        } catch (e) {
          assert.ok(e instanceof WireFormatError, `${def.mnemonic} ${toHex(wire)}: ${String(e)}`);
          continue;
        }
        const text = printRData(def.code, data);
        const again = encode(def.code, parse(def.code, text), EncodeMode.Canonical);
        assert.equal(toHex(again), toHex(encode(def.code, data, EncodeMode.Canonical)), `${def.mnemonic} ${toHex(wire)} -> ${text}`);
      }
    }
  });
});

test('the table names the additional-section targets (RFC 1034 §3.6.2): NS, MX and SRV, as Knot and NSD fill them', () => {
  assert.deepEqual(additionalTargets(RRType.NS), ['nsdname']);
  assert.deepEqual(additionalTargets(RRType.MX), ['exchange']);
  assert.deepEqual(additionalTargets(RRType.SRV), ['target']);
  assert.deepEqual(additionalTargets(RRType.CNAME), []);
  assert.deepEqual(additionalTargets(65280), []);
  const withTargets = allTypes().filter((d) => d.additionalTargets.length > 0).map((d) => d.mnemonic);
  assert.deepEqual(withTargets, ['NS', 'MX', 'SRV']);
});
