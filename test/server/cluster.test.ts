/**
 * `sovereign serve` with several workers: SIGTERM/SIGINT to the primary stops every worker and
 * the primary itself; a primary killed outright takes its workers with it (they see the IPC
 * channel close).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Message, RRType } from '../../src/index.js';
import { pickPort, tempDir } from '../helpers/peers.js';
import { ZONE, udpQuery } from './net-helpers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const ADDRESS = '127.23.9.1';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** PIDs of the processes whose parent is `pid` (the cluster workers). */
async function childrenOf(pid: number): Promise<number[]> {
  const { readFileSync } = await import('node:fs');
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

async function startCluster(dir: string, port: number): Promise<{ child: ChildProcess; workers: number[] }> {
  const file = join(dir, 'example.com.zone');
  writeFileSync(file, ZONE);
  const child = spawn(process.execPath, [BIN, 'serve', '--workers', '2', '--listen', `${ADDRESS}:${port}`,
    '--zone', `example.com=${file}`, '--log-level', 'warn'], { stdio: 'ignore' });
  // Ready when both workers answer (the kernel spreads queries, so ask until two PIDs exist and a reply comes).
  let answered = false;
  for (let i = 0; i < 100 && !answered; i++) {
    try {
      const r = await udpQuery(ADDRESS, port, Message.query('www.example.com.', RRType.A));
      answered = r.answer.length > 0;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  assert.ok(answered, 'cluster never answered');
  await waitFor(() => false, 300);
  return { child, workers: await childrenOf(child.pid!) };
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} to the primary stops every worker and the primary`, async () => {
    const dir = tempDir();
    const { child, workers } = await startCluster(dir.path, pickPort());
    try {
      assert.equal(workers.length, 2, 'two workers forked');
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill(signal);
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
      assert.notEqual(code, 'hung', 'primary did not exit');
      assert.ok(await waitFor(() => workers.every((w) => !alive(w)), 5000), 'a worker outlived the primary');
    } finally {
      child.kill('SIGKILL');
      for (const w of workers) if (alive(w)) process.kill(w, 'SIGKILL');
      dir.cleanup();
    }
  });
}

test('workers stop when the primary is killed outright', async () => {
  const dir = tempDir();
  const { child, workers } = await startCluster(dir.path, pickPort());
  try {
    assert.equal(workers.length, 2);
    child.kill('SIGKILL');
    assert.ok(await waitFor(() => workers.every((w) => !alive(w)), 10_000), 'orphaned workers kept running');
  } finally {
    for (const w of workers) if (alive(w)) process.kill(w, 'SIGKILL');
    dir.cleanup();
  }
});

test('a replacement worker serves the zone version its siblings serve (after a rejected reload); restarts back off', async () => {
  const { readFileSync } = await import('node:fs');
  const dir = tempDir();
  const port = pickPort();
  const file = join(dir.path, 'example.com.zone');
  writeFileSync(file, ZONE);
  const child = spawn(process.execPath, [BIN, 'serve', '--workers', '2', '--listen', `${ADDRESS}:${port}`,
    '--zone', `example.com=${file}`, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, STATE_DIRECTORY: dir.path } });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const all: number[] = [];
  try {
    let up = false;
    for (let i = 0; i < 150 && !up; i++) {
      up = await udpQuery(ADDRESS, port, Message.query('one.example.com.', RRType.A)).then((r) => r.answer.length === 1, () => false);
    }
    assert.ok(up, `cluster never answered: ${err}`);
    assert.ok(await waitFor(() => false, 300) === false);
    // The file breaks; the reload is rejected and both workers keep the old version.
    writeFileSync(file, readFileSync(file, 'utf8').replace('one  A   192.0.2.20', 'one  A   192.0.2.300'));
    child.kill('SIGHUP');
    assert.ok(await waitFor(() => /reload|rejected/.test(err), 10_000), `reload not reported: ${err}`);
    const restarts: number[] = [];
    for (let round = 0; round < 2; round++) {
      const before = await childrenOf(child.pid!);
      all.push(...before);
      process.kill(before[0]!, 'SIGKILL');
      assert.ok(await waitFor(() => {
        const m = [...err.matchAll(/"restartInMs":(\d+)/g)];
        return m.length > round;
      }, 10_000), `no restart logged: ${err}`);
      let now: number[] = [];
      assert.ok(await waitFor(() => false, 50) === false);
      for (let i = 0; i < 100; i++) {
        now = await childrenOf(child.pid!);
        if (now.length === 2 && !now.includes(before[0]!)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(now.length, 2, 'a replacement was started');
      all.push(...now);
      restarts.push(...[...err.matchAll(/"restartInMs":(\d+)/g)].map((m) => Number(m[1])).slice(round, round + 1));
      // Wait until the replacement took the zone from its sibling (it listens right after), then ask both workers many times.
      assert.ok(await waitFor(() => [...err.matchAll(/serving the version the other workers serve/g)].length > round, 20_000),
        `replacement ${round} did not take the zone over: ${err}`);
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 40; i++) {
        const r = await udpQuery(ADDRESS, port, Message.query('one.example.com.', RRType.A, { id: i }));
        assert.equal(r.rcode, 0, `query ${i} after restart ${round}: rcode ${r.rcode} (${err})`);
        assert.equal((r.answer[0]!.data as { address: string }).address, '192.0.2.20');
      }
    }
    // Back-off: each death in a row doubles the delay.
    assert.deepEqual(restarts, [500, 1000]);
  } finally {
    child.kill('SIGKILL');
    for (const w of all) if (alive(w)) process.kill(w, 'SIGKILL');
    dir.cleanup();
  }
});
