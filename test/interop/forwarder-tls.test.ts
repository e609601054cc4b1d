/**
 * DNS over TLS (RFC 7858) and DNS over HTTPS (RFC 8484) upstreams: Sovereign forwarding to a real
 * Unbound serving local data on a TLS port and an HTTPS (HTTP/2) port, with the certificate checked (RFC 8310 strict profile): the right name and CA work,
 * a wrong name or an untrusted CA give SERVFAIL, never a cleartext fallback.
 * Addresses: 127.26.4.x only.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { exchangeHttps } from '../../src/client/doh.js';
import { exchangeTls } from '../../src/client/dot.js';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Rcode } from '../../src/wire/constants.js';
import { decodeOption, newEdns } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { type RunningPeer, havePeers, pickPort, selfSignedCert, startUnbound, tempDir } from '../helpers/peers.js';

const UNBOUND = '127.26.4.1';
const SOV = '127.26.4.10';

describe('DNS-over-TLS and DNS-over-HTTPS upstreams (Unbound)', { timeout: 60_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let unbound: RunningPeer | undefined;
  let tlsPort = 0;
  let httpsPort = 0;
  let skip = false;

  before(async (t) => {
    // havePeers fails here in CI when a peer is missing, and skips only outside CI
    if (!havePeers(t as never, 'unbound', 'openssl')) {
      skip = true;
      return;
    }
    dir = tempDir('sovereign-dot-');
    const { key, cert } = selfSignedCert(dir.path, 'dot.test', UNBOUND);
    writeFileSync(join(dir.path, 'root.hints'), '.  3600000 IN NS a.root.test.\na.root.test. 3600000 IN A 127.26.4.99\n');
    const plain = pickPort();
    tlsPort = pickPort();
    httpsPort = pickPort();
    unbound = await startUnbound(dir.path, UNBOUND, plain, join(dir.path, 'root.hints'), `  interface: ${UNBOUND}@${tlsPort}
  tls-port: ${tlsPort}
  interface: ${UNBOUND}@${httpsPort}
  https-port: ${httpsPort}
  http-endpoint: "/dns-query"
  tls-service-key: "${key}"
  tls-service-pem: "${cert}"
  local-zone: "dot.example." static
  local-data: "www.dot.example. 300 IN A 192.0.2.80"
  local-data: "dot.example. 300 IN SOA ns.dot.example. host.dot.example. 1 3600 600 86400 60"
`);
  });

  after(async () => {
    await unbound?.stop();
    dir?.cleanup();
  });

  const serve = async (upstream: string, ca: boolean): Promise<DnsServer> => {
    const s = new DnsServer({
      config: defaultConfig({
        listen: [`${SOV}:0`], workers: 1, forwarders: [upstream],
        forwarding: { timeoutMs: 2000, ...(ca ? { tlsCaFile: join(dir.path, 'cert.pem') } : {}) },
      }),
      logger: silentLogger,
    });
    await s.start();
    return s;
  };
  const ask = async (s: DnsServer, name: string): Promise<Message> => {
    const a = s.addresses.find((x) => x.transport === 'udp')!;
    return (await exchange(Message.query(name, RRType.A, { edns: newEdns() }), a, { timeoutMs: 5000 })).message;
  };

  test('exchangeTls talks to Unbound over TLS with the certificate checked by name and by IP address', async (t) => {
    if (skip) return t.skip();
    const { readFileSync } = await import('node:fs');
    const ca = readFileSync(join(dir.path, 'cert.pem'), 'utf8');
    const byName = await exchangeTls(Message.query('www.dot.example', RRType.A), { address: UNBOUND, port: tlsPort }, { servername: 'dot.test', ca });
    assert.equal((byName.message.answer[0]!.data as { address: string }).address, '192.0.2.80');
    const byIp = await exchangeTls(Message.query('www.dot.example', RRType.A), { address: UNBOUND, port: tlsPort }, { ca });
    assert.equal(byIp.message.answer.length, 1);
    await assert.rejects(exchangeTls(Message.query('www.dot.example', RRType.A), { address: UNBOUND, port: tlsPort }, { servername: 'other.test', ca }),
      /tls: .*(altnames|Hostname)/i);
    await assert.rejects(exchangeTls(Message.query('www.dot.example', RRType.A), { address: UNBOUND, port: tlsPort }, { servername: 'dot.test' }),
      /tls: .*self[- ]signed/i);
  });

  test('forwarders: ["tls://address:port#name"] answers and caches; a bad certificate gives SERVFAIL + EDE', async (t) => {
    if (skip) return t.skip();
    const good = await serve(`tls://${UNBOUND}:${tlsPort}#dot.test`, true);
    try {
      const r = await ask(good, 'www.dot.example');
      assert.equal(r.rcode, Rcode.NOERROR);
      assert.equal((r.answer[0]!.data as { address: string }).address, '192.0.2.80');
      assert.equal((await ask(good, 'nope.dot.example')).rcode, Rcode.NXDOMAIN);
      await ask(good, 'www.dot.example');
      const u = good.forwarder!.allRoutes()[0]!.upstreams.upstreams[0]!;
      assert.equal(u.label, `tls://${UNBOUND}#${tlsPort}(dot.test)`);
      assert.equal(u.queries, 2);
    } finally {
      await good.stop();
    }
    const untrusted = await serve(`tls://${UNBOUND}:${tlsPort}#dot.test`, false);
    try {
      const r = await ask(untrusted, 'www.dot.example');
      assert.equal(r.rcode, Rcode.SERVFAIL);
      assert.ok((r.edns?.options ?? []).map(decodeOption).some((o) => o.code === 15));
    } finally {
      await untrusted.stop();
    }
  });

  test('forwarders: ["https://address:port/dns-query#name"] (RFC 8484 over HTTP/2)', async (t) => {
    if (skip) return t.skip();
    const { readFileSync } = await import('node:fs');
    const ca = readFileSync(join(dir.path, 'cert.pem'), 'utf8');
    const direct = await exchangeHttps(Message.query('www.dot.example', RRType.A), { address: UNBOUND, port: httpsPort }, { servername: 'dot.test', ca });
    assert.equal((direct.message.answer[0]!.data as { address: string }).address, '192.0.2.80');
    await assert.rejects(exchangeHttps(Message.query('www.dot.example', RRType.A), { address: UNBOUND, port: httpsPort }, { servername: 'dot.test' }),
      /https: .*self[- ]signed/i);
    const s = await serve(`https://${UNBOUND}:${httpsPort}/dns-query#dot.test`, true);
    try {
      const r = await ask(s, 'www.dot.example');
      assert.equal(r.rcode, Rcode.NOERROR);
      assert.equal((r.answer[0]!.data as { address: string }).address, '192.0.2.80');
      assert.equal((await ask(s, 'nope.dot.example')).rcode, Rcode.NXDOMAIN);
      assert.equal(s.forwarder!.allRoutes()[0]!.upstreams.upstreams[0]!.answers, 2);
    } finally {
      await s.stop();
    }
  });
});
