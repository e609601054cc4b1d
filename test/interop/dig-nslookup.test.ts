/**
 * nslookup's interactive mode and its warn-and-continue option handling: `sovereign nslookup`
 * and Debian's nslookup are fed the same stdin (server/lserver, set type=/q=/class=/port=/
 * timeout=/retry=, set [no]debug, [no]recurse, [no]vc, unknown `set` options, help, exit) against
 * BIND and `sovereign serve` on the zone of dig-fixture.ts; stdout and exit status must be equal
 * (BIND rotates RRsets, so lines are compared as a multiset and the layout's first lines exactly).
 *
 * Addresses: 127.24.5.1 (BIND), 127.24.5.2 (sovereign serve), 127.24.5.3 (nothing listens).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { havePeers, runTool } from '../helpers/peers.js';
import { type DigServers, startDigServers } from './dig-fixture.js';

const BIND = '127.24.5.1';
const SOV = '127.24.5.2';
const SILENT = '127.24.5.3';
const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const NSLOOKUP = '/usr/bin/nslookup';

describe('nslookup interactive mode: sovereign nslookup against nslookup', { timeout: 300_000 }, () => {
  let servers: DigServers | undefined;
  let port = 0;
  let skip = false;

  before(async (t) => {
    if (!havePeers(t as never, 'named', 'dig', 'nslookup')) {
      skip = true;
      return;
    }
    servers = await startDigServers({ bind: BIND, sov: SOV, prefix: 'sovereign-nslookup-' });
    port = servers.port;
  });

  after(async () => {
    await servers?.stop();
  });

  const compare = (args: string[], input: string): void => {
    const want = runTool(NSLOOKUP, args, { input });
    const got = runTool(process.execPath, [BIN, 'nslookup', ...args], { input });
    const what = `nslookup ${args.join(' ')} <<< ${JSON.stringify(input)}`;
    assert.ok(want.stdout.length > 0, `nslookup printed nothing for ${what}: ${want.stderr}`);
    assert.deepEqual(got.stdout.split('\n').sort(), want.stdout.split('\n').sort(), what);
    assert.deepEqual(got.stdout.split('\n').slice(0, 4), want.stdout.split('\n').slice(0, 4), what);
    assert.equal(got.status, want.status, `exit status of ${what}`);
  };

  const sessions = (other: string): [string[], string][] => [
    [['-port=' + port, '-'], 'a.dig.test\nset type=MX\nmx.dig.test\nset q=TXT\ntxt.dig.test\nexit\n'],
    [['-port=' + port, '-'], `server ${other}\nmx.dig.test\nlserver ${other}\nset type=SOA\ndig.test\n`],
    [['-port=' + port, '-'], 'nx.dig.test\na.dig.test\n'],
    [['-port=' + port, '-'], 'set debug\na.dig.test\nset type=MX\nmx.dig.test\nset type=SOA\ndig.test\nnx.dig.test\nset nodebug\ncname.dig.test\n'],
    [['-port=' + port, '-'], 'set frob\nset type=FOO\nset retry=1\nset norecurse\nset vc\nx.sub.dig.test\nhelp\n?\n'],
    [['-port=' + port, '-'], 'set class=CH\na.dig.test\nset class=IN\nset port=1\nset timeout=1\nset retry=1\na.dig.test\n'],
    [['-port=' + port, '-debug', '-'], 'set recurse\nset novc\naaaa.dig.test\n'],
  ];

  for (const [server, other, label] of [[BIND, SOV, 'BIND'], [SOV, BIND, 'sovereign serve']] as const) {
    test(`interactive sessions against ${label}`, (t) => {
      if (skip) return t.skip('peers missing');
      for (const [args, input] of sessions(other)) compare([...args, server], input);
    });
  }

  test('unknown options on the command line: warned about on stdout, then the lookup runs', (t) => {
    if (skip) return t.skip('peers missing');
    compare([`-port=${port}`, '-frob', '-type=BOGUS', '-port=x', 'a.dig.test', SOV], '');
    compare([`-port=${port}`, '-debug', 'mx.dig.test', BIND], '');
    // No server listening: the refused tries are reported, exit 1.
    compare(['-port=' + port, '-retry=2', 'a.dig.test', SILENT], '');
  });
});
