/**
 * Start-up and failure behaviour of `sovereign serve` as a process, as an operator meets it:
 * an address that cannot be bound stops start-up with one message and a non-zero exit (one
 * process or several workers) and leaves nothing bound; `0.0.0.0` and `[::]` on one port work
 * together; a broken zone does not stop the others and is answered SERVFAIL as BIND does; the
 * same zone twice is a config error; a second instance on the default control port fails
 * clearly; the pid file appears only once the server answers; an exception nothing caught is
 * logged and the server keeps answering.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseServeArgs } from '../../src/cli/serve.js';
import { formatStats } from '../../src/cli/stats.js';
import { renderMetrics } from '../../src/control/metrics.js';
import { serverSnapshot } from '../../src/control/backend.js';
import { ConfigError } from '../../src/errors.js';
import { Message } from '../../src/wire/message.js';
import { Rcode } from '../../src/wire/constants.js';
import { RRType } from '../../src/wire/types.js';
import { havePeers, pickPort, startNamed, tempDir } from '../helpers/peers.js';
import { TcpClient, ZONE, startServer, udpExchange, udpQuery } from './net-helpers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const ADDRESS = '127.23.11.1';

interface Run {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

function serve(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stderr: () => err, exited };
}

/** Resolves with the exit code, or 'hung' after `ms`. */
function exitWithin(r: Run, ms: number): Promise<number | null | 'hung'> {
  return Promise.race([r.exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms))]);
}

async function answers(address: string, port: number, name = 'ns1.example.com.', timeoutMs = 15_000): Promise<Message | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await udpExchange(address, port, Message.query(name, RRType.A, { id: 77 }).encode(), 300);
    if (r !== undefined) return Message.decode(r);
  }
  return undefined;
}

/** True when this process can bind UDP address:port now (what a failed start left bound is closed). */
function udpFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => { s.close(); resolve(false); });
    s.bind(port, address, () => s.close(() => resolve(true)));
  });
}

/** Holds TCP address:port (so UDP binds first, then TCP fails: the half-started server must let go of UDP). */
async function holdTcp(address: string, port: number): Promise<{ close(): Promise<void> }> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, address, () => resolve());
  });
  return { close: () => new Promise((resolve) => srv.close(() => resolve())) };
}

for (const workers of [1, 2]) {
  test(`workers ${workers}: an address in use stops start-up with one clear message, exit 1, nothing left bound`, async () => {
    const dir = tempDir();
    const port = pickPort();
    const zone = join(dir.path, 'example.com.zone');
    writeFileSync(zone, ZONE);
    const pid = join(dir.path, 'sovereign.pid');
    const held = await holdTcp(ADDRESS, port);
    const r = serve(['--workers', String(workers), '--listen', `${ADDRESS}:${port}`, '--zone', `example.com=${zone}`,
      '--log-level', 'warn', '--pid-file', pid], { STATE_DIRECTORY: dir.path });
    try {
      const code = await exitWithin(r, 20_000);
      assert.equal(code, 1, `exit code (stderr: ${r.stderr()})`);
      const lines = r.stderr().split('\n').filter((l) => l.startsWith('sovereign serve:'));
      assert.equal(lines.length, 1, r.stderr());
      assert.equal(lines[0], `sovereign serve: cannot listen on tcp ${ADDRESS}:${port}: EADDRINUSE ` +
        '(another process holds this address: see `ss -lunp` and `ss -ltnp`; or two listen entries overlap)');
      assert.equal(await udpFree(ADDRESS, port), true, 'the UDP socket bound before the failure was closed');
      assert.equal(existsSync(pid), false, 'no pid file for a server that never served');
    } finally {
      r.child.kill('SIGKILL');
      await held.close();
      dir.cleanup();
    }
  });
}

test('0.0.0.0 and [::] on the same port listen side by side (TCP on [::] is IPv6-only, as UDP)', async (t) => {
  const port = pickPort();
  const srv = await startServer('0.0.0.0', { listen: [`0.0.0.0:${port}`, `[::]:${port}`] }).catch((err: Error) => err);
  if (srv instanceof Error) {
    if (/EAFNOSUPPORT|EADDRNOTAVAIL/.test(srv.message)) return t.skip('no IPv6 here');
    throw srv;
  }
  try {
    assert.deepEqual(srv.server.addresses.map((a) => `${a.transport} ${a.address}`),
      ['udp 0.0.0.0', 'tcp 0.0.0.0', 'udp ::', 'tcp ::']);
    for (const host of ['127.0.0.1', '::1']) {
      const c = await TcpClient.connect(host, port);
      c.send(Message.query('one.example.com.', RRType.A, { id: 3 }).encode());
      await c.waitFor(1);
      assert.equal(Message.decode(c.messages[0]!).answer.length, 1, `TCP over ${host}`);
      c.close();
    }
  } finally {
    await srv.stop();
  }
});

const BROKEN = `$ORIGIN broken.example.
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.300
`;

test('a zone that fails to load is answered SERVFAIL (as BIND), the others are served, stats and /metrics say which', async (t) => {
  const dir = tempDir();
  const good = join(dir.path, 'example.com.zone');
  const broken = join(dir.path, 'broken.zone');
  writeFileSync(good, ZONE);
  writeFileSync(broken, BROKEN);
  const zones = [
    { name: 'example.com', file: good },
    { name: 'broken.example', file: broken },
    { name: 'missing.example', file: join(dir.path, 'missing.zone') },
  ];
  const srv = await startServer(ADDRESS, { zones });
  try {
    const q = (name: string): Promise<Message> => udpQuery(ADDRESS, srv.port, Message.query(name, RRType.A, { id: 1, rd: false }));
    assert.equal((await q('one.example.com.')).answer.length, 1);
    assert.equal((await q('ns1.broken.example.')).rcode, Rcode.SERVFAIL);
    assert.equal((await q('www.missing.example.')).rcode, Rcode.SERVFAIL);
    assert.equal((await q('missing.example.')).rcode, Rcode.SERVFAIL);
    // Names outside every zone are still REFUSED.
    assert.equal((await q('www.example.net.')).rcode, Rcode.REFUSED);
    const zs = serverSnapshot(srv.server, Date.now()).zones!;
    assert.deepEqual(zs.map((z) => [z.name, z.loaded, z.serial, z.loadFailures]),
      [['example.com.', true, 1, 0], ['broken.example.', false, null, 1], ['missing.example.', false, null, 1]]);
    assert.match(zs[1]!.error!, /192\.0\.2\.300/);
    assert.match(zs[2]!.error!, /ENOENT/);
    const text = formatStats(serverSnapshot(srv.server, Date.now()));
    assert.match(text, /^zone example\.com\.: serial 1$/m);
    assert.match(text, /^zone broken\.example\.: NOT LOADED \(answered SERVFAIL\), 1 failed load\(s\): .*192\.0\.2\.300/m);
    const m = (await renderMetrics(serverSnapshot(srv.server, Date.now()))).body;
    assert.match(m, /^sovereign_zone_loaded\{zone="broken\.example\."\} 0$/m);
    assert.match(m, /^sovereign_zone_loaded\{zone="example\.com\."\} 1$/m);
    assert.match(m, /^sovereign_zone_serial\{zone="example\.com\."\} 1$/m);
    assert.match(m, /^sovereign_zone_load_failures_total\{zone="missing\.example\."\} 1$/m);
    // Fixed and reloaded: served; the failure count stays as history.
    writeFileSync(broken, BROKEN.replace('192.0.2.300', '192.0.2.30'));
    await srv.server.reload();
    const fixed = await q('www.broken.example.');
    assert.equal(fixed.rcode, Rcode.NOERROR);
    assert.equal(fixed.answer.length, 1);
    const after = serverSnapshot(srv.server, Date.now()).zones!;
    assert.deepEqual(after.map((z) => [z.name, z.loaded, z.loadFailures]),
      [['example.com.', true, 0], ['broken.example.', true, 1], ['missing.example.', false, 2]]);
    // Broken again: the version loaded keeps serving (a reload never takes a working zone away).
    writeFileSync(broken, BROKEN);
    await srv.server.reload();
    assert.equal((await q('www.broken.example.')).answer.length, 1);
  } finally {
    await srv.stop();
  }
  // BIND, given the same files, answers the same: SERVFAIL for the zone it could not load.
  if (!havePeers(t, 'named')) return;
  writeFileSync(broken, BROKEN);
  const port = pickPort();
  const named = await startNamed(dir.path, '127.23.11.2', port, zones.slice(0, 2));
  try {
    const r = await udpQuery('127.23.11.2', port, Message.query('ns1.broken.example.', RRType.A, { id: 2, rd: false }));
    assert.equal(r.rcode, Rcode.SERVFAIL);
  } finally {
    await named.stop();
    dir.cleanup();
  }
});

test('the same zone twice (any case, with or without the trailing dot) is a config error', () => {
  assert.throws(() => parseServeArgs(['--zone', 'example.test=a.zone', '--zone', 'Example.Test.=b.zone']),
    (e: unknown) => e instanceof ConfigError && /zone example\.test\. is already configured at zones\[0\]/.test(e.message));
});

test('a second instance on the same control port fails clearly instead of running without control', async () => {
  const dir = tempDir();
  const zone = join(dir.path, 'example.com.zone');
  writeFileSync(zone, ZONE);
  const ports = [pickPort(), pickPort()];
  const port = ports[0]!;
  const controlPort = pickPort();
  const cfg = (n: number): string => {
    const f = join(dir.path, `s${n}.yaml`);
    writeFileSync(f, `listen: ["${ADDRESS}:${ports[n]!}"]\nworkers: 1\nzones: [{ name: example.com, file: ${zone} }]\n` +
      `control: { listen: "${ADDRESS}:${controlPort}", tokenFile: ${join(dir.path, 'token')} }\nlog: { level: warn }\n`);
    return f;
  };
  const first = serve(['--config', cfg(0)]);
  try {
    assert.ok(await answers(ADDRESS, port), 'first instance answers');
    const second = serve(['--config', cfg(1)]);
    const code = await exitWithin(second, 20_000);
    second.child.kill('SIGKILL');
    assert.equal(code, 1, second.stderr());
    assert.match(second.stderr(), new RegExp(`^sovereign serve: cannot listen on control ${ADDRESS.replace(/\./g, '\\.')}:${controlPort}: EADDRINUSE \\(another Sovereign instance probably uses it`, 'm'));
    assert.equal(await udpFree(ADDRESS, ports[1]!), true, 'its DNS socket was closed again');
  } finally {
    first.child.kill('SIGKILL');
    dir.cleanup();
  }
});

test('the pid file is written once the server answers; an uncaught exception is logged and the server keeps answering', async () => {
  const dir = tempDir();
  const zone = join(dir.path, 'example.com.zone');
  writeFileSync(zone, ZONE);
  const port = pickPort();
  const pid = join(dir.path, 'run.pid');
  // A timer that throws outside any query (what a bug in a socket callback looks like), armed by SIGUSR2.
  const boom = join(dir.path, 'boom.mjs');
  writeFileSync(boom, "process.on('SIGUSR2', () => {\n" +
    "  setTimeout(() => { throw new Error('boom from a timer'); }, 10);\n" +
    "  setTimeout(() => { Promise.reject(new Error('rejected and forgotten')); }, 20);\n});\n");
  const child = spawn(process.execPath, ['--import', boom, BIN, 'serve', '--workers', '1', '--listen', `${ADDRESS}:${port}`,
    '--zone', `example.com=${zone}`, '--pid-file', pid, '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, STATE_DIRECTORY: dir.path } });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    assert.ok(await answers(ADDRESS, port), `answers (stderr: ${err})`);
    // Written once serving (after the listeners and the control endpoint are up): give it until a deadline.
    for (let until = Date.now() + 15_000; !existsSync(pid) && Date.now() < until;) await new Promise((r) => setTimeout(r, 100));
    assert.equal(readFileSync(pid, 'utf8'), `${child.pid}\n`);
    child.kill('SIGUSR2');
    const deadline = Date.now() + 10_000;
    while (!(err.includes('rejected and forgotten') && err.includes('boom from a timer')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(err, /"msg":"unexpected exception \(a bug; please report it\); still serving"/);
    assert.match(err, /boom from a timer/);
    assert.match(err, /"msg":"unhandled promise rejection \(a bug; please report it\); still serving"/);
    const r = await answers(ADDRESS, port, 'one.example.com.');
    assert.equal(r?.answer.length, 1, 'still answering after the exception');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(existsSync(pid), false, 'pid file removed at stop');
  } finally {
    child.kill('SIGKILL');
    dir.cleanup();
  }
});
