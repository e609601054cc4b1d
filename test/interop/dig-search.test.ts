/**
 * dig +search / +ndots / +domain / +showsearch: the search list comes from a resolv.conf. Ours
 * reads a temporary file named by SOVEREIGN_RESOLV_CONF; Debian's dig reads /etc/resolv.conf, so
 * it runs in a private mount namespace (`unshare -m`) where the same temporary file is bind-
 * mounted over /etc/resolv.conf — the real file is never read or touched. Both ask BIND on
 * 127.24.7.1 for the zone of dig-fixture.ts; outputs are compared after the usual masking.
 * Also -f batch files with comment lines (dig skips `;` and `#` lines), and IDN names.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RunningPeer, PEER_BINARIES, havePeers, inCI, pickPort, runTool, startNamed, tempDir } from '../helpers/peers.js';
import { ZONE, normalize } from './dig-fixture.js';

const BIND = '127.24.7.1';
const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;

describe('dig +search and +ndots from a resolv.conf, batch files, IDN: sovereign dig against dig', { timeout: 120_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let named: RunningPeer | undefined;
  let port = 0;
  let skip = false;
  let resolvConf = '';

  before(async (t) => {
    if (!havePeers(t as never, 'named', 'dig')) {
      skip = true;
      return;
    }
    // The bind mount needs a private mount namespace (root, as in CI).
    if (runTool('unshare', ['-m', 'true']).status !== 0) {
      if (inCI) throw new Error('unshare -m is not available');
      skip = true;
      return;
    }
    dir = tempDir('sovereign-dig-search-');
    port = pickPort();
    const zoneFile = join(dir.path, 'dig.test.zone');
    writeFileSync(zoneFile, ZONE);
    mkdirSync(join(dir.path, 'bind'));
    named = await startNamed(join(dir.path, 'bind'), BIND, port, [{ name: 'dig.test', file: zoneFile }]);
    resolvConf = join(dir.path, 'resolv.conf');
    writeFileSync(resolvConf, `nameserver ${BIND}\nsearch sub0.dig.test dig.test\noptions ndots:2\n`);
  });

  after(async () => {
    await named?.stop();
    dir?.cleanup();
  });

  const compare = (args: string[]): void => {
    const full = ['-p', String(port), '+time=3', '+tries=1', ...args];
    const quoted = full.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const dig = runTool('unshare', ['-m', 'sh', '-c', `mount --bind '${resolvConf}' /etc/resolv.conf && exec ${PEER_BINARIES.dig} ${quoted}`]);
    const ours = runTool('env', [`SOVEREIGN_RESOLV_CONF=${resolvConf}`, process.execPath, BIN, 'dig', ...full]);
    assert.equal(ours.status, dig.status, `exit status for dig ${full.join(' ')}: ${ours.stderr} / ${dig.stderr}`);
    assert.equal(normalize(ours.stdout), normalize(dig.stdout), `output for dig ${full.join(' ')}`);
  };

  test('+search walks the search list while the answer is NXDOMAIN, then the name itself', (t) => {
    if (skip) return t.skip('peers missing');
    for (const args of [
      ['ns1', '+search', '+ndots=1'], // ns1.sub0.dig.test NXDOMAIN, ns1.dig.test found
      ['nope', '+search', '+noall', '+question', '+comments', '+showsearch'], // every candidate printed
      ['nope', '+search'], // only the last (the bare name) printed
      ['ns1', '+nosearch', '+noall', '+question'],
      ['ns1', '+domain=dig.test', '+search', '+noall', '+question'],
      ['txt.dig', '+search', '+ndots=3', '+noall', '+answer'], // one dot < 3: searched
      ['txt.dig', '+search', '+noall', '+question'], // one dot < ndots:2 of resolv.conf
      ['ns1.dig.test', '+search', '+noall', '+answer'], // enough dots: as given
    ]) compare(args);
  });

  test('-f: comment lines are skipped, other lines run with the command line options', (t) => {
    if (skip) return t.skip('peers missing');
    const batch = join(dir.path, 'batch.txt');
    writeFileSync(batch, '; a comment\n# another\nns1.dig.test +short\ntxt.dig.test TXT\n');
    compare([`@${BIND}`, '-f', batch, '+noall', '+answer']);
  });

  test('IDN: UTF-8 octets as the label by default (not a terminal), punycode with +idnin, back with +idnout', (t) => {
    if (skip) return t.skip('peers missing');
    for (const args of [['bücher.dig.test'], ['bücher.dig.test', '+idnin'], ['bücher.dig.test', '+idnin', '+idnout'], ['xn--bcher-kva.dig.test', '+idnout']]) {
      compare([`@${BIND}`, ...args]);
    }
  });
});
