/**
 * Response rate limiting on a real server: a spoofed-source flood from 12 loopback addresses in
 * three /24s (127.9.1-3.x) asking for the same names while a legitimate client (127.10.0.1) keeps
 * getting every answer; the answered / TC / dropped counts are exactly the token arithmetic's
 * (the limiter's clock is fixed, so the whole flood is one second); answer-cache hits are limited
 * too (www and the referral are answered from cached bytes after the first query). Then the
 * clients BIND's `slip` is for: `dig` gets TC and retries over TCP; `dig +cookie` gets BADCOOKIE
 * with our cookie and retries with it (a valid server cookie is exempt, RFC 7873 §5.4).
 *
 * Addresses: server 127.41.20.1, clients 127.9.1-3.x and 127.10.0.1.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { RrlKind } from '../../src/policy/rrl.js';
import { DnsServer } from '../../src/server/server.js';
import { Rcode } from '../../src/wire/constants.js';
import { serverSnapshot } from '../../src/control/backend.js';
import { renderMetrics } from '../../src/control/metrics.js';
import { havePeers, pickPort, runToolAsync, tempDir } from '../helpers/peers.js';
import { flood, floodPlan, total } from './flood.js';

const SERVER = '127.41.20.1';
const ZONE_TEXT = `$ORIGIN example.org.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 127.0.0.1
www A 192.0.2.80
sub NS ns.sub
ns.sub A 192.0.2.53
`;

export const SOURCES = [1, 2, 3].flatMap((p) => [1, 2, 3, 4].map((h) => `127.9.${p}.${h}`));

describe('response rate limiting under a spoofed flood', { timeout: 120_000 }, () => {
  let server: DnsServer;
  let port = 0;
  let dir: ReturnType<typeof tempDir>;
  const clock = 1_000_000;

  before(async () => {
    dir = tempDir('sovereign-rrl-');
    writeFileSync(join(dir.path, 'db'), ZONE_TEXT);
    port = pickPort();
    const cfg = defaultConfig({
      listen: `${SERVER}:${port}`, workers: 1, zones: [{ name: 'example.org', file: join(dir.path, 'db') }], control: { enabled: false },
      rateLimit: { responsesPerSecond: 4, nxdomainsPerSecond: 2, referralsPerSecond: 2, window: 5, slip: 2 },
    });
    server = new DnsServer({ config: cfg, logger: silentLogger, rrlNowS: () => clock });
    await server.loadZones();
    await server.start();
  });

  after(async () => {
    await server?.stop();
    dir?.cleanup();
  });

  test('each /24 gets rate answers per bucket, every other limited reply is TC, the rest dropped; the legitimate client gets all', async () => {
    const plan = floodPlan(SOURCES, 12, 'example.org.', '127.10.0.1', [0, 4, 8]);
    // Per /24: www 48 queries (4 answered, 44 limited: 22 TC, 22 dropped); NXDOMAIN 16 under the
    // zone's one bucket (2 answered, 7 TC, 7 dropped); the referral 16 (2, 7, 7). Legitimate: 3 of 3.
    const { bySource } = await flood(SERVER, port, plan, { expected: 3 * (8 + 36) + 3 });
    for (const p of [1, 2, 3]) {
      const t = total(bySource, `127.9.${p}.`);
      assert.equal(t.sent, 80);
      assert.equal(t.answered, 8, `127.9.${p}.0/24 answered`);
      assert.equal(t.truncated, 36, `127.9.${p}.0/24 TC`);
      assert.equal(t.rcodes[Rcode.NXDOMAIN], 2 + 7, 'slipped NXDOMAIN replies keep their RCODE (as BIND)');
    }
    const legit = total(bySource, '127.10.0.1');
    assert.deepEqual([legit.sent, legit.answered, legit.truncated], [3, 3, 0]);
    const s = server.stats;
    assert.equal(s.rrlSlipped[RrlKind.ANSWER], 66);
    assert.equal(s.rrlDropped[RrlKind.ANSWER], 66);
    assert.equal(s.rrlSlipped[RrlKind.NXDOMAIN], 21);
    assert.equal(s.rrlDropped[RrlKind.NXDOMAIN], 21);
    assert.equal(s.rrlSlipped[RrlKind.REFERRAL], 21);
    assert.equal(s.rrlDropped[RrlKind.REFERRAL], 21);
    const snap = serverSnapshot(server, Date.now());
    assert.deepEqual(snap.rateLimit?.dropped, { responses: 66, referrals: 21, nxdomains: 21 });
    const metrics = await renderMetrics(snap);
    assert.match(metrics.body, /sovereign_rrl_responses_total\{kind="responses",action="slipped"\} 66/);
  });

  test('dig gets the slipped TC reply and retries over TCP; dig +cookie gets BADCOOKIE and retries with our cookie', async (t) => {
    if (!havePeers(t, 'dig')) return;
    // 127.9.1.0/24 is out of tokens for www with an even number of limited replies: the next one slips.
    const d = await runToolAsync('dig', [`@${SERVER}`, '-p', String(port), '-b', '127.9.1.77', '+nocookie', '+tries=1', '+time=3', 'www.example.org', 'A']);
    assert.match(d.stdout, /;; Truncated, retrying in TCP mode\./);
    assert.match(d.stdout, /^www\.example\.org\.\s+300\s+IN\s+A\s+192\.0\.2\.80$/m);
    const c = await runToolAsync('dig', [`@${SERVER}`, '-p', String(port), '-b', '127.9.2.77', '+cookie', '+tries=1', '+time=3', 'www.example.org', 'A']);
    assert.match(c.stdout, /;; BADCOOKIE, retrying\./);
    assert.match(c.stdout, /status: NOERROR/);
    assert.match(c.stdout, /; COOKIE: [0-9a-f]{48} \(good\)/);
    assert.match(c.stdout, /^www\.example\.org\.\s+300\s+IN\s+A\s+192\.0\.2\.80$/m);
  });
});
