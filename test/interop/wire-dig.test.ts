// Interop: queries that real dig and kdig send (captured on our own UDP socket on 127.21.1.1) are
// decoded field by field, and dig's own printout of the query it sent (+qr) is compared line by
// line with Message.toString() of the same bytes. Our socket answers with a response we encode
// (records of every type from the golden zone, EDNS options), and dig's printout of OUR bytes is
// compared with ours too: both directions, same bytes, two printers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  EdnsOptionCode, Message, RRType, decodeOption, newEdns, option, typeFromString, typeToString,
} from '../../src/index.js';
import { PEER_BINARIES, havePeers } from '../helpers/peers.js';
import { UdpTap, digMessageBlock, normalizeMessageText, runAsync } from '../golden/dig-text.js';
import { goldenRecords } from '../golden/zone-records.js';

const ADDRESS = '127.21.1.1';
const PORT = 53011;
const golden = goldenRecords();

/** Our answer to whatever dig asks: the golden records of that type, and EDNS options back. */
function answer(q: Uint8Array): Uint8Array | undefined {
  let query: Message;
  try {
    query = Message.decode(q);
  } catch {
    return undefined;
  }
  const r = new Message();
  r.id = query.id;
  r.qr = true;
  r.aa = true;
  r.rd = query.rd;
  r.cd = query.cd;
  r.opcode = query.opcode;
  r.question = query.question;
  const qt = query.question[0]?.type;
  r.answer = golden.filter((l) => l.rr.type === qt && l.rr.class === 1).map((l) => l.rr);
  if (r.answer.length === 0) r.authority = golden.filter((l) => l.rr.type === RRType.SOA).map((l) => l.rr);
  if (query.edns !== undefined) {
    const opts = [];
    for (const o of query.edns.options) {
      if (o.code === EdnsOptionCode.COOKIE) opts.push(option.cookie(o.data.slice(0, 8), new Uint8Array(16).fill(0x5a)));
      if (o.code === EdnsOptionCode.NSID) opts.push(option.nsid(new TextEncoder().encode('sovereign-test')));
      if (o.code === EdnsOptionCode.CLIENT_SUBNET) {
        const ecs = decodeOption(o) as { address: string; sourcePrefixLength: number };
        opts.push(option.clientSubnet(ecs.address, ecs.sourcePrefixLength, ecs.sourcePrefixLength));
      }
      if (o.code === EdnsOptionCode.TCP_KEEPALIVE) opts.push(option.tcpKeepalive(300));
    }
    opts.push(option.extendedError(18, 'just testing'));
    r.edns = newEdns({ udpSize: 1232, dnssecOk: query.edns.dnssecOk, options: opts });
  }
  // names starting with "mbz" get the must-be-zero bits set, to compare how they are shown
  if (query.question[0]?.name.toString().startsWith('mbz')) {
    r.z = true;
    if (r.edns !== undefined) r.edns.zFlags = 0x0123;
  }
  return r.encode({ maxSize: 65535 });
}

let tap: UdpTap | undefined;

describe('dig and kdig queries, decoded and printed', () => {
  before(async () => {
    tap = await UdpTap.open(ADDRESS, PORT, { answer });
  });
  after(() => tap?.close());

  const digCases: [string, string[], (m: Message) => void][] = [
    ['plain A with EDNS defaults', ['www.example.com', 'A'], (m) => {
      assert.equal(m.opcode, 0);
      assert.ok(m.rd && m.ad && !m.cd && !m.qr);
      assert.equal(m.edns?.udpSize, 1232);
      assert.equal(m.edns?.dnssecOk, false);
    }],
    ['+noedns +norec +noadflag MX', ['+noedns', '+norec', '+noadflag', 'example.com', 'MX'], (m) => {
      assert.equal(m.edns, undefined);
      assert.ok(!m.rd && !m.ad);
      assert.equal(m.question[0]!.type, RRType.MX);
    }],
    ['+dnssec +cd +bufsize=4096 DNSKEY', ['+dnssec', '+cd', '+bufsize=4096', 'example.com', 'DNSKEY'], (m) => {
      assert.ok(m.cd);
      assert.equal(m.edns?.dnssecOk, true);
      assert.equal(m.edns?.udpSize, 4096);
    }],
    ['+subnet +cookie +nsid +keepalive +ednsopt', ['+subnet=192.0.2.0/24', '+cookie=0102030405060708', '+nsid', '+keepalive',
      '+ednsopt=65001:cafe', 'www.example.com', 'AAAA'], (m) => {
      const opts = m.edns!.options.map(decodeOption);
      assert.deepEqual(opts.find((o) => o.code === 8), { code: 8, family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, address: '192.0.2.0' });
      assert.deepEqual(opts.find((o) => o.code === 10), { code: 10, client: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), server: undefined });
      assert.ok(opts.some((o) => o.code === 3));
      assert.deepEqual(opts.find((o) => o.code === 11), { code: 11, timeout: undefined });
      assert.deepEqual(opts.find((o) => o.code === 65001), { code: 65001, data: Uint8Array.from([0xca, 0xfe]) });
    }],
    ['IPv6 subnet, escapes in the name, CH TXT', ['+subnet=2001:db8:1234::/48', '-c', 'CH', 'a\\.b\\032c.Example.', 'TXT'], (m) => {
      assert.equal(m.question[0]!.class, 3);
      assert.equal(m.question[0]!.name.toString(), 'a\\.b\\032c.Example.');
      assert.equal((decodeOption(m.edns!.options[0]!) as { address: string }).address, '2001:db8:1234::');
    }],
    ['+padding, opcode NOTIFY, TYPE65280', ['+padding=128', '+opcode=NOTIFY', 'x.example', 'TYPE65280'], (m) => {
      assert.equal(m.opcode, 4);
      assert.equal(m.question[0]!.type, 65280);
    }],
    ['Z bit and EDNS MBZ bits in our response', ['mbz.example', 'A'], () => {}],
    ['SVCB answers', ['interop.test', 'SVCB'], () => {}],
    ['HTTPS', ['interop.test', 'HTTPS'], () => {}],
    ['TXT', ['interop.test', 'TXT'], () => {}],
    ['NSEC3', ['+dnssec', 'interop.test', 'NSEC3'], () => {}],
    ['RRSIG', ['+dnssec', 'interop.test', 'RRSIG'], () => {}],
    ['CAA and NAPTR', ['interop.test', 'CAA', 'interop.test', 'NAPTR'], () => {}],
    ['answers of every type in the golden zone', ['+dnssec',
      ...[...new Set(golden.map((l) => typeToString(l.rr.type)))].flatMap((t) => ['interop.test', t])], () => {}],
  ];

  for (const [what, args, checkFields] of digCases) {
    test(`dig ${what}`, async (t) => {
      if (!havePeers(t, 'dig')) return;
      const before = tap!.exchanges.length;
      const r = await runAsync(PEER_BINARIES.dig, [`@${ADDRESS}`, '-p', String(PORT), '+qr', '+tries=1', '+timeout=3', ...args]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const mine = tap!.exchanges.slice(before);
      assert.ok(mine.length >= 1, 'dig reached our socket');
      for (let i = 0; i < mine.length; i++) {
        const ex = mine[i]!;
        const query = Message.decode(ex.query);
        if (i === 0) checkFields(query);
        // dig's printout of the query it sent == our printout of the bytes we received (dig prints
        // its query before it adds the padding octets, so its PAD line shows no length)
        const ours = normalizeMessageText(query.toString()).map((l) => l.replace(/^; PAD: \(\d+ bytes\)$/, '; PAD:'));
        assert.deepEqual(ours, digMessageBlock(r.stdout, 2 * i), 'query text');
        // dig's printout of our response == our printout of the bytes we sent
        assert.ok(ex.response !== undefined);
        const resp = Message.decode(ex.response);
        assert.deepEqual(normalizeMessageText(resp.toString()), digMessageBlock(r.stdout, 2 * i + 1), 'response text');
      }
    });
  }

  const kdigCases: [string, string[], (m: Message) => void][] = [
    ['kdig A', ['www.example.com', 'A'], (m) => {
      assert.ok(m.rd && !m.qr);
      assert.equal(m.question[0]!.name.toString(), 'www.example.com.');
      assert.equal(m.question[0]!.type, RRType.A);
    }],
    ['kdig +dnssec +cd +bufsize +nsid +subnet +cookie', ['+dnssec', '+cdflag', '+bufsize=1400', '+nsid', '+subnet=198.51.100.0/22',
      '+cookie=0102030405060708', 'example.org', 'SOA'], (m) => {
      assert.ok(m.cd);
      assert.equal(m.edns?.udpSize, 1400);
      assert.equal(m.edns?.dnssecOk, true);
      const opts = m.edns!.options.map(decodeOption);
      assert.ok(opts.some((o) => o.code === 3));
      assert.deepEqual(opts.find((o) => o.code === 8), { code: 8, family: 1, sourcePrefixLength: 22, scopePrefixLength: 0, address: '198.51.100.0' });
      assert.ok(opts.some((o) => o.code === 10 && (o as { client: Uint8Array }).client[7] === 8));
    }],
    ['kdig +padding +norecurse +adflag CH', ['+padding=64', '+norecurse', '+adflag', '-c', 'CH', 'version.bind', 'TXT'], (m) => {
      assert.ok(!m.rd && m.ad);
      assert.equal(m.question[0]!.class, 3);
      assert.ok(m.edns!.options.some((o) => o.code === 12));
      assert.ok(m.edns!.options.find((o) => o.code === 12)!.data.length > 0);
    }],
    ['kdig +edns=0 +ednsopt TYPE TLSA', ['+ednsopt=65002:0102', '_443._tcp.example.net', 'TLSA'], (m) => {
      assert.equal(m.question[0]!.type, typeFromString('TLSA'));
      assert.ok(m.edns!.options.some((o) => o.code === 65002 && o.data.length === 2));
    }],
  ];

  for (const [what, args, checkFields] of kdigCases) {
    test(what, async (t) => {
      if (!havePeers(t, 'kdig')) return;
      const before = tap!.exchanges.length;
      const r = await runAsync(PEER_BINARIES.kdig, [`@${ADDRESS}`, '-p', String(PORT), '+retry=0', '+timeout=3', ...args]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const ex = tap!.exchanges[before];
      assert.ok(ex !== undefined, 'kdig reached our socket');
      const query = Message.decode(ex.query);
      checkFields(query);
      // re-encoding what kdig sent gives kdig's bytes back exactly
      assert.deepEqual(query.encode(), ex.query);
      // kdig read our response: its record lines match ours
      const resp = Message.decode(ex.response!);
      assert.match(r.stdout, /status: NOERROR/);
      for (const rr of resp.answer) assert.ok(r.stdout.includes(rr.name.toString()));
    });
  }
});
