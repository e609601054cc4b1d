/**
 * Algorithm rollover (RFC 6781 §4.1.4, as BIND's dnssec-policy does when the policy's algorithm
 * changes), driven by an injected clock, for a CSK and for a KSK/ZSK pair, RSASHA256 (8) to
 * ECDSAP256SHA256 (13):
 *   1. the new keys are published and sign at once: every RRset carries an RRSIG of both
 *      algorithms while both are in the DNSKEY RRset (RFC 4035 §2.2);
 *   2. once they are in every cache the CDS/CDNSKEY swap to the new KSK (the DS swap);
 *   3. the roll waits, however long, until the parent shows the new DS and not the old one;
 *   4. then after the parent's DS TTL the old DNSKEYs leave, and
 *   5. after the DNSKEY TTL the old algorithm's signatures go too.
 * Every zone version is checked by our verifier; every version with a different key or
 * signature set also by dnssec-verify and ldns-verify-zone. Halfway the signer is made anew
 * from the key directory (a restart) and the roll carries on.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DnssecAlgorithm } from '../../src/dnssec/algorithms.js';
import { type RolloverPolicy } from '../../src/dnssec/signer/key-manager.js';
import { verifyZone } from '../../src/dnssec/signer/verify-zone.js';
import { DEFAULT_POLICY, ZoneSigner } from '../../src/dnssec/signer/zone-signer.js';
import { Name } from '../../src/wire/name.js';
import { recordToString } from '../../src/wire/record.js';
import { type CDSData, type DNSKEYData, RRType, type RRSIGData } from '../../src/wire/types.js';
import { loadZone } from '../../src/zone/load.js';
import type { Zone } from '../../src/zone/zone.js';
import { runTool, tempDir } from '../helpers/peers.js';

const ORIGIN = 'algroll.example.';
const T0 = Math.floor(Date.now() / 1000);
const ZONE = `$ORIGIN ${ORIGIN}
$TTL 60
@    SOA ns1 hostmaster 1 7200 3600 1209600 30
@    NS  ns1
ns1  A   192.0.2.1
www  A   192.0.2.10
*.w  TXT "wild"
sub  NS  ns.sub
ns.sub A 192.0.2.2
`;

/** Seconds-long delays; the zone's largest TTL is 60. */
const ROLL: RolloverPolicy = {
  kskLifetime: 0, zskLifetime: 0, cskLifetime: 0, dnskeyTtl: 20, propagationDelay: 10, publishSafety: 5,
  retireSafety: 5, parentDsTtl: 20, parentPropagationDelay: 5,
};
const OLD = DnssecAlgorithm.RSASHA256;
const NEW = DnssecAlgorithm.ECDSAP256SHA256;

interface Shape {
  /** DNSKEY algorithms, one per key ("8K" = a KSK/CSK of algorithm 8). */
  dnskeys: string[];
  /** Algorithms that sign data (non-key RRsets) and the key RRsets. */
  data: number[];
  keys: number[];
  /** CDS: algorithms. */
  cds: number[];
}

const KEY_SETS = new Set<number>([RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]);

function load(dir: string): Zone {
  const file = join(dir, 'zone');
  writeFileSync(file, ZONE);
  const r = loadZone(file, Name.fromText(ORIGIN));
  assert.ok(r.zone);
  return r.zone;
}

function shape(zone: Zone): Shape {
  const keys = (zone.apex.get(RRType.DNSKEY)?.rdata ?? []) as DNSKEYData[];
  const data = new Set<number>();
  const keySigs = new Set<number>();
  for (const node of zone.nodes()) {
    for (const s of (node.get(RRType.RRSIG)?.rdata ?? []) as RRSIGData[]) (KEY_SETS.has(s.typeCovered) ? keySigs : data).add(s.algorithm);
  }
  const sorted = (s: Iterable<number>): number[] => [...s].sort((a, b) => a - b);
  return {
    dnskeys: keys.map((k) => `${k.algorithm}${(k.flags & 1) === 1 ? 'K' : 'Z'}`).sort(),
    data: sorted(data), keys: sorted(keySigs),
    cds: sorted(((zone.apex.get(RRType.CDS)?.rdata ?? []) as CDSData[]).map((c) => c.algorithm)),
  };
}

/**
 * RFC 4035 §2.2: every signed RRset has an RRSIG of each algorithm in the apex DNSKEY RRset. (Not
 * the converse: in the RRSIG-removal step the old algorithm's signatures outlive its DNSKEYs.)
 */
function everyRrsetByEveryAlgorithm(zone: Zone, label: string): void {
  const algs = new Set(((zone.apex.get(RRType.DNSKEY)?.rdata ?? []) as DNSKEYData[]).map((k) => k.algorithm));
  let sets = 0;
  for (const node of zone.nodes()) {
    const by = new Map<number, Set<number>>();
    for (const s of (node.get(RRType.RRSIG)?.rdata ?? []) as RRSIGData[]) {
      if (!by.has(s.typeCovered)) by.set(s.typeCovered, new Set());
      by.get(s.typeCovered)!.add(s.algorithm);
    }
    for (const [type, have] of by) {
      sets++;
      for (const a of algs) assert.ok(have.has(a), `${label}: ${node.name.toString()} type ${type} has no RRSIG of algorithm ${a}`);
    }
  }
  assert.ok(sets > 5, `${label}: signed RRsets`);
}

function peersVerify(dir: string, zone: Zone, csk: boolean, label: string): void {
  const file = join(dir, `signed-${label}`);
  const lines: string[] = [];
  for (const node of zone.nodes()) for (const set of node.rrsets) for (const d of set.rdata) lines.push(recordToString({ name: set.name, type: set.type, class: set.class, ttl: set.ttl, data: d }));
  writeFileSync(file, lines.join('\n') + '\n');
  const v = runTool('dnssec-verify', [...(csk ? ['-z'] : []), '-o', ORIGIN, file]);
  if (v.status !== null || process.env.CI === 'true') assert.equal(v.status, 0, `${label}: dnssec-verify: ${v.stderr}`);
  const l = runTool('ldns-verify-zone', [file]);
  if (l.status !== null || process.env.CI === 'true') assert.equal(l.status, 0, `${label}: ldns-verify-zone: ${l.stdout}${l.stderr}`);
}

for (const split of [false, true]) {
  test(`algorithm rollover 8 -> 13 (${split ? 'KSK + ZSK' : 'CSK'}): both algorithms sign, DS swap via CDS, old DNSKEYs then old RRSIGs removed`, () => {
    const dir = tempDir('sovereign-algroll-');
    try {
      const keyDir = join(dir.path, 'keys');
      let now = T0;
      const make = (algorithm: number): ZoneSigner => new ZoneSigner(Name.fromText(ORIGIN), {
        keyDir, policy: { ...DEFAULT_POLICY, algorithm, split, rollover: ROLL }, now: () => now,
      });
      const seen: { at: number; shape: Shape }[] = [];
      const check = (z: Zone): void => {
        assert.deepEqual(verifyZone(z, now).errors, [], `at +${now - T0}s`);
        everyRrsetByEveryAlgorithm(z, `+${now - T0}s`);
        const s = shape(z);
        const last = seen[seen.length - 1];
        if (last === undefined || JSON.stringify(last.shape) !== JSON.stringify(s)) {
          seen.push({ at: now - T0, shape: s });
          peersVerify(dir.path, z, !split, `${now - T0}`);
        }
      };
      let signer = make(OLD);
      check(signer.sign(load(dir.path)));
      const drive = (until: number): void => {
        while (now < until) {
          now += 5;
          if (now >= signer.nextEventAt()) check(signer.refresh()!);
        }
      };
      // The first KSK's CDS appears after Ipub (35 s); the parent takes it.
      drive(T0 + 60);
      const first = signer.status();
      assert.deepEqual(first.map((k) => k.algorithm), split ? [OLD, OLD] : [OLD]);
      assert.equal(signer.dsSeen('published').length, 1);

      // The policy's algorithm changes (a reload with `algorithm: 13` makes a new signer).
      signer = make(NEW);
      check(signer.sign(load(dir.path)));
      const rolling = signer.status();
      assert.equal(rolling.length, split ? 4 : 2);
      for (const o of first) {
        const n = rolling.find((k) => k.predecessor === o.tag)!;
        assert.ok(n !== undefined, `a successor for ${o.tag}`);
        assert.deepEqual([n.algorithm, n.role, n.state], [NEW, o.role, 'active'], 'published and signing at once');
        assert.equal(rolling.find((k) => k.tag === o.tag)!.successor, n.tag);
      }
      const oldKsk = first.find((k) => k.role !== 'zsk')!;
      const newKsk = rolling.find((k) => k.predecessor === oldKsk.tag)!;
      // The swap waits for the new DNSKEYs and signatures to be in every cache: 10 + max(60, 20) + 5 = 75 s.
      assert.equal(newKsk.timing.SyncPublish, T0 + 60 + 75);
      drive(T0 + 600);
      assert.deepEqual(signer.dsPending().published.map((k) => k.keyTag), [newKsk.tag]);
      assert.deepEqual(signer.dsPending().withdrawn.map((k) => k.keyTag), [oldKsk.tag]);
      assert.match(signer.status().find((k) => k.tag === newKsk.tag)!.waiting ?? '', /parent's DS/);
      assert.match(signer.status().find((k) => k.tag === oldKsk.tag)!.waiting ?? '', /withdraw/);
      // The parent shows the new DS but still the old one: the old algorithm stays (restart here).
      assert.deepEqual(signer.dsSeen('published', newKsk.tag), [newKsk.tag]);
      signer = make(NEW);
      check(signer.sign(load(dir.path)));
      drive(T0 + 800);
      assert.deepEqual(seen[seen.length - 1]!.shape.dnskeys, split ? ['13K', '13Z', '8K', '8Z'] : ['13K', '8K']);
      // The old DS is gone at the parent: the old DNSKEYs leave after 5 + 20 + 5 s, their RRSIGs 10 + 20 + 5 s later.
      assert.deepEqual(signer.dsSeen('withdrawn'), [oldKsk.tag], 'without --key: the KSK whose CDS was withdrawn');
      check(signer.refresh()!); // as the server re-signs after checkds
      const S = now - T0;
      drive(now + 200);

      const ks = (a: number): string[] => split ? [`${a}K`, `${a}Z`] : [`${a}K`];
      const both = [...ks(NEW), ...ks(OLD)].sort();
      assert.deepEqual(seen.map((s) => s.shape), [
        { dnskeys: ks(OLD), data: [OLD], keys: [OLD], cds: [] },
        { dnskeys: ks(OLD), data: [OLD], keys: [OLD], cds: [OLD] },
        // 1. new keys published and signing beside the old
        { dnskeys: both, data: [OLD, NEW], keys: [OLD, NEW], cds: [OLD] },
        // 2. the DS swap is asked for
        { dnskeys: both, data: [OLD, NEW], keys: [OLD, NEW], cds: [NEW] },
        // 4. DNSKEY removal: the old algorithm's signatures stay
        { dnskeys: ks(NEW), data: [OLD, NEW], keys: [OLD, NEW], cds: [NEW] },
        // 5. RRSIG removal
        { dnskeys: ks(NEW), data: [NEW], keys: [NEW], cds: [NEW] },
      ]);
      const at = seen.map((s) => s.at);
      assert.equal(at[2], 60);
      assert.ok(at[3]! >= 135 && at[3]! < 140, `swap asked at +${at[3]}`);
      assert.ok(at[4]! - S >= 30 && at[4]! - S < 35, `old DNSKEYs removed ${at[4]! - S}s after the old DS was seen gone`);
      assert.ok(at[5]! - at[4]! >= 35 && at[5]! - at[4]! < 40, `old RRSIGs removed ${at[5]! - at[4]!}s after the DNSKEYs`);
      const final = signer.status();
      for (const o of first) assert.equal(final.find((k) => k.tag === o.tag)!.state, 'removed');
      assert.deepEqual(signer.dsPending(), { published: [], withdrawn: [] });
    } finally {
      dir.cleanup();
    }
  });
}
