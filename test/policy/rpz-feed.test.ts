/**
 * A policy zone fed from a primary (the secondary-zone machinery of src/transfer): transferred by
 * AXFR with TSIG at start, then a new version on NOTIFY applies at once, as an RPZ feed does.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Rcode } from '../../src/wire/constants.js';
import { Message } from '../../src/wire/message.js';
import { pickPort, tempDir } from '../helpers/peers.js';

const UPSTREAM = `$ORIGIN ex.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
one A 192.0.2.1
two A 192.0.2.2
`;
const feed = (serial: number, extra: string): string => `$TTL 60
@ SOA ns.feed. h.feed. ${serial} 3600 600 86400 60
@ NS ns.feed.
one.ex CNAME .
${extra}`;

const KEY = { algorithm: 'hmac-sha256' as const, secret: Buffer.alloc(32, 7).toString('base64') };
const servers: DnsServer[] = [];
const dir = tempDir('sovereign-rpz-feed-');

after(async () => {
  for (const s of servers) await s.stop();
  dir.cleanup();
});

async function rcode(port: number, name: string): Promise<number> {
  return (await exchange(Message.query(name, 1, { rd: true }), { address: '127.0.0.1', port }, { timeoutMs: 2000 })).message.rcode;
}

/** Polls until `name` gets `want` (the transfer runs in the background), at most ~10 s. */
async function until(port: number, name: string, want: number): Promise<number> {
  let got = -1;
  for (let i = 0; i < 100; i++) {
    got = await rcode(port, name);
    if (got === want) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
  return got;
}

test('a policy zone transferred with TSIG applies, and its next version after NOTIFY', async () => {
  writeFileSync(`${dir.path}/ex.zone`, UPSTREAM);
  writeFileSync(`${dir.path}/feed.zone`, feed(1, ''));
  const upPort = pickPort();
  const up = new DnsServer({ config: defaultConfig({ listen: [`127.0.0.1:${upPort}`], workers: 1, control: { enabled: false }, zones: [{ name: 'ex.', file: `${dir.path}/ex.zone` }] }), logger: silentLogger });
  await up.loadZones();
  await up.start();
  servers.push(up);
  const ourPort = pickPort();
  const primaryPort = pickPort();
  const primary = new DnsServer({
    config: defaultConfig({
      listen: [`127.0.0.1:${primaryPort}`], workers: 1, control: { enabled: false }, keys: { xfr: KEY },
      zones: [{ name: 'rpz.feed.', file: `${dir.path}/feed.zone`, allowTransfer: ['key xfr'], notify: [`127.0.0.1:${ourPort}`] }],
    }),
    logger: silentLogger,
  });
  await primary.loadZones();
  await primary.start();
  servers.push(primary);
  const ours = new DnsServer({
    config: defaultConfig({
      listen: [`127.0.0.1:${ourPort}`], workers: 1, control: { enabled: false }, keys: { xfr: KEY }, forwarders: [`127.0.0.1:${upPort}`],
      rpz: { zones: [{ name: 'rpz.feed.', file: `${dir.path}/copy.zone`, primaries: [`127.0.0.1:${primaryPort} key xfr`], log: false }] },
    }),
    logger: silentLogger,
  });
  await ours.loadZones();
  await ours.start();
  servers.push(ours);
  assert.equal(await until(ourPort, 'one.ex.', Rcode.NXDOMAIN), Rcode.NXDOMAIN, 'the transferred policy applies');
  assert.equal(await rcode(ourPort, 'two.ex.'), Rcode.NOERROR);
  writeFileSync(`${dir.path}/feed.zone`, feed(2, 'two.ex CNAME .\n'));
  await primary.reload();
  assert.equal(await until(ourPort, 'two.ex.', Rcode.NXDOMAIN), Rcode.NXDOMAIN, 'the new version applies after NOTIFY');
  const st = ours.zoneStatus().find((z) => z.name === 'rpz.feed.');
  assert.equal(st?.serial, 2);
});
