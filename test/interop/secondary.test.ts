// Sovereign as a secondary of real primaries, and in the middle of a chain:
// - BIND 9.18 primary (TSIG): AXFR at start, a change (an update sent to BIND) reaches Sovereign
//   by BIND's NOTIFY and IXFR; an UPDATE sent to Sovereign (forwardUpdates) is forwarded with its TSIG intact,
//   applied by BIND, and comes back by NOTIFY/IXFR.
// - Knot 3.2 primary (TSIG, zonefile-load: difference): the same AXFR, NOTIFY, IXFR.
// - Sovereign primary -> Sovereign secondary -> BIND and NSD tertiaries: a change at the
//   primary reaches both tertiaries by NOTIFY from the secondary; every copy equals the source.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { formatStats } from '../../src/cli/stats.js';
import { defaultConfig } from '../../src/config/load.js';
import { serverSnapshot } from '../../src/control/backend.js';
import { renderMetrics } from '../../src/control/metrics.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { generateKey } from '../../src/tsig/key.js';
import { PEER_BINARIES, type RunningPeer, addLoopbackAddress, havePeers, pickPort, tempDir } from '../helpers/peers.js';
import { type PeerKey, axfrLines, startKnotXfr, startNamedXfr, startNsdXfr, tool, waitForSerial } from '../helpers/xfr-peers.js';

const SOV = '127.31.10.1';
const BIND = '127.31.10.2';
const KNOT = '127.31.10.3';
const SOV2 = '127.31.10.4';
const NSD = '127.31.10.5';

function zoneText(zone: string, serial: number, extra = ''): string {
  return `$ORIGIN ${zone}.\n$TTL 300\n@ SOA ns1 host ${serial} 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n` +
    Array.from({ length: 500 }, (_, i) => `h${i} A 10.10.${i >> 8}.${i & 255}\nh${i} TXT "record ${i}"\n`).join('') + extra;
}

type ZoneInput = NonNullable<ConfigInput['zones']>[number];

async function serve(address: string, port: number, zones: ZoneInput[], keys: ConfigInput['keys'] = {}): Promise<DnsServer> {
  addLoopbackAddress(address);
  const server = new DnsServer({ config: defaultConfig({ listen: [`${address}:${port}`], workers: 1, zones, keys }), logger: silentLogger });
  await server.loadZones();
  await server.start();
  return server;
}

function keyPair(name: string): { key: PeerKey; keys: ConfigInput['keys'] } {
  const k = generateKey(name, 'hmac-sha256');
  const secret = k.secret.toString('base64');
  return { key: { name, algorithm: 'hmac-sha256', secret }, keys: { [name]: { algorithm: 'hmac-sha256', secret } } };
}

describe('Sovereign secondary against BIND, Knot and NSD', { concurrency: false }, () => {
  const dir = tempDir('sovereign-secondary-interop-');
  const peers: RunningPeer[] = [];
  const servers: DnsServer[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
    for (const p of peers) await p.stop();
    dir.cleanup();
  });

  test('BIND primary (TSIG): AXFR, NOTIFY + IXFR, UPDATE forwarded with its TSIG', async (t) => {
    if (!havePeers(t, 'named', 'dig', 'nsupdate')) return;
    const zone = 'bind-src.example';
    const { key, keys } = keyPair('bind-xfr');
    const bPort = pickPort();
    const sPort = pickPort();
    mkdirSync(join(dir.path, 'bind'));
    const file = join(dir.path, 'bind', `${zone}.zone`);
    writeFileSync(file, zoneText(zone, 100));
    const named = await startNamedXfr(join(dir.path, 'bind'), BIND, bPort, [key],
      [{ name: zone, file, allowKey: key.name, notify: { address: SOV, port: sPort }, allowUpdateKey: key.name }]);
    peers.push(named);
    assert.ok(await waitForSerial(BIND, bPort, zone, 100), named.output().slice(-2000));
    const sov = await serve(SOV, sPort, [{
      name: zone, file: join(dir.path, `sov-${zone}.zone`), primaries: [`${BIND}:${bPort} key ${key.name}`], forwardUpdates: true,
    }], keys);
    servers.push(sov);
    assert.ok(await waitForSerial(SOV, sPort, zone, 100), 'Sovereign transferred from BIND');
    assert.deepEqual(await axfrLines(SOV, sPort, zone), await axfrLines(BIND, bPort, zone, key));
    assert.equal(sov.zoneStatus()[0]!.secondary!.lastTransfer!.kind, 'axfr');

    // A change at BIND (a dynamic update sent to BIND itself; the zone is dynamic, so BIND keeps
    // its own journal): NOTIFY, then IXFR.
    const direct = await runNsupdate(['-y', `hmac-sha256:${key.name}:${key.secret}`],
      `server ${BIND} ${bPort}\nzone ${zone}\nupdate delete h3.${zone}. A\nupdate add added.${zone}. 300 IN AAAA 2001:db8::101\nsend\n`);
    assert.equal(direct.code, 0, direct.stderr);
    assert.ok(await waitForSerial(SOV, sPort, zone, 101), `the change reached Sovereign\n${named.output().slice(-2000)}`);
    const st = sov.zoneStatus()[0]!.secondary!;
    assert.equal(st.lastTransfer!.kind, 'ixfr');
    assert.ok(sov.secondaries.counters.notifyIn >= 1, 'by NOTIFY');
    // Transfers in counted (AXFR then IXFR), in `sovereign stats` and /metrics (promtool-clean).
    assert.equal(st.transfersIn, 2);
    assert.equal(st.transferFailures, 0);
    assert.equal(st.lastTransfer!.serial, 101);
    assert.ok(st.lastTransfer!.bytes > 0 && st.transferBytes > st.lastTransfer!.bytes, `bytes ${st.transferBytes}, last ${st.lastTransfer!.bytes}`);
    const snap = serverSnapshot(sov, Date.now());
    assert.match(formatStats(snap), new RegExp(`zone ${zone}\\.?: transfers in 2, failed 0, ${st.transferBytes} bytes, \\d+ ms, last IXFR serial 101`));
    const { body } = await renderMetrics(snap);
    assert.match(body, new RegExp(`^sovereign_xfr_in_total\\{zone="${zone}\\.?"\\} 2$`, 'm'));
    assert.match(body, new RegExp(`^sovereign_xfr_in_failures_total\\{zone="${zone}\\.?"\\} 0$`, 'm'));
    assert.match(body, new RegExp(`^sovereign_xfr_in_bytes_total\\{zone="${zone}\\.?"\\} ${st.transferBytes}$`, 'm'));
    assert.match(body, new RegExp(`^sovereign_xfr_in_last_serial\\{zone="${zone}\\.?"\\} 101$`, 'm'));
    assert.match(body, /^sovereign_xfr_in_seconds_total\{zone="[^"]+"\} [\d.e-]+$/m);
    if (havePeers(t, 'promtool')) {
      const check = spawnSync(PEER_BINARIES.promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
      assert.equal(check.status, 0, check.stdout + check.stderr);
    }
    assert.match(named.output(), /sending notifies \(serial 101\)/);
    assert.deepEqual(await axfrLines(SOV, sPort, zone), await axfrLines(BIND, bPort, zone, key));

    // nsupdate signed with the key, sent to Sovereign: forwarded unchanged, BIND verifies and applies.
    const script = `server ${SOV} ${sPort}\nzone ${zone}\nupdate add fwd.${zone}. 300 IN A 192.0.2.77\nsend\n`;
    const upd = await runNsupdate(['-y', `hmac-sha256:${key.name}:${key.secret}`], script);
    assert.equal(upd.code, 0, `nsupdate: ${upd.stderr}`);
    const atBind = await tool('dig', [`@${BIND}`, '-p', String(bPort), `fwd.${zone}`, 'A', '+short']);
    assert.equal(atBind.stdout.trim(), '192.0.2.77');
    assert.ok(await waitForSerial(SOV, sPort, zone, 102), 'the update came back by NOTIFY/IXFR');
    const atSov = await tool('dig', [`@${SOV}`, '-p', String(sPort), `fwd.${zone}`, 'A', '+short']);
    assert.equal(atSov.stdout.trim(), '192.0.2.77');
    // Unsigned: BIND refuses it (allow-update is by key), and Sovereign relays the REFUSED.
    const unsigned = await runNsupdate([], script.replace('fwd.', 'fwd2.'));
    assert.notEqual(unsigned.code, 0);
    assert.match(unsigned.stdout + unsigned.stderr, /REFUSED/);
  });

  test('Knot primary (TSIG): AXFR, NOTIFY + IXFR', async (t) => {
    if (!havePeers(t, 'knotd', 'dig')) return;
    const zone = 'knot-src.example';
    const { key, keys } = keyPair('knot-xfr');
    const kPort = pickPort();
    const sPort = pickPort();
    mkdirSync(join(dir.path, 'knot'));
    const file = join(dir.path, 'knot', `${zone}.zone`);
    writeFileSync(file, zoneText(zone, 7));
    mkdirSync(join(dir.path, 'knot', 'db'));
    const knot = await startKnotXfr(join(dir.path, 'knot'), KNOT, kPort, [key],
      [{ name: zone, file, notify: { address: SOV, port: sPort } }], { zonefileLoad: 'difference' });
    peers.push(knot);
    assert.ok(await waitForSerial(KNOT, kPort, zone, 7), knot.output().slice(-2000));
    const sov = await serve(SOV, sPort, [{ name: zone, file: join(dir.path, `sov-${zone}.zone`), primaries: [`${KNOT}:${kPort} key ${key.name}`] }], keys);
    servers.push(sov);
    assert.ok(await waitForSerial(SOV, sPort, zone, 7), 'Sovereign transferred from Knot');
    assert.deepEqual(await axfrLines(SOV, sPort, zone), await axfrLines(KNOT, kPort, zone, key));
    writeFileSync(file, zoneText(zone, 8, 'added TXT "from knot"\n').replace('h9 A 10.10.0.9\n', ''));
    process.kill(knot.pid, 'SIGHUP');
    assert.ok(await waitForSerial(SOV, sPort, zone, 8), `the change reached Sovereign\n${knot.output().slice(-2000)}`);
    assert.equal(sov.zoneStatus()[0]!.secondary!.lastTransfer!.kind, 'ixfr');
    assert.ok(sov.secondaries.counters.notifyIn >= 1, 'by NOTIFY');
    assert.deepEqual(await axfrLines(SOV, sPort, zone), await axfrLines(KNOT, kPort, zone, key));
  });

  test('Sovereign primary -> Sovereign secondary -> BIND and NSD tertiaries', async (t) => {
    if (!havePeers(t, 'named', 'nsd', 'dig')) return;
    const zone = 'chain.example';
    const pPort = pickPort();
    const sPort = pickPort();
    const bPort = pickPort();
    const nPort = pickPort();
    const src = join(dir.path, 'chain-primary.zone');
    writeFileSync(src, zoneText(zone, 1));
    const primary = await serve(SOV2, pPort, [{ name: zone, file: src, notify: [`${SOV}:${sPort}`] }]);
    servers.push(primary);
    const secondary = await serve(SOV, sPort, [{
      name: zone, file: join(dir.path, 'chain-secondary.zone'), primaries: [`${SOV2}:${pPort}`],
      notify: [`${BIND}:${bPort}`, `${NSD}:${nPort}`],
    }]);
    servers.push(secondary);
    assert.ok(await waitForSerial(SOV, sPort, zone, 1));
    mkdirSync(join(dir.path, 'tb'));
    mkdirSync(join(dir.path, 'tn'));
    const named = await startNamedXfr(join(dir.path, 'tb'), BIND, bPort, [], [{ name: zone, file: join(dir.path, 'tb', 'copy.zone'), primary: { address: SOV, port: sPort } }]);
    peers.push(named);
    const nsd = await startNsdXfr(join(dir.path, 'tn'), NSD, nPort, [], [{ name: zone, file: join(dir.path, 'tn', 'copy.zone'), primary: { address: SOV, port: sPort } }]);
    peers.push(nsd);
    assert.ok(await waitForSerial(BIND, bPort, zone, 1), named.output().slice(-2000));
    assert.ok(await waitForSerial(NSD, nPort, zone, 1), nsd.output().slice(-2000));
    writeFileSync(src, zoneText(zone, 2, 'tertiary TXT "reached"\n'));
    await primary.reload();
    assert.ok(await waitForSerial(SOV, sPort, zone, 2));
    assert.ok(await waitForSerial(BIND, bPort, zone, 2), `BIND tertiary\n${named.output().slice(-3000)}`);
    assert.ok(await waitForSerial(NSD, nPort, zone, 2), `NSD tertiary\n${nsd.output().slice(-3000)}`);
    const source = await axfrLines(SOV2, pPort, zone);
    assert.deepEqual(await axfrLines(SOV, sPort, zone), source);
    assert.deepEqual(await axfrLines(BIND, bPort, zone), source);
    assert.deepEqual(await axfrLines(NSD, nPort, zone), source);
    // BIND asked Sovereign's secondary for IXFR and got the difference (from its journal).
    assert.match(named.output(), /from 127\.31\.10\.1#\d+: Transfer completed: 1 messages, [2-9] records, .*\(serial 2\)/);
  });
});

async function runNsupdate(args: string[], script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const p = spawn(PEER_BINARIES.nsupdate, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    p.stdin.end(script);
  });
}
