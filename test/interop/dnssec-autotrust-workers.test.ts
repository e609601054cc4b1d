/**
 * RFC 5011 (`resolver.autoTrustAnchorFile`) with `workers: 2`: only the lead worker probes the
 * root's DNSKEY set and rewrites the state file (as one Unbound does); the other worker re-reads
 * the file when it changes. Over the signed loopback hierarchy (dnssec-hierarchy.ts), the state
 * file started from the root's KSK: both workers validate (AD), the probe is made once, and a
 * key added to the file reaches the follower.
 */
import { strict as assert } from 'node:assert';
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { newEdns } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { addLoopbackAddress, havePeers, tempDir, waitForDns } from '../helpers/peers.js';
import { type SignedHierarchy, startSignedHierarchy } from './dnssec-hierarchy.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const OURS = '127.26.0.61';
const PROBED = 'RFC 5011 trust anchor probed';
const REREAD = 'RFC 5011 trust anchor state re-read';

function count(text: string, what: string): number {
  return text.split('\n').filter((l) => l.includes(what)).length;
}

/** Waits (no timing assertion: the test fails on what is seen, not on how long it took) for `what` in the output. */
async function waitFor(out: () => string, what: string, timeoutMs = 60_000): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; Date.now() < end;) {
    if (out().includes(what)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

describe('RFC 5011 with two workers: the lead probes and writes, the other re-reads', { timeout: 300_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let h: SignedHierarchy | undefined;
  let sov: ChildProcess | undefined;
  let out = '';
  let skip = false;
  let state = '';

  before(async (t) => {
    if (!havePeers(t as never, 'named', 'nsd', 'dnssec-signzone', 'ldns-signzone', 'knotd', 'keymgr', 'kzonesign')) {
      skip = true;
      return;
    }
    dir = tempDir('sovereign-autotrust-workers-');
    h = await startSignedHierarchy(dir.path);
    addLoopbackAddress(OURS);
    state = join(dir.path, 'root.5011');
    copyFileSync(h.anchorKeyFile, state);
    const cfg = join(dir.path, 'sovereign.yaml');
    writeFileSync(cfg, `listen: ["${OURS}:53"]
workers: 2
log: { level: debug }
hosts: { enabled: false }
resolver: { enabled: true, rootHints: "${h.hintsFile}", autoTrustAnchorFile: "${state}" }
`);
    sov = spawn(process.execPath, [BIN, 'serve', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    sov.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    sov.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    assert.ok(await waitForDns(OURS, 53, 'localhost.'), `sovereign did not come up:\n${out}`);
  });

  after(async () => {
    if (sov !== undefined && sov.exitCode === null) {
      const gone = new Promise((r) => sov!.once('exit', r));
      sov.kill('SIGTERM');
      await gone;
    }
    await h?.stop();
    dir?.cleanup();
  });

  test('one probe, one state file writer; a change to the file reaches the other worker; both validate', async (t) => {
    if (skip) return t.skip('peers missing');
    assert.ok(await waitFor(() => out, PROBED), `the lead never probed:\n${out.slice(-3000)}`);
    // Both workers have read the file at start (and the follower watches it) before it changes.
    assert.ok(await waitFor(() => out, 'all workers ready'), `the workers did not come up:\n${out.slice(-3000)}`);
    // A second trusted key (the KSK's material as a non-SEP zone key: another identity) written
    // by hand: the follower must pick it up; the lead owns the file and does not re-read it.
    const ksk = readFileSync(state, 'utf8').split('\n').find((l) => /\sDNSKEY\s+257\s/.test(l) && !l.startsWith(';'));
    assert.ok(ksk !== undefined, readFileSync(state, 'utf8'));
    appendFileSync(state, ksk.replace(/\sDNSKEY\s+257\s/, ' DNSKEY 256 ').replace(/;.*$/, '') + '\n');
    assert.ok(await waitFor(() => out, REREAD), `the other worker did not re-read the state file:\n${out.slice(-3000)}`);
    // Each worker answers with AD (whichever gets the question): both trust the root's KSK.
    for (let i = 0; i < 8; i++) {
      const q = Message.query(`q${i}.good.vld.`, RRType.A, { rd: true, edns: newEdns({ udpSize: 1232, dnssecOk: true }) });
      const m = (await exchange(q, { address: OURS, port: 53 }, { timeoutMs: 8000, tries: 2 })).message;
      assert.deepEqual({ rcode: m.rcode, ad: m.ad }, { rcode: 3, ad: true }, `q${i}.good.vld.`);
    }
    assert.equal(count(out, PROBED), 1, `only the lead probes the root:\n${out.slice(-3000)}`);
    assert.equal(count(out, REREAD), 1, `only the follower re-reads:\n${out.slice(-3000)}`);
    assert.equal(count(out, 'RFC 5011 trust anchor probe failed'), 0, out.slice(-3000));
  });
});
