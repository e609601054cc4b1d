/**
 * The validator as a library (no server): trust anchors (built-in root DS checked against Debian's
 * dns-root-data root.key; master-file and BIND-clause files), the injected clock against the
 * validity window and the RFC 4035 §5.3.3 TTL cap, and the work limits against KeyTrap
 * (CVE-2023-50387: colliding key tags, many signatures) and NSEC3 closest-encloser hashing
 * (CVE-2023-50868). The data source here is a zone signed in memory with our signer (the
 * validator takes any `fetch`); the loopback interop suite runs it against real servers.
 */
import { strict as assert } from 'node:assert';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it, type TestContext } from 'node:test';
import { dnskeyFromPublicKey } from '../../../src/dnssec/algorithms.js';
import { canonicalRdata } from '../../../src/dnssec/canonical.js';
import { dsDigest } from '../../../src/dnssec/digest.js';
import { keyTag } from '../../../src/dnssec/key-tag.js';
import { signRrset, type SigningKey } from '../../../src/dnssec/rrsig.js';
import { TrustAnchorSet, Validator, parseAnchorText, type FetchResult } from '../../../src/dnssec/validator/index.js';
import { EdeCode, Rcode } from '../../../src/wire/constants.js';
import { Name } from '../../../src/wire/name.js';
import type { ResourceRecord } from '../../../src/wire/record.js';
import { toBase32Hex } from '../../../src/wire/rdata/text.js';
import { RRClass, RRType, type DNSKEYData, type DSData } from '../../../src/wire/types.js';
import { inCI } from '../../helpers/peers.js';

const n = (s: string): Name => Name.fromText(s);
const DAY = 86_400;
const T0 = 1_800_000_000; // a fixed "now" in seconds

function rr<T>(name: string, type: number, ttl: number, data: T): ResourceRecord<T> {
  return { name: n(name), type, class: RRClass.IN, ttl, data };
}

/** An Ed25519 zone key of `owner` and its DNSKEY record. */
function makeKey(owner: string, flags: number): { key: SigningKey; dnskey: ResourceRecord<DNSKEYData> } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pk = dnskeyFromPublicKey(15, publicKey);
  const dnskey = rr<DNSKEYData>(owner, RRType.DNSKEY, 3600, { flags, protocol: 3, algorithm: 15, publicKey: pk });
  return { key: { owner: n(owner), algorithm: 15, keyTag: keyTag(flags, 3, 15, pk), privateKey }, dnskey };
}

/** A root zone signed in memory: answers (name, type) from its records, like an authoritative server with DO=1. */
class MemoryZone {
  readonly ksk = makeKey('.', 257);
  records: ResourceRecord[] = [];
  fetches = 0;
  constructor(readonly inception = T0 - DAY, readonly expiration = T0 + 30 * DAY) {}
  sign(set: ResourceRecord[], key: SigningKey = this.ksk.key, originalTtl?: number): ResourceRecord[] {
    const sig = signRrset(set, key, { inception: this.inception, expiration: this.expiration, originalTtl });
    this.records.push(...set, sig);
    return [...set, sig];
  }
  fetch = async (name: Name, type: number): Promise<FetchResult> => {
    this.fetches++;
    const answer = this.records.filter((r) => r.name.equals(name) && (r.type === type ||
      (r.type === RRType.RRSIG && (r.data as { typeCovered: number }).typeCovered === type)));
    // NODATA: the NSEC at the name and its RRSIG, as a server would send (RFC 4035 §3.1.3.1).
    const authority = answer.length > 0 ? [] : this.records.filter((r) => r.name.equals(name) && (r.type === RRType.NSEC ||
      (r.type === RRType.RRSIG && (r.data as { typeCovered: number }).typeCovered === RRType.NSEC)));
    return { rcode: Rcode.NOERROR, answer, authority };
  };
}

function anchorsFor(dnskey: ResourceRecord<DNSKEYData>): TrustAnchorSet {
  const s = new TrustAnchorSet();
  s.add([dnskey]);
  return s;
}

describe('trust anchors', () => {
  it('the built-in root DS records are the digests of the root KSKs in dns-root-data', (t: TestContext) => {
    const path = '/usr/share/dns/root.key';
    if (!existsSync(path)) {
      if (inCI) throw new Error(`${path} missing (install dns-root-data)`);
      return t.skip('dns-root-data not installed');
    }
    const keys = parseAnchorText(readFileSync(path, 'utf8'), path).filter((r) => r.type === RRType.DNSKEY) as ResourceRecord<DNSKEYData>[];
    const builtin = TrustAnchorSet.builtin().at(Name.ROOT)!;
    assert.deepEqual(builtin.ds.map((d) => d.data.keyTag).sort(), [20326, 38696]);
    for (const ds of builtin.ds) {
      const key = keys.find((k) => keyTag(k.data.flags, k.data.protocol, k.data.algorithm, k.data.publicKey) === ds.data.keyTag);
      assert.ok(key !== undefined, `root.key has no key ${ds.data.keyTag}`);
      assert.equal(Buffer.from(dsDigest(Name.ROOT, canonicalRdata(key), 2)).toString('hex'), Buffer.from(ds.data.digest).toString('hex'));
      assert.equal(ds.data.algorithm, 8);
    }
  });

  it('reads BIND trust-anchors clauses and master-file DS/DNSKEY alike', () => {
    const bind = parseAnchorText(`trust-anchors {
      . initial-ds 20326 8 2 "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D";
      example.com. static-key 257 3 13 "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==";
    };`, 'named.conf') as ResourceRecord[];
    assert.equal(bind.length, 2);
    assert.equal(bind[0]!.type, RRType.DS);
    assert.equal((bind[0]!.data as DSData).keyTag, 20326);
    assert.equal(bind[1]!.type, RRType.DNSKEY);
    assert.equal(bind[1]!.name.toString(), 'example.com.');
    const master = parseAnchorText('; comment\n. 172800 IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n', 'root.ds');
    assert.deepEqual(master.map((r) => (r.data as DSData).digest), [(bind[0]!.data as DSData).digest]);
    assert.throws(() => parseAnchorText('. IN A 192.0.2.1\nbad line here\n', 'x'), /x/);
  });
});

describe('validator with an injected clock', () => {
  const zone = new MemoryZone();
  zone.sign([zone.ksk.dnskey]);
  zone.sign([rr('host.', RRType.A, 3600, { address: '192.0.2.1' })], zone.ksk.key, 300);
  const answer = zone.records.filter((r) => r.name.equals(n('host.')));
  zone.sign([rr('host.', RRType.NSEC, 300, { nextDomainName: Name.ROOT, types: [RRType.A, RRType.RRSIG, RRType.NSEC] })]);

  const at = (sec: number): Validator => new Validator({ anchors: anchorsFor(zone.ksk.dnskey), fetch: zone.fetch, clock: () => sec * 1000 });

  it('secure inside the window, TTL capped by the original TTL (RFC 4035 §5.3.3)', async () => {
    const r = await at(T0).validate(n('host.'), RRType.A, { rcode: 0, answer, authority: [] });
    assert.equal(r.status, 'secure');
    assert.equal(r.rrsets[0]!.ttl, 300);
  });

  it('TTL capped by the time left before the signature expires', async () => {
    const r = await at(zone.expiration - 100).validate(n('host.'), RRType.A, { rcode: 0, answer, authority: [] });
    assert.equal(r.status, 'secure');
    assert.equal(r.rrsets[0]!.ttl, 100);
  });

  it('bogus with EDE 7 once expired beyond the skew, EDE 8 before inception beyond the skew', async () => {
    const late = await at(zone.expiration + 2 * DAY).validate(n('host.'), RRType.A, { rcode: 0, answer, authority: [] });
    assert.equal(late.status, 'bogus');
    assert.equal(late.ede?.code, EdeCode.SIGNATURE_EXPIRED);
    const early = await at(zone.inception - 2 * DAY).validate(n('host.'), RRType.A, { rcode: 0, answer, authority: [] });
    assert.equal(early.status, 'bogus');
    assert.equal(early.ede?.code, EdeCode.SIGNATURE_NOT_YET_VALID);
    // Unbound's skew: 10% of the validity period (31 days -> capped at 24 h) still accepts an hour late.
    const skewed = await at(zone.expiration + 3600).validate(n('host.'), RRType.A, { rcode: 0, answer, authority: [] });
    assert.equal(skewed.status, 'secure');
  });

  it('tampered data is bogus (EDE 6); data without RRSIG in a signed zone is bogus (EDE 10)', async () => {
    const tampered = answer.map((r) => r.type === RRType.A ? { ...r, data: { address: '192.0.2.66' } } : r);
    const a = await at(T0).validate(n('host.'), RRType.A, { rcode: 0, answer: tampered, authority: [] });
    assert.deepEqual([a.status, a.ede?.code], ['bogus', EdeCode.DNSSEC_BOGUS]);
    const b = await at(T0).validate(n('host.'), RRType.A, { rcode: 0, answer: answer.filter((r) => r.type === RRType.A), authority: [] });
    assert.deepEqual([b.status, b.ede?.code], ['bogus', EdeCode.RRSIGS_MISSING]);
  });
});

/** A key of `owner` whose tag is `tag`: random Ed25519 key bytes, the last two chosen to hit the tag. */
function collidingKey(owner: string, tag: number): ResourceRecord<DNSKEYData> {
  for (;;) {
    const pk = new Uint8Array(randomBytes(32));
    for (let x = 0; x < 65536; x++) {
      pk[30] = x >> 8;
      pk[31] = x & 0xff;
      if (keyTag(256, 3, 15, pk) === tag) return rr<DNSKEYData>(owner, RRType.DNSKEY, 3600, { flags: 256, protocol: 3, algorithm: 15, publicKey: pk.slice() });
    }
  }
}

describe('bounded work (KeyTrap, NSEC3 closest encloser)', () => {
  it('CVE-2023-50387: 40 keys with one tag and 40 signatures cost at most 8 x 4 checks, then bogus', async () => {
    const zone = new MemoryZone();
    const tag = 4242;
    const junk = Array.from({ length: 40 }, () => collidingKey('.', tag));
    zone.sign([zone.ksk.dnskey, ...junk]);
    const a = rr('host.', RRType.A, 300, { address: '192.0.2.1' });
    const good = signRrset([a], zone.ksk.key, { inception: zone.inception, expiration: zone.expiration });
    const sigs = Array.from({ length: 40 }, () => ({ ...good, data: { ...good.data, keyTag: tag, signature: new Uint8Array(randomBytes(64)) } }));
    const v = new Validator({ anchors: anchorsFor(zone.ksk.dnskey), fetch: zone.fetch, clock: () => T0 * 1000 });
    const r = await v.validate(n('host.'), RRType.A, { rcode: 0, answer: [a, ...sigs], authority: [] });
    assert.equal(r.status, 'bogus');
    // 1 check for the DNSKEY set, then 8 signatures x 4 colliding keys at most.
    assert.ok(r.work.signatures <= 1 + 8 * 4, `signature checks: ${r.work.signatures}`);
    assert.ok(r.work.signatures >= 8, `signature checks: ${r.work.signatures}`);
  });

  it('CVE-2023-50868: a 120-label NXDOMAIN with unrelated NSEC3 records stops at the hash limit', async () => {
    const zone = new MemoryZone();
    zone.sign([zone.ksk.dnskey]);
    zone.sign([rr('.', RRType.SOA, 300, { mname: n('a.root.'), rname: n('h.root.'), serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 300 })]);
    const authority: ResourceRecord[] = zone.records.filter((r) => r.type === RRType.SOA || (r.type === RRType.RRSIG && (r.data as { typeCovered: number }).typeCovered === RRType.SOA));
    for (let i = 0; i < 3; i++) {
      const h = createHash('sha1').update(`junk${i}`).digest();
      const owner = `${toBase32Hex(new Uint8Array(h)).toLowerCase()}.`;
      const next = new Uint8Array(createHash('sha1').update(`next${i}`).digest());
      authority.push(...zone.sign([rr(owner, RRType.NSEC3, 300, { hashAlgorithm: 1, flags: 0, iterations: 150, salt: new Uint8Array([1, 2]), nextHashedOwnerName: next, types: [RRType.A] })]));
    }
    const qname = n(Array.from({ length: 120 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('.') + '.');
    const v = new Validator({ anchors: anchorsFor(zone.ksk.dnskey), fetch: zone.fetch, clock: () => T0 * 1000, limits: { maxNsec3Hashes: 32 } });
    const r = await v.validate(qname, RRType.A, { rcode: Rcode.NXDOMAIN, answer: [], authority });
    assert.equal(r.status, 'bogus');
    assert.ok(r.work.nsec3Hashes <= 32, `hashes: ${r.work.nsec3Hashes}`);
  });
});
