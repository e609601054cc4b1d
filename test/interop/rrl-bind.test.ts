/**
 * Response rate limiting compared with BIND 9.18's `rate-limit` on the same zone and the same
 * traffic: the spoofed-source flood of test/policy/rrl-server.test.ts (12 sources in three /24s,
 * www answers, NXDOMAIN names and a referral, plus a legitimate client), sent in one order to
 * each server, must give every source the same number of answered, truncated (slipped) and
 * dropped replies, and the same RCODEs.
 *
 * Tolerance, from BIND's rules rather than fudge: BIND credits tokens per whole second of its
 * wall clock (client->now, isc_stdtime), so a flood that straddles a second boundary gets a
 * second's worth of extra tokens. Each run therefore starts just after a second begins and is
 * repeated (after the window has cleared every bucket) when sending did not end within that same
 * second, or when the server answered more than one second's tokens allow (it handled the last
 * packets after the second turned); the counts are then compared exactly. BIND runs with one worker thread (-n 1) so it
 * handles the packets in the order they arrive, as our single event loop does.
 *
 * Addresses: BIND 127.41.20.2, Sovereign 127.41.20.3, clients 127.9.1-3.x and 127.10.0.1.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { type RunningPeer, addLoopbackAddress, havePeers, namedOptions, pickPort, startPeer, tempDir } from '../helpers/peers.js';
import { type SourceOutcome, flood, floodPlan } from '../policy/flood.js';

const BIND = '127.41.20.2';
const OURS = '127.41.20.3';
const ZONE_TEXT = `$ORIGIN example.org.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 127.0.0.1
www A 192.0.2.80
sub NS ns.sub
ns.sub A 192.0.2.53
`;
const SOURCES = [1, 2, 3].flatMap((p) => [1, 2, 3, 4].map((h) => `127.9.${p}.${h}`));
const WINDOW = 1;
/** Replies one second of the flood gets under the token rules: 24 answers and 108 TC to the flood, 3 answers to the legitimate client. */
const EXPECTED_REPLIES = 24 + 108 + 3;
const ONE_SECOND_ANSWERS = 24 + 3;

/** Runs the flood against address:port within one wall-clock second (retrying after the window otherwise). */
async function floodInOneSecond(address: string, port: number): Promise<Map<string, SourceOutcome>> {
  const plan = floodPlan(SOURCES, 12, 'example.org.', '127.10.0.1', [0, 4, 8]);
  for (let attempt = 0; ; attempt++) {
    // Start 10 ms into a second.
    await new Promise((r) => setTimeout(r, 1010 - (Date.now() % 1000)));
    const { bySource, startMs, endMs } = await flood(address, port, plan, { expected: EXPECTED_REPLIES });
    // A server that handled the last packets after the second turned (a loaded machine) credited a
    // second's tokens more: more answers than one second allows. Such a run is not the experiment.
    let answered = 0;
    for (const o of bySource.values()) answered += o.answered;
    if (Math.floor(startMs / 1000) === Math.floor(endMs / 1000) && endMs % 1000 < 900 && answered <= ONE_SECOND_ANSWERS) return bySource;
    if (attempt === 5) throw new Error(`could not send the flood within one second in 6 attempts (last took ${endMs - startMs} ms)`);
    await new Promise((r) => setTimeout(r, (WINDOW + 1) * 1000 + 100));
  }
}

describe('RRL: same flood, same counts as BIND', { timeout: 180_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let named: RunningPeer | undefined;
  let ours: DnsServer | undefined;
  let bindPort = 0;
  let ourPort = 0;

  before(() => {
    dir = tempDir('sovereign-rrl-bind-');
    writeFileSync(join(dir.path, 'example.org.zone'), ZONE_TEXT);
  });

  after(async () => {
    await named?.stop();
    await ours?.stop();
    dir?.cleanup();
  });

  test('per source: answered, TC and dropped replies and RCODEs agree', async (t) => {
    if (!havePeers(t, 'named')) return;
    bindPort = pickPort();
    addLoopbackAddress(BIND);
    const conf = join(dir.path, 'named.conf');
    writeFileSync(conf, `${namedOptions(dir.path, BIND, bindPort, `rate-limit { responses-per-second 4; nxdomains-per-second 2; referrals-per-second 2; window ${WINDOW}; slip 2; };`)}
zone "example.org" { type primary; file "${join(dir.path, 'example.org.zone')}"; };
`);
    named = await startPeer('named', ['-g', '-n', '1', '-u', 'root', '-c', conf], { address: BIND, port: bindPort, zone: 'example.org' });
    ourPort = pickPort();
    ours = new DnsServer({
      config: defaultConfig({
        listen: `${OURS}:${ourPort}`, workers: 1, zones: [{ name: 'example.org', file: join(dir.path, 'example.org.zone') }], control: { enabled: false },
        rateLimit: { responsesPerSecond: 4, nxdomainsPerSecond: 2, referralsPerSecond: 2, window: WINDOW, slip: 2 },
      }),
      logger: silentLogger,
    });
    await ours.loadZones();
    await ours.start();
    // The readiness probes above were answered: let those buckets expire first.
    await new Promise((r) => setTimeout(r, (WINDOW + 1) * 1000 + 100));
    const fromBind = await floodInOneSecond(BIND, bindPort);
    const fromUs = await floodInOneSecond(OURS, ourPort);
    const table = (m: Map<string, SourceOutcome>): Record<string, string> =>
      Object.fromEntries([...m].map(([src, o]) => [src, `sent ${o.sent} answered ${o.answered} tc ${o.truncated} dropped ${o.sent - o.answered - o.truncated} rcodes ${JSON.stringify(o.rcodes)}`]));
    assert.deepEqual(table(fromUs), table(fromBind));
    // And the figures are the token arithmetic's (not two identical mistakes): see rrl-server.test.ts.
    const legit = fromBind.get('127.10.0.1')!;
    assert.deepEqual([legit.sent, legit.answered], [3, 3]);
    let answered = 0;
    let tc = 0;
    for (const [src, o] of fromBind) {
      if (src.startsWith('127.9.')) {
        answered += o.answered;
        tc += o.truncated;
      }
    }
    assert.deepEqual([answered, tc], [24, 108]);
  });
});
