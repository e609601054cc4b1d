/**
 * DNS Cookies served (RFC 7873, RFC 9018): SipHash-2-4 and the RFC 9018 Appendix A vector,
 * every worker computing the same cookie, rotation with the previous secret accepted, FORMERR
 * for a malformed option, BADCOOKIE when cookies are required (UDP only), and the real clients:
 * `dig +cookie` (which retries after BADCOOKIE) and `kdig +cookie +badcookie`.
 *
 * Addresses: 127.31.11.1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { CookieState, ServerCookies, siphash24 } from '../../src/server/cookies.js';
import { DnsServer } from '../../src/server/server.js';
import { EdnsOptionCode, Rcode } from '../../src/wire/constants.js';
import { newEdns, option } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { havePeers, pickPort, runToolAsync, tempDir } from '../helpers/peers.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ADDRESS = '127.31.11.1';

test('SipHash-2-4 reference vector and RFC 9018 Appendix A.1', () => {
  const k = new Uint32Array([0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c]);
  const out = new Uint8Array(8);
  siphash24(k, Uint8Array.from({ length: 15 }, (_, i) => i), 15, out, 0);
  assert.equal(Buffer.from(out).toString('hex'), 'e545be4961ca29a1');
  const sc = new ServerCookies({ base: new Uint8Array(32), rotationS: 3600, secret: Buffer.from('e5e973e5a6b2a43f48e7dc849e37bfcf', 'hex'), now: () => 1559731985 });
  const opt = new Uint8Array(28);
  assert.equal(sc.writeOption(Buffer.from('2464c4abcf10c957', 'hex'), 0, '198.51.100.100', opt, 0), 28);
  assert.equal(Buffer.from(opt.subarray(12)).toString('hex'), '010000005cf79f111f8130c3eee29480');
});

test('workers agree; the previous secret is accepted after rotation; stale, foreign and malformed cookies are not', () => {
  const base = new Uint8Array(32).fill(7);
  let now = 7199;
  const a = new ServerCookies({ base, rotationS: 3600, now: () => now });
  const b = new ServerCookies({ base, rotationS: 3600, now: () => now });
  const client = Buffer.from('0102030405060708', 'hex');
  const oa = new Uint8Array(28);
  const ob = new Uint8Array(28);
  a.writeOption(client, 0, '192.0.2.1', oa, 0);
  b.writeOption(client, 0, '192.0.2.1', ob, 0);
  assert.deepEqual(oa, ob, 'two workers make the same cookie');
  const data = oa.subarray(4);
  assert.equal(b.check(data, 24, '192.0.2.1'), CookieState.VALID);
  assert.equal(b.check(data, 24, '192.0.2.2'), CookieState.INVALID, 'bound to the client address');
  now = 7201; // next epoch: made with the previous secret, still accepted
  assert.equal(b.check(data, 24, '192.0.2.1'), CookieState.VALID);
  now = 7199 + 3601; // over an hour old
  assert.equal(b.check(data, 24, '192.0.2.1'), CookieState.INVALID);
  assert.equal(b.check(client, 8, '192.0.2.1'), CookieState.CLIENT_ONLY);
  assert.equal(b.check(new Uint8Array(12), 12, '192.0.2.1'), CookieState.MALFORMED);
  assert.equal(b.check(new Uint8Array(41), 41, '192.0.2.1'), CookieState.MALFORMED);
});

describe('cookies served', { timeout: 60_000 }, () => {
  let server: DnsServer;
  let port = 0;
  let dir: ReturnType<typeof tempDir>;

  before(async () => {
    dir = tempDir('sovereign-cookies-');
    writeFileSync(join(dir.path, 'db'), '$ORIGIN example.org.\n$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.80\n');
    port = pickPort();
    const cfg = defaultConfig({ listen: `${ADDRESS}:${port}`, workers: 1, zones: [{ name: 'example.org', file: join(dir.path, 'db') }],
      cookies: { require: true }, control: { enabled: false } });
    server = new DnsServer({ config: cfg, logger: silentLogger });
    await server.loadZones();
    await server.start();
  });

  after(async () => {
    await server?.stop();
    dir?.cleanup();
  });

  const ask = (cookie: Uint8Array | undefined, tcp = false): Promise<Message> => {
    const edns = newEdns(cookie === undefined ? {} : { options: [{ code: EdnsOptionCode.COOKIE, data: cookie }] });
    return exchange(Message.query('www.example.org.', RRType.A, { edns }), { address: ADDRESS, port }, { timeoutMs: 3000, ...(tcp ? { transport: 'tcp' as const } : {}) })
      .then((r) => r.message);
  };

  test('BADCOOKIE with our cookie first, then answers with it; FORMERR for a malformed option; TCP needs none', async () => {
    const client = Buffer.from('a1a2a3a4a5a6a7a8', 'hex');
    const first = await ask(client);
    assert.equal(first.rcode, Rcode.BADCOOKIE);
    const c = first.edns!.options.find((o) => o.code === EdnsOptionCode.COOKIE)!;
    assert.equal(c.data.length, 24);
    assert.deepEqual(Buffer.from(c.data.subarray(0, 8)), client, 'the client cookie echoed');
    const second = await ask(c.data);
    assert.equal(second.rcode, Rcode.NOERROR);
    assert.deepEqual(second.answer[0]!.data, { address: '192.0.2.80' });
    assert.ok(server.stats.cookiesValid >= 1);
    assert.equal((await ask(new Uint8Array(12))).rcode, Rcode.FORMERR);
    assert.equal((await ask(client, true)).rcode, Rcode.NOERROR, 'over TCP a client cookie suffices');
    const o = option.cookie(client); // the builder makes the same option
    assert.equal(o.data.length, 8);
  });

  test('dig +cookie retries after BADCOOKIE and gets the answer; kdig +cookie +badcookie too', async (t) => {
    if (!havePeers(t, 'dig', 'kdig')) return;
    const d = await runToolAsync('dig', [`@${ADDRESS}`, '-p', String(port), '+cookie', '+time=3', '+tries=1', 'www.example.org']);
    assert.match(d.stdout, /status: NOERROR/);
    assert.match(d.stdout, /; COOKIE: [0-9a-f]{48} \(good\)/);
    assert.match(d.stdout, /^www\.example\.org\.\s+300\s+IN\s+A\s+192\.0\.2\.80$/m);
    const k = await runToolAsync('kdig', [`@${ADDRESS}`, '-p', String(port), '+cookie', '+badcookie', '+timeout=3', 'www.example.org']);
    assert.match(k.stdout, /status: NOERROR/);
    assert.match(k.stdout, /192\.0\.2\.80/);
  });
});

describe('the forwarder sends cookies upstream and answers BADCOOKIE with the cookie it got', { timeout: 60_000 }, () => {
  test('against Sovereign requiring cookies, and against BIND with require-server-cookie', async (t) => {
    const dir = tempDir('sovereign-cookies-fwd-');
    const UP = '127.31.11.2';
    const FWD = '127.31.11.3';
    const upPort = pickPort();
    writeFileSync(join(dir.path, 'db'), '$ORIGIN example.org.\n$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.80\n');
    const up = new DnsServer({ config: defaultConfig({ listen: `${UP}:${upPort}`, workers: 1, zones: [{ name: 'example.org', file: join(dir.path, 'db') }],
      cookies: { require: true }, control: { enabled: false } }), logger: silentLogger });
    await up.loadZones();
    await up.start();
    const fport = pickPort();
    const fwd = new DnsServer({ config: defaultConfig({ listen: `${FWD}:${fport}`, workers: 1, forwarders: [`${UP}:${upPort}`], control: { enabled: false } }), logger: silentLogger });
    await fwd.loadZones();
    await fwd.start();
    try {
      const r = await exchange(Message.query('www.example.org.', RRType.A), { address: FWD, port: fport }, { timeoutMs: 5000 });
      assert.deepEqual(r.message.answer[0]!.data, { address: '192.0.2.80' });
      assert.equal(up.stats.badCookie, 1, 'the first query had no server cookie yet');
      assert.ok(up.stats.cookiesValid >= 1, 'the retry carried the cookie we gave');
      const again = await exchange(Message.query('ns1.example.org.', RRType.A), { address: FWD, port: fport }, { timeoutMs: 5000 });
      assert.deepEqual(again.message.answer[0]!.data, { address: '192.0.2.1' });
      assert.equal(up.stats.badCookie, 1, 'later queries come with a valid cookie at once');
    } finally {
      await fwd.stop();
      await up.stop();
    }
    if (!havePeers(t, 'named')) return dir.cleanup();
    const { startNamed } = await import('../helpers/peers.js');
    const NAMED = '127.31.11.4';
    const nport = pickPort();
    const named = await startNamed(dir.path, NAMED, nport, [{ name: 'example.org', file: join(dir.path, 'db') }], 'require-server-cookie yes;');
    const f2 = new DnsServer({ config: defaultConfig({ listen: `${FWD}:${fport}`, workers: 1, forwarders: [`${NAMED}:${nport}`], control: { enabled: false } }), logger: silentLogger });
    await f2.loadZones();
    await f2.start();
    try {
      const r = await exchange(Message.query('www.example.org.', RRType.A), { address: FWD, port: fport }, { timeoutMs: 5000 });
      assert.deepEqual(r.message.answer[0]?.data, { address: '192.0.2.80' }, named.output());
    } finally {
      await f2.stop();
      await named.stop();
      dir.cleanup();
    }
  });
});
