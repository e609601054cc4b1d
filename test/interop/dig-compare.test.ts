/**
 * `sovereign dig` against Debian's `dig`, both asking the same servers: BIND named and our own
 * `sovereign serve`, authoritative for a zone holding one record of every type the codec
 * knows (DNSSEC types as plain data). For each query the two outputs must be the same once
 * the volatile parts are masked (message ID, query time, date, cookie bytes, version banner,
 * TTLs) and records are sorted within each section (BIND rotates RRsets): same status and
 * flags, same OPT pseudosection layout, same question/answer/authority/additional lines, same
 * message size. Covers NXDOMAIN, NODATA, referrals, truncation (TC, then the TCP retry),
 * +dnssec, +nsid, -x, display toggles, +short, AXFR and no-reply exit codes; the OPT
 * pseudosection for every EDNS option kind (crafted replies); nslookup against nslookup.
 *
 * Addresses: 127.24.2.1 (BIND), 127.24.2.2 (sovereign serve), 127.24.2.3 (nothing listens).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { PEER_BINARIES, havePeers, runTool } from '../helpers/peers.js';
import { Message, Name, newEdns, option } from '../../src/wire/index.js';
import { type DigServers, normalize, startDigServers } from './dig-fixture.js';

const BIND = '127.24.2.1';
const SOV = '127.24.2.2';
const SILENT = '127.24.2.3';
const CRAFTED = '127.24.2.4';

/** Runs a tool without blocking the event loop (the crafted responder lives in this process). */
function runAsync(bin: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

/**
 * Replies that exercise dig's OPT pseudosection and header printing: every EDNS option kind
 * (NSID, EDE with and without text and with unknown codes, ECS v4/v6, keepalive, padding,
 * EXPIRE, COOKIE, unknown codes), the MBZ bits, extended RCODEs, an error reply without a
 * question, chosen by the first label of the query name.
 */
function craftedReply(q: Message): Message {
  const m = new Message();
  m.id = q.id;
  m.qr = true;
  m.rd = q.rd;
  m.question = q.question;
  const label = q.question[0]?.name.labels()[0] ?? '';
  const client = q.edns?.options.find((o) => o.code === 10)?.data.slice(0, 8);
  const expire = (v: number): { code: number; data: Uint8Array } => ({ code: 9, data: new Uint8Array([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]) });
  switch (label) {
    case 'options':
      m.ra = true;
      m.edns = newEdns({ udpSize: 4096, dnssecOk: true, zFlags: 0x0010, options: [
        option.nsid(new Uint8Array([0x61, 0x00, 0x62, 0x7f])), option.nsid(new Uint8Array(0)),
        option.extendedError(15, 'blocked by policy'), option.extendedError(3), option.extendedError(99, 'x'), option.extendedError(27),
        option.clientSubnet('192.0.2.0', 24, 16), option.clientSubnet('2001:db8::', 48, 0),
        option.tcpKeepalive(300), option.tcpKeepalive(), option.padding(5), option.padding(0),
        expire(3600), expire(90061), expire(0), expire(1209600),
        { code: 65001, data: new Uint8Array([0x41, 0x42, 0x01]) }, { code: 19, data: new Uint8Array([1, 0, 0, 0, 0, 5]) },
        ...(client === undefined ? [] : [option.cookie(client, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))]),
      ] });
      break;
    case 'echoed':
      m.edns = newEdns({ options: client === undefined ? [] : [option.cookie(client)] });
      break;
    case 'flags':
      m.aa = true;
      m.ad = true;
      m.cd = true;
      m.z = true;
      m.tc = false;
      m.rcode = 5;
      m.edns = newEdns({ udpSize: 512 });
      break;
    case 'noedns':
      m.rcode = 3;
      m.authority.push({ name: Name.fromText('test.'), type: 6, class: 1, ttl: 60, data: {
        mname: Name.fromText('ns.test.'), rname: Name.fromText('h.test.'), serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5,
      } });
      break;
    case 'servfail':
      m.rcode = 2;
      break;
    case 'refused':
      m.rcode = 5;
      break;
    case 'noquestion':
      m.question = [];
      m.rcode = 1;
      break;
    default:
      m.rcode = 4;
  }
  return m;
}
const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;

/** Every type in the zone above, queried at its owner. */
const TYPE_QUERIES: [string, string][] = [
  ['a', 'A'], ['aaaa', 'AAAA'], ['dig.test', 'NS'], ['dig.test', 'SOA'], ['cname', 'CNAME'], ['mb', 'MB'], ['mg', 'MG'],
  ['mr', 'MR'], ['wks', 'WKS'], ['ptr', 'PTR'], ['hinfo', 'HINFO'], ['minfo', 'MINFO'], ['mx', 'MX'], ['txt', 'TXT'],
  ['rp', 'RP'], ['afsdb', 'AFSDB'], ['x25', 'X25'], ['rt', 'RT'], ['px', 'PX'], ['srv', 'SRV'], ['naptr', 'NAPTR'],
  ['kx', 'KX'], ['cert', 'CERT'], ['dname', 'DNAME'], ['ds', 'DS'], ['sshfp', 'SSHFP'], ['rrsig', 'RRSIG'],
  ['nsec', 'NSEC'], ['dnskey', 'DNSKEY'], ['dhcid', 'DHCID'], ['2vptu5timamqttgl4luu9kg21e0aor3s', 'NSEC3'],
  ['nsec3param', 'NSEC3PARAM'], ['tlsa', 'TLSA'], ['smimea', 'SMIMEA'], ['cds', 'CDS'], ['cdnskey', 'CDNSKEY'],
  ['openpgpkey', 'OPENPGPKEY'], ['csync', 'CSYNC'], ['zonemd', 'ZONEMD'], ['svcb', 'SVCB'], ['https', 'HTTPS'],
  ['spf', 'SPF'], ['l32', 'L32'], ['lp', 'LP'], ['eui48', 'EUI48'], ['eui64', 'EUI64'], ['uri', 'URI'], ['caa', 'CAA'],
  ['avc', 'AVC'], ['resinfo', 'RESINFO'], ['wallet', 'WALLET'], ['ta', 'TA'], ['dlv', 'DLV'], ['unknown', 'TYPE65280'],
];

const OTHER_QUERIES: string[][] = [
  ['nx.dig.test'], // NXDOMAIN
  ['mx.dig.test', 'A'], // NODATA
  ['x.sub.dig.test', '+norec'], // referral
  ['dig.test', 'ANY'],
  ['big.dig.test', 'TXT', '+noedns'], // TC over UDP, then the TCP retry
  ['big.dig.test', 'TXT', '+bufsize=512'],
  ['big.dig.test', 'TXT', '+noedns', '+ignore', '+noanswer', '+nostats'], // the truncated reply itself (which records fit varies)
  ['big.dig.test', 'TXT', '+tcp'],
  ['rrsig.dig.test', 'RRSIG', '+dnssec'],
  ['nsec.dig.test', 'NSEC', '+dnssec'],
  ['dnskey.dig.test', 'DNSKEY', '+dnssec', '+cd'],
  ['signed.dig.test', '+dnssec'],
  ['nosuch.dig.test', '+dnssec'],
  ['a.dig.test', '+nsid'],
  ['a.dig.test', '+noadflag', '+norecurse'],
  ['a.dig.test', '+noall', '+answer'],
  ['mx.dig.test', 'MX', '+nocomments'],
  ['mx.dig.test', 'MX', '+noquestion', '+noadditional', '+nostats'],
  ['mx.dig.test', 'MX', '+noall', '+comments', '+authority'],
  ['mx.dig.test', 'MX', '+nocmd', '+nottlid'],
  ['mx.dig.test', 'MX', '+noclass'],
  ['txt.dig.test', 'TXT', '+short'],
  ['-t', 'MX', '-q', 'mx.dig.test', '-c', 'IN'],
  ['-x', '192.0.2.1'],
  ['-x', '2001:db8::1'],
  ['MX', 'mx.dig.test', 'IN'],
  ['a.dig.test', '+edns=1'],
  ['a.dig.test', '+nocookie', '+bufsize=4096'],
  ['dig.test', 'AXFR'], // zone transfer over TCP, with the XFR size statistics
  ['dig.test', 'AXFR', '+short'],
  ['nx.test', 'AXFR'], // refused: "; Transfer failed."
];

describe('sovereign dig against dig, on BIND and on sovereign serve', { timeout: 300_000 }, () => {
  let servers: DigServers | undefined;
  let port = 0;
  let skip = false;

  before(async (t) => {
    if (!havePeers(t as never, 'named', 'dig')) {
      skip = true;
      return;
    }
    servers = await startDigServers({ bind: BIND, sov: SOV, prefix: 'sovereign-dig-', nsid: 'bind-nsid' });
    port = servers.port;
  });

  after(async () => {
    await servers?.stop();
  });

  const both = (server: string, args: string[]): { dig: ReturnType<typeof runTool>; ours: ReturnType<typeof runTool> } => {
    const full = [`@${server}`, '-p', String(port), '+time=3', '+tries=1', ...args];
    return { dig: runTool('dig', full), ours: runTool(process.execPath, [BIN, 'dig', ...full]) };
  };

  const compare = (server: string, args: string[]): void => {
    const { dig, ours } = both(server, args);
    assert.equal(ours.status, dig.status, `exit status for ${args.join(' ')}: ${ours.stderr}`);
    assert.equal(normalize(ours.stdout), normalize(dig.stdout), `output for dig @${server} ${args.join(' ')}`);
  };

  for (const [server, label] of [[BIND, 'BIND'], [SOV, 'sovereign serve']] as const) {
    test(`every record type, answered by ${label}`, (t) => {
      if (skip) return t.skip('peers missing');
      for (const [owner, type] of TYPE_QUERIES) compare(server, [owner.includes('.') ? owner : `${owner}.dig.test`, type]);
    });

    test(`NXDOMAIN, NODATA, referral, truncation, DNSSEC, options and toggles, answered by ${label}`, (t) => {
      if (skip) return t.skip('peers missing');
      for (const args of OTHER_QUERIES) compare(server, args);
    });
  }

  test('truncation: the UDP reply has TC and the printed reply came over TCP', (t) => {
    if (skip) return t.skip('peers missing');
    const { ours } = both(SOV, ['big.dig.test', 'TXT', '+noedns']);
    assert.match(ours.stdout, /^;; Truncated, retrying in TCP mode\.$/m);
    assert.match(ours.stdout, /\(TCP\)$/m);
    assert.match(ours.stdout, /ANSWER: 30,/);
  });

  test('no reply: the same messages and exit code 9 as dig, for a silent address over UDP and TCP', (t) => {
    if (skip) return t.skip('peers missing');
    for (const extra of [[], ['+tcp']]) {
      const full = [`@${SILENT}`, '-p', String(port), '+time=1', '+tries=2', 'a.dig.test', ...extra];
      const dig = runTool('dig', full);
      const ours = runTool(process.execPath, [BIN, 'dig', ...full]);
      assert.equal(ours.status, 9);
      assert.equal(ours.status, dig.status);
      assert.equal(normalize(ours.stdout), normalize(dig.stdout));
    }
  });

  test('OPT pseudosection, header flags and odd replies print as dig prints them (crafted replies)', async (t) => {
    if (skip) return t.skip('peers missing');
    const sock = createSocket('udp4');
    sock.on('message', (b, r) => {
      let q: Message;
      try { q = Message.decode(b); } catch { return; }
      sock.send(craftedReply(q).encode(), r.port, r.address);
    });
    await new Promise<void>((resolve) => sock.bind(port, CRAFTED, () => resolve()));
    try {
      for (const name of ['options.test', 'echoed.test', 'flags.test', 'noedns.test', 'noquestion.test', 'servfail.test', 'refused.test', 'other.test']) {
        const full = [`@${CRAFTED}`, '-p', String(port), '+time=3', '+tries=1', name];
        const dig = await runAsync(PEER_BINARIES.dig, full);
        const ours = await runAsync(process.execPath, [BIN, 'dig', ...full]);
        assert.equal(ours.status, dig.status, name);
        assert.equal(normalize(ours.stdout), normalize(dig.stdout), name);
      }
    } finally {
      sock.close();
    }
  });

  test('nslookup: the same output and exit status as nslookup, on both servers', (t) => {
    if (skip) return t.skip('peers missing');
    if (!havePeers(t, 'nslookup')) return;
    const nslookup = PEER_BINARIES.nslookup;
    const cases = [
      ['a.dig.test'], ['-type=MX', 'mx.dig.test'], ['nx.dig.test'], ['-type=TXT', 'txt.dig.test'], ['-type=SOA', 'dig.test'],
      ['-type=NS', 'dig.test'], ['cname.dig.test'], ['-type=AAAA', 'aaaa.dig.test'], ['-type=PTR', 'ptr.dig.test'],
      ['-type=SRV', 'srv.dig.test'], ['-type=CAA', 'caa.dig.test'], ['ns2.dig.test'], ['-type=HINFO', 'hinfo.dig.test'],
      ['mx.dig.test'], ['-type=ANY', 'x.sub.dig.test'], ['-norecurse', 'x.sub.dig.test'], ['-query=MX', 'nx.dig.test'],
    ];
    for (const server of [BIND, SOV]) {
      for (const c of cases) {
        const args = [`-port=${port}`, ...c, server];
        const want = runTool(nslookup, args);
        const got = runTool(process.execPath, [BIN, 'nslookup', ...args]);
        // BIND rotates RRsets: compare the lines as a multiset, and the layout's first lines exactly.
        assert.deepEqual(got.stdout.split('\n').sort(), want.stdout.split('\n').sort(), `nslookup ${args.join(' ')}`);
        assert.deepEqual(got.stdout.split('\n').slice(0, 3), want.stdout.split('\n').slice(0, 3));
        assert.equal(got.status, want.status, `exit status of nslookup ${args.join(' ')}`);
      }
    }
  });

  test('usage errors exit 1 like dig', (t) => {
    if (skip) return t.skip('peers missing');
    for (const bad of [['+frobnicate'], ['-z'], ['-p', 'notaport', 'a.dig.test']]) {
      const dig = runTool('dig', [`@${SILENT}`, ...bad]);
      const ours = runTool(process.execPath, [BIN, 'dig', `@${SILENT}`, ...bad]);
      assert.equal(ours.status, 1, bad.join(' '));
      assert.equal(dig.status, 1, bad.join(' '));
      assert.equal(ours.stdout, '');
      assert.ok(ours.stderr.split('\n')[0]!.length > 0);
    }
  });
});
