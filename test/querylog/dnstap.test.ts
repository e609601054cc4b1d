/**
 * dnstap: our Frame Streams reach Debian's fstrm_capture over its Unix socket (the bidirectional
 * handshake) and a file we write ourselves; dnstap-ldns decodes both and shows the exact
 * messages. Unbound's dnstap of the same query is the reference for which fields a
 * CLIENT_QUERY and CLIENT_RESPONSE carry.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Control, DNSTAP_CONTENT_TYPE, controlFrame, parseFrame } from '../../src/querylog/framestream.js';
import {
  PEER_BINARIES, addLoopbackAddress, havePeers, pickPort, runTool, runToolAsync, startPeer, tempDir, unboundServerConf,
} from '../helpers/peers.js';

const ADDR = '127.61.0.2';
const CLIENT = '127.61.0.10';
const UNBOUND = '127.61.0.3';

const ZONE = `$ORIGIN example.
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.1
`;

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`never happened: ${what}`);
}

/** fstrm_capture listening on `socket`, writing `file`; stop() ends it with SIGINT (it closes the file then). */
async function capture(socket: string, file: string): Promise<{ stop(): Promise<void> }> {
  const child: ChildProcess = spawn(PEER_BINARIES.fstrm_capture, ['-t', DNSTAP_CONTENT_TYPE, '-u', socket, '-w', file], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await until(() => existsSync(socket), 'fstrm_capture listening');
  return {
    async stop() {
      child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** The `message:` keys of each dnstap-ldns -y document, by message type. */
function fieldsByType(yaml: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const doc of yaml.split(/^---$/m)) {
    const type = /^ {2}type: (\S+)/m.exec(doc)?.[1];
    if (type === undefined || !/www\.example\./.test(doc)) continue;
    const keys = [...doc.matchAll(/^ {2}([a-z_]+):/gm)].map((m) => m[1]!).filter((k) => k !== 'type');
    out.set(type, keys.sort());
  }
  return out;
}

async function serve(dir: string, dnstap: Record<string, unknown>): Promise<{ server: DnsServer; port: number }> {
  writeFileSync(join(dir, 'example.zone'), ZONE);
  const server = new DnsServer({
    config: defaultConfig({
      listen: [`${ADDR}:0`], workers: 1, zones: [{ name: 'example', file: join(dir, 'example.zone') }],
      queryLog: { enabled: true, ring: 0, dnstap: { identity: 'sov-test', version: 'sovereign 0', ...dnstap } },
    }),
    logger: silentLogger,
  });
  await server.loadZones();
  await server.start();
  return { server, port: server.addresses.find((a) => a.transport === 'udp')!.port };
}

describe('dnstap', () => {
  const dir = tempDir('sovereign-dnstap-');
  after(() => dir.cleanup());

  test('Frame Streams framing: control frames as fstrm writes them, parsed back', () => {
    const ready = controlFrame(Control.READY, DNSTAP_CONTENT_TYPE);
    // Escape, length 4 + 8 + 22, READY, CONTENT_TYPE field of 22 octets.
    assert.equal(ready.subarray(0, 20).toString('hex'), '00000000' + '00000022' + '00000004' + '00000001' + '00000016');
    const p = parseFrame(Buffer.concat([ready, Buffer.from([0, 0, 0, 2, 9, 9])]));
    assert.deepEqual(p, { kind: 'control', frame: { type: Control.READY, contentTypes: [DNSTAP_CONTENT_TYPE] }, length: 42 });
    assert.equal(parseFrame(ready.subarray(0, 30)), undefined, 'incomplete: wait for more');
    const data = parseFrame(Buffer.from([0, 0, 0, 2, 9, 9]));
    assert.equal(data?.kind, 'data');
    assert.throws(() => parseFrame(Buffer.from([0, 0, 0, 0, 0, 0, 0x10, 0])), /control frame of 4096 octets/);
  });

  test('to fstrm_capture over a Unix socket; dnstap-ldns shows our queries and responses', async (t) => {
    if (!havePeers(t, 'fstrm_capture', 'dnstap-ldns', 'dig')) return;
    const sock = join(dir.path, 'tap.sock');
    const file = join(dir.path, 'captured.fstrm');
    const cap = await capture(sock, file);
    const { server, port } = await serve(dir.path, { socket: sock });
    try {
      await until(() => server.queryLog?.dnstap?.connected === true, 'the collector ACCEPTed');
      const dig = (...a: string[]) => runToolAsync('dig', [`@${ADDR}`, '-p', String(port), '-b', CLIENT, '+nocookie', ...a]);
      assert.match((await dig('www.example', 'A', '+short')).stdout, /192\.0\.2\.1/);
      await dig('nx.example', 'AAAA', '+norec', '+tcp');
      await until(() => (server.queryLog?.dnstap?.sent ?? 0) >= 4, 'four frames sent');
      assert.equal(server.queryLog!.dnstap!.dropped, 0);
    } finally {
      await server.stop();
      await cap.stop();
    }
    const text = runTool('dnstap-ldns', ['-r', file]);
    assert.equal(text.status, 0, text.stderr);
    const lines = text.stdout.trim().split('\n').map((l) => l.replace(/^\S+ \S+ /, '').replace(/ \d+b /, ' Nb '));
    // A query with RD is a client's (CQ/CR), one without is an authoritative one (AQ/AR), as BIND sorts them.
    assert.deepEqual(lines, [
      `CQ ${CLIENT} UDP Nb "www.example." IN A`,
      `CR ${CLIENT} UDP Nb "www.example." IN A`,
      `AQ ${CLIENT} TCP Nb "nx.example." IN AAAA`,
      `AR ${CLIENT} TCP Nb "nx.example." IN AAAA`,
    ]);
    const yaml = runTool('dnstap-ldns', ['-y', '-r', file]).stdout;
    assert.match(yaml, /identity: "sov-test"\nversion: "sovereign 0"/);
    assert.match(yaml, new RegExp(`response_address: "${ADDR.replace(/\./g, '\\.')}"`));
    assert.match(yaml, /rcode: NXDOMAIN/);
    assert.match(yaml, /www\.example\.\t300\tIN\tA\t192\.0\.2\.1/);
  });

  test('to a file (unidirectional Frame Streams) that dnstap-ldns reads', async (t) => {
    if (!havePeers(t, 'dnstap-ldns', 'dig')) return;
    const file = join(dir.path, 'direct.dnstap');
    const { server, port } = await serve(dir.path, { file, messages: ['client-response'] });
    try {
      await runToolAsync('dig', [`@${ADDR}`, '-p', String(port), '-b', CLIENT, 'www.example', 'MX']);
      await runToolAsync('dig', [`@${ADDR}`, '-p', String(port), '-b', CLIENT, 'www.example', 'A', '+norec']);
    } finally {
      await server.stop();
    }
    const r = runTool('dnstap-ldns', ['-r', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.replace(/^\S+ \S+ /, '').replace(/ \d+b /, ' Nb ')),
      [`CR ${CLIENT} UDP Nb "www.example." IN MX`], 'messages: [client-response] only');
  });

  test('the fields of CLIENT_QUERY and CLIENT_RESPONSE include every field Unbound writes', async (t) => {
    if (!havePeers(t, 'unbound', 'fstrm_capture', 'dnstap-ldns', 'dig')) return;
    addLoopbackAddress(UNBOUND);
    const udir = join(dir.path, 'unbound');
    runTool('mkdir', ['-p', udir]);
    const sock = join(udir, 'tap.sock');
    const file = join(udir, 'unbound.fstrm');
    const cap = await capture(sock, file);
    const uport = pickPort();
    const conf = join(udir, 'unbound.conf');
    writeFileSync(conf, `${unboundServerConf(udir, UNBOUND, uport)}
  module-config: "iterator"
  local-zone: "example." static
  local-data: "example. 300 IN SOA ns1.example. hostmaster.example. 1 7200 3600 1209600 300"
  local-data: "www.example. 300 IN A 192.0.2.1"
dnstap:
  dnstap-enable: yes
  dnstap-socket-path: "${sock}"
  dnstap-send-identity: yes
  dnstap-send-version: yes
  dnstap-log-client-query-messages: yes
  dnstap-log-client-response-messages: yes
`);
    const unbound = await startPeer('unbound', ['-d', '-c', conf], { address: UNBOUND, port: uport, zone: 'example' });
    try {
      // Unbound's dnstap thread connects and sends on its own time, and drops what is queued at
      // exit: ask a few times and give it a moment before stopping (the assertions wait for nothing).
      for (let i = 0; i < 3; i++) {
        await runToolAsync('dig', [`@${UNBOUND}`, '-p', String(uport), '-b', CLIENT, 'www.example', 'A']);
        await new Promise((r) => setTimeout(r, 300));
      }
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      await unbound.stop();
      await cap.stop();
    }
    const theirs = fieldsByType(runTool('dnstap-ldns', ['-y', '-r', file]).stdout);
    const ourFile = join(dir.path, 'compare.dnstap');
    const { server, port } = await serve(dir.path, { file: ourFile });
    try {
      await runToolAsync('dig', [`@${ADDR}`, '-p', String(port), '-b', CLIENT, 'www.example', 'A']);
    } finally {
      await server.stop();
    }
    const ours = fieldsByType(runTool('dnstap-ldns', ['-y', '-r', ourFile]).stdout);
    assert.deepEqual([...theirs.keys()].sort(), ['CLIENT_QUERY', 'CLIENT_RESPONSE']);
    assert.deepEqual([...ours.keys()].sort(), ['CLIENT_QUERY', 'CLIENT_RESPONSE']);
    for (const [type, keys] of theirs) {
      const missing = keys.filter((k) => !ours.get(type)!.includes(k));
      assert.deepEqual(missing, [], `${type}: Unbound writes ${keys.join(', ')}; we write ${ours.get(type)!.join(', ')}`);
    }
  });
});

describe('dnstap of upstream queries (RESOLVER_*, FORWARDER_*, as Unbound logs them)', () => {
  const dir = tempDir('sovereign-dnstap-up-');
  after(() => dir.cleanup());
  const AUTH = '127.61.0.4';
  const REC = '127.61.0.5';

  /** Our authoritative server for example. (no query log), the upstream of the others. */
  async function authority(): Promise<{ server: DnsServer; port: number }> {
    writeFileSync(join(dir.path, 'up.zone'), ZONE);
    const server = new DnsServer({
      config: defaultConfig({ listen: [`${AUTH}:0`], workers: 1, zones: [{ name: 'example', file: join(dir.path, 'up.zone') }] }),
      logger: silentLogger,
    });
    await server.loadZones();
    await server.start();
    return { server, port: server.addresses.find((a) => a.transport === 'udp')!.port };
  }

  for (const kind of ['forwarder', 'resolver'] as const) {
    test(`the ${kind}'s queries upstream and their replies, read back by dnstap-ldns`, async (t) => {
      if (!havePeers(t, 'dnstap-ldns', 'dig')) return;
      addLoopbackAddress(AUTH);
      addLoopbackAddress(REC);
      const up = await authority();
      const file = join(dir.path, `${kind}.dnstap`);
      const upstream = `${AUTH}:${up.port}`;
      // The forwarder asks with RD (FORWARDER_*); stub zones are iterated without it (RESOLVER_*), as Unbound sorts them.
      const server = new DnsServer({
        config: defaultConfig({
          listen: [`${REC}:0`], workers: 1,
          ...(kind === 'forwarder' ? { forwarders: [upstream] } : { stubZones: { example: [upstream] }, resolver: { dnssec: false } }),
          queryLog: { enabled: true, ring: 0, dnstap: { file } },
        }),
        logger: silentLogger,
      });
      await server.loadZones();
      await server.start();
      const port = server.addresses.find((a) => a.transport === 'udp')!.port;
      try {
        const r = await runToolAsync('dig', [`@${REC}`, '-p', String(port), '-b', CLIENT, '+nocookie', 'www.example', 'A', '+short']);
        assert.match(r.stdout, /192\.0\.2\.1/);
        await until(() => (server.queryLog?.dnstap?.sent ?? 0) >= 4, 'four frames sent');
      } finally {
        await server.stop();
        await up.server.stop();
      }
      const text = runTool('dnstap-ldns', ['-r', file]);
      assert.equal(text.status, 0, text.stderr);
      const lines = text.stdout.trim().split('\n').map((l) => l.replace(/^\S+ \S+ /, '').replace(/ \d+b /, ' Nb '))
        .filter((l) => /www\.example\./.test(l));
      const [q, rr] = kind === 'forwarder' ? ['FQ', 'FR'] : ['RQ', 'RR'];
      // The upstream exchange is written as it ends; the client's query and response go together
      // once the answer is sent (their times say when each happened).
      assert.deepEqual(lines, [
        `${q} ${AUTH} UDP Nb "www.example." IN A`,
        `${rr} ${AUTH} UDP Nb "www.example." IN A`,
        `CQ ${CLIENT} UDP Nb "www.example." IN A`,
        `CR ${CLIENT} UDP Nb "www.example." IN A`,
      ]);
      const yaml = runTool('dnstap-ldns', ['-y', '-r', file]).stdout;
      const docs = yaml.split(/^---$/m).filter((d) => new RegExp(`type: ${kind === 'forwarder' ? 'FORWARDER' : 'RESOLVER'}_RESPONSE`).test(d));
      assert.equal(docs.length, 1, yaml);
      // The server answered (response_address/port), we asked (query_address/port), as Unbound writes them.
      assert.match(docs[0]!, new RegExp(`response_address: "${AUTH.replace(/\./g, '\\.')}"`));
      assert.match(docs[0]!, new RegExp(`response_port: ${up.port}\\b`));
      assert.match(docs[0]!, /query_port: \d+/);
      assert.match(docs[0]!, /www\.example\.\t300\tIN\tA\t192\.0\.2\.1/);
    });
  }
});
