/**
 * /metrics as Prometheus sees it: judged by the real `promtool check metrics` (Debian prometheus),
 * with latency histograms, `_total` counters and process/Node metrics; /health without a token;
 * /metrics without one when `control.metricsAuth` is false; cache rows from several workers once;
 * with workers: 2 the process metrics of the primary and every worker, aggregated.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatCacheRows } from '../../src/cli/cache.js';
import { defaultConfig } from '../../src/config/load.js';
import { LocalBackend, mergeCacheRows } from '../../src/control/backend.js';
import { controlRequest } from '../../src/control/client.js';
import { renderMetrics } from '../../src/control/metrics.js';
import { ControlServer } from '../../src/control/server.js';
import { type CacheRow, type StatsSnapshot, mergeStats } from '../../src/control/snapshot.js';
import { formatStats } from '../../src/cli/stats.js';
import { newForwarderValidationStats } from '../../src/resolver/forward-validate.js';
import { EdeCode } from '../../src/wire/constants.js';
import { ensureToken } from '../../src/control/token.js';
import { newLatencyBuckets } from '../../src/histogram.js';
import { type Logger, silentLogger } from '../../src/logging.js';
import { newResolverStats } from '../../src/resolver/iterator.js';
import { DnsServer } from '../../src/server/server.js';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { ZONE, startServer, udpQuery } from '../server/net-helpers.js';
import { PEER_BINARIES, havePeers, pickPort, tempDir } from '../helpers/peers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;

const UPSTREAM = '127.26.8.1';
const FWD = '127.26.8.2';

/** Runs promtool on the exposition; returns its complaints (empty when it passes). */
function promtool(body: string): { status: number | null; out: string } {
  const r = spawnSync(PEER_BINARIES.promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
  return { status: r.status, out: (r.stdout + r.stderr).trim() };
}

async function get(port: number, path: string, token?: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${FWD}:${port}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.text() };
}

describe('metrics and health over HTTP', () => {
  const dir = tempDir('sov-metrics-');
  let upstream: Awaited<ReturnType<typeof startServer>>;
  let fwd: DnsServer;
  let open: ControlServer;
  let locked: ControlServer;
  let token: string;
  const logged: { msg: string; obj: Record<string, unknown> }[] = [];
  const capture: Logger = {
    trace() {}, debug() {}, warn() {}, error() {},
    info(obj, msg) { logged.push({ msg: msg ?? '', obj: obj as Record<string, unknown> }); },
  };

  before(async () => {
    upstream = await startServer(UPSTREAM);
    fwd = new DnsServer({ config: defaultConfig({ listen: `${FWD}:0`, workers: 1, forwarders: [`${UPSTREAM}:${upstream.port}`] }), logger: silentLogger });
    token = ensureToken(join(dir.path, 'token')).token;
    open = new ControlServer({ backend: new LocalBackend(fwd), logger: capture, address: FWD, port: 0, token, metricsAuth: false });
    locked = new ControlServer({ backend: new LocalBackend(fwd), logger: capture, address: FWD, port: 0, token });
    await open.listen();
    await locked.listen();
  });

  after(async () => {
    await open.close();
    await locked.close();
    await fwd.stop();
    await upstream.stop();
    dir.cleanup();
  });

  test('/health is alive without a token; /health/ready waits for the listeners', async () => {
    assert.equal((await get(locked.port, '/health')).status, 200);
    assert.equal((await get(locked.port, '/health/live')).status, 200);
    const notYet = await get(locked.port, '/health/ready');
    assert.equal(notYet.status, 503);
    assert.match(notYet.body, /not listening/);
    await fwd.loadZones();
    await fwd.start();
    const ready = await get(locked.port, '/health/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.body), { status: 'ready' });
    // Only the health checks are open: the rest still needs the token.
    assert.equal((await get(locked.port, '/v1/stats')).status, 401);
  });

  test('/metrics needs the token unless metricsAuth is false', async () => {
    assert.equal((await get(locked.port, '/metrics')).status, 401);
    assert.equal((await get(locked.port, '/metrics', token)).status, 200);
    assert.equal((await get(open.port, '/metrics')).status, 200);
    assert.equal((await get(open.port, '/v1/stats')).status, 401);
  });

  test('promtool check metrics passes on a live server with forwarded traffic', async (t) => {
    if (!havePeers(t, 'promtool')) return;
    if (fwd.addresses.length === 0) {
      await fwd.loadZones();
      await fwd.start();
    }
    const port = fwd.addresses[0]!.port;
    for (const name of ['www.example.com', 'one.example.com', 'nope.example.com']) {
      const r = await udpQuery(FWD, port, Message.query(name, RRType.A, { rd: true }));
      assert.equal(r.rcode, name.startsWith('nope') ? 3 : 0, name);
    }
    const m = await get(open.port, '/metrics');
    const check = promtool(m.body);
    assert.equal(check.out, '', check.out);
    assert.equal(check.status, 0);
    const upstreamLabel = `zone=".",kind="forward",upstream="${UPSTREAM}#${upstream.port}"`;
    assert.match(m.body, /^# TYPE sovereign_upstream_rtt_seconds histogram$/m);
    assert.match(m.body, new RegExp(`^sovereign_upstream_rtt_seconds_count\\{${upstreamLabel.replace(/\./g, '\\.')}\\} 3$`, 'm'));
    assert.match(m.body, new RegExp(`^sovereign_upstream_rtt_seconds_bucket\\{${upstreamLabel.replace(/\./g, '\\.')},le="\\+Inf"\\} 3$`, 'm'));
    assert.match(m.body, /^sovereign_queries_total\{transport="udp"\} 3$/m);
    assert.match(m.body, /^# TYPE process_cpu_user_seconds_total counter$/m);
    assert.match(m.body, /^# TYPE nodejs_heap_size_total_bytes gauge$/m);
    for (const line of m.body.split('\n')) {
      const type = /^# TYPE (\S+) counter$/.exec(line);
      if (type !== null) assert.match(type[1]!, /_total$/, line);
    }
  });

  test('the cache-flush line names the flushed name once (qname), not over the logger name', async () => {
    const before = logged.length;
    const r = await controlRequest({ address: FWD, port: locked.port, token }, 'POST', '/v1/cache/flush?name=www.example.com');
    assert.match(r.body, /removed/);
    const line = logged.slice(before).find((l) => l.msg === 'cache flushed');
    assert.ok(line);
    assert.equal(line.obj.qname, 'www.example.com');
    assert.equal('name' in line.obj, false);
  });
});

test('promtool accepts the resolver histograms and every counter of a full snapshot', async (t) => {
  if (!havePeers(t, 'promtool')) return;
  const res = newResolverStats();
  res.resolutions = 3;
  res.resolutionMsSum = 45;
  res.resolutionBuckets[5] = 2;
  res.resolutionBuckets[newLatencyBuckets().length - 1] = 1;
  const m = await renderMetrics({
    processes: 2, uptimeSeconds: 5, queries: { udp: 10, tcp: 2 }, responses: 12, dropped: 1, truncated: 0, internalErrors: 0,
    tcpConnections: 2, qtypes: { A: 7 }, rcodes: { NOERROR: 12 },
    cache: { size: 3, hits: 4, misses: 6, staleHits: 0, inserts: 6, refused: 0, evictions: 0, prefetches: 0 },
    forwarder: { cacheAnswers: 0, upstreamAnswers: 0, failures: 0, routes: [] },
    resolver: { ...res, stubZones: [{ zone: 'lab.example.', servers: [{ server: '10.0.0.2#53', srttMs: -1, queries: 0, timeouts: 0 }] }] },
    hosts: { path: '/etc/hosts', names: 2, loads: 1 }, localData: null,
  });
  const check = promtool(m.body);
  assert.equal(check.out, '', check.out);
  assert.match(m.body, /^sovereign_resolver_resolution_seconds_bucket\{le="0.025"\} 2$/m);
  assert.match(m.body, /^sovereign_resolver_resolution_seconds_bucket\{le="10"\} 2$/m);
  assert.match(m.body, /^sovereign_resolver_resolution_seconds_bucket\{le="\+Inf"\} 3$/m);
  assert.match(m.body, /^sovereign_resolver_resolution_seconds_sum 0.045$/m);
});

test('the validating forwarder\'s counters: /metrics by result and EDE (promtool-clean), summed across workers', async (t) => {
  const part = (secure: number, bogusExpired: number): StatsSnapshot => {
    const v = newForwarderValidationStats();
    v.secure = secure;
    v.insecure = 1;
    v.bogus = bogusExpired + 1;
    v.bogusByEde[EdeCode.SIGNATURE_EXPIRED] = bogusExpired;
    v.bogusByEde[EdeCode.DNSKEY_MISSING] = 1;
    v.signatureChecks = 10;
    return {
      processes: 1, uptimeSeconds: 5, queries: { udp: 1, tcp: 0 }, responses: 1, dropped: 0, truncated: 0, internalErrors: 0,
      tcpConnections: 0, qtypes: {}, rcodes: {},
      cache: { size: 0, hits: 0, misses: 0, staleHits: 0, inserts: 0, refused: 0, evictions: 0, prefetches: 0 },
      forwarder: { cacheAnswers: 0, upstreamAnswers: 1, failures: 0, routes: [], validation: v },
      resolver: null, hosts: null, localData: null,
    };
  };
  const merged = mergeStats([part(3, 2), part(4, 1)]);
  assert.equal(merged.forwarder.validation?.secure, 7);
  assert.equal(merged.forwarder.validation?.bogus, 5);
  assert.equal(merged.forwarder.validation?.bogusByEde[EdeCode.SIGNATURE_EXPIRED], 3);
  const m = await renderMetrics(merged);
  assert.match(m.body, /^sovereign_forwarder_validations_total\{result="secure"\} 7$/m);
  assert.match(m.body, /^sovereign_forwarder_validations_total\{result="insecure"\} 2$/m);
  assert.match(m.body, /^sovereign_forwarder_validations_total\{result="bogus"\} 5$/m);
  assert.match(m.body, /^sovereign_forwarder_validation_bogus_total\{reason="signature_expired"\} 3$/m);
  assert.match(m.body, /^sovereign_forwarder_validation_bogus_total\{reason="dnskey_missing"\} 2$/m);
  assert.match(m.body, /^sovereign_forwarder_validation_signature_checks_total 20$/m);
  const text = formatStats(merged);
  assert.match(text, /forwarder\.validation-secure:?\s+7/);
  assert.match(text, new RegExp(`forwarder\\.validation-bogus\\.ede-${EdeCode.SIGNATURE_EXPIRED}:?\\s+3`));
  // Not validating: no forwarder validation families at all.
  const plain = await renderMetrics({ ...merged, forwarder: { cacheAnswers: 0, upstreamAnswers: 0, failures: 0, routes: [] } });
  assert.doesNotMatch(plain.body, /sovereign_forwarder_validation/);
  if (!havePeers(t, 'promtool')) return;
  const check = promtool(m.body);
  assert.equal(check.out, '', check.out);
  assert.equal(check.status, 0);
});

test('cache print with several workers shows each entry once, with the workers holding it', () => {
  const row = (ttl: number, data = '192.0.2.1'): CacheRow => ({
    name: 'www.example.', type: 'A', class: 'IN', kind: 'positive', rank: 3, originalTtl: 300, remainingTtl: ttl, stale: false,
    records: [`www.example.\t${ttl}\tIN\tA\t${data}`],
  });
  const rows = mergeCacheRows([[row(200)], [row(250)], [row(100, '192.0.2.9')]], [1, 2, 3]);
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0]!.workers, [1, 2]);
  assert.equal(rows[0]!.remainingTtl, 250);
  assert.deepEqual(rows[1]!.workers, [3]);
  const table = formatCacheRows(rows).split('\n');
  assert.match(table[0]!, /^WORKERS\s+NAME/);
  assert.match(table[1]!, /^1,2\s+www\.example\.\s+A\s+IN\s+300\s+250\s+192\.0\.2\.1$/);
  assert.match(table[2]!, /^3\s+www\.example\./);
  const same = mergeCacheRows([[row(200)], [row(210)]], [1, 2]);
  assert.equal(same.length, 1);
  assert.match(formatCacheRows(same).split('\n')[1]!, /^all\s+www/);
});

test('with two workers /metrics covers every process (primary and workers aggregated) and passes promtool', async (t) => {
  if (!havePeers(t, 'promtool')) return;
  const dir = tempDir('sov-metrics-cluster-');
  const address = '127.26.8.3';
  const port = pickPort();
  const cport = pickPort();
  const zone = join(dir.path, 'example.com.zone');
  writeFileSync(zone, ZONE);
  const config = join(dir.path, 'sovereign.yaml');
  writeFileSync(config, `listen: ["${address}:${port}"]\nworkers: 2\nzones: [{ name: example.com, file: ${zone} }]\n` +
    `control: { listen: "${address}:${cport}", tokenFile: "${join(dir.path, 'token')}", metricsAuth: false }\nlog: { level: warn }\n`);
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  try {
    let body = '';
    // Ready when both workers report (sovereign_processes counts the workers that answered).
    for (let i = 0; i < 200 && !/^sovereign_processes 2$/m.test(body); i++) {
      await new Promise((r) => setTimeout(r, 100));
      body = await fetch(`http://${address}:${cport}/metrics`).then((r) => r.text(), () => '');
    }
    assert.match(body, /^sovereign_processes 2$/m, `both workers report: ${err}`);
    const check = promtool(body);
    assert.equal(check.out, '', check.out);
    assert.equal(check.status, 0);
    // process_max_fds is the same limit in every process (inherited): the aggregate is the sum of three.
    const limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${child.pid}/limits`, 'utf8'))![1]);
    assert.match(body, new RegExp(`^process_max_fds ${3 * limit}$`, 'm'));
    // One start time (the earliest: the primary's), one version line.
    assert.equal(body.match(/^process_start_time_seconds /gm)?.length, 1);
    assert.equal(body.match(/^nodejs_version_info\{/gm)?.length, 1);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    dir.cleanup();
  }
});
