// The lab (src/lab) end to end, as root in namespaces this test creates under its own prefix
// (sov-labt<pid>-, never the default one, so parallel runs and a developer's lab don't collide):
// a LAN query through the NAT and the root -> TLD -> authoritative hierarchy (Sovereign, NSD,
// BIND), the trace's conntrack mapping and cache hit, the stub order (hosts, cache, LLMNR,
// NetBIOS), every `lab break` fault and its repair, `sovereign doctor` on the laptop naming each fault,
// `lab exec`, and `lab down` leaving nothing.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BREAK_KINDS, labBreak, labRepair } from '../../src/lab/break.js';
import { execInNode, labDown, labNamespaces, labQuery, labUp, requireState } from '../../src/lab/lab.js';
import { IP, labPrerequisites } from '../../src/lab/netns.js';
import { renderTraceSvg, renderTraceText } from '../../src/lab/render.js';
import type { LabState } from '../../src/lab/services.js';
import type { StubResult } from '../../src/lab/stub.js';
import { BIG_TXT, loadTopology, parseTopology } from '../../src/lab/topology.js';
import { labTrace } from '../../src/lab/trace.js';
import { parseLabArgs } from '../../src/cli/lab.js';
import { havePeers, inCI, tempDir } from '../helpers/peers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const PREFIX = `sov-labt${process.pid}-`;
const dnsOnly = { hosts: false, cache: false, llmnr: false, netbios: false };

test('topology: the default parses; bad files name the key', () => {
  const t = loadTopology(undefined);
  assert.equal(t.clients[0]!.address, '192.168.1.100');
  assert.equal(t.gateway.wan, '203.0.113.2');
  assert.throws(() => parseTopology('clients: []\n', 'x.yaml'), /x\.yaml: clients: /);
  assert.throws(() => parseTopology(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8').replace(/[\s\S]*/, 'clients: [{ name: Bad, address: 1.2.3.4 }]'), 'y.yaml'),
    /y\.yaml: clients\.0\.name: a node name/);
  assert.throws(() => parseLabArgs(['break', 'nonsense']), /unknown fault "nonsense"/);
  assert.throws(() => parseLabArgs(['exec', 'laptop']), /needs a command after --/);
  assert.deepEqual(parseLabArgs(['exec', 'gw', '--', 'ip', '-br', 'addr']).rest, ['ip', '-br', 'addr']);
});

test('not root: one clear message, nothing built', (t) => {
  if (process.getuid?.() !== 0) t.skip('run as root to drop to an unprivileged user');
  else {
    const r = spawnSync(process.execPath, [BIN, 'lab', 'up', '--prefix', PREFIX], { encoding: 'utf8', uid: 65534, gid: 65534, cwd: '/' });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'sovereign lab: the lab needs root (network namespaces, veth pairs and nftables): run it with sudo\n');
    assert.deepEqual(labNamespaces(PREFIX), []);
  }
});

describe('the lab', { concurrency: false }, () => {
  let state: LabState | undefined;
  let skip: string | undefined;
  const dir = tempDir('sov-lab-state-');

  before(async () => {
    const why = labPrerequisites();
    if (why !== undefined) {
      if (inCI) throw new Error(why);
      skip = why;
      return;
    }
    process.env.SOVEREIGN_LAB_DIR = dir.path;
    const up = await labUp(loadTopology(undefined), PREFIX);
    state = up.state;
    assert.equal(up.firstAnswer.source, 'dns', JSON.stringify(up.firstAnswer));
    // Measured, not asserted (the 10 s goal depends on the machine's load).
    process.stdout.write(`# lab up to first answer: ${(up.firstAnswerMs / 1000).toFixed(2)} s (load ${loadavg().map((l) => l.toFixed(2)).join(' ')})\n`);
  });

  after(async () => {
    await labDown(PREFIX);
    assert.deepEqual(labNamespaces(PREFIX), [], 'lab down leaves no namespace');
    const again = await labDown(PREFIX);
    assert.deepEqual(again, { stopped: 0, namespaces: 0 }, 'down is idempotent');
    dir.cleanup();
  });

  const ready = (t: { skip(m: string): void }): LabState | undefined => {
    if (skip !== undefined) t.skip(skip);
    return state;
  };
  const addrs = (r: StubResult): string[] => r.answers.map((a) => `${a.name} ${a.type} ${a.data}`);

  test('a LAN client resolves through the NAT and the hierarchy (Sovereign, NSD and BIND)', async (t) => {
    const s = ready(t);
    if (s === undefined || !havePeers(t, 'nsd', 'named', 'nmbd')) return;
    assert.deepEqual(s.processes.map((p) => `${p.node}=${p.software}`).sort(),
      ['auth-com=sovereign', 'auth-net=bind', 'gw=sovereign', 'isp=sovereign', 'laptop=sovereign', 'phone=nmbd', 'phone=sovereign', 'root=sovereign', 'tld-com=sovereign', 'tld-net=nsd']);
    const com = await labQuery(s, 'laptop', 'www.example.com', 'A', dnsOnly);
    assert.equal(com.source, 'dns');
    assert.deepEqual(addrs(com), ['www.example.com. A 192.0.2.80']);
    const net = await labQuery(s, 'phone', 'www.example.net', 'A', dnsOnly);
    assert.deepEqual(addrs(net), ['www.example.net. A 192.0.2.81']);
    const nx = await labQuery(s, 'laptop', 'nosuch.example.com', 'A', dnsOnly);
    assert.equal(nx.status, 'NXDOMAIN');
    assert.deepEqual(nx.answers, []);
  });

  test('trace: the conntrack mapping to the public address, a port collision, the resolver\'s own trace, a cache hit', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    // Cold: the resolver's cache is flushed first, so it walks from the root for this query.
    const tr = await labTrace(s, 'laptop', 'mail.example.com', 'A', { cold: true });
    assert.equal(tr.first.status, 'NOERROR');
    assert.match(tr.first.answers.join('\n'), /^mail\.example\.com\. \d+ A 192\.0\.2\.25$/);
    assert.equal(tr.mapping.original.address, '192.168.1.100');
    assert.equal(tr.mapping.public?.address, '203.0.113.2', tr.mapping.entry);
    assert.match(tr.mapping.entry!, /src=192\.168\.1\.100 dst=203\.0\.113\.53 sport=\d+ dport=53 src=203\.0\.113\.53 dst=203\.0\.113\.2/);
    assert.equal(tr.collision?.public?.address, '203.0.113.2');
    assert.equal(tr.collision?.original.port, tr.mapping.original.port, 'the second client sent from the same port');
    assert.notEqual(tr.collision?.public?.port, tr.mapping.public?.port, 'the NAT gave the second flow another public port');
    assert.deepEqual(tr.cacheBefore, [], 'nothing cached before');
    assert.ok(tr.resolverFlows.some((f) => f.node === 'auth-com' && f.server === '192.0.2.10'), JSON.stringify(tr.resolverFlows));
    // The hops are the resolver's own trace of this resolution: priming, QNAME-minimised referrals
    // (RFC 9156), the answer, then the DNSKEY sets the validator needed (RFC 4035 §5).
    const path = tr.hops.filter((h) => h.qtype !== 'DNSKEY');
    assert.deepEqual(path.map((h) => `${h.node} ${h.zone} ${h.qname} ${h.qtype} ${h.outcome} ${h.next ?? ''} ${h.ttl}`), [
      'root . . NS answer  86400',
      'root . com. A referral com. 86400',
      'tld-com com. example.com. A referral example.com. 86400',
      'auth-com example.com. mail.example.com. A answer  300',
    ]);
    assert.deepEqual(path[3]!.records, ['mail.example.com.\t300\tIN\tA\t192.0.2.25', ...path[3]!.records!.slice(1)]);
    assert.deepEqual(tr.hops.filter((h) => h.qtype === 'DNSKEY').map((h) => `${h.node} ${h.qname}`).sort(), ['auth-com example.com.', 'root .', 'tld-com com.']);
    assert.ok(tr.hops.every((h) => h.udpSize === 1232 && h.dnssecOk && h.transport === 'udp' && h.aa !== undefined), JSON.stringify(tr.hops));
    // The trace and the resolver's conntrack flows agree on whom it asked.
    assert.deepEqual([...new Set(tr.hops.map((h) => h.server))].sort(), [...new Set(tr.resolverFlows.map((f) => f.server))].sort());
    assert.match(tr.cacheAfter.join('\n'), /mail\.example\.com\.\s+A\s+IN\s+300\s+\d+\s+192\.0\.2\.25/);
    assert.equal(tr.cacheHit, true, 'the second query is answered from the cache');
    assert.equal(tr.secondUpstreamFlows, 0);
    assert.deepEqual(tr.second.answers.map((a) => a.replace(/ \d+ /, ' TTL ')), ['mail.example.com. TTL A 192.0.2.25']);
    const text = renderTraceText(tr);
    assert.match(text, /laptop 192\.168\.1\.100:\d+ -> 203\.0\.113\.2:\d+/);
    assert.match(text, /\n5\. what the resolver did \(its own trace\): 7 upstream queries\n/);
    assert.match(text, /\+\s*\d+ ms tld-com\s+198\.51\.100\.10\s+zone com\.\s+example\.com\. A EDNS 1232 DO\s+-> referral to example\.com\. \(NS TTL 86400\)/);
    const json = JSON.parse(JSON.stringify(tr)) as typeof tr;
    assert.deepEqual(json.hops.map((h) => h.server), tr.hops.map((h) => h.server), 'the JSON output carries the same hops');
    const svg = renderTraceSvg(tr);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    for (const actor of ['laptop', 'gw', 'isp', 'root', 'tld-com', 'auth-com']) assert.ok(svg.includes(`>${actor}</text>`), actor);
    assert.ok(svg.includes('&gt;example.com. A? (RD=0, EDNS 1232 DO)') || svg.includes('>example.com. A? (RD=0, EDNS 1232 DO)'), 'a hop\'s question on its arrow');
    assert.equal(svg.match(/marker-end/g)?.length, tr.steps.filter((x) => x.from !== x.to).length, 'one arrow per step');
  });

  test('stub order: hosts file, stub cache, LLMNR and NetBIOS for single-label names between lab hosts', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const hosts = await labQuery(s, 'laptop', 'printer.lan');
    assert.equal(hosts.source, 'hosts');
    assert.deepEqual(addrs(hosts), ['printer.lan. A 192.168.1.50']);
    const first = await labQuery(s, 'laptop', 'example.com');
    assert.equal(first.source, 'dns');
    const second = await labQuery(s, 'laptop', 'example.com');
    assert.equal(second.source, 'cache');
    assert.deepEqual(addrs(second), ['example.com. A 192.0.2.80']);
    const llmnr = await labQuery(s, 'laptop', 'phone');
    assert.deepEqual(llmnr.steps.map((x) => x.source), ['hosts', 'cache', 'dns', 'llmnr']);
    assert.equal(llmnr.source, 'llmnr');
    assert.deepEqual(addrs(llmnr), ['phone. A 192.168.1.101']);
    const nb = await labQuery(s, 'phone', 'laptop', 'A', { llmnr: false });
    assert.equal(nb.source, 'netbios');
    assert.deepEqual(addrs(nb), ['laptop. A 192.168.1.100']);
    // The phone's NetBIOS name is Samba's nmbd's (interop); it registers by broadcast first.
    if (havePeers(t, 'nmbd')) {
      let byNmbd: StubResult;
      const deadline = Date.now() + 30_000;
      do byNmbd = await labQuery(s, 'laptop', 'phone', 'A', { llmnr: false, cache: false });
      while (byNmbd.source !== 'netbios' && Date.now() < deadline);
      assert.equal(byNmbd.source, 'netbios', JSON.stringify(byNmbd));
      assert.deepEqual(addrs(byNmbd), ['phone. A 192.168.1.101']);
    }
    // And the other way: Samba's nmblookup on the phone asks the laptop's Sovereign responder
    // (name query by broadcast, then node status, RFC 1002 §4.2.12 and §4.2.17).
    if (havePeers(t, 'nmblookup')) {
      const nb2 = await execInNode(s, 'phone', ['/usr/bin/nmblookup', '-s', '/dev/null', '-B', '192.168.1.255', '-S', 'LAPTOP'], 30_000);
      assert.equal(nb2.status, 0, nb2.stderr);
      assert.match(nb2.stdout, /^192\.168\.1\.100 LAPTOP<00>$/m, nb2.stdout);
      assert.match(nb2.stdout, /^\s+LAPTOP\s+<00> -\s+B <ACTIVE>\s*$/m, nb2.stdout);
    }
    const none = await labQuery(s, 'phone', 'nobody');
    assert.equal(none.source, 'none');
    assert.deepEqual(none.steps.map((x) => x.source), ['hosts', 'cache', 'dns', 'llmnr', 'netbios']);
  });

  test('every fault changes the outcome as expected, and repair restores it', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const www = async (): Promise<StubResult> => labQuery(requireState(PREFIX), 'laptop', 'www.example.com', 'A', dnsOnly);
    const failed = (r: StubResult, kind: string): void => {
      assert.deepEqual(r.answers, [], kind);
      assert.ok(r.status === 'SERVFAIL' || r.status === 'TIMEOUT', `${kind}: ${r.status}`);
    };
    for (const kind of ['resolver-down', 'udp53-blocked', 'lame-delegation', 'wrong-ds'] as const) {
      await labBreak(requireState(PREFIX), kind);
      failed(await www(), kind);
      assert.deepEqual(requireState(PREFIX).broken, [kind]);
      await labRepair(requireState(PREFIX), kind);
      assert.deepEqual(addrs(await www()), ['www.example.com. A 192.0.2.80'], `${kind} repaired`);
    }

    // Poisoning aims at the unsigned example.net (BIND): a forged answer for the signed
    // example.com would be bogus to the validating resolver.
    const wwwNet = async (): Promise<StubResult> => labQuery(requireState(PREFIX), 'phone', 'www.example.net', 'A', dnsOnly);
    await labBreak(requireState(PREFIX), 'poisoned-cache');
    const poisoned = await wwwNet();
    assert.deepEqual(addrs(poisoned), ['www.example.net. A 198.51.100.66'], 'the attacker\'s address, from the caches');
    assert.ok(poisoned.answers[0]!.ttl > 300, 'with the attacker\'s long TTL');
    assert.deepEqual(addrs(await www()), ['www.example.com. A 192.0.2.80'], 'other names are not touched');
    await labRepair(requireState(PREFIX), 'poisoned-cache');
    assert.deepEqual(addrs(await wwwNet()), ['www.example.net. A 192.0.2.81']);

    await labBreak(requireState(PREFIX), 'broken-mtu');
    // The ~1100-octet answer from the ISP resolver to the gateway's forwarder is lost on the WAN
    // link; the forwarder offers 512 after the timeout (RFC 6891 §6.2.5, as BIND and Unbound do),
    // gets TC=1 and fetches the answer over TCP (its MSS clamped to the link): it still resolves.
    const big = await labQuery(requireState(PREFIX), 'laptop', 'big.example.com', 'TXT', dnsOnly);
    assert.equal(big.status, 'NOERROR', JSON.stringify(big));
    assert.deepEqual(big.answers.map((a) => `${a.name} ${a.type} ${a.data}`), [`big.example.com. TXT ${BIG_TXT}`]);
    assert.deepEqual(addrs(await www()), ['www.example.com. A 192.0.2.80'], 'small answers still pass');
    const gw = requireState(PREFIX).processes.find((p) => p.node === 'gw')!;
    const stats = await execInNode(requireState(PREFIX), 'gw', [process.execPath, BIN, 'stats', '--json', '-c', gw.config!]);
    const up = (JSON.parse(stats.stdout) as { forwarder: { routes: { upstreams: { ednsSizeFallbacks?: number }[] }[] } }).forwarder.routes[0]!.upstreams[0]!;
    assert.ok((up.ednsSizeFallbacks ?? 0) >= 1, `the forwarder lowered its EDNS size: ${stats.stdout}`);
    await labRepair(requireState(PREFIX), 'broken-mtu');
    const bigAgain = await labQuery(requireState(PREFIX), 'laptop', 'big.example.com', 'TXT', dnsOnly);
    assert.equal(bigAgain.answers.length, 1);
    assert.equal(bigAgain.answers[0]!.data.length, 5 * 203 - 1);
    assert.deepEqual(requireState(PREFIX).broken, []);
  });

  test('sovereign doctor, run on the laptop, names each fault in its layer', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const hints = join(s.dir, 'isp', 'root.hints');
    /** The doctor as a user on the laptop runs it (resolv.conf names the gateway), the lab's root as root hints. */
    const doctor = async (name: string): Promise<string[]> => {
      const r = await execInNode(requireState(PREFIX), 'laptop', [process.execPath, BIN, 'doctor', name, '--root-hints', hints, '--large', 'big.example.com/TXT', '--json']);
      const d = JSON.parse(r.stdout) as { findings: { layer: string; check: string; verdict: string }[] };
      return d.findings.filter((f) => f.verdict === 'fail').map((f) => `${f.layer}/${f.check}`).sort();
    };
    assert.deepEqual(await doctor('www.example.com'), [], 'healthy: no failure');
    // What each fault must be called (the finding that names it; others may come along).
    const named: [kind: typeof BREAK_KINDS[number], name: string, must: string[]][] = [
      // The gateway's forwarder answers SERVFAIL while the root path works: the resolver side.
      ['resolver-down', 'www.example.com', ['reach/answer']],
      // Nothing answers over UDP from the LAN to the Internet (the root walk fails at the root).
      ['udp53-blocked', 'www.example.com', ['delegation/walk', 'reach/answer']],
      ['poisoned-cache', 'www.example.net', ['compare/poisoned']],
      ['lame-delegation', 'www.example.com', ['delegation/walk', 'reach/answer']],
      ['wrong-ds', 'www.example.com', ['delegation/ds-match', 'dnssec/bogus', 'reach/answer']],
      // The gateway's forwarder copes (EDNS fallback), so only the laptop's own path to an
      // authoritative server shows it: the big UDP answer is lost, small ones and TCP arrive.
      ['broken-mtu', 'www.example.com', ['edns/path-mtu']],
    ];
    assert.deepEqual(named.map(([k]) => k).sort(), [...BREAK_KINDS].sort(), 'every fault is diagnosed');
    for (const [kind, name, must] of named) {
      await labBreak(requireState(PREFIX), kind);
      try {
        const fails = await doctor(name);
        for (const m of must) assert.ok(fails.includes(m), `${kind}: ${m} in ${JSON.stringify(fails)}`);
      } finally {
        await labRepair(requireState(PREFIX), kind);
      }
    }
    assert.deepEqual(await doctor('www.example.com'), [], 'repaired: no failure');
  });

  test('the gateway forwards its public port 8080 to the laptop\'s port 80 (DNAT, source kept)', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const server = spawn(IP, ['netns', 'exec', `${PREFIX}laptop`, process.execPath, '-e',
      "require('net').createServer((c) => c.end('hello ' + c.remoteAddress + '\\n')).listen(80, '192.168.1.100', () => console.log('ready'))"],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((res, rej) => {
        server.stdout.once('data', () => res());
        server.once('exit', (c) => rej(new Error(`listener exited ${c}`)));
      });
      const r = await execInNode(s, 'isp', [process.execPath, '-e',
        "const c = require('net').connect(8080, '203.0.113.2'); c.pipe(process.stdout); c.on('error', (e) => { console.error(e.message); process.exit(1); })"], 20_000);
      assert.equal(r.stdout, 'hello 203.0.113.53\n', r.stderr);
    } finally {
      server.kill('SIGKILL');
    }
  });

  test('sovereign lab status / query / exec from the command line', (t) => {
    if (ready(t) === undefined) return;
    const env = { ...process.env, SOVEREIGN_LAB_DIR: dir.path };
    const status = spawnSync(process.execPath, [BIN, 'lab', 'status', '--prefix', PREFIX], { encoding: 'utf8', env });
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /^lab sov-labt\d+-\*: up\n/);
    const q = spawnSync(process.execPath, [BIN, 'lab', 'query', 'laptop', 'router', '--prefix', PREFIX], { encoding: 'utf8', env });
    assert.equal(q.status, 0, q.stderr);
    assert.match(q.stdout, /^;; router\. A: from hosts\n/);
    assert.match(q.stdout, /\nrouter\.\t0\tIN\tA\t192\.168\.1\.1\n$/);
    const x = spawnSync(process.execPath, [BIN, 'lab', 'exec', 'laptop', '--prefix', PREFIX, '--', '/usr/sbin/ip', '-4', '-o', 'addr', 'show', 'eth0'], { encoding: 'utf8', env });
    assert.equal(x.status, 0, x.stderr);
    assert.match(x.stdout, /inet 192\.168\.1\.100\/24 brd 192\.168\.1\.255/);
    const bad = spawnSync(process.execPath, [BIN, 'lab', 'exec', 'nowhere', '--prefix', PREFIX, '--', 'true'], { encoding: 'utf8', env });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /no lab node "nowhere"/);
  });
});

test('lab down after a crashed lab up, without SOVEREIGN_LAB_DIR: every process counted and stopped, then idempotent', async (t) => {
  const why = labPrerequisites();
  if (why !== undefined) {
    if (inCI) throw new Error(why);
    return t.skip(why);
  }
  const prefix = `sov-labc${process.pid}-`;
  const env = { ...process.env };
  delete env.SOVEREIGN_LAB_DIR;
  const up = spawn(process.execPath, [BIN, 'lab', 'up', '--prefix', prefix], { env, stdio: 'ignore' });
  try {
    // Crash it once servers run in the namespaces, before it recorded them all.
    const deadline = Date.now() + 60_000;
    // The root's server wrote its PID file (default state directory): it is up and lab up is still starting the others.
    const rootPid = join('/run/sovereign-lab', prefix, 'root', 'sovereign.pid');
    while (!existsSync(rootPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    up.kill('SIGKILL');
    await new Promise((r) => up.once('exit', r));
    const pids = labNamespaces(prefix).flatMap((n) => (spawnSync(IP, ['netns', 'pids', n], { encoding: 'utf8' }).stdout ?? '').split('\n').filter((x) => /^\d+$/.test(x)).map(Number));
    assert.ok(pids.length > 0, 'servers outlived the crashed lab up');
    const down = spawnSync(process.execPath, [BIN, 'lab', 'down', '--prefix', prefix], { encoding: 'utf8', env });
    assert.equal(down.status, 0, down.stderr);
    const m = /^lab down: (\d+) process\(es\) stopped, (\d+) namespace\(s\) removed\n$/.exec(down.stdout);
    assert.ok(m !== null, down.stdout);
    assert.ok(Number(m[1]) >= pids.length, `${m[1]} stopped, ${pids.length} were running`);
    assert.equal(Number(m[2]), 11, 'every namespace of the default topology');
    assert.deepEqual(labNamespaces(prefix), []);
    // Gone, or a zombie waiting for a reaper (its parent, lab up, was killed).
    const gone = (pid: number): boolean => !existsSync(`/proc/${pid}/stat`) || / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ''));
    for (const pid of pids) assert.ok(gone(pid), `pid ${pid} is gone`);
    const again = spawnSync(process.execPath, [BIN, 'lab', 'down', '--prefix', prefix], { encoding: 'utf8', env });
    assert.equal(again.stdout, 'lab down: 0 process(es) stopped, 0 namespace(s) removed\n');
  } finally {
    up.kill('SIGKILL');
    await labDown(prefix);
  }
});
