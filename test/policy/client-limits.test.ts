/**
 * The resolver/forwarder per-client limits (src/policy/client-limits.ts) on real servers: a
 * forwarder in front of an authoritative Sovereign, clients on their own loopback /24s.
 * - clientQueryRate (drop): a client over its rate gets nothing, cached answers included (the
 *   engine's fast path), each limited query counted once; another /24 is unaffected; REFUSED
 *   with the `refuse` action.
 * - maxClientRecursions: with the upstream a black hole, a client's third concurrent recursion
 *   is answered SERVFAIL at once while its first two wait for the upstream.
 *
 * Addresses: upstream 127.41.21.2, forwarders 127.41.21.1/.3/.4, black hole 127.41.21.9,
 * clients 127.12.x.y.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Rcode } from '../../src/wire/constants.js';
import { pickPort, tempDir } from '../helpers/peers.js';
import { type FloodQuery, flood, total } from './flood.js';

const UP = '127.41.21.2';
const ZONE_TEXT = '$ORIGIN example.org.\n$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 127.0.0.1\nwww A 192.0.2.80\n';

describe('resolver per-client limits', { timeout: 120_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let up: DnsServer;
  let upPort = 0;
  const servers: DnsServer[] = [];
  let clock = 5000;

  const forwarderAt = async (address: string, extra: ConfigInput): Promise<{ server: DnsServer; port: number }> => {
    const port = pickPort();
    const server = new DnsServer({
      config: defaultConfig({ listen: `${address}:${port}`, workers: 1, control: { enabled: false }, ...extra }), logger: silentLogger, rrlNowS: () => clock,
    });
    await server.loadZones();
    await server.start();
    servers.push(server);
    return { server, port };
  };

  before(async () => {
    dir = tempDir('sovereign-client-limits-');
    writeFileSync(join(dir.path, 'db'), ZONE_TEXT);
    upPort = pickPort();
    up = new DnsServer({ config: defaultConfig({ listen: `${UP}:${upPort}`, workers: 1, zones: [{ name: 'example.org', file: join(dir.path, 'db') }], control: { enabled: false } }), logger: silentLogger });
    await up.loadZones();
    await up.start();
  });

  after(async () => {
    for (const s of servers) await s.stop();
    await up?.stop();
    dir?.cleanup();
  });

  const www = (source: string, n: number): FloodQuery[] => Array.from({ length: n }, () => ({ source, name: 'www.example.org.', type: 1 }));
  const rd = { rd: true };

  test('clientQueryRate drop: rate queries a second per /24, cache hits too, each limited query counted once', async () => {
    const { server, port } = await forwarderAt('127.41.21.1', { forwarders: [`${UP}:${upPort}`], resolver: { clientQueryRate: 5 } });
    // Second 0: 8 from one /24 (5 admitted, 3 dropped), 2 from another (both answered).
    let r = await flood('127.41.21.1', port, [...www('127.12.1.1', 8), ...www('127.12.2.1', 2)], { expected: 7, query: rd });
    assert.deepEqual([total(r.bySource, '127.12.1.').answered, total(r.bySource, '127.12.2.').answered], [5, 2]);
    assert.equal(server.stats.clientQueriesLimited, 3);
    // Second 1: the answer is cached now (fast path); 5 - 8 = -3, +5 = 2 tokens: 2 answered, 2 limited.
    clock++;
    r = await flood('127.41.21.1', port, www('127.12.1.2', 4), { expected: 2, query: rd });
    assert.equal(total(r.bySource).answered, 2);
    assert.equal(server.stats.clientQueriesLimited, 5, 'a query the fast path turned away is counted once');
    assert.equal(server.stats.rcodes[Rcode.REFUSED], 0);
  });

  test('clientQueryRate refuse: REFUSED over the rate', async () => {
    const { server, port } = await forwarderAt('127.41.21.3', { forwarders: [`${UP}:${upPort}`], resolver: { clientQueryRate: 1, clientQueryRateAction: 'refuse' } });
    const r = await flood('127.41.21.3', port, www('127.12.3.1', 3), { expected: 3, query: rd });
    assert.deepEqual(total(r.bySource).rcodes, { [Rcode.NOERROR]: 1, [Rcode.REFUSED]: 2 });
    assert.equal(server.stats.clientQueriesLimited, 2);
  });

  test('maxClientRecursions: the third concurrent recursion of a /24 is SERVFAIL at once', async () => {
    const hole = createSocket('udp4');
    await new Promise<void>((resolve) => hole.bind({ address: '127.41.21.9', port: 0 }, () => resolve()));
    const holePort = hole.address().port;
    try {
      const { server, port } = await forwarderAt('127.41.21.4', {
        forwarders: [`127.41.21.9:${holePort}`], forwarding: { timeoutMs: 400, maxAttempts: 1 }, resolver: { maxClientRecursions: 2 },
      });
      const plan: FloodQuery[] = ['a', 'b', 'c'].map((l) => ({ source: '127.12.4.1', name: `${l}.example.net.`, type: 1 }));
      plan.push({ source: '127.12.5.1', name: 'd.example.net.', type: 1 });
      const r = await flood('127.41.21.4', port, plan, { expected: 4, query: rd });
      assert.deepEqual(total(r.bySource).rcodes, { [Rcode.SERVFAIL]: 4 }, 'one at once, three when the upstream timed out');
      assert.equal(server.stats.clientRecursionsLimited, 1);
    } finally {
      hole.close();
    }
  });
});
