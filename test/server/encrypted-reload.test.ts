/**
 * DoT/DoH certificates: swapped by reload without dropping open connections, a bad certificate
 * or key refused with the key and file named (at start and at reload, the old one serving on),
 * TLS session resumption, and Unbound forwarding to us over TLS (`forward-tls-upstream: yes`).
 *
 * Addresses: 127.31.10.1 (server), 127.31.10.2 (Unbound).
 */
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { loadConfigFile } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { type RunningPeer, havePeers, pickPort, runToolAsync, selfSignedCert, startUnbound, tempDir } from '../helpers/peers.js';

const ADDRESS = '127.31.10.1';
const UNBOUND = '127.31.10.2';
const ZONE = `$ORIGIN example.org.
$TTL 300
@    SOA ns1 host 1 7200 3600 1209600 60
@    NS  ns1
ns1  A   192.0.2.1
www  A   192.0.2.80
`;

function open(port: number, session?: Buffer): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: ADDRESS, port, rejectUnauthorized: false, ...(session !== undefined ? { session } : {}) });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

function ask(s: TLSSocket, id: number): Promise<Message> {
  const q = Message.query('www.example.org.', RRType.A, { id }).encode();
  const framed = Buffer.alloc(q.length + 2);
  framed.writeUInt16BE(q.length, 0);
  framed.set(q, 2);
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.off('data', onData);
        resolve(Message.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    };
    s.on('data', onData);
    s.once('error', reject);
    s.write(framed);
  });
}

describe('DoT certificates and resumption', { timeout: 120_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let server: DnsServer;
  let file = '';
  const port = { dns: 0, tls: 0 };

  before(async () => {
    dir = tempDir('sovereign-tls-reload-');
    const a = selfSignedCert(dir.path, 'a.dns.test', ADDRESS);
    copyFileSync(a.cert, join(dir.path, 'a.cert'));
    copyFileSync(a.key, join(dir.path, 'a.key'));
    writeFileSync(join(dir.path, 'db.example'), ZONE);
    port.dns = pickPort();
    port.tls = pickPort();
    file = join(dir.path, 'sovereign.yaml');
    writeFileSync(file, `listen: ["${ADDRESS}:${port.dns}", "tls://${ADDRESS}:${port.tls}"]
workers: 1
zones: [{ name: example.org, file: db.example }]
tls: { cert: cert.pem, key: key.pem }
control: { enabled: false }
`);
    server = new DnsServer({ config: loadConfigFile(file), configPath: file, logger: silentLogger });
    await server.loadZones();
    await server.start();
  });

  after(async () => {
    await server?.stop();
    dir?.cleanup();
  });

  test('reload swaps the certificate for new handshakes; an open connection keeps answering', async () => {
    const before = await open(port.tls);
    try {
      assert.equal(before.getPeerCertificate().subject.CN, 'a.dns.test');
      selfSignedCert(dir.path, 'b.dns.test', ADDRESS); // overwrites cert.pem and key.pem
      await server.reload();
      const fresh = await open(port.tls);
      assert.equal(fresh.getPeerCertificate().subject.CN, 'b.dns.test');
      fresh.destroy();
      const r = await ask(before, 7);
      assert.equal(r.id, 7);
      assert.deepEqual(r.answer[0]!.data, { address: '192.0.2.80' });
    } finally {
      before.destroy();
    }
  });

  test('a key that does not match is refused at reload (tls.key named); the old certificate keeps serving', async () => {
    copyFileSync(join(dir.path, 'a.key'), join(dir.path, 'key.pem')); // cert.pem is b's
    await assert.rejects(server.reload(), (err: unknown) => err instanceof ConfigError && /tls\.key/.test(err.message) && /not the private key/.test(err.message));
    const s = await open(port.tls);
    assert.equal(s.getPeerCertificate().subject.CN, 'b.dns.test');
    assert.equal((await ask(s, 8)).answer.length, 1);
    s.destroy();
    // And at start: the same check, and an unreadable file named.
    assert.throws(() => loadConfigFile(file), /tls\.key: .*key\.pem is not the private key of the certificate/);
    writeFileSync(file.replace('sovereign.yaml', 'missing.yaml'), `listen: ["tls://${ADDRESS}:${port.tls}"]\ntls: { cert: nope.pem, key: key.pem }\n`);
    assert.throws(() => loadConfigFile(file.replace('sovereign.yaml', 'missing.yaml')), /tls\.cert: cannot read .*nope\.pem: ENOENT/);
    writeFileSync(file.replace('sovereign.yaml', 'nocert.yaml'), `listen: ["https://${ADDRESS}:${port.tls}"]\n`);
    assert.throws(() => loadConfigFile(file.replace('sovereign.yaml', 'nocert.yaml')), /tls\.cert: .*serves TLS but tls\.cert is not set/);
    copyFileSync(join(dir.path, 'a.cert'), join(dir.path, 'cert.pem'));
    await server.reload();
  });

  test('sessions resume (tickets)', async () => {
    const first = await open(port.tls);
    const session = await new Promise<Buffer>((resolve) => {
      first.once('session', resolve);
      void ask(first, 9);
    });
    first.destroy();
    const again = await open(port.tls, session);
    assert.equal(again.isSessionReused(), true);
    again.destroy();
  });

  test('Unbound forwards to us over TLS (forward-tls-upstream) and validates our certificate', async (t) => {
    if (!havePeers(t, 'unbound', 'dig')) return;
    const hints = join(dir.path, 'root.hints');
    writeFileSync(hints, '.  3600000 IN NS a.root.test.\na.root.test. 3600000 IN A 127.31.10.99\n');
    const uport = pickPort();
    let unbound: RunningPeer | undefined;
    try {
      unbound = await startUnbound(dir.path, UNBOUND, uport, hints, `  tls-cert-bundle: "${join(dir.path, 'cert.pem')}"
forward-zone:
  name: "example.org."
  forward-tls-upstream: yes
  forward-addr: ${ADDRESS}@${port.tls}#a.dns.test
`);
      const r = await runToolAsync('dig', [`@${UNBOUND}`, '-p', String(uport), '+short', '+time=5', '+tries=2', 'www.example.org']);
      assert.equal(r.stdout.trim(), '192.0.2.80', r.stderr + (unbound?.output() ?? ''));
      assert.ok(server.stats.tlsQueries > 0);
    } finally {
      await unbound?.stop();
    }
  });
});
