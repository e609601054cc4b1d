/**
 * The DNSSEC core against BIND's tools: signatures made by dnssec-signzone verify with our code for
 * every algorithm we implement; signatures we make verify against the same canonical form; DS digests
 * equal dnssec-dsfromkey's; NSEC3 owner hashes equal dnssec-signzone's.
 */
import { strict as assert } from 'node:assert';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import {
  algorithmInfo, dnskeyFromPublicKey, publicKeyFromDnskey, supportedAlgorithms,
} from '../../src/dnssec/algorithms.js';
import { canonicalRdataSet, signedOwner } from '../../src/dnssec/canonical.js';
import { DigestType, digestLength, dsDigest, nsec3Hash } from '../../src/dnssec/digest.js';
import { keyTag } from '../../src/dnssec/key-tag.js';
import { rrsigMatchesKey, signRrset, verifyRrsig } from '../../src/dnssec/rrsig.js';
import { Name } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { toBase32Hex } from '../../src/wire/rdata/text.js';
import { RRType, type DNSKEYData, type DSData, type NSEC3Data, type RRSIGData } from '../../src/wire/types.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { inCI, tempDir } from '../helpers/peers.js';

const TOOLS = ['/usr/bin/dnssec-keygen', '/usr/bin/dnssec-signzone', '/usr/bin/dnssec-dsfromkey'];

function haveBindTools(t: TestContext): boolean {
  const missing = TOOLS.filter((p) => !existsSync(p));
  if (missing.length === 0) return true;
  const why = `missing ${missing.join(', ')} (run scripts/install-peers.sh)`;
  if (inCI) throw new Error(why);
  t.skip(why);
  return false;
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const ORIGIN = Name.fromText('example.tst.');
const ZONE = `$TTL 300
@ IN SOA ns1 hostmaster 2024010101 3600 900 604800 300
@ NS ns1
ns1 A 127.0.0.53
www A 192.0.2.1
www A 192.0.2.2
WWW AAAA 2001:db8::1
mail MX 10 www
*.wild TXT "wildcard data"
sub NS ns.sub
ns.sub A 127.0.0.54
`;

function parse(text: string): ResourceRecord[] {
  return [...parseZoneText(text, { origin: ORIGIN, file: 'signed.zone', defaultTtl: 3600 })].map((e) => e.record);
}

/** RRsets keyed by owner/type, RRSIGs keyed by owner/type covered. */
function group(records: ResourceRecord[]) {
  const sets = new Map<string, ResourceRecord[]>();
  const sigs = new Map<string, ResourceRecord<RRSIGData>[]>();
  for (const rr of records) {
    if (rr.type === RRType.RRSIG) {
      const s = rr as ResourceRecord<RRSIGData>;
      const k = `${rr.name.key}/${s.data.typeCovered}`;
      sigs.set(k, [...(sigs.get(k) ?? []), s]);
    } else {
      const k = `${rr.name.key}/${rr.type}`;
      sets.set(k, [...(sets.get(k) ?? []), rr]);
    }
  }
  return { sets, sigs };
}

/** Signs ZONE with dnssec-signzone using a KSK and a ZSK of `alg`; returns the signed records. */
function bindSign(dir: string, alg: string, extra: string[] = []): ResourceRecord[] {
  writeFileSync(join(dir, 'zone'), ZONE);
  const size = alg.startsWith('RSA') ? ['-b', '2048'] : [];
  const ksk = run('/usr/bin/dnssec-keygen', ['-q', '-a', alg, ...size, '-f', 'KSK', '-n', 'ZONE', 'example.tst'], dir).trim();
  const zsk = run('/usr/bin/dnssec-keygen', ['-q', '-a', alg, ...size, '-n', 'ZONE', 'example.tst'], dir).trim();
  const keys = readFileSync(join(dir, `${ksk}.key`), 'utf8') + readFileSync(join(dir, `${zsk}.key`), 'utf8');
  writeFileSync(join(dir, 'zone'), ZONE + keys);
  run('/usr/bin/dnssec-signzone', ['-q', '-o', 'example.tst', '-f', 'zone.signed', ...extra, 'zone', `${ksk}.key`, `${zsk}.key`], dir);
  return parse(readFileSync(join(dir, 'zone.signed'), 'utf8'));
}

describe('DNSSEC core: verifying what dnssec-signzone signed', () => {
  for (const alg of ['RSASHA256', 'RSASHA512', 'ECDSAP256SHA256', 'ECDSAP384SHA384', 'ED25519', 'ED448']) {
    it(`verifies every RRSIG of a zone signed with ${alg}`, (t) => {
      if (!haveBindTools(t)) return;
      const tmp = tempDir();
      try {
        const { sets, sigs } = group(bindSign(tmp.path, alg));
        const dnskeys = sets.get(`${ORIGIN.key}/${RRType.DNSKEY}`) as ResourceRecord<DNSKEYData>[];
        assert.equal(dnskeys.length, 2);
        const keys = dnskeys.map((k) => ({ data: k.data, obj: publicKeyFromDnskey(k.data.algorithm, k.data.publicKey) }));
        let verified = 0;
        for (const [k, rrsigs] of sigs) {
          const rrset = sets.get(k);
          assert.ok(rrset !== undefined, `RRSIG without its RRset: ${k}`);
          for (const sig of rrsigs) {
            const key = keys.find((c) => rrsigMatchesKey(sig.data, ORIGIN, c.data));
            assert.ok(key !== undefined, `no DNSKEY matches the RRSIG over ${k} (tag ${sig.data.keyTag})`);
            assert.ok(verifyRrsig(rrset, sig.data, key.obj), `RRSIG over ${k} by key ${sig.data.keyTag} does not verify`);
            // One flipped bit in the data must break it.
            const tampered: ResourceRecord[] = rrset.map((rr) => ({ ...rr }));
            tampered[0] = { ...tampered[0]!, name: tampered[0]!.name.prepend('x') };
            if (sig.data.labels === rrset[0]!.name.labelCount) assert.equal(verifyRrsig(tampered, sig.data, key.obj), false);
            verified++;
          }
        }
        // SOA, NS, A (ns1, www, ns.sub is glue: unsigned), AAAA, MX, TXT (wildcard), DNSKEY (2 sigs), NSECs.
        assert.ok(verified >= 12, `only ${verified} signatures verified`);
        // The wildcard's RRSIG also verifies for an expanded name (RFC 4035 §5.3.2).
        const wildSet = sets.get(`${Name.fromText('*.wild.example.tst.').key}/${RRType.TXT}`)!;
        const wildSig = sigs.get(`${Name.fromText('*.wild.example.tst.').key}/${RRType.TXT}`)![0]!;
        const expanded = wildSet.map((rr) => ({ ...rr, name: Name.fromText('a.b.wild.example.tst.') }));
        const wkey = keys.find((c) => rrsigMatchesKey(wildSig.data, ORIGIN, c.data))!;
        assert.ok(verifyRrsig(expanded, wildSig.data, wkey.obj));
      } finally {
        tmp.cleanup();
      }
    });
  }
});

describe('DNSSEC core: our keys and signatures', () => {
  const gen: Record<number, () => { publicKey: KeyObject; privateKey: KeyObject }> = {
    8: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
    10: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
    13: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    14: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    15: () => generateKeyPairSync('ed25519'),
    16: () => generateKeyPairSync('ed448'),
  };
  for (const info of supportedAlgorithms().filter((a) => a.sign)) {
    it(`signs and verifies with ${info.mnemonic}, and the DNSKEY round-trips`, () => {
      const pair = gen[info.number]!();
      const publicKey = dnskeyFromPublicKey(info.number, pair.publicKey);
      const again = dnskeyFromPublicKey(info.number, publicKeyFromDnskey(info.number, publicKey));
      assert.deepEqual(again, publicKey);
      const dnskey: DNSKEYData = { flags: 257, protocol: 3, algorithm: info.number, publicKey };
      const tag = keyTag(257, 3, info.number, publicKey);
      const rrset = parse('www 300 IN A 192.0.2.2\nwww 300 IN A 192.0.2.1\nWWW 300 IN A 192.0.2.1\n');
      const sig = signRrset(rrset, { owner: ORIGIN, algorithm: info.number, keyTag: tag, privateKey: pair.privateKey }, {
        inception: 1_700_000_000, expiration: 1_800_000_000,
      });
      assert.equal(sig.data.labels, 3);
      assert.ok(rrsigMatchesKey(sig.data, ORIGIN, dnskey));
      const pub = publicKeyFromDnskey(info.number, publicKey);
      assert.ok(verifyRrsig(rrset, sig.data, pub));
      // Order and duplicates of the set do not matter (RFC 4034 §6.3), the data does.
      assert.ok(verifyRrsig([rrset[1]!, rrset[0]!], sig.data, pub));
      assert.equal(verifyRrsig(parse('www 300 IN A 192.0.2.3\n'), sig.data, pub), false);
      const bad = { ...sig.data, signature: sig.data.signature.slice() };
      bad.signature[bad.signature.length - 1]! ^= 1;
      assert.equal(verifyRrsig(rrset, bad, pub), false);
      assert.equal(verifyRrsig(rrset, { ...sig.data, signature: new Uint8Array(3) }, pub), false);
    });
  }

  it('keeps canonical RDATA sorted and unique, and signs wildcards as their owner', () => {
    const set = parse('a 1 IN A 10.0.0.2\na 1 IN A 10.0.0.1\na 1 IN A 10.0.0.2\n');
    assert.deepEqual(canonicalRdataSet(set).map((b) => [...b].join('.')), ['10.0.0.1', '10.0.0.2']);
    assert.equal(signedOwner(Name.fromText('A.B.Example.'), 1).toString(), '*.example.');
    assert.equal(signedOwner(Name.fromText('A.B.Example.'), 3).toString(), 'a.b.example.');
    assert.equal(algorithmInfo(3), undefined);
  });
});

describe('DNSSEC core: DS digests and NSEC3 hashes', () => {
  it('computes the DS digests dnssec-dsfromkey prints', (t) => {
    if (!haveBindTools(t)) return;
    const tmp = tempDir();
    try {
      const k = run('/usr/bin/dnssec-keygen', ['-q', '-a', 'ECDSAP256SHA256', '-f', 'KSK', '-n', 'ZONE', 'example.tst'], tmp.path).trim();
      const keyText = readFileSync(join(tmp.path, `${k}.key`), 'utf8');
      const key = parse(keyText).find((r) => r.type === RRType.DNSKEY) as ResourceRecord<DNSKEYData>;
      const rdata = canonicalRdataSet([key])[0]!;
      for (const [flag, type] of [['-1', DigestType.SHA1], ['-2', DigestType.SHA256], ['-a SHA-384', DigestType.SHA384]] as const) {
        const out = run('/usr/bin/dnssec-dsfromkey', [...flag.split(' '), `${k}.key`], tmp.path);
        const ds = parse(out).find((r) => r.type === RRType.DS) as ResourceRecord<DSData>;
        assert.equal(ds.data.keyTag, keyTag(key.data.flags, key.data.protocol, key.data.algorithm, key.data.publicKey));
        assert.deepEqual(dsDigest(ORIGIN, rdata, type), ds.data.digest);
        assert.equal(ds.data.digest.length, digestLength(type));
      }
    } finally {
      tmp.cleanup();
    }
  });

  it('hashes owner names as dnssec-signzone -3 does (salted, iterated)', (t) => {
    if (!haveBindTools(t)) return;
    const tmp = tempDir();
    try {
      const records = bindSign(tmp.path, 'ECDSAP256SHA256', ['-3', 'AABBCCDD', '-H', '5']);
      const nsec3 = records.filter((r) => r.type === RRType.NSEC3) as ResourceRecord<NSEC3Data>[];
      assert.ok(nsec3.length >= 5);
      const owners = new Set(nsec3.map((r) => r.name.toString().split('.')[0]!.toUpperCase()));
      const salt = new Uint8Array([0xaa, 0xbb, 0xcc, 0xdd]);
      for (const n of ['example.tst.', 'www.example.tst.', 'WWW.Example.TST.', 'mail.example.tst.', 'wild.example.tst.', '*.wild.example.tst.']) {
        const h = toBase32Hex(nsec3Hash(Name.fromText(n), 1, 5, salt)).toUpperCase();
        assert.ok(owners.has(h), `${n} hashes to ${h}, not an NSEC3 owner of the signed zone`);
      }
      for (const r of nsec3) assert.equal(r.data.iterations, 5);
    } finally {
      tmp.cleanup();
    }
  });
});
