/**
 * `sovereign dnssec status ZONE` and `sovereign dnssec checkds ZONE published|withdrawn` against
 * a running `sovereign serve` (one and two workers) through its control endpoint: the zone's key
 * with its role, state and timing as the key files say, the parent's DS marked seen by checkds
 * (every worker re-reads the shared key directory), and a zone not signed here is an error.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ControlResults } from '../../src/control/backend.js';
import { pickPort, runTool, tempDir } from '../helpers/peers.js';
import { ZONE } from '../server/net-helpers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const ADDRESS = '127.23.42.1';

const dnssec = (cfg: string, ...args: string[]): ReturnType<typeof runTool> => runTool(process.execPath, [BIN, 'dnssec', ...args, '--config', cfg]);

for (const workers of [1, 2]) {
  test(`workers ${workers}: dnssec status shows the CSK; checkds marks its DS published`, async () => {
    const dir = tempDir();
    const file = join(dir.path, 'example.com.zone');
    writeFileSync(file, ZONE);
    const keyDir = join(dir.path, 'keys');
    const cfg = join(dir.path, 'sovereign.yaml');
    writeFileSync(cfg, `listen: ["${ADDRESS}:${pickPort()}"]\nworkers: ${workers}\n` +
      `zones: [{ name: example.com, file: ${file}, dnssec: { policy: default, keyDir: ${keyDir}, cskLifetime: 365d, dnskeyTtl: 300 } }, { name: plain.example, file: ${file} }]\n` +
      `control: { listen: "${ADDRESS}:${pickPort()}", tokenFile: ${join(dir.path, 'token')} }\nlog: { level: error }\n`);
    const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    try {
      let st: ControlResults['dnssec'] | undefined;
      for (let i = 0; i < 600 && st === undefined; i++) {
        const r = dnssec(cfg, 'status', 'example.com', '--json');
        if (r.status === 0) st = JSON.parse(r.stdout) as ControlResults['dnssec'];
        else await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(st !== undefined, `dnssec status never answered (serve stderr: ${err})`);
      assert.equal(st.zone, 'example.com.');
      assert.equal(st.keys.length, 1, 'one CSK, made once for all workers');
      const k = st.keys[0]!;
      const tag = String(k.tag).padStart(5, '0');
      assert.ok(readdirSync(keyDir).includes(`Kexample.com.+013+${tag}.state`));
      assert.equal(k.role, 'csk');
      assert.equal(k.state, 'active');
      assert.equal(k.ds, 'unknown');
      assert.equal(k.lifetime, 365 * 86400);
      assert.deepEqual(k.next?.event, 'publish CDS');
      assert.equal(k.next?.at, k.timing.Publish! + 300 + 300 + 3600, 'CDS after Ipub = propagation + DNSKEY TTL + publish safety');

      const text = dnssec(cfg, 'status', 'example.com');
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, /^zone: example\.com\.$/m);
      assert.match(text.stdout, new RegExp(`^key ${k.tag} \\(ECDSAP256SHA256\\) CSK, active$`, 'm'));
      assert.match(text.stdout, /^ {2}parent DS: {3}not seen$/m);
      assert.match(text.stdout, /^ {2}lifetime: {4}365d$/m);

      const seen = dnssec(cfg, 'checkds', 'example.com', 'published', '--key', String(k.tag));
      assert.equal(seen.status, 0, seen.stderr);
      assert.match(seen.stdout, /^ {2}parent DS: {3}published$/m);
      const after = JSON.parse(dnssec(cfg, 'status', 'example.com', '--json').stdout) as ControlResults['dnssec'];
      assert.equal(after.keys[0]!.ds, 'published');

      const wrong = dnssec(cfg, 'checkds', 'example.com', 'published', '--key', String((k.tag + 1) % 65536));
      assert.equal(wrong.status, 1);
      assert.match(wrong.stderr, /no KSK or CSK with tag/);
      const unsigned = dnssec(cfg, 'status', 'plain.example');
      assert.equal(unsigned.status, 1);
      assert.match(unsigned.stderr, /plain\.example\. is not signed by this server/);
      const usage = dnssec(cfg, 'checkds', 'example.com', 'maybe');
      assert.equal(usage.status, 2);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      dir.cleanup();
    }
  });
}
