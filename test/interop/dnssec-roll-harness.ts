/**
 * The loopback hierarchy the rollover interop tests run a roll in: a parent zone signed with
 * BIND's tools (dnssec-keygen, dnssec-signzone) and served by NSD, which is also the server's
 * parental agent; the child zone signed by the server (from a config file, so a reload can change
 * its policy), driven by an injected clock. At each step a fresh validating Unbound (trust anchor:
 * the parent's KSK, nothing cached from earlier steps) must answer with AD and delv must say
 * "fully validated"; the zone the server serves can be checked with dnssec-verify and
 * ldns-verify-zone. The parent follows the child's CDS when the test says so (what a parent's CDS
 * scanner does, RFC 7344 §4).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load.js';
import type { DnssecZoneStatus } from '../../src/server/zone-signing.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { recordToString } from '../../src/wire/record.js';
import type { Zone } from '../../src/zone/zone.js';
import { digReply } from '../helpers/dig-reply.js';
import { PEER_BINARIES, type RunningPeer, addLoopbackAddress, inCI, pickPort, runTool, startNsd, startPeer, tempDir, unboundServerConf } from '../helpers/peers.js';

export const ROLL_PEERS = ['nsd', 'unbound', 'dig', 'delv', 'dnssec-keygen', 'dnssec-signzone', 'dnssec-verify', 'ldns-verify-zone'] as const;

export interface RollHarnessOptions {
  parent: string;
  /** A child of `parent` (one label more). */
  child: string;
  /** NSD (parent, parental agent), the server, Unbound. */
  addresses: { nsd: string; sov: string; unbound: string };
  /** The child's `dnssec:` block (keyDir and parentalAgents are filled in). */
  dnssec: Record<string, unknown>;
}

function must(tool: string, args: string[], cwd: string): string {
  const r = runTool(tool, args, { cwd, timeoutMs: 60_000 });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export class RollHarness {
  readonly dir: { path: string; cleanup(): void };
  sov!: DnsServer;
  private nsd: RunningPeer | undefined;
  port = 0;
  now = Math.floor(Date.now() / 1000);
  readonly T0 = this.now;
  private anchorLine = '';
  private dnssec: Record<string, unknown>;
  readonly swap = (z: Zone): void => this.sov.swapZone(z);

  private constructor(readonly opts: RollHarnessOptions) {
    this.dir = tempDir('sovereign-dnssec-roll-');
    this.dnssec = { ...opts.dnssec };
  }

  /** Undefined when a peer is missing outside CI (in CI a missing peer is an error). */
  static async start(opts: RollHarnessOptions): Promise<RollHarness | undefined> {
    if (!ROLL_PEERS.every((p) => existsSync(PEER_BINARIES[p]))) {
      if (inCI) throw new Error(`missing peer(s) among ${ROLL_PEERS.join(', ')} (run scripts/install-peers.sh)`);
      return undefined;
    }
    const h = new RollHarness(opts);
    await h.init();
    return h;
  }

  private writeConfig(): string {
    const d = this.dir.path;
    const file = join(d, 'sovereign.json');
    writeFileSync(file, JSON.stringify({
      listen: [`${this.opts.addresses.sov}:${this.port}`], workers: 1, hosts: { enabled: false },
      zones: [{ name: this.opts.child, file: join(d, 'kid.zone'), dnssec: { keyDir: join(d, 'keys'), parentalAgents: [`${this.opts.addresses.nsd}:${this.port}`], ...this.dnssec } }],
    }));
    return file;
  }

  private async init(): Promise<void> {
    const d = this.dir.path;
    const { parent, addresses } = this.opts;
    this.port = pickPort();
    addLoopbackAddress(addresses.sov);
    addLoopbackAddress(addresses.unbound);
    // The parent's key: its DNSKEY is the validators' trust anchor.
    const base = must('dnssec-keygen', ['-q', '-a', 'ECDSAP256SHA256', '-f', 'KSK', '-K', d, parent], d).trim();
    this.anchorLine = readFileSync(join(d, `${base}.key`), 'utf8').split('\n').find((l) => l.includes('DNSKEY'))!.trim();
    const f = this.anchorLine.split(/\s+/);
    const at = f.indexOf('DNSKEY');
    writeFileSync(join(d, 'anchor.conf'), `trust-anchors {\n  ${parent} static-key ${f[at + 1]} ${f[at + 2]} ${f[at + 3]} "${f.slice(at + 4).join('')}";\n};\n`);
    writeFileSync(join(d, 'kid.zone'), `$TTL 20
@ SOA ns hostmaster 1 3600 600 86400 20
@ NS ns
ns A ${addresses.sov}
www A 192.0.2.80
`);
    const configPath = this.writeConfig();
    this.sov = new DnsServer({ config: loadConfigFile(configPath), configPath, logger: silentLogger, now: () => this.now });
    await this.sov.loadZones();
    await this.sov.start();
    this.sov.signing.stop(); // the test moves the clock and calls the timer's work itself
  }

  /** Changes the child's `dnssec:` block and reloads (as `sovereign reload` after editing the config). */
  async reconfigure(change: Record<string, unknown>): Promise<void> {
    this.dnssec = { ...this.dnssec, ...change };
    this.writeConfig();
    const reports = await this.sov.reload();
    assert.ok(reports.every((r) => r.ok), JSON.stringify(reports));
    this.sov.signing.stop();
  }

  async stop(): Promise<void> {
    await this.nsd?.stop();
    await this.sov?.stop();
    this.dir.cleanup();
  }

  /** Signs the parent with `ds` as the child's DS RRset and (re)starts NSD on it. */
  async publishParent(ds: string[]): Promise<void> {
    const d = this.dir.path;
    const { parent, addresses } = this.opts;
    const label = this.opts.child.slice(0, -parent.length - 1);
    writeFileSync(join(d, 'parent.zone'), `$TTL 20
@ SOA ns hostmaster ${this.now} 3600 600 86400 20
@ NS ns
ns A ${addresses.nsd}
${label} NS ns.${label}
ns.${label} A ${addresses.sov}
${ds.map((l) => `${label} 20 IN DS ${l}`).join('\n')}
`);
    must('dnssec-signzone', ['-S', '-z', '-K', d, '-o', parent, '-f', join(d, 'parent.signed'), join(d, 'parent.zone')], d);
    await this.nsd?.stop();
    this.nsd = await startNsd(d, addresses.nsd, this.port, [{ name: parent, file: join(d, 'parent.signed') }]);
  }

  /** The child's CDS records as DS RDATA text, asked of the server. */
  async cdsAsDs(): Promise<string[]> {
    const r = await digReply(this.opts.addresses.sov, this.port, [this.opts.child, 'CDS', '+norec']);
    return r.answer.map((l) => l.replace(/^.*\sCDS\s+/, '')).sort();
  }

  /** The server's answer and authority sections for NAME TYPE with DO=1. */
  async ask(name: string, type: string): Promise<string[]> {
    const r = await digReply(this.opts.addresses.sov, this.port, [name, type, '+dnssec', '+norec']);
    return [...r.answer, ...r.authority];
  }

  status(): DnssecZoneStatus {
    return this.sov.signing.status(this.sov.zones().find((z) => z.origin.toString() === this.opts.child)!.origin)!;
  }

  /** Moves the clock in 5 s steps to `to`, re-signing when something is due (what the timer does). */
  advance(to: number): void {
    while (this.now < to) {
      this.now += 5;
      if (this.now >= (this.status().nextEventAt ?? Infinity)) this.sov.signing.refreshDue(this.swap);
    }
  }

  checkParents(): Promise<void> {
    return this.sov.signing.checkParents(this.swap);
  }

  /** The zone the server serves now, through dnssec-verify (-z: a CSK signs all) and ldns-verify-zone. */
  verifyServed(step: string, csk: boolean): void {
    const zone = this.sov.zones().find((z) => z.origin.toString() === this.opts.child)!;
    const lines: string[] = [];
    for (const node of zone.nodes()) for (const set of node.rrsets) for (const d of set.rdata) lines.push(recordToString({ name: set.name, type: set.type, class: set.class, ttl: set.ttl, data: d }));
    const file = join(this.dir.path, `served-${step.replace(/\W+/g, '-')}`);
    writeFileSync(file, lines.join('\n') + '\n');
    const v = runTool('dnssec-verify', [...(csk ? ['-z'] : []), '-o', this.opts.child, file], { timeoutMs: 60_000 });
    assert.equal(v.status, 0, `${step}: dnssec-verify: ${v.stderr}`);
    const l = runTool('ldns-verify-zone', [file], { timeoutMs: 60_000 });
    assert.equal(l.status, 0, `${step}: ldns-verify-zone: ${l.stdout}${l.stderr}`);
  }

  /**
   * A fresh validating Unbound answers www, the DNSKEY RRset and a missing name with AD, and delv
   * validates www. `unboundExtra`: more server: lines (say, harden-algo-downgrade: yes).
   */
  async validates(step: string, unboundExtra = ''): Promise<void> {
    const d = this.dir.path;
    const { parent, child, addresses } = this.opts;
    const conf = join(d, 'unbound.conf');
    writeFileSync(conf, `${unboundServerConf(d, addresses.unbound, this.port)}
  module-config: "validator iterator"
  num-threads: 1
  val-log-level: 2
  trust-anchor: "${this.anchorLine}"
${unboundExtra}
stub-zone:
  name: "${parent}"
  stub-addr: ${addresses.nsd}@${this.port}
# The child's glue says port 53; the DS still comes from the parent, validated from its anchor.
stub-zone:
  name: "${child}"
  stub-addr: ${addresses.sov}@${this.port}
`);
    const unbound = await startPeer('unbound', ['-d', '-c', conf], { address: addresses.unbound, port: this.port, zone: parent });
    try {
      for (const [name, type] of [[`www.${child}`, 'A'], [child, 'DNSKEY'], [`nx.${child}`, 'A']] as const) {
        const r = await digReply(addresses.unbound, this.port, [name, type, '+dnssec', '+rec']);
        assert.equal(r.status, name.startsWith('nx.') ? 'NXDOMAIN' : 'NOERROR', `${step}: ${r.raw}\n${unbound.output().slice(-4000)}`);
        assert.ok(r.flags.includes('ad'), `${step}: ${name} ${type} not secure:\n${r.raw}\n${unbound.output().slice(-3000)}`);
      }
      const v = runTool('delv', [`@${addresses.unbound}`, '-p', String(this.port), '-a', join(d, 'anchor.conf'), `+root=${parent}`, `www.${child}`, 'A']);
      assert.equal(v.status, 0, `${step}: delv: ${v.stderr}`);
      assert.match(v.stdout, /^; fully validated$/m, `${step}: delv: ${v.stdout}${v.stderr}`);
    } finally {
      await unbound.stop();
    }
  }
}
