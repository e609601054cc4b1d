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

test('zones[].checks: names and glue per zone (defaults: names fail, glue error); a bad mode names the key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sov-config-'));
  const head = '$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n';
  writeFileSync(join(dir, 'glue.zone'), `${head}sub NS ns.sub\n`);
  writeFileSync(join(dir, 'names.zone'), `${head}bad_name A 192.0.2.2\n`);
  const zones = (checks?: unknown): unknown[] => [
    { name: 'glue.example', file: 'glue.zone', ...(checks ? { checks } : {}) },
    { name: 'names.example', file: 'names.zone', ...(checks ? { checks } : {}) },
  ];
  const strict = validateConfig({ zones: zones() }, dir);
  assert.deepEqual(strict.zones[0]!.checks, { names: 'fail', glue: 'error' });
  const { DnsServer } = await import('../../src/server/server.js');
  const { silentLogger } = await import('../../src/logging.js');
  // BIND fails a primary zone on check-names; Knot refuses a delegation without glue.
  await assert.rejects(new DnsServer({ config: strict, logger: silentLogger }).loadZones(),
    (e: Error) => /missing glue/.test(e.message) && /bad_name\.names\.example\.: bad owner name \(check-names\)/.test(e.message));
  const lenient = validateConfig({ zones: zones({ names: 'warn', glue: 'warn' }) }, dir);
  const reports = await new DnsServer({ config: lenient, logger: silentLogger }).loadZones();
  assert.deepEqual(reports.map((r) => r.ok), [true, true]);
  assert.ok(reports[0]!.problems.some((p) => /warning: .*missing glue/.test(p)));
  assert.throws(() => validateConfig({ zones: [{ name: 'a.example', file: 'a', checks: { glue: 'maybe' } }] }, dir),
    (err: unknown) => err instanceof ConfigError && /zones\[0\]\.checks\.glue/.test(err.message) && /glue: error\|warn/.test(err.message));
});
