/**
 * Interop: a CSK rollover of a zone signed by the server, under a parent signed with BIND's tools
 * and served by NSD, driven by an injected clock. The parent is the server's parental agent: the
 * roll waits until NSD serves the new DS, which the test puts there from the CDS records the
 * server publishes (what a parent's CDS scanner does, RFC 7344 §4), then retires the old key. At
 * every step a fresh validating Unbound (trust anchor: the parent's KSK) answers with AD, and delv
 * says "fully validated", over the DS the parent publishes at that moment.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { digReply } from '../helpers/dig-reply.js';
import { RollHarness } from './dnssec-roll-harness.js';

const PARENT = 'rollp.';
const CHILD = 'kid.rollp.';
const ADDRESSES = { nsd: '127.27.0.1', sov: '127.27.0.2', unbound: '127.27.0.3' };

describe('CSK rollover under a BIND-signed parent: Unbound and delv validate every step', { concurrency: false }, () => {
  let h: RollHarness | undefined;

  before(async () => {
    h = await RollHarness.start({
      parent: PARENT, child: CHILD, addresses: ADDRESSES,
      dnssec: {
        policy: 'default', cskLifetime: 200, dnskeyTtl: 20, propagationDelay: 10, publishSafety: 5,
        retireSafety: 5, parentDsTtl: 20, parentPropagationDelay: 5,
      },
    });
    if (h === undefined) return;
    // The parent starts with the DS of the first CSK (its CDS appears after Ipub = 35 s).
    h.now += 40;
    h.sov.signing.refreshDue(h.swap);
    const ds = await h.cdsAsDs();
    assert.equal(ds.length, 1);
    await h.publishParent(ds);
  });

  after(async () => {
    await h?.stop();
  });

  test('each step of the roll validates; the old key goes only after the parent shows the new DS', async (t) => {
    if (h === undefined) {
      t.skip('peers missing');
      return;
    }
    const T0 = h.T0;
    const [first] = h.status().keys;
    assert.equal(h.status().keys.length, 1);
    const status = (): ReturnType<RollHarness['status']> => h!.status();
    const validates = (step: string): Promise<void> => h!.validates(step);
    const advance = (to: number): void => h!.advance(to);
    const cdsAsDs = (): Promise<string[]> => h!.cdsAsDs();
    const publishParent = (ds: string[]): Promise<void> => h!.publishParent(ds);
    await h.checkParents();
    assert.equal(status().keys[0]!.ds, 'published', 'the parental agent shows the first DS');
    await validates('start');

    // The roll starts at Activate + 200 - Ipub: the new CSK is published and signs beside the old.
    advance(T0 + 170);
    const second = status().keys.find((k) => k.predecessor === first!.tag)!;
    assert.ok(second !== undefined);
    await validates('successor published');
    advance(T0 + 215);
    assert.deepEqual((await cdsAsDs()).length, 2, 'CDS for both keys');
    // The parent does not have the new DS yet: checkds leaves the roll waiting, however long.
    await h.checkParents();
    advance(T0 + 400);
    assert.equal(status().keys.find((k) => k.tag === first!.tag)!.state, 'active');
    assert.match(status().keys.find((k) => k.tag === second.tag)!.waiting ?? '', /parent's DS/);
    await validates('waiting for the parent');

    // The parent takes the CDS (both DS): checkds sees it, the old key retires 30 s later.
    await publishParent(await cdsAsDs());
    await validates('double DS at the parent');
    await h.checkParents();
    assert.equal(status().keys.find((k) => k.tag === second.tag)!.ds, 'published');
    advance(h.now + 40);
    assert.equal(status().keys.find((k) => k.tag === first!.tag)!.state, 'retired');
    const cds = await cdsAsDs();
    assert.equal(cds.length, 1, 'only the new key\'s CDS');
    assert.match(cds[0]!, new RegExp(`^${second.tag} 13 2 `));
    await validates('old key retired');
    // The parent follows the CDS: only the new DS; the old key leaves the DNSKEY RRset.
    await publishParent(cds);
    await validates('new DS only');
    advance(h.now + 100);
    assert.equal(status().keys.find((k) => k.tag === first!.tag)!.state, 'removed');
    const keys = await digReply(ADDRESSES.sov, h.port, [CHILD, 'DNSKEY', '+norec']);
    assert.equal(keys.answer.length, 1, keys.raw);
    await validates('old key removed');
    await h.checkParents();
    assert.equal(status().keys.find((k) => k.tag === first!.tag)!.ds, 'withdrawn');
    // The key files stay in BIND's format with the timing metadata the roll gave them.
    const files = readdirSync(join(h.dir.path, 'keys'));
    assert.equal(files.filter((n) => n.endsWith('.state')).length, 2);
    const oldKey = readFileSync(join(h.dir.path, 'keys', files.find((n) => n.endsWith(`${String(first!.tag).padStart(5, '0')}.key`))!), 'utf8');
    assert.match(oldKey, /^; Inactive: \d{14} /m);
    assert.match(oldKey, /^; Delete: \d{14} /m);
    assert.match(oldKey, /^; SyncDelete: \d{14} /m);
  });
});
