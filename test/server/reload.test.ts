/**
 * Reload: the new zone replaces the old atomically (answer cache included); a zone that fails its
 * checks is rejected with the reason logged while the old one keeps serving. In-process, and through
 * the CLI (`sovereign serve` + `sovereign reload` / SIGHUP, one worker and a cluster of two).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Logger } from '../../src/logging.js';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { pickPort, tempDir, waitForDns } from '../helpers/peers.js';
import { ZONE, startServer, udpQuery } from './net-helpers.js';

const ADDRESS = '127.23.6.1';
const BIN = join(process.cwd(), 'bin', 'sovereign.js');

function zoneWith(serial: number, address: string): string {
  return ZONE.replace(' 1 7200 ', ` ${serial} 7200 `).replace('one  A   192.0.2.20', `one  A   ${address}`);
}

async function oneAddress(port: number, id = 1): Promise<string> {
  const r = await udpQuery(ADDRESS, port, Message.query('one.example.com.', RRType.A, { id }));
  return String((r.answer[0]?.data as { address: string } | undefined)?.address);
}

function capture(): { logger: Logger; lines: { level: string; obj: unknown; msg?: string }[] } {
  const lines: { level: string; obj: unknown; msg?: string }[] = [];
  const at = (level: string) => (obj: object | string, msg?: string): void => {
    lines.push(msg === undefined ? { level, obj } : { level, obj, msg });
  };
  return { logger: { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

test('reload in process: new data atomically, a broken zone rejected and logged, the old one kept', async () => {
  const log = capture();
  const srv = await startServer(ADDRESS, {}, log.logger);
  try {
    assert.equal(await oneAddress(srv.port), '192.0.2.20');
    assert.equal(await oneAddress(srv.port), '192.0.2.20'); // now from the answer cache
    writeFileSync(srv.zoneFile, zoneWith(2, '192.0.2.21'));
    const ok = await srv.server.reload();
    assert.equal(ok[0]!.ok, true);
    assert.equal(ok[0]!.serial, 2);
    assert.equal(await oneAddress(srv.port), '192.0.2.21');

    writeFileSync(srv.zoneFile, '$ORIGIN example.com.\n@ SOA ns1 hostmaster 3 1 1 1 1\nbad A not-an-address\n');
    const bad = await srv.server.reload();
    assert.equal(bad[0]!.ok, false);
    assert.ok(bad[0]!.problems.length > 0);
    assert.ok(log.lines.some((l) => l.level === 'error' && /rejected/.test(l.msg ?? '')), 'rejection logged');
    assert.equal(await oneAddress(srv.port), '192.0.2.21');
    assert.equal(srv.server.zones()[0]!.serial, 2);
  } finally {
    await srv.stop();
  }
});

/** Runs `sovereign serve` as a child; resolves once it answers. */
async function serve(dir: string, port: number, workers: number): Promise<{ pidFile: string; stderr(): string; stop(): Promise<void> }> {
  const zoneFile = join(dir, 'example.com.zone');
  const pidFile = join(dir, 'sovereign.pid');
  const child = spawn(process.execPath, [BIN, 'serve', '--listen', `${ADDRESS}:${port}`, '--zone', `example.com=${zoneFile}`,
    '--workers', String(workers), '--pid-file', pidFile, '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  assert.equal(await waitForDns(ADDRESS, port, 'example.com', 15_000), true, err);
  // A cluster's primary writes the pid file before its workers listen; wait for it and for every worker.
  for (let i = 0; i < 100 && (!existsSync(pidFile) || (workers > 1 && !err.includes('all workers ready'))); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pidFile,
    stderr: () => err,
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Polls `f` until true (a lost datagram on a loaded machine just means another try). */
async function until(f: () => Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await f().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

for (const workers of [1, 2]) {
  test(`sovereign reload (${workers} worker${workers > 1 ? 's' : ''}): new zone served, broken zone rejected`, async () => {
    const dir = tempDir('sovereign-reload-');
    const port = pickPort();
    writeFileSync(join(dir.path, 'example.com.zone'), zoneWith(1, '192.0.2.20'));
    const s = await serve(dir.path, port, workers);
    try {
      assert.equal(await oneAddress(port), '192.0.2.20');
      writeFileSync(join(dir.path, 'example.com.zone'), zoneWith(2, '192.0.2.22'));
      const r = spawnSync(process.execPath, [BIN, 'reload', '--pid-file', s.pidFile], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      // Every worker must have reloaded: ask many times (the kernel spreads queries over workers).
      assert.ok(await until(async () => {
        for (let i = 0; i < 10; i++) if ((await oneAddress(port, i)) !== '192.0.2.22') return false;
        return true;
      }), `not reloaded:\n${s.stderr()}`);

      writeFileSync(join(dir.path, 'example.com.zone'), 'this is not a zone file\n');
      process.kill(Number(readFileSync(s.pidFile, 'utf8')), 'SIGHUP');
      assert.ok(await until(async () => (s.stderr().match(/rejected/g) ?? []).length >= workers), s.stderr());
      assert.ok(await until(async () => {
        for (let i = 0; i < 10; i++) if ((await oneAddress(port, i)) !== '192.0.2.22') return false;
        return true;
      }), 'the old zone keeps serving');
    } finally {
      await s.stop();
      dir.cleanup();
    }
  });
}

test('reload applies udp.maxSize and the TCP limits, and says when listen needs a restart', async () => {
  const dir = tempDir();
  const log = capture();
  const zone = join(dir.path, 'example.com.zone');
  // Ten 100-octet TXT records: about 1,100 octets, within 1232, beyond 512.
  writeFileSync(zone, ZONE + Array.from({ length: 10 }, (_, i) => `big TXT "${String(i).padStart(100, 'x')}"\n`).join(''));
  const cfgFile = join(dir.path, 'sovereign.yaml');
  const write = (maxSize: number, listen: string, perClient: number): void => writeFileSync(cfgFile,
    `listen: ["${listen}"]\nworkers: 1\nzones: [{ name: example.com, file: ${zone} }]\nudp: { maxSize: ${maxSize} }\n` +
    `tcp: { maxConnectionsPerClient: ${perClient} }\ncontrol: { enabled: false }\n`);
  write(1232, `${ADDRESS}:0`, 50);
  const { loadConfigFile } = await import('../../src/config/load.js');
  const { DnsServer } = await import('../../src/server/server.js');
  const server = new DnsServer({ config: loadConfigFile(cfgFile), logger: log.logger, configPath: cfgFile });
  await server.loadZones();
  await server.start();
  const port = server.addresses[0]!.port;
  const big = (id: number): Promise<Message> => udpQuery(ADDRESS, port, Message.query('big.example.com.', RRType.TXT, {
    id, edns: { version: 0, udpSize: 4096, dnssecOk: false, zFlags: 0, options: [] },
  }));
  try {
    const before = await big(1);
    assert.equal(before.tc, false);
    assert.equal(before.answer.length, 10);
    write(512, `${ADDRESS}:${port + 1}`, 2);
    await server.reload();
    const after = await big(2);
    assert.equal(after.tc, true, 'the new udp.maxSize applies');
    assert.equal(after.answer.length, 0);
    const warned = log.lines.find((l) => l.level === 'warn' && /listen changed/.test(l.msg ?? ''));
    assert.ok(warned !== undefined, 'a changed listen is reported, not silently ignored');
    assert.deepEqual(server.addresses.map((a) => a.port), [port, port], 'still on the old addresses');
    // The new per-client limit: of four connections, two are refused.
    const { TcpClient } = await import('./net-helpers.js');
    const conns = [];
    for (let i = 0; i < 4; i++) conns.push(await TcpClient.connect(ADDRESS, port));
    await Promise.all(conns.slice(2).map((c) => c.waitClosed(3000)));
    assert.deepEqual(conns.map((c) => c.closed), [false, false, true, true]);
    for (const c of conns) c.close();
  } finally {
    await server.stop();
    dir.cleanup();
  }
});
