/**
 * Cookie-carrying queries on the UDP answer cache (RFC 7873 §5.2, RFC 9018): one cache entry
 * serves every cookie; each hit carries a fresh server cookie made for that client (verified
 * with our own ServerCookies and by `dig +cookie`), byte for byte what the slow path writes, with
 * the query's ID and the zone's TTL; a malformed cookie still gets FORMERR and a missing/invalid
 * server cookie still gets BADCOOKIE when cookies are required.
 *
 * Addresses: 127.31.12.1, 127.31.12.2.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { composeChain } from '../../src/server/chain.js';
import { CookieState, ServerCookies } from '../../src/server/cookies.js';
import { QueryEngine } from '../../src/server/engine.js';
import { replyTo } from '../../src/server/query-context.js';
import { DnsServer } from '../../src/server/server.js';
import { ServerStats } from '../../src/server/stats.js';
import { EdnsOptionCode, Rcode } from '../../src/wire/constants.js';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { Writer } from '../../src/wire/writer.js';
import { havePeers, pickPort, runToolAsync, tempDir } from '../helpers/peers.js';
import { udpExchange } from './net-helpers.js';

const SECRET = '0123456789abcdef0123456789abcdef';
const CLIENT = '127.0.0.1';

function query(id: number, cookie: Uint8Array | undefined, name = 'www.example.org.'): Buffer {
  return Buffer.from(Message.query(name, RRType.A, {
    id, edns: { version: 0, udpSize: 1232, dnssecOk: false, zFlags: 0, options: cookie === undefined ? [] : [{ code: EdnsOptionCode.COOKIE, data: cookie }] },
  }).encode());
}

function cookieOf(m: Message): Uint8Array | undefined {
  return m.edns?.options.find((o) => o.code === EdnsOptionCode.COOKIE)?.data;
}

function engineWith(sc: ServerCookies, requireCookies = false): QueryEngine {
  const h = composeChain([{
    name: 'test', pure: true,
    middleware: () => (ctx) => {
      ctx.cacheVariants = 1;
      return replyTo(ctx.request, 0);
    },
  }], (ctx) => replyTo(ctx.request, 5));
  return new QueryEngine(h, { maxUdpSize: 1232, logger: silentLogger, stats: new ServerStats(), cookies: sc, requireCookies });
}

test('engine: a cookie hit is the slow path\'s reply byte for byte, with this client\'s cookie; a cookie-less entry serves cookies too', () => {
  let now = 1_700_000_000;
  const sc = new ServerCookies({ base: new Uint8Array(32), rotationS: 3600, secret: Buffer.from(SECRET, 'hex'), now: () => now });
  const e = engineWith(sc);
  const w = new Writer();
  const c1 = Buffer.from('1111111111111111', 'hex');
  const q1 = query(1, c1);
  const slowLen = e.process(q1, q1.length, 'udp', CLIENT, 1, w) as number;
  const slow = Buffer.from(w.buf.subarray(0, slowLen));
  assert.equal(e.cachedAnswers, 1, 'a cookie query\'s answer is cached (without its cookie)');
  // The same query again (same ID, cookie, time): the fast path's bytes are the slow path's.
  const fast = e.cachedUdpReply(q1, q1.length, CLIENT);
  assert.ok(fast !== undefined);
  assert.deepEqual(fast, slow);
  // Another client cookie, another client, another ID: its own cookie, valid for that client only.
  now += 10;
  const c2 = Buffer.from('2222222222222222', 'hex');
  const q2 = query(0x4242, c2);
  const hit = e.cachedUdpReply(q2, q2.length, '192.0.2.7');
  assert.ok(hit !== undefined);
  const m = Message.decode(hit);
  assert.equal(m.id, 0x4242);
  assert.equal(m.rcode, Rcode.NOERROR);
  const c = cookieOf(m)!;
  assert.equal(c.length, 24);
  assert.deepEqual(Buffer.from(c.subarray(0, 8)), c2);
  assert.equal(sc.check(c, 24, '192.0.2.7'), CookieState.VALID);
  assert.equal(sc.check(c, 24, CLIENT), CookieState.INVALID);
  assert.equal(m.edns!.options.length, 1, 'exactly one COOKIE option; the OPT RDLENGTH fixed up');
  // The full cookie back: VALID, counted, answered from the cache.
  const before = e['opts'].stats.cookiesValid;
  const q3 = query(3, c);
  const again = e.cachedUdpReply(q3, q3.length, '192.0.2.7');
  assert.ok(again !== undefined);
  assert.equal(e['opts'].stats.cookiesValid, before + 1);
  // No cookie: the entry serves it without one.
  const q4 = query(4, undefined);
  const plain = Message.decode(e.cachedUdpReply(q4, q4.length, CLIENT)!);
  assert.equal(cookieOf(plain), undefined);
  // Malformed (12 octets): not from the cache; the slow path says FORMERR.
  const bad = query(5, new Uint8Array(12));
  assert.equal(e.cachedUdpReply(bad, bad.length, CLIENT), undefined);
  const badLen = e.process(bad, bad.length, 'udp', CLIENT, 1, w) as number;
  assert.equal(Message.decode(w.buf.subarray(0, badLen)).rcode, Rcode.FORMERR);

  // An entry made by a query without a cookie serves cookie queries as well.
  const e2 = engineWith(sc);
  e2.process(q4, q4.length, 'udp', CLIENT, 1, w);
  const h2 = e2.cachedUdpReply(q2, q2.length, '192.0.2.7');
  assert.ok(h2 !== undefined);
  assert.deepEqual(h2, hit, 'same bytes whichever query filled the entry');
});

test('engine: with cookies required, a hit needs a valid server cookie (else the slow path answers BADCOOKIE)', () => {
  const sc = new ServerCookies({ base: new Uint8Array(32), rotationS: 3600, secret: Buffer.from(SECRET, 'hex') });
  const e = engineWith(sc, true);
  const w = new Writer();
  const c1 = Buffer.from('3333333333333333', 'hex');
  const q1 = query(1, c1);
  const n = e.process(q1, q1.length, 'udp', CLIENT, 1, w) as number;
  const first = Message.decode(w.buf.subarray(0, n));
  assert.equal(first.rcode, Rcode.BADCOOKIE);
  const full = cookieOf(first)!;
  const q2 = query(2, full);
  e.process(q2, q2.length, 'udp', CLIENT, 1, w);
  assert.equal(e.cachedAnswers, 1);
  assert.equal(e.cachedUdpReply(q1, q1.length, CLIENT), undefined, 'client cookie only: no hit');
  assert.equal(e.cachedUdpReply(q2, q2.length, '192.0.2.9'), undefined, 'a cookie made for another address: no hit');
  const hit = e.cachedUdpReply(q2, q2.length, CLIENT);
  assert.ok(hit !== undefined);
  assert.equal(Message.decode(hit).rcode, Rcode.NOERROR);
  assert.equal(sc.check(cookieOf(Message.decode(hit))!, 24, CLIENT), CookieState.VALID);
});

describe('cookies on the answer cache, against a running server and dig', { timeout: 60_000 }, () => {
  const ADDRESS = '127.31.12.1';
  let server: DnsServer;
  let port = 0;
  let dir: ReturnType<typeof tempDir>;
  const sc = new ServerCookies({ base: new Uint8Array(32), rotationS: 3600, secret: Buffer.from(SECRET, 'hex') });

  before(async () => {
    dir = tempDir('sovereign-cookies-cache-');
    writeFileSync(join(dir.path, 'db'), '$ORIGIN example.org.\n$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nwww 120 A 192.0.2.80\n');
    port = pickPort();
    const cfg = defaultConfig({ listen: `${ADDRESS}:${port}`, workers: 1, zones: [{ name: 'example.org', file: join(dir.path, 'db') }],
      cookies: { secret: SECRET }, control: { enabled: false } });
    server = new DnsServer({ config: cfg, logger: silentLogger });
    await server.loadZones();
    await server.start();
  });

  after(async () => {
    await server?.stop();
    dir?.cleanup();
  });

  test('repeated cookie queries: the ID, TTL and a valid cookie for this client on every answer', async () => {
    let prev: Uint8Array | undefined = Buffer.from('5555555555555555', 'hex');
    for (let i = 0; i < 4; i++) {
      const raw = await udpExchange(ADDRESS, port, query(700 + i, prev), 3000);
      const m = Message.decode(raw!);
      assert.equal(m.id, 700 + i);
      assert.equal(m.rcode, Rcode.NOERROR);
      assert.equal(m.answer.length, 1);
      assert.equal(m.answer[0]!.ttl, 120);
      assert.deepEqual(m.answer[0]!.data, { address: '192.0.2.80' });
      const c = cookieOf(m)!;
      assert.equal(c.length, 24);
      assert.deepEqual(Buffer.from(c.subarray(0, 8)), Buffer.from('5555555555555555', 'hex'));
      assert.equal(sc.check(c, 24, CLIENT), CookieState.VALID, 'our own verification of the server cookie');
      prev = c;
    }
    assert.ok(server.stats.cookiesValid >= 3, 'the cookies sent back were judged valid');
    const bad = Message.decode((await udpExchange(ADDRESS, port, query(9, new Uint8Array(20)), 3000))!);
    assert.equal(bad.rcode, Rcode.NOERROR, '20 octets is a legal (foreign) cookie: answered, with ours');
    assert.equal(sc.check(cookieOf(bad)!, 24, CLIENT), CookieState.VALID, 'a fresh cookie of ours replaces the foreign one');
    assert.ok(server.stats.cookiesInvalid >= 1, 'the foreign server cookie was judged invalid');
    const formerr = Message.decode((await udpExchange(ADDRESS, port, query(10, new Uint8Array(41)), 3000))!);
    assert.equal(formerr.rcode, Rcode.FORMERR);
  });

  test('dig +cookie twice (the second with the server cookie it got): good cookie, the answer, TTL 120', async (t) => {
    if (!havePeers(t, 'dig')) return;
    const d1 = await runToolAsync('dig', [`@${ADDRESS}`, '-p', String(port), '+cookie', '+time=3', '+tries=1', 'www.example.org', 'A']);
    assert.match(d1.stdout, /status: NOERROR/);
    const m1 = /; COOKIE: ([0-9a-f]{48}) \(good\)/.exec(d1.stdout);
    assert.ok(m1 !== null, d1.stdout);
    assert.match(d1.stdout, /^www\.example\.org\.\s+120\s+IN\s+A\s+192\.0\.2\.80$/m);
    assert.equal(sc.check(Buffer.from(m1[1]!, 'hex'), 24, CLIENT), CookieState.VALID);
    const d2 = await runToolAsync('dig', [`@${ADDRESS}`, '-p', String(port), `+cookie=${m1[1]!}`, '+time=3', '+tries=1', 'www.example.org', 'A']);
    assert.match(d2.stdout, /status: NOERROR/);
    const m2 = /; COOKIE: ([0-9a-f]{48}) \(good\)/.exec(d2.stdout);
    assert.ok(m2 !== null, d2.stdout);
    assert.equal(m2[1]!.slice(0, 16), m1[1]!.slice(0, 16));
    assert.equal(sc.check(Buffer.from(m2[1]!, 'hex'), 24, CLIENT), CookieState.VALID);
    assert.match(d2.stdout, /^www\.example\.org\.\s+120\s+IN\s+A\s+192\.0\.2\.80$/m);
  });
});
