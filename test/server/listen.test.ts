/**
 * Listening: UDP and TCP on every address, IPv4 and IPv6, port 53 where the process may bind it;
 * `sovereign serve` options parsed into a validated config (flags over the YAML file).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseServeArgs } from '../../src/cli/serve.js';
import { ConfigError } from '../../src/errors.js';
import { Message } from '../../src/wire/message.js';
import { Rcode } from '../../src/wire/constants.js';
import { RRType } from '../../src/wire/types.js';
import { tempDir } from '../helpers/peers.js';
import { TcpClient, startServer } from './net-helpers.js';

function udp6Query(port: number, q: Message): Promise<Message | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp6');
    const t = setTimeout(() => { s.close(); resolve(undefined); }, 2000);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(Message.decode(m)); });
    s.on('error', () => { clearTimeout(t); s.close(); resolve(undefined); });
    s.send(q.encode(), port, '::1');
  });
}

test('UDP and TCP on an IPv4 and an IPv6 address', async (t) => {
  const srv = await startServer('127.23.9.1', { listen: ['127.23.9.1:0', '[::1]:0'] }).catch((err: Error) => err);
  if (srv instanceof Error) {
    // A machine without IPv6 on lo cannot run this half.
    if (/EADDRNOTAVAIL|EAFNOSUPPORT/.test(srv.message)) return t.skip('no ::1 here');
    throw srv;
  }
  try {
    const v6 = srv.server.addresses.filter((a) => a.address === '::1');
    assert.deepEqual(v6.map((a) => a.transport).sort(), ['tcp', 'udp']);
    const r = await udp6Query(v6[0]!.port, Message.query('www.example.com.', RRType.A, { id: 9 }));
    assert.equal(r?.answer.length, 3);
    const c = await TcpClient.connect('::1', v6[0]!.port);
    c.send(Message.query('www.example.com.', RRType.A, { id: 10 }).encode());
    await c.waitFor(1);
    assert.equal(Message.decode(c.messages[0]!).rcode, Rcode.NOERROR);
    c.close();
  } finally {
    await srv.stop();
  }
});

test('port 53 where the process may bind it', async (t) => {
  const srv = await startServer('127.23.9.2', { listen: ['127.23.9.2:53'] }).catch((err: Error) => err);
  if (srv instanceof Error) {
    if (/EACCES|EADDRINUSE/.test(srv.message)) return t.skip(`cannot bind port 53 here: ${srv.message}`);
    throw srv;
  }
  try {
    assert.equal(srv.port, 53);
    const c = await TcpClient.connect('127.23.9.2', 53);
    c.send(Message.query('one.example.com.', RRType.A, { id: 1 }).encode());
    await c.waitFor(1);
    assert.equal(Message.decode(c.messages[0]!).answer.length, 1);
    c.close();
  } finally {
    await srv.stop();
  }
});

test('serve options: flags over the config file, errors name the flag or key', () => {
  const dir = tempDir('sovereign-serve-args-');
  try {
    const cfg = join(dir.path, 'sovereign.yaml');
    writeFileSync(cfg, 'listen: ["127.0.0.1:5300"]\nworkers: 3\nzones:\n  - name: example.org\n    file: org.zone\n');
    const a = parseServeArgs(['--config', cfg]);
    assert.equal(a.config.workers, 3);
    assert.equal(a.config.zones[0]!.file, join(dir.path, 'org.zone'));
    const b = parseServeArgs(['--config', cfg, '--listen', '127.0.0.2:5301', '--listen', '[::1]:5301',
      '--zone', 'example.com=x.zone', '--workers', 'auto']);
    assert.deepEqual(b.config.listen, ['127.0.0.2:5301', '[::1]:5301']);
    assert.equal(b.config.workers, 'auto');
    assert.equal(b.config.zones.length, 1);
    assert.equal(b.config.zones[0]!.name, 'example.com');
    assert.throws(() => parseServeArgs(['--zone', 'example.com']), (e: unknown) => e instanceof ConfigError && /NAME=FILE/.test(e.message));
    assert.throws(() => parseServeArgs(['--listen', 'nowhere:53']), (e: unknown) => e instanceof ConfigError && /listen/.test(e.message));
    assert.throws(() => parseServeArgs(['--workers', '0']), (e: unknown) => e instanceof ConfigError && /workers/.test(e.message));
  } finally {
    dir.cleanup();
  }
});

// A zone that fails its checks no longer stops start-up: see startup.test.ts.
test('serve refuses to start on a bad config', () => {
  const dir = tempDir('sovereign-serve-refuse-');
  try {
    const bin = join(process.cwd(), 'bin', 'sovereign.js');
    const badKey = join(dir.path, 'bad.yaml');
    writeFileSync(badKey, 'listen: ["127.23.9.3:0"]\nudp: { maxSize: 100 }\n');
    const a = spawnSync(process.execPath, [bin, 'serve', '--config', badKey], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(a.status, 2);
    assert.match(a.stderr, /udp\.maxSize/);
    assert.match(a.stderr, /512 to 65535/);
  } finally {
    dir.cleanup();
  }
});
