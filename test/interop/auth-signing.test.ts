/**
 * Interop: zones signed by the server itself (`dnssec: { policy: default }`, NSEC and RFC 9276
 * NSEC3), validated by Unbound with our KSK as its trust anchor: positive, NXDOMAIN, NODATA,
 * wildcard, empty non-terminal and no-DS answers come back secure (AD). Then a reload with a
 * changed record is served signed and secure, and a reload while the private key is missing is
 * rejected with the last signed version still serving (and still secure).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { digReply } from '../helpers/dig-reply.js';
import { type RunningPeer, addLoopbackAddress, havePeers, inCI, pickPort, startPeer, tempDir, unboundServerConf, PEER_BINARIES } from '../helpers/peers.js';
import { signedZoneText } from '../helpers/signed-zones.js';
import { existsSync } from 'node:fs';

const SOV = '127.23.4.1';
const UNBOUND = '127.23.4.2';
const ZONES = [
  { name: 'nsec.signing', nsec3: false },
  { name: 'nsec3.signing', nsec3: true },
];

describe('zones signed by the server validate in Unbound', { concurrency: false }, () => {
  let dir: { path: string; cleanup(): void } | undefined;
  let sov: DnsServer | undefined;
  let unbound: RunningPeer | undefined;
  let port = 0;
  let skip = false;

  before(async () => {
    if (!['unbound', 'dig'].every((p) => existsSync(PEER_BINARIES[p as 'dig']))) {
      if (inCI) throw new Error('missing peer(s): unbound or dig (run scripts/install-peers.sh)');
      skip = true;
      return;
    }
    dir = tempDir('sovereign-auth-signing-');
    port = pickPort();
    const zones = ZONES.map((z) => {
      const zdir = join(dir!.path, z.name);
      mkdirSync(zdir);
      const file = join(zdir, 'zone');
      writeFileSync(file, signedZoneText(z.name));
      return { name: z.name, file, dnssec: { policy: 'default' as const, nsec3: z.nsec3 } };
    });
    sov = new DnsServer({ config: defaultConfig({ listen: [`${SOV}:${port}`], zones, workers: 1 }), logger: silentLogger });
    await sov.loadZones();
    await sov.start();
    // Our KSKs (one CSK each, made at load in the zone file's directory) are Unbound's trust anchors.
    const anchors: string[] = [];
    for (const z of zones) {
      const kdir = join(dir.path, z.name);
      const keyFile = readdirSync(kdir).find((f) => f.endsWith('.key'))!;
      const line = readFileSync(join(kdir, keyFile), 'utf8').split('\n').find((l) => l.includes('DNSKEY'))!;
      anchors.push(`  trust-anchor: "${line.trim()}"`);
    }
    addLoopbackAddress(UNBOUND);
    const conf = join(dir.path, 'unbound.conf');
    writeFileSync(conf, `${unboundServerConf(dir.path, UNBOUND, port)}
  module-config: "validator iterator"
  num-threads: 1
  val-log-level: 2
  # Names added by the reload test must be asked for, not synthesised from cached NSECs (RFC 8198).
  aggressive-nsec: no
${anchors.join('\n')}
${ZONES.map((z) => `stub-zone:\n  name: "${z.name}"\n  stub-addr: ${SOV}@${port}`).join('\n')}
`);
    unbound = await startPeer('unbound', ['-d', '-c', conf], { address: UNBOUND, port, zone: ZONES[0]!.name });
  });

  after(async () => {
    await unbound?.stop();
    await sov?.stop();
    dir?.cleanup();
  });

  const CASES: [string, string, string, RegExp | undefined][] = [
    ['www', 'A', 'NOERROR', /\sA\s+192\.0\.2\.1[01]$/],
    ['', 'DNSKEY', 'NOERROR', /\sDNSKEY\s+257 3 13 /],
    ['', 'MX', 'NOERROR', /\sMX\s+10 mail\./],
    ['chain', 'A', 'NOERROR', /\sA\s+192\.0\.2\.1[01]$/],
    ['nx', 'A', 'NXDOMAIN', undefined],
    ['a.b.c.nx', 'TXT', 'NXDOMAIN', undefined],
    ['www', 'MX', 'NOERROR', undefined],
    ['b.ent', 'A', 'NOERROR', undefined],
    ['foo.wild', 'A', 'NOERROR', /^foo\.wild\.\S+\s+\d+\s+IN\s+A\s+192\.0\.2\.20$/],
    ['foo.wild', 'MX', 'NOERROR', undefined],
    ['q.cwild', 'A', 'NOERROR', /\sA\s+192\.0\.2\.1[01]$/],
    ['insecure', 'DS', 'NOERROR', undefined],
    ['secure', 'DS', 'NOERROR', /\sDS\s+12345 13 2 /],
  ];

  for (const z of ZONES) {
    for (const [label, type, status, want] of CASES) {
      const name = label === '' ? z.name : `${label}.${z.name}`;
      test(`${name} ${type}: ${status}, secure (AD)`, async (t) => {
        if (skip) {
          havePeers(t, 'unbound', 'dig');
          return;
        }
        const r = await digReply(UNBOUND, port, [name, type, '+dnssec', '+rec']);
        assert.equal(r.status, status, r.raw);
        assert.ok(r.flags.includes('ad'), `not validated as secure:\n${r.raw}\n${unbound!.output().slice(-2000)}`);
        if (want !== undefined) assert.ok(r.answer.some((rr) => want.test(rr)), r.raw);
        else assert.ok(r.answer.every((rr) => !/\s(A|AAAA|MX|TXT|DS)\s/.test(rr)), r.raw);
      });
    }
  }

  test('a reload re-signs what changed and stays secure; a missing key keeps the last signed version', async (t) => {
    if (skip) {
      havePeers(t, 'unbound', 'dig');
      return;
    }
    const z = ZONES[0]!.name;
    const file = join(dir!.path, z, 'zone');
    writeFileSync(file, signedZoneText(z).replace('2024010101', '2024010102') + 'added A 192.0.2.123\n');
    const reports = await sov!.reload();
    assert.ok(reports.every((r) => r.ok), JSON.stringify(reports));
    const r = await digReply(UNBOUND, port, [`added.${z}`, 'A', '+dnssec', '+rec']);
    assert.equal(r.status, 'NOERROR', r.raw);
    assert.ok(r.flags.includes('ad'), r.raw);
    assert.ok(r.answer.some((rr) => /\sA\s+192\.0\.2\.123$/.test(rr)), r.raw);
    // The private key goes away: the next version cannot be signed, the last one keeps serving.
    const kdir = join(dir!.path, z);
    const priv = readdirSync(kdir).find((f) => f.endsWith('.private'))!;
    renameSync(join(kdir, priv), join(dir!.path, 'moved.private'));
    writeFileSync(file, signedZoneText(z).replace('2024010101', '2024010103') + 'later A 192.0.2.124\n');
    const again = await sov!.reload();
    const rep = again.find((x) => x.name === z + '.')!;
    assert.equal(rep.ok, false);
    assert.match(rep.problems.join('\n'), /has no \.private file/);
    const direct = await digReply(SOV, port, [`added.${z}`, 'A', '+dnssec']);
    assert.ok(direct.answer.some((rr) => /\sRRSIG\s+A 13 /.test(rr)), direct.raw);
    assert.equal((await digReply(SOV, port, [`later.${z}`, 'A'])).status, 'NXDOMAIN');
    renameSync(join(dir!.path, 'moved.private'), join(kdir, priv));
  });
});
