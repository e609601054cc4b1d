/**
 * Automatic rollovers driven by an injected clock (RFC 6781 §4.1, RFC 7583 §3): a ZSK
 * pre-publication roll, a KSK double-signature/double-DS roll that waits for the parent's DS, and
 * a CSK roll. The clock moves in steps of a few seconds; after every step the zone is re-signed
 * when the signer says something is due, and every version is checked by our verifier, and every
 * version with a different key set by dnssec-verify and ldns-verify-zone. The policy's delays
 * are seconds long so the whole roll fits in the hour signatures are back-dated by (BIND's tools
 * check validity against the real clock). Halfway, the signer is made anew from the key
 * directory, as a restart would, and the roll carries on.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type RolloverPolicy } from '../../src/dnssec/signer/key-manager.js';
import { verifyZone } from '../../src/dnssec/signer/verify-zone.js';
import { DEFAULT_POLICY, ZoneSigner } from '../../src/dnssec/signer/zone-signer.js';
import { Name } from '../../src/wire/name.js';
import { recordToString } from '../../src/wire/record.js';
import { type CDSData, type DNSKEYData, RRType, type RRSIGData } from '../../src/wire/types.js';
import { loadZone } from '../../src/zone/load.js';
import type { Zone } from '../../src/zone/zone.js';
import { runTool, tempDir } from '../helpers/peers.js';

const ORIGIN = 'roll.example.';
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

/** Seconds-long delays: Ipub = 10 + 20 + 5 = 35, parent wait = 5 + 20 + 5 = 30. */
const ROLL: RolloverPolicy = {
  kskLifetime: 0, zskLifetime: 0, cskLifetime: 0, dnskeyTtl: 20, propagationDelay: 10, publishSafety: 5,
  retireSafety: 5, parentDsTtl: 20, parentPropagationDelay: 5,
};

interface Snapshot {
  at: number;
  dnskeys: string[];
  signers: string[];
  cds: number[];
}

function load(dir: string): Zone {
  const file = join(dir, 'zone');
  writeFileSync(file, ZONE);
  const r = loadZone(file, Name.fromText(ORIGIN));
  assert.ok(r.zone);
  return r.zone;
}

/** Signed by the KSKs. */
const KEY_SETS = new Set<number>([RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]);

function snapshot(zone: Zone, at: number): Snapshot {
  const apex = zone.apex;
  const keys = (apex.get(RRType.DNSKEY)?.rdata ?? []) as DNSKEYData[];
  const dnskeys = keys.map((k) => `${k.flags === 257 ? 'K' : 'Z'}`);
  const tags = new Set<string>();
  for (const node of zone.nodes()) {
    for (const s of (node.get(RRType.RRSIG)?.rdata ?? []) as RRSIGData[]) tags.add(`${KEY_SETS.has(s.typeCovered) ? 'dnskey' : 'data'}:${s.keyTag}`);
  }
  const cds = ((apex.get(RRType.CDS)?.rdata ?? []) as CDSData[]).map((c) => c.keyTag).sort((a, b) => a - b);
  return { at, dnskeys: dnskeys.sort(), signers: [...tags].sort(), cds };
}

/** dnssec-verify and ldns-verify-zone on the zone as a master file. */
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

/**
 * Moves the clock in `stepS` steps up to `until`, re-signing when due (as the server's timer does),
 * verifying each version; returns the distinct key configurations seen, in order.
 */
function drive(ctx: { signer: ZoneSigner; now: number; dir: string; csk: boolean; seen: Snapshot[] }, until: number, stepS = 5): void {
  while (ctx.now < until) {
    ctx.now += stepS;
    if (ctx.now < ctx.signer.nextEventAt()) continue;
    const z = ctx.signer.refresh()!;
    const errors = verifyZone(z, ctx.now).errors;
    assert.deepEqual(errors, [], `at +${ctx.now - T0}s`);
    const s = snapshot(z, ctx.now);
    const last = ctx.seen[ctx.seen.length - 1];
    if (last === undefined || JSON.stringify([last.dnskeys, last.signers, last.cds]) !== JSON.stringify([s.dnskeys, s.signers, s.cds])) {
      ctx.seen.push(s);
      peersVerify(ctx.dir, z, ctx.csk, `${ctx.now - T0}`);
    }
  }
}

function keyFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.key')).sort();
}

test('ZSK pre-publication roll: published Ipub before it signs, the old ZSK kept Iret after it stops', () => {
  const dir = tempDir('sovereign-roll-zsk-');
  try {
    const keyDir = join(dir.path, 'keys');
    const ctx = { now: T0, dir: dir.path, csk: false, seen: [] as Snapshot[], signer: undefined as unknown as ZoneSigner };
    const make = (): ZoneSigner => new ZoneSigner(Name.fromText(ORIGIN), {
      keyDir, policy: { ...DEFAULT_POLICY, split: true, rollover: { ...ROLL, zskLifetime: 200 } }, now: () => ctx.now,
    });
    ctx.signer = make();
    const first = ctx.signer.sign(load(dir.path));
    ctx.seen.push(snapshot(first, ctx.now));
    peersVerify(dir.path, first, false, 'start');
    assert.equal(keyFiles(keyDir).length, 2, 'one KSK and one ZSK');
    const [ksk, zsk1] = ctx.signer.status().sort((a, b) => (a.role === 'ksk' ? -1 : b.role === 'ksk' ? 1 : 0));
    assert.equal(ksk!.role, 'ksk');
    assert.equal(zsk1!.role, 'zsk');
    // The roll starts at Activate + lifetime - Ipub = T0 + 165.
    assert.deepEqual(zsk1!.next, { event: 'start rollover', at: T0 + 200 - 35 });
    drive(ctx, T0 + 180);
    // Restart mid-roll: a new signer reads the keys and their .state files and carries on.
    const st = ctx.signer.status();
    assert.equal(st.length, 3);
    const zsk2 = st.find((k) => k.predecessor === zsk1!.tag)!;
    assert.equal(zsk2.state, 'published');
    assert.equal(st.find((k) => k.tag === zsk1!.tag)!.successor, zsk2.tag);
    assert.match(readFileSync(join(keyDir, keyFiles(keyDir).find((f) => f.includes(String(zsk2.tag).padStart(5, '0')))!), 'utf8'), /; Activate: \d{14}/);
    ctx.signer = make();
    ctx.signer.sign(load(dir.path));
    drive(ctx, T0 + 360);
    const tags = { k: ksk!.tag, z1: zsk1!.tag, z2: zsk2.tag };
    const expect = [
      // start: KSK signs DNSKEY, ZSK1 the rest
      { dnskeys: ['K', 'Z'], signers: [`data:${tags.z1}`, `dnskey:${tags.k}`] },
      // ZSK2 pre-published (T0+165)
      { dnskeys: ['K', 'Z', 'Z'], signers: [`data:${tags.z1}`, `dnskey:${tags.k}`] },
      // the CDS of the first KSK follows its DNSKEY after Ipub (T0+35) - seen before the roll
      // ZSK2 signs, ZSK1 still published (T0+200)
      { dnskeys: ['K', 'Z', 'Z'], signers: [`data:${tags.z2}`, `dnskey:${tags.k}`] },
      // ZSK1 removed after Iret = 10 + 60 + 5 (T0+275)
      { dnskeys: ['K', 'Z'], signers: [`data:${tags.z2}`, `dnskey:${tags.k}`] },
    ];
    const shapes = ctx.seen.map((s) => ({ dnskeys: s.dnskeys, signers: s.signers }));
    const distinct = shapes.filter((s, i) => i === 0 || JSON.stringify(s) !== JSON.stringify(shapes[i - 1]));
    assert.deepEqual(distinct, expect);
    const at = (i: number): number => ctx.seen.find((s) => JSON.stringify({ dnskeys: s.dnskeys, signers: s.signers }) === JSON.stringify(expect[i]))!.at - T0;
    assert.ok(at(1) >= 165 && at(1) < 170, `pre-published at +${at(1)}`);
    assert.ok(at(2) >= 200 && at(2) < 205, `active at +${at(2)}`);
    assert.ok(at(3) >= 275 && at(3) < 280, `removed at +${at(3)}`);
    assert.deepEqual(ctx.seen[ctx.seen.length - 1]!.cds, [tags.k], 'the KSK\'s CDS is published');
  } finally {
    dir.cleanup();
  }
});

for (const role of ['ksk', 'csk'] as const) {
  test(`${role.toUpperCase()} roll: double signature, CDS for both keys, waits for the parent's DS, then retires the old key`, () => {
    const dir = tempDir(`sovereign-roll-${role}-`);
    try {
      const keyDir = join(dir.path, 'keys');
      const csk = role === 'csk';
      const ctx = { now: T0, dir: dir.path, csk, seen: [] as Snapshot[], signer: undefined as unknown as ZoneSigner };
      const rollover = csk ? { ...ROLL, cskLifetime: 200 } : { ...ROLL, kskLifetime: 200 };
      const make = (): ZoneSigner => new ZoneSigner(Name.fromText(ORIGIN), { keyDir, policy: { ...DEFAULT_POLICY, split: !csk, rollover }, now: () => ctx.now });
      ctx.signer = make();
      const first = ctx.signer.sign(load(dir.path));
      ctx.seen.push(snapshot(first, ctx.now));
      const old = ctx.signer.status().find((k) => k.role === role)!;
      drive(ctx, T0 + 170);
      const s1 = ctx.signer.status();
      const neu = s1.find((k) => k.predecessor === old.tag)!;
      assert.ok(neu !== undefined, 'successor made at Activate + lifetime - Ipub');
      assert.equal(neu.role, role);
      // Its CDS is due Ipub after it was made; the roll then waits for the parent, however long.
      drive(ctx, T0 + 1000);
      let now = ctx.seen[ctx.seen.length - 1]!;
      assert.deepEqual(now.cds, [old.tag, neu.tag].sort((a, b) => a - b), 'double DS: CDS for both keys');
      assert.ok(now.signers.includes(`dnskey:${old.tag}`) && now.signers.includes(`dnskey:${neu.tag}`), 'both KSKs sign the DNSKEY RRset');
      const waiting = ctx.signer.status().find((k) => k.tag === neu.tag)!;
      assert.match(waiting.waiting ?? '', /parent's DS/);
      assert.equal(ctx.signer.status().find((k) => k.tag === old.tag)!.state, 'active', 'no DS seen: the old key stays');
      assert.deepEqual(ctx.signer.dsPending().published.map((k) => k.keyTag).sort(), [old.tag, neu.tag].sort());
      // The parent's DS for the new key is seen (checkds): restart, then the old key retires after
      // the parent's propagation delay, DS TTL and safety (5 + 20 + 5), and leaves later.
      assert.deepEqual(ctx.signer.dsSeen('published', neu.tag), [neu.tag]);
      const seenAt = ctx.now;
      ctx.signer = make();
      ctx.signer.sign(load(dir.path));
      drive(ctx, ctx.now + 150);
      const retired = ctx.seen.find((s) => s.at > seenAt && !s.signers.includes(`dnskey:${old.tag}`))!;
      assert.ok(retired.at - seenAt >= 30 && retired.at - seenAt < 35, `retired ${retired.at - seenAt}s after the DS was seen`);
      assert.deepEqual(retired.cds, [neu.tag], 'the old key\'s CDS is withdrawn when it retires');
      now = ctx.seen[ctx.seen.length - 1]!;
      assert.deepEqual(now.dnskeys, csk ? ['K'] : ['K', 'Z'], 'the old key is gone');
      assert.ok(!now.signers.some((s) => s.endsWith(`:${old.tag}`)));
      const final = ctx.signer.status();
      assert.equal(final.find((k) => k.tag === old.tag)!.state, 'removed');
      assert.deepEqual(ctx.signer.dsPending().withdrawn.map((k) => k.keyTag), [old.tag], 'its DS is now checked for withdrawal');
      assert.deepEqual(ctx.signer.dsSeen('withdrawn', old.tag), [old.tag]);
      assert.equal(ctx.signer.status().find((k) => k.tag === old.tag)!.ds, 'withdrawn');
      if (csk) {
        // The CSK signed the data beside the old one during the roll, and alone after it.
        assert.ok(ctx.seen.some((s) => s.signers.includes(`data:${old.tag}`) && s.signers.includes(`data:${neu.tag}`)));
        assert.ok(now.signers.includes(`data:${neu.tag}`));
      }
    } finally {
      dir.cleanup();
    }
  });
}

test('going insecure: CDS/CDNSKEY delete records (RFC 8078 §4) until the parent\'s DS is gone, then unsigned', () => {
  const dir = tempDir('sovereign-unsign-');
  try {
    const keyDir = join(dir.path, 'keys');
    let now = T0;
    const policy = { ...DEFAULT_POLICY, rollover: ROLL };
    const signed = new ZoneSigner(Name.fromText(ORIGIN), { keyDir, policy, now: () => now });
    signed.sign(load(dir.path));
    const [csk] = signed.status();
    now += 60;
    const going = new ZoneSigner(Name.fromText(ORIGIN), { keyDir, policy: { ...policy, unsign: true }, now: () => now });
    const z1 = going.sign(load(dir.path));
    assert.deepEqual(verifyZone(z1, now).errors, []);
    peersVerify(dir.path, z1, true, 'unsigning');
    const text = (type: number): string[] => (z1.apex.get(type)?.rdata ?? []).map((d) => recordToString({ name: z1.origin, type, class: 1, ttl: 20, data: d }).split(/\s+/).slice(4).join(' '));
    assert.deepEqual(text(RRType.CDS), ['0 0 0 00']);
    assert.deepEqual(text(RRType.CDNSKEY), ['0 3 0 AA==']);
    assert.ok((z1.apex.get(RRType.RRSIG)?.rdata as RRSIGData[]).some((s) => s.typeCovered === RRType.CDS), 'the delete records are signed');
    assert.deepEqual(going.dsPending().withdrawn.map((k) => k.keyTag), [csk!.tag]);
    // However long the parent keeps the DS, the zone stays signed.
    now += 1000;
    assert.ok(going.refresh()!.apex.get(RRType.DNSKEY) !== undefined);
    assert.deepEqual(going.dsSeen('withdrawn'), [csk!.tag]);
    const seenAt = now;
    now += 25;
    assert.ok(going.refresh()!.apex.get(RRType.DNSKEY) !== undefined, 'still signed while the parent\'s old DS may be cached');
    assert.equal(going.nextEventAt(), seenAt + 5 + 20 + 5);
    now = seenAt + 30;
    const plain = going.refresh()!;
    for (const node of plain.nodes()) {
      for (const t of [RRType.RRSIG, RRType.NSEC, RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]) assert.equal(node.get(t), undefined, `${node.name.toString()} ${t}`);
    }
    assert.equal(going.status()[0]!.state, 'removed');
    assert.ok(plain.apex.get(RRType.SOA) !== undefined);
  } finally {
    dir.cleanup();
  }
});
