/**
 * EDNS Client Subnet (RFC 7871) on balanced names, against a running server: answers by subnet,
 * SCOPE PREFIX-LENGTH as §7.2.1 requires (checked as dig and kdig print it), the source address
 * when the query has no ECS, FORMERR for malformed options, and no answer cached across clients.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePrefix } from '../../src/balance/addresses.js';
import { EcsQuery, longestMatch, readEcs } from '../../src/balance/ecs.js';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Rcode } from '../../src/wire/constants.js';
import { newEdns, option } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { digReply } from '../helpers/dig-reply.js';
import { havePeers, runToolAsync, tempDir } from '../helpers/peers.js';
import { ZONE, udpQuery } from '../server/net-helpers.js';

const ADDR = '127.77.0.1';

describe('ECS scope (longestMatch)', () => {
  const prefixes = ['10.0.0.0/8', '10.1.0.0/16', '2001:db8::/32'].map(parsePrefix);
  const scope = new Int32Array(1);
  const at = (text: string): [number, number] => {
    const p = parsePrefix(text);
    const i = longestMatch(prefixes, p.family, p.bytes, p.length, scope);
    return [i, scope[0]!];
  };
  test('longest prefix wins; the scope separates it from more specific ones', () => {
    assert.deepEqual(at('10.1.2.0/24'), [1, 16]);
    // 10.2.x shares 14 bits with 10.1/16: 15 bits tell them apart.
    assert.deepEqual(at('10.2.3.0/24'), [0, 15]);
    assert.deepEqual(at('10.128.0.0/24'), [0, 9]);
    // SOURCE /8 cannot tell 10.1/16 from the rest of 10/8: SCOPE 16 asks for more (§7.2.1).
    assert.deepEqual(at('10.0.0.0/8'), [0, 16]);
    assert.deepEqual(at('192.168.0.0/16'), [-1, 1]);
    assert.deepEqual(at('2001:db8:5::/48'), [2, 32]);
    assert.deepEqual(at('2001:db9::/48'), [-1, 32]);
  });

  test('malformed options throw (FORMERR)', () => {
    const q = new EcsQuery();
    const bad = (data: number[]) => assert.throws(() => readEcs([{ code: 8, data: Uint8Array.from(data) }], q), /EDNS Client Subnet/);
    bad([0, 1, 24]); // short
    bad([0, 3, 8, 0, 10]); // family 3
    bad([0, 1, 33, 0, 10, 0, 0, 0, 0]); // source > 32
    bad([0, 1, 8, 4, 10]); // scope not 0 in a query
    bad([0, 1, 24, 0, 10, 1, 2, 3]); // 4 octets for /24
    bad([0, 1, 20, 0, 10, 1, 0x1f]); // bits past /20
    assert.throws(() => readEcs([option.clientSubnet('10.0.0.0', 8), option.clientSubnet('10.0.0.0', 8)], q), /more than one/);
    assert.equal(readEcs([option.clientSubnet('10.1.2.0', 24)], q), true);
    assert.deepEqual([q.family, q.source, ...q.bytes.subarray(0, 4)], [1, 24, 10, 1, 2, 0]);
  });
});

describe('ECS answers from a running server', () => {
  const dir = tempDir('sovereign-ecs-');
  let server: DnsServer;
  let port: number;

  before(async () => {
    const zoneFile = join(dir.path, 'example.com.zone');
    writeFileSync(zoneFile, ZONE + 'geo A 192.0.2.1\n');
    server = new DnsServer({
      config: defaultConfig({
        listen: [`${ADDR}:0`], workers: 1, zones: [{ name: 'example.com', file: zoneFile }],
        balance: {
          records: [{
            name: 'geo.example.com.', type: 'A', ttl: 60, ecs: true, addresses: ['192.0.2.1'],
            subnets: [
              { prefix: '10.0.0.0/8', addresses: ['192.0.2.10'] },
              { prefix: '10.1.0.0/16', addresses: ['192.0.2.11'] },
              { prefix: '2001:db8::/32', addresses: ['192.0.2.6'] },
              { prefix: '127.78.0.0/16', addresses: ['192.0.2.78'] },
            ],
          }],
        },
      }),
      logger: silentLogger,
    });
    await server.loadZones();
    await server.start();
    port = server.addresses[0]!.port;
  });

  after(async () => {
    await server.stop();
    dir.cleanup();
  });

  test('dig +subnet: the answer changes by subnet and SCOPE is echoed', async (t) => {
    if (!havePeers(t, 'dig')) return;
    const cases: [string, string, string][] = [
      ['10.1.2.0/24', '192.0.2.11', '10.1.2.0/24/16'],
      ['10.2.3.0/24', '192.0.2.10', '10.2.3.0/24/15'],
      ['10.0.0.0/8', '192.0.2.10', '10.0.0.0/8/16'],
      ['192.168.0.0/16', '192.0.2.1', '192.168.0.0/16/1'],
      ['2001:db8:1::/48', '192.0.2.6', '2001:db8:1::/48/32'],
      ['0.0.0.0/0', '192.0.2.1', '0.0.0.0/0/0'],
    ];
    for (const [subnet, address, echoed] of cases) {
      const r = await digReply(ADDR, port, [`+subnet=${subnet}`, 'geo.example.com', 'A']);
      assert.equal(r.status, 'NOERROR', subnet);
      assert.deepEqual(r.answer, [`geo.example.com. 60 IN A ${address}`], subnet);
      assert.ok(r.flags.includes('aa'), subnet);
      assert.match(r.raw, new RegExp(`; CLIENT-SUBNET: ${echoed.replace(/\./g, '\\.')}\\n`), `${subnet}: ${r.raw}`);
    }
  });

  test('kdig +subnet agrees', async (t) => {
    if (!havePeers(t, 'kdig')) return;
    for (const [subnet, address, echoed] of [['10.1.2.0/24', '192.0.2.11', '10.1.2.0/24/16'], ['10.200.0.0/16', '192.0.2.10', '10.200.0.0/16/9']]) {
      const r = await runToolAsync('kdig', [`@${ADDR}`, '-p', String(port), '+norec', `+subnet=${subnet}`, 'geo.example.com', 'A']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`geo\\.example\\.com\\.\\s+60\\s+IN\\s+A\\s+${address.replace(/\./g, '\\.')}\\n`), r.stdout);
      assert.match(r.stdout, new RegExp(`CLIENT-SUBNET: ${echoed.replace(/\./g, '\\.')}`), r.stdout);
    }
  });

  test('without ECS the source address chooses, and no client gets another\'s cached answer', async (t) => {
    if (!havePeers(t, 'dig')) return;
    for (let i = 0; i < 3; i++) {
      const here = await digReply(ADDR, port, ['-b', '127.0.0.1', 'geo.example.com', 'A']);
      assert.deepEqual(here.answer, ['geo.example.com. 60 IN A 192.0.2.1']);
      assert.doesNotMatch(here.raw, /CLIENT-SUBNET/);
      const there = await digReply(ADDR, port, ['-b', '127.78.0.9', 'geo.example.com', 'A']);
      assert.deepEqual(there.answer, ['geo.example.com. 60 IN A 192.0.2.78']);
    }
    // The same query with ECS from two subnets, interleaved, over and over: never the other's answer.
    for (let i = 0; i < 3; i++) {
      for (const [s, a] of [['10.1.0.0', '192.0.2.11'], ['10.9.0.0', '192.0.2.10']] as const) {
        const q = Message.query('geo.example.com.', RRType.A, { edns: newEdns({ options: [option.clientSubnet(s, 24)] }) });
        const r = await udpQuery(ADDR, port, q);
        assert.deepEqual(r.answer.map((rr) => (rr.data as { address: string }).address), [a]);
      }
    }
    // Other names are the zone's, as before.
    const www = await digReply(ADDR, port, ['+subnet=10.1.2.0/24', 'one.example.com', 'A']);
    assert.deepEqual(www.answer, ['one.example.com. 3600 IN A 192.0.2.20']);
  });

  test('malformed ECS gets FORMERR; the server keeps answering', async () => {
    const bad = [
      { code: 8, data: Uint8Array.of(0, 1, 8, 4, 10) },
      { code: 8, data: Uint8Array.of(0, 1, 24, 0, 10, 1, 2, 3) },
      { code: 8, data: Uint8Array.of(0, 7, 8, 0, 10) },
      { code: 8, data: Uint8Array.of(0, 1) },
    ];
    for (const o of bad) {
      const q = Message.query('geo.example.com.', RRType.A, { edns: newEdns({ options: [o] }) });
      const r = await udpQuery(ADDR, port, q);
      assert.equal(r.rcode, Rcode.FORMERR, String(o.data));
      assert.equal(r.answer.length, 0);
    }
    const two = Message.query('geo.example.com.', RRType.A, { edns: newEdns({ options: [option.clientSubnet('10.0.0.0', 8), option.clientSubnet('10.0.0.0', 8)] }) });
    assert.equal((await udpQuery(ADDR, port, two)).rcode, Rcode.FORMERR);
    const good = Message.query('geo.example.com.', RRType.A, { edns: newEdns({ options: [option.clientSubnet('10.1.0.0', 16)] }) });
    const r = await udpQuery(ADDR, port, good);
    assert.equal(r.rcode, Rcode.NOERROR);
    assert.equal(server.balancer!.snapshot().ecsFormErrors, 5);
  });
});
