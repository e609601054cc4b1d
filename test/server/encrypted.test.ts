/**
 * DoT (RFC 7858) and DoH (RFC 8484) served, checked with the real clients: kdig +tls/+https,
 * dig +tls/+https/+https-get/+http-plain (BIND 9.18), curl (--doh-url, GET, POST) and
 * `sovereign dig`; the handler chain sees the real client and transport; padding (RFC 8467),
 * keepalive (RFC 7828), pipelining with out-of-order answers, HTTP errors, X-Forwarded-For
 * from trusted proxies only, and Cache-Control from the smallest TTL.
 *
 * Addresses: 127.31.9.1 (server), 127.31.9.2 (a second client).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { loadConfigFile } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { replyTo } from '../../src/server/query-context.js';
import { DnsServer } from '../../src/server/server.js';
import { EdnsOptionCode } from '../../src/wire/constants.js';
import { newEdns, option } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { parseRecord } from '../../src/wire/record.js';
import { RRType } from '../../src/wire/types.js';
import type { ChainElement } from '../../src/server/chain.js';
import { addLoopbackAddress, havePeers, pickPort, runToolAsync, selfSignedCert, tempDir } from '../helpers/peers.js';

const ADDRESS = '127.31.9.1';
const OTHER = '127.31.9.2';
const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;

const ZONE = `$ORIGIN example.org.
$TTL 300
@    SOA ns1 host 1 7200 3600 1209600 60
@    NS  ns1
ns1  A   192.0.2.1
www  120 A 192.0.2.80
web  A   ${ADDRESS}
txt  TXT "hello world"
`;

const WHOAMI = Name.fromText('whoami.test.');
const SLOW = Name.fromText('slow.test.');
/** Answers whoami.test TXT with the client address and transport the chain saw; slow.test after a delay. */
const probe: ChainElement = {
  name: 'probe',
  middleware: (next) => (ctx) => {
    if (ctx.qname.equals(WHOAMI)) {
      const r = replyTo(ctx.request);
      r.answer.push(parseRecord(`whoami.test. 0 IN TXT "${ctx.clientAddress}" "${ctx.transport}"`));
      return r;
    }
    if (ctx.qname.equals(SLOW)) {
      return new Promise<Message>((resolve) => setTimeout(() => {
        const r = replyTo(ctx.request);
        r.answer.push(parseRecord('slow.test. 0 IN A 192.0.2.99'));
        resolve(r);
      }, 300));
    }
    return next(ctx);
  },
};

function frame(m: Message): Buffer {
  const b = m.encode();
  const out = Buffer.alloc(b.length + 2);
  out.writeUInt16BE(b.length, 0);
  out.set(b, 2);
  return out;
}

/** Reads framed DNS messages off a stream until `n` have come. */
function readFramed(sock: NodeJS.ReadableStream, n: number): Promise<Message[]> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const out: Message[] = [];
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        out.push(Message.decode(buf.subarray(2, 2 + len)));
        buf = buf.subarray(2 + len);
      }
      if (out.length >= n) {
        sock.removeListener('data', onData);
        resolve(out);
      }
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.once('close', () => reject(new Error(`closed after ${out.length} of ${n} replies`)));
  });
}

describe('DoT and DoH served', { timeout: 240_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let server: DnsServer;
  let cert = '';
  const port = { dns: 0, tls: 0, https: 0, http: 0 };

  before(async () => {
    // The chain must see these as client addresses (and curl --interface, kdig -b bind them).
    addLoopbackAddress(ADDRESS);
    addLoopbackAddress(OTHER);
    dir = tempDir('sovereign-encrypted-');
    ({ cert } = selfSignedCert(dir.path, 'dns.test', ADDRESS));
    writeFileSync(join(dir.path, 'db.example'), ZONE);
    port.dns = pickPort();
    port.tls = pickPort();
    port.https = pickPort();
    port.http = pickPort();
    const file = join(dir.path, 'sovereign.yaml');
    writeFileSync(file, `listen: ["${ADDRESS}:${port.dns}", "tls://${ADDRESS}:${port.tls}", "https://${ADDRESS}:${port.https}/dns-query", "http://${ADDRESS}:${port.http}/q"]
workers: 1
zones: [{ name: example.org, file: db.example }]
tls: { cert: cert.pem, key: key.pem, idleTimeoutMs: 20s, handshakeTimeoutMs: 1s, maxConnectionsPerClient: 50 }
doh: { trustedProxies: ["${ADDRESS}"] }
control: { enabled: false }
`);
    server = new DnsServer({ config: loadConfigFile(file), configPath: file, logger: silentLogger, handlers: [probe] });
    await server.loadZones();
    await server.start();
  });

  after(async () => {
    await server?.stop();
    dir?.cleanup();
  });

  test('kdig +tls and +https get the zone answer; the chain sees the client and transport', async (t) => {
    if (!havePeers(t, 'kdig')) return;
    const k = (args: string[]): Promise<{ stdout: string }> => runToolAsync('kdig', [`@${ADDRESS}`, '+short', '+timeout=5', '+retry=0', ...args]);
    assert.equal((await k(['-p', String(port.tls), '+tls', 'www.example.org', 'A'])).stdout.trim(), '192.0.2.80');
    assert.equal((await k(['-p', String(port.https), '+https', 'www.example.org', 'A'])).stdout.trim(), '192.0.2.80');
    assert.equal((await k(['-p', String(port.https), '+https-get', 'txt.example.org', 'TXT'])).stdout.trim(), '"hello world"');
    assert.equal((await k(['-p', String(port.tls), '+tls', `+tls-ca=${cert}`, '+tls-hostname=dns.test', 'whoami.test', 'TXT', '-b', OTHER])).stdout.trim(),
      `"${OTHER}" "tls"`);
    assert.equal((await k(['-p', String(port.https), '+https', 'whoami.test', 'TXT'])).stdout.trim(), `"${ADDRESS}" "https"`);
  });

  test('dig +tls, +https, +https-get and +http-plain (BIND 9.18)', async (t) => {
    if (!havePeers(t, 'dig')) return;
    const d = (args: string[]): Promise<{ stdout: string }> => runToolAsync('dig', [`@${ADDRESS}`, '+short', '+time=5', '+tries=1', ...args]);
    assert.equal((await d(['-p', String(port.tls), '+tls', 'www.example.org'])).stdout.trim(), '192.0.2.80');
    assert.equal((await d(['-p', String(port.tls), '+tls', `+tls-ca=${cert}`, '+tls-hostname=dns.test', 'www.example.org'])).stdout.trim(), '192.0.2.80');
    assert.equal((await d(['-p', String(port.https), '+https', 'www.example.org'])).stdout.trim(), '192.0.2.80');
    assert.equal((await d(['-p', String(port.https), '+https-get', 'txt.example.org', 'TXT'])).stdout.trim(), '"hello world"');
    assert.equal((await d(['-p', String(port.http), '+http-plain=/q', 'whoami.test', 'TXT'])).stdout.trim(), `"${ADDRESS}" "https"`);
    const nx = await runToolAsync('dig', [`@${ADDRESS}`, '-p', String(port.tls), '+tls', '+time=5', '+tries=1', 'nx.example.org']);
    assert.match(nx.stdout, /status: NXDOMAIN/);
  });

  test('sovereign dig +tls and +https as dig spells them', async () => {
    const s = (args: string[]): Promise<{ stdout: string; stderr: string }> => runToolAsync(process.execPath, [BIN, 'dig', `@${ADDRESS}`, '+short', ...args]);
    assert.equal((await s(['-p', String(port.tls), '+tls', 'www.example.org'])).stdout.trim(), '192.0.2.80');
    assert.equal((await s(['-p', String(port.tls), `+tls-ca=${cert}`, '+tls-hostname=dns.test', 'www.example.org'])).stdout.trim(), '192.0.2.80');
    assert.equal((await s(['-p', String(port.https), '+https', 'www.example.org'])).stdout.trim(), '192.0.2.80');
    assert.equal((await s(['-p', String(port.https), '+https-get', 'txt.example.org', 'TXT'])).stdout.trim(), '"hello world"');
  });

  test('curl: --doh-url resolves through us; GET and POST with Cache-Control from the smallest TTL', async (t) => {
    if (!havePeers(t, 'curl')) return;
    const base = `https://${ADDRESS}:${port.https}/dns-query`;
    // curl resolves web.example.org (-> our address) over DoH, then fetches the JSON API from the http listener.
    const viaDoh = await runToolAsync('curl', ['-s', '--doh-url', base, '--doh-insecure', `http://web.example.org:${port.http}/q?name=www.example.org&type=A`]);
    assert.deepEqual(JSON.parse(viaDoh.stdout).Answer, [{ name: 'www.example.org.', type: 1, TTL: 120, data: '192.0.2.80' }], viaDoh.stderr);
    const q = Message.query('www.example.org.', RRType.A, { id: 0 }).encode();
    const get = await runToolAsync('curl', ['-s', '-i', '--cacert', cert, '--resolve', `dns.test:${port.https}:${ADDRESS}`,
      `https://dns.test:${port.https}/dns-query?dns=${Buffer.from(q).toString('base64url')}`, '-o', '/dev/null', '-D', '-']);
    assert.match(get.stdout, /^HTTP\/2 200/m);
    assert.match(get.stdout, /^content-type: application\/dns-message/mi);
    assert.match(get.stdout, /^cache-control: max-age=120/mi);
    const bin = join(dir.path, 'q.bin');
    writeFileSync(bin, q);
    const post = await runToolAsync('curl', ['-s', '-k', '--http1.1', '-H', 'content-type: application/dns-message', '--data-binary', `@${bin}`,
      base, '-o', join(dir.path, 'r.bin'), '-w', '%{http_code} %{content_type}']);
    assert.equal(post.stdout, '200 application/dns-message');
    const { readFileSync } = await import('node:fs');
    const reply = Message.decode(readFileSync(join(dir.path, 'r.bin')));
    assert.equal(reply.answer.length, 1);
    assert.deepEqual(reply.answer[0]!.data, { address: '192.0.2.80' });
  });

  test('bad HTTP requests get 400, 404, 405, 413 or 415, and the server keeps answering', async (t) => {
    if (!havePeers(t, 'curl')) return;
    const code = async (args: string[]): Promise<string> =>
      (await runToolAsync('curl', ['-s', '-k', '-o', '/dev/null', '-w', '%{http_code}', ...args])).stdout;
    const base = `https://${ADDRESS}:${port.https}/dns-query`;
    assert.equal(await code([`${base}?dns=***`]), '400');
    assert.equal(await code([`${base}?dns=AAAA`]), '400'); // 3 octets: no header, no reply
    assert.equal(await code([base]), '400');
    assert.equal(await code([`https://${ADDRESS}:${port.https}/other?dns=AAAA`]), '404');
    assert.equal(await code(['-X', 'PUT', base]), '405');
    assert.equal(await code(['-H', 'content-type: text/plain', '--data-binary', 'hello', base]), '415');
    const big = join(dir.path, 'big.bin');
    writeFileSync(big, Buffer.alloc(70_000));
    assert.equal(await code(['-H', 'content-type: application/dns-message', '--data-binary', `@${big}`, base]), '413');
    assert.equal(await code(['-H', 'content-type: application/dns-message', '--data-binary', `@${big}`, '-H', 'transfer-encoding: chunked', '--http1.1', base]), '413');
    assert.equal(await code([`${base}?name=bad..name`]), '400');
    const ok = await runToolAsync('curl', ['-s', '-k', `${base}?name=www.example.org&type=A`]);
    assert.equal(JSON.parse(ok.stdout).Answer[0].data, '192.0.2.80');
  });

  test('X-Forwarded-For is believed from a trusted proxy only', async (t) => {
    if (!havePeers(t, 'curl')) return;
    const ask = async (from: string, xff: string): Promise<unknown> => {
      const r = await runToolAsync('curl', ['-s', '--interface', from, '-H', `X-Forwarded-For: ${xff}`,
        `http://${ADDRESS}:${port.http}/q?name=whoami.test&type=TXT`]);
      return JSON.parse(r.stdout).Answer[0].data;
    };
    assert.equal(await ask(ADDRESS, '198.51.100.7'), '"198.51.100.7" "https"');
    assert.equal(await ask(ADDRESS, `203.0.113.1, 198.51.100.8, ${ADDRESS}`), '"198.51.100.8" "https"');
    assert.equal(await ask(OTHER, '198.51.100.7'), `"${OTHER}" "https"`); // not a trusted proxy
  });

  test('DoT: padded to 468-octet blocks, keepalive sent back, pipelined answers out of order', async () => {
    const sock = tlsConnect({ host: ADDRESS, port: port.tls, rejectUnauthorized: false, ALPNProtocols: ['dot'] });
    await new Promise<void>((resolve, reject) => sock.once('secureConnect', resolve).once('error', reject));
    try {
      assert.equal(sock.alpnProtocol, 'dot');
      const slow = Message.query('slow.test.', RRType.A, { id: 1, edns: newEdns() });
      const fast = Message.query('www.example.org.', RRType.A, {
        id: 2, edns: newEdns({ options: [option.tcpKeepalive(), option.padding(0)] }),
      });
      const replies = readFramed(sock, 2);
      sock.write(Buffer.concat([frame(slow), frame(fast)]));
      const [first, second] = await replies;
      assert.equal(first!.id, 2, 'the fast answer first');
      assert.equal(second!.id, 1);
      const raw = fast.encode().length; // unused but keeps the shapes honest
      assert.ok(raw > 0);
      const ka = first!.edns!.options.find((o) => o.code === EdnsOptionCode.TCP_KEEPALIVE);
      assert.deepEqual(ka && [...ka.data], [0, 200], 'keepalive = 20 s in 100 ms units');
      assert.equal(first!.encode().length % 468, 0, 'padded to a 468-octet block');
      assert.ok(first!.edns!.options.some((o) => o.code === EdnsOptionCode.PADDING));
      assert.equal(second!.edns!.options.length, 0, 'no padding or keepalive unless asked');
    } finally {
      sock.destroy();
    }
  });

  test('padding only on encrypted transports: kdig +padding over UDP gets none', async (t) => {
    if (!havePeers(t, 'kdig')) return;
    const udp = await runToolAsync('kdig', [`@${ADDRESS}`, '-p', String(port.dns), '+padding', '+timeout=5', 'www.example.org']);
    assert.doesNotMatch(udp.stdout, /PADDING/);
    const tls = await runToolAsync('kdig', [`@${ADDRESS}`, '-p', String(port.tls), '+tls', '+padding', '+timeout=5', 'www.example.org']);
    assert.match(tls.stdout, /PADDING: \d+ B/);
    assert.match(tls.stdout, /Received 468 B/);
  });

  test('garbage before the handshake, slow handshakes and many idle connections: closed, others answered', async (t) => {
    if (!havePeers(t, 'kdig')) return;
    const closed = (host: string, p: number, send?: Buffer): Promise<void> => new Promise((resolve) => {
      const s = netConnect({ host: ADDRESS, port: p, localAddress: host });
      s.on('error', () => { /* reset is a close too */ });
      s.resume(); // read the TLS alert, or 'close' never comes
      s.on('connect', () => { if (send !== undefined) s.write(send); });
      s.on('close', () => resolve());
    });
    // Plain DNS and HTTP on the DoT port, plain DNS on the DoH port: the server closes them.
    await closed(OTHER, port.tls, frame(Message.query('www.example.org.', RRType.A)));
    await closed(OTHER, port.tls, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await closed(OTHER, port.https, Buffer.from('\x16\x03\x01\x00\x05hello'));
    // A handshake that never finishes is cut at handshakeTimeoutMs (1 s here).
    await closed(OTHER, port.tls, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    // A client holding many idle connections is refused beyond its limit (50); others still get answers.
    const idle = await Promise.all(Array.from({ length: 300 }, () => new Promise<import('node:net').Socket>((resolve) => {
      const s = netConnect({ host: ADDRESS, port: port.tls, localAddress: OTHER });
      s.on('error', () => { /* refused ones are reset */ });
      s.once('connect', () => resolve(s));
      s.once('close', () => resolve(s));
    })));
    try {
      const r = await runToolAsync('kdig', [`@${ADDRESS}`, '-p', String(port.tls), '+tls', '+short', '+timeout=5', 'www.example.org']);
      assert.equal(r.stdout.trim(), '192.0.2.80');
      assert.ok(server.stats.tlsRefused >= 250, `refused ${server.stats.tlsRefused}`);
      assert.ok(server.stats.tlsHandshakeFailures >= 3, `handshake failures ${server.stats.tlsHandshakeFailures}`);
    } finally {
      for (const s of idle) s.destroy();
    }
  });
});
