/**
 * RFC 5011 side by side with Unbound's auto-trust-anchor-file, on the same loopback root KSK roll:
 * BIND serves a root zone signed by dnssec-signzone, re-signed and restarted at each step (KSK2
 * published beside KSK1 -> add hold-down -> KSK1 revoked with dnssec-revoke -> KSK1 gone). Both
 * start from the same state file holding KSK1. Unbound runs on the real clock with
 * `permit-small-holddown: yes`, `add-holddown: 5` and a 4 s DNSKEY TTL (it probes every TTL/2);
 * Sovereign's AutoTrustAnchor probes the same servers through its resolver with its 30-day
 * hold-down on an injected clock. After the hold-down both trust KSK1 and KSK2; after the
 * revocation both hold KSK1 as REVOKED and KSK2 as VALID (the same keys in the same states, read
 * from each one's state file), and once KSK1 is gone both validate the root (AD from Unbound,
 * SECURE from ours) from KSK2 alone.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AutoTrustAnchor, HOLD_DOWN_SEC } from '../../src/dnssec/validator/rfc5011.js';
import { TrustAnchorSet } from '../../src/dnssec/validator/trust-anchors.js';
import { RRCache, ValidationState } from '../../src/resolver/cache.js';
import { Resolver } from '../../src/resolver/iterator.js';
import { parseRootHints } from '../../src/resolver/root-hints.js';
import { ResolverValidation } from '../../src/resolver/validate.js';
import { Rcode } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import { RRClass, RRType } from '../../src/wire/types.js';
import { digReply } from '../helpers/dig-reply.js';
import { type RunningPeer, addLoopbackAddress, havePeers, pickPort, runTool, startNamed, startPeer, tempDir, unboundServerConf } from '../helpers/peers.js';

const ROOT = '127.50.12.1';
const UNBOUND = '127.50.12.2';
/** Unbound's autotrust state numbers (autr_state_type in validator/autotrust.h). */
const UNBOUND_STATES = ['START', 'ADDPEND', 'VALID', 'MISSING', 'REVOKED', 'REMOVED'];

function must(tool: string, args: string[], cwd: string): string {
  const r = runTool(tool, args, { cwd, timeoutMs: 60_000 });
  assert.equal(r.status, 0, `${tool} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Public key (base64) -> state, from Unbound's auto-trust-anchor-file. */
function unboundState(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (line.startsWith(';') || !/\sDNSKEY\s/.test(line)) continue;
    const [rr] = line.split(';');
    const f = rr!.trim().split(/\s+/);
    const i = f.indexOf('DNSKEY');
    const state = /;;state=(\d+)/.exec(line);
    out[f.slice(i + 4).join('')] = state === null ? 'VALID' : UNBOUND_STATES[Number(state[1])]!;
  }
  return out;
}

async function waitFor(ok: () => boolean, timeoutMs = 90_000): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; Date.now() < end;) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return ok();
}

describe('RFC 5011 against Unbound\'s auto-trust-anchor-file on the same root KSK roll', { timeout: 300_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let named: RunningPeer | undefined;
  let unbound: RunningPeer | undefined;
  let skip = false;
  let step = 0;
  let kdir = '';
  let port = 0;
  const keyLine = (k: string): string => readFileSync(join(kdir, `${k}.key`), 'utf8').split('\n').find((l) => l.includes('DNSKEY'))!;
  const pub = (k: string): string => {
    const f = keyLine(k).trim().split(/\s+/);
    return f.slice(f.indexOf('DNSKEY') + 4).join('');
  };

  async function serveRoot(ksks: string[], zsk: string): Promise<void> {
    await named?.stop();
    step++;
    const zone = join(kdir, `root-${step}.zone`);
    writeFileSync(zone, `$TTL 4
. SOA a.root.u5011. hostmaster.root.u5011. ${step} 1800 900 604800 4
. NS a.root.u5011.
a.root.u5011. A ${ROOT}
${[...ksks, zsk].map(keyLine).join('\n')}
`);
    const args = ['-q', '-P', '-O', 'full', '-K', kdir, '-o', '.', '-f', `${zone}.signed`, '-d', kdir];
    for (const k of ksks) args.push('-k', join(kdir, k));
    must('dnssec-signzone', [...args, zone, join(kdir, zsk)], kdir);
    const ndir = join(dir.path, `named-${step}`);
    mkdirSync(ndir);
    named = await startNamed(ndir, ROOT, 53, [{ name: '.', file: `${zone}.signed` }]);
  }

  before((t) => {
    if (!havePeers(t as never, 'named', 'unbound', 'dig', 'dnssec-keygen', 'dnssec-signzone', 'dnssec-revoke')) {
      skip = true;
      return;
    }
    dir = tempDir('sovereign-rfc5011-unbound-');
    kdir = join(dir.path, 'keys');
    mkdirSync(kdir);
    port = pickPort();
    addLoopbackAddress(UNBOUND);
  });

  after(async () => {
    await unbound?.stop();
    await named?.stop();
    dir?.cleanup();
  });

  test('both end trusting the same keys in the same states and validate after the old KSK is revoked', async (t) => {
    if (skip) return t.skip('peers missing');
    const gen = (ksk: boolean): string => must('dnssec-keygen', ['-q', '-K', kdir, '-a', 'ECDSAP256SHA256', ...(ksk ? ['-f', 'KSK'] : []), '-n', 'ZONE', '.'], kdir);
    const ksk1 = gen(true);
    const zsk = gen(false);
    await serveRoot([ksk1], zsk);
    const hints = join(dir.path, 'root.hints');
    writeFileSync(hints, `. 3600000 NS a.root.u5011.\na.root.u5011. 3600000 A ${ROOT}\n`);

    // The same starting point: KSK1 in each one's state file.
    const ours = join(dir.path, 'sovereign.autokey');
    const theirs = join(dir.path, 'unbound.autokey');
    writeFileSync(ours, keyLine(ksk1) + '\n');
    writeFileSync(theirs, keyLine(ksk1) + '\n');
    const conf = join(dir.path, 'unbound.conf');
    writeFileSync(conf, `${unboundServerConf(dir.path, UNBOUND, port)}
  root-hints: "${hints}"
  module-config: "validator iterator"
  num-threads: 1
  auto-trust-anchor-file: "${theirs}"
  permit-small-holddown: yes
  add-holddown: 5
  val-log-level: 2
  verbosity: 1
`);
    unbound = await startPeer('unbound', ['-d', '-c', conf], { address: UNBOUND, port, zone: '.' });

    let now = Date.UTC(2030, 0, 1);
    let resolver: Resolver | undefined;
    const resolverWith = (anchors: TrustAnchorSet): Resolver => new Resolver({
      cache: new RRCache(), hints: parseRootHints(readFileSync(hints, 'utf8')), validation: new ResolverValidation({ anchors }),
    });
    const auto = new AutoTrustAnchor({
      zone: Name.ROOT, stateFile: ours, clock: () => now,
      fetch: async (zone) => (await resolver!.resolve(zone, RRType.DNSKEY, RRClass.IN, { cd: true, refresh: true })).answer,
    });
    const sync = (): void => {
      const anchors = new TrustAnchorSet();
      anchors.replace(Name.ROOT, auto.trusted());
      resolver = resolverWith(anchors);
    };
    sync();
    const ourState = (): Record<string, string> => Object.fromEntries(auto.state().map((k) => [Buffer.from(k.rr.data.publicKey).toString('base64'), k.state]));
    const unboundAd = async (): Promise<boolean> => {
      const r = await digReply(UNBOUND, port, ['.', 'SOA', '+dnssec', '+rec']);
      return r.status === 'NOERROR' && r.flags.includes('ad');
    };
    assert.deepEqual(await auto.probe(), { accepted: true, changes: [] });
    assert.ok(await waitFor(() => unboundState(theirs)[pub(ksk1)] === 'VALID'), readFileSync(theirs, 'utf8'));
    assert.ok(await unboundAd(), unbound.output().slice(-3000));

    // 1. KSK2 published, signing the DNSKEY set beside KSK1: pending, then valid after the hold-down.
    const ksk2 = gen(true);
    await serveRoot([ksk1, ksk2], zsk);
    assert.deepEqual((await auto.probe()).changes.map((c) => c.split(' ')[1]), ['ADDPEND']);
    now += (HOLD_DOWN_SEC + 1) * 1000;
    assert.deepEqual((await auto.probe()).changes.map((c) => c.split(' ')[1]), ['VALID']);
    assert.ok(await waitFor(() => unboundState(theirs)[pub(ksk2)] === 'VALID'),
      `Unbound never took KSK2:\n${readFileSync(theirs, 'utf8')}\n${unbound.output().slice(-3000)}`);
    const both = { [pub(ksk1)]: 'VALID', [pub(ksk2)]: 'VALID' };
    assert.deepEqual(ourState(), both);
    assert.deepEqual(unboundState(theirs), both);

    // 2. KSK1 revoked (REVOKE bit set, it signs the set one last time).
    const revoked = must('dnssec-revoke', ['-K', kdir, join(kdir, ksk1)], kdir).split('\n').pop()!.replace(/^.*\//, '').replace(/\.key$/, '');
    await serveRoot([revoked, ksk2], zsk);
    now += 3600 * 1000;
    assert.deepEqual((await auto.probe()).changes.map((c) => c.split(' ')[1]), ['REVOKED']);
    assert.ok(await waitFor(() => unboundState(theirs)[pub(ksk1)] === 'REVOKED'),
      `Unbound never saw the revocation:\n${readFileSync(theirs, 'utf8')}\n${unbound.output().slice(-3000)}`);
    const after = { [pub(ksk1)]: 'REVOKED', [pub(ksk2)]: 'VALID' };
    assert.deepEqual(ourState(), after);
    assert.deepEqual(unboundState(theirs), after);
    assert.deepEqual(auto.trusted().map((r) => Buffer.from(r.data.publicKey).toString('base64')), [pub(ksk2)]);
    // Both validate the root with KSK1 revoked, trusting KSK2 alone.
    sync();
    const revokedSoa = await resolver!.resolve(Name.ROOT, RRType.SOA, RRClass.IN);
    assert.deepEqual([revokedSoa.rcode, revokedSoa.dnssec], [Rcode.NOERROR, ValidationState.SECURE]);
    await new Promise((r) => setTimeout(r, 5000)); // Unbound's cached root data (TTL 4) expires
    assert.ok(await unboundAd(), `Unbound does not validate with KSK1 revoked:\n${unbound.output().slice(-3000)}`);

    // 3. KSK1 gone: both validate the root from KSK2 alone, and still agree.
    await serveRoot([ksk2], zsk);
    now += 3600 * 1000;
    assert.deepEqual((await auto.probe()).changes, []);
    sync();
    const soa = await resolver!.resolve(Name.ROOT, RRType.SOA, RRClass.IN);
    assert.deepEqual([soa.rcode, soa.dnssec], [Rcode.NOERROR, ValidationState.SECURE]);
    await new Promise((r) => setTimeout(r, 5000)); // Unbound's cached root data (TTL 4) expires
    assert.ok(await unboundAd(), `Unbound does not validate the root signed by KSK2 alone:\n${unbound.output().slice(-3000)}`);
    assert.deepEqual(ourState(), after);
    assert.deepEqual(unboundState(theirs), after);
  });
});
