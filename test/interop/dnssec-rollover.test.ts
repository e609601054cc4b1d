/**
 * Interop: a CSK rollover of a zone signed by the server, under a parent signed with BIND's tools
 * and served by NSD, driven by an injected clock. The parent is the server's parental agent: the
 * roll waits until NSD serves the new DS, which the test puts there from the CDS records the
 * server publishes (what a parent's CDS scanner does, RFC 7344 §4), then retires the old key. At
 * every step a fresh validating Unbound (trust anchor: the parent's KSK) answers with AD, and delv
 * says "fully validated", over the DS the parent publishes at that moment.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { digReply } from '../helpers/dig-reply.js';
import { PEER_BINARIES, type RunningPeer, addLoopbackAddress, inCI, pickPort, runTool, startNsd, startPeer, tempDir, unboundServerConf } from '../helpers/peers.js';

const PARENT = 'rollp.';
const CHILD = 'kid.rollp.';
const NSD = '127.27.0.1';
const SOV = '127.27.0.2';
const UNBOUND = '127.27.0.3';
const PEERS = ['nsd', 'unbound', 'dig', 'delv', 'dnssec-keygen', 'dnssec-signzone'] as const;

function must(tool: string, args: string[], cwd: string): string {
  const r = runTool(tool, args, { cwd, timeoutMs: 60_000 });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('CSK rollover under a BIND-signed parent: Unbound and delv validate every step', { concurrency: false }, () => {
  let dir: { path: string; cleanup(): void } | undefined;
  let sov: DnsServer | undefined;
  let nsd: RunningPeer | undefined;
  let port = 0;
  let now = Math.floor(Date.now() / 1000);
  const T0 = now;
  let skip = false;
  let anchorLine = '';

  /** Signs the parent with `ds` as the child's DS RRset and (re)starts NSD on it. */
  async function publishParent(ds: string[]): Promise<void> {
    const d = dir!.path;
    writeFileSync(join(d, 'parent.zone'), `$TTL 20
@ SOA ns hostmaster ${now} 3600 600 86400 20
@ NS ns
ns A ${NSD}
kid NS ns.kid
ns.kid A ${SOV}
${ds.map((l) => `kid 20 IN DS ${l}`).join('\n')}
`);
    must('dnssec-signzone', ['-S', '-z', '-K', d, '-o', PARENT, '-f', join(d, 'parent.signed'), join(d, 'parent.zone')], d);
    await nsd?.stop();
    nsd = await startNsd(d, NSD, port, [{ name: PARENT, file: join(d, 'parent.signed') }]);
  }

  /** The child's CDS records as DS RDATA text, asked of the server. */
  async function cdsAsDs(): Promise<string[]> {
    const r = await digReply(SOV, port, [CHILD, 'CDS', '+norec']);
    return r.answer.map((l) => l.replace(/^.*\sCDS\s+/, '')).sort();
  }

  /** A fresh validating Unbound (nothing cached from earlier steps) answers www with AD, and delv validates it. */
  async function validates(step: string): Promise<void> {
    const d = dir!.path;
    const conf = join(d, 'unbound.conf');
    writeFileSync(conf, `${unboundServerConf(d, UNBOUND, port)}
  module-config: "validator iterator"
  num-threads: 1
  val-log-level: 2
  trust-anchor: "${anchorLine}"
stub-zone:
  name: "${PARENT}"
  stub-addr: ${NSD}@${port}
# The child's glue says port 53; the DS still comes from the parent, validated from its anchor.
stub-zone:
  name: "${CHILD}"
  stub-addr: ${SOV}@${port}
`);
    const unbound = await startPeer('unbound', ['-d', '-c', conf], { address: UNBOUND, port, zone: PARENT });
    try {
      for (const [name, type] of [[`www.${CHILD}`, 'A'], [CHILD, 'DNSKEY'], [`nx.${CHILD}`, 'A']] as const) {
        const r = await digReply(UNBOUND, port, [name, type, '+dnssec', '+rec']);
        assert.equal(r.status, name.startsWith('nx.') ? 'NXDOMAIN' : 'NOERROR', `${step}: ${r.raw}\n${unbound.output().slice(-4000)}`);
        assert.ok(r.flags.includes('ad'), `${step}: ${name} ${type} not secure:\n${r.raw}\n${unbound.output().slice(-3000)}`);
      }
      const v = runTool('delv', [`@${UNBOUND}`, '-p', String(port), '-a', join(d, 'anchor.conf'), `+root=${PARENT}`, `www.${CHILD}`, 'A']);
      assert.equal(v.status, 0, `${step}: delv: ${v.stderr}`);
      assert.match(v.stdout, /^; fully validated$/m, `${step}: delv: ${v.stdout}${v.stderr}`);
    } finally {
      await unbound.stop();
    }
  }

  before(async () => {
    if (!PEERS.every((p) => existsSync(PEER_BINARIES[p]))) {
      if (inCI) throw new Error(`missing peer(s) among ${PEERS.join(', ')} (run scripts/install-peers.sh)`);
      skip = true;
      return;
    }
    dir = tempDir('sovereign-dnssec-roll-');
    const d = dir.path;
    port = pickPort();
    addLoopbackAddress(SOV);
    addLoopbackAddress(UNBOUND);
    // The parent's key: its DNSKEY is the validators' trust anchor.
    const base = must('dnssec-keygen', ['-q', '-a', 'ECDSAP256SHA256', '-f', 'KSK', '-K', d, PARENT], d).trim();
    const line = readFileSync(join(d, `${base}.key`), 'utf8').split('\n').find((l) => l.includes('DNSKEY'))!;
    anchorLine = line.trim();
    const f = anchorLine.split(/\s+/);
    const at = f.indexOf('DNSKEY');
    writeFileSync(join(d, 'anchor.conf'), `trust-anchors {\n  ${PARENT} static-key ${f[at + 1]} ${f[at + 2]} ${f[at + 3]} "${f.slice(at + 4).join('')}";\n};\n`);
    writeFileSync(join(d, 'kid.zone'), `$TTL 20
@ SOA ns hostmaster 1 3600 600 86400 20
@ NS ns
ns A ${SOV}
www A 192.0.2.80
`);
    const dnssec = {
      policy: 'default' as const, keyDir: join(d, 'keys'), cskLifetime: 200, dnskeyTtl: 20, propagationDelay: 10, publishSafety: 5,
      retireSafety: 5, parentDsTtl: 20, parentPropagationDelay: 5, parentalAgents: [`${NSD}:${port}`],
    };
    sov = new DnsServer({
      config: defaultConfig({ listen: [`${SOV}:${port}`], workers: 1, zones: [{ name: CHILD, file: join(d, 'kid.zone'), dnssec }] }),
      logger: silentLogger, now: () => now,
    });
    await sov.loadZones();
    await sov.start();
    sov.signing.stop(); // the test moves the clock and calls the timer's work itself
    // The parent starts with the DS of the first CSK (its CDS appears after Ipub = 35 s).
    now += 40;
    sov.signing.refreshDue((z) => sov!.swapZone(z));
    const ds = await cdsAsDs();
    assert.equal(ds.length, 1);
    await publishParent(ds);
  });

  after(async () => {
    await nsd?.stop();
    await sov?.stop();
    dir?.cleanup();
  });

  test('each step of the roll validates; the old key goes only after the parent shows the new DS', async (t) => {
    if (skip) {
      t.skip('peers missing');
      return;
    }
    const swap = (z: Parameters<DnsServer['swapZone']>[0]): void => sov!.swapZone(z);
    const origin = sov!.signing.status(sov!.zones().find((z) => z.origin.toString() === CHILD)!.origin)!;
    const [first] = origin.keys;
    assert.equal(origin.keys.length, 1);
    const status = (): NonNullable<ReturnType<DnsServer['signing']['status']>> => sov!.signing.status(sov!.zones().find((z) => z.origin.toString() === CHILD)!.origin)!;
    await sov!.signing.checkParents(swap);
    assert.equal(status().keys[0]!.ds, 'published', 'the parental agent shows the first DS');
    await validates('start');

    // The roll starts at Activate + 200 - Ipub: the new CSK is published and signs beside the old.
    const advance = (to: number): void => {
      while (now < to) {
        now += 5;
        if (now >= Math.min(...[status().nextEventAt ?? Infinity])) sov!.signing.refreshDue(swap);
      }
    };
    advance(T0 + 170);
    const second = status().keys.find((k) => k.predecessor === first!.tag)!;
    assert.ok(second !== undefined);
    await validates('successor published');
    advance(T0 + 215);
    assert.deepEqual((await cdsAsDs()).length, 2, 'CDS for both keys');
    // The parent does not have the new DS yet: checkds leaves the roll waiting, however long.
    await sov!.signing.checkParents(swap);
    advance(T0 + 400);
    assert.equal(status().keys.find((k) => k.tag === first!.tag)!.state, 'active');
    assert.match(status().keys.find((k) => k.tag === second.tag)!.waiting ?? '', /parent's DS/);
    await validates('waiting for the parent');

    // The parent takes the CDS (both DS): checkds sees it, the old key retires 30 s later.
    await publishParent(await cdsAsDs());
    await validates('double DS at the parent');
    await sov!.signing.checkParents(swap);
    assert.equal(status().keys.find((k) => k.tag === second.tag)!.ds, 'published');
    advance(now + 40);
    assert.equal(status().keys.find((k) => k.tag === first!.tag)!.state, 'retired');
    const cds = await cdsAsDs();
    assert.equal(cds.length, 1, 'only the new key\'s CDS');
    assert.match(cds[0]!, new RegExp(`^${second.tag} 13 2 `));
    await validates('old key retired');
    // The parent follows the CDS: only the new DS; the old key leaves the DNSKEY RRset.
    await publishParent(cds);
    await validates('new DS only');
    advance(now + 100);
    assert.equal(status().keys.find((k) => k.tag === first!.tag)!.state, 'removed');
    const keys = await digReply(SOV, port, [CHILD, 'DNSKEY', '+norec']);
    assert.equal(keys.answer.length, 1, keys.raw);
    await validates('old key removed');
    await sov!.signing.checkParents(swap);
    assert.equal(status().keys.find((k) => k.tag === first!.tag)!.ds, 'withdrawn');
    // The key files stay in BIND's format with the timing metadata the roll gave them.
    const files = readdirSync(join(dir!.path, 'keys'));
    assert.equal(files.filter((n) => n.endsWith('.state')).length, 2);
    const oldKey = readFileSync(join(dir!.path, 'keys', files.find((n) => n.endsWith(`${String(first!.tag).padStart(5, '0')}.key`))!), 'utf8');
    assert.match(oldKey, /^; Inactive: \d{14} /m);
    assert.match(oldKey, /^; Delete: \d{14} /m);
    assert.match(oldKey, /^; SyncDelete: \d{14} /m);
  });
});
