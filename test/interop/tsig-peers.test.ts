/**
 * Interop, TSIG (RFC 8945): BIND `named` and Sovereign hold the same keys (every algorithm).
 * - BIND's dig and Knot's kdig sign queries to Sovereign: replies verify (dig prints no
 *   "Couldn't verify"); AXFR with every message signed and verified.
 * - `sovereign dig -y` and `-k` against BIND: replies verify; AXFR and IXFR verified.
 * - Errors agree with BIND: wrong secret NOTAUTH/BADSIG, unknown key NOTAUTH/BADKEY, a clock
 *   off by more than the fudge NOTAUTH/BADTIME (signed, with the server's time).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { digMain } from '../../src/cli/dig.js';
import { DigTsig } from '../../src/cli/dig-tsig.js';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { TSIG_ALGORITHMS, generateKey, keyFileText, makeKey } from '../../src/tsig/key.js';
import { TsigErr, findTsig } from '../../src/tsig/tsig.js';
import { Message, RRType } from '../../src/wire/index.js';
import { PEER_BINARIES, type RunningPeer, havePeers, pickPort, tempDir } from '../helpers/peers.js';
import { type PeerKey, startNamedXfr, tool } from '../helpers/xfr-peers.js';

const SOV = '127.31.5.1';
const BIND = '127.31.5.2';

const ZONE = `$ORIGIN tsig.example.
$TTL 3600
@    SOA ns1 hostmaster 2024050101 7200 900 1209600 300
@    NS  ns1
ns1  A   192.0.2.1
www  A   192.0.2.10
${Array.from({ length: 3000 }, (_, i) => `h${i} TXT "host number ${i} with some padding to fill the messages"`).join('\n')}
`;

const KEYS: PeerKey[] = TSIG_ALGORITHMS.map((a) => {
  const k = generateKey(`${a.short}-key`, a.short);
  return { name: `${a.short}-key`, algorithm: a.short, secret: k.secret.toString('base64') };
});

async function ourDig(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await digMain(args, { out: (t) => { out += t; }, err: (t) => { out += t; } });
  return { code, out };
}

describe('TSIG with BIND', { concurrency: false }, () => {
  const dir = tempDir('sovereign-tsig-');
  const port = pickPort();
  let named: RunningPeer | undefined;
  let sov: DnsServer | undefined;
  let ready = false;

  before(async () => {
    if (!havePeers({ skip: () => {} } as never, 'named', 'dig', 'kdig')) return;
    const file = join(dir.path, 'tsig.example.zone');
    writeFileSync(file, ZONE);
    mkdirSync(join(dir.path, 'named'));
    named = await startNamedXfr(join(dir.path, 'named'), BIND, port, KEYS, [{ name: 'tsig.example', file, allowKey: KEYS[3]!.name }]);
    sov = new DnsServer({
      config: defaultConfig({
        listen: [`${SOV}:${port}`], workers: 1,
        keys: Object.fromEntries(KEYS.map((k) => [k.name, { algorithm: k.algorithm as 'hmac-sha256', secret: k.secret }])),
        zones: [{ name: 'tsig.example', file, allowTransfer: [`key ${KEYS[3]!.name}`] }],
      }),
      logger: silentLogger,
    });
    await sov.loadZones();
    await sov.start();
    ready = true;
  });

  after(async () => {
    await sov?.stop();
    await named?.stop();
    dir.cleanup();
  });

  test('BIND dig and kdig sign queries to Sovereign with every algorithm; the replies verify', async (t) => {
    if (!havePeers(t, 'named', 'dig', 'kdig')) return;
    assert.ok(ready);
    for (const k of KEYS) {
      const y = `${k.algorithm}:${k.name}:${k.secret}`;
      const r = await tool(PEER_BINARIES.dig, [`@${SOV}`, '-p', String(port), 'www.tsig.example', 'A', '-y', y]);
      assert.doesNotMatch(r.stdout, /Couldn't verify|WARNING -- Some TSIG/, k.algorithm);
      assert.match(r.stdout, /status: NOERROR/);
      assert.match(r.stdout, /www\.tsig\.example\.\s+3600\s+IN\s+A\s+192\.0\.2\.10/);
      assert.match(r.stdout, new RegExp(`;; TSIG PSEUDOSECTION:\\n${k.name}\\.\\s+0\\s+ANY\\s+TSIG\\s+${k.algorithm}\\.(sig-alg\\.reg\\.int\\.)? \\d+ 300 \\d+ \\S+( \\S+)? \\d+ NOERROR 0`));
      const kd = await tool(PEER_BINARIES.kdig, [`@${SOV}`, '-p', String(port), 'www.tsig.example', 'A', '-y', y]);
      assert.match(kd.stdout, /status: NOERROR/, kd.stdout + kd.stderr);
      assert.doesNotMatch(kd.stdout + kd.stderr, /failed|BADSIG|BADKEY/i);
    }
  });

  test('sovereign dig -y signs queries to BIND with every algorithm and verifies the replies', async (t) => {
    if (!havePeers(t, 'named')) return;
    for (const k of KEYS) {
      const r = await ourDig([`@${BIND}`, '-p', String(port), 'www.tsig.example', 'A', '-y', `${k.algorithm}:${k.name}:${k.secret}`]);
      assert.equal(r.code, 0);
      assert.doesNotMatch(r.out, /Couldn't verify|WARNING -- Some TSIG/, `${k.algorithm}\n${r.out}`);
      assert.match(r.out, /status: NOERROR/);
      assert.match(r.out, new RegExp(`;; TSIG PSEUDOSECTION:\\n${k.name}\\.\\s+0\\s+ANY\\s+TSIG\\s+${k.algorithm}\\.(sig-alg\\.reg\\.int\\.)? \\d+ 300 \\d+ \\S+( \\S+)? \\d+ NOERROR 0 `));
    }
    // -k: the key file as tsig-keygen writes it.
    const k = KEYS[3]!;
    const file = join(dir.path, 'dig.key');
    writeFileSync(file, keyFileText(makeKey(k.name, k.algorithm, k.secret)));
    const r = await ourDig([`@${BIND}`, '-p', String(port), 'www.tsig.example', 'A', '-k', file, '+short']);
    assert.equal(r.out, '192.0.2.10\n');
  });

  test('AXFR signed on every message: BIND dig from Sovereign, sovereign dig from BIND; IXFR too', async (t) => {
    if (!havePeers(t, 'named', 'dig')) return;
    const k = KEYS[3]!;
    const y = `${k.algorithm}:${k.name}:${k.secret}`;
    const theirs = await tool(PEER_BINARIES.dig, [`@${SOV}`, '-p', String(port), 'tsig.example', 'AXFR', '-y', y]);
    assert.doesNotMatch(theirs.stdout, /Couldn't verify|Transfer failed/);
    const m = /XFR size: (\d+) records \(messages (\d+),/.exec(theirs.stdout);
    assert.ok(m !== null, theirs.stdout.slice(-500));
    assert.equal(Number(m[1]), 3004 + 1);
    assert.ok(Number(m[2]) > 1, 'several messages');
    // Every message carries a TSIG (dig lists them).
    assert.equal(theirs.stdout.match(/\tTSIG\t/g)!.length, Number(m[2]));
    const ours = await ourDig([`@${BIND}`, '-p', String(port), 'tsig.example', 'AXFR', '-y', y]);
    assert.doesNotMatch(ours.out, /Couldn't verify|Transfer failed/);
    assert.match(ours.out, /XFR size: 3005 records/);
    // IXFR from an older serial without history at BIND: AXFR-style, verified.
    const ix = await ourDig([`@${BIND}`, '-p', String(port), 'tsig.example', 'IXFR=2024010100', '-y', y]);
    assert.doesNotMatch(ix.out, /Couldn't verify|Transfer failed/);
    assert.match(ix.out, /XFR size: 3005 records/);
    const ixs = await ourDig([`@${SOV}`, '-p', String(port), 'tsig.example', 'IXFR=2024050101', '-y', y]);
    assert.match(ixs.out, /XFR size: 1 records \(messages 1,/);
    // Without the key: REFUSED by both.
    for (const at of [SOV, BIND]) {
      const r = await tool(PEER_BINARIES.dig, [`@${at}`, '-p', String(port), 'tsig.example', 'AXFR', '-b', '127.0.0.9']);
      assert.match(r.stdout, /Transfer failed/, at);
    }
  });

  test('errors as BIND gives them: wrong secret BADSIG, unknown key BADKEY, clock off BADTIME', async (t) => {
    if (!havePeers(t, 'named', 'dig')) return;
    const k = KEYS[3]!;
    const wrong = Buffer.alloc(32, 1).toString('base64');
    for (const at of [BIND, SOV]) {
      const bad = await tool(PEER_BINARIES.dig, [`@${at}`, '-p', String(port), 'www.tsig.example', '-y', `${k.algorithm}:${k.name}:${wrong}`]);
      assert.match(bad.stdout, /status: NOTAUTH/, at);
      assert.match(bad.stdout, / BADSIG 0 ?\n/, at);
      const unknown = await tool(PEER_BINARIES.dig, [`@${at}`, '-p', String(port), 'www.tsig.example', '-y', `hmac-sha256:nosuch-key:${wrong}`]);
      assert.match(unknown.stdout, /status: NOTAUTH/, at);
      assert.match(unknown.stdout, / BADKEY 0 ?\n/, at);
      // Our own client with its clock 20 minutes ahead.
      const skewed = new DigTsig(makeKey(k.name, k.algorithm, k.secret), () => Date.now() + 1_200_000);
      const r = await exchange(Message.query('www.tsig.example.', RRType.A), { address: at, port }, { sign: skewed.sign });
      assert.equal(r.message.rcode, 9, at); // NOTAUTH
      const rec = findTsig(r.bytes)!;
      assert.equal(rec.error, TsigErr.BADTIME, at);
      assert.equal(rec.otherData.length, 6, at); // the server's time
      assert.ok(rec.mac.length > 0, `${at}: a BADTIME reply is signed`);
      // dig's wording for a reply whose TSIG carries an error.
      assert.equal(skewed.check(r.bytes), 'tsig indicates error');
    }
    assert.ok(sov!.stats.tsigFailed >= 3);
  });
});
