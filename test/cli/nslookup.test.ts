// sovereign nslookup: argument parsing and nslookup's output layout for each record kind.
// Agreement with the real nslookup is checked in test/interop/dig-compare.test.ts.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { NslookupUsageError, formatNslookupReply, nslookupRecord, parseNslookupArgs, runNslookup } from '../../src/cli/nslookup.js';
import { Message, RRType, parseRecord } from '../../src/wire/index.js';
import { addLoopbackAddress } from '../helpers/peers.js';

test('parse: -type/-query, -port, -timeout, -retry, -norecurse, -vc, name and server', () => {
  const o = parseNslookupArgs(['-type=MX', '-port=5353', '-timeout=3', '-retry=1', '-norecurse', '-vc', 'example.test', '127.24.3.1']);
  assert.deepEqual(o, {
    name: 'example.test', server: '127.24.3.1', type: RRType.MX, class: 1, port: 5353, timeoutSeconds: 3, tries: 1, recurse: false, tcp: true,
    debug: false, interactive: false, warnings: [],
  });
  assert.equal(parseNslookupArgs(['-query=aaaa', 'x.test']).type, RRType.AAAA);
  assert.equal(parseNslookupArgs(['-q=txt', 'x.test']).type, RRType.TXT);
  assert.equal(parseNslookupArgs(['x.test']).type, undefined);
  // No name, or `-`: interactive mode.
  assert.equal(parseNslookupArgs([]).interactive, true);
  assert.deepEqual([parseNslookupArgs(['-', '127.0.0.1']).interactive, parseNslookupArgs(['-', '127.0.0.1']).server], [true, '127.0.0.1']);
  // nslookup warns about a bad option and carries on with the defaults.
  assert.deepEqual(parseNslookupArgs(['-type=BOGUS', 'x.test']).warnings, ['unknown query type: BOGUS']);
  assert.deepEqual(parseNslookupArgs(['-port=x', 'x.test']).warnings, ["invalid port 'x': not a valid number"]);
  const frob = parseNslookupArgs(['-frob', '-debug', 'x.test']);
  assert.deepEqual([frob.warnings, frob.debug, frob.name], [['*** Invalid option: frob'], true, 'x.test']);
  assert.throws(() => parseNslookupArgs(['a', 'b', 'c']), NslookupUsageError);
});

test('records as nslookup prints them', () => {
  const cases: [string, boolean, string][] = [
    ['a.test. 300 IN A 192.0.2.1', true, 'Name:\ta.test\nAddress: 192.0.2.1'],
    ['a.test. 300 IN A 192.0.2.1', false, 'a.test\tinternet address = 192.0.2.1'],
    ['a.test. 300 IN AAAA 2001:db8::1', false, 'a.test\thas AAAA address 2001:db8::1'],
    ['c.test. 300 IN CNAME a.test.', true, 'c.test\tcanonical name = a.test.'],
    ['m.test. 300 IN MX 10 mail.test.', true, 'm.test\tmail exchanger = 10 mail.test.'],
    ['test. 300 IN NS ns.test.', true, 'test\tnameserver = ns.test.'],
    ['p.test. 300 IN PTR a.test.', true, 'p.test\tname = a.test.'],
    ['t.test. 300 IN TXT "a b" "c"', true, 't.test\ttext = "a b" "c"'],
    ['s.test. 300 IN SRV 0 5 5060 sip.test.', true, 's.test\tservice = 0 5 5060 sip.test.'],
    ['c.test. 300 IN CAA 0 issue "ca.test"', true, 'c.test\trdata_257 = 0 issue "ca.test"'],
    ['test. 300 IN SOA ns.test. host.test. 1 2 3 4 5', true,
      'test\n\torigin = ns.test\n\tmail addr = host.test\n\tserial = 1\n\trefresh = 2\n\tretry = 3\n\texpire = 4\n\tminimum = 5'],
  ];
  for (const [text, answer, want] of cases) assert.equal(nslookupRecord(parseRecord(text), answer), want, text);
});

test('replies: NXDOMAIN, no answer, non-authoritative answers with referral data', () => {
  const m = new Message();
  m.qr = true;
  m.rcode = 3;
  assert.deepEqual(formatNslookupReply(m, 'nx.test', RRType.A, false, true), { lines: ["** server can't find nx.test: NXDOMAIN"], failed: true });
  m.rcode = 0;
  m.aa = true;
  assert.deepEqual(formatNslookupReply(m, 'x.test', RRType.MX, false, true).lines, ["*** Can't find x.test: No answer"]);
  // A then AAAA: "No answer" only after the last one, and only when neither answered.
  assert.deepEqual(formatNslookupReply(m, 'x.test', RRType.A, true, false).lines, []);
  assert.deepEqual(formatNslookupReply(m, 'x.test', RRType.AAAA, true, true, true).lines, []);
  m.aa = false;
  m.authority.push(parseRecord('sub.test. 300 IN NS ns.sub.test.'));
  m.additional.push(parseRecord('ns.sub.test. 300 IN A 192.0.2.53'));
  assert.deepEqual(formatNslookupReply(m, 'x.sub.test', RRType.ANY, false, true).lines, [
    'Non-authoritative answer:', "*** Can't find x.sub.test: No answer", '', 'Authoritative answers can be found from:',
    'sub.test\tnameserver = ns.sub.test.', 'ns.sub.test\tinternet address = 192.0.2.53',
  ]);
});

test('reverse lookups: no Server header unless a type was given; PTR whatever the type (as nslookup 9.18)', async () => {
  const ADDR = '127.31.1.1';
  addLoopbackAddress(ADDR);
  const sock = createSocket('udp4');
  const asked: number[] = [];
  sock.on('message', (b, r) => {
    const q = Message.decode(b);
    asked.push(q.question[0]!.type);
    const m = new Message();
    m.id = q.id;
    m.qr = true;
    m.rd = q.rd;
    m.question = q.question;
    m.rcode = 5; // REFUSED
    sock.send(m.encode(), r.port, r.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, ADDR, () => resolve()));
  const port = sock.address().port;
  try {
    const run = async (...args: string[]): Promise<{ code: number; out: string }> => {
      let out = '';
      const code = await runNslookup(parseNslookupArgs([`-port=${port}`, ...args, ADDR]), { out: (t) => { out += t; }, err: () => {} });
      return { code, out };
    };
    assert.deepEqual(await run('192.0.2.1'), { code: 1, out: "** server can't find 1.2.0.192.in-addr.arpa: REFUSED\n\n" });
    assert.deepEqual(await run('-type=A', '192.0.2.1'), {
      code: 1, out: `Server:\t\t${ADDR}\nAddress:\t${ADDR}#${port}\n\n** server can't find 1.2.0.192.in-addr.arpa: REFUSED\n\n`,
    });
    assert.deepEqual(asked, [RRType.PTR, RRType.PTR]);
    assert.match((await run('nx.test')).out, /^Server:\t\t/);
  } finally {
    sock.close();
  }
});
