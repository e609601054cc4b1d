/**
 * Views against BIND: named with the same views (match-clients by prefix with a negated address,
 * a key view) and the same zone files as our server; dig asks both from the same loopback source
 * addresses, signed and unsigned, and the status and answer sections must be the same.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { PEER_BINARIES, addLoopbackAddress, havePeers, namedOptions, pickPort, startPeer, tempDir } from '../helpers/peers.js';
import { tool } from '../helpers/xfr-peers.js';

const BIND = '127.54.20.1';
const OURS = '127.54.20.2';
const SECRET = 'dmlld3MtaW50ZXJvcC1zZWNyZXQtMDEyMzQ1Njc4OQ==';

function zone(origin: string, www: string): string {
  return `$ORIGIN ${origin}.
$TTL 300
@    SOA ns1 hostmaster 1 7200 3600 1209600 300
@    NS  ns1
ns1  A   192.0.2.1
www  A   ${www}
mail CNAME www
`;
}

/** dig's status line and answer section, normalised (what must agree). */
async function answer(server: string, port: number, from: string, args: string[]): Promise<string> {
  const r = await tool(PEER_BINARIES.dig, [`@${server}`, '-p', String(port), '-b', from, '+noall', '+comments', '+answer', '+nocookie', ...args]);
  const status = /status: (\w+)/.exec(r.stdout)?.[1] ?? `no reply: ${r.stdout}${r.stderr}`;
  const lines = r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith(';') && !/\sTSIG\s/.test(l)).map((l) => l.replace(/\s+/g, ' ')).sort();
  return [status, ...lines].join('\n');
}

test('views agree with BIND: prefix, negated and key-matched views, no-match REFUSED', async (t) => {
  if (!havePeers(t, 'named', 'dig')) return;
  const dir = tempDir('sovereign-views-bind-');
  const f = (n: string): string => join(dir.path, n);
  writeFileSync(f('internal.zone'), zone('example.com', '10.0.0.10'));
  writeFileSync(f('external.zone'), zone('example.com', '203.0.113.10'));
  writeFileSync(f('partner.zone'), zone('example.com', '198.51.100.10'));
  writeFileSync(f('shared.zone'), zone('shared.test', '192.0.2.50'));
  addLoopbackAddress(BIND);
  const port = pickPort();
  const conf = f('named.conf');
  writeFileSync(conf, `key "partner-key" { algorithm hmac-sha256; secret "${SECRET}"; };
${namedOptions(dir.path, BIND, port)}
view "partner" {
  match-clients { key partner-key; };
  zone "example.com" { type primary; file "${f('partner.zone')}"; };
};
view "internal" {
  match-clients { 127.0.0.0/24; };
  zone "example.com" { type primary; file "${f('internal.zone')}"; };
  zone "shared.test" { type primary; file "${f('shared.zone')}"; };
};
view "external" {
  match-clients { !127.1.0.9; 127.1.0.0/16; };
  zone "example.com" { type primary; file "${f('external.zone')}"; };
  zone "shared.test" { in-view "internal"; };
};
`);
  const named = await startPeer('named', ['-g', '-u', 'root', '-c', conf], { address: BIND, port, zone: 'example.com' });
  const server = new DnsServer({
    config: defaultConfig({
      listen: [`${OURS}:${port}`], workers: 1,
      keys: { 'partner-key': { algorithm: 'hmac-sha256', secret: SECRET } },
      zones: [{ name: 'shared.test', file: f('shared.zone') }],
      views: [
        { name: 'partner', keys: ['partner-key'], recursion: false, zones: [{ name: 'example.com', file: f('partner.zone') }] },
        { name: 'internal', clients: ['127.0.0.0/24'], recursion: false, zones: [{ name: 'example.com', file: f('internal.zone') }, 'shared.test'] },
        { name: 'external', clients: ['!127.1.0.9', '127.1.0.0/16'], recursion: false, zones: [{ name: 'example.com', file: f('external.zone') }, 'shared.test'] },
      ],
    }),
    logger: silentLogger,
  });
  await server.loadZones();
  await server.start();
  try {
    const key = ['-y', `hmac-sha256:partner-key:${SECRET}`];
    const cases: { from: string; args: string[] }[] = [];
    for (const from of ['127.0.0.5', '127.1.0.5', '127.1.0.9', '127.2.0.5']) {
      for (const q of [['www.example.com', 'A'], ['mail.example.com', 'A'], ['example.com', 'SOA'], ['nx.example.com', 'A'], ['www.shared.test', 'A']]) {
        cases.push({ from, args: q }, { from, args: [...key, ...q] });
      }
    }
    let compared = 0;
    for (const c of cases) {
      const theirs = await answer(BIND, port, c.from, c.args);
      const ours = await answer(OURS, port, c.from, c.args);
      assert.equal(ours, theirs, `from ${c.from}: ${c.args.join(' ')}`);
      compared++;
    }
    assert.equal(compared, 40);
    // The cases above must have covered every view and the refusal.
    assert.match(await answer(OURS, port, '127.0.0.5', ['www.example.com', 'A']), /10\.0\.0\.10/);
    assert.match(await answer(OURS, port, '127.1.0.5', ['www.example.com', 'A']), /203\.0\.113\.10/);
    assert.match(await answer(OURS, port, '127.2.0.5', [...key, 'www.example.com', 'A']), /198\.51\.100\.10/);
    assert.match(await answer(OURS, port, '127.1.0.9', ['www.example.com', 'A']), /^REFUSED/);
  } finally {
    await server.stop();
    await named.stop();
    dir.cleanup();
  }
});
