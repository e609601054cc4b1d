/**
 * Interop: Sovereign, BIND `named` and Knot serve the same zones; dig sends each the same query and
 * the answers must agree on RCODE, flags, EDNS and every section (RRsets compared as sets, so
 * round-robin order does not matter).
 *
 * Choices where the peers differ (each case says which peer it is held to):
 * - Positive answers carry no NS RRset in the authority section (Knot's behaviour). BIND runs with
 *   `minimal-responses no-auth`, which gives exactly that while keeping additional-section data
 *   for NS, MX and SRV targets, so the additional section is compared with both peers.
 * - The owner of the answer's first RRset keeps the query's case (Knot compresses to the
 *   question, BIND prints its zone's case): compared case-sensitively with Knot, case-blind
 *   with BIND.
 * - ANY (RFC 8482 §4.1): one RRset plus its additional data, as Knot does on UDP and TCP; BIND
 *   gives every RRset, so with BIND we only require our RRset to be among its answer.
 * - A CNAME loop ends NOERROR with each CNAME once (Knot); BIND answers SERVFAIL.
 * - A truncated answer without EDNS is empty with TC (Knot); BIND keeps the records that fit.
 * - NOTIMP echoes the question and OPT (Knot); BIND drops the question.
 * - REFUSED for a name outside our zones carries EDE 20 "Not Authoritative" (Knot; BIND adds none).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PEER_BINARIES, havePeers, inCI, tempDir } from '../helpers/peers.js';
import { type ServedZones, serveOnAll } from '../helpers/serve-all.js';
import { existsSync } from 'node:fs';
import { type DigReply, digReply } from '../helpers/dig-reply.js';

const SOV = '127.23.1.1';
const BIND = '127.23.1.2';
const KNOT = '127.23.1.3';

export const EXAMPLE_COM = `$ORIGIN example.com.
$TTL 3600
@        IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
@        NS  ns1
@        NS  ns2.example.net.
@        MX  10 mail
@        MX  20 mx.example.net.
@        TXT "v=spf1 -all"
ns1      A   192.0.2.1
ns1      AAAA 2001:db8::1
mail     A   192.0.2.2
mail     AAAA 2001:db8::2
www      A   192.0.2.10
www      A   192.0.2.11
www      A   192.0.2.12
alias    CNAME www
chain1   CNAME chain2
chain2   CNAME alias
out      CNAME www.example.net.
toorg    CNAME ptr.example.org.
loop1    CNAME loop2
loop2    CNAME loop1
dangling CNAME nothere
*.wild   A   192.0.2.20
*.wild   TXT "wild"
exists.wild AAAA 2001:db8::20
*.cwild  CNAME www
a.b.ent  A   192.0.2.30
sub      NS  ns.sub
sub      NS  ns2.sub
ns.sub   A   192.0.2.40
ns2.sub  AAAA 2001:db8::40
nog      NS  ns.example.net.
mixed    NS  ns.mixed
mixed    NS  ns.example.org.
ns.mixed A   192.0.2.41
dn       DNAME example.net.
dn2      DNAME other.example.com.
x.other  A   192.0.2.50
_sip._tcp SRV 0 5 5060 sip
sip      A   192.0.2.60
txt      TXT "hello world"
${[1, 2, 3, 4, 5].map((i) => `big      TXT "${'a'.repeat(150)}" "${i}"`).join('\n')}
deep     NS  ns.deep
ns.deep  A   192.0.2.70
`;

const DEEP = `$ORIGIN deep.example.com.
$TTL 600
@   SOA ns hostmaster 7 3600 900 604800 60
@   NS ns
ns  A  192.0.2.70
host A 192.0.2.71
`;

const EXAMPLE_ORG = `$ORIGIN example.org.
$TTL 300
@   SOA ns.example.org. admin.example.org. 1 3600 900 604800 86400
@   NS ns
ns  A 192.0.2.80
ptr CNAME www.example.com.
`;

const dig = (server: string, port: number, args: string[]): Promise<DigReply> => digReply(server, port, args);

function lower(rrs: string[]): string[] {
  return rrs.map((s) => s.toLowerCase()).sort();
}

interface Case {
  /** dig arguments: name, type, options. */
  q: string[];
  /** Which peers must agree exactly (default both). */
  peers?: 'both' | 'knot' | 'bind';
  /** With BIND: our answer RRsets need only be a subset of BIND's (ANY). */
  bindSubset?: boolean;
}

const CASES: Case[] = [
  // Exact matches, additional data for NS/MX/SRV targets.
  { q: ['www.example.com', 'A'] },
  { q: ['example.com', 'SOA'] },
  { q: ['example.com', 'NS'] },
  { q: ['example.com', 'MX'] },
  { q: ['_sip._tcp.example.com', 'SRV'] },
  { q: ['txt.example.com', 'TXT'] },
  { q: ['ns1.example.com', 'AAAA'] },
  // Case: the question keeps the client's case.
  { q: ['WwW.ExAmPlE.CoM', 'A'] },
  { q: ['www.example.com', 'a'], peers: 'knot' },
  { q: ['MiXeD.eXaMpLe.CoM', 'A'] },
  // CNAME chains in and out of the zone.
  { q: ['alias.example.com', 'A'] },
  { q: ['alias.example.com', 'CNAME'] },
  { q: ['chain1.example.com', 'A'] },
  { q: ['chain1.example.com', 'AAAA'] },
  { q: ['out.example.com', 'A'] },
  { q: ['toorg.example.com', 'A'] },
  { q: ['ptr.example.org', 'A'] },
  { q: ['dangling.example.com', 'A'] },
  { q: ['loop1.example.com', 'A'], peers: 'knot' },
  // DNAME (RFC 6672) with synthesized CNAME, out of zone and in zone.
  { q: ['x.y.dn.example.com', 'A'] },
  { q: ['dn.example.com', 'DNAME'] },
  { q: ['dn.example.com', 'A'] },
  { q: ['a.dn2.example.com', 'A'] },
  { q: ['x.dn2.example.com', 'A'] },
  { q: ['X.Dn2.Example.Com', 'A'] },
  // Wildcards (RFC 4592).
  { q: ['foo.wild.example.com', 'A'] },
  { q: ['foo.wild.example.com', 'TXT'] },
  { q: ['foo.wild.example.com', 'MX'] },
  { q: ['a.b.c.wild.example.com', 'A'] },
  { q: ['exists.wild.example.com', 'A'] },
  { q: ['exists.wild.example.com', 'AAAA'] },
  { q: ['q.cwild.example.com', 'A'] },
  { q: ['*.wild.example.com', 'A'] },
  // Delegations with glue, without glue, mixed; DS at the cut answered by the parent.
  { q: ['x.sub.example.com', 'A'] },
  { q: ['sub.example.com', 'NS'] },
  { q: ['sub.example.com', 'A'] },
  { q: ['ns.sub.example.com', 'A'] },
  { q: ['sub.example.com', 'DS'] },
  { q: ['nog.example.com', 'A'] },
  { q: ['a.b.nog.example.com', 'MX'] },
  { q: ['mixed.example.com', 'TXT'] },
  // Several zones, longest match.
  { q: ['host.deep.example.com', 'A'] },
  { q: ['deep.example.com', 'NS'] },
  { q: ['deep.example.com', 'SOA'] },
  { q: ['deep.example.com', 'DS'] },
  { q: ['deep.example.com', 'DNSKEY'] },
  { q: ['nope.deep.example.com', 'A'] },
  { q: ['example.org', 'NS'] },
  // NXDOMAIN, NODATA (RFC 2308 negative TTL), empty non-terminals.
  { q: ['nonexistent.example.com', 'A'] },
  { q: ['a.b.c.nonexistent.example.com', 'TXT'] },
  { q: ['www.example.com', 'MX'] },
  { q: ['example.com', 'AAAA'] },
  { q: ['nx.example.org', 'A'] },
  { q: ['b.ent.example.com', 'A'] },
  { q: ['ent.example.com', 'TXT'] },
  { q: ['x.ent.example.com', 'A'] },
  // Outside every zone.
  { q: ['www.example.net', 'A'], peers: 'knot' },
  { q: ['www.example.net', 'A'], peers: 'bind' },
  { q: ['.', 'NS'], peers: 'bind' },
  { q: ['www.example.com', 'CH', 'A'] },
  // ANY (RFC 8482).
  { q: ['example.com', 'ANY'], bindSubset: true },
  { q: ['example.com', 'ANY', '+notcp'], bindSubset: true },
  { q: ['www.example.com', 'ANY', '+notcp'] },
  { q: ['nonexistent.example.com', 'ANY', '+notcp'] },
  // EDNS: sizes, DO, versions, no EDNS.
  { q: ['www.example.com', 'A', '+noedns'] },
  // With a client cookie (RFC 7873; we accept it and send none back, as Knot's default does):
  // the second query, with another cookie, comes from the answer cache.
  { q: ['www.example.com', 'A', '+cookie'] },
  { q: ['nonexistent.example.com', 'A', '+cookie'] },
  { q: ['www.example.com', 'A', '+dnssec'] },
  { q: ['www.example.com', 'A', '+bufsize=100'] },
  { q: ['www.example.com', 'A', '+bufsize=4096'] },
  { q: ['www.example.com', 'A', '+edns=1', '+noednsnegotiation'] },
  { q: ['www.example.com', 'A', '+edns=1'] },
  { q: ['nonexistent.example.com', 'A', '+edns=3', '+noednsnegotiation'] },
  // TC and the TCP retry.
  { q: ['big.example.com', 'TXT', '+bufsize=512', '+ignore'] },
  { q: ['big.example.com', 'TXT', '+noedns', '+ignore'], peers: 'knot' },
  { q: ['big.example.com', 'TXT', '+bufsize=512'] },
  { q: ['big.example.com', 'TXT', '+noedns'] },
  { q: ['big.example.com', 'TXT', '+tcp'] },
  { q: ['example.com', 'MX', '+tcp'] },
  { q: ['nonexistent.example.com', 'A', '+tcp'] },
  // Opcodes we do not implement.
  { q: ['www.example.com', 'A', '+opcode=status'], peers: 'knot' },
  { q: ['www.example.com', 'A', '+opcode=15'], peers: 'knot' },
];

describe('authoritative answers agree with BIND and Knot', { concurrency: false }, () => {
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
    dir = tempDir('sovereign-auth-interop-');
    const zones = [
      { name: 'example.com', file: join(dir.path, 'example.com.zone'), text: EXAMPLE_COM },
      { name: 'deep.example.com', file: join(dir.path, 'deep.example.com.zone'), text: DEEP },
      { name: 'example.org', file: join(dir.path, 'example.org.zone'), text: EXAMPLE_ORG },
    ];
    for (const z of zones) writeFileSync(z.file, z.text);
    const specs = zones.map((z) => ({ name: z.name, file: z.file }));
    servers = await serveOnAll(dir.path, specs, { sovereign: SOV, bind: BIND, knot: KNOT });
    port = servers.port;
  });

  after(async () => {
    await servers?.stop();
    dir?.cleanup();
  });

  for (const c of CASES) {
    const peers = c.peers ?? 'both';
    test(`${c.q.join(' ')} (${peers === 'both' ? 'BIND and Knot' : peers === 'knot' ? 'Knot' : 'BIND'})`, async (t) => {
      if (skip) {
        havePeers(t, 'named', 'knotd', 'dig');
        return;
      }
      const first = await dig(SOV, port, c.q);
      assert.notEqual(first.status, '', `no reply from Sovereign:\n${first.raw}`);
      // The same query again is served from the answer cache (the fast path): same meaning.
      const ours = await dig(SOV, port, c.q);
      assert.equal(ours.status, first.status);
      assert.deepEqual(ours.flags, first.flags);
      assert.deepEqual([ours.answer, ours.authority, ours.additional], [first.answer, first.authority, first.additional]);
      if (peers !== 'bind') {
        const k = await dig(KNOT, port, c.q);
        const msg = `Sovereign:\n${ours.raw}\nKnot:\n${k.raw}`;
        assert.equal(ours.status, k.status, msg);
        assert.deepEqual(ours.flags, k.flags, msg);
        assert.equal(ours.question, k.question, msg);
        assert.equal(ours.edns, k.edns, msg);
        if (c.q[1] !== 'CH') assert.equal(ours.ede, k.ede, msg);
        // Names inside the sections are compared case-blind: Knot's compression borrows the case
        // of an earlier name (x.other.Example.Com.), ours copies names byte for byte.
        assert.deepEqual(lower(ours.answer), lower(k.answer), msg);
        assert.deepEqual(lower(ours.authority), lower(k.authority), msg);
        assert.deepEqual(lower(ours.additional), lower(k.additional), msg);
        // ...but the query's own name keeps the client's case wherever it owns an answer, as with Knot.
        const qn = c.q[0]! + '.';
        const owned = (rrs: string[]): string[] => rrs
          .filter((rr) => rr.toLowerCase().startsWith(qn.toLowerCase() + ' '))
          .map((rr) => rr.slice(0, qn.length) + rr.slice(qn.length).toLowerCase());
        assert.deepEqual(owned(ours.answer), owned(k.answer), msg);
      }
      if (peers !== 'knot') {
        const b = await dig(BIND, port, c.q);
        const msg = `Sovereign:\n${ours.raw}\nBIND:\n${b.raw}`;
        assert.equal(ours.status, b.status, msg);
        assert.deepEqual(ours.flags, b.flags, msg);
        assert.equal(ours.edns, b.edns, msg);
        if (c.bindSubset === true) {
          const all = new Set(lower(b.answer));
          for (const rr of lower(ours.answer)) assert.ok(all.has(rr), `${rr} not in BIND's ANY answer\n${msg}`);
          return;
        }
        assert.deepEqual(lower(ours.answer), lower(b.answer), msg);
        assert.deepEqual(lower(ours.authority), lower(b.authority), msg);
        assert.deepEqual(lower(ours.additional), lower(b.additional), msg);
      }
    });
  }
});

/**
 * kdig's view of a reply: every line but the ID, timing and transport lines, sorted (RRsets as
 * sets), case-blind (case is checked with dig above).
 */
function kdig(server: string, port: number, args: string[]): Promise<string[]> {
  return new Promise((resolve) => {
    execFile(PEER_BINARIES.kdig, ['@' + server, '-p', String(port), '+norec', '+time=2', '+retry=1', ...args], (_err, stdout, stderr) => {
      const lines = (stdout + stderr).split('\n')
        .filter((l) => l.trim() !== '' && !/^;; (Received|Time|From)/.test(l) && !l.includes(';; WARNING'))
        .map((l) => l.replace(/id: \d+/, 'id: _').trim().split(/\s+/).join(' ').toLowerCase());
      resolve(lines.sort());
    });
  });
}

const KDIG_CASES: string[][] = [
  ['www.example.com', 'A'],
  ['example.com', 'MX', '+tcp'],
  ['alias.example.com', 'A'],
  ['x.y.dn.example.com', 'A'],
  ['foo.wild.example.com', 'TXT'],
  ['x.sub.example.com', 'A'],
  ['nonexistent.example.com', 'A', '+tcp'],
  ['b.ent.example.com', 'A'],
  ['big.example.com', 'TXT', '+bufsize=512'],
  ['big.example.com', 'TXT', '+bufsize=512', '+ignore'],
  ['www.example.com', 'A', '+edns=1'],
  ['WWW.example.COM', 'A'],
];

describe('kdig sees the same replies from Sovereign and Knot', { concurrency: false }, () => {
  let dir: { path: string; cleanup(): void } | undefined;
  let servers: ServedZones | undefined;
  let port = 0;
  let skip = false;

  before(async () => {
    if (!['knotd', 'kdig'].every((p) => existsSync(PEER_BINARIES[p as 'kdig']))) {
      if (inCI) throw new Error('missing peer(s): knotd or kdig (run scripts/install-peers.sh)');
      skip = true;
      return;
    }
    dir = tempDir('sovereign-auth-kdig-');
    const specs = [
      { name: 'example.com', file: join(dir.path, 'example.com.zone') },
    ];
    writeFileSync(specs[0]!.file, EXAMPLE_COM);
    servers = await serveOnAll(dir.path, specs, { sovereign: SOV, knot: KNOT });
    port = servers.port;
  });

  after(async () => {
    await servers?.stop();
    dir?.cleanup();
  });

  for (const q of KDIG_CASES) {
    test(q.join(' '), async (t) => {
      if (skip) {
        havePeers(t, 'knotd', 'kdig');
        return;
      }
      const ours = await kdig(SOV, port, q);
      const theirs = await kdig(KNOT, port, q);
      assert.ok(ours.some((l) => l.includes('->>header<<-')), ours.join('\n'));
      assert.deepEqual(ours.map((l) => l.replace(`${SOV}@`, 'X@')), theirs.map((l) => l.replace(`${KNOT}@`, 'X@')));
    });
  }
});
