/**
 * The query log end to end: a server with `queryLog` on, queried by BIND's dig over UDP and TCP,
 * read back through `GET /v1/querylog`, from the JSON lines file (and its rotation by size), and
 * with `sovereign querylog`.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../src/config/load.js';
import { LocalBackend } from '../../src/control/backend.js';
import { controlJson } from '../../src/control/client.js';
import { ControlServer } from '../../src/control/server.js';
import { ensureToken } from '../../src/control/token.js';
import { silentLogger } from '../../src/logging.js';
import type { QueryLogResult } from '../../src/querylog/entry.js';
import { DnsServer } from '../../src/server/server.js';
import { havePeers, runToolAsync, tempDir } from '../helpers/peers.js';

const ADDR = '127.61.0.1';
/** dig's source address (-b), so entries name a client of this test. */
const CLIENT = '127.61.0.9';
const BIN = join(fileURLToPath(import.meta.url), '..', '..', '..', '..', 'bin', 'sovereign.js');

const ZONE = `$ORIGIN example.
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.1
www A 192.0.2.2
alias CNAME www
`;

/** Waits (without a clock assertion) until `check` holds; fails with `what` after a generous deadline. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`never happened: ${what}`);
}

describe('query log', () => {
  const dir = tempDir('sovereign-querylog-');
  const logFile = join(dir.path, 'log', 'query.log');
  let server: DnsServer;
  let control: ControlServer;
  let target: { address: string; port: number; token: string };
  let dnsPort = 0;

  before(async () => {
    writeFileSync(join(dir.path, 'example.zone'), ZONE);
    server = new DnsServer({
      config: defaultConfig({
        listen: [`${ADDR}:0`], workers: 1, zones: [{ name: 'example', file: join(dir.path, 'example.zone') }],
        queryLog: { enabled: true, file: logFile, ring: 1000, maxFileBytes: 2000, maxFiles: 2 },
      }),
      logger: silentLogger,
    });
    await server.loadZones();
    await server.start();
    dnsPort = server.addresses.find((a) => a.transport === 'udp')!.port;
    const token = ensureToken(join(dir.path, 'token')).token;
    control = new ControlServer({ backend: new LocalBackend(server), logger: silentLogger, address: ADDR, port: 0, token });
    await control.listen();
    target = { address: ADDR, port: control.port, token };
  });

  after(async () => {
    await control.close();
    await server.stop();
    dir.cleanup();
  });

  const dig = (...args: string[]) => runToolAsync('dig', [`@${ADDR}`, '-p', String(dnsPort), '-b', CLIENT, '+nocookie', ...args]);
  const search = async (q = ''): Promise<QueryLogResult> => (await controlJson<QueryLogResult>(target, 'GET', `/v1/querylog${q}`)).data;

  test('dig\'s queries come back from GET /v1/querylog, newest first, in the agreed shape', async (t) => {
    if (!havePeers(t, 'dig')) return;
    assert.match((await dig('www.example', 'A', '+short')).stdout, /192\.0\.2\.1/);
    await dig('www.example', 'A', '+short'); // the answer cache this time
    await dig('nx.example', 'AAAA', '+dnssec', '+norec');
    await dig('alias.example', 'A', '+tcp');
    const r = await search();
    assert.equal(r.total, 4);
    const [alias, nx, cached, first] = r.entries;
    assert.deepEqual(Object.keys(first!), ['time', 'client', 'port', 'transport', 'name', 'type', 'flags', 'rcode', 'answer', 'handler',
      'policy', 'latencyUs', 'cacheHit', 'cache']);
    const pick = (e: typeof first) => ({ client: e!.client, transport: e!.transport, name: e!.name, type: e!.type, flags: e!.flags,
      rcode: e!.rcode, answer: e!.answer, handler: e!.handler, policy: e!.policy, cacheHit: e!.cacheHit, cache: e!.cache });
    // dig sets AD in queries (RFC 6840 §5.7) unless +noadflag.
    assert.deepEqual(pick(first), { client: CLIENT, transport: 'udp', name: 'www.example.', type: 'A', flags: 'rd ad', rcode: 'NOERROR',
      answer: '192.0.2.1 (+1)', handler: 'authority', policy: null, cacheHit: false, cache: null });
    // Round robin (rotate: true): the cached copy may be the other rotation.
    assert.deepEqual({ ...pick(cached), answer: '' }, { ...pick(first), answer: '', cacheHit: true, cache: 'answer' });
    assert.match(cached!.answer, /^192\.0\.2\.[12] \(\+1\)$/);
    assert.deepEqual(pick(nx), { client: CLIENT, transport: 'udp', name: 'nx.example.', type: 'AAAA', flags: 'ad do', rcode: 'NXDOMAIN',
      answer: '', handler: 'authority', policy: null, cacheHit: false, cache: null });
    assert.deepEqual(pick(alias), { client: CLIENT, transport: 'tcp', name: 'alias.example.', type: 'A', flags: 'rd ad', rcode: 'NOERROR',
      answer: 'CNAME www.example. (+2)', handler: 'authority', policy: null, cacheHit: false, cache: null });
    for (const e of r.entries) {
      assert.ok(e.port > 0 && e.latencyUs >= 0);
      assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    assert.ok(first!.time <= cached!.time && nx!.time <= alias!.time);
    assert.deepEqual((await search('?rcode=NXDOMAIN')).entries.map((e) => e.name), ['nx.example.']);
    assert.deepEqual((await search('?name=www.example&type=A')).entries.map((e) => e.cacheHit), [true, false]);
    assert.deepEqual((await search(`?client=${CLIENT}&limit=1`)).entries.map((e) => e.name), ['alias.example.']);
    assert.equal((await search('?client=192.0.2.99')).total, 0);
    assert.equal((await search(`?since=${encodeURIComponent(alias!.time)}`)).entries[0]!.name, 'alias.example.');
    const bad = await controlJson<{ error: string }>(target, 'GET', '/v1/querylog?type=NOPE').catch((err: Error) => err);
    assert.match(String((bad as Error).message), /400: unknown type "NOPE"/);
  });

  test('JSON lines go to the file, which rotates by size and keeps maxFiles', async (t) => {
    if (!havePeers(t, 'dig')) return;
    await until(() => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('alias.example.'), 'the first lines in the file');
    const line = JSON.parse(readFileSync(logFile, 'utf8').split('\n')[0]!) as Record<string, unknown>;
    assert.equal(line.name, 'www.example.');
    assert.equal(line.rcode, 'NOERROR');
    // Each line is ~270 octets: 2000 octets rotate after about 8; ask 30 names, one dig each.
    for (let i = 0; i < 30; i++) await dig(`host${i}.example`, 'A', '+short');
    await until(() => existsSync(`${logFile}.2`) && readFileSync(logFile, 'utf8').includes('host29.example.'), 'rotation');
    assert.ok(!existsSync(`${logFile}.3`), 'maxFiles: 2 keeps .1 and .2 only');
    const all = [`${logFile}.2`, `${logFile}.1`, logFile].map((f) => readFileSync(f, 'utf8')).join('');
    const names = all.trim().split('\n').map((l) => (JSON.parse(l) as { name: string }).name);
    assert.equal(names.at(-1), 'host29.example.');
    // Files are whole lines, in order, without gaps between what the three hold.
    const hosts = names.filter((n) => n.startsWith('host')).map((n) => Number(/host(\d+)/.exec(n)![1]));
    assert.deepEqual(hosts, Array.from({ length: hosts.length }, (_, i) => 30 - hosts.length + i));
    for (const f of [logFile, `${logFile}.1`]) assert.ok(readFileSync(f).length < 2000 + 600, `${f} was rotated near 2000 octets`);
  });

  test('sovereign querylog prints BIND-style lines and filters', async (t) => {
    if (!havePeers(t, 'dig')) return;
    // Asynchronously: the control endpoint answering it runs in this process.
    const r = await runToolAsync(process.execPath, [BIN, 'querylog', '--control', `${ADDR}:${target.port}`, '--token-file', join(dir.path, 'token'),
      '--rcode', 'NXDOMAIN', '--name', 'nx.example'], { timeoutMs: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, new RegExp(`^\\d\\d-[A-Z][a-z]{2}-\\d{4} \\d\\d:\\d\\d:\\d\\d\\.\\d{3} client ${CLIENT.replace(/\./g, '\\.')}#\\d+ ` +
      '\\(nx\\.example\\.\\): query: nx\\.example\\. IN AAAA -ED \\(udp\\) -> NXDOMAIN \\[authority\\] \\d+us$'));
  });

  test('a reload switching the log off answers 409 and records nothing more', async () => {
    const before = server.queryLog!.ring.seq;
    assert.ok(before > 0);
    (server as unknown as { config: { queryLog: { enabled: boolean } } }).config.queryLog.enabled = false;
    (server as unknown as { applyQueryLog(): void }).applyQueryLog();
    assert.equal(server.queryLog, undefined);
    const r = await controlJson<{ error: { code: string; message: string } }>(target, 'GET', '/v1/querylog');
    assert.equal(r.status, 409);
    assert.equal(r.data.error.code, 'ERR_CONFLICT');
    assert.match(r.data.error.message, /queryLog\.enabled/);
  });
});
