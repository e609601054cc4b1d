/**
 * RFC 9471 (glue in referrals is not optional) against BIND and Knot on one zone: a delegation
 * whose NS set has twenty in-domain name servers with A and AAAA glue (the referral exceeds 512
 * octets without EDNS and 1232 with), plus one sibling name server, and a delegation with two
 * in-domain name servers and many sibling ones.
 *
 * What the peers do (checked here): Knot puts in-domain glue first (NS order, A before AAAA),
 * sibling glue after it, keeps what fits and sets TC when in-domain glue was cut, never for
 * sibling glue. BIND 9.18 (Debian's) never sets TC for glue and fills the additional section in
 * its own order (all A, then all AAAA). RFC 9471 §3.1 requires TC, so we match Knot exactly
 * and compare with BIND only what the RFC leaves alike (RCODE, authority section, the complete
 * answer over TCP).
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DigReply, digReply } from '../helpers/dig-reply.js';
import { PEER_BINARIES, havePeers, inCI, tempDir } from '../helpers/peers.js';
import { type ServedZones, serveOnAll } from '../helpers/serve-all.js';

const SOV = '127.30.1.1';
const BIND = '127.30.1.2';
const KNOT = '127.30.1.3';

const pad = (i: number): string => String(i).padStart(2, '0');
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

export const GLUE_ZONE = `$ORIGIN parent.example.
$TTL 3600
@          SOA ns1 hostmaster 1 3600 900 604800 300
@          NS  ns1
ns1        A   192.0.2.1
sib        NS  ns.sib
ns.sib     A   192.0.2.200
ns.sib     AAAA 2001:db8::200
child      NS  ns.sib
${range(20).map((i) => `child NS ns${pad(i)}.child
ns${pad(i)}.child A 192.0.2.${10 + i}
ns${pad(i)}.child AAAA 2001:db8::${10 + i}`).join('\n')}
few        NS  a.few
few        NS  b.few
a.few      A   192.0.2.100
b.few      AAAA 2001:db8::100
${range(16).map((i) => `few NS s${pad(i)}.sib
s${pad(i)}.sib A 192.0.2.${120 + i}
s${pad(i)}.sib AAAA 2001:db8::1:${i}`).join('\n')}
`;

// Knot's compression borrows case from earlier names: records compare case-blind here.
const dig = (server: string, port: number, args: string[]): Promise<DigReply> => digReply(server, port, args, { lowercase: true });

/** How many additional records are glue for in-domain name servers of `cut`. */
const inDomain = (rrs: string[], cut: string): number => rrs.filter((rr) => rr.split(' ')[0]!.endsWith('.' + cut + '.')).length;

const CASES: string[][] = [
  // Twenty in-domain name servers: the in-domain glue does not fit, TC (RFC 9471 §3.1).
  ['www.child.parent.example', 'A', '+noedns', '+ignore'],
  ['www.child.parent.example', 'A', '+bufsize=1232', '+ignore'],
  ['www.child.parent.example', 'A', '+bufsize=700', '+ignore'],
  ['www.child.parent.example', 'A', '+noedns'],
  ['www.child.parent.example', 'A', '+tcp'],
  // Two in-domain name servers, many siblings: sibling glue is dropped without TC (§3.2).
  ['x.few.parent.example', 'A', '+noedns', '+ignore'],
  ['x.few.parent.example', 'A', '+bufsize=1232', '+ignore'],
  ['x.few.parent.example', 'A', '+tcp'],
  // A referral that fits: everything, no TC.
  ['x.sib.parent.example', 'A', '+noedns', '+ignore'],
];

describe('referral glue (RFC 9471) agrees with Knot; BIND where the RFC allows', { concurrency: false }, () => {
  let dir: { path: string; cleanup(): void } | undefined;
  let servers: ServedZones | undefined;
  let port = 0;
  let skip = false;

  before(async () => {
    const ok = ['named', 'knotd', 'dig'].every((p) => existsSync(PEER_BINARIES[p as 'named']));
    if (!ok) {
      if (inCI) throw new Error('missing peer(s): named, knotd or dig (run scripts/install-peers.sh)');
      skip = true;
      return;
    }
    dir = tempDir('sovereign-auth-glue-');
    const file = join(dir.path, 'parent.example.zone');
    writeFileSync(file, GLUE_ZONE);
    servers = await serveOnAll(dir.path, [{ name: 'parent.example', file }], { sovereign: SOV, bind: BIND, knot: KNOT });
    port = servers.port;
  });

  after(async () => {
    await servers?.stop();
    dir?.cleanup();
  });

  for (const q of CASES) {
    test(q.join(' '), async (t) => {
      if (skip) {
        havePeers(t, 'named', 'knotd', 'dig');
        return;
      }
      const first = await dig(SOV, port, q);
      assert.notEqual(first.status, '', `no reply from Sovereign:\n${first.raw}`);
      // The same query again comes from the UDP answer cache: same flags (TC included), same data.
      const ours = await dig(SOV, port, q);
      assert.deepEqual([ours.flags, ours.authority, ours.additional], [first.flags, first.authority, first.additional]);

      // Knot follows RFC 9471: flags, OPT and both sections match exactly (RRsets as sets).
      const k = await dig(KNOT, port, q);
      let msg = `Sovereign:\n${ours.raw}\nKnot:\n${k.raw}`;
      assert.equal(ours.status, k.status, msg);
      assert.deepEqual(ours.flags, k.flags, msg);
      assert.equal(ours.edns, k.edns, msg);
      assert.deepEqual(ours.authority, k.authority, msg);
      // Where glue is cut, the number that fits depends on name compression (ours packs a few
      // octets tighter than Knot's), so: Knot's records all present, nothing but the referral's
      // glue, and in-domain glue before any sibling glue (sibling glue only when TC is clear).
      const full = (await dig(KNOT, port, [q[0]!, q[1]!, '+tcp'])).additional;
      if (ours.flags.includes('tc') || k.flags.includes('tc')) {
        const have = new Set(ours.additional);
        for (const rr of k.additional) assert.ok(have.has(rr), `${rr} missing\n${msg}`);
        const glue = new Set(full);
        for (const rr of ours.additional) assert.ok(glue.has(rr), `${rr} is not glue\n${msg}`);
      } else {
        assert.deepEqual(ours.additional, k.additional, msg);
      }
      const cut = q[0]!.split('.').slice(1).join('.');
      if (ours.flags.includes('tc')) assert.equal(inDomain(ours.additional, cut), ours.additional.length, msg);

      // BIND: same RCODE, flags but TC and referral; where neither cut anything, the same glue.
      // Over UDP it drops in-domain glue without TC (RFC 9471 §3.1 says MUST set TC) and packs
      // all A records before any AAAA, so cut glue is not compared with BIND.
      const b = await dig(BIND, port, q);
      msg = `Sovereign:\n${ours.raw}\nBIND:\n${b.raw}`;
      assert.equal(ours.status, b.status, msg);
      const notTc = (f: string[]): string[] => f.filter((x) => x !== 'tc');
      assert.deepEqual(notTc(ours.flags), notTc(b.flags), msg);
      assert.equal(ours.edns, b.edns, msg);
      assert.deepEqual(ours.authority, b.authority, msg);
      if (ours.additional.length === full.length && b.additional.length === full.length) {
        assert.deepEqual(ours.additional, b.additional, msg);
      }
    });
  }
});
