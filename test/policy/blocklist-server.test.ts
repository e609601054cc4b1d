/**
 * Blocklists in a running server: lists from a file and from a local HTTP server, the block
 * answers, the allowlist, refresh keeping the last good copy when a fetch fails or a list is bad,
 * and counters per list and client (stats and /metrics).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { defaultConfig } from '../../src/config/load.js';
import { renderMetrics } from '../../src/control/metrics.js';
import { serverSnapshot } from '../../src/control/backend.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { EdeCode, Rcode } from '../../src/wire/constants.js';
import { decodeOption, newEdns } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { recordToString } from '../../src/wire/record.js';
import { typeFromString } from '../../src/wire/types.js';
import { addLoopbackAddress, pickPort, tempDir } from '../helpers/peers.js';

const UPSTREAM = `$ORIGIN ex.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
ads A 192.0.2.1
sub.ads A 192.0.2.2
tracker A 192.0.2.3
good A 192.0.2.4
x.good A 192.0.2.5
web A 192.0.2.6
later A 192.0.2.7
`;

let dir: ReturnType<typeof tempDir>;
let upstream: DnsServer;
let http: Server;
let httpPort = 0;
/** What the HTTP list server answers: a body, or a status to fail with. */
let served: { status: number; body: string } = { status: 200, body: '||tracker.ex^\n' };

async function start(blocklists: object): Promise<{ server: DnsServer; port: number }> {
  const port = pickPort();
  const server = new DnsServer({
    config: defaultConfig({ listen: [`127.0.0.1:${port}`], workers: 1, control: { enabled: false }, forwarders: [`127.0.0.1:${upstream.addresses[0]!.port}`], blocklists }),
    logger: silentLogger,
  });
  await server.loadZones();
  await server.start();
  return { server, port };
}

async function ask(port: number, name: string, type = 'A', from?: string): Promise<Message> {
  const q = Message.query(name, typeFromString(type)!, { rd: true, edns: newEdns({ udpSize: 1232 }) });
  return (await exchange(q, { address: '127.0.0.1', port }, { timeoutMs: 3000, ...(from ? { localAddress: from } : {}) })).message;
}

const answers = (m: Message): string[] => m.answer.map((r) => recordToString(r).replace(/\s+/g, ' '));

before(async () => {
  dir = tempDir('sovereign-blocklist-');
  addLoopbackAddress('127.0.0.7');
  writeFileSync(`${dir.path}/ex.zone`, UPSTREAM);
  writeFileSync(`${dir.path}/hosts.txt`, '# ads\n0.0.0.0 ads.ex\n0.0.0.0 good.ex x.good.ex\nnot a valid line at all\n');
  writeFileSync(`${dir.path}/allow.txt`, 'x.good.ex\n');
  const up = pickPort();
  upstream = new DnsServer({ config: defaultConfig({ listen: [`127.0.0.1:${up}`], workers: 1, control: { enabled: false }, zones: [{ name: 'ex.', file: `${dir.path}/ex.zone` }] }), logger: silentLogger });
  await upstream.loadZones();
  await upstream.start();
  http = createServer((_req, res) => {
    res.statusCode = served.status;
    res.end(served.body);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpPort = (http.address() as { port: number }).port;
});

after(async () => {
  await upstream?.stop();
  await new Promise((r) => http?.close(r));
  dir?.cleanup();
});

test('null-ip (default): 0.0.0.0 / :: for listed names, EDE 15; exact for hosts entries, subtree for ||name^; allowlist wins', async () => {
  served = { status: 200, body: '||tracker.ex^\n' };
  const { server, port } = await start({
    lists: [{ name: 'hosts', file: `${dir.path}/hosts.txt` }, { name: 'remote', url: `http://127.0.0.1:${httpPort}/list.txt` }],
    allow: [`${dir.path}/allow.txt`],
  });
  try {
    const a = await ask(port, 'ads.ex.');
    assert.deepEqual(answers(a), ['ads.ex.\t2\tIN\tA\t0.0.0.0'.replace(/\s+/g, ' ')]);
    const ede = a.edns!.options.map((o) => decodeOption(o)).find((o) => 'infoCode' in o) as { infoCode: number } | undefined;
    assert.equal(ede?.infoCode, EdeCode.BLOCKED);
    assert.deepEqual(answers(await ask(port, 'ads.ex.', 'AAAA')), ['ads.ex. 2 IN AAAA ::']);
    const mx = await ask(port, 'ads.ex.', 'MX');
    assert.equal(mx.rcode, Rcode.NOERROR);
    assert.deepEqual(mx.answer, []);
    assert.deepEqual(answers(await ask(port, 'sub.ads.ex.')), ['sub.ads.ex. 300 IN A 192.0.2.2'], 'hosts entries are exact');
    assert.deepEqual(answers(await ask(port, 'sub.tracker.ex.')), ['sub.tracker.ex. 2 IN A 0.0.0.0'], '||name^ blocks subdomains');
    assert.deepEqual(answers(await ask(port, 'x.good.ex.')), ['x.good.ex. 300 IN A 192.0.2.5'], 'allowlisted');
    assert.deepEqual(answers(await ask(port, 'good.ex.')), ['good.ex. 2 IN A 0.0.0.0']);
    assert.deepEqual(answers(await ask(port, 'web.ex.')), ['web.ex. 300 IN A 192.0.2.6']);
    // Counted per list and client, on every query (blocks never come from the answer cache).
    await ask(port, 'ads.ex.', 'A', '127.0.0.7');
    await ask(port, 'ads.ex.', 'A', '127.0.0.7');
    const snap = server.policyStats.snapshot();
    assert.equal(snap.blocklists.lists.hosts!.blocked, 6);
    assert.equal(snap.blocklists.lists.remote!.blocked, 1);
    assert.equal(snap.blocklists.lists.hosts!.names, 3);
    assert.equal(snap.blocklists.lists.hosts!.skipped, 1);
    assert.equal(snap.blocklists.clients['127.0.0.7'], 2);
    assert.equal(snap.blocklists.allowed, 1);
    const text = (await renderMetrics(serverSnapshot(server, Date.now()))).body;
    assert.match(text, /sovereign_blocklist_blocked_total\{list="hosts"\} 6/);
    assert.match(text, /sovereign_blocklist_client_blocks_total\{client="127.0.0.7"\} 2/);
  } finally {
    await server.stop();
  }
});

test('actions: nxdomain, nodata, refused', async () => {
  for (const [action, rcode] of [['nxdomain', Rcode.NXDOMAIN], ['nodata', Rcode.NOERROR], ['refused', Rcode.REFUSED]] as const) {
    const { server, port } = await start({ lists: [{ name: 'hosts', file: `${dir.path}/hosts.txt` }], action });
    try {
      const r = await ask(port, 'ads.ex.');
      assert.equal(r.rcode, rcode, action);
      assert.deepEqual(r.answer, [], action);
    } finally {
      await server.stop();
    }
  }
});

test('refresh: a new copy applies at once; a failed fetch or a bad list keeps the last good copy', async () => {
  served = { status: 200, body: '||tracker.ex^\n' };
  const { server, port } = await start({ lists: [{ name: 'remote', url: `http://127.0.0.1:${httpPort}/list.txt`, refresh: '1h' }] });
  try {
    assert.deepEqual(answers(await ask(port, 'tracker.ex.')), ['tracker.ex. 2 IN A 0.0.0.0']);
    assert.deepEqual(answers(await ask(port, 'later.ex.')), ['later.ex. 300 IN A 192.0.2.7']);
    served = { status: 200, body: '||tracker.ex^\n||later.ex^\n' };
    await server.blocklists!.refresh();
    assert.deepEqual(answers(await ask(port, 'later.ex.')), ['later.ex. 2 IN A 0.0.0.0'], 'the cached answer went with the new list');
    served = { status: 500, body: 'oops' };
    await server.blocklists!.refresh();
    assert.deepEqual(answers(await ask(port, 'later.ex.')), ['later.ex. 2 IN A 0.0.0.0']);
    served = { status: 200, body: '<html><body>not a list</body></html>\n' };
    await server.blocklists!.refresh();
    assert.deepEqual(answers(await ask(port, 'later.ex.')), ['later.ex. 2 IN A 0.0.0.0']);
    const c = server.policyStats.snapshot().blocklists.lists.remote!;
    assert.equal(c.loads, 2);
    assert.equal(c.failures, 2);
    assert.equal(c.names, 2);
    assert.match(c.error ?? '', /no usable line/);
  } finally {
    await server.stop();
  }
});

test('RD=0 and clients without recursion are not filtered (policy applies to recursive service)', async () => {
  const { server, port } = await start({ lists: [{ name: 'hosts', file: `${dir.path}/hosts.txt` }] });
  try {
    const q = Message.query('ads.ex.', 1, { rd: false });
    const r = (await exchange(q, { address: '127.0.0.1', port }, { timeoutMs: 3000 })).message;
    assert.notDeepEqual(answers(r), ['ads.ex. 2 IN A 0.0.0.0']);
  } finally {
    await server.stop();
  }
});
