/**
 * Running as a service: `npm start` execs the server (SIGTERM to npm stops it), `user:` drops
 * root after binding port 53, readiness reaches systemd's NOTIFY_SOCKET, the unit file passes
 * `systemd-analyze verify`, and the container's way to port 53 (a non-root user and node with
 * CAP_NET_BIND_SERVICE, as the Dockerfile sets it up) works.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { PEER_BINARIES, havePeers, inCI, pickPort, tempDir } from '../helpers/peers.js';
import { ZONE, udpExchange } from './net-helpers.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin', 'sovereign.js');
const ADDRESS = '127.23.12.1';

/** Needs root (CI runs as root); elsewhere the test is skipped, in CI it fails. */
function needRoot(t: TestContext): boolean {
  if (process.getuid?.() === 0) return true;
  if (inCI) throw new Error('this test needs root');
  t.skip('needs root');
  return false;
}

function needTool(t: TestContext, path: string): boolean {
  if (existsSync(path)) return true;
  const why = `${path} is missing (run scripts/install-peers.sh)`;
  if (inCI) throw new Error(why);
  t.skip(why);
  return false;
}

async function answers(port: number, address = ADDRESS, timeoutMs = 15_000): Promise<Message | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await udpExchange(address, port, Message.query('one.example.com.', RRType.A, { id: 5 }).encode(), 300);
    if (r !== undefined) return Message.decode(r);
  }
  return undefined;
}

function exited(child: ChildProcess, ms: number): Promise<number | null | 'hung'> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return Promise.race([
    new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))),
    new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms)),
  ]);
}

/** A world-readable folder with the zone and a config listening on address:port (control off). */
function setup(address: string, port: number, extra = ''): { dir: ReturnType<typeof tempDir>; config: string } {
  const dir = tempDir();
  chmodSync(dir.path, 0o755);
  const zone = join(dir.path, 'example.com.zone');
  writeFileSync(zone, ZONE, { mode: 0o644 });
  const config = join(dir.path, 'sovereign.yaml');
  writeFileSync(config, `listen: ["${address}:${port}"]\nworkers: 1\nzones: [{ name: example.com, file: ${zone} }]\n` +
    `control: { enabled: false }\nlog: { level: warn }\n${extra}`, { mode: 0o644 });
  return { dir, config };
}

test('npm start execs the server: no rebuild, and SIGTERM to npm stops it', async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, 'exec node bin/sovereign.js serve');
  assert.ok(pkg.scripts.prepare?.includes('tsc'), 'built at install (prepare), not at every start');
  // `npm run serve` is the same command as `npm start` (which, without --config, would recurse from the real root).
  assert.equal(pkg.scripts.serve, pkg.scripts.start);
  const port = pickPort();
  const { dir, config } = setup(ADDRESS, port);
  const npm = spawn('npm', ['run', '--silent', 'serve', '--', '--config', config], { cwd: ROOT, stdio: 'ignore' });
  try {
    assert.ok(await answers(port), 'server started through npm');
    npm.kill('SIGTERM');
    assert.notEqual(await exited(npm, 15_000), 'hung', 'npm exited');
    // The server is gone too (no orphan keeps answering).
    assert.equal(await answers(port, ADDRESS, 1500), undefined, 'the server outlived npm');
  } finally {
    npm.kill('SIGKILL');
    dir.cleanup();
  }
});

test('user: binds port 53 as root, then runs as nobody and keeps serving (reload included)', async (t) => {
  if (!needRoot(t)) return;
  const { dir, config } = setup(ADDRESS, 53, 'user: nobody\n');
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  try {
    assert.equal((await answers(53))?.answer.length, 1, `answers on port 53: ${err}`);
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim();
    assert.match(status, new RegExp(`^Uid:\\s+${nobody}\\s+${nobody}\\s+${nobody}\\s+${nobody}$`, 'm'));
    assert.match(status, /^Groups:\s+\d+\s*$/m, 'root\'s supplementary groups dropped');
    assert.match(status, /^CapEff:\s+0+$/m, 'no capability left');
    child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await answers(53))?.answer.length, 1, `still serving after reload as nobody: ${err}`);
    child.kill('SIGTERM');
    assert.equal(await exited(child, 10_000), 0);
  } finally {
    child.kill('SIGKILL');
    dir.cleanup();
  }
});

test('user: an account that does not exist stops start-up with the reason', async () => {
  const port = pickPort();
  const { dir, config } = setup(ADDRESS, port, 'user: no-such-account-here\n');
  const r = spawnSync(process.execPath, [BIN, 'serve', '--config', config], { encoding: 'utf8', timeout: 20_000 });
  try {
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^sovereign serve: user: no account "no-such-account-here" in \/etc\/passwd/m);
  } finally {
    dir.cleanup();
  }
});

test('readiness: READY=1 with our PID reaches NOTIFY_SOCKET once the server answers', async (t) => {
  if (!havePeers(t, 'python3') || !needTool(t, '/usr/bin/systemd-notify')) return;
  const port = pickPort();
  const { dir, config } = setup(ADDRESS, port);
  const sock = join(dir.path, 'notify.sock');
  // A stand-in for systemd's notification socket: prints each datagram (ancillary fds are dropped,
  // which releases systemd-notify's barrier as systemd does).
  const receiver = spawn(PEER_BINARIES.python3, ['-u', '-c', `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    data = s.recv(4096)
    print(data.decode().replace("\\n", " "), flush=True)
`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let got = '';
  receiver.stdout!.on('data', (d: Buffer) => { got += d.toString(); });
  let child: ChildProcess | undefined;
  try {
    for (let i = 0; i < 100 && !got.includes('listening'); i++) await new Promise((r) => setTimeout(r, 50));
    child = spawn(process.execPath, [BIN, 'serve', '--config', config], { stdio: 'ignore', env: { ...process.env, NOTIFY_SOCKET: sock } });
    assert.ok(await answers(port));
    for (let i = 0; i < 100 && !got.includes('READY=1'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(got, new RegExp(`READY=1`));
    assert.match(got, new RegExp(`MAINPID=${child.pid}`));
    child.kill('SIGTERM');
    assert.equal(await exited(child, 10_000), 0);
    for (let i = 0; i < 100 && !got.includes('STOPPING=1'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(got, /STOPPING=1/);
  } finally {
    child?.kill('SIGKILL');
    receiver.kill('SIGKILL');
    dir.cleanup();
  }
});

test('contrib/sovereign.service passes systemd-analyze verify and asks for what the README promises', (t) => {
  const unit = readFileSync(join(ROOT, 'contrib', 'sovereign.service'), 'utf8');
  for (const line of ['Type=notify', 'NotifyAccess=all', 'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'User=sovereign',
    'StateDirectory=sovereign', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ExecReload=/bin/kill -HUP $MAINPID']) {
    assert.ok(unit.split('\n').includes(line), `unit has ${line}`);
  }
  if (!needTool(t, '/usr/bin/systemd-analyze')) return;
  const dir = tempDir();
  try {
    // verify checks that ExecStart's program exists: point it at this checkout.
    const file = join(dir.path, 'sovereign.service');
    writeFileSync(file, unit.replace('/usr/bin/sovereign serve', `${process.execPath} ${BIN} serve`));
    const r = spawnSync('/usr/bin/systemd-analyze', ['verify', file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.split('\n').filter((l) => l.includes('sovereign.service')).join('\n'), '');
  } finally {
    dir.cleanup();
  }
});

test('container: a non-root user reaches port 53 through node\'s CAP_NET_BIND_SERVICE (as the Dockerfile sets it up)', async (t) => {
  if (!needRoot(t) || !needTool(t, '/usr/sbin/setcap') || !needTool(t, '/usr/bin/setpriv')) return;
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /setcap cap_net_bind_service=\+ep \/usr\/local\/bin\/node/);
  assert.match(dockerfile, /^USER sovereign$/m);
  const { dir, config } = setup('127.23.12.2', 53);
  const node = join(dir.path, 'node');
  copyFileSync(process.execPath, node);
  chmodSync(node, 0o755);
  const cap = spawnSync('/usr/sbin/setcap', ['cap_net_bind_service=+ep', node], { encoding: 'utf8' });
  assert.equal(cap.status, 0, cap.stderr);
  // Without the capability the unprivileged user gets the clear EACCES message.
  const denied = spawnSync('/usr/bin/setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, BIN, 'serve', '--config', config],
    { encoding: 'utf8', timeout: 20_000 });
  assert.equal(denied.status, 1);
  assert.match(denied.stderr, /cannot listen on udp 127\.23\.12\.2:53: EACCES \(port 53 needs root or CAP_NET_BIND_SERVICE/);
  const child = spawn('/usr/bin/setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', node, BIN, 'serve', '--config', config],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  try {
    assert.equal((await answers(53, '127.23.12.2'))?.answer.length, 1, `answers on 53 as nobody: ${err}`);
    child.kill('SIGTERM');
    assert.equal(await exited(child, 10_000), 0);
  } finally {
    child.kill('SIGKILL');
    dir.cleanup();
  }
});

test('user: with two workers, the primary and every worker run as nobody once serving; the pid file is the primary\'s', async (t) => {
  if (!needRoot(t)) return;
  const { dir, config } = setup('127.23.12.3', 53, `user: nobody\npidFile: ${'PID'}\n`);
  const pidFile = join(dir.path, 'sovereign.pid');
  writeFileSync(config, readFileSync(config, 'utf8').replace('workers: 1', 'workers: 2').replace('PID', pidFile));
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  try {
    assert.equal((await answers(53, '127.23.12.3'))?.answer.length, 1, `answers: ${err}`);
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(readFileSync(pidFile, 'utf8'), `${child.pid}\n`);
    const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim();
    const workers = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    assert.equal(workers.length, 2);
    for (const pid of [child.pid!, ...workers]) {
      let uid = '';
      for (let i = 0; i < 50; i++) {
        uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;
        if (uid === nobody) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(uid, nobody, `process ${pid} runs as nobody`);
    }
    child.kill('SIGTERM');
    assert.equal(await exited(child, 15_000), 0);
  } finally {
    child.kill('SIGKILL');
    dir.cleanup();
  }
});
