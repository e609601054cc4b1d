/**
 * `sovereign zone status|refresh|retransfer|notify` for a secondary zone of a real `sovereign
 * serve` with two workers, whose primary is a Sovereign server in this process: the lead worker
 * transfers and the other loads its copy (the merged status shows the lowest serial of the two,
 * so a new serial there means both serve it); `refresh` brings a change in without NOTIFY,
 * `retransfer` makes an AXFR whatever the serial; the status shows the secondary's timers and
 * last transfer; when the transferring worker dies, its replacement takes over; commands on a zone that is not a secondary, or not configured, exit 1.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ZoneStatusReport } from '../../src/cli/zone.js';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { addLoopbackAddress, pickPort, runTool, tempDir } from '../helpers/peers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const PRIMARY = '127.23.42.1';
const SECONDARY = '127.23.42.2';

const zoneText = (serial: number, extra = ''): string =>
  `$ORIGIN cli-sec.example.\n$TTL 300\n@ SOA ns1 host ${serial} 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n${extra}`;

test('workers 2: a secondary zone transferred by the lead, loaded by the other; zone refresh/retransfer/notify', async () => {
  const dir = tempDir();
  addLoopbackAddress(PRIMARY);
  addLoopbackAddress(SECONDARY);
  const src = join(dir.path, 'primary.zone');
  writeFileSync(src, zoneText(1));
  const pPort = pickPort();
  const primary = new DnsServer({
    config: defaultConfig({ listen: [`${PRIMARY}:${pPort}`], workers: 1, zones: [{ name: 'cli-sec.example', file: src }], control: { enabled: false } }),
    logger: silentLogger,
  });
  await primary.loadZones();
  await primary.start();
  const own = join(dir.path, 'own.zone');
  writeFileSync(own, zoneText(1).replaceAll('cli-sec.example', 'own.example'));
  const cfg = join(dir.path, 'sovereign.yaml');
  writeFileSync(cfg, `listen: ["${SECONDARY}:${pickPort()}"]\nworkers: 2\n` +
    `zones:\n  - { name: cli-sec.example, file: ${join(dir.path, 'copy.zone')}, primaries: ["${PRIMARY}:${pPort}"] }\n` +
    `  - { name: own.example, file: ${own} }\n` +
    `control: { listen: "${SECONDARY}:${pickPort()}", tokenFile: ${join(dir.path, 'token')} }\nlog: { level: error }\n`);
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const zone = (...args: string[]): ReturnType<typeof runTool> => runTool(process.execPath, [BIN, 'zone', ...args, '--config', cfg]);
  const status = (): ZoneStatusReport['zones'][number] | undefined => {
    const r = zone('status', 'cli-sec.example', '--json');
    return r.status === 0 ? (JSON.parse(r.stdout) as ZoneStatusReport).zones[0] : undefined;
  };
  const until = async (what: string, check: () => boolean): Promise<void> => {
    for (let i = 0; i < 600; i++) {
      if (check()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`timed out waiting for ${what} (serve stderr: ${err})`);
  };
  try {
    await until('both workers serve serial 1', () => status()?.serial === 1 && status()?.loaded === true);
    let st = status()!;
    assert.equal(st.secondary!.transfers, true, 'the lead worker\'s machine is the one shown');
    assert.equal(st.secondary!.lastTransfer!.kind, 'axfr');
    const text = zone('status', 'cli-sec.example');
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^type: secondary\nprimaries: 127\.23\.42\.1#\d+\nlast refresh: \d{4}-.*\nnext refresh: \d{4}-.*\nexpires: \d{4}-.*\nlast result: AXFR of serial 1 from /m);

    // A change at the primary, no NOTIFY configured: `zone refresh` brings it in.
    writeFileSync(src, zoneText(2, 'www A 192.0.2.80\n'));
    await primary.reload();
    const r = zone('refresh', 'cli-sec.example');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'cli-sec.example.: zone refresh queued\n');
    await until('both workers serve serial 2', () => status()?.serial === 2);
    st = status()!;
    assert.equal(st.secondary!.lastTransfer!.kind, 'ixfr');

    // retransfer: AXFR even though the serial is the same.
    const before = st.secondary!.transfersIn;
    const rt = zone('retransfer', 'cli-sec.example');
    assert.equal(rt.status, 0, rt.stderr);
    await until('an AXFR', () => (status()?.secondary?.transfersIn ?? 0) > before);
    assert.equal(status()!.secondary!.lastTransfer!.kind, 'axfr');
    assert.equal(status()!.serial, 2);

    // The transferring worker dies: its replacement takes the transfers over.
    const workers = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === child.pid;
      } catch {
        return false;
      }
    }).map(Number).sort((a, b) => a - b);
    assert.equal(workers.length, 2, 'two workers');
    process.kill(workers[0]!, 'SIGKILL');
    writeFileSync(src, zoneText(3, 'www A 192.0.2.80\nmail A 192.0.2.25\n'));
    await primary.reload();
    await until('the replacement refreshes on command', () => {
      zone('refresh', 'cli-sec.example');
      return status()?.serial === 3 && status()?.loaded === true;
    });
    assert.equal(status()!.secondary!.transfers, true);

    const n = zone('notify', 'cli-sec.example', '--json');
    assert.equal(n.status, 0, n.stderr);
    assert.equal((JSON.parse(n.stdout) as { queued: boolean }).queued, true);
    const notSecondary = zone('refresh', 'own.example');
    assert.equal(notSecondary.status, 1);
    assert.match(notSecondary.stderr, /not a secondary zone/);
    const unknown = zone('retransfer', 'nowhere.example');
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /no zone "nowhere\.example" is configured/);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await primary.stop();
    dir.cleanup();
  }
});
