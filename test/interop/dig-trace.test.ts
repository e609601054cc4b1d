/**
 * `sovereign dig +trace` against Debian's `dig +trace` over a small delegation hierarchy on
 * port 53 (root -> tst. -> example.tst.), served once by three BIND instances and once by three
 * `sovereign serve` processes. Both tools start at @root and must print the same hops: the same
 * records (TTLs aside, sorted within a hop), and `;; Received N bytes from addr#53(name)` lines
 * naming the same servers in the same order with the same sizes. Sovereign then prints its path
 * summary, which is checked on its own.
 *
 * Name server names are address literals (`127.24.0.3.`), so dig's own address lookups of
 * them never reach the system resolver: every packet stays on 127.24.0.x.
 *
 * Addresses: 127.24.0.1/.3/.4 (BIND), 127.24.0.11/.13/.14 (sovereign serve), port 53.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RunningPeer, addLoopbackAddress, havePeers, runTool, startNamed, startPeer, tempDir } from '../helpers/peers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const PORT = 53;

interface Hierarchy { root: string; tld: string; leaf: string }
const BIND: Hierarchy = { root: '127.24.0.1', tld: '127.24.0.3', leaf: '127.24.0.4' };
const SOV: Hierarchy = { root: '127.24.0.11', tld: '127.24.0.13', leaf: '127.24.0.14' };

function zones(h: Hierarchy): { name: string; text: string; address: string }[] {
  return [
    {
      name: '.', address: h.root, text: `$TTL 86400
.                 IN SOA ${h.root}. admin.root-servers.tst. 1 1800 900 604800 86400
.                 IN NS  ${h.root}.
${h.root}.        IN A   ${h.root}
tst.              172800 IN NS ${h.tld}.
tst2.             172800 IN NS ${h.tld}.
${h.tld}.         172800 IN A  ${h.tld}
`,
    },
    {
      name: 'tst', address: h.tld, text: `$TTL 3600
tst.              IN SOA ${h.tld}. admin.nic.tst. 1 1800 900 604800 3600
tst.              IN NS  ${h.tld}.
example.tst.      IN NS  ${h.leaf}.
glueless.tst.     IN NS  ns.tst2.
`,
    },
    {
      name: 'tst2', address: h.tld, text: `$TTL 3600
tst2.             IN SOA ${h.tld}. admin.nic.tst. 1 1800 900 604800 3600
tst2.             IN NS  ${h.tld}.
ns.tst2.          IN A   ${h.leaf}
`,
    },
    {
      name: 'example.tst', address: h.leaf, text: `$TTL 300
@      IN SOA ${h.leaf}. admin.example.tst. 1 1800 900 604800 300
@      IN NS  ${h.leaf}.
www    IN A   192.0.2.80
www    IN A   192.0.2.81
alias  IN CNAME www
mail   IN MX  10 www
`,
    },
    {
      // Delegated from tst. to ns.tst2. without glue: only our trace is run on it, since dig
      // would look that name up through the system resolver.
      name: 'glueless.tst', address: h.leaf, text: `$TTL 300
@      IN SOA ns.tst2. admin.example.tst. 1 1800 900 604800 300
@      IN NS  ns.tst2.
www    IN A   192.0.2.90
`,
    },
  ];
}

/** Hop blocks (split at blank lines), with TTLs and times masked and records sorted; no banner. */
function hops(out: string): string[][] {
  const blocks: string[][] = [];
  let cur: string[] = [];
  for (const raw of out.split('\n')) {
    if (raw.startsWith('; <<>> ') || raw.startsWith('; (') || raw.startsWith(';; global options')) continue;
    if (raw === '') {
      if (cur.length > 0) blocks.push(cur);
      cur = [];
      continue;
    }
    cur.push(raw.replace(/^(\S+\s+)\d+(\s)/, '$1TTL$2').replace(/ in \d+ ms$/, ' in T ms'));
  }
  if (cur.length > 0) blocks.push(cur);
  return blocks.map((b) => {
    const recs = b.filter((l) => !l.startsWith(';;')).sort();
    return [...recs, ...b.filter((l) => l.startsWith(';;'))];
  });
}

describe('dig +trace over a root -> tst. -> example.tst. hierarchy', { timeout: 180_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  /** BIND and `sovereign serve` processes, stopped in this order. */
  const peers: RunningPeer[] = [];
  let skip = false;

  before(async (t) => {
    if (!havePeers(t as never, 'named', 'dig')) {
      skip = true;
      return;
    }
    dir = tempDir('sovereign-trace-');
    for (const address of [BIND.root, BIND.tld, BIND.leaf]) {
      const sub = join(dir.path, `bind-${address}`);
      runTool('mkdir', ['-p', sub]);
      const specs = zones(BIND).filter((z) => z.address === address).map((z, i) => {
        const file = join(sub, `zone${i}`);
        writeFileSync(file, z.text);
        return { name: z.name, file };
      });
      peers.push(await startNamed(sub, address, PORT, specs));
    }
    const cfg = join(dir.path, 'sovereign.yaml');
    writeFileSync(cfg, 'control:\n  enabled: false\n');
    for (const address of [SOV.root, SOV.tld, SOV.leaf]) {
      addLoopbackAddress(address);
      const zoneArgs: string[] = [];
      const mine = zones(SOV).filter((z) => z.address === address);
      mine.forEach((z, i) => {
        const file = join(dir.path, `sov-${address}-${i}.zone`);
        writeFileSync(file, z.text);
        zoneArgs.push('--zone', `${z.name}=${file}`);
      });
      const z = mine[0]!;
      peers.push(await startPeer(process.execPath, [BIN, 'serve', '--config', cfg, '--workers', '1', '--listen', `${address}:${PORT}`,
        ...zoneArgs], { address: z.address, port: PORT, zone: z.name }));
    }
  });

  after(async () => {
    for (const p of peers) await p.stop();
    dir?.cleanup();
  });

  const cases: [string, string[], string][] = [
    ['answer', ['www.example.tst'], 'www.example.tst. A'],
    ['CNAME answer', ['alias.example.tst'], 'alias.example.tst. A'],
    ['MX answer', ['mail.example.tst', 'MX'], 'mail.example.tst. MX'],
    ['NXDOMAIN', ['nx.example.tst'], 'NXDOMAIN'],
    ['NODATA', ['www.example.tst', 'TXT'], 'NODATA'],
  ];

  for (const [label, h] of [['BIND', BIND], ['sovereign serve', SOV]] as const) {
    for (const [what, args, outcome] of cases) {
      test(`${what}: same hops as dig +trace, served by ${label}`, (t) => {
        if (skip) return t.skip('peers missing');
        const full = [`@${h.root}`, '-4', '+trace', '+time=3', '+tries=1', ...args];
        const dig = runTool('dig', full);
        const ours = runTool(process.execPath, [BIN, 'dig', ...full]);
        assert.equal(ours.status, 0, ours.stderr);
        assert.equal(ours.status, dig.status);
        const ourHops = hops(ours.stdout);
        // Sovereign's summary is the last block; dig has none.
        const summary = ourHops.pop()!;
        assert.deepEqual(ourHops, hops(dig.stdout));
        assert.equal(ourHops.length, 4);
        assert.equal(summary[0], ';; TRACE SUMMARY:');
        const path = summary.find((l) => l.startsWith(';; PATH: '))!;
        assert.ok(path.startsWith(`;; PATH: . -> tst. -> example.tst. -> ${outcome} (4 queries,`), path);
        assert.match(summary.join('\n'), new RegExp(`referral to example\\.tst\\. from ${h.tld.replace(/\./g, '\\.')}#53`));
      });
    }
  }

  for (const [label, h] of [['BIND', BIND], ['sovereign serve', SOV]] as const) {
    test(`+trace from root hints (no @server) prints the same hops as dig +trace @root, served by ${label}`, (t) => {
      if (skip) return t.skip('peers missing');
      const hints = join(dir.path, `hints-${h.root}`);
      writeFileSync(hints, `.  3600000  NS  ${h.root}.\n${h.root}.  3600000  A  ${h.root}\n`);
      const dig = runTool('dig', [`@${h.root}`, '-4', '+trace', '+time=3', '+tries=1', 'www.example.tst']);
      const ours = runTool(process.execPath, [BIN, 'dig', '-4', '+trace', `+hints=${hints}`, '+time=3', '+tries=1', 'www.example.tst']);
      assert.equal(ours.status, 0, ours.stderr);
      const ourHops = hops(ours.stdout);
      ourHops.pop();
      assert.deepEqual(ourHops, hops(dig.stdout));
    });

    test(`+trace follows a glueless delegation, finding the server's address from the root, served by ${label}`, (t) => {
      if (skip) return t.skip('peers missing');
      const hints = join(dir.path, `hints-${h.root}`);
      writeFileSync(hints, `.  3600000  NS  ${h.root}.\n${h.root}.  3600000  A  ${h.root}\n`);
      const ours = runTool(process.execPath, [BIN, 'dig', '-4', '+trace', `+hints=${hints}`, '+time=3', '+tries=1', 'www.glueless.tst']);
      assert.equal(ours.status, 0, ours.stdout + ours.stderr);
      assert.match(ours.stdout, /^www\.glueless\.tst\.\t\d+\tIN\tA\t192\.0\.2\.90$/m);
      assert.match(ours.stdout, new RegExp(`;; Received \\d+ bytes from ${h.leaf.replace(/\./g, '\\.')}#53\\(ns\\.tst2\\) in`));
      assert.match(ours.stdout, /;; PATH: \. -> tst\. -> glueless\.tst\. -> www\.glueless\.tst\. A \(4 queries,/);
    });
  }

  test('+trace +nostats: the same hops as dig, without the summary', (t) => {
    if (skip) return t.skip('peers missing');
    const full = [`@${SOV.root}`, '-4', '+trace', '+nostats', '+time=3', '+tries=1', 'www.example.tst'];
    const dig = runTool('dig', full);
    const ours = runTool(process.execPath, [BIN, 'dig', ...full]);
    assert.deepEqual(hops(ours.stdout), hops(dig.stdout));
    assert.match(ours.stdout, /Received/);
    assert.doesNotMatch(ours.stdout, /SUMMARY|PATH/);
  });
});
