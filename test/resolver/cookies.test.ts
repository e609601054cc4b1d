/**
 * The recursive resolver and DNS Cookies (RFC 7873 §5.1, §5.3): a client cookie to every
 * authoritative server, the server cookie remembered per server address, BADCOOKIE asked again
 * once with the cookie it brought, and a reply echoing somebody else's client cookie discarded
 * as forged.
 *
 * Peers: BIND (named) with `require-server-cookie yes;` serving the root and a TLD. The forged
 * replies come from a hostile responder on a real socket (what an off-path spoofer would send:
 * the right ID and question, a cookie not ours).
 *
 * Addresses: 127.31.13.1-4.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ResolutionError } from '../../src/errors.js';
import { RRCache } from '../../src/resolver/cache.js';
import { Resolver } from '../../src/resolver/iterator.js';
import { parseRootHints } from '../../src/resolver/root-hints.js';
import { EdnsOptionCode, Rcode } from '../../src/wire/constants.js';
import { newEdns } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { parseRecord } from '../../src/wire/record.js';
import { RRType } from '../../src/wire/types.js';
import { addLoopbackAddress, havePeers, pickPort, startNamed, tempDir } from '../helpers/peers.js';

test('against BIND requiring server cookies (root and TLD): answers come, a server cookie is kept per server', { timeout: 60_000 }, async (t) => {
  if (!havePeers(t, 'named')) return;
  const ROOT = '127.31.13.1';
  const TLD = '127.31.13.2';
  const port = pickPort();
  const dir = tempDir('sovereign-resolver-cookies-');
  writeFileSync(join(dir.path, 'root.db'), `$TTL 3600
. SOA a.root. host. 1 7200 3600 1209600 300
. NS a.root.
a.root. A ${ROOT}
cky. NS ns.cky.
ns.cky. A ${TLD}
`);
  writeFileSync(join(dir.path, 'cky.db'), `$ORIGIN cky.
$TTL 300
@ SOA ns host 1 7200 3600 1209600 300
@ NS ns
ns A ${TLD}
www A 192.0.2.80
`);
  const root = await startNamed(join(dir.path), ROOT, port, [{ name: '.', file: join(dir.path, 'root.db') }], 'require-server-cookie yes;');
  const tldDir = tempDir('sovereign-resolver-cookies-tld-');
  const tld = await startNamed(tldDir.path, TLD, port, [{ name: 'cky', file: join(dir.path, 'cky.db') }], 'require-server-cookie yes;');
  try {
    const r = new Resolver({ cache: new RRCache(), hints: parseRootHints(`. 3600000 NS a.root.\na.root. 3600000 A ${ROOT}\n`), port, ipv6: false });
    const res = await r.resolve(Name.fromText('www.cky.'), RRType.A);
    assert.equal(res.rcode, Rcode.NOERROR, root.output() + tld.output());
    assert.deepEqual(res.answer.map((a) => a.data), [{ address: '192.0.2.80' }]);
    const kept = r['serverCookies'];
    // BIND's server cookies are 16 octets (version 1, reserved, time, SipHash: RFC 9018).
    assert.equal(kept.get(ROOT)?.length, 16, 'the root\'s server cookie is remembered');
    assert.equal(kept.get(TLD)?.length, 16, 'the TLD\'s server cookie is remembered');
    const rootCookie = Buffer.from(kept.get(ROOT)!);
    // A second question: sent with the remembered cookie, answered at once.
    const q0 = r.stats.upstreamQueries;
    const ns = await r.resolve(Name.fromText('ns.cky.'), RRType.A);
    assert.equal(ns.rcode, Rcode.NOERROR);
    assert.deepEqual(ns.answer.map((a) => a.data), [{ address: TLD }]);
    assert.equal(r.stats.upstreamQueries - q0, 1, 'one query: no BADCOOKIE round trip now that the TLD knows us');
    assert.equal(r.stats.ignoredReplies, 0);
    assert.equal(rootCookie.length, 16);
  } finally {
    await tld.stop();
    await root.stop();
    tldDir.cleanup();
    dir.cleanup();
  }
});

/** A root server on a real socket that answers everything, echoing the client cookie or a wrong one. */
async function cookieRoot(address: string, port: number, mode: { wrong: boolean }): Promise<{ queries: () => number; close: () => void }> {
  addLoopbackAddress(address);
  const s = createSocket('udp4');
  let n = 0;
  s.on('message', (buf, rinfo) => {
    n++;
    let q: Message;
    try {
      q = Message.decode(buf);
    } catch {
      return;
    }
    const qq = q.question[0]!;
    const m = new Message();
    m.id = q.id;
    m.qr = true;
    m.aa = true;
    m.question = q.question;
    if (qq.type === RRType.NS && qq.name.toString() === '.') {
      m.answer = [parseRecord('. 3600 IN NS a.root.')];
      m.additional = [parseRecord(`a.root. 3600 IN A ${address}`)];
    } else if (qq.type === RRType.A) {
      m.answer = [parseRecord(`${qq.name.toString()} 300 IN A 192.0.2.66`)];
    }
    const c = q.edns?.options.find((o) => o.code === EdnsOptionCode.COOKIE);
    if (q.edns !== undefined) {
      m.edns = newEdns({ udpSize: 1232 });
      if (c !== undefined) {
        const data = new Uint8Array(24);
        data.set(c.data.subarray(0, 8));
        if (mode.wrong) data[0] = data[0]! ^ 0xff;
        data.fill(0x5a, 8);
        m.edns.options = [{ code: EdnsOptionCode.COOKIE, data }];
      }
    }
    s.send(m.encode(), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => s.bind(port, address, resolve));
  return { queries: () => n, close: () => s.close() };
}

test('a reply with a client cookie that is not ours is not accepted; the same reply with ours is', { timeout: 30_000 }, async () => {
  const ADDR = '127.31.13.3';
  const port = pickPort();
  const mode = { wrong: true };
  const srv = await cookieRoot(ADDR, port, mode);
  try {
    const hints = parseRootHints(`. 3600000 NS a.root.\na.root. 3600000 A ${ADDR}\n`);
    const r = new Resolver({ cache: new RRCache(), hints, port, ipv6: false, resolutionTimeoutMs: 3000 });
    await assert.rejects(r.resolve(Name.fromText('spoofed.example.'), RRType.A), ResolutionError);
    assert.ok(r.stats.ignoredReplies >= 1, 'the forged replies were counted as ignored');
    assert.ok(srv.queries() >= 1);
    assert.equal(r['serverCookies'].size, 0, 'no server cookie taken from a forged reply');

    mode.wrong = false;
    const r2 = new Resolver({ cache: new RRCache(), hints, port, ipv6: false, resolutionTimeoutMs: 3000 });
    const ok = await r2.resolve(Name.fromText('spoofed.example.'), RRType.A);
    assert.equal(ok.rcode, Rcode.NOERROR);
    assert.deepEqual(ok.answer.map((a) => a.data), [{ address: '192.0.2.66' }]);
    assert.equal(r2['serverCookies'].get(ADDR)?.length, 16);
  } finally {
    srv.close();
  }
});
