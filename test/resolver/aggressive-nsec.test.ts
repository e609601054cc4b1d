/**
 * RFC 8198 aggressive NSEC (src/resolver/aggressive-nsec.ts), table-driven over one zone's NSEC
 * chain: what is denied from cached ranges, what needs asking, expiry, delegations. The
 * loopback test against real signed zones is in test/interop/dnssec-hierarchy.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggressiveNsec } from '../../src/resolver/aggressive-nsec.js';
import { Name } from '../../src/wire/name.js';
import type { ResourceRecord } from '../../src/wire/record.js';
import { RRClass, RRType, type NSECData } from '../../src/wire/types.js';

const n = (s: string): Name => Name.fromText(s);
const T0 = 1_900_000_000;

function nsec(owner: string, next: string, types: number[]): ResourceRecord<NSECData> {
  return { name: n(owner), type: RRType.NSEC, class: RRClass.IN, ttl: 300, data: { nextDomainName: n(next), types } };
}

const ZONE = 'ex.';
/** ex. -> b.ex. -> *.w.ex. -> x.ex. (delegation) -> ex. */
const CHAIN = [
  nsec('ex.', 'b.ex.', [RRType.SOA, RRType.NS, RRType.NSEC, RRType.RRSIG, RRType.DNSKEY]),
  nsec('b.ex.', 'c.d.ex.', [RRType.A, RRType.NSEC, RRType.RRSIG]),
  nsec('c.d.ex.', '*.w.ex.', [RRType.A, RRType.NSEC, RRType.RRSIG]),
  nsec('*.w.ex.', 'x.ex.', [RRType.TXT, RRType.NSEC, RRType.RRSIG]),
  nsec('x.ex.', 'ex.', [RRType.NS, RRType.NSEC, RRType.RRSIG]),
];
const SOA: ResourceRecord = {
  name: n(ZONE), type: RRType.SOA, class: RRClass.IN, ttl: 3600,
  data: { mname: n('ns.ex.'), rname: n('h.ex.'), serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 600 },
};

function filled(): AggressiveNsec {
  const a = new AggressiveNsec();
  a.add(CHAIN.map((r) => ({ zone: n(ZONE), records: [r], sigs: [], ttl: 300 })), [SOA], T0);
  return a;
}

describe('aggressive NSEC (RFC 8198)', () => {
  const cases: [string, string, 'nxdomain' | 'nodata' | undefined][] = [
    ['a.ex.', 'A', 'nxdomain'],          // ex. -> b.ex. covers it; *.ex. covered by the same NSEC
    ['ba.ex.', 'AAAA', 'nxdomain'],      // b.ex. -> c.d.ex.
    ['b.ex.', 'TXT', 'nodata'],          // the NSEC at b.ex. lacks TXT
    ['b.ex.', 'A', undefined],           // ... but has A: ask
    ['d.ex.', 'A', 'nodata'],            // empty non-terminal (next name c.d.ex. is below it)
    ['q.w.ex.', 'A', 'nodata'],          // wildcard NODATA: *.w.ex. has only TXT
    ['q.w.ex.', 'TXT', undefined],       // the wildcard would answer: ask
    ['y.x.ex.', 'A', undefined],         // below a delegation: the parent's NSEC says nothing
    ['x.ex.', 'DS', undefined],          // DS questions are never synthesised
    ['other.', 'A', undefined],          // not in a cached zone
  ];
  for (const [name, type, want] of cases) {
    it(`${name} ${type} -> ${want ?? 'ask upstream'}`, () => {
      const d = filled().lookup(n(name), (RRType as Record<string, number>)[type]!, T0 + 10);
      assert.equal(d?.kind, want);
      if (d !== undefined) {
        assert.equal(d.authority[0]!.type, RRType.SOA);
        assert.ok(d.authority.every((r) => r.ttl === 290), 'TTLs counted down from the 300 s NSEC');
      }
    });
  }

  it('ranges expire with the NSEC TTL (capped by the SOA minimum) and need the zone SOA', () => {
    const a = filled();
    assert.equal(a.lookup(n('a.ex.'), RRType.A, T0 + 299)?.kind, 'nxdomain');
    assert.equal(a.lookup(n('a.ex.'), RRType.A, T0 + 300), undefined);
    const noSoa = new AggressiveNsec();
    noSoa.add(CHAIN.map((r) => ({ zone: n(ZONE), records: [r], sigs: [], ttl: 300 })), [], T0);
    assert.equal(noSoa.lookup(n('a.ex.'), RRType.A, T0 + 1), undefined);
  });

  it('NXDOMAIN needs the wildcard denied too: a missing range means asking', () => {
    const a = new AggressiveNsec();
    a.add([{ zone: n(ZONE), records: [CHAIN[1]!], sigs: [], ttl: 300 }], [SOA], T0);
    assert.equal(a.lookup(n('ba.ex.'), RRType.A, T0 + 1), undefined); // *.ex. not covered by a cached NSEC
  });
});
