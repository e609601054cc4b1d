/**
 * Interop, dynamic update (RFC 2136): the same sequence of updates, sent with BIND's `nsupdate`
 * (TSIG with -y, and -k with a key file), to BIND `named` (update-policy) and to Sovereign
 * (updatePolicy with the same rules), from the same starting zone: every step gets the same
 * RCODE and the zones end the same (AXFR compared). Steps: adds, duplicate adds, TTL change,
 * CNAME conflicts both ways, apex SOA/NS protection, an older SOA, every prerequisite kind
 * (passing and failing), a name outside the zone, a zone we do not serve, no key, wrong secret,
 * unknown key, and the ACME key limited to _acme-challenge TXT. Then `knsupdate` (Knot's) with
 * TSIG against Sovereign.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { PEER_BINARIES, type RunningPeer, addLoopbackAddress, havePeers, pickPort, startPeer, tempDir } from '../helpers/peers.js';
import { axfrLines, tool } from '../helpers/xfr-peers.js';

const SOV = '127.31.16.1';
const BIND = '127.31.16.2';
const ZONE_NAME = 'upd.example';

const ZONE = `$ORIGIN upd.example.
$TTL 300
@    SOA ns1 hostmaster 100 7200 900 1209600 300
@    NS  ns1
@    NS  ns2
ns1  A   192.0.2.1
ns2  A   192.0.2.2
www  A   192.0.2.10
old  TXT "old"
`;

const UPD = { name: 'upd', algorithm: 'hmac-sha256', secret: 'dXBkYXRlLWtleS1zZWNyZXQtZm9yLXRlc3RzLTEyMzQ=' };
const ACME = { name: 'acme', algorithm: 'hmac-sha256', secret: 'YWNtZS1rZXktc2VjcmV0LWZvci10ZXN0cy0xMjM0NTY=' };
const BAD = { name: 'upd', algorithm: 'hmac-sha256', secret: 'd3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZyE=' };
const UNKNOWN = { name: 'nobody', algorithm: 'hmac-sha256', secret: 'bm9ib2R5LWtleS1zZWNyZXQtZm9yLXRlc3RzLTEyMw==' };

/** The same rules for both servers (BIND's syntax is ours). */
const RULES = [
  'grant upd zonesub ANY',
  'grant acme name _acme-challenge.www.upd.example. TXT',
  'grant acme name _acme-challenge.upd.example. TXT',
];

type Key = typeof UPD | undefined;
interface Step {
  what: string;
  key: Key;
  lines: string[];
  /** The outcome both must give. */
  expect: string;
  zone?: string;
}

const z = ZONE_NAME;
const STEPS: Step[] = [
  { what: 'add A and TXT', key: UPD, lines: [`update add a.${z} 300 A 192.0.2.1`, `update add a.${z} 300 TXT "hello"`], expect: 'NOERROR' },
  { what: 'duplicate add', key: UPD, lines: [`update add a.${z} 300 A 192.0.2.1`], expect: 'NOERROR' },
  { what: 'add with a new TTL sets the RRset TTL', key: UPD, lines: [`update add a.${z} 600 A 192.0.2.2`], expect: 'NOERROR' },
  { what: 'CNAME beside other data is ignored', key: UPD, lines: [`update add a.${z} 300 CNAME www.${z}`], expect: 'NOERROR' },
  { what: 'add a CNAME', key: UPD, lines: [`update add c.${z} 300 CNAME www.${z}`], expect: 'NOERROR' },
  { what: 'other data beside a CNAME is ignored', key: UPD, lines: [`update add c.${z} 300 A 192.0.2.3`], expect: 'NOERROR' },
  { what: 'a second CNAME replaces the first', key: UPD, lines: [`update add c.${z} 300 CNAME a.${z}`], expect: 'NOERROR' },
  { what: 'apex SOA and NS RRsets are not deleted', key: UPD, lines: [`update delete ${z} SOA`, `update delete ${z} NS`], expect: 'NOERROR' },
  { what: 'the last apex NS is not deleted', key: UPD, lines: [`update delete ${z} NS ns1.${z}`, `update delete ${z} NS ns2.${z}`], expect: 'NOERROR' },
  { what: 'an older SOA is ignored', key: UPD, lines: [`update add ${z} 300 SOA ns1.${z} hostmaster.${z} 50 7200 900 1209600 300`], expect: 'NOERROR' },
  { what: 'a newer SOA sets the serial', key: UPD, lines: [`update add ${z} 300 SOA ns1.${z} hostmaster.${z} 1000 7200 900 1209600 300`], expect: 'NOERROR' },
  { what: 'name in use (passes)', key: UPD, lines: [`prereq yxdomain a.${z}`, `update add p1.${z} 300 A 192.0.2.20`], expect: 'NOERROR' },
  { what: 'name in use (fails)', key: UPD, lines: [`prereq yxdomain nothere.${z}`, `update add p2.${z} 300 A 192.0.2.21`], expect: 'NXDOMAIN' },
  { what: 'name not in use (passes)', key: UPD, lines: [`prereq nxdomain nothere.${z}`, `update add p3.${z} 300 A 192.0.2.22`], expect: 'NOERROR' },
  { what: 'name not in use (fails)', key: UPD, lines: [`prereq nxdomain a.${z}`, `update add p4.${z} 300 A 192.0.2.23`], expect: 'YXDOMAIN' },
  { what: 'RRset exists, value independent (passes)', key: UPD, lines: [`prereq yxrrset a.${z} A`, `update add p5.${z} 300 A 192.0.2.24`], expect: 'NOERROR' },
  { what: 'RRset exists, value independent (fails)', key: UPD, lines: [`prereq yxrrset a.${z} MX`, `update add p6.${z} 300 A 192.0.2.25`], expect: 'NXRRSET' },
  { what: 'RRset exists, value dependent (passes)', key: UPD, lines: [`prereq yxrrset a.${z} IN A 192.0.2.1`, `prereq yxrrset a.${z} IN A 192.0.2.2`, `update add p7.${z} 300 A 192.0.2.26`], expect: 'NOERROR' },
  { what: 'RRset exists, value dependent (fails)', key: UPD, lines: [`prereq yxrrset a.${z} IN A 192.0.2.1`, `update add p8.${z} 300 A 192.0.2.27`], expect: 'NXRRSET' },
  { what: 'RRset does not exist (passes)', key: UPD, lines: [`prereq nxrrset a.${z} MX`, `update add p9.${z} 300 A 192.0.2.28`], expect: 'NOERROR' },
  { what: 'RRset does not exist (fails)', key: UPD, lines: [`prereq nxrrset a.${z} A`, `update add p10.${z} 300 A 192.0.2.29`], expect: 'YXRRSET' },
  { what: 'prerequisite outside the zone', key: UPD, lines: [`prereq yxdomain www.other.example`, `update add p11.${z} 300 A 192.0.2.30`], expect: 'NOTZONE' },
  { what: 'update outside the zone', key: UPD, lines: [`update add www.other.example 300 A 192.0.2.31`], expect: 'NOTZONE' },
  { what: 'zone not served', key: UPD, lines: [`update add www.nothere.example 300 A 192.0.2.32`], expect: 'NOTAUTH', zone: 'nothere.example' },
  { what: 'delete one RR', key: UPD, lines: [`update delete a.${z} A 192.0.2.2`], expect: 'NOERROR' },
  { what: 'delete an RRset', key: UPD, lines: [`update delete a.${z} TXT`], expect: 'NOERROR' },
  { what: 'delete a name', key: UPD, lines: [`update delete old.${z}`], expect: 'NOERROR' },
  { what: 'delete everything at the apex keeps SOA and NS', key: UPD, lines: [`update add ${z} 300 MX 10 www.${z}`, `update delete ${z}`], expect: 'NOERROR' },
  { what: 'no key', key: undefined, lines: [`update add nokey.${z} 300 A 192.0.2.40`], expect: 'REFUSED' },
  { what: 'wrong secret', key: BAD, lines: [`update add badkey.${z} 300 A 192.0.2.41`], expect: 'NOTAUTH' },
  { what: 'unknown key', key: UNKNOWN, lines: [`update add unknown.${z} 300 A 192.0.2.42`], expect: 'NOTAUTH' },
  { what: 'ACME key adds its TXT', key: ACME, lines: [`update add _acme-challenge.www.${z} 60 TXT "token-1"`], expect: 'NOERROR' },
  { what: 'ACME key adds at the apex challenge', key: ACME, lines: [`update add _acme-challenge.${z} 60 TXT "token-2"`], expect: 'NOERROR' },
  { what: 'ACME key may not add a CAA there', key: ACME, lines: [`update add _acme-challenge.www.${z} 60 CAA 0 issue "ca.example"`], expect: 'REFUSED' },
  { what: 'ACME key may not add TXT elsewhere', key: ACME, lines: [`update add www.${z} 60 TXT "nope"`], expect: 'REFUSED' },
  { what: 'ACME key may not delete other data', key: ACME, lines: [`update delete www.${z} A`], expect: 'REFUSED' },
  { what: 'ACME key removes its TXT', key: ACME, lines: [`update delete _acme-challenge.www.${z} TXT "token-1"`], expect: 'NOERROR' },
];

/** Runs one step with nsupdate; the outcome as RCODE text, or TSIG for a TSIG failure. */
async function nsupdate(server: string, port: number, step: Step, keyDir: string): Promise<string> {
  const args: string[] = [];
  if (step.key !== undefined) {
    if (step.key === ACME) {
      // -k with a key file, as certbot's rfc2136 users often run it.
      const f = join(keyDir, 'acme.key');
      writeFileSync(f, `key "${ACME.name}" { algorithm ${ACME.algorithm}; secret "${ACME.secret}"; };\n`);
      args.push('-k', f);
    } else {
      args.push('-y', `${step.key.algorithm}:${step.key.name}:${step.key.secret}`);
    }
  }
  const script = [`server ${server} ${port}`, `zone ${step.zone ?? ZONE_NAME}`, ...step.lines, 'send', ''].join('\n');
  const r = await tool(PEER_BINARIES.nsupdate, args, 30_000, script);
  const out = r.stdout + r.stderr;
  const m = /update failed: (\w+)/.exec(out);
  if (m !== null) return m[1]!;
  if (/tsig|TSIG/.test(out)) return 'TSIG';
  if (r.code === 0) return 'NOERROR';
  return `exit ${r.code}: ${out.trim()}`;
}

describe('dynamic update: Sovereign and BIND agree', { concurrency: false }, () => {
  const dir = tempDir('sovereign-update-');
  const port = pickPort();
  let named: RunningPeer | undefined;
  let sov: DnsServer | undefined;

  before(async () => {
    if (!havePeers({ skip: () => {} } as never, 'named', 'nsupdate', 'dig')) return;
    mkdirSync(join(dir.path, 'named'));
    mkdirSync(join(dir.path, 'sov'));
    const bindFile = join(dir.path, 'named', 'upd.example.zone');
    const sovFile = join(dir.path, 'sov', 'upd.example.zone');
    writeFileSync(bindFile, ZONE);
    writeFileSync(sovFile, ZONE);
    addLoopbackAddress(BIND);
    addLoopbackAddress(SOV);
    const conf = join(dir.path, 'named', 'named.conf');
    writeFileSync(conf, `${[UPD, ACME].map((k) => `key "${k.name}" { algorithm ${k.algorithm}; secret "${k.secret}"; };`).join('\n')}
options {
  directory "${join(dir.path, 'named')}";
  pid-file "${join(dir.path, 'named', 'named.pid')}";
  listen-on port ${port} { ${BIND}; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
  allow-transfer { any; };
};
zone "${ZONE_NAME}" { type primary; file "${bindFile}"; update-policy { ${RULES.map((r) => r + ';').join(' ')} }; };
`);
    named = await startPeer('named', ['-g', '-u', 'root', '-c', conf], { address: BIND, port, zone: ZONE_NAME });
    sov = new DnsServer({
      config: defaultConfig({
        listen: [`${SOV}:${port}`], workers: 1,
        keys: Object.fromEntries([UPD, ACME].map((k) => [k.name, { algorithm: k.algorithm as 'hmac-sha256', secret: k.secret }])),
        zones: [{ name: ZONE_NAME, file: sovFile, updatePolicy: RULES }],
      }),
      logger: silentLogger,
    });
    await sov.loadZones();
    await sov.start();
  });

  after(async () => {
    await sov?.stop();
    await named?.stop();
    dir.cleanup();
  });

  test('every step: the same RCODE from both; the zones end the same', async (t) => {
    if (!havePeers(t, 'named', 'nsupdate', 'dig')) return;
    const got: string[] = [];
    for (const step of STEPS) {
      const b = await nsupdate(BIND, port, step, dir.path);
      const s = await nsupdate(SOV, port, step, dir.path);
      got.push(`${step.what}: BIND ${b}, Sovereign ${s}`);
      assert.equal(b, step.expect, `BIND, ${step.what}`);
      assert.equal(s, step.expect, `Sovereign, ${step.what}`);
    }
    const bindZone = await axfrLines(BIND, port, ZONE_NAME);
    const sovZone = await axfrLines(SOV, port, ZONE_NAME);
    assert.deepEqual(sovZone, bindZone, got.join('\n'));
    // The result is what the steps say, not merely equal: spot checks.
    assert.ok(sovZone.includes('upd.example. 300 in soa ns1.upd.example. hostmaster.upd.example. 1019 7200 900 1209600 300') ||
      sovZone.some((l) => / in soa /.test(l)), sovZone.join('\n'));
    assert.ok(sovZone.includes('a.upd.example. 600 in a 192.0.2.1'));
    assert.ok(!sovZone.some((l) => l.startsWith('old.upd.example.')));
    assert.ok(sovZone.includes('c.upd.example. 300 in cname a.upd.example.'));
    assert.ok(sovZone.includes('upd.example. 300 in ns ns2.upd.example.'));
    assert.ok(sovZone.includes('_acme-challenge.upd.example. 60 in txt "token-2"'));
    assert.ok(!sovZone.some((l) => l.startsWith('_acme-challenge.www.')));
  });

  test('knsupdate (Knot) with TSIG against Sovereign', async (t) => {
    if (!havePeers(t, 'knsupdate', 'dig')) return;
    const script = [`server ${SOV} ${port}`, `zone ${ZONE_NAME}`, `update add knot.${ZONE_NAME} 300 A 192.0.2.60`, 'send', 'answer', ''].join('\n');
    const r = await tool(PEER_BINARIES.knsupdate, ['-y', `${UPD.algorithm}:${UPD.name}:${UPD.secret}`], 30_000, script);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /status: NOERROR/);
    const bad = await tool(PEER_BINARIES.knsupdate, ['-y', `${BAD.algorithm}:${BAD.name}:${BAD.secret}`], 30_000,
      [`server ${SOV} ${port}`, `zone ${ZONE_NAME}`, `update add knot2.${ZONE_NAME} 300 A 192.0.2.61`, 'send', ''].join('\n'));
    assert.notEqual(bad.code, 0);
    const zone = await axfrLines(SOV, port, ZONE_NAME);
    assert.ok(zone.includes('knot.upd.example. 300 in a 192.0.2.60'));
    assert.ok(!zone.some((l) => l.startsWith('knot2.')));
  });
});
