/**
 * The dashboard's API with two workers: the primary fans each operation out over IPC and merges
 * the answers. A record added through the API is applied once (by the worker owning the journals)
 * and answered by every worker; top names sum both workers' samples; the series sums both.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { pickPort, tempDir } from '../helpers/peers.js';

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'sovereign.js');

test('two workers: zones, record edits, top and series through the primary', async () => {
  const dir = tempDir('sov-api-cluster-');
  const address = '127.26.8.9';
  const port = pickPort();
  const cport = pickPort();
  const zone = join(dir.path, 'dyn.example.zone');
  writeFileSync(zone, '$TTL 300\n@ SOA ns.invalid. h.invalid. 1 3600 600 86400 60\n@ NS ns.invalid.\n');
  const config = join(dir.path, 'sovereign.yaml');
  writeFileSync(config, `listen: ["${address}:${port}"]\nworkers: 2\nzones: [{ name: dyn.example, file: ${zone}, allowUpdate: ["127.0.0.1"], journalFsync: false }]\n` +
    `control: { listen: "${address}:${cport}", tokenFile: "${join(dir.path, 'token')}" }\nlog: { level: warn }\n`);
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const base = `http://${address}:${cport}`;
  try {
    let token = '';
    let stats: { processes?: number } = {};
    for (let i = 0; i < 300 && stats.processes !== 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        token = (await import('node:fs')).readFileSync(join(dir.path, 'token'), 'utf8').trim();
        stats = await fetch(`${base}/v1/stats`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<typeof stats>);
      } catch { /* not up yet */ }
    }
    assert.equal(stats.processes, 2, `both workers report: ${err}`);
    const auth = { authorization: `Bearer ${token}` };
    const zones = await fetch(`${base}/v1/zones`, { headers: auth }).then((r) => r.json()) as { zones: { name: string; kind: string; editable: boolean }[] };
    assert.deepEqual(zones.zones.map((z) => `${z.name} ${z.kind} ${z.editable}`), ['dyn.example. dynamic true']);
    const add = await fetch(`${base}/v1/zones/dyn.example/records`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'w', type: 'A', data: '192.0.2.5' }),
    });
    assert.equal(add.status, 200);
    assert.deepEqual(await add.json(), { zone: 'dyn.example.', applied: true, rcode: 'NOERROR', serial: 2, changed: true });
    // Every worker answers the new record (queries from many source ports spread over both).
    for (let i = 0; i < 32; i++) {
      const r = await exchange(Message.query('w.dyn.example.', RRType.A), { address, port }, { timeoutMs: 3000, tries: 2 });
      assert.deepEqual(r.message.answer.map((rr) => (rr.data as { address: string }).address), ['192.0.2.5']);
    }
    const recs = await fetch(`${base}/v1/zones/dyn.example/records?name=w`, { headers: auth }).then((r) => r.json()) as { serial: number; records: unknown[] };
    assert.equal(recs.serial, 2);
    assert.equal(recs.records.length, 1);
    const top = await fetch(`${base}/v1/top`, { headers: auth }).then((r) => r.json()) as { names: { key: string; count: number }[] };
    // One query in 16 is sampled per worker: 32 queries over two workers give one or two samples
    // (how the kernel spreads them decides), each standing for 16 queries.
    assert.equal(top.names.length, 1);
    assert.equal(top.names[0]!.key, 'w.dyn.example.');
    assert.ok(top.names[0]!.count === 16 || top.names[0]!.count === 32, String(top.names[0]!.count));
    const series = await fetch(`${base}/v1/stats/series?window=hour`, { headers: auth });
    assert.equal(series.status, 200);
    const cfg = await fetch(`${base}/v1/config`, { headers: auth }).then((r) => r.json()) as { config: { workers: number } };
    assert.equal(cfg.config.workers, 2);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    dir.cleanup();
  }
});
