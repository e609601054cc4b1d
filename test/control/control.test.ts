import assert from 'node:assert/strict';
import { request } from 'node:http';
import { existsSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { LocalBackend } from '../../src/control/backend.js';
import { controlJson, controlRequest } from '../../src/control/client.js';
import { renderMetrics } from '../../src/control/metrics.js';
import { ControlServer } from '../../src/control/server.js';
import { bearerMatches, defaultTokenFile, ensureToken, readToken } from '../../src/control/token.js';
import { spawnSync } from 'node:child_process';
import { silentLogger } from '../../src/logging.js';
import { mergeStats, type StatsSnapshot } from '../../src/control/snapshot.js';
import { Credibility } from '../../src/resolver/cache.js';
import { newResolverStats } from '../../src/resolver/iterator.js';
import { DnsServer } from '../../src/server/server.js';
import { parseRecord } from '../../src/wire/record.js';
import { pickPort, tempDir } from '../helpers/peers.js';

const ADDR = '127.26.2.1';

function raw(port: number, method: string, path: string, auth?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: ADDR, port, method, path, headers: auth === undefined ? {} : { authorization: auth } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('control endpoint', () => {
  const dir = tempDir('sovereign-control-');
  let server: DnsServer;
  let control: ControlServer;
  let token: string;
  let port: number;

  before(async () => {
    writeFileSync(join(dir.path, 'hosts'), '192.0.2.7 printer.lan\n');
    server = new DnsServer({
      config: defaultConfig({
        listen: [`${ADDR}:0`], workers: 1, hosts: { enabled: true, path: join(dir.path, 'hosts'), watch: false },
        localData: ['router.lan. 300 IN A 192.168.1.1'],
      }),
      logger: silentLogger,
    });
    server.cache.put([parseRecord('www.example. 300 IN A 192.0.2.1'), parseRecord('www.example. 300 IN A 192.0.2.2')], Credibility.NONAUTH_ANSWER);
    server.cache.put([parseRecord('www.example. 300 IN AAAA 2001:db8::1')], Credibility.NONAUTH_ANSWER);
    server.cache.put([parseRecord('a.sub.example. 60 IN A 192.0.2.3')], Credibility.NONAUTH_ANSWER);
    server.cache.put([parseRecord('other.test. 60 IN A 192.0.2.4')], Credibility.NONAUTH_ANSWER);
    token = ensureToken(join(dir.path, 'token')).token;
    control = new ControlServer({ backend: new LocalBackend(server), logger: silentLogger, address: ADDR, port: 0, token });
    await control.listen();
    port = control.port;
  });

  after(async () => {
    await control.close();
    await server.stop();
    dir.cleanup();
  });

  test('requests without the right bearer token get 401 and do nothing', async () => {
    for (const auth of [undefined, 'Bearer wrong', `Basic ${token}`, `Bearer ${token}x`, `Bearer ${token.slice(1)}`]) {
      const r = await raw(port, 'POST', '/v1/cache/flush', auth);
      assert.equal(r.status, 401, String(auth));
    }
    assert.equal(server.cache.size, 4);
    assert.equal((await raw(port, 'GET', '/metrics')).status, 401);
    assert.equal((await raw(port, 'GET', '/v1/stats', `bearer ${token}`)).status, 200);
  });

  test('cache print filters by name and type', async () => {
    const t = { address: ADDR, port, token };
    const all = await controlJson<{ entries: { name: string; type: string; originalTtl: number; remainingTtl: number; records: string[] }[] }>(t, 'GET', '/v1/cache');
    assert.deepEqual(all.data.entries.map((e) => `${e.name} ${e.type}`), ['a.sub.example. A', 'www.example. A', 'www.example. AAAA', 'other.test. A']);
    const one = await controlJson<{ entries: { name: string; type: string; originalTtl: number; records: string[] }[] }>(t, 'GET', '/v1/cache?name=WWW.example&type=A');
    assert.equal(one.data.entries.length, 1);
    assert.equal(one.data.entries[0]!.originalTtl, 300);
    assert.deepEqual(one.data.entries[0]!.records.map((r) => r.split('\t').pop()).sort(), ['192.0.2.1', '192.0.2.2']);
    await assert.rejects(controlJson(t, 'GET', '/v1/cache?type=NOPE'), /400.*unknown type/);
    await assert.rejects(controlJson(t, 'GET', '/v1/cache?name=a..b'), /400.*bad name/);
  });

  test('flush one name, then a subtree', async () => {
    const t = { address: ADDR, port, token };
    assert.deepEqual((await controlJson(t, 'POST', '/v1/cache/flush?name=www.example')).data, { removed: 2 });
    assert.deepEqual((await controlJson(t, 'POST', '/v1/cache/flush?name=example&subtree=1')).data, { removed: 1 });
    assert.equal(server.cache.size, 1);
    assert.deepEqual((await controlJson(t, 'POST', '/v1/cache/flush')).data, { removed: 1 });
  });

  test('reload of the hosts file reports its names; unknown routes and methods are refused', async () => {
    const t = { address: ADDR, port, token };
    writeFileSync(join(dir.path, 'hosts'), '192.0.2.7 printer.lan\n192.0.2.8 scanner.lan\n');
    const r = await controlJson<{ ok: boolean; hosts: { names: number } }>(t, 'POST', '/v1/reload?what=hosts');
    assert.equal(r.data.ok, true);
    assert.equal(r.data.hosts.names, 2);
    await assert.rejects(controlRequest(t, 'POST', '/v1/reload?what=everything'), /400/);
    await assert.rejects(controlRequest(t, 'GET', '/v1/nothing'), /404/);
    await assert.rejects(controlRequest(t, 'GET', '/v1/reload'), /405/);
  });

  test('stats and /metrics in Prometheus text format', async () => {
    const t = { address: ADDR, port, token };
    const s = await controlJson<{ processes: number; hosts: { names: number }; localData: { records: number } }>(t, 'GET', '/v1/stats');
    assert.equal(s.data.processes, 1);
    assert.equal(s.data.hosts.names, 2);
    assert.equal(s.data.localData.records, 1);
    const m = await controlRequest(t, 'GET', '/metrics');
    assert.match(m.contentType, /^text\/plain; version=0\.0\.4/);
    for (const line of m.body.split('\n')) {
      if (line === '') continue;
      assert.match(line, /^(# (HELP|TYPE) [a-z_0-9]+ .+|[a-z_0-9]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (-?[0-9.e+]+|NaN|Nan))$/, line);
    }
    assert.match(m.body, /^# TYPE sovereign_cache_hits_total counter$/m);
    assert.match(m.body, /^sovereign_hosts_names 2$/m);
  });
});

test('metrics text: counters by label, upstream latency in seconds', async () => {
  const m = await renderMetrics({
    processes: 2, uptimeSeconds: 5, queries: { udp: 10, tcp: 2 }, responses: 12, dropped: 1, truncated: 0, internalErrors: 0,
    tcpConnections: 2, qtypes: { A: 7, AAAA: 5 }, rcodes: { NOERROR: 11, NXDOMAIN: 1 },
    cache: { size: 3, hits: 4, misses: 6, staleHits: 0, inserts: 6, refused: 0, evictions: 0, prefetches: 0 },
    forwarder: {
      cacheAnswers: 4, upstreamAnswers: 6, failures: 1,
      routes: [{ zone: '.', kind: 'forward', upstreams: [{ upstream: '192.0.2.53#53', up: false, srttMs: 12.5, queries: 7, answers: 6, failures: 1, timeouts: 1, errorReplies: 0, rttSumMs: 60, rttCount: 6, rttBuckets: [0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], probes: 2, ignored: 1 }] }],
    },
    resolver: {
      ...newResolverStats(), cacheHits: 9, cacheMisses: 3, resolutions: 3, resolutionMsSum: 30, upstreamQueries: 8, upstreamReplies: 7,
      resolutionBuckets: [0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], upstreamRttBuckets: [0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      upstreamRttMsSum: 14, upstreamTimeouts: 1, lameServers: 1,
      stubZones: [{ zone: 'lab.example.', servers: [{ server: '10.0.0.2#5353', srttMs: 2, queries: 4, timeouts: 1 }] }],
    },
    hosts: null, localData: null,
    transfers: {
      tsigVerified: 3, tsigFailed: 1, xfrOut: 2, xfrOutRefused: 1, xfrOutMessages: 40, xfrOutMs: 1500, notifySent: 4, notifyAnswered: 3, notifyFailed: 1,
    },
  });
  assert.match(m.body, /^sovereign_tsig_verified_total 3$/m);
  assert.match(m.body, /^sovereign_tsig_failed_total 1$/m);
  assert.match(m.body, /^sovereign_xfr_out_total 2$/m);
  assert.match(m.body, /^sovereign_xfr_out_messages_total 40$/m);
  assert.match(m.body, /^sovereign_xfr_out_seconds_total 1.5$/m);
  assert.match(m.body, /^sovereign_notify_out_total\{result="answered"\} 3$/m);
  assert.match(m.body, /^sovereign_resolver_cache_hits_total 9$/m);
  assert.match(m.body, /^sovereign_resolver_cache_misses_total 3$/m);
  assert.match(m.body, /^sovereign_resolver_upstream_queries_total 8$/m);
  assert.match(m.body, /^sovereign_resolver_upstream_rtt_seconds_sum 0.014$/m);
  assert.match(m.body, /^sovereign_resolver_upstream_rtt_seconds_count 7$/m);
  assert.match(m.body, /^sovereign_resolver_resolution_seconds_sum 0.03$/m);
  assert.match(m.body, /^sovereign_resolver_upstream_timeouts_total 1$/m);
  assert.match(m.body, /^sovereign_resolver_lame_servers_total 1$/m);
  assert.match(m.body, /^sovereign_stub_server_srtt_seconds\{zone="lab.example.",server="10.0.0.2#5353"\} 0.002$/m);
  assert.match(m.body, /^sovereign_stub_server_queries_total\{zone="lab.example.",server="10.0.0.2#5353"\} 4$/m);
  assert.match(m.body, /^sovereign_queries_total\{transport="udp"\} 10$/m);
  assert.match(m.body, /^sovereign_queries_by_type_total\{qtype="AAAA"\} 5$/m);
  assert.match(m.body, /^sovereign_responses_total\{rcode="NXDOMAIN"\} 1$/m);
  assert.match(m.body, /^sovereign_upstream_rtt_seconds_sum\{zone=".",kind="forward",upstream="192.0.2.53#53"\} 0.06$/m);
  assert.match(m.body, /^# TYPE sovereign_upstream_rtt_seconds histogram$/m);
  assert.match(m.body, /^sovereign_upstream_rtt_seconds_bucket\{zone=".",kind="forward",upstream="192.0.2.53#53",le="0.005"\} 0$/m);
  assert.match(m.body, /^sovereign_upstream_rtt_seconds_bucket\{zone=".",kind="forward",upstream="192.0.2.53#53",le="0.01"\} 6$/m);
  assert.match(m.body, /^sovereign_upstream_rtt_seconds_bucket\{zone=".",kind="forward",upstream="192.0.2.53#53",le="\+Inf"\} 6$/m);
  assert.match(m.body, /^sovereign_upstream_srtt_seconds\{zone=".",kind="forward",upstream="192.0.2.53#53"\} 0.0125$/m);
  assert.match(m.body, /^sovereign_upstream_up\{zone=".",kind="forward",upstream="192.0.2.53#53"\} 0$/m);
  assert.match(m.body, /^sovereign_forwarder_answers_total\{source="cache"\} 4$/m);
});

test('token file: created 0600 in a new folder, reused; one found readable by others is replaced by a new token', () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'sub', 'control.token');
    const a = ensureToken(path);
    assert.equal(a.created, true);
    assert.ok(a.token.length >= 40);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir.path, 'sub')).mode & 0o777, 0o700);
    const b = ensureToken(path);
    assert.equal(b.created, false);
    assert.equal(b.token, a.token);
    chmodSync(path, 0o644);
    const c = ensureToken(path);
    assert.equal(c.regenerated, true);
    // Readable by others means leaked: the old token must stop working, not merely be hidden again.
    assert.notEqual(c.token, a.token);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(readToken(path), c.token);
    assert.equal(ensureToken(path).regenerated, false);
    assert.ok(bearerMatches(`Bearer ${a.token}`, a.token));
    assert.ok(!bearerMatches(undefined, a.token));
    writeFileSync(join(dir.path, 'empty'), '\n');
    assert.throws(() => readToken(join(dir.path, 'empty')), /no usable token/);
    assert.throws(() => readToken(join(dir.path, 'missing')), /cannot read/);
  } finally {
    dir.cleanup();
  }
});

test('a Unix socket endpoint needs no token (the socket is mode 0600)', async () => {
  const dir = tempDir();
  const server = new DnsServer({ config: defaultConfig({ listen: [`${ADDR}:0`], workers: 1 }), logger: silentLogger });
  const socketPath = join(dir.path, 'control.sock');
  const control = new ControlServer({ backend: new LocalBackend(server), logger: silentLogger, socketPath });
  // The mode the socket has the moment it exists (before any chmod could run), even under a lax umask.
  let modeAtListen = -1;
  (control as unknown as { http: import('node:http').Server }).http.once('listening', () => {
    modeAtListen = statSync(socketPath).mode & 0o777;
  });
  const umask = process.umask(0);
  try {
    await control.listen();
    process.umask(umask);
    assert.equal(modeAtListen, 0o600, 'created private, not chmod-ed afterwards');
    assert.equal(statSync(socketPath).mode & 0o777, 0o600);
    const r = await controlJson<{ processes: number }>({ socketPath }, 'GET', '/v1/stats');
    assert.equal(r.data.processes, 1);
  } finally {
    process.umask(umask);
    await control.close();
    await server.stop();
    dir.cleanup();
  }
  void pickPort;
});

test('cluster merge: resolver counters add up over workers, stub server SRTTs average', () => {
  const part = (hits: number, queries: number, srttMs: number, resolver = true): StatsSnapshot => ({
    processes: 1, uptimeSeconds: 5, queries: { udp: hits, tcp: 0 }, responses: hits, dropped: 0, truncated: 0, internalErrors: 0,
    tcpConnections: 0, qtypes: { A: hits }, rcodes: { NOERROR: hits },
    cache: { size: 1, hits, misses: 1, staleHits: 0, inserts: 1, refused: 0, evictions: 0, prefetches: 0 },
    forwarder: { cacheAnswers: 0, upstreamAnswers: 0, failures: 0, routes: [] },
    resolver: resolver ? {
      ...newResolverStats(), cacheHits: hits, cacheMisses: 1, upstreamQueries: queries, upstreamRttMsSum: queries * 2, upstreamReplies: queries,
      stubZones: [{ zone: 'lab.example.', servers: [{ server: '10.0.0.2', srttMs, queries, timeouts: 1 }] }],
    } : null,
    hosts: null, localData: null,
  });
  const m = mergeStats([part(10, 4, 2), part(5, 2, 4), part(1, 0, -1)]);
  assert.equal(m.processes, 3);
  assert.equal(m.cache.hits, 16);
  assert.equal(m.resolver!.cacheHits, 16);
  assert.equal(m.resolver!.cacheMisses, 3);
  assert.equal(m.resolver!.upstreamQueries, 6);
  assert.equal(m.resolver!.upstreamRttMsSum, 12);
  assert.deepEqual(m.resolver!.stubZones, [{ zone: 'lab.example.', servers: [{ server: '10.0.0.2', srttMs: 3, queries: 6, timeouts: 3 }] }]);
  // The parts are not changed by merging.
  const a = part(1, 1, 1);
  mergeStats([a, part(1, 1, 1)]);
  assert.equal(a.resolver!.cacheHits, 1);
  assert.equal(mergeStats([part(1, 1, 1, false), part(1, 1, 1, false)]).resolver, null);
});

test('token location: $STATE_DIRECTORY, else the home directory, else /var/lib/sovereign for a user without a home', () => {
  const saved = { STATE_DIRECTORY: process.env.STATE_DIRECTORY, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, HOME: process.env.HOME };
  const dir = tempDir();
  try {
    process.env.STATE_DIRECTORY = `${dir.path}:/elsewhere`;
    assert.equal(defaultTokenFile(), join(dir.path, 'control.token'));
    delete process.env.STATE_DIRECTORY;
    delete process.env.XDG_CONFIG_HOME;
    process.env.HOME = dir.path;
    assert.equal(defaultTokenFile(), join(dir.path, '.config', 'sovereign', 'control.token'));
    process.env.HOME = '/nonexistent';
    assert.equal(defaultTokenFile(), '/var/lib/sovereign/control.token');
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    dir.cleanup();
  }
});

test('a client that cannot read the token is told how to get at it', (t) => {
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/setpriv')) return t.skip('needs root and setpriv to run a command as nobody');
  const dir = tempDir();
  try {
    chmodSync(dir.path, 0o755);
    const file = join(dir.path, 'control.token');
    ensureToken(file);
    const bin = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
    const r = spawnSync('/usr/bin/setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, bin, 'stats',
      '--control', '127.26.2.9:1', '--token-file', file], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot read .*control\.token: EACCES/);
    assert.match(r.stderr, /run this command as that user \(e\.g\. `sudo -u sovereign sovereign stats`\) or as root/);
  } finally {
    dir.cleanup();
  }
});
