/**
 * Views (split horizon) on our server over real sockets: the same name gives the internal address
 * to 127.0.0.0/24 and the public one to 127.1.0.0/16 (the NAT case), a TSIG key picks its view
 * whatever the source, no matching view is REFUSED, AXFR and UPDATE go to the query's view, a
 * zone named by several views is loaded once, and a reload rebuilds the views.
 * Sources are loopback addresses the client socket binds (on Linux every 127/8 address works).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { loadConfigFile } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Rcode } from '../../src/wire/constants.js';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { PEER_BINARIES, havePeers, tempDir } from '../helpers/peers.js';
import { tool } from '../helpers/xfr-peers.js';

const ADDRESS = '127.0.0.1';
const SECRET = 'c2VjcmV0LWtleS1mb3Itdmlld3MtdGVzdC0xMjM0NTY=';

function zone(origin: string, serial: number, www: string, extra = ''): string {
  return `$ORIGIN ${origin}.
$TTL 300
@    SOA ns1 hostmaster ${serial} 7200 3600 1209600 300
@    NS  ns1
ns1  A   192.0.2.1
www  A   ${www}
${extra}`;
}

/** The config (written as JSON, which YAML reads) for the test's views. */
function viewsConfig(dir: string, port: number, internalFile = 'internal.zone'): object {
  return {
    listen: [`${ADDRESS}:${port}`, `127.0.0.2:${port}`], workers: 1, control: { enabled: false },
    keys: { 'partner-key': { algorithm: 'hmac-sha256', secret: SECRET } },
    zones: [{ name: 'shared.test', file: join(dir, 'shared.zone') }],
    views: [
      // Queries to our second address, whoever sends them (match-destinations).
      { name: 'dest', destinations: ['127.0.0.2'], zones: [{ name: 'example.com', file: join(dir, 'dest.zone') }], recursion: false },
      { name: 'internal', clients: ['127.0.0.0/24'], recursion: false,
        zones: [{ name: 'example.com', file: join(dir, internalFile), allowTransfer: ['127.0.0.0/8'] }, 'shared.test'],
        localData: ['printer.lan. 60 IN A 10.0.0.99'] },
      { name: 'partner', keys: ['partner-key'], recursion: false,
        zones: [{ name: 'example.com', file: join(dir, 'partner.zone'), allowTransfer: ['key partner-key'], allowUpdate: ['key partner-key'] }] },
      { name: 'external', clients: ['!127.1.0.9', '127.1.0.0/16'], recursion: false,
        zones: [{ name: 'example.com', file: join(dir, 'external.zone'), allowTransfer: ['127.0.0.0/8'] }, 'shared.test'] },
    ],
  };
}

async function ask(from: string, name: string, type: number = RRType.A, to = ADDRESS, port: number): Promise<Message> {
  const { message } = await exchange(Message.query(name, type), { address: to, port }, { localAddress: from, timeoutMs: 2000 });
  return message;
}

function addresses(m: Message): string[] {
  return m.answer.filter((r) => r.type === RRType.A).map((r) => (r.data as { address: string }).address).sort();
}

async function withServer(fn: (s: { server: DnsServer; port: number; dir: string; configFile: string }) => Promise<void>): Promise<void> {
  const dir = tempDir('sovereign-views-');
  writeFileSync(join(dir.path, 'internal.zone'), zone('example.com', 1, '10.0.0.10'));
  writeFileSync(join(dir.path, 'internal2.zone'), zone('example.com', 2, '10.0.0.20'));
  writeFileSync(join(dir.path, 'external.zone'), zone('example.com', 1, '203.0.113.10'));
  writeFileSync(join(dir.path, 'partner.zone'), zone('example.com', 1, '198.51.100.10'));
  writeFileSync(join(dir.path, 'dest.zone'), zone('example.com', 1, '192.0.2.77'));
  writeFileSync(join(dir.path, 'shared.zone'), zone('shared.test', 1, '192.0.2.50'));
  const configFile = join(dir.path, 'sovereign.yaml');
  // Port 0 cannot be shared by two listen entries: take a fixed one per process.
  const port = 20000 + (process.pid % 20000) + 7;
  writeFileSync(configFile, JSON.stringify(viewsConfig(dir.path, port)));
  const server = new DnsServer({ config: loadConfigFile(configFile), configPath: configFile, logger: silentLogger });
  await server.loadZones();
  await server.start();
  try {
    await fn({ server, port, dir: dir.path, configFile });
  } finally {
    await server.stop();
    dir.cleanup();
  }
}

test('views: the same name gives each view its own answer, the answer cache keeps them apart, no match is REFUSED', async () => {
  await withServer(async ({ server, port }) => {
    // Twice each, interleaved: the second answers come from the engine's answer cache.
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(addresses(await ask('127.0.0.5', 'www.example.com.', RRType.A, ADDRESS, port)), ['10.0.0.10']);
      assert.deepEqual(addresses(await ask('127.1.0.5', 'www.example.com.', RRType.A, ADDRESS, port)), ['203.0.113.10']);
    }
    // Local data belongs to its view only.
    assert.deepEqual(addresses(await ask('127.0.0.5', 'printer.lan.', RRType.A, ADDRESS, port)), ['10.0.0.99']);
    const ext = await ask('127.1.0.5', 'printer.lan.', RRType.A, ADDRESS, port);
    assert.equal(ext.rcode, Rcode.REFUSED);
    // No view: 127.2/16 matches none; 127.1.0.9 is negated out of external ("!" as in BIND's lists).
    for (const from of ['127.2.0.5', '127.1.0.9']) {
      for (let round = 0; round < 2; round++) {
        const m = await ask(from, 'www.example.com.', RRType.A, ADDRESS, port);
        assert.equal(m.rcode, Rcode.REFUSED, `${from} is refused`);
        assert.equal(m.answer.length, 0);
      }
    }
    assert.ok(server.stats.viewRefused >= 4);
    // Destinations: our second address is the dest view for every source.
    assert.deepEqual(addresses(await ask('127.0.0.5', 'www.example.com.', RRType.A, '127.0.0.2', port)), ['192.0.2.77']);
    assert.deepEqual(addresses(await ask('127.2.0.5', 'www.example.com.', RRType.A, '127.0.0.2', port)), ['192.0.2.77']);
    // A zone two views name is loaded once: the same Zone object in both.
    const shared = server.zones().filter((z) => z.origin.toString() === 'shared.test.');
    assert.equal(shared.length, 2);
    assert.equal(shared[0], shared[1]);
    assert.deepEqual(addresses(await ask('127.0.0.5', 'www.shared.test.', RRType.A, ADDRESS, port)), ['192.0.2.50']);
    assert.deepEqual(addresses(await ask('127.1.0.5', 'www.shared.test.', RRType.A, ADDRESS, port)), ['192.0.2.50']);
  });
});

test('views: a TSIG key picks its view (queries, AXFR, UPDATE); AXFR without a key follows the source', async (t) => {
  if (!havePeers(t, 'dig', 'nsupdate')) return;
  await withServer(async ({ port }) => {
    const key = ['-y', `hmac-sha256:partner-key:${SECRET}`];
    const dig = async (from: string, args: string[]): Promise<string> =>
      (await tool(PEER_BINARIES.dig, [`@${ADDRESS}`, '-p', String(port), '-b', from, ...args])).stdout;
    // Signed from an internal or an unmatched source: the partner view all the same.
    for (const from of ['127.0.0.5', '127.2.0.5']) {
      const out = await dig(from, [...key, 'www.example.com', 'A', '+noall', '+answer', '+comments']);
      assert.match(out, /www\.example\.com\.\s+300\s+IN\s+A\s+198\.51\.100\.10/, out);
      assert.match(out, /status: NOERROR/);
    }
    const axfr = async (from: string, signed: boolean): Promise<string[]> => {
      const out = await dig(from, [...(signed ? key : []), 'example.com', 'AXFR', '+nocmd', '+nostats', '+nocomments']);
      return out.split('\n').filter((l) => /\sIN\s+A\s/.test(l)).map((l) => l.replace(/\s+/g, ' ')).sort();
    };
    assert.deepEqual(await axfr('127.1.0.5', true), ['ns1.example.com. 300 IN A 192.0.2.1', 'www.example.com. 300 IN A 198.51.100.10']);
    assert.deepEqual(await axfr('127.0.0.5', false), ['ns1.example.com. 300 IN A 192.0.2.1', 'www.example.com. 300 IN A 10.0.0.10']);
    assert.deepEqual(await axfr('127.1.0.5', false), ['ns1.example.com. 300 IN A 192.0.2.1', 'www.example.com. 300 IN A 203.0.113.10']);
    // UPDATE signed with the partner key changes the partner view's zone only.
    const up = await tool(PEER_BINARIES.nsupdate, [...key], 30_000,
      `server ${ADDRESS} ${port}\nlocal 127.1.0.5\nzone example.com\nupdate add new.example.com 300 IN A 198.51.100.77\nsend\n`);
    assert.equal(up.code, 0, up.stderr);
    const signed = await dig('127.1.0.5', [...key, 'new.example.com', 'A', '+short']);
    assert.equal(signed.trim(), '198.51.100.77');
    const external = await ask('127.1.0.5', 'new.example.com.', RRType.A, ADDRESS, port);
    assert.equal(external.rcode, Rcode.NXDOMAIN);
    // Unsigned UPDATE from an external source reaches the external view's zone, which takes none.
    const refused = await tool(PEER_BINARIES.nsupdate, [], 30_000,
      `server ${ADDRESS} ${port}\nlocal 127.1.0.5\nzone example.com\nupdate add other.example.com 300 IN A 198.51.100.78\nsend\n`);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr + refused.stdout, /REFUSED/);
  });
});

test('views: reload rebuilds the views (new zone file for one view, the others unchanged)', async () => {
  await withServer(async ({ server, port, dir, configFile }) => {
    assert.deepEqual(addresses(await ask('127.0.0.5', 'www.example.com.', RRType.A, ADDRESS, port)), ['10.0.0.10']);
    writeFileSync(configFile, JSON.stringify(viewsConfig(dir, port, 'internal2.zone')));
    const reports = await server.reload();
    assert.ok(reports.every((r) => r.ok), JSON.stringify(reports));
    assert.ok(reports.some((r) => r.view === 'internal' && r.serial === 2));
    assert.deepEqual(addresses(await ask('127.0.0.5', 'www.example.com.', RRType.A, ADDRESS, port)), ['10.0.0.20']);
    assert.deepEqual(addresses(await ask('127.1.0.5', 'www.example.com.', RRType.A, ADDRESS, port)), ['203.0.113.10']);
  });
});

test('views: DNS64 per view over the forwarder; the forwarder\'s cached answers stay in their view', async () => {
  const dir = tempDir('sovereign-views-dns64-');
  const upstreamPort = 20000 + (process.pid % 20000) + 11;
  const port = upstreamPort + 1;
  writeFileSync(join(dir.path, 'net.zone'), zone('example.net', 1, '192.0.2.80'));
  const upstream = new DnsServer({
    config: loadConfigFileFrom(dir.path, 'up.yaml', { listen: [`127.0.0.1:${upstreamPort}`], workers: 1, control: { enabled: false },
      zones: [{ name: 'example.net', file: join(dir.path, 'net.zone') }] }),
    logger: silentLogger,
  });
  const server = new DnsServer({
    config: loadConfigFileFrom(dir.path, 'views.yaml', {
      listen: [`127.0.0.1:${port}`], workers: 1, control: { enabled: false }, forwarders: [`127.0.0.1:${upstreamPort}`],
      dns64: { prefix: '2001:db8:64::/96' },
      views: [
        { name: 'v6only', clients: ['127.0.0.0/24'] },
        { name: 'dual', clients: ['127.1.0.0/16'], dns64: false },
        { name: 'nat64', clients: ['127.2.0.0/16'], dns64: { prefix: '64:ff9b::/96' } },
      ],
    }),
    logger: silentLogger,
  });
  await upstream.loadZones();
  await upstream.start();
  await server.loadZones();
  await server.start();
  try {
    const aaaa = async (from: string): Promise<string[]> =>
      (await ask(from, 'www.example.net.', RRType.AAAA, ADDRESS, port)).answer.map((r) => String((r.data as { address: string }).address));
    // Three rounds: the later ones are answered from the forwarder's cache (and the engine's bytes where allowed).
    for (let round = 0; round < 3; round++) {
      assert.deepEqual(await aaaa('127.0.0.5'), ['2001:db8:64::c000:250'], `round ${round}: top-level dns64`);
      assert.deepEqual(await aaaa('127.1.0.5'), [], `round ${round}: dns64: false`);
      assert.deepEqual(await aaaa('127.2.0.5'), ['64:ff9b::c000:250'], `round ${round}: the view's own prefix`);
      assert.deepEqual(addresses(await ask('127.1.0.5', 'www.example.net.', RRType.A, ADDRESS, port)), ['192.0.2.80']);
    }
    assert.equal(server.dns64Stats.synthesised, 6);
  } finally {
    await server.stop();
    await upstream.stop();
    dir.cleanup();
  }
});

/** Writes `config` to DIR/NAME (JSON is YAML) and loads it as the CLI would. */
function loadConfigFileFrom(dir: string, name: string, config: object): ReturnType<typeof loadConfigFile> {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config));
  return loadConfigFile(file);
}
