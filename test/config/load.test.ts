import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { knownKeys } from '../../src/config/locate.js';
import { configSchema } from '../../src/config/schema.js';
import { defaultConfig, loadConfigFile, parseListen, validateConfig } from '../../src/config/load.js';
import { parseServeArgs } from '../../src/cli/serve.js';
import { resolveTarget } from '../../src/control/cli-target.js';
import { ConfigError, ConfigErrors } from '../../src/errors.js';

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
  ['bad listen address', { listen: ['ns.example:53'] }, /listen\[0\]/, /address:port/],
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

/** Writes `text` as a config file and returns the error loading it throws. */
function loadError(text: string): ConfigError {
  const dir = mkdtempSync(join(tmpdir(), 'sov-config-'));
  const f = join(dir, 'sovereign.yaml');
  writeFileSync(f, text);
  try {
    loadConfigFile(f);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail('config was accepted');
}

/** The single problems a ConfigError holds (itself, or each of a ConfigErrors). */
function problemsOf(err: ConfigError): ConfigError[] {
  return err instanceof ConfigErrors ? [...err.errors] : [err];
}

test('issue 11 bug 4: bad zone names are refused at validation, with the key path and line', () => {
  const err = loadError(`zones:\n  - name: a..b\n    file: a.zone\n  - name: ${'x'.repeat(64)}.test\n    file: b.zone\n`);
  const p = problemsOf(err);
  assert.equal(p.length, 2);
  assert.match(p[0]!.message, /sovereign\.yaml:2:11: zones\[0\]\.name: .*empty label/);
  assert.deepEqual([p[0]!.line, p[0]!.column], [2, 11]);
  assert.match(p[1]!.message, /sovereign\.yaml:4:11: zones\[1\]\.name: .*63 octets/);
});

test('issue 12: the same zone twice (with and without the final dot) is refused, as BIND does', () => {
  const err = loadError('zones:\n  - { name: example.test, file: a.zone }\n  - { name: example.test., file: b.zone }\n');
  assert.match(err.message, /zones\[1\]\.name: zone example\.test\. is already configured at zones\[0\]/);
});

test('issue 11 bug 4: control.listen off loopback needs control.allowRemote', () => {
  assert.throws(() => validateConfig({ control: { listen: '0.0.0.0:8053' } }, '/'),
    (err: unknown) => err instanceof ConfigError && /control\.listen: 0\.0\.0\.0:8053 is reachable from other hosts/.test(err.message) && /allowRemote/.test(err.message));
  assert.throws(() => validateConfig({ control: { listen: '[::]:8053' } }, '/'), ConfigError);
  assert.equal(validateConfig({ control: { listen: '0.0.0.0:8053', allowRemote: true } }, '/').control.listen, '0.0.0.0:8053');
  assert.equal(validateConfig({ control: { listen: '127.0.0.2:8053' } }, '/').control.listen, '127.0.0.2:8053');
  // A Unix socket replaces the TCP address: its value does not matter then.
  assert.ok(validateConfig({ control: { listen: '0.0.0.0:8053', socket: '/tmp/s.sock' } }, '/'));
});

test('issue 11 bug 4: ports are decimal digits, present after a colon, at most 65535', () => {
  for (const bad of ['127.0.0.1:', '127.0.0.1:0x35', '127.0.0.1:1e3', '[::1]:', '[::1]:+53', '127.0.0.1: 53', '127.0.0.1:65536', '0x35']) {
    assert.throws(() => parseListen(bad), ConfigError, bad);
    assert.throws(() => validateConfig({ listen: [bad] }, '/'), (err: unknown) => err instanceof ConfigError && /listen\[0\]/.test(err.message), bad);
  }
  assert.throws(() => validateConfig({ control: { listen: '127.0.0.1:' } }, '/'), /control\.listen/);
  assert.equal(parseListen('127.0.0.1:0').port, 0);
});

test('issue 11 bug 4: minTtl above maxTtl is refused', () => {
  assert.throws(() => validateConfig({ cache: { minTtl: 600, maxTtl: 300 } }, '/'), /cache\.minTtl: minTtl \(600s\) is above maxTtl \(300s\)/);
  assert.equal(validateConfig({ cache: { minTtl: 300, maxTtl: 300 } }, '/').cache.minTtl, 300);
});

test('issue 11 bug 4: one domain as both stub and forward zone is refused', () => {
  assert.throws(() => validateConfig({ forwardZones: { 'corp.example': ['127.0.0.1'] }, stubZones: { 'Corp.Example.': ['127.0.0.2'] } }, '/'),
    /forwardZones\.corp\.example: corp\.example is also a stub zone/);
  assert.throws(() => validateConfig({ forwardZones: { 'a..b': ['127.0.0.1'] } }, '/'), /forwardZones\.a\.\.b/);
  assert.ok(validateConfig({ forwardZones: { 'a.example': ['127.0.0.1'] }, stubZones: { 'b.example': ['127.0.0.2'] } }, '/'));
});

test('issue 12: every error at once, each with its line and column', () => {
  const err = loadError([
    'listen: "127.0.0.1:0x35"',     // 1
    'zoens: []',                     // 2
    'udp:',                          // 3
    '  maxSize: 100',                // 4
    'cache:',                        // 5
    '  maxTTL: 10',                  // 6
    'tcp: { idleTimeoutMs: soon }',  // 7
  ].join('\n') + '\n');
  assert.ok(err instanceof ConfigErrors);
  const lines = problemsOf(err).map((e) => `${e.line}:${e.column}`).sort();
  assert.deepEqual(lines, ['1:9', '2:1', '4:12', '6:3', '7:23']);
  assert.match(err.message, /5 errors/);
  assert.match(err.message, /sovereign\.yaml:2:1: zoens: unknown key "zoens"; did you mean "zones"\?/);
  assert.match(err.message, /sovereign\.yaml:6:3: cache\.maxTTL: unknown key "maxTTL"; did you mean "maxTtl"\?/);
  assert.match(err.message, /sovereign\.yaml:7:23: tcp\.idleTimeoutMs: "soon" is not a duration/);
  assert.match(err.message, /sovereign\.yaml:1:9: listen: "127\.0\.0\.1:0x35" has a bad port/);
});

test('issue 12: a repeated key and YAML syntax errors are reported with their line', () => {
  assert.match(loadError('workers: 1\nworkers: 2\n').message, /sovereign\.yaml:2:1: .*[Uu]nique|sovereign\.yaml:2:1: .*key/);
});

test('issue 12: an unknown key far from any known one gets no guess', () => {
  const err = loadError('frobnicate: true\n');
  assert.match(err.message, /unknown key "frobnicate"/);
  assert.doesNotMatch(err.message, /did you mean/);
});

test('issue 12: qnameMinimisation and qnameMinimization are one setting', () => {
  assert.equal(validateConfig({ resolver: { qnameMinimization: false } }, '/').resolver.qnameMinimisation, false);
  assert.equal(validateConfig({ resolver: { qnameMinimisation: false } }, '/').resolver.qnameMinimisation, false);
  assert.equal(validateConfig({ resolver: { qnameMinimization: false, qnameMinimisation: false } }, '/').resolver.qnameMinimisation, false);
  assert.throws(() => validateConfig({ resolver: { qnameMinimization: false, qnameMinimisation: true } }, '/'), /given twice/);
});

test('issue 12: durations with units; plain numbers keep the key unit', () => {
  const c = validateConfig({
    tcp: { idleTimeoutMs: '10s' }, forwarding: { timeoutMs: '1500ms', probeIntervalMs: '1m' },
    cache: { maxTtl: '1d', minTtl: '1h30m', maxNegativeTtl: 900, staleTtl: '1w' }, hosts: { ttl: '5m', pollMs: 250 },
  }, '/');
  assert.equal(c.tcp.idleTimeoutMs, 10_000);
  assert.equal(c.forwarding.timeoutMs, 1500);
  assert.equal(c.forwarding.probeIntervalMs, 60_000);
  assert.equal(c.cache.maxTtl, 86_400);
  assert.equal(c.cache.minTtl, 5400);
  assert.equal(c.cache.maxNegativeTtl, 900);
  assert.equal(c.cache.staleTtl, 604_800);
  assert.equal(c.hosts.ttl, 300);
  assert.equal(c.hosts.pollMs, 250);
  assert.equal(validateConfig({ tcp: { idleTimeoutMs: 2000 } }, '/').tcp.idleTimeoutMs, 2000);
  assert.throws(() => validateConfig({ cache: { maxTtl: '500ms' } }, '/'), /cache\.maxTtl: "500ms" is not a whole number of seconds/);
  assert.throws(() => validateConfig({ cache: { maxTtl: '8d' } }, '/'), /cache\.maxTtl: "8d" is outside/);
  assert.throws(() => validateConfig({ tcp: { idleTimeoutMs: '10 parsecs' } }, '/'), /not a duration/);
});

test('issue 12: listen takes one string, localhost and a bare port', () => {
  assert.deepEqual(validateConfig({ listen: '127.0.0.1:5301' }, '/').listen, ['127.0.0.1:5301']);
  assert.deepEqual(validateConfig({ listen: 'localhost:5300' }, '/').listen, ['127.0.0.1:5300', '[::1]:5300']);
  assert.deepEqual(validateConfig({ listen: 5302 }, '/').listen, ['127.0.0.1:5302', '[::1]:5302']);
  assert.deepEqual(validateConfig({ listen: ['5303', '::1', '0.0.0.0:53'] }, '/').listen, ['127.0.0.1:5303', '[::1]:5303', '[::1]:53', '0.0.0.0:53']);
  assert.deepEqual(parseListen('localhost:8053'), { address: '127.0.0.1', port: 8053, family: 4 });
});

test('issue 12: flag errors are phrased as flags, not config keys', () => {
  const messageOf = (argv: string[]): string => {
    try {
      parseServeArgs(argv);
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.message;
    }
    return assert.fail('accepted');
  };
  const listen = messageOf(['--listen', '127.0.0.1:1e3', '--zone', 'example.test=x.zone']);
  assert.match(listen, /^--listen "127\.0\.0\.1:1e3": .*bad port/);
  assert.doesNotMatch(listen, /config|listen\[0\]/);
  assert.match(messageOf(['--workers', 'many', '--zone', 'example.test=x.zone']), /^--workers "many": /);
  assert.match(messageOf(['--zone', 'a..b=x.zone']), /^--zone "a\.\.b=x\.zone": .*empty label/);
  assert.match(messageOf(['--log-level', 'loud', '--zone', 'example.test=x.zone']), /^--log-level "loud": /);
});

test('issue 12: the annotated sovereign.example.yaml loads, sets every default, and names every key', () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const path = join(root, 'sovereign.example.yaml');
  assert.deepEqual(loadConfigFile(path), validateConfig({}, root));
  const text = readFileSync(path, 'utf8');
  const walk = (prefix: string[]): void => {
    for (const key of knownKeys(configSchema, prefix)) {
      if (key === 'qnameMinimization') continue;
      assert.match(text, new RegExp(`^\\s*#?\\s*(- )?${key}:`, 'm'), [...prefix, key].join('.'));
      walk([...prefix, key]);
    }
  };
  walk([]);
});

test('issue 12: --control errors are phrased as the flag', () => {
  assert.throws(() => resolveTarget({ control: '127.0.0.1:0x35' }), (err: unknown) =>
    err instanceof ConfigError && /^--control "127\.0\.0\.1:0x35": .*bad port/.test(err.message) && !/config/.test(err.message));
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
  // A zone that fails its checks is reported (and answered SERVFAIL) while the others serve.
  const refused = await new DnsServer({ config: strict, logger: silentLogger }).loadZones();
  assert.deepEqual(refused.map((r) => r.ok), [false, false]);
  assert.ok(refused[0]!.problems.some((p) => /missing glue/.test(p)), refused[0]!.problems.join('\n'));
  assert.ok(refused[1]!.problems.some((p) => /bad_name\.names\.example\.: bad owner name \(check-names\)/.test(p)), refused[1]!.problems.join('\n'));
  const lenient = validateConfig({ zones: zones({ names: 'warn', glue: 'warn' }) }, dir);
  const reports = await new DnsServer({ config: lenient, logger: silentLogger }).loadZones();
  assert.deepEqual(reports.map((r) => r.ok), [true, true]);
  assert.ok(reports[0]!.problems.some((p) => /warning: .*missing glue/.test(p)));
  assert.throws(() => validateConfig({ zones: [{ name: 'a.example', file: 'a', checks: { glue: 'maybe' } }] }, dir),
    (err: unknown) => err instanceof ConfigError && /zones\[0\]\.checks\.glue/.test(err.message) && /glue: error\|warn/.test(err.message));
});

test('issue 12: did-you-mean inside lists and sections', () => {
  assert.throws(() => validateConfig({ zones: [{ name: 'a.test', fiel: 'a.zone' }] }, '/'), (err: unknown) =>
    err instanceof ConfigErrors && err.errors.some((e) => /zones\[0\]\.fiel: unknown key "fiel"; did you mean "file"\?/.test(e.message)));
  assert.throws(() => validateConfig({ resolver: { qnameMinimsation: true } }, '/'), /did you mean "qnameMinimisation"\?/);
  assert.throws(() => validateConfig({ log: { formt: 'text' } }, '/'), /did you mean "format"\?/);
});

test('DNSSEC validation keys: bad NTA names and unreadable or empty trust anchor files are all reported at once, with the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sov-anchors-'));
  writeFileSync(join(dir, 'empty.key'), '; nothing here\n');
  writeFileSync(join(dir, 'root.key'), '. 3600 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n');
  assert.throws(() => validateConfig({ resolver: { negativeTrustAnchors: ['broken.example', 'bad..name'] } }, dir),
    (err: unknown) => err instanceof ConfigError && err.message.includes('resolver.negativeTrustAnchors[1]') && err.message.includes('empty label'));
  const input = { resolver: { trustAnchors: ['missing.key', 'empty.key', 'root.key'], negativeTrustAnchors: ['broken.example'] } };
  assert.throws(() => validateConfig(input, dir), (err: unknown) => {
    const msgs = problemsOf(err as ConfigError).map((e) => e.message);
    assert.equal(msgs.length, 2, msgs.join('\n'));
    assert.ok(msgs.some((m) => m.includes('resolver.trustAnchors[0]') && m.includes('missing.key')), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.includes('resolver.trustAnchors[1]') && m.includes('no DS or DNSKEY')), msgs.join('\n'));
    return true;
  });
  const ok = validateConfig({ resolver: { trustAnchors: ['root.key'], negativeTrustAnchors: ['broken.example'] } }, dir);
  assert.deepEqual(ok.resolver.trustAnchors, [join(dir, 'root.key')]);
  // Validation off: the files are not read.
  assert.equal(validateConfig({ resolver: { dnssec: false, trustAnchors: ['missing.key'] } }, dir).resolver.dnssec, false);
});
