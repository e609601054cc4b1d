/**
 * Interop: an algorithm rollover (RFC 6781 §4.1.4) of a zone signed by the server, 8 -> 13 by a
 * reload with the policy's algorithm changed (as BIND's dnssec-policy rolls), under a parent
 * signed with BIND's tools and served by NSD as the parental agent (dnssec-roll-harness.ts). At
 * every step: the served zone passes dnssec-verify and ldns-verify-zone, a fresh validating
 * Unbound answers with AD (once with its defaults and once with harden-algo-downgrade: yes, which
 * wants a signature of every algorithm in the DS RRset) and delv says "fully validated".
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RollHarness } from './dnssec-roll-harness.js';

const PARENT = 'algp.';
const CHILD = 'kid.algp.';
const ADDRESSES = { nsd: '127.27.1.1', sov: '127.27.1.2', unbound: '127.27.1.3' };
const STRICT = '  harden-algo-downgrade: yes';

/** Algorithms of the RRSIGs in an answer, and of the DNSKEYs. */
function algorithms(answer: string[], type: 'RRSIG' | 'DNSKEY'): number[] {
  const out = new Set<number>();
  for (const l of answer) {
    const f = l.split(/\s+/);
    const i = f.indexOf(type);
    if (i < 1 || f[i - 1] !== 'IN') continue; // the record's type, not an RRSIG's type covered
    out.add(Number(type === 'RRSIG' ? f[i + 2] : f[i + 3]));
  }
  return [...out].sort((a, b) => a - b);
}

describe('algorithm rollover 8 -> 13 under a BIND-signed parent: Unbound and delv validate every step', { concurrency: false }, () => {
  let h: RollHarness | undefined;

  before(async () => {
    h = await RollHarness.start({
      parent: PARENT, child: CHILD, addresses: ADDRESSES,
      dnssec: {
        policy: 'default', algorithm: 8, dnskeyTtl: 20, propagationDelay: 10, publishSafety: 5,
        retireSafety: 5, parentDsTtl: 20, parentPropagationDelay: 5,
      },
    });
    if (h === undefined) return;
    h.now += 40;
    h.sov.signing.refreshDue(h.swap);
    const ds = await h.cdsAsDs();
    assert.equal(ds.length, 1);
    assert.match(ds[0]!, /^\d+ 8 2 /);
    await h.publishParent(ds);
  });

  after(async () => {
    await h?.stop();
  });

  test('new algorithm signs beside the old, DS swapped via CDS and checkds, then the old DNSKEY and RRSIGs go', async (t) => {
    if (h === undefined) {
      t.skip('peers missing');
      return;
    }
    const step = async (name: string): Promise<void> => {
      h!.verifyServed(name, true);
      await h!.validates(name);
      await h!.validates(`${name} (harden-algo-downgrade)`, STRICT);
    };
    await h.checkParents();
    const [old] = h.status().keys;
    assert.deepEqual([h.status().keys.length, old!.algorithm, old!.ds], [1, 8, 'published']);
    await step('algorithm 8');

    // 1. The policy says 13: a new CSK, published and signing at once beside the old one.
    await h.reconfigure({ algorithm: 13 });
    const start = h.now;
    const neu = h.status().keys.find((k) => k.predecessor === old!.tag)!;
    assert.ok(neu !== undefined);
    assert.equal(neu.algorithm, 13);
    assert.deepEqual(algorithms(await h.ask(CHILD, 'DNSKEY'), 'DNSKEY'), [8, 13]);
    assert.deepEqual(algorithms(await h.ask(`www.${CHILD}`, 'A'), 'RRSIG'), [8, 13], 'every RRset signed with both');
    assert.deepEqual(algorithms(await h.ask(CHILD, 'DNSKEY'), 'RRSIG'), [8, 13]);
    assert.match((await h.cdsAsDs()).join(), /^\d+ 8 2 /, 'the CDS still asks for the old DS');
    await step('both algorithms sign');

    // 2. Once the new DNSKEY and signatures are in every cache (10 + max(20, 20) + 5 s), the CDS asks for the swap.
    h.advance(start + 35);
    const cds = await h.cdsAsDs();
    assert.equal(cds.length, 1);
    assert.match(cds[0]!, new RegExp(`^${neu.tag} 13 2 `));
    // The parent still has the old DS: the roll waits, however long.
    await h.checkParents();
    h.advance(h.now + 300);
    assert.match(h.status().keys.find((k) => k.tag === neu.tag)!.waiting ?? '', /parent's DS/);
    assert.match(h.status().keys.find((k) => k.tag === old!.tag)!.waiting ?? '', /withdraw/);
    assert.deepEqual(algorithms(await h.ask(CHILD, 'DNSKEY'), 'DNSKEY'), [8, 13]);
    await step('CDS asks for the swap');

    // 3. The parent swaps the DS; checkds sees the new one published and the old one gone.
    await h.publishParent(cds);
    await step('DS swapped at the parent');
    await h.checkParents();
    const seen = h.now;
    assert.equal(h.status().keys.find((k) => k.tag === neu.tag)!.ds, 'published');
    assert.equal(h.status().keys.find((k) => k.tag === old!.tag)!.ds, 'withdrawn');

    // 4. After the parent's DS TTL (5 + 20 + 5 s) the old DNSKEY leaves; its signatures stay.
    h.advance(seen + 30);
    assert.deepEqual(algorithms(await h.ask(CHILD, 'DNSKEY'), 'DNSKEY'), [13]);
    assert.deepEqual(algorithms(await h.ask(`www.${CHILD}`, 'A'), 'RRSIG'), [8, 13]);
    await step('old DNSKEY removed');

    // 5. After the DNSKEY TTL (10 + 20 + 5 s) the old algorithm's signatures go too.
    h.advance(seen + 30 + 35);
    assert.deepEqual(algorithms(await h.ask(`www.${CHILD}`, 'A'), 'RRSIG'), [13]);
    assert.deepEqual(algorithms(await h.ask(CHILD, 'DNSKEY'), 'RRSIG'), [13]);
    assert.deepEqual(algorithms(await h.ask(`nx.${CHILD}`, 'A'), 'RRSIG'), [13]);
    assert.equal(h.status().keys.find((k) => k.tag === old!.tag)!.state, 'removed');
    await step('old RRSIGs removed');
  });
});
