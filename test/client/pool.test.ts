/**
 * DoT and DoH upstreams reuse their connection (src/client/pool.ts): a Sovereign forwarder
 * sends many queries to a Sovereign DoT/DoH upstream over one connection each (counted by the
 * upstream), pipelined; a closed connection is reopened for the next query; a dead upstream
 * fails over to the next one as UDP upstreams do.
 *
 * Addresses: 127.31.12.1 (upstream), 127.31.12.2 (forwarder).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { DohPool, DotPool } from '../../src/client/pool.js';
import { loadConfigFile } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { pickPort, selfSignedCert, tempDir } from '../helpers/peers.js';

const UPSTREAM = '127.31.12.1';
const FORWARDER = '127.31.12.2';

describe('pooled DoT and DoH upstreams', { timeout: 60_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let upstream: DnsServer;
  let cert = '';
  const port = { tls: 0, https: 0 };

  before(async () => {
    dir = tempDir('sovereign-pool-');
    ({ cert } = selfSignedCert(dir.path, 'dns.test', UPSTREAM));
    writeFileSync(join(dir.path, 'db'), '$ORIGIN example.org.\n$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n' +
      Array.from({ length: 30 }, (_, i) => `h${i} A 192.0.2.${i + 10}\n`).join(''));
    port.tls = pickPort();
    port.https = pickPort();
    const file = join(dir.path, 'up.yaml');
    writeFileSync(file, `listen: ["tls://${UPSTREAM}:${port.tls}", "https://${UPSTREAM}:${port.https}/dns-query"]
workers: 1
zones: [{ name: example.org, file: db }]
tls: { cert: cert.pem, key: key.pem }
control: { enabled: false }
`);
    upstream = new DnsServer({ config: loadConfigFile(file), logger: silentLogger });
    await upstream.loadZones();
    await upstream.start();
  });

  after(async () => {
    await upstream?.stop();
    dir?.cleanup();
  });

  test('DotPool: 30 pipelined queries on one connection, reopened after a close', async () => {
    const pool = new DotPool({ address: UPSTREAM, port: port.tls }, { servername: 'dns.test', ca: readFileSync(cert, 'utf8') });
    const before = upstream.stats.tlsConnections;
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => pool.exchange(Message.query(`h${i}.example.org.`, RRType.A), 3000)));
    replies.forEach((r, i) => assert.deepEqual(r.message.answer[0]!.data, { address: `192.0.2.${i + 10}` }));
    assert.equal(pool.connections, 1);
    assert.equal(upstream.stats.tlsConnections - before, 1, 'the upstream saw one connection');
    pool.close();
    const again = await pool.exchange(Message.query('h1.example.org.', RRType.A), 3000);
    assert.deepEqual(again.message.answer[0]!.data, { address: '192.0.2.11' });
    assert.equal(pool.connections, 2);
    pool.close();
  });

  test('DohPool: 30 queries as HTTP/2 streams of one session', async () => {
    const pool = new DohPool({ address: UPSTREAM, port: port.https }, { servername: 'dns.test', ca: readFileSync(cert, 'utf8'), path: '/dns-query' });
    const before = upstream.stats.tlsConnections;
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => pool.exchange(Message.query(`h${i}.example.org.`, RRType.A), 3000)));
    replies.forEach((r, i) => assert.deepEqual(r.message.answer[0]!.data, { address: `192.0.2.${i + 10}` }));
    assert.equal(pool.connections, 1);
    assert.equal(upstream.stats.tlsConnections - before, 1);
    pool.close();
  });

  test('a forwarder with DoT and DoH upstreams: one connection each for many queries; a dead one fails over', async () => {
    const fport = pickPort();
    const file = join(dir.path, 'fwd.yaml');
    const dead = pickPort();
    writeFileSync(file, `listen: ["${FORWARDER}:${fport}"]
workers: 1
forwarders: ["tls://${UPSTREAM}:${dead}#dns.test", "tls://${UPSTREAM}:${port.tls}#dns.test", "https://${UPSTREAM}:${port.https}/dns-query#dns.test"]
forwarding: { tlsCaFile: cert.pem, timeoutMs: 1s, maxAttempts: 3 }
control: { enabled: false }
`);
    const fwd = new DnsServer({ config: loadConfigFile(file), logger: silentLogger });
    await fwd.loadZones();
    await fwd.start();
    try {
      const before = upstream.stats.tlsConnections;
      for (let i = 0; i < 30; i++) {
        const r = await exchange(Message.query(`h${i}.example.org.`, RRType.A), { address: FORWARDER, port: fport }, { timeoutMs: 5000 });
        assert.deepEqual(r.message.answer[0]!.data, { address: `192.0.2.${i + 10}` }, `h${i}`);
      }
      const opened = upstream.stats.tlsConnections - before;
      assert.ok(opened >= 1 && opened <= 2, `30 forwarded queries opened ${opened} connection(s) to the live upstreams`);
    } finally {
      await fwd.stop();
    }
  });
});
