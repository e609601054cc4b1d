/**
 * Logging as an operator sees it: text for people, JSON for machines (level names, ISO times), a
 * file or syslog (a Unix datagram socket of our own, read by python3 as syslogd would), expected
 * conditions without a stack, and the server's lifecycle lines (zone loaded once per zone, not once
 * per worker).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { NetworkError } from '../src/errors.js';
import { createLogger } from '../src/logging.js';
import { PEER_BINARIES, havePeers, tempDir } from './helpers/peers.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function flush(): Promise<void> {
  return new Promise((r) => setTimeout(r, 50));
}

test('JSON lines carry level names and ISO times; text lines read as a sentence', async () => {
  const dir = tempDir('sov-log-');
  try {
    const jsonFile = join(dir.path, 'json.log');
    const json = createLogger('info', { format: 'json', destination: jsonFile });
    json.info({ zone: 'example.test.', serial: 7 }, 'zone loaded');
    json.debug('not at info');
    await flush();
    const lines = readFileSync(jsonFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 'info');
    assert.match(String(lines[0]!.time), ISO);
    assert.equal(lines[0]!.msg, 'zone loaded');
    assert.equal(lines[0]!.zone, 'example.test.');

    const textFile = join(dir.path, 'text.log');
    const text = createLogger('debug', { format: 'text', destination: textFile });
    text.warn({ upstream: '127.0.0.1:53', tries: 3 }, 'upstream dead');
    await flush();
    const line = readFileSync(textFile, 'utf8');
    assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN  upstream dead upstream=127\.0\.0\.1:53 tries=3\n$/);

    // auto: a file is not a terminal, so JSON.
    const autoFile = join(dir.path, 'auto.log');
    createLogger('info', { destination: autoFile }).info('x');
    await flush();
    assert.equal((JSON.parse(readFileSync(autoFile, 'utf8')) as { msg: string }).msg, 'x');
  } finally {
    dir.cleanup();
  }
});

test('expected conditions are one line without a stack; bugs keep theirs', async () => {
  const dir = tempDir('sov-log-');
  try {
    const f = join(dir.path, 'e.log');
    const log = createLogger('info', { format: 'json', destination: f });
    const unreachable = Object.assign(new Error('connect EHOSTUNREACH 192.0.2.1:53'), { code: 'EHOSTUNREACH' });
    log.warn({ err: new NetworkError('192.0.2.1#53', 'no route', unreachable) }, 'upstream unreachable');
    log.warn({ err: unreachable }, 'upstream unreachable');
    log.error({ err: new TypeError('x is undefined') }, 'query failed');
    await flush();
    const [a, b, c] = readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { err: { stack?: string; code?: string; cause?: string; message: string } });
    assert.equal(a!.err.stack, undefined);
    assert.equal(a!.err.code, 'ERR_DNS_NETWORK');
    assert.equal(a!.err.cause, 'EHOSTUNREACH');
    assert.equal(b!.err.code, 'EHOSTUNREACH');
    assert.equal(b!.err.stack, undefined);
    assert.match(c!.err.stack ?? '', /TypeError: x is undefined\n\s+at /);

    const t = join(dir.path, 't.log');
    createLogger('info', { format: 'text', destination: t }).warn({ err: unreachable }, 'upstream unreachable');
    await flush();
    assert.equal(readFileSync(t, 'utf8').trim().split('\n').length, 1);
  } finally {
    dir.cleanup();
  }
});

test('syslog: one datagram per line with the daemon facility and the severity', async (t) => {
  if (!havePeers(t, 'python3')) return;
  const dir = tempDir('sov-log-');
  const sock = join(dir.path, 'log.sock');
  // A syslogd stand-in: python3 binds a Unix datagram socket and prints what arrives.
  const py = spawn(PEER_BINARIES.python3, ['-u', '-c', `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
for _ in range(2):
    print(s.recv(65536).decode(), flush=True)
`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    py.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const until = async (re: RegExp): Promise<void> => {
      for (let i = 0; i < 200 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50));
    };
    await until(/ready/);
    const log = createLogger('info', { destination: 'syslog', syslogSocket: sock, name: 'sovtest' });
    log.info({ zone: 'example.test.' }, 'zone loaded');
    log.error('listener failed');
    await until(/listener failed/);
    const messages = out.trim().split('\n').slice(1);
    assert.equal(messages.length, 2, out);
    // RFC 3164/5424 PRI = facility 3 (daemon) * 8 + severity: info 6 -> 30, error 3 -> 27.
    assert.match(messages[0]!, /^<30>.*sovtest\[\d+\]: zone loaded zone=example\.test\.$/);
    assert.match(messages[1]!, /^<27>.*sovtest\[\d+\]: listener failed$/);
  } finally {
    py.kill();
    dir.cleanup();
  }
});

function collect(child: ChildProcess): { lines: Record<string, unknown>[]; text: () => string } {
  let buf = '';
  const lines: Record<string, unknown>[] = [];
  child.stderr!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ msg: `(not JSON) ${line}` });
      }
    }
  });
  return { lines, text: () => lines.map((l) => JSON.stringify(l)).join('\n') };
}

test('serve logs its lifecycle, and each zone once with two workers', async () => {
  const dir = tempDir('sov-log-');
  const zone = (n: string): string => `$ORIGIN ${n}.\n$TTL 300\n@ SOA ns1 host 1 3600 900 604800 300\n@ NS ns1\nns1 A 127.0.0.1\n`;
  writeFileSync(join(dir.path, 'a.zone'), zone('a.logtest'));
  writeFileSync(join(dir.path, 'b.zone'), zone('b.logtest'));
  const cfg = join(dir.path, 'sovereign.yaml');
  writeFileSync(cfg, `listen: "127.26.7.1:0"\nworkers: 2\ncontrol: { enabled: false }\nzones:\n  - { name: a.logtest, file: a.zone }\n  - { name: b.logtest, file: b.zone }\n`);
  const bin = join(process.cwd(), 'bin/sovereign.js');
  assert.ok(existsSync(bin));
  const child = spawn(process.execPath, [bin, 'serve', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = collect(child);
  const waitFor = async (pred: () => boolean): Promise<void> => {
    for (let i = 0; i < 600 && !pred(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(pred(), log.text());
  };
  try {
    await waitFor(() => log.lines.some((l) => l.msg === 'all workers ready'));
    child.kill('SIGHUP');
    await waitFor(() => log.lines.filter((l) => l.msg === 'zone loaded').length >= 4);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 0, log.text());
    const msgs = log.lines.map((l) => l.msg);
    for (const m of ['starting', 'listening', 'reloading', 'stopping', 'stopped']) assert.ok(msgs.includes(m), `${m}\n${log.text()}`);
    assert.equal(msgs.filter((m) => m === 'starting').length, 1);
    // Once at start and once per reload for each zone, not once per worker.
    const loaded = log.lines.filter((l) => l.msg === 'zone loaded').map((l) => l.zone).sort();
    assert.deepEqual(loaded, ['a.logtest.', 'a.logtest.', 'b.logtest.', 'b.logtest.'], log.text());
    assert.ok(msgs.indexOf('stopping') < msgs.lastIndexOf('stopped'));
    for (const l of log.lines) {
      assert.equal(typeof l.level, 'string', JSON.stringify(l));
      assert.match(String(l.time), ISO);
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    dir.cleanup();
  }
});

test('on a terminal the default is text; piped, JSON', async () => {
  const mod = new URL('../src/logging.js', import.meta.url).href;
  const code = `import(${JSON.stringify(mod)}).then((m) => m.createLogger("info").info({ a: 1 }, "hello"))`;
  // util-linux script(1) gives the child a pseudo-terminal, as an operator's shell would.
  const tty = await new Promise<string>((resolve) => {
    const c = spawn('script', ['-qec', `${process.execPath} -e '${code}'`, '/dev/null'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.once('close', () => resolve(out));
  });
  assert.match(tty.replace(/\r/g, ''), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  hello a=1\n$/);
  const piped = await new Promise<string>((resolve) => {
    const c = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
    let out = '';
    c.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    c.once('close', () => resolve(out));
  });
  const line = JSON.parse(piped) as Record<string, unknown>;
  assert.equal(line.level, 'info');
  assert.equal(line.msg, 'hello');
  assert.equal(line.a, 1);
});
