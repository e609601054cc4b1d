/**
 * `sovereign zone status [NAME]` against a real `sovereign serve` (one process and two workers)
 * with one good and one broken zone: the good one loaded with its serial, the broken one not
 * loaded with its load error and one failed load, as `rndc zonestatus` would tell an operator;
 * `--json` gives the same figures; NAME narrows to one zone; an unknown NAME exits 1.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ZoneStatusReport } from '../../src/cli/zone.js';
import { pickPort, runTool, tempDir } from '../helpers/peers.js';
import { ZONE } from '../server/net-helpers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const ADDRESS = '127.23.41.1';

const BROKEN = `$ORIGIN broken.example.
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.300
`;

const zone = (cfg: string, ...args: string[]): ReturnType<typeof runTool> =>
  runTool(process.execPath, [BIN, 'zone', 'status', ...args, '--config', cfg]);

for (const workers of [1, 2]) {
  test(`workers ${workers}: zone status shows the good zone loaded with its serial and the broken one with its error`, async () => {
    const dir = tempDir();
    const good = join(dir.path, 'example.com.zone');
    const broken = join(dir.path, 'broken.zone');
    writeFileSync(good, ZONE);
    writeFileSync(broken, BROKEN);
    const cfg = join(dir.path, 'sovereign.yaml');
    writeFileSync(cfg, `listen: ["${ADDRESS}:${pickPort()}"]\nworkers: ${workers}\n` +
      `zones: [{ name: example.com, file: ${good} }, { name: broken.example, file: ${broken} }]\n` +
      `control: { listen: "${ADDRESS}:${pickPort()}", tokenFile: ${join(dir.path, 'token')} }\nlog: { level: error }\n`);
    const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    try {
      // Wait until the control endpoint answers with both zones from every worker (start-up takes
      // as long as it takes on a loaded machine; nothing here asserts a time).
      let report: ZoneStatusReport | undefined;
      for (let i = 0; i < 600 && report === undefined; i++) {
        const r = zone(cfg, '--json');
        if (r.status === 0) {
          const got = JSON.parse(r.stdout) as ZoneStatusReport;
          if (got.zones.length === 2 && got.zones.every((z) => z.loaded || z.loadFailures > 0)) report = got;
        }
        if (report === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(report !== undefined, `zone status never answered (serve stderr: ${err})`);
      const byName = new Map(report.zones.map((z) => [z.name, z]));
      assert.deepEqual(byName.get('example.com.'), { name: 'example.com.', loaded: true, serial: 1, loadFailures: 0, error: null });
      const b = byName.get('broken.example.')!;
      assert.equal(b.loaded, false);
      assert.equal(b.serial, null);
      assert.equal(b.loadFailures, 1);
      assert.match(b.error ?? '', /192\.0\.2\.300/);
      assert.ok(report.transfers !== null, 'transfer figures are included');
      assert.equal(report.transfers.xfrOut, 0);

      const text = zone(cfg);
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, /^name: example\.com\.\nloaded: yes\nserial: 1\nload failures: 0\n\n/m);
      assert.match(text.stdout, /^name: broken\.example\.\nloaded: no \(answered SERVFAIL\)\nserial: -\nload failures: 1\nlast load error: .*192\.0\.2\.300/m);
      assert.match(text.stdout, /^transfers \(all zones\):\n {2}xfr-out: 0 \(refused 0, 0 messages, 0 ms\)$/m);

      // NAME narrows to one zone, in any case and with or without the final dot
      const one = zone(cfg, 'BROKEN.example');
      assert.equal(one.status, 0, one.stderr);
      assert.match(one.stdout, /^name: broken\.example\.$/m);
      assert.doesNotMatch(one.stdout, /example\.com/);
      const none = zone(cfg, 'nowhere.example.');
      assert.equal(none.status, 1);
      assert.equal(none.stderr, 'sovereign zone: no zone "nowhere.example." is configured\n');
    } finally {
      child.kill('SIGKILL');
      dir.cleanup();
    }
  });
}

test('zone: a missing or unknown action is a usage error (exit 2)', () => {
  for (const args of [[], ['frob'], ['status', 'a.example', 'b.example']]) {
    const r = runTool(process.execPath, [BIN, 'zone', ...args]);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /^sovereign zone: (missing action|unknown action "frob"|unexpected argument "b\.example")/);
  }
});
