/**
 * dig +nssearch: sovereign dig against Debian dig, on a zone with three NS hosts on 127.55.x
 * port 53 (two answer, one refuses connections), served by BIND and by `sovereign serve`.
 * Debian dig looks the NS addresses up with its own resolver from /etc/resolv.conf, so it runs
 * in a private mount namespace (`unshare -m`) with a temporary resolv.conf bind-mounted over
 * /etc/resolv.conf that points at the 127.x server (as dig-search.test.ts does); ours asks the
 * @server. Lines are compared sorted (the replies arrive in any order), times masked.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RunningPeer, PEER_BINARIES, addLoopbackAddress, havePeers, inCI, runTool, startNamed, startPeer, tempDir } from '../helpers/peers.js';

const BIND = '127.55.0.1';
const SOV = '127.55.0.2';
const DEAD = '127.55.0.3';
const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;

const ZONE = `$ORIGIN nss.test.
$TTL 300
@   IN SOA ns1.nss.test. hostmaster.nss.test. 2024010101 3600 900 604800 300
@   IN NS  ns1.nss.test.
@   IN NS  ns2.nss.test.
@   IN NS  ns3.nss.test.
ns1 IN A   ${BIND}
ns2 IN A   ${SOV}
ns3 IN A   ${DEAD}
www IN A   192.0.2.1
`;

/** A zone none of whose name servers answers (127.55.0.4 is on lo's 127/8 route, nothing listens). */
const GONE = `$ORIGIN gone.test.
$TTL 300
@   IN SOA ns1.gone.test. hostmaster.gone.test. 1 3600 900 604800 300
@   IN NS  ns1.gone.test.
@   IN NS  ns2.gone.test.
ns1 IN A   ${DEAD}
ns2 IN A   127.55.0.4
`;

/** Masks the round-trip time and the banner, sorts the lines. */
function normalize(out: string): string[] {
  return out.split('\n').filter((l) => l !== '' && !l.startsWith('; <<>> '))
    .map((l) => l.replace(/ in \d+ ms\.$/, ' in T ms.')).sort();
}

describe('dig +nssearch: sovereign dig against dig, on BIND and on sovereign serve', { timeout: 120_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let named: RunningPeer | undefined;
  let sov: RunningPeer | undefined;
  let skip = false;

  before(async (t) => {
    if (!havePeers(t as never, 'named', 'dig')) {
      skip = true;
      return;
    }
    if (runTool('unshare', ['-m', 'true']).status !== 0 || !addLoopbackAddress(BIND) || !addLoopbackAddress(SOV) || !addLoopbackAddress(DEAD)) {
      if (inCI) throw new Error('unshare -m or ip addr add is not available');
      skip = true;
      return;
    }
    dir = tempDir('sovereign-dig-nssearch-');
    const zoneFile = join(dir.path, 'nss.test.zone');
    writeFileSync(zoneFile, ZONE);
    const goneFile = join(dir.path, 'gone.test.zone');
    writeFileSync(goneFile, GONE);
    mkdirSync(join(dir.path, 'bind'));
    named = await startNamed(join(dir.path, 'bind'), BIND, 53, [{ name: 'nss.test', file: zoneFile }, { name: 'gone.test', file: goneFile }]);
    const cfg = join(dir.path, 'sovereign.yaml');
    writeFileSync(cfg, 'control:\n  enabled: false\n');
    sov = await startPeer(process.execPath, [BIN, 'serve', '--config', cfg, '--workers', '1', '--listen', `${SOV}:53`,
      '--zone', `nss.test=${zoneFile}`, '--zone', `gone.test=${goneFile}`], { address: SOV, port: 53, zone: 'nss.test' });
    writeFileSync(join(dir.path, 'resolv.conf'), `nameserver ${BIND}\n`);
  });

  after(async () => {
    await named?.stop();
    await sov?.stop();
    dir?.cleanup();
  });

  const compare = (args: string[]): { ours: string[]; dig: string[] } => {
    const full = ['-4', '+time=2', '+tries=1', ...args, '+nssearch'];
    const quoted = full.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const resolvConf = join(dir.path, 'resolv.conf');
    const dig = runTool('unshare', ['-m', 'sh', '-c', `mount --bind '${resolvConf}' /etc/resolv.conf && exec ${PEER_BINARIES.dig} ${quoted}`]);
    const ours = runTool(process.execPath, [BIN, 'dig', ...full]);
    assert.equal(ours.status, dig.status, `exit status for dig ${full.join(' ')}: ${ours.stderr} / ${dig.stderr}`);
    assert.deepEqual(normalize(ours.stdout), normalize(dig.stdout), `output for dig ${full.join(' ')}`);
    return { ours: normalize(ours.stdout), dig: normalize(dig.stdout) };
  };

  for (const [server, label] of [[BIND, 'BIND'], [SOV, 'sovereign serve']] as const) {
    test(`one SOA line per answering server, a communications error for the dead one (${label})`, (t) => {
      if (skip) return t.skip('peers missing');
      const { ours } = compare([`@${server}`, 'nss.test']);
      const soa = 'SOA ns1.nss.test. hostmaster.nss.test. 2024010101 3600 900 604800 300';
      assert.deepEqual(ours, [
        `;; communications error to ${DEAD}#53: connection refused`,
        `${soa} from server ${BIND} in T ms.`,
        `${soa} from server ${SOV} in T ms.`,
      ]);
    });

    test(`a name that is not a zone prints nothing; a name the server refuses prints nothing (${label})`, (t) => {
      if (skip) return t.skip('peers missing');
      assert.deepEqual(compare([`@${server}`, 'www.nss.test']).ours, []);
      assert.deepEqual(compare([`@${server}`, 'other.example']).ours, []);
    });

    test(`no name server replies: each communications error, then NS servers could not be reached, exit 9 (${label})`, (t) => {
      if (skip) return t.skip('peers missing');
      assert.deepEqual(compare([`@${server}`, 'gone.test']).ours, [
        `;; communications error to ${DEAD}#53: connection refused`,
        ';; NS servers could not be reached',
        ';; communications error to 127.55.0.4#53: connection refused',
      ].sort());
    });
  }

  test('an @server that does not answer: dig banner and no servers could be reached, exit 9', (t) => {
    if (skip) return t.skip('peers missing');
    const { ours } = compare([`@${DEAD}`, 'nss.test']);
    assert.ok(ours.includes(';; no servers could be reached'));
  });
});
