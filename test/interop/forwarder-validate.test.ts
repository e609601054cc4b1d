/**
 * The validating forwarder (`forwarding.dnssec`) behind a NON-validating upstream: Unbound with
 * `module-config: "iterator"` in front of the signed loopback hierarchy (dnssec-hierarchy.ts).
 * Sovereign forwards to it, fetches DS/DNSKEY through it and validates from the same root anchor;
 * RCODE, AD and answers must agree with a validating Unbound over the same hierarchy, bogus zones
 * answer SERVFAIL with our Extended DNS Error, and CD=1 passes the data through unchecked.
 */
import { strict as assert } from 'node:assert';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { Rcode } from '../../src/wire/constants.js';
import { decodeOption, newEdns } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { recordToString } from '../../src/wire/record.js';
import { typeFromString } from '../../src/wire/types.js';
import { PEER_BINARIES, type RunningPeer, havePeers, startUnbound, tempDir, waitForDns } from '../helpers/peers.js';
import { CASES, DADDR, EDE, type SignedHierarchy, startSignedHierarchy } from './dnssec-hierarchy.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
/** The non-validating Unbound we forward to. */
const PLAIN = '127.26.0.55';

interface Seen {
  rcode: string;
  ad: boolean;
  answer: string[];
  ede: number[];
}

async function ask(server: string, name: string, type: string, flags: { cd?: boolean; dnssecOk?: boolean } = {}): Promise<Seen> {
  const q = Message.query(name, typeFromString(type)!, { rd: true, edns: newEdns({ udpSize: 1232, dnssecOk: flags.dnssecOk ?? true }) });
  q.cd = flags.cd === true;
  const m = (await exchange(q, { address: server, port: 53 }, { timeoutMs: 8000, tries: 2 })).message;
  const ede: number[] = [];
  for (const o of m.edns?.options ?? []) if (o.code === 15) ede.push((decodeOption(o) as { infoCode?: number }).infoCode ?? -1);
  return {
    rcode: Object.entries(Rcode).find(([, v]) => v === m.rcode)?.[0] ?? String(m.rcode),
    ad: m.ad,
    answer: m.answer.map((rr) => recordToString({ ...rr, ttl: 0 }).replace(/\s+/g, ' ')).sort(),
    ede,
  };
}

describe('validating forwarder behind a non-validating Unbound, against a validating Unbound', { timeout: 300_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let h: SignedHierarchy | undefined;
  const peers: RunningPeer[] = [];
  let sov: ChildProcess | undefined;
  let out = '';
  let skip = false;

  before(async (t) => {
    if (!havePeers(t as never, 'named', 'nsd', 'unbound', 'dnssec-signzone', 'ldns-signzone', 'knotd', 'keymgr', 'kzonesign')) {
      skip = true;
      return;
    }
    dir = tempDir('sovereign-fwd-validate-');
    h = await startSignedHierarchy(dir.path);
    const sub = (n: string): string => {
      const p = join(dir.path, n);
      mkdirSync(p, { recursive: true });
      return p;
    };
    // module-config "iterator": no validation, answers whatever the zones say (AD never set).
    peers.push(await startUnbound(sub('unbound-plain'), PLAIN, 53, h.hintsFile, `  outgoing-interface: ${PLAIN}\n`));
    peers.push(await startUnbound(sub('unbound-validating'), DADDR.unbound, 53, h.hintsFile, `  outgoing-interface: ${DADDR.unbound}
  module-config: "validator iterator"
  trust-anchor-file: "${h.anchorFile}"
  domain-insecure: "ntaexp.vld"
`));
    const cfg = join(dir.path, 'sovereign.yaml');
    writeFileSync(cfg, `workers: 1
log: { level: warn }
hosts: { enabled: false }
forwarders: ["${PLAIN}"]
forwarding: { dnssec: true }
resolver: { trustAnchors: ["${h.anchorFile}"], negativeTrustAnchors: ["ntaexp.vld"] }
control: { listen: "${DADDR.ours}:8053", tokenFile: "${join(dir.path, 'token')}" }
`);
    sov = spawn(process.execPath, [BIN, 'serve', '--config', cfg, '--listen', `${DADDR.ours}:53`], { stdio: ['ignore', 'pipe', 'pipe'] });
    sov.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    sov.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    assert.ok(await waitForDns(DADDR.ours, 53, '.'), `sovereign did not come up:\n${out}`);
  });

  after(async () => {
    if (sov !== undefined && sov.exitCode === null) {
      const gone = new Promise((r) => sov!.once('exit', r));
      sov.kill('SIGTERM');
      await gone;
    }
    await Promise.all(peers.map((p) => p.stop()));
    await h?.stop();
    dir?.cleanup();
  });

  test('the upstream does not validate: bogus data comes back NOERROR without AD', async (t) => {
    if (skip) return t.skip('peers missing');
    const r = await ask(PLAIN, 'www.tamper.vld.', 'A');
    assert.deepEqual({ rcode: r.rcode, ad: r.ad }, { rcode: 'NOERROR', ad: false });
  });

  test('RCODE, AD and answers agree with the validating Unbound for every name (DO=1), asked twice (miss, then cache)', async (t) => {
    if (skip) return t.skip('peers missing');
    const problems: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (const [name, type, rcode, ad] of CASES) {
        const ours = await ask(DADDR.ours, name, type);
        const theirs = await ask(DADDR.unbound, name, type);
        const label = `${name} ${type} (round ${round + 1})`;
        if (theirs.rcode !== rcode || theirs.ad !== ad) problems.push(`${label}: Unbound says ${theirs.rcode} ad=${theirs.ad}, the test expects ${rcode} ad=${ad}`);
        if (ours.rcode !== theirs.rcode || ours.ad !== theirs.ad) problems.push(`${label}: ours ${ours.rcode} ad=${ours.ad}, Unbound ${theirs.rcode} ad=${theirs.ad} (our EDE ${ours.ede.join(',')})`);
        else if (JSON.stringify(ours.answer) !== JSON.stringify(theirs.answer)) problems.push(`${label}: answers differ\n ours: ${ours.answer.join('\n       ')}\n unbound: ${theirs.answer.join('\n          ')}`);
        const want = EDE[name];
        if (want !== undefined && !ours.ede.includes(want)) problems.push(`${label}: our EDE ${ours.ede.join(',') || 'none'}, expected ${want}`);
      }
    }
    assert.deepEqual(problems, [], problems.join('\n') + '\nours: ' + out.slice(-2000));
  });

  test('the validation counters are in `sovereign stats` and /metrics (promtool-clean), bogus by EDE', async (t) => {
    if (skip) return t.skip('peers missing');
    // Fresh questions (a random label) so each is validated now, whatever ran before.
    const tag = `c${Date.now().toString(36)}`;
    assert.equal((await ask(DADDR.ours, `${tag}.good.vld.`, 'A')).rcode, 'NXDOMAIN');
    assert.equal((await ask(DADDR.ours, `${tag}.expired.vld.`, 'A')).rcode, 'SERVFAIL');
    const token = readFileSync(join(dir.path, 'token'), 'utf8').trim();
    const get = async (path: string): Promise<string> => {
      const res = await fetch(`http://${DADDR.ours}:8053${path}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200, path);
      return res.text();
    };
    const snap = JSON.parse(await get('/v1/stats')) as { forwarder: { validation?: { secure: number; bogus: number; bogusByEde: number[]; signatureChecks: number } } };
    const v = snap.forwarder.validation;
    assert.ok(v !== undefined, 'no forwarder.validation in /v1/stats');
    assert.ok(v.secure >= 1 && v.bogus >= 1 && v.signatureChecks > 0, JSON.stringify(v));
    assert.equal(v.bogusByEde.reduce((a, b) => a + b, 0), v.bogus, 'every bogus validation is counted under its EDE');
    const stats = spawnSync(process.execPath, [BIN, 'stats', '--control', `${DADDR.ours}:8053`, '--token-file', join(dir.path, 'token')], { encoding: 'utf8' });
    assert.equal(stats.status, 0, stats.stderr);
    assert.match(stats.stdout, new RegExp(`^forwarder\\.validation-secure\\s+${v.secure}$`, 'm'));
    assert.match(stats.stdout, new RegExp(`^forwarder\\.validation-bogus\\s+${v.bogus}$`, 'm'));
    const metrics = await get('/metrics');
    assert.match(metrics, new RegExp(`^sovereign_forwarder_validations_total\\{result="secure"\\} ${v.secure}$`, 'm'));
    assert.match(metrics, new RegExp(`^sovereign_forwarder_validations_total\\{result="bogus"\\} ${v.bogus}$`, 'm'));
    assert.match(metrics, /^sovereign_forwarder_validation_bogus_total\{reason="[a-z_0-9]+"\} [1-9]/m);
    if (!havePeers(t as never, 'promtool')) return;
    const check = spawnSync(PEER_BINARIES.promtool, ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
  });

  test('CD=1 passes the data through unchecked; without DO no AD and no RRSIGs', async (t) => {
    if (skip) return t.skip('peers missing');
    const tampered = await ask(DADDR.ours, 'www.tamper.vld.', 'A', { cd: true });
    assert.deepEqual({ rcode: tampered.rcode, ad: tampered.ad }, { rcode: 'NOERROR', ad: false });
    assert.ok(tampered.answer.some((l) => l.includes('192.0.2.66')), tampered.answer.join('\n'));
    // The unchecked answer did not leak into the checked space.
    assert.equal((await ask(DADDR.ours, 'www.tamper.vld.', 'A')).rcode, 'SERVFAIL');
    const plain = await ask(DADDR.ours, 'www.good.vld.', 'A', { dnssecOk: false });
    assert.deepEqual({ rcode: plain.rcode, ad: plain.ad, answer: plain.answer }, { rcode: 'NOERROR', ad: false, answer: ['www.good.vld. 0 IN A 192.0.2.1'] });
  });
});
