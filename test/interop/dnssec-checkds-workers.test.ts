/**
 * checkds with `workers: 2`: only the lead worker asks the parental agents for the zone's DS (as
 * one BIND does); it records what it sees in the shared key directory and the other worker
 * follows the key files. The zone's CSK is made beforehand with dnssec-keygen (`-P sync now`: its
 * CDS is due at once); the parent, a Sovereign authoritative server in this process that counts
 * the DS queries it gets, has no DS at first (the lead's first look finds none) and gets the
 * CSK's DS (dnssec-dsfromkey) once both workers run, so the lead's next look (a minute later)
 * records it and the other worker must follow the key files. Asserted: every
 * "asking the parental agents" log line comes from one process, the parent got that many DS
 * queries (not twice as many), the DS was recorded once, and the other worker re-signed from the
 * lead's key files.
 */
import { strict as assert } from 'node:assert';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { RRType } from '../../src/wire/types.js';
import { addLoopbackAddress, havePeers, pickPort, runTool, tempDir, waitForDns } from '../helpers/peers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const AGENT = '127.27.2.1';
const OURS = '127.27.2.2';
const PARENT = 'wpar.';
const CHILD = 'kid.wpar.';
const ASK = 'asking the parental agents for the DS';

interface LogLine { pid: number; msg: string; why?: string }

function lines(out: string): LogLine[] {
  const r: LogLine[] = [];
  for (const l of out.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      r.push(JSON.parse(l) as LogLine);
    } catch { /* a line cut by the reader: the next read has it whole */ }
  }
  return r;
}

async function waitFor(ok: () => boolean, timeoutMs = 60_000): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; Date.now() < end;) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

describe('checkds with two workers: the lead alone asks the parental agents', { timeout: 300_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let agent: DnsServer | undefined;
  let sov: ChildProcess | undefined;
  let out = '';
  let skip = false;
  let keyDir = '';
  let parentZone = '';
  let dsLine = '';

  before(async (t) => {
    if (!havePeers(t as never, 'dnssec-keygen', 'dnssec-dsfromkey')) {
      skip = true;
      return;
    }
    dir = tempDir('sovereign-checkds-workers-');
    keyDir = join(dir.path, 'keys');
    const port = pickPort();
    addLoopbackAddress(AGENT);
    addLoopbackAddress(OURS);
    mkdirSync(keyDir, { recursive: true });
    const kg = runTool('dnssec-keygen', ['-q', '-a', 'ECDSAP256SHA256', '-f', 'KSK', '-P', 'sync', 'now', '-K', keyDir, CHILD]);
    assert.equal(kg.status, 0, kg.stderr);
    const ds = runTool('dnssec-dsfromkey', ['-2', join(keyDir, `${kg.stdout.trim()}.key`)]);
    assert.equal(ds.status, 0, ds.stderr);
    dsLine = ds.stdout.trim();
    parentZone = `$ORIGIN ${PARENT}
$TTL 60
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
ns A ${AGENT}
kid NS ns.kid
ns.kid A ${OURS}
`;
    writeFileSync(join(dir.path, 'parent.zone'), parentZone);
    agent = new DnsServer({
      config: defaultConfig({ listen: [`${AGENT}:${port}`], workers: 1, zones: [{ name: PARENT, file: join(dir.path, 'parent.zone') }] }),
      logger: silentLogger,
    });
    await agent.loadZones();
    await agent.start();
    writeFileSync(join(dir.path, 'kid.zone'), `$ORIGIN ${CHILD}
$TTL 60
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
ns A ${OURS}
www A 192.0.2.80
`);
    const cfg = join(dir.path, 'sovereign.yaml');
    writeFileSync(cfg, `listen: ["${OURS}:${port}"]
workers: 2
log: { level: debug, format: json }
hosts: { enabled: false }
zones:
  - name: ${CHILD}
    file: ${join(dir.path, 'kid.zone')}
    dnssec: { policy: default, keyDir: ${keyDir}, dnskeyTtl: 0, propagationDelay: 0, publishSafety: 0, parentalAgents: ["${AGENT}:${port}"] }
`);
    sov = spawn(process.execPath, [BIN, 'serve', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    sov.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    sov.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    assert.ok(await waitForDns(OURS, port, CHILD, 90_000), `sovereign did not come up:\n${out}`);
  });

  after(async () => {
    if (sov !== undefined && sov.exitCode === null) {
      const gone = new Promise((r) => sov!.once('exit', r));
      sov.kill('SIGTERM');
      await gone;
    }
    await agent?.stop();
    dir?.cleanup();
  });

  test('one process asks; the DS is recorded once; the other worker follows the key files', async (t) => {
    if (skip) return t.skip('peers missing');
    assert.ok(await waitFor(() => out.includes('all workers ready') && out.includes(ASK)), `the workers did not come up:\n${out.slice(-3000)}`);
    assert.ok(!out.includes('DS seen at the parental agents'));
    // The parent takes the DS; the lead sees it at its next look.
    writeFileSync(join(dir.path, 'parent.zone'), parentZone.replace(' 1 3600 ', ' 2 3600 ') + dsLine + '\n');
    assert.ok((await agent!.reload()).every((r) => r.ok));
    assert.ok(await waitFor(() => out.includes('DS seen at the parental agents'), 180_000), `the DS was never seen:\n${out.slice(-3000)}`);
    const asked = lines(out).filter((l) => l.msg === ASK);
    const lead = asked[0]!.pid;
    // The other worker re-signs from the key files the lead changed (the DS recorded in the .state file).
    assert.ok(await waitFor(() => lines(out).some((l) => l.msg === 'zone re-signed' && l.pid !== lead && /key files changed/.test(l.why ?? ''))),
      `the other worker did not follow the lead's key files:\n${out.slice(-3000)}`);
    const log = lines(out);
    const askers = new Set(log.filter((l) => l.msg === ASK).map((l) => l.pid));
    assert.deepEqual([...askers], [lead], 'only the lead asks the parental agents');
    assert.equal(log.filter((l) => l.msg === 'DS seen at the parental agents').length, 1);
    assert.ok(log.filter((l) => l.msg === 'DS seen at the parental agents').every((l) => l.pid === lead));
    const n = log.filter((l) => l.msg === ASK).length;
    const dsQueries = agent!.stats.qtypes[RRType.DS]!;
    // Each ask is one DS query per agent (two if a reply was lost and the query retried).
    assert.ok(dsQueries >= n && dsQueries <= 2 * n, `${dsQueries} DS queries for ${n} asks`);
    const state = readdirSync(keyDir).filter((f) => f.endsWith('.state'));
    assert.equal(state.length, 1);
    assert.match(readFileSync(join(keyDir, state[0]!), 'utf8'), /^DSPublish: \d{14}$/m);
  });
});
