/**
 * Interop, AXFR out (RFC 5936) with TSIG: BIND `named`, Knot and NSD run as secondaries of
 * Sovereign, each fetching the zone with the shared key; the copy each then serves (read back
 * with dig AXFR) equals the source record for record. Without the key they get nothing.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { generateKey } from '../../src/tsig/key.js';
import { type RunningPeer, havePeers, pickPort, tempDir } from '../helpers/peers.js';
import {
  type PeerKey, axfrLines, startKnotXfr, startNamedXfr, startNsdXfr, waitForSerial,
} from '../helpers/xfr-peers.js';

const SOV = '127.31.6.1';
const BIND = '127.31.6.2';
const KNOT = '127.31.6.3';
const NSD = '127.31.6.4';
const SERIAL = 2024060101;

/** A zone of several thousand records over many types, a delegation with glue, and a wildcard. */
const ZONE = `$ORIGIN xfr.example.
$TTL 3600
@        SOA ns1 hostmaster.xfr.example. ${SERIAL} 7200 900 1209600 300
@        NS  ns1
@        NS  ns2.example.net.
@        MX  10 mail
@        TXT "v=spf1 -all"
ns1      A   192.0.2.1
ns1      AAAA 2001:db8::1
mail     A   192.0.2.2
www      CNAME ns1
*.wild   A   192.0.2.20
_sip._tcp SRV 0 5 5060 mail
sub      NS  ns.sub
ns.sub   A   192.0.2.53
caa      CAA 0 issue "ca.example.net"
sshfp    SSHFP 1 1 dd465c09cfa51fb45020cc83316fff21b9ec74ac
ptr      PTR host.example.
${Array.from({ length: 4000 }, (_, i) => `h${i} A 10.1.${i >> 8}.${i & 255}\nh${i} TXT "record ${i}"`).join('\n')}
`;

describe('BIND, Knot and NSD as secondaries of Sovereign (TSIG)', { concurrency: false }, () => {
  const dir = tempDir('sovereign-axfr-');
  const port = pickPort();
  const k = generateKey('xfr-key', 'hmac-sha256');
  const key: PeerKey = { name: 'xfr-key', algorithm: 'hmac-sha256', secret: k.secret.toString('base64') };
  const peers: RunningPeer[] = [];
  let sov: DnsServer | undefined;

  before(async () => {
    const file = join(dir.path, 'xfr.example.zone');
    writeFileSync(file, ZONE);
    sov = new DnsServer({
      config: defaultConfig({
        listen: [`${SOV}:${port}`], workers: 1,
        keys: { 'xfr-key': { algorithm: 'hmac-sha256', secret: key.secret } },
        zones: [{
          name: 'xfr.example', file, allowTransfer: ['key xfr-key'],
          notify: [`${BIND}:${port}`, `${KNOT}:${port}`, `${NSD}:${port} key xfr-key`],
        }],
      }),
      logger: silentLogger,
    });
    await sov.loadZones();
    await sov.start();
  });

  after(async () => {
    await sov?.stop();
    for (const p of peers) await p.stop();
    dir.cleanup();
  });

  const source = (): Promise<string[]> => axfrLines(SOV, port, 'xfr.example', key);

  const cases: [string, 'named' | 'knotd' | 'nsd', string, typeof startNamedXfr][] = [
    ['BIND', 'named', BIND, startNamedXfr],
    ['Knot', 'knotd', KNOT, startKnotXfr],
    ['NSD', 'nsd', NSD, startNsdXfr],
  ];
  for (const [label, bin, address, start] of cases) {
    test(`${label} transfers the zone with the key and serves an identical copy`, async (t) => {
      if (!havePeers(t, bin, 'dig')) return;
      const d = join(dir.path, bin);
      mkdirSync(d);
      const peer = await start(d, address, port, [key], [{
        name: 'xfr.example', file: join(d, 'xfr.example.copy'), primary: { address: SOV, port, key: key.name },
      }]);
      peers.push(peer);
      const ok = await waitForSerial(address, port, 'xfr.example', SERIAL, 60_000);
      assert.ok(ok, `${label} never served serial ${SERIAL}:\n${peer.output().slice(-3000)}`);
      const want = await source();
      assert.ok(want.length > 8000, `source AXFR has ${want.length} records`);
      const got = await axfrLines(address, port, 'xfr.example');
      assert.deepEqual(got, want);
    });
  }

  test('a change at the primary reaches every secondary by NOTIFY and IXFR', async (t) => {
    if (!havePeers(t, 'named', 'knotd', 'nsd', 'dig')) return;
    assert.equal(peers.length, 3, 'the three secondaries are running');
    const file = join(dir.path, 'xfr.example.zone');
    const next = SERIAL + 1;
    writeFileSync(file, ZONE.replace(` ${SERIAL} `, ` ${next} `).replace('mail     A   192.0.2.2', 'mail     A   192.0.2.222')
      .replace('h17 A 10.1.0.17\n', '') + 'added   AAAA 2001:db8::99\n');
    const reports = await sov!.reload();
    assert.equal(reports[0]!.serial, next);
    assert.equal(sov!.transfers.history(sov!.zones()[0]!).length, 1);
    for (const [label, address] of [['BIND', BIND], ['Knot', KNOT], ['NSD', NSD]] as const) {
      // Well within the secondaries' refresh timer (7200 s): only NOTIFY can bring it.
      assert.ok(await waitForSerial(address, port, 'xfr.example', next, 30_000), `${label} did not get serial ${next}`);
      const got = await axfrLines(address, port, 'xfr.example');
      assert.deepEqual(got, await source(), label);
    }
    // The peers' own logs say the transfer was incremental.
    const [named, knot] = peers;
    // BIND: "notify from 127.31.6.1#...: serial N", then the 8 records of the one difference
    // (SOA, old SOA, 2 removed, new SOA, 2 added, SOA), not the 8017 of the zone.
    assert.match(named!.output(), new RegExp(`notify from ${SOV.replace(/\./g, '\\.')}\\S*: serial ${next}`));
    assert.match(named!.output(), new RegExp(`Transfer completed: 1 messages, 8 records, .*\\(serial ${next}\\)`));
    assert.match(knot!.output(), /IXFR/);
    assert.ok(sov!.transfers.notifier.stats.answered >= 3);
  });

  test('without the key, or with a wrong one, nobody gets the zone', async (t) => {
    if (!havePeers(t, 'dig')) return;
    const before = sov!.stats.xfrOutRefused;
    assert.deepEqual(await axfrLines(SOV, port, 'xfr.example'), ['; transfer failed']);
    const wrong = { ...key, secret: Buffer.alloc(32, 2).toString('base64') };
    assert.deepEqual(await axfrLines(SOV, port, 'xfr.example', wrong), ['; transfer failed']);
    assert.equal(sov!.stats.xfrOutRefused, before + 1); // the wrong key is a TSIG failure, not an ACL refusal
    assert.ok(sov!.stats.xfrOut >= 3);
  });
});
