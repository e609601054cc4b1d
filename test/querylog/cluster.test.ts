/**
 * With two workers each keeps its own ring: `GET /v1/querylog` on the primary's control endpoint
 * merges them (newest first, totals summed), so every query shows up whichever worker took it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { controlJson } from '../../src/control/client.js';
import { Message, RRType } from '../../src/index.js';
import type { QueryLogResult } from '../../src/querylog/entry.js';
import { pickPort, tempDir } from '../helpers/peers.js';
import { udpQuery } from '../server/net-helpers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const ADDR = '127.61.0.4';

const dir = tempDir('sovereign-querylog-cluster-');
let child: ChildProcess | undefined;
after(() => {
  if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
  dir.cleanup();
});

test('two workers: the control endpoint merges both rings', async () => {
  writeFileSync(join(dir.path, 'example.zone'), '$ORIGIN example.\n$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.53\n');
  writeFileSync(join(dir.path, 'token'), 'querylog-cluster-token-0123456789\n', { mode: 0o600 });
  const port = pickPort();
  const cport = pickPort();
  writeFileSync(join(dir.path, 'c.yaml'), JSON.stringify({
    listen: [`${ADDR}:${port}`], workers: 2, zones: [{ name: 'example', file: join(dir.path, 'example.zone') }],
    control: { listen: `${ADDR}:${cport}`, tokenFile: join(dir.path, 'token') }, queryLog: { enabled: true, ring: 1000 },
  }));
  child = spawn(process.execPath, [BIN, 'serve', '--config', join(dir.path, 'c.yaml'), '--log-level', 'warn'], { stdio: 'ignore' });
  const target = { address: ADDR, port: cport, token: 'querylog-cluster-token-0123456789' };
  // Ready when both workers answer the control request (it fans out to every worker).
  let ready = false;
  for (let i = 0; i < 150 && !ready; i++) {
    try {
      const s = await controlJson<{ processes: number }>(target, 'GET', '/v1/stats');
      ready = s.data.processes === 2;
    } catch { /* not up yet */ }
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(ready, 'two workers up');
  const names: string[] = [];
  for (let i = 0; i < 30; i++) {
    names.push(`q${i}.example.`);
    const r = await udpQuery(ADDR, port, Message.query(`q${i}.example.`, RRType.A));
    assert.equal(r.rcode, 3);
  }
  const all = (await controlJson<QueryLogResult>(target, 'GET', '/v1/querylog?name=example&limit=1000')).data;
  assert.equal(all.total, 30);
  assert.deepEqual(all.entries.map((e) => e.name).sort(), [...names].sort());
  for (let i = 1; i < all.entries.length; i++) assert.ok(all.entries[i - 1]!.time >= all.entries[i]!.time, 'newest first');
  const stats = (await controlJson<{ queries: { udp: number } }>(target, 'GET', '/v1/stats')).data;
  assert.ok(stats.queries.udp >= 30);
  const limited = (await controlJson<QueryLogResult>(target, 'GET', '/v1/querylog?name=example&limit=5')).data;
  assert.deepEqual([limited.entries.length, limited.total], [5, 30]);
  assert.deepEqual(limited.entries, all.entries.slice(0, 5));
  child.kill('SIGTERM');
  await new Promise((r) => child!.once('exit', r));
});
