/**
 * Issue 11 bug 4: reload used to ignore `listen`, `udp.maxSize` and the `tcp` limits without a word.
 * They need new sockets, so they wait for a restart: reload now says which ones.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfigFile, restartOnlyChanges, validateConfig } from '../../src/config/load.js';
import type { Logger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { tempDir } from '../helpers/peers.js';

test('restartOnlyChanges names the socket, process and logging settings that changed', () => {
  const a = validateConfig({ listen: '127.0.0.1:5300' }, '/');
  assert.deepEqual(restartOnlyChanges(a, validateConfig({ listen: '127.0.0.1:5300' }, '/')), []);
  const b = validateConfig({ listen: '127.0.0.1:5301', udp: { maxSize: 4096 }, tcp: { maxPipelined: 2 }, rotate: false }, '/');
  assert.deepEqual(restartOnlyChanges(a, b), ['listen', 'udp.maxSize', 'tcp']);
});

test('reload applies what it can and warns about what waits for a restart', async () => {
  const dir = tempDir('sov-reload-restart-');
  const warnings: { obj: unknown; msg: string | undefined }[] = [];
  const noop = (): void => {};
  const logger: Logger = { trace: noop, debug: noop, info: noop, error: noop, warn: (obj, msg) => { warnings.push({ obj, msg }); } };
  const f = join(dir.path, 'sovereign.yaml');
  writeFileSync(f, 'listen: "127.26.11.1:0"\nworkers: 1\ncontrol: { enabled: false }\n');
  const server = new DnsServer({ config: loadConfigFile(f), logger, configPath: f });
  try {
    await server.loadZones();
    await server.start();
    await server.reload();
    assert.equal(warnings.length, 0);
    writeFileSync(f, 'listen: "127.26.11.1:0"\nworkers: 1\ncontrol: { enabled: false }\nudp: { maxSize: 4096 }\ntcp: { idleTimeoutMs: 30s }\n');
    await server.reload();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.msg ?? '', /take effect at the next restart/);
    assert.deepEqual((warnings[0]!.obj as { keys: string[] }).keys, ['udp.maxSize', 'tcp']);
  } finally {
    await server.stop();
    dir.cleanup();
  }
});
