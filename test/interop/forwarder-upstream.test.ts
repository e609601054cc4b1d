/**
 * Sovereign as a forwarder in front of two real BIND servers (authoritative for fwd.example,
 * recursion off, query logging on so every question that reaches them is counted), run as
 * `sovereign serve` in a child process and driven with dig and the sovereign CLI:
 * caching (a second question does not reach the upstream, expiry does), `sovereign cache print`
 * showing what dig was answered, flush, failover when an upstream is killed, SERVFAIL + EDE when
 * none answers, recovery by probe, the hosts file (answers and reload) and localData.
 *
 * Addresses: 127.26.1.x only.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type RunningPeer, addLoopbackAddress, havePeers, pickPort, runTool, startNamed, startPeer, tempDir,
} from '../helpers/peers.js';

const UP1 = '127.26.1.1';
const UP2 = '127.26.1.2';
const SOV = '127.26.1.10';
const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;

const ZONE = `$TTL 300
@       IN SOA ns1 hostmaster 1 3600 600 86400 60
        IN NS ns1
ns1     IN A 127.26.1.1
www     IN A 192.0.2.1
        IN A 192.0.2.11
short 2 IN A 192.0.2.2
alias   IN CNAME www
*.wild  IN A 192.0.2.9
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('forwarder in front of BIND', { timeout: 120_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let up1: RunningPeer | undefined;
  let up2: RunningPeer | undefined;
  let sov: RunningPeer | undefined;
  let port = 0;
  let p1 = 0;
  let p2 = 0;
  let cport = 0;
  let skip = false;
  const hostsPath = (): string => join(dir.path, 'hosts');
  const tokenFile = (): string => join(dir.path, 'control.token');

  const startUp = async (which: 1 | 2): Promise<RunningPeer> => {
    const sub = join(dir.path, `up${which}`);
    runTool('mkdir', ['-p', sub]);
    writeFileSync(join(sub, 'fwd.example.zone'), ZONE);
    return startNamed(sub, which === 1 ? UP1 : UP2, which === 1 ? p1 : p2, [{ name: 'fwd.example', file: join(sub, 'fwd.example.zone') }],
      'querylog yes;');
  };

  /** Times BIND logged a query for `name` (both upstreams). */
  const upstreamHits = async (name: string): Promise<number> => {
    // dig ran synchronously: let the peers' log output reach us first.
    await sleep(50);
    const re = new RegExp(`query: ${name.replace(/\./g, '\\.')} IN `, 'gi');
    return ((up1?.output() ?? '').match(re)?.length ?? 0) + ((up2?.output() ?? '').match(re)?.length ?? 0);
  };
  const dig = (...args: string[]): string =>
    runTool('dig', [`@${SOV}`, '-p', String(port), '+tries=1', '+time=5', ...args]).stdout;
  const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
    runTool(process.execPath, [BIN, ...args, '--control', `${SOV}:${cport}`, '--token-file', tokenFile()]);

  before(async (t) => {
    if (!havePeers(t as never, 'named', 'dig')) {
      skip = true;
      return;
    }
    dir = tempDir('sovereign-fwd-');
    for (const a of [UP1, UP2]) addLoopbackAddress(a);
    p1 = pickPort();
    p2 = pickPort();
    port = pickPort();
    cport = pickPort();
    up1 = await startUp(1);
    up2 = await startUp(2);
    writeFileSync(hostsPath(), '# test hosts\n192.0.2.50  myhost.lan myhost   # comment\n2001:db8::50 myhost.lan\n192.0.2.51 other.lan\n');
    const cfg = join(dir.path, 'sovereign.yaml');
    writeFileSync(cfg, `listen: ["${SOV}:${port}"]
workers: 1
log: { level: warn }
forwarders: ["${UP1}:${p1}", "${UP2}:${p2}"]
forwarding: { timeoutMs: 400, maxAttempts: 3, maxFailures: 1, probeIntervalMs: 300 }
hosts: { enabled: true, path: "${hostsPath()}", pollMs: 200 }
localData:
  - "router.lan. 300 IN A 192.168.1.1"
  - |
    $ORIGIN lan.
    nas 600 IN A 192.168.1.2
control: { listen: "${SOV}:${cport}", tokenFile: "${tokenFile()}" }
`);
    sov = await startPeer(process.execPath, [BIN, 'serve', '--config', cfg], { address: SOV, port, zone: 'router.lan' });
  });

  after(async () => {
    // In cluster mode the primary has been seen not to exit on SIGTERM (src/server/cluster.ts); stop()
    // SIGKILLs it then: its workers exit when their IPC channel closes.
    await sov?.stop();
    await up1?.stop();
    await up2?.stop();
    dir?.cleanup();
  });

  test('the token file was created with mode 0600', (t) => {
    if (skip) return t.skip();
    const r = runTool('stat', ['-c', '%a', tokenFile()]);
    assert.equal(r.stdout.trim(), '600');
  });

  test('a second question is answered from the cache without reaching the upstream', async (t) => {
    if (skip) return t.skip();
    const first = dig('www.fwd.example', 'A', '+noall', '+answer');
    assert.match(first, /www\.fwd\.example\.\s+\d+\s+IN\s+A\s+192\.0\.2\.1/);
    assert.equal(await upstreamHits('www.fwd.example'), 1);
    const second = dig('www.fwd.example', 'A', '+noall', '+answer');
    assert.match(second, /192\.0\.2\.11/);
    assert.equal(await upstreamHits('www.fwd.example'), 1, 'second question reached the upstream');
    // CNAME chains come back from the cache too.
    assert.match(dig('alias.fwd.example', 'A', '+short'), /www\.fwd\.example\.\n192\.0\.2\.1/);
    assert.match(dig('alias.fwd.example', 'A', '+short'), /192\.0\.2\.1/);
    assert.equal(await upstreamHits('alias.fwd.example'), 1);
  });

  test('negative answers are cached (RFC 2308)', async (t) => {
    if (skip) return t.skip();
    assert.match(dig('nope.fwd.example', 'A'), /status: NXDOMAIN/);
    assert.match(dig('nope.fwd.example', 'AAAA'), /status: NXDOMAIN/);
    assert.equal(await upstreamHits('nope.fwd.example'), 1);
  });

  test('an expired entry is asked again', async (t) => {
    if (skip) return t.skip();
    assert.match(dig('short.fwd.example', 'A', '+short'), /192\.0\.2\.2/);
    assert.equal(await upstreamHits('short.fwd.example'), 1);
    await sleep(3100);
    assert.match(dig('short.fwd.example', 'A', '+short'), /192\.0\.2\.2/);
    assert.equal(await upstreamHits('short.fwd.example'), 2);
  });

  test('`sovereign cache print` shows what dig was just answered', (t) => {
    if (skip) return t.skip();
    const answered = dig('www.fwd.example', 'A', '+noall', '+answer');
    const ttl = Number(/www\.fwd\.example\.\s+(\d+)/.exec(answered)![1]);
    const r = cli('cache', 'print', 'www.fwd.example', '--type', 'A');
    assert.equal(r.status, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.startsWith('www.fwd.example.'));
    assert.ok(line !== undefined, r.stdout);
    const cols = line.split(/\s+/);
    assert.equal(cols[1], 'A');
    assert.equal(cols[2], 'IN');
    assert.equal(cols[3], '300');
    // Counted down from the same entry dig was answered from (the CLI takes a moment to start).
    assert.ok(Number(cols[4]) <= ttl && Number(cols[4]) > 0, `remaining ${cols[4]} vs dig's ${ttl}`);
    assert.match(r.stdout, /192\.0\.2\.1\b/);
    assert.match(r.stdout, /192\.0\.2\.11/);
    const all = cli('cache', 'print');
    assert.match(all.stdout, /nope\.fwd\.example\.\s+\*\s+IN\s+\d+\s+\d+\s+NXDOMAIN/);
    assert.match(all.stdout, /alias\.fwd\.example\.\s+CNAME/);
  });

  test('`sovereign cache flush NAME --subtree` makes the next question go upstream', async (t) => {
    if (skip) return t.skip();
    const before = await upstreamHits('www.fwd.example');
    const r = cli('cache', 'flush', 'fwd.example', '--subtree');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /removed/);
    assert.equal(cli('cache', 'print', 'www.fwd.example').stdout.split('\n').filter((l) => l.startsWith('www.')).length, 0);
    dig('www.fwd.example', 'A', '+short');
    assert.equal(await upstreamHits('www.fwd.example'), before + 1);
  });

  test('hosts file: A, AAAA, NODATA for other types, PTR, and reload on change', async (t) => {
    if (skip) return t.skip();
    assert.equal(dig('myhost.lan', 'A', '+short').trim(), '192.0.2.50');
    assert.equal(dig('myhost', 'A', '+short').trim(), '192.0.2.50');
    assert.equal(dig('myhost.lan', 'AAAA', '+short').trim(), '2001:db8::50');
    const other = dig('other.lan', 'AAAA');
    assert.match(other, /status: NOERROR/);
    assert.match(other, /ANSWER: 0/);
    assert.equal(dig('-x', '192.0.2.50', '+short').trim(), 'myhost.lan.');
    assert.equal(dig('-x', '2001:db8::50', '+short').trim(), 'myhost.lan.');
    writeFileSync(hostsPath(), '192.0.2.60 myhost.lan\n');
    let now = '';
    for (let i = 0; i < 50 && now !== '192.0.2.60'; i++) {
      await sleep(100);
      now = dig('myhost.lan', 'A', '+short').trim();
    }
    assert.equal(now, '192.0.2.60');
    const reloaded = cli('reload', '--what', 'hosts');
    assert.equal(reloaded.status, 0, reloaded.stderr);
    assert.match(reloaded.stdout, /hosts .*: 1 names/);
    // other.lan is gone from the file: it goes upstream now (and BIND refuses it).
    assert.doesNotMatch(dig('other.lan', 'A'), /status: NOERROR/);
  });

  test('localData answers names a router serves itself', (t) => {
    if (skip) return t.skip();
    assert.equal(dig('router.lan', 'A', '+short').trim(), '192.168.1.1');
    assert.equal(dig('nas.lan', 'A', '+short').trim(), '192.168.1.2');
    assert.match(dig('router.lan', 'A'), /flags: qr aa rd ra/);
  });

  test('`sovereign stats` and /metrics show queries, cache and upstreams', (t) => {
    if (skip) return t.skip();
    const r = cli('stats', '--json');
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as {
      queries: { udp: number }; qtypes: Record<string, number>; rcodes: Record<string, number>;
      cache: { hits: number; misses: number };
      forwarder: { routes: { upstreams: { upstream: string; answers: number }[] }[] };
    };
    assert.ok(s.queries.udp > 10);
    assert.ok(s.qtypes.A! > 5);
    assert.ok(s.rcodes.NXDOMAIN! >= 2);
    assert.ok(s.cache.hits >= 3);
    assert.ok(s.cache.misses >= 3);
    const ups = s.forwarder.routes[0]!.upstreams;
    assert.deepEqual(ups.map((u) => u.upstream).sort(), [`${UP1}#${p1}`, `${UP2}#${p2}`].sort());
    const text = cli('stats');
    assert.match(text.stdout, /cache\.hits\s+\d+/);
    assert.match(text.stdout, /upstream 127\.26\.1\.\d#\d+ \(forward \.\): up/);
    const prom = cli('stats', '--prometheus');
    assert.match(prom.stdout, /^sovereign_cache_hits_total \d+$/m);
    assert.match(prom.stdout, /^sovereign_queries_total\{transport="udp"\} \d+$/m);
    assert.match(prom.stdout, /^sovereign_upstream_rtt_seconds_count\{zone=".",kind="forward",upstream="127\.26\.1\.1#\d+"\} \d+$/m);
  });

  test('failover: a killed upstream is skipped, none answering gives SERVFAIL + EDE, a probe brings it back', async (t) => {
    if (skip) return t.skip();
    type Ups = { forwarder: { routes: { upstreams: { upstream: string; up: boolean; srttMs: number }[] }[] } };
    const upstreams = (): Ups['forwarder']['routes'][0]['upstreams'] => (JSON.parse(cli('stats', '--json').stdout) as Ups).forwarder.routes[0]!.upstreams;
    // Kill the upstream the forwarder prefers now (lowest smoothed RTT), so the next question meets it.
    const preferred = upstreams().sort((a, b) => a.srttMs - b.srttMs)[0]!.upstream;
    const which: 1 | 2 = preferred.startsWith(`${UP1}#`) ? 1 : 2;
    await (which === 1 ? up1 : up2)!.stop();
    for (let i = 0; i < 4; i++) {
      assert.equal(dig(`n${i}.wild.fwd.example`, 'A', '+short').trim(), '192.0.2.9', `question ${i} after upstream ${which} died`);
    }
    assert.equal(upstreams().find((u) => u.upstream === preferred)!.up, false);
    await (which === 1 ? up2 : up1)!.stop();
    const failed = dig('dead.wild.fwd.example', 'A');
    assert.match(failed, /status: SERVFAIL/);
    assert.match(failed, /EDE: 2[23]/);
    if (which === 1) up1 = await startUp(1);
    else up2 = await startUp(2);
    let back = '';
    for (let i = 0; i < 40 && back !== '192.0.2.9'; i++) {
      await sleep(150);
      back = dig(`back${i}.wild.fwd.example`, 'A', '+short').trim();
    }
    assert.equal(back, '192.0.2.9');
    assert.equal(upstreams().find((u) => u.upstream === preferred)!.up, true);
  });
});

describe('forwarder with two worker processes: one control endpoint for all', { timeout: 60_000 }, () => {
  const UP = '127.26.1.21';
  const SOV2 = '127.26.1.22';
  let dir: ReturnType<typeof tempDir>;
  let up: RunningPeer | undefined;
  let sov: RunningPeer | undefined;
  let port = 0;
  let cport = 0;
  let skip = false;
  const tokenFile = (): string => join(dir.path, 'control.token');
  const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
    runTool(process.execPath, [BIN, ...args, '--control', `${SOV2}:${cport}`, '--token-file', tokenFile()]);

  before(async (t) => {
    if (!havePeers(t as never, 'named', 'dig')) {
      skip = true;
      return;
    }
    dir = tempDir('sovereign-fwd-cluster-');
    addLoopbackAddress(UP);
    const upPort = pickPort();
    port = pickPort();
    cport = pickPort();
    writeFileSync(join(dir.path, 'fwd.example.zone'), ZONE);
    up = await startNamed(dir.path, UP, upPort, [{ name: 'fwd.example', file: join(dir.path, 'fwd.example.zone') }]);
    const cfg = join(dir.path, 'sovereign.yaml');
    writeFileSync(cfg, `listen: ["${SOV2}:${port}"]
workers: 2
log: { level: warn }
forwarders: ["${UP}:${upPort}"]
control: { listen: "${SOV2}:${cport}", tokenFile: "${tokenFile()}" }
`);
    sov = await startPeer(process.execPath, [BIN, 'serve', '--config', cfg], { address: SOV2, port, zone: 'fwd.example' });
    // Both workers must be up before the control endpoint can speak for both.
    for (let i = 0; i < 50; i++) {
      const r = cli('stats', '--json');
      if (r.status === 0 && (JSON.parse(r.stdout) as { processes: number }).processes === 2) break;
      await sleep(100);
    }
  });

  after(async () => {
    // In cluster mode the primary has been seen not to exit on SIGTERM (src/server/cluster.ts); stop()
    // SIGKILLs it then: its workers exit when their IPC channel closes.
    await sov?.stop();
    await up?.stop();
    dir?.cleanup();
  });

  test('stats are summed over workers, cache print lists every worker\'s entries, flush empties them all', (t) => {
    if (skip) return t.skip();
    const before = JSON.parse(cli('stats', '--json').stdout) as { processes: number; queries: { udp: number } };
    assert.equal(before.processes, 2);
    for (let i = 0; i < 12; i++) {
      const r = runTool('dig', [`@${SOV2}`, '-p', String(port), '+tries=1', '+time=5', '+short', 'www.fwd.example', 'A']);
      assert.match(r.stdout, /192\.0\.2\.1/);
    }
    const after = JSON.parse(cli('stats', '--json').stdout) as { processes: number; queries: { udp: number }; cache: { hits: number; misses: number } };
    assert.equal(after.queries.udp - before.queries.udp, 12);
    assert.equal(after.cache.hits + after.cache.misses >= 12, true);
    const rows = JSON.parse(cli('cache', 'print', 'www.fwd.example', '--json').stdout) as { name: string; worker: number }[];
    assert.ok(rows.length >= 1 && rows.length <= 2);
    for (const r of rows) assert.equal(r.name, 'www.fwd.example.');
    const flushed = cli('cache', 'flush');
    assert.equal(flushed.status, 0, flushed.stderr);
    assert.equal(JSON.parse(cli('cache', 'print', '--json').stdout).length, 0);
    const reload = cli('reload');
    assert.equal(reload.status, 0, reload.stderr + reload.stdout);
  });
});
