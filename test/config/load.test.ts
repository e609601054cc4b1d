import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultConfig, loadConfigFile, parseListen, validateConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

test('defaults: loopback port 5300, UDP 1232, workers auto', () => {
  const c = defaultConfig();
  assert.deepEqual(c.listen, ['127.0.0.1:5300', '[::1]:5300']);
  assert.equal(c.udp.maxSize, 1232);
  assert.equal(c.workers, 'auto');
  assert.equal(c.tcp.idleTimeoutMs, 10_000);
});

test('relative zone files resolve against the config file directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sov-config-'));
  const f = join(dir, 'sovereign.yaml');
  writeFileSync(f, 'listen: ["127.0.0.1:5301"]\nzones:\n  - name: example.com\n    file: zones/example.com.zone\n');
  const c = loadConfigFile(f);
  assert.equal(c.zones[0]!.file, join(dir, 'zones/example.com.zone'));
});

const bad: [string, unknown, RegExp, RegExp][] = [
  ['unknown top-level key', { lisen: [] }, /lisen/, /fix:/],
  ['wrong type names the key path', { udp: { maxSize: 100 } }, /udp\.maxSize/, /512 to 65535/],
  ['bad listen address', { listen: ['localhost:53'] }, /listen\[0\]/, /address:port/],
  ['zone without file', { zones: [{ name: 'example.com' }] }, /zones\[0\]\.file/, /file:/],
  ['bad log level', { log: { level: 'loud' } }, /log\.level/, /one of trace/],
];
for (const [title, input, key, fix] of bad) {
  test(`bad config: ${title}`, () => {
    assert.throws(() => validateConfig(input, '/'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, key);
      assert.match(err.message, fix);
      return true;
    });
  });
}

test('YAML syntax errors carry the line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sov-config-'));
  const f = join(dir, 'bad.yaml');
  writeFileSync(f, 'listen:\n  - "127.0.0.1:53"\n zones: [\n');
  assert.throws(() => loadConfigFile(f), (err: unknown) => err instanceof ConfigError && /bad\.yaml:\d+:\d+/.test(err.message));
});

test('listen addresses', () => {
  assert.deepEqual(parseListen('127.0.0.1:5300'), { address: '127.0.0.1', port: 5300, family: 4 });
  assert.deepEqual(parseListen('[::1]:53'), { address: '::1', port: 53, family: 6 });
  assert.deepEqual(parseListen('::1'), { address: '::1', port: 53, family: 6 });
  assert.deepEqual(parseListen('10.0.0.1'), { address: '10.0.0.1', port: 53, family: 4 });
  assert.throws(() => parseListen('127.0.0.1:99999'));
});
