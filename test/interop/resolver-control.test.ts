/**
 * `sovereign serve --recursive` (a child process, one worker) over a loopback hierarchy on
 * 127.27.x:53, driven with dig and the sovereign CLI:
 * - `sovereign cache print NAME` shows what dig was just answered by the recursive path, with
 *   original and remaining TTL; `cache flush NAME --subtree` makes the next question go
 *   upstream (seen in the resolver's upstream query counter and in the authoritative server's
 *   own query counter);
 * - `sovereign stats` and /metrics show the recursive path's counters;
 * - a stub zone whose server (BIND) answers with a referral: the referral is followed to the
 *   child zone's server, as Unbound's stub-zone does (Unbound runs beside us with the same
 *   stub-zone and root hints, and the answers must agree).
 *
 * Hierarchy: root (ours, 127.27.0.1) -> rec. (ours, 127.27.1.1) -> sub.rec. (ours, 127.27.1.2);
 * lab.stubby. on BIND (127.27.2.1), not delegated from the root, delegating kid.lab.stubby. to
 * ours (127.27.2.2). Sovereign resolves on 127.27.0.53 (and with two workers on 127.27.0.55),
 * Unbound on 127.27.0.54. Our authoritative
 * servers run as `sovereign serve` child processes too: dig and the CLI run synchronously here.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type RunningPeer, addLoopbackAddress, havePeers, pickPort, runTool, startNamed, startUnbound, tempDir, waitForDns,
} from '../helpers/peers.js';

const ROOT = '127.27.0.1';
const REC = '127.27.1.1';
const SUB = '127.27.1.2';
const LAB = '127.27.2.1';
const KID = '127.27.2.2';
const SOV = '127.27.0.53';
const UNBOUND = '127.27.0.54';
const SOV2 = '127.27.0.55';
const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;

const ZONES: Record<string, string> = {
  '.': `$TTL 86400
. SOA a.root.rec. h.root.rec. 1 1800 900 604800 86400
. NS a.root.rec.
a.root.rec. A ${ROOT}
rec. 172800 NS ns.rec.
ns.rec. 172800 A ${REC}
`,
  'rec.': `$TTL 3600
@ SOA ns h 1 3600 600 86400 300
@ NS ns
ns A ${REC}
a.root A ${ROOT}
www 300 A 127.27.8.1
www 300 A 127.27.8.2
alias 600 CNAME www
sub NS ns.sub
ns.sub A ${SUB}
`,
  'sub.rec.': `$TTL 3600
@ SOA ns h 1 3600 600 86400 300
@ NS ns
ns A ${SUB}
x 120 A 127.27.8.3
`,
  'lab.stubby.': `$TTL 3600
@ SOA ns h 1 3600 600 86400 300
@ NS ns
ns A ${LAB}
www A 127.27.8.4
kid NS ns.kid
ns.kid A ${KID}
`,
  'kid.lab.stubby.': `$TTL 3600
@ SOA ns h 1 3600 600 86400 300
@ NS ns
ns A ${KID}
host A 127.27.8.5
`,
};

interface Stats {
  processes: number;
  resolver: {
    cacheHits: number; cacheMisses: number; resolutions: number; upstreamQueries: number; upstreamReplies: number;
    upstreamRttMsSum: number; stubZones: { zone: string; servers: { server: string; queries: number; srttMs: number }[] }[];
  } | null;
}

describe('serve --recursive: cache print/flush, stats, stub zones', { timeout: 120_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  const children: ChildProcess[] = [];
  let recControl = 0;
  let hints = '';
  let bind: RunningPeer | undefined;
  let unbound: RunningPeer | undefined;
  let out = '';
  let cport = 0;
  let skip = false;
  const tokenFile = (): string => join(dir.path, 'control.token');
  const dig = (...args: string[]): string => runTool('dig', [`@${SOV}`, '+tries=1', '+time=5', ...args]).stdout;
  const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
    runTool(process.execPath, [BIN, ...args, '--control', `${SOV}:${cport}`, '--token-file', tokenFile()]);
  const stats = (): Stats => {
    const r = cli('stats', '--json');
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Stats;
  };
  /** Queries the rec. server has received (its own statistics, through its control endpoint). */
  const recQueries = (): number => {
    const r = runTool(process.execPath, [BIN, 'stats', '--json', '--control', `${REC}:${recControl}`, '--token-file', join(dir.path, 'rec.token')]);
    assert.equal(r.status, 0, r.stderr);
    const q = (JSON.parse(r.stdout) as { queries: { udp: number; tcp: number } }).queries;
    return q.udp + q.tcp;
  };
  /** Starts `sovereign serve` with this config text; resolves when it answers for `probe`. */
  const serve = async (name: string, config: string, address: string, probe: string, args: string[] = []): Promise<ChildProcess> => {
    const cfg = join(dir.path, `${name}.yaml`);
    writeFileSync(cfg, config);
    const child = spawn(process.execPath, [BIN, 'serve', '--config', cfg, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    assert.ok(await waitForDns(address, 53, probe), `sovereign (${name}) did not come up:\n${out}`);
    return child;
  };

  before(async (t) => {
    if (!havePeers(t as never, 'named', 'unbound', 'dig')) {
      skip = true;
      return;
    }
    dir = tempDir('sovereign-rescontrol-');
    for (const a of [ROOT, REC, SUB, LAB, KID, SOV, UNBOUND, SOV2]) addLoopbackAddress(a);
    const file = (zone: string): string => join(dir.path, zone === '.' ? 'root.zone' : `${zone}zone`);
    for (const [zone, text] of Object.entries(ZONES)) writeFileSync(file(zone), text);
    recControl = pickPort();
    for (const [address, zone] of [[ROOT, '.'], [REC, 'rec.'], [SUB, 'sub.rec.'], [KID, 'kid.lab.stubby.']] as const) {
      const control = address === REC ? `{ listen: "${REC}:${recControl}", tokenFile: "${join(dir.path, 'rec.token')}" }` : '{ enabled: false }';
      await serve(zone === '.' ? 'root' : zone.slice(0, -1), `listen: ["${address}:53"]
workers: 1
log: { level: warn }
zones: [{ name: "${zone}", file: "${file(zone)}" }]
control: ${control}
`, address, zone);
    }
    mkdirSync(join(dir.path, 'named'));
    bind = await startNamed(join(dir.path, 'named'), LAB, 53, [{ name: 'lab.stubby.', file: file('lab.stubby.') }]);
    hints = join(dir.path, 'root.hints');
    writeFileSync(hints, `. 3600000 NS a.root.rec.\na.root.rec. 3600000 A ${ROOT}\n`);
    mkdirSync(join(dir.path, 'unbound'));
    unbound = await startUnbound(join(dir.path, 'unbound'), UNBOUND, 53, hints,
      `  outgoing-interface: ${UNBOUND}\nstub-zone:\n  name: "lab.stubby."\n  stub-addr: ${LAB}\n`);
    cport = pickPort();
    await serve('sovereign', `listen: ["${SOV}:53"]
workers: 1
log: { level: warn }
stubZones: { lab.stubby: ["${LAB}"] }
resolver: { dnssec: false }   # the hierarchy is unsigned (validation is tested in dnssec-hierarchy)
control: { listen: "${SOV}:${cport}", tokenFile: "${tokenFile()}" }
`, SOV, 'localhost', ['--recursive', '--root-hints', hints]);
  });

  after(async () => {
    await Promise.all(children.map(async (c) => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const force = setTimeout(() => c.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(force);
    }));
    await bind?.stop();
    await unbound?.stop();
    dir?.cleanup();
  });

  test('`sovereign cache print` shows what the recursive path just answered, with original and remaining TTL', (t) => {
    if (skip) return t.skip();
    const answered = dig('alias.rec', 'A', '+noall', '+answer');
    assert.match(answered, /127\.27\.8\.1/, out);
    const ttl = Number(/^www\.rec\.\s+(\d+)/m.exec(answered)![1]);
    const r = cli('cache', 'print', 'www.rec', '--type', 'A');
    assert.equal(r.status, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.startsWith('www.rec.'));
    assert.ok(line !== undefined, r.stdout);
    const cols = line.split(/\s+/);
    assert.deepEqual(cols.slice(1, 4), ['A', 'IN', '300']);
    assert.ok(Number(cols[4]) <= ttl && Number(cols[4]) > 0, `remaining ${cols[4]} vs dig's ${ttl}`);
    assert.match(r.stdout, /127\.27\.8\.1/);
    assert.match(r.stdout, /127\.27\.8\.2/);
    assert.match(cli('cache', 'print', 'alias.rec').stdout, /^alias\.rec\.\s+CNAME\s+IN\s+600\s+\d+\s+www\.rec\.$/m);
    // Referral data the iterator cached on the way is listed too (the child delegation).
    dig('x.sub.rec', 'A', '+short');
    const all = cli('cache', 'print').stdout;
    assert.match(all, /^sub\.rec\.\s+NS\s+IN\s+3600\s+\d+\s+ns\.sub\.rec\.$/m);
    assert.match(all, /^x\.sub\.rec\.\s+A\s+IN\s+120\s+\d+\s+127\.27\.8\.3$/m);
  });

  test('a repeated question is a cache hit; `cache flush NAME --subtree` makes the next one go upstream', (t) => {
    if (skip) return t.skip();
    const s0 = stats();
    const q0 = recQueries();
    assert.match(dig('www.rec', 'A', '+short'), /127\.27\.8\.1/);
    const s1 = stats();
    assert.equal(s1.resolver!.cacheHits, s0.resolver!.cacheHits + 1);
    assert.equal(s1.resolver!.upstreamQueries, s0.resolver!.upstreamQueries);
    assert.equal(recQueries(), q0, 'no query reached rec.');
    const flushed = cli('cache', 'flush', 'rec', '--subtree');
    assert.equal(flushed.status, 0, flushed.stderr);
    assert.match(flushed.stdout, /removed/);
    assert.equal(cli('cache', 'print', 'www.rec').stdout.split('\n').filter((l) => l.startsWith('www.rec.')).length, 0);
    assert.match(dig('www.rec', 'A', '+short'), /127\.27\.8\.1/);
    const s2 = stats();
    assert.equal(s2.resolver!.cacheMisses, s1.resolver!.cacheMisses + 1);
    assert.ok(s2.resolver!.upstreamQueries > s1.resolver!.upstreamQueries, 'asked upstream again');
    assert.ok(recQueries() > q0, 'the question reached rec. again');
  });

  test('a stub zone whose server replies with a referral: followed to the child zone, as Unbound does', (t) => {
    if (skip) return t.skip();
    for (const [name, want] of [['www.lab.stubby', '127.27.8.4'], ['host.kid.lab.stubby', '127.27.8.5']] as const) {
      const ours = runTool('dig', [`@${SOV}`, '+tries=1', '+time=5', name, 'A']).stdout;
      const ub = runTool('dig', [`@${UNBOUND}`, '+tries=1', '+time=5', name, 'A']).stdout;
      assert.match(ours, /status: NOERROR/, ours);
      assert.match(ub, /status: NOERROR/, ub);
      assert.equal(dig(name, 'A', '+short').trim(), want);
      assert.equal(runTool('dig', [`@${UNBOUND}`, '+short', name, 'A']).stdout.trim(), want);
    }
    // NXDOMAIN from the child zone, the same from both.
    assert.match(dig('nope.kid.lab.stubby', 'A'), /status: NXDOMAIN/);
    assert.match(runTool('dig', [`@${UNBOUND}`, 'nope.kid.lab.stubby', 'A']).stdout, /status: NXDOMAIN/);
    // The root does not know lab.stubby: only the stub zone gets there.
    assert.match(dig('other.stubby', 'A'), /status: NXDOMAIN/);
    const s = stats();
    const stub = s.resolver!.stubZones.find((z) => z.zone === 'lab.stubby.');
    assert.ok(stub !== undefined, JSON.stringify(s.resolver));
    assert.equal(stub.servers[0]!.server, LAB);
    assert.ok(stub.servers[0]!.queries >= 2);
    assert.match(cli('cache', 'print', 'kid.lab.stubby').stdout, /^kid\.lab\.stubby\.\s+NS\s+IN\s+3600/m);
  });

  test('`sovereign stats` and /metrics show the recursive path', (t) => {
    if (skip) return t.skip();
    const s = stats();
    assert.equal(s.processes, 1);
    assert.ok(s.resolver!.resolutions >= 4);
    assert.ok(s.resolver!.upstreamReplies > 0 && s.resolver!.upstreamRttMsSum > 0);
    const text = cli('stats').stdout;
    assert.match(text, /^resolver\.cache-hits\s+[1-9]\d*$/m);
    assert.match(text, /^resolver\.upstream-queries\s+[1-9]\d*$/m);
    assert.match(text, /^resolver\.upstream-avg-rtt\s+\d+\.\d\dms$/m);
    assert.match(text, new RegExp(`^stub ${LAB.replace(/\./g, '\\.')} \\(lab\\.stubby\\.\\): queries [1-9]`, 'm'));
    const prom = cli('stats', '--prometheus').stdout;
    assert.match(prom, /^sovereign_resolver_upstream_queries_total [1-9]\d*$/m);
    assert.match(prom, /^sovereign_resolver_cache_hits_total [1-9]\d*$/m);
    assert.match(prom, /^sovereign_resolver_upstream_rtt_seconds_count [1-9]\d*$/m);
    assert.match(prom, /^sovereign_stub_server_queries_total\{zone="lab\.stubby\.",server="127\.27\.2\.1"\} [1-9]\d*$/m);
  });

  test('two workers: the resolver counters of both are summed, cache print lists both caches, flush empties them', async (t) => {
    if (skip) return t.skip();
    const cport2 = pickPort();
    const token2 = join(dir.path, 'cluster.token');
    await serve('cluster', `listen: ["${SOV2}:53"]
workers: 2
log: { level: warn }
stubZones: { lab.stubby: ["${LAB}"] }
resolver: { dnssec: false }   # unsigned hierarchy
control: { listen: "${SOV2}:${cport2}", tokenFile: "${token2}" }
`, SOV2, 'localhost', ['--recursive', '--root-hints', hints]);
    const cli2 = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
      runTool(process.execPath, [BIN, ...args, '--control', `${SOV2}:${cport2}`, '--token-file', token2]);
    let s0: Stats | undefined;
    for (let i = 0; i < 50; i++) {
      const r = cli2('stats', '--json');
      if (r.status === 0 && (s0 = JSON.parse(r.stdout) as Stats).processes === 2) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(s0?.processes, 2, out);
    const n = 12;
    for (let i = 0; i < n; i++) {
      assert.equal(runTool('dig', [`@${SOV2}`, '+tries=1', '+time=5', '+short', i % 2 === 0 ? 'www.rec' : 'host.kid.lab.stubby', 'A']).stdout.includes('127.27.8.'), true);
    }
    const s1 = JSON.parse(cli2('stats', '--json').stdout) as Stats;
    const r0 = s0!.resolver!;
    const r1 = s1.resolver!;
    // Every question was a cache hit or a miss in one of the two workers.
    assert.equal(r1.cacheHits + r1.cacheMisses - r0.cacheHits - r0.cacheMisses, n);
    assert.ok(r1.upstreamQueries > r0.upstreamQueries);
    assert.ok(r1.stubZones[0]!.servers[0]!.queries >= 1);
    const rows = JSON.parse(cli2('cache', 'print', 'www.rec', '--json').stdout) as { name: string; worker: number }[];
    assert.ok(rows.length >= 1 && rows.length <= 2, JSON.stringify(rows));
    assert.equal(cli2('cache', 'flush').status, 0);
    assert.equal((JSON.parse(cli2('cache', 'print', '--json').stdout) as unknown[]).length, 0);
    assert.match(cli2('stats', '--prometheus').stdout, /^sovereign_processes 2$/m);
  });
});
