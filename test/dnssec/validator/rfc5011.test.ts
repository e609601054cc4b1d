/**
 * RFC 5011 automated trust anchor updates: a root KSK roll on loopback. BIND serves a root zone
 * signed by dnssec-signzone; the zone is re-signed and BIND restarted at each step of the roll
 * (new KSK published -> 30-day add hold-down on an injected clock -> old KSK revoked with
 * dnssec-revoke -> old KSK gone), the resolver (iterator + validator) probing the root DNSKEY set
 * through real queries. It ends trusting only the new key, from the state file.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AutoTrustAnchor, HOLD_DOWN_SEC } from '../../../src/dnssec/validator/rfc5011.js';
import { TrustAnchorSet } from '../../../src/dnssec/validator/trust-anchors.js';
import { RRCache, ValidationState } from '../../../src/resolver/cache.js';
import { Resolver } from '../../../src/resolver/iterator.js';
import { parseRootHints } from '../../../src/resolver/root-hints.js';
import { ResolverValidation } from '../../../src/resolver/validate.js';
import { Rcode } from '../../../src/wire/constants.js';
import { Name } from '../../../src/wire/name.js';
import { RRClass, RRType } from '../../../src/wire/types.js';
import { type RunningPeer, havePeers, runTool, startNamed, tempDir } from '../../helpers/peers.js';

const ROOT = '127.50.11.1';

function must(tool: string, args: string[], cwd: string): string {
  const r = runTool(tool, args, { cwd, timeoutMs: 60_000 });
  assert.equal(r.status, 0, `${tool} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

describe('RFC 5011: a root KSK roll on loopback ends with the resolver trusting the new key', { timeout: 120_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let named: RunningPeer | undefined;
  let skip = false;
  let step = 0;
  let kdir = '';
  const keyLine = (k: string): string => readFileSync(join(kdir, `${k}.key`), 'utf8').split('\n').find((l) => l.includes('DNSKEY'))!;

  /** Signs the root with `ksks` (each signs the DNSKEY set) and the ZSK, and (re)starts BIND on it. */
  async function serveRoot(ksks: string[], zsk: string, published: string[] = ksks): Promise<void> {
    await named?.stop();
    step++;
    const zone = join(kdir, `root-${step}.zone`);
    writeFileSync(zone, `$TTL 3600
. SOA a.root.r5011. hostmaster.root.r5011. ${step} 1800 900 604800 300
. NS a.root.r5011.
a.root.r5011. A ${ROOT}
${[...published, zsk].map(keyLine).join('\n')}
`);
    const args = ['-q', '-P', '-O', 'full', '-K', kdir, '-o', '.', '-f', `${zone}.signed`, '-d', kdir];
    for (const k of ksks) args.push('-k', join(kdir, k));
    must('dnssec-signzone', [...args, zone, join(kdir, zsk)], kdir);
    const ndir = join(dir.path, `named-${step}`);
    mkdirSync(ndir);
    named = await startNamed(ndir, ROOT, 53, [{ name: '.', file: `${zone}.signed` }]);
  }

  function resolverWith(anchors: TrustAnchorSet): Resolver {
    return new Resolver({
      cache: new RRCache(), hints: parseRootHints(`. 3600000 NS a.root.r5011.\na.root.r5011. 3600000 A ${ROOT}\n`),
      validation: new ResolverValidation({ anchors }),
    });
  }

  before((t) => {
    if (!havePeers(t as never, 'named', 'dnssec-keygen', 'dnssec-signzone', 'dnssec-revoke')) {
      skip = true;
      return;
    }
    dir = tempDir('sovereign-rfc5011-');
    kdir = join(dir.path, 'keys');
    mkdirSync(kdir);
  });

  after(async () => {
    await named?.stop();
    dir?.cleanup();
  });

  test('add hold-down, revocation, removal; state kept in the file', async (t) => {
    if (skip) return t.skip('peers missing');
    const gen = (ksk: boolean): string => must('dnssec-keygen', ['-q', '-K', kdir, '-a', 'ECDSAP256SHA256', ...(ksk ? ['-f', 'KSK'] : []), '-n', 'ZONE', '.'], kdir);
    const ksk1 = gen(true);
    const zsk = gen(false);
    await serveRoot([ksk1], zsk);
    const stateFile = join(dir.path, 'root.autokey');
    writeFileSync(stateFile, keyLine(ksk1) + '\n');

    let now = Date.UTC(2030, 0, 1);
    const anchors = new TrustAnchorSet();
    let resolver: Resolver | undefined;
    const auto = new AutoTrustAnchor({
      zone: Name.ROOT, stateFile, clock: () => now,
      // The DNSKEY set straight from the root servers, unchecked: the state machine checks it.
      fetch: async (zone) => (await resolver!.resolve(zone, RRType.DNSKEY, RRClass.IN, { cd: true, refresh: true })).answer,
    });
    const sync = (): void => {
      anchors.replace(Name.ROOT, auto.trusted());
      resolver = resolverWith(anchors);
    };
    sync();
    const tagOf = (k: string): string => String(Number(/\+(\d+)$/.exec(k)![1]));
    const states = (): string[] => auto.state().map((k) => `${k.state}`).sort();

    let p = await auto.probe();
    assert.deepEqual(p, { accepted: true, changes: [] });
    let soa = await resolver!.resolve(Name.ROOT, RRType.SOA, RRClass.IN);
    assert.deepEqual([soa.rcode, soa.dnssec], [Rcode.NOERROR, ValidationState.SECURE]);

    // 1. KSK2 is published and signs the DNSKEY set beside KSK1: pending for 30 days.
    const ksk2 = gen(true);
    await serveRoot([ksk1, ksk2], zsk);
    p = await auto.probe();
    assert.deepEqual(p, { accepted: true, changes: [`${tagOf(ksk2)} ADDPEND`] });
    now += (HOLD_DOWN_SEC - 86_400) * 1000;
    assert.deepEqual((await auto.probe()).changes, [], 'still in the add hold-down after 29 days');
    assert.deepEqual(states(), ['ADDPEND', 'VALID']);
    assert.equal(auto.trusted().length, 1);
    now += 86_400 * 1000 + 1000;
    assert.deepEqual((await auto.probe()).changes, [`${tagOf(ksk2)} VALID`]);
    assert.equal(auto.trusted().length, 2);
    assert.match(readFileSync(stateFile, 'utf8'), /;;state=VALID;;since=\d+\n.*;;state=VALID/);

    // 2. KSK1 is revoked (REVOKE bit, new tag) and signs the set one last time: no longer trusted.
    const revoked = must('dnssec-revoke', ['-K', kdir, join(kdir, ksk1)], kdir).split('\n').pop()!.replace(/^.*\//, '').replace(/\.key$/, '');
    await serveRoot([revoked, ksk2], zsk);
    now += 3600 * 1000;
    assert.deepEqual((await auto.probe()).changes, [`${tagOf(ksk1)} REVOKED`]);
    assert.deepEqual(auto.trusted().map((r) => r.data.publicKey), [auto.state().find((k) => k.state === 'VALID')!.rr.data.publicKey]);
    assert.match(readFileSync(stateFile, 'utf8'), /DNSKEY\s+385 3 13 .*;;state=REVOKED/);

    // 3. KSK1 is gone; the root is signed by KSK2 alone. The resolver validates from the updated anchor.
    await serveRoot([ksk2], zsk);
    now += 3600 * 1000;
    assert.deepEqual((await auto.probe()).changes, []);
    sync();
    soa = await resolver!.resolve(Name.ROOT, RRType.SOA, RRClass.IN);
    assert.deepEqual([soa.rcode, soa.dnssec], [Rcode.NOERROR, ValidationState.SECURE]);
    // A resolver that kept only the old anchor fails: the roll was needed.
    const stale = new TrustAnchorSet();
    stale.add(new AutoTrustAnchor({ zone: Name.ROOT, stateFile: writeTemp(dir.path, keyLine(ksk1)), fetch: async () => [] }).trusted());
    await assert.rejects(resolverWith(stale).resolve(Name.ROOT, RRType.SOA, RRClass.IN), /DNSKEY|no valid RRSIG|matches/);
    // After the removal hold-down the revoked key is marked removed; a restart reads the state file.
    now += (HOLD_DOWN_SEC + 1) * 1000;
    assert.deepEqual((await auto.probe()).changes, [`${tagOf(ksk1)} REMOVED`]);
    const again = new AutoTrustAnchor({ zone: Name.ROOT, stateFile, clock: () => now, fetch: async () => [] });
    assert.deepEqual(again.state().map((k) => k.state).sort(), ['REMOVED', 'VALID']);
    assert.equal(again.trusted().length, 1);
    assert.equal(String(again.trusted()[0]!.data.flags), '257');
  });
});

function writeTemp(dir: string, line: string): string {
  const f = join(dir, 'old.key');
  writeFileSync(f, line + '\n');
  return f;
}
