// Catalog zones (RFC 9432): Sovereign generating a catalog of its configured member zones, and
// consuming one, against itself and against real peers:
// - Sovereign producer -> Sovereign consumer: the members become secondary zones and are
//   transferred; after the producer's reload (one member removed, one added) the catalog comes
//   by NOTIFY, the new member is transferred, the removed one is no longer served (REFUSED) and
//   its copy is deleted;
// - BIND 9.18 consuming Sovereign's catalog (catalog-zones, default-primaries): BIND adds the
//   member zones and serves them;
// - Knot 3.2 generating a catalog (catalog-role: generate/member) consumed by Sovereign.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { defaultConfig, loadConfigFile } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { catalogMembers, generateCatalog, memberId } from '../../src/transfer/catalog-zone.js';
import { Rcode } from '../../src/wire/constants.js';
import { Message, Name, RRType } from '../../src/wire/index.js';
import { type RunningPeer, addLoopbackAddress, havePeers, pickPort, startPeer, tempDir } from '../helpers/peers.js';
import { waitForSerial } from '../helpers/xfr-peers.js';

const PROD = '127.31.11.1';
const CONS = '127.31.11.2';
const BIND = '127.31.11.3';
const KNOT = '127.31.11.4';

const member = (name: string, serial: number): string =>
  `$ORIGIN ${name}.\n$TTL 300\n@ SOA ns1 host ${serial} 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.${serial}\n`;

async function rcodeOf(address: string, port: number, zone: string): Promise<number> {
  try {
    return (await exchange(Message.query(zone + '.', RRType.SOA, { rd: false }), { address, port }, { timeoutMs: 1000 })).message.rcode;
  } catch {
    return -1;
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('generateCatalog / catalogMembers: version 2, one PTR per member ID, members read back', () => {
  const cat = Name.fromText('cat.example.');
  const z = generateCatalog(cat, [Name.fromText('b.example.'), Name.fromText('a.example.')], 7);
  assert.equal(z.serial, 7);
  assert.deepEqual(catalogMembers(z)!.map((n) => n.toString()), ['a.example.', 'b.example.']);
  assert.equal(memberId(Name.fromText('A.Example.')), memberId(Name.fromText('a.example.')), 'IDs ignore case');
  assert.ok(z.getRRset(Name.fromText(`${memberId(Name.fromText('a.example.'))}.zones.cat.example.`), RRType.PTR) !== undefined);
});

describe('catalog zones between servers', { concurrency: false }, () => {
  const dir = tempDir('sovereign-catalog-');
  const servers: DnsServer[] = [];
  const peers: RunningPeer[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
    for (const p of peers) await p.stop();
    dir.cleanup();
  });
  const pPort = pickPort();
  const cPort = pickPort();
  const bPort = pickPort();

  test('Sovereign producer -> Sovereign consumer and BIND 9.18 consumer: members added and removed', async (t) => {
    addLoopbackAddress(PROD);
    addLoopbackAddress(CONS);
    for (const m of ['m1', 'm2', 'm3']) writeFileSync(join(dir.path, `${m}.zone`), member(`${m}.example`, 1));
    const cfgFile = join(dir.path, 'producer.yaml');
    const producerConfig = (members: string[]): string => `listen: ["${PROD}:${pPort}"]\nworkers: 1\ncontrol: { enabled: false }\nzones:\n` +
      `  - { name: cat.example, file: cat.zone, catalogRole: generate, notify: ["${CONS}:${cPort}", "${BIND}:${bPort}"] }\n` +
      members.map((m) => `  - { name: ${m}.example, file: ${m}.zone, catalogZone: cat.example, notify: ["${CONS}:${cPort}"] }\n`).join('');
    writeFileSync(cfgFile, producerConfig(['m1', 'm2']));
    const producer = new DnsServer({ config: loadConfigFile(cfgFile), configPath: cfgFile, logger: silentLogger });
    await producer.loadZones();
    await producer.start();
    servers.push(producer);
    mkdirSync(join(dir.path, 'consumer'));
    const consumer = new DnsServer({
      config: defaultConfig({
        listen: [`${CONS}:${cPort}`], workers: 1,
        zones: [{ name: 'cat.example', file: join(dir.path, 'consumer', 'cat.zone'), catalogRole: 'consume', primaries: [`${PROD}:${pPort}`] }],
      } satisfies ConfigInput),
      logger: silentLogger,
    });
    await consumer.loadZones();
    await consumer.start();
    servers.push(consumer);
    await until('the consumer serves m1 and m2', async () => await waitForSerial(CONS, cPort, 'm1.example', 1, 500) && await waitForSerial(CONS, cPort, 'm2.example', 1, 500));
    assert.equal(await rcodeOf(CONS, cPort, 'm3.example'), Rcode.REFUSED);

    // BIND 9.18 as a consumer of the same catalog.
    let named: RunningPeer | undefined;
    if (havePeers(t, 'named', 'dig')) {
      const bdir = join(dir.path, 'bind');
      mkdirSync(join(bdir, 'catz'), { recursive: true });
      addLoopbackAddress(BIND);
      writeFileSync(join(bdir, 'named.conf'), `options {
  directory "${bdir}";
  pid-file "${bdir}/named.pid";
  listen-on port ${bPort} { ${BIND}; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
  transfer-source ${BIND};
  catalog-zones { zone "cat.example" default-primaries { ${PROD} port ${pPort}; } zone-directory "catz" min-update-interval 1; };
};
zone "cat.example" { type secondary; file "cat.db"; primaries { ${PROD} port ${pPort}; }; allow-notify { ${PROD}; }; };
`);
      named = await startPeer('named', ['-g', '-u', 'root', '-c', join(bdir, 'named.conf')], { address: BIND, port: bPort, zone: '.' });
      peers.push(named);
      await until('BIND serves m1 and m2 from the catalog', async () =>
        await waitForSerial(BIND, bPort, 'm1.example', 1, 500) && await waitForSerial(BIND, bPort, 'm2.example', 1, 500), 60_000);
    }

    // The producer's members change: m2 out, m3 in.
    writeFileSync(cfgFile, producerConfig(['m1', 'm3']));
    await producer.reload();
    await until('the consumer serves m3', () => waitForSerial(CONS, cPort, 'm3.example', 1, 500));
    await until('the consumer no longer serves m2', async () => await rcodeOf(CONS, cPort, 'm2.example') === Rcode.REFUSED);
    assert.equal(existsSync(join(dir.path, 'consumer', 'm2.example.zone')), false, 'the removed member\'s copy is deleted');
    assert.ok(existsSync(join(dir.path, 'consumer', 'm3.example.zone')));
    assert.equal((await exchange(Message.query('www.m1.example.', RRType.A), { address: CONS, port: cPort })).message.answer.length, 1);
    if (named !== undefined) {
      await until('BIND serves m3 and drops m2', async () =>
        await waitForSerial(BIND, bPort, 'm3.example', 1, 500) && await rcodeOf(BIND, bPort, 'm2.example') === Rcode.REFUSED, 60_000);
    }
  });

  test('Knot 3.2 producer (catalog-role: generate) -> Sovereign consumer', async (t) => {
    if (!havePeers(t, 'knotd', 'dig')) return;
    const kPort = pickPort();
    const sPort = pickPort();
    const kdir = join(dir.path, 'knot');
    mkdirSync(join(kdir, 'db'), { recursive: true });
    addLoopbackAddress(KNOT);
    for (const m of ['k1', 'k2']) writeFileSync(join(kdir, `${m}.zone`), member(`${m}.example`, 3));
    const conf = (members: string[]): string => `server:
  rundir: "${kdir}"
  listen: ${KNOT}@${kPort}
database:
  storage: "${kdir}/db"
remote:
  - id: consumer
    address: ${CONS}@${sPort}
    via: ${KNOT}
acl:
  - id: loopback
    address: 127.0.0.0/8
    action: transfer
template:
  - id: default
    storage: "${kdir}"
    zonefile-sync: -1
    acl: loopback
    notify: consumer
zone:
  - domain: kcat.example
    catalog-role: generate
${members.map((m) => `  - domain: ${m}.example\n    file: "${kdir}/${m}.zone"\n    catalog-role: member\n    catalog-zone: kcat.example`).join('\n')}
`;
    writeFileSync(join(kdir, 'knot.conf'), conf(['k1', 'k2']));
    const knot = await startPeer('knotd', ['-c', join(kdir, 'knot.conf')], { address: KNOT, port: kPort, zone: 'k1.example' });
    peers.push(knot);
    const consumer = new DnsServer({
      config: defaultConfig({
        listen: [`${CONS}:${sPort}`], workers: 1,
        zones: [{ name: 'kcat.example', file: join(dir.path, 'kcat.zone'), catalogRole: 'consume', primaries: [`${KNOT}:${kPort}`] }],
      }),
      logger: silentLogger,
    });
    await consumer.loadZones();
    await consumer.start();
    servers.push(consumer);
    await until('Sovereign serves Knot\'s members k1 and k2', async () =>
      await waitForSerial(CONS, sPort, 'k1.example', 3, 500) && await waitForSerial(CONS, sPort, 'k2.example', 3, 500), 60_000);
    // k2 leaves Knot's catalog (config reload): Sovereign drops it.
    writeFileSync(join(kdir, 'knot.conf'), conf(['k1']));
    process.kill(knot.pid, 'SIGHUP');
    await until('Sovereign no longer serves k2', async () => await rcodeOf(CONS, sPort, 'k2.example') === Rcode.REFUSED, 60_000)
      .catch((e: Error) => assert.fail(`${e.message}\n${knot.output().slice(-3000)}`));
    assert.equal(await rcodeOf(CONS, sPort, 'k1.example'), Rcode.NOERROR);
  });
});
