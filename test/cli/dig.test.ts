// sovereign dig: option parsing (dig's rules), output formatting (BIND's columns, OPT lines as
// dig 9.18 prints them) and runs against a tiny responder on 127.24.3.1 with captured output.
// Agreement with the real dig is checked in test/interop/dig-compare.test.ts.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DigUsageError, parseDigArgs, reverseName } from '../../src/cli/dig-args.js';
import { digRData, formatEdns, formatQuestion, formatRecord, verboseDuration, formatWhen } from '../../src/cli/dig-format.js';
import { digMain } from '../../src/cli/dig.js';
import { type DigIO, buildQuery, defaultServer } from '../../src/cli/dig-query.js';
import { Message, Name, RRType, newEdns, option, parseRecord } from '../../src/wire/index.js';
import { tempDir } from '../helpers/peers.js';

test('parse: no arguments is ". NS" to the default server, dig\'s defaults', () => {
  const o = parseDigArgs([]);
  assert.equal(o.lookups.length, 1);
  const l = o.lookups[0]!;
  assert.deepEqual({ name: l.name, type: l.type, class: l.class, typeSet: l.typeSet }, { name: '.', type: RRType.NS, class: 1, typeSet: false });
  assert.equal(o.server, undefined);
  assert.equal(o.port, 53);
  assert.equal(o.recurse, true);
  assert.equal(o.ad, true);
  assert.equal(o.cookie, true);
  assert.equal(o.edns, 0);
  assert.equal(o.bufsize, 1232);
  assert.equal(o.timeSeconds, 5);
  assert.equal(o.tries, 3);
});

test('parse: positionals are type, class or name in any order; options set the current lookup', () => {
  const cases: [string[], { name: string; type: number; class: number }[]][] = [
    [['example.com'], [{ name: 'example.com', type: RRType.A, class: 1 }]],
    [['example.com', 'MX'], [{ name: 'example.com', type: RRType.MX, class: 1 }]],
    [['MX', 'example.com', 'CH'], [{ name: 'example.com', type: RRType.MX, class: 3 }]],
    [['-t', 'txt', '-c', 'CH', '-q', 'version.bind'], [{ name: 'version.bind', type: RRType.TXT, class: 3 }]],
    [['TYPE65280', 'x.test'], [{ name: 'x.test', type: 65280, class: 1 }]],
    [['a.test', 'b.test', 'AAAA'], [{ name: 'a.test', type: RRType.A, class: 1 }, { name: 'b.test', type: RRType.AAAA, class: 1 }]],
    [['-x', '192.0.2.1'], [{ name: '1.2.0.192.in-addr.arpa.', type: RRType.PTR, class: 1 }]],
    [['-t', 'NS', '-x', '192.0.2.1'], [{ name: '1.2.0.192.in-addr.arpa.', type: RRType.NS, class: 1 }]],
  ];
  for (const [argv, want] of cases) {
    const o = parseDigArgs(argv);
    assert.deepEqual(o.lookups.map((l) => ({ name: l.name, type: l.type, class: l.class })), want, argv.join(' '));
  }
});

test('parse: @server, -p, -4/-6, -b, glued values', () => {
  const o = parseDigArgs(['@127.24.3.1', '-p5353', '-4', '-b', '127.24.3.9', 'x.test']);
  assert.equal(o.server, '127.24.3.1');
  assert.equal(o.port, 5353);
  assert.equal(o.family, 4);
  assert.equal(o.source, '127.24.3.9');
  assert.throws(() => parseDigArgs(['@::1', '-4']), DigUsageError);
  assert.throws(() => parseDigArgs(['-p', '70000']), /Couldn't parse port number/);
});

test('parse: +options, +no forms, abbreviations, values', () => {
  const o = parseDigArgs(['+tcp', '+dnssec', '+norec', '+cd', '+noad', '+nsid', '+bufsize=4096', '+time=2', '+tries=4',
    '+nocookie', '+subnet=192.0.2.0/24', '+ignore', 'x.test']);
  assert.equal(o.tcp, true);
  assert.equal(o.dnssec, true);
  assert.equal(o.recurse, false);
  assert.equal(o.cd, true);
  assert.equal(o.ad, false);
  assert.equal(o.nsid, true);
  assert.equal(o.bufsize, 4096);
  assert.equal(o.timeSeconds, 2);
  assert.equal(o.tries, 4);
  assert.equal(o.cookie, false);
  assert.deepEqual(o.subnet, { address: '192.0.2.0', prefix: 24 });
  assert.equal(o.ignoreTruncation, true);
  assert.equal(parseDigArgs(['+retry=1']).tries, 2);
  assert.equal(parseDigArgs(['+noedns']).edns, undefined);
  assert.equal(parseDigArgs(['+edns=1']).edns, 1);
  assert.equal(parseDigArgs(['+vc']).tcp, true);
  assert.equal(parseDigArgs(['+notcp']).tcp, false);
  assert.equal(parseDigArgs([]).tcp, undefined);
  assert.equal(parseDigArgs(['+nostat']).display.stats, false);
  assert.equal(parseDigArgs(['+nocomm']).display.comments, false);
});

test('parse: options after a name belong to that lookup only, as in dig', () => {
  const o = parseDigArgs(['+tcp', 'a.test', '+short', '-p', '5353', 'b.test', 'MX', '+nocmd']);
  const [a, b] = o.lookups;
  assert.equal(o.display.short, true); // +short is global in dig, wherever it is given
  assert.equal(a!.opts!.tcp, true);
  assert.equal(a!.opts!.display.short, true);
  assert.equal(a!.opts!.port, 5353);
  assert.equal(a!.opts!.display.cmd, false); // +short implies +nocmd
  assert.equal(b!.opts!.tcp, true);
  // dig's +short is global (short_form): it holds for the lookups after the one it was given for.
  assert.equal(b!.opts!.display.short, true);
  assert.equal(b!.opts!.port, 53);
  assert.equal(b!.opts!.display.cmd, false);
  assert.equal(b!.type, RRType.MX);
  const t = parseDigArgs(['@127.24.3.1', 'www.test', '+trace']);
  assert.equal(t.lookups[0]!.opts!.trace, true);
  assert.equal(t.lookups[0]!.opts!.server, '127.24.3.1');
});

test('parse: display toggles (+short, +noall +answer, +trace)', () => {
  const s = parseDigArgs(['+short']).display;
  assert.deepEqual([s.short, s.cmd, s.comments, s.question, s.answer, s.authority, s.additional, s.stats],
    [true, false, false, false, true, false, false, false]);
  const n = parseDigArgs(['+noall', '+answer']).display;
  assert.deepEqual([n.cmd, n.comments, n.question, n.answer, n.authority, n.additional, n.stats], [false, false, false, true, false, false, false]);
  const t = parseDigArgs(['+trace']);
  assert.equal(t.trace, true);
  assert.equal(t.dnssec, true);
  assert.equal(t.display.comments, false);
  assert.equal(t.display.additional, false);
  assert.equal(parseDigArgs(['+trace', '+nodnssec']).dnssec, false);
});

test('parse: errors and warnings as dig gives them', () => {
  assert.throws(() => parseDigArgs(['+frobnicate']), (e: unknown) => e instanceof DigUsageError && e.exitCode === 1 && /Invalid option: \+frobnicate/.test(e.message));
  assert.throws(() => parseDigArgs(['-z']), (e: unknown) => e instanceof DigUsageError && e.exitCode === 1);
  assert.throws(() => parseDigArgs(['+time=x']), (e: unknown) => e instanceof DigUsageError && e.exitCode === 10);
  assert.throws(() => parseDigArgs(['+a']), DigUsageError); // ambiguous abbreviation
  assert.throws(() => parseDigArgs(['-p']), DigUsageError);
  assert.throws(() => parseDigArgs(['a..b']), DigUsageError);
  assert.throws(() => parseDigArgs([`${'x'.repeat(64)}.test`]), DigUsageError);
  const o = parseDigArgs(['-t', 'NOSUCHTYPE', '-c', 'BOGUS', 'x.test']);
  assert.deepEqual(o.warnings, [';; Warning, ignoring invalid type NOSUCHTYPE', ';; Warning, ignoring invalid class BOGUS']);
  assert.equal(o.lookups[0]!.type, RRType.A);
});

test('reverse names: in-addr.arpa and ip6.arpa nibbles (RFC 3596 §2.5)', () => {
  assert.equal(reverseName('192.0.2.1'), '1.2.0.192.in-addr.arpa.');
  assert.equal(reverseName('2001:db8::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.');
  assert.equal(reverseName('::ffff:192.0.2.1'), '1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.');
  assert.throws(() => reverseName('not-an-address'), DigUsageError);
});

test('query: flags, EDNS size, DO, NSID, ECS and an 8-octet random client cookie', () => {
  const o = parseDigArgs(['+dnssec', '+nsid', '+cd', '+norec', '+subnet=192.0.2.0/24', 'x.test', 'MX']);
  const { query, cookie } = buildQuery(o.lookups[0]!, o);
  assert.equal(query.rd, false);
  assert.equal(query.cd, true);
  assert.equal(query.ad, true);
  assert.equal(query.edns!.dnssecOk, true);
  assert.equal(query.edns!.udpSize, 1232);
  assert.deepEqual(query.edns!.options.map((x) => x.code), [3, 8, 10]);
  assert.equal(cookie!.length, 8);
  assert.equal(query.question[0]!.name.toString(), 'x.test.');
  const plain = buildQuery(parseDigArgs(['+noedns', 'x.test']).lookups[0]!, parseDigArgs(['+noedns', 'x.test']));
  assert.equal(plain.query.edns, undefined);
  assert.equal(plain.cookie, undefined);
});

test('records and questions in BIND\'s tab-stop columns, with +nottlid / +noclass shifting them', () => {
  const rr = parseRecord('mx.dig.test. 300 IN MX 10 mail.dig.test.');
  assert.equal(formatRecord(rr), 'mx.dig.test.\t\t300\tIN\tMX\t10 mail.dig.test.');
  assert.equal(formatRecord(rr, { ttlid: false, showClass: true }), 'mx.dig.test.\t\tIN\tMX\t10 mail.dig.test.');
  assert.equal(formatRecord(rr, { ttlid: true, showClass: false }), 'mx.dig.test.\t\t300\tMX\t10 mail.dig.test.');
  assert.equal(formatRecord(rr, { ttlid: false, showClass: false }), 'mx.dig.test.\t\tMX\t10 mail.dig.test.');
  // Past a stop: one space (or a tab when that lands exactly on a stop).
  const long = parseRecord('a-rather-long-owner-name.example. 2147483647 IN NSEC3PARAM 1 0 0 -');
  // (Checked against dig 9.18's own output for the same records.)
  assert.equal(formatRecord(long), 'a-rather-long-owner-name.example. 2147483647 IN\tNSEC3PARAM 1 0 0 -');
  assert.equal(formatRecord(parseRecord('abcdefghijklmnopqrstuvw. 1 IN A 1.2.3.4')), 'abcdefghijklmnopqrstuvw. 1\tIN\tA\t1.2.3.4');
  assert.equal(formatRecord(parseRecord('abcdefghijklmnopqrstuvwxyz01234. 1 IN A 1.2.3.4')), 'abcdefghijklmnopqrstuvwxyz01234. 1 IN\tA\t1.2.3.4');
  assert.equal(formatRecord(parseRecord('abcdefghijklmnopqrstuvwxyz0123. 1 IN A 1.2.3.4')), 'abcdefghijklmnopqrstuvwxyz0123.\t1 IN\tA\t1.2.3.4');
  assert.equal(formatRecord(parseRecord('ns.sub.dig.test. 300 IN A 127.0.0.1')), 'ns.sub.dig.test.\t300\tIN\tA\t127.0.0.1');
  const q = { name: Name.fromText('x.sub.dig.test.'), type: RRType.A, class: 1 };
  assert.equal(formatQuestion(q), ';x.sub.dig.test.\t\t\tIN\tA');
  assert.equal(formatQuestion(q, { ttlid: false, showClass: true }), ';x.sub.dig.test.\t\tIN\tA');
  assert.equal(formatQuestion({ ...q, name: Name.fromText('mx.dig.test.') }, { ttlid: false, showClass: false }), ';mx.dig.test.\t\tIN A');
});

test('hex and base64 blobs are cut in 56-character words as BIND prints them', () => {
  const ds = parseRecord('ds.test. 300 IN DS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE1B5A5A7A9B9F9A9F49B1A7A1');
  assert.equal(digRData(ds.type, ds.data), '12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE1B5A5A7A9B9F9A9F 49B1A7A1');
  const short = parseRecord('ds.test. 300 IN DS 1 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE');
  assert.equal(digRData(short.type, short.data), '1 8 1 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE');
  const mx = parseRecord('mx.test. 300 IN MX 10 a.test.');
  assert.equal(digRData(mx.type, mx.data), '10 a.test.');
});

test('OPT pseudosection lines as dig 9.18 prints them', () => {
  const client = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const expire = (v: number): { code: number; data: Uint8Array } => ({ code: 9, data: new Uint8Array([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]) });
  const edns = newEdns({ udpSize: 4096, dnssecOk: true, zFlags: 0x10, options: [
    option.nsid(new Uint8Array([0x61, 0, 0x62, 0x7f])), option.nsid(new Uint8Array(0)),
    option.extendedError(15, 'blocked by policy'), option.extendedError(3), option.extendedError(99, 'x'), option.extendedError(25),
    option.clientSubnet('192.0.2.0', 24, 16), option.tcpKeepalive(300), option.tcpKeepalive(), option.padding(5), option.padding(0),
    expire(3600), expire(90061), { code: 65001, data: new Uint8Array([0x41, 0x42, 1]) }, option.cookie(client),
    option.cookie(client, new Uint8Array(8)), option.cookie(new Uint8Array(8), new Uint8Array(8)),
  ] });
  assert.deepEqual(formatEdns(edns, client), [
    '; EDNS: version: 0, flags: do; MBZ: 0x0010, udp: 4096',
    '; NSID: 61 00 62 7f ("a.b.")',
    '; NSID:',
    '; EDE: 15 (Blocked): (blocked by policy)',
    '; EDE: 3 (Stale Answer)',
    '; EDE: 99: (x)',
    '; EDE: 25',
    '; CLIENT-SUBNET: 192.0.2.0/24/16',
    '; TCP KEEPALIVE: 30.0 secs',
    '; TCP KEEPALIVE:',
    '; PAD: (5 bytes)',
    '; PAD:',
    '; EXPIRE: 3600 (1 hour)',
    '; EXPIRE: 90061 (1 day 1 hour 1 minute 1 second)',
    '; OPT=65001: 41 42 01 ("AB.")',
    '; COOKIE: 0102030405060708 (echoed)',
    '; COOKIE: 01020304050607080000000000000000 (good)',
    '; COOKIE: 00000000000000000000000000000000 (bad)',
  ]);
  assert.deepEqual(formatEdns(newEdns()), ['; EDNS: version: 0, flags:; udp: 1232']);
  assert.equal(verboseDuration(0), '0 seconds');
  assert.equal(verboseDuration(604801), '1 week 1 second');
  assert.equal(verboseDuration(1209600), '2 weeks');
  assert.match(formatWhen(new Date(Date.UTC(2026, 0, 5, 3, 4, 5))), /^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} \S+ 2026$/);
});

test('default server: first nameserver of resolv.conf of the wanted family, else loopback', () => {
  const dir = tempDir('sovereign-dig-unit-');
  try {
    const p = join(dir.path, 'resolv.conf');
    writeFileSync(p, '# comment\nsearch example\nnameserver fe80::1%eth0\nnameserver 127.24.3.53\n');
    assert.equal(defaultServer(undefined, p), 'fe80::1');
    assert.equal(defaultServer(4, p), '127.24.3.53');
    assert.equal(defaultServer(undefined, join(dir.path, 'missing')), '127.0.0.1');
    assert.equal(defaultServer(6, join(dir.path, 'missing')), '::1');
  } finally {
    dir.cleanup();
  }
});

// ---- runs against a tiny responder -------------------------------------------------------

const ADDR = '127.24.3.1';
let sock: Socket;
let port = 0;

before(async () => {
  sock = createSocket('udp4');
  sock.on('message', (b, r) => {
    let q: Message;
    try { q = Message.decode(b); } catch { return; }
    const m = new Message();
    m.id = q.id;
    m.qr = true;
    m.aa = true;
    m.rd = q.rd;
    m.question = q.question;
    const name = q.question[0]!.name.toString();
    if (name === 'silent.test.') return;
    if (name === 'www.test.') {
      m.answer.push(parseRecord('www.test. 300 IN CNAME web.test.'), parseRecord('web.test. 300 IN A 192.0.2.1'));
    } else {
      m.rcode = 3;
    }
    m.edns = q.edns === undefined ? undefined : newEdns();
    sock.send(m.encode(), r.port, r.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, ADDR, () => resolve()));
  port = sock.address().port;
});

after(() => sock.close());

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: DigIO = { out: (t) => { out += t; }, err: (t) => { err += t; } };
  const code = await digMain([`@${ADDR}`, '-p', String(port), ...args], io);
  return { code, out, err };
}

test('run: full output, +short, +noall +answer, +json', async () => {
  const full = await run('www.test');
  assert.equal(full.code, 0);
  assert.match(full.out, /^\n; <<>> Sovereign dig .* <<>> @127\.24\.3\.1 -p \d+ www\.test\n; \(1 server found\)\n;; global options: \+cmd\n;; Got answer:\n/);
  assert.match(full.out, /;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: \d+\n;; flags: qr aa rd; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 1\n/);
  assert.match(full.out, /;; ANSWER SECTION:\nwww\.test\.\t\t300\tIN\tCNAME\tweb\.test\.\nweb\.test\.\t\t300\tIN\tA\t192\.0\.2\.1\n\n/);
  assert.match(full.out, /;; SERVER: 127\.24\.3\.1#\d+\(127\.24\.3\.1\) \(UDP\)\n;; WHEN: .*\n;; MSG SIZE {2}rcvd: \d+\n\n$/);
  assert.equal((await run('www.test', '+short')).out, 'web.test.\n192.0.2.1\n');
  assert.equal((await run('www.test', '+noall', '+answer')).out, 'www.test.\t\t300\tIN\tCNAME\tweb.test.\nweb.test.\t\t300\tIN\tA\t192.0.2.1\n');
  const j = JSON.parse((await run('www.test', '+json')).out) as { status: string; flags: string[]; answer: { rdata: string }[]; transport: string };
  assert.equal(j.status, 'NOERROR');
  assert.deepEqual(j.flags, ['qr', 'aa', 'rd']);
  assert.deepEqual(j.answer.map((a) => a.rdata), ['web.test.', '192.0.2.1']);
  assert.equal(j.transport, 'udp');
  const nx = await run('nx.test');
  assert.equal(nx.code, 0);
  assert.match(nx.out, /status: NXDOMAIN/);
});

test('run: exit codes 9 (no reply), 1 (usage), 0 with -h', async () => {
  const silent = await run('silent.test', '+time=1', '+tries=2');
  assert.equal(silent.code, 9);
  assert.equal(silent.out.match(/;; communications error to 127\.24\.3\.1#\d+: timed out\n/g)?.length, 2);
  assert.match(silent.out, /;; no servers could be reached\n$/);
  const bad = await run('+bogus');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^Invalid option: \+bogus\n/);
  assert.equal(bad.out, '');
  const help = await run('-h');
  assert.equal(help.code, 0);
  assert.match(help.out, /^Usage: {2}dig /);
});

test('parse: -f batch file, -y/-k (TSIG) and IXFR=SERIAL', async () => {
  const o = parseDigArgs(['@127.0.0.1', '+short', '-f', 'queries.txt']);
  assert.equal(o.batchFile, 'queries.txt');
  assert.equal(o.lookups.length, 0); // no default ". NS" when names come from the file
  const line = parseDigArgs(['mx.test', 'MX'], o);
  assert.equal(line.server, '127.0.0.1');
  assert.equal(line.lookups[0]!.opts!.display.short, true);
  assert.deepEqual(line.argv, ['mx.test', 'MX']);
  // +short after a name holds for later lookups too (dig's global short_form).
  const sticky = parseDigArgs(['a.test', '+short', 'b.test']);
  assert.equal(sticky.lookups[1]!.opts!.display.short, true);
  // -y [ALG:]NAME:SECRET (dig's default algorithm hmac-md5) and -k FILE (read when sent).
  const y = parseDigArgs(['-y', 'hmac-sha256:k:aGVsbG8=', 'a.test']);
  assert.deepEqual(y.lookups[0]!.opts!.tsig, { algorithm: 'hmac-sha256', name: 'k', secret: 'aGVsbG8=' });
  assert.deepEqual(parseDigArgs(['-y', 'k:aGVsbG8=']).tsig, { algorithm: 'hmac-md5', name: 'k', secret: 'aGVsbG8=' });
  assert.equal(parseDigArgs(['-k', '/etc/key.conf', 'a.test']).keyFile, '/etc/key.conf');
  assert.throws(() => parseDigArgs(['-y', 'onlyname']), DigUsageError);
  let kerr = '';
  const kcode = await digMain(['@127.0.0.1', '-k', '/nonexistent/key', 'a.test'], { out: () => {}, err: (t) => { kerr += t; } });
  assert.equal(kcode, 10);
  assert.equal(kerr, "dig: Couldn't read key from /nonexistent/key: file not found\n");
  // IXFR=SERIAL: an IXFR query carrying that serial in an SOA (RFC 1995 §3).
  const ix = parseDigArgs(['example.com', 'IXFR=2024010100']).lookups[0]!;
  assert.equal(ix.type, RRType.IXFR);
  const q = buildQuery(ix, ix.opts!).query;
  assert.equal(q.authority.length, 1);
  assert.equal((q.authority[0]!.data as { serial: number }).serial, 2024010100);
  let err = '';
  assert.equal(await digMain(['@127.0.0.1', '-f', '/nonexistent/batch'], { out: () => {}, err: (t) => { err += t; } }), 8);
  assert.equal(err, "/nonexistent/batch: No such file or directory\ndig: couldn't open specified batch file\n");
});

test('+multiline: SOA timers with comments, DNSKEY with its key id, blobs cut in 44 characters', () => {
  const rr = (t: string) => parseRecord(t);
  const d = { ttlid: true, showClass: true, multiline: true };
  assert.equal(formatRecord(rr('t. 300 IN SOA ns.t. h.t. 1 7200 900 1209600 86400'), d),
    't.\t\t\t300 IN SOA ns.t. h.t. (\n\t\t\t\t1          ; serial\n\t\t\t\t7200       ; refresh (2 hours)\n' +
    '\t\t\t\t900        ; retry (15 minutes)\n\t\t\t\t1209600    ; expire (2 weeks)\n\t\t\t\t86400      ; minimum (1 day)\n\t\t\t\t)');
  assert.equal(formatRecord(rr('k.t. 300 IN DNSKEY 257 3 8 AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh36BponcwtkZ4cAgtvd4Qs8PkxUdp6p/DlUmObdk='), d),
    'k.t.\t\t\t300 IN DNSKEY 257 3 8 (\n\t\t\t\tAwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGc\n\t\t\t\tnUFtR2Fh36BponcwtkZ4cAgtvd4Qs8PkxUdp6p/DlUmO' +
    '\n\t\t\t\tbdk=\n\t\t\t\t) ; KSK; alg = RSASHA256 ; key id = 9034');
  assert.equal(formatRecord(rr('m.t. 300 IN MX 10 mail.t.'), d), 'm.t.\t\t\t300 IN MX 10 mail.t.');
  assert.equal(formatQuestion({ name: Name.fromText('m.t.'), type: RRType.MX, class: 1 }, d), ';m.t.\t\t\tIN MX');
});
