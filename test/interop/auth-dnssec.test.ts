/**
 * Interop: zones signed by dnssec-signzone (NSEC, NSEC3 with no salt and 0 iterations, NSEC3
 * opt-out with a salt), served by Sovereign, BIND `named` and Knot; dig asks each the same
 * questions with and without DO and the answers must agree on RCODE, flags, EDNS and every
 * section (RRsets compared as sets, names case-blind). Then delv, with the zone's KSK as its
 * trust anchor, must validate our answers (positive, NXDOMAIN, NODATA, wildcard, referral).
 *
 * Choices where the peers differ (each case says which peer it is held to):
 * - Authoritative A/AAAA in the additional section come with their RRSIGs (both peers).
 * - BIND runs with `minimal-responses no-auth` as in auth-peers.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DigReply, digReply } from '../helpers/dig-reply.js';
import { PEER_BINARIES, havePeers, inCI, tempDir } from '../helpers/peers.js';
import { type ServedZones, serveOnAll } from '../helpers/serve-all.js';
import { SIGNINGS, signWithBind, signedZoneText } from '../helpers/signed-zones.js';

const SOV = '127.23.2.1';
const BIND = '127.23.2.2';
const KNOT = '127.23.2.3';

interface Case {
  q: string[];
  /** Which peers must agree exactly (default both); 'none': only our own rules are checked. */
  peers?: 'both' | 'knot' | 'bind' | 'none';
}

/** Questions asked of every signed zone (`Z` is the zone's origin). */
const CASES: Case[] = [
  // Positive answers with RRSIGs; DNSKEY at the apex; additional data signed.
  { q: ['www.Z', 'A', '+dnssec'] },
  { q: ['Z', 'SOA', '+dnssec'] },
  { q: ['Z', 'DNSKEY', '+dnssec'] },
  { q: ['Z', 'NS', '+dnssec'] },
  { q: ['Z', 'MX', '+dnssec'] },
  { q: ['WwW.Z', 'A', '+dnssec'] },
  { q: ['txt.Z', 'TXT', '+dnssec'] },
  // CNAME chains, DNAME.
  { q: ['chain.Z', 'A', '+dnssec'] },
  { q: ['dangling.Z', 'A', '+dnssec'] },
  { q: ['x.y.dn.Z', 'A', '+dnssec'] },
  // NXDOMAIN, NODATA, empty non-terminal.
  { q: ['nx.Z', 'A', '+dnssec'] },
  { q: ['a.b.c.nx.Z', 'TXT', '+dnssec'] },
  { q: ['www.Z', 'MX', '+dnssec'] },
  { q: ['Z', 'AAAA', '+dnssec'] },
  { q: ['b.ent.Z', 'A', '+dnssec'] },
  { q: ['x.ent.Z', 'A', '+dnssec'] },
  // Wildcards: expansion, NODATA, CNAME, the existing name below.
  { q: ['foo.wild.Z', 'A', '+dnssec'] },
  { q: ['a.b.wild.Z', 'TXT', '+dnssec'] },
  { q: ['foo.wild.Z', 'MX', '+dnssec'] },
  { q: ['exists.wild.Z', 'A', '+dnssec'] },
  { q: ['q.cwild.Z', 'A', '+dnssec'] },
  // Referrals: signed child (DS), unsigned child (NSEC/NSEC3 proof; opt-out), DS queries at cuts.
  { q: ['x.secure.Z', 'A', '+dnssec'] },
  { q: ['x.insecure.Z', 'A', '+dnssec'] },
  { q: ['x.a.b.unsigned.Z', 'A', '+dnssec'] },
  { q: ['secure.Z', 'DS', '+dnssec'] },
  { q: ['insecure.Z', 'DS', '+dnssec'] },
  { q: ['a.b.unsigned.Z', 'DS', '+dnssec'] },
  // Explicit DNSSEC types.
  { q: ['Z', 'NSEC3PARAM', '+dnssec'] },
  // Every RRSIG at the name, each at its covered RRset's TTL (BIND; Knot gives one, as for ANY).
  { q: ['www.Z', 'RRSIG', '+dnssec'], peers: 'bind' },
  // Without DO: none of it (no RRSIG, no NSEC/NSEC3, no DS in referrals).
  { q: ['www.Z', 'A'] },
  { q: ['nx.Z', 'A'] },
  { q: ['foo.wild.Z', 'A'] },
  { q: ['x.secure.Z', 'A'] },
  { q: ['x.insecure.Z', 'A'] },
  { q: ['www.Z', 'A', '+noedns'] },
  // Truncation keeps RRsets with their RRSIGs; TCP gets everything.
  { q: ['big.Z', 'TXT', '+dnssec', '+bufsize=1232'] },
  { q: ['big.Z', 'TXT', '+dnssec', '+bufsize=512', '+ignore'] },
  // A truncated NSEC3 NXDOMAIN: BIND sends an empty authority section, Knot splits RRsets from
  // their RRSIGs; we keep whole RRsets with their RRSIGs while they fit (checked below). An NSEC
  // NXDOMAIN fits in 512 octets and is compared with both.
  { q: ['nx.Z', 'A', '+dnssec', '+bufsize=512', '+ignore'], peers: 'none' },
  { q: ['nx.Z', 'A', '+dnssec', '+tcp'] },
];

function lower(rrs: string[]): string[] {
  return rrs.map((s) => s.toLowerCase()).sort();
}

describe('signed zones: answers agree with BIND and Knot', { concurrency: false }, () => {
  let dir: { path: string; cleanup(): void } | undefined;
  let servers: ServedZones | undefined;
  let port = 0;
  let skip = false;
  const anchors = new Map<string, string>();

  before(async () => {
    const ok = ['named', 'knotd', 'dig', 'dnssec-keygen', 'dnssec-signzone', 'delv'].every((p) => existsSync(PEER_BINARIES[p as 'named']));
    if (!ok) {
      if (inCI) throw new Error('missing peer(s): named, knotd, dig, delv, dnssec-keygen or dnssec-signzone (run scripts/install-peers.sh)');
      skip = true;
      return;
    }
    dir = tempDir('sovereign-auth-dnssec-');
    const specs = [];
    for (const s of SIGNINGS) {
      const signed = signWithBind(dir.path, s.origin, signedZoneText(s.origin), s.args);
      anchors.set(s.origin, signed.ksk);
      specs.push({ name: s.origin, file: signed.file });
    }
    servers = await serveOnAll(dir.path, specs, { sovereign: SOV, bind: BIND, knot: KNOT });
    port = servers.port;
  });

  after(async () => {
    await servers?.stop();
    dir?.cleanup();
  });

  for (const s of SIGNINGS) {
    for (const c of CASES) {
      const q = c.q.map((a, i) => (i === 0 ? (a === 'Z' ? s.origin : a.replace(/\.Z$/, '.' + s.origin)) : a));
      const peers = c.peers ?? 'both';
      test(`${s.origin}: ${q.join(' ')} (${peers === 'both' ? 'BIND and Knot' : peers === 'knot' ? 'Knot' : peers === 'bind' ? 'BIND' : 'own rules'})`, async (t) => {
        if (skip) {
          havePeers(t, 'named', 'knotd', 'dig', 'delv', 'dnssec-keygen', 'dnssec-signzone');
          return;
        }
        const first = await digReply(SOV, port, q);
        assert.notEqual(first.status, '', `no reply from Sovereign:\n${first.raw}`);
        // Again, from the answer cache: the same.
        const ours = await digReply(SOV, port, q);
        assert.deepEqual([ours.status, ours.flags, ours.answer, ours.authority, ours.additional],
          [first.status, first.flags, first.answer, first.authority, first.additional]);
        const dnssecTypes = /\s(RRSIG|NSEC|NSEC3|DS)\s/;
        if (!q.includes('+dnssec') && q[1] !== 'DS' && q[1] !== 'RRSIG' && q[1] !== 'NSEC3PARAM') {
          for (const rr of [...ours.answer, ...ours.authority, ...ours.additional]) assert.doesNotMatch(rr, dnssecTypes, ours.raw);
        }
        const compare = (theirs: DigReply, who: string): void => {
          const msg = `Sovereign:\n${ours.raw}\n${who}:\n${theirs.raw}`;
          assert.equal(ours.status, theirs.status, msg);
          assert.deepEqual(ours.flags, theirs.flags, msg);
          assert.equal(ours.edns, theirs.edns, msg);
          assert.deepEqual(lower(ours.answer), lower(theirs.answer), msg);
          assert.deepEqual(lower(ours.authority), lower(theirs.authority), msg);
          assert.deepEqual(lower(ours.additional), lower(theirs.additional), msg);
        };
        // Whatever the section, no RRset without its RRSIGs and no RRSIG without its RRset.
        for (const section of [ours.answer, ours.authority]) {
          const sets = new Set<string>();
          const sigs = new Set<string>();
          for (const rr of section) {
            const f = rr.toLowerCase().split(' ');
            if (f[3] === 'rrsig') sigs.add(`${f[0]} ${f[4]}`);
            else sets.add(`${f[0]} ${f[3]}`);
          }
          if (q.includes('+dnssec') && q[1] !== 'RRSIG') assert.deepEqual([...sigs].sort(), [...sets].filter((k) => !/ (ns|cname)$/.test(k) || sigs.has(k)).sort(), ours.raw);
        }
        // Truncated: the peers differ (see the case); a reply that fits is compared with both.
        if (peers === 'none' && ours.flags.includes('tc')) return;
        if (peers !== 'bind') compare(await digReply(KNOT, port, q), 'Knot');
        if (peers !== 'knot') compare(await digReply(BIND, port, q), 'BIND');
      });
    }
  }

  /** delv's verdict on one question, with the zone's KSK as the only trust anchor. */
  function delv(origin: string, name: string, type: string): Promise<string> {
    const anchorFile = join(dir!.path, `anchor-${origin}.conf`);
    const key = anchors.get(origin)!.trim().split(/\s+/);
    // "owner TTL IN DNSKEY flags proto alg key..." -> trust-anchors { owner static-key flags proto alg "key"; };
    const i = key.indexOf('DNSKEY');
    writeFileSync(anchorFile, `trust-anchors { ${key[0]} static-key ${key[i + 1]} ${key[i + 2]} ${key[i + 3]} "${key.slice(i + 4).join('')}"; };\n`);
    return new Promise((resolve) => {
      execFile(PEER_BINARIES.delv, ['@' + SOV, '-p', String(port), '-a', anchorFile, '+root=' + origin, name, type],
        (_err, stdout, stderr) => resolve(stdout + stderr));
    });
  }

  const DELV_CASES: [string, string, RegExp][] = [
    ['www.Z', 'A', /; fully validated\n[^\n]*\sA\s+192\.0\.2\.1[01]/],
    ['Z', 'DNSKEY', /; fully validated/],
    ['Z', 'MX', /; fully validated/],
    ['chain.Z', 'CNAME', /; fully validated/],
    ['nx.Z', 'A', /; fully validated\n; [^\n]*NXDOMAIN|resolution failed: ncache nxdomain/],
    ['a.b.c.nx.Z', 'TXT', /resolution failed: ncache nxdomain/],
    ['www.Z', 'MX', /resolution failed: ncache nxrrset/],
    ['b.ent.Z', 'A', /resolution failed: ncache nxrrset/],
    ['foo.wild.Z', 'A', /; fully validated\n[^\n]*foo\.wild\.[^\n]*\sA\s+192\.0\.2\.20/],
    ['foo.wild.Z', 'MX', /resolution failed: ncache nxrrset/],
    ['q.cwild.Z', 'CNAME', /; fully validated/],
    ['secure.Z', 'DS', /; fully validated/],
    ['insecure.Z', 'DS', /resolution failed: ncache nxrrset/],
  ];

  for (const s of SIGNINGS) {
    for (const [n, type, want] of DELV_CASES) {
      const name = n === 'Z' ? s.origin : n.replace(/\.Z$/, '.' + s.origin);
      // A wildcard expansion whose next closer name falls in an opt-out span can only be proved
      // insecure (RFC 5155 §9.2): delv says "unsigned answer" for BIND's and Knot's answers too.
      const optoutWildcard = s.origin.startsWith('optout') && /wild/.test(n) && want.source.includes('validated');
      test(`delv validates ${s.origin}: ${name} ${type}`, async (t) => {
        if (skip) {
          havePeers(t, 'delv');
          return;
        }
        const out = await delv(s.origin, name, type);
        if (optoutWildcard) {
          assert.match(out, /; unsigned answer\n/, out);
          return;
        }
        assert.match(out, want, out);
        assert.doesNotMatch(out, /; (insecure|unsigned) answer|bogus|broken trust chain|no valid signature/i, out);
      });
    }
  }
});
