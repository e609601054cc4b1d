/**
 * The Dockerfile, built and run the way Docker would, step by step on this machine: no Docker
 * engine runs here (nor in CI) and the base image cannot be pulled, so the test reads the
 * Dockerfile and replays it. The build stage's COPYs (minus .dockerignore) and its RUN line run
 * as written (`npm ci` from npm's cache, the build through `prepare`, `npm prune --omit=dev`);
 * the final stage's COPY --from=build lines assemble the image's /app; then ENTRYPOINT + CMD run
 * under ENV as an unprivileged user (USER), with a config where CMD expects it, and must answer
 * queries, keep the control token in $STATE_DIRECTORY and stop cleanly on SIGTERM (docker stop).
 * The final stage's RUN (apt-get, setcap on node, useradd) changes the host, so it is checked by
 * content here and its effect (port 53 through CAP_NET_BIND_SERVICE) in service.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { inCI, pickPort, tempDir } from '../helpers/peers.js';
import { ZONE, udpExchange } from './net-helpers.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const ADDRESS = '127.23.12.6';

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions per stage (continuation lines joined, comments dropped). */
export function parseDockerfile(text: string): Instruction[][] {
  const stages: Instruction[][] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (pending === '' && /^\s*(#|$)/.test(raw)) continue;
    if (raw.endsWith('\\')) {
      pending += raw.slice(0, -1) + ' ';
      continue;
    }
    const line = (pending + raw).trim();
    pending = '';
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (m === null) continue;
    const ins = { op: m[1]!.toUpperCase(), args: m[2]!.trim() };
    if (ins.op === 'FROM') stages.push([]);
    stages[stages.length - 1]!.push(ins);
  }
  return stages;
}

function needRoot(t: TestContext): boolean {
  if (process.getuid?.() === 0) return true;
  if (inCI) throw new Error('this test needs root');
  t.skip('needs root');
  return false;
}

/** .dockerignore patterns (plain names and `*.ext`) as a copy filter. */
function ignoreFilter(): (src: string) => boolean {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  return (src) => {
    const rel = src.slice(ROOT.length);
    const first = rel.split('/')[0]!;
    return !patterns.some((p) => (p.startsWith('*.') ? rel.endsWith(p.slice(1)) : first === p));
  };
}

/** COPY [--from=stage] SRC... DEST, relative to `from` (a folder) into `workdir`. */
function copy(args: string, from: string, workdir: string, filter: (src: string) => boolean): void {
  const parts = args.split(/\s+/).filter((p) => !p.startsWith('--'));
  const dest = parts.pop()!;
  for (const src of parts) {
    const source = src.startsWith('/app/') ? join(from, src.slice('/app/'.length)) : join(from, src);
    const target = dest.endsWith('/') || parts.length > 1 ? join(workdir, dest, basename(src)) : join(workdir, dest);
    cpSync(source, target, { recursive: true, filter });
  }
}

async function answers(port: number, timeoutMs: number): Promise<Message | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await udpExchange(ADDRESS, port, Message.query('one.example.com.', RRType.A, { id: 7 }).encode(), 300);
    if (r !== undefined) return Message.decode(r);
  }
  return undefined;
}

test('the Dockerfile parses into a build stage and a small non-root run stage', () => {
  const [build, run] = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  assert.ok(build !== undefined && run !== undefined);
  assert.match(build[0]!.args, /^node:20-\S+ AS build$/);
  assert.match(run[0]!.args, /^node:20-\S+-slim$/);
  const runLine = run.find((i) => i.op === 'RUN')!.args;
  assert.match(runLine, /setcap cap_net_bind_service=\+ep \/usr\/local\/bin\/node/);
  assert.match(runLine, /useradd --system .* sovereign/);
  assert.match(runLine, /rm -rf \/var\/lib\/apt\/lists/);
  assert.deepEqual(run.filter((i) => i.op === 'USER').map((i) => i.args), ['sovereign']);
  // Only production files reach the image: no sources, tests or dev dependencies.
  assert.deepEqual(run.filter((i) => i.op === 'COPY').map((i) => i.args.split(/\s+/).at(-1)),
    ['./', './bin', './dist/src', './dist/dashboard', './node_modules']);
});

test('the Dockerfile built and run step by step: npm ci + build, production node_modules, CMD serves as a non-root user', async (t) => {
  if (!needRoot(t)) return;
  const [build, run] = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const dir = tempDir('sov-docker-');
  chmodSync(dir.path, 0o755);
  const buildDir = join(dir.path, 'build');
  const appDir = join(dir.path, 'app');
  const stateDir = join(dir.path, 'state');
  const etcDir = join(dir.path, 'etc');
  for (const d of [buildDir, appDir, stateDir, etcDir]) mkdirSync(d, { recursive: true, mode: 0o755 });
  const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
  chownSync(stateDir, nobody, nobody);
  chmodSync(stateDir, 0o700);
  let child: ReturnType<typeof spawn> | undefined;
  try {
    // Build stage: COPY from the context, RUN as written (npm reads packages from its cache: no network here).
    const filter = ignoreFilter();
    for (const ins of build!) {
      if (ins.op === 'COPY') copy(ins.args, ROOT, buildDir, filter);
      else if (ins.op === 'RUN') {
        const r = spawnSync('sh', ['-c', ins.args], {
          cwd: buildDir, encoding: 'utf8', env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
        });
        assert.equal(r.status, 0, `RUN ${ins.args}\n${r.stdout}\n${r.stderr}`);
      } else assert.ok(['FROM', 'WORKDIR'].includes(ins.op), `build stage step ${ins.op} is replayed`);
    }
    assert.ok(existsSync(join(buildDir, 'dist', 'src', 'index.js')), 'the build ran (prepare)');
    assert.equal(existsSync(join(buildDir, 'node_modules', 'typescript')), false, 'dev dependencies pruned');
    assert.equal(existsSync(join(buildDir, 'dist', 'test')), false);
    // Run stage: the image's /app from the build stage; ENV, USER, ENTRYPOINT and CMD as written.
    const env: Record<string, string> = {};
    let entrypoint: string[] = [];
    let cmd: string[] = [];
    let user = '';
    const paths = (s: string): string => s.replace(/^\/app\b/, appDir).replace(/^\/var\/lib\/sovereign\b/, stateDir).replace(/^\/etc\/sovereign\b/, etcDir);
    for (const ins of run!) {
      if (ins.op === 'COPY') copy(ins.args, buildDir, appDir, () => true);
      else if (ins.op === 'ENV') for (const [k, v] of ins.args.split(/\s+/).map((kv) => kv.split('='))) env[k!] = paths(v!);
      else if (ins.op === 'USER') user = ins.args;
      else if (ins.op === 'ENTRYPOINT') entrypoint = (JSON.parse(ins.args) as string[]).map(paths);
      else if (ins.op === 'CMD') cmd = (JSON.parse(ins.args) as string[]).map(paths);
    }
    assert.equal(user, 'sovereign');
    assert.equal(entrypoint[0], 'node');
    const config = cmd[cmd.indexOf('--config') + 1]!;
    assert.ok(config.startsWith(etcDir), `CMD reads its config from /etc/sovereign: ${cmd.join(' ')}`);
    const port = pickPort();
    const cport = pickPort();
    const zone = join(etcDir, 'example.com.zone');
    writeFileSync(zone, ZONE, { mode: 0o644 });
    writeFileSync(config, `listen: ["${ADDRESS}:${port}"]\nworkers: 1\nzones: [{ name: example.com, file: ${zone} }]\n` +
      `control: { listen: "${ADDRESS}:${cport}" }\nlog: { level: warn }\n`, { mode: 0o644 });
    // The image's user has no home and no rights but its state directory: `nobody` stands in for it.
    child = spawn('/usr/bin/setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, ...entrypoint.slice(1), ...cmd],
      { cwd: appDir, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', ...env } });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const reply = await answers(port, 20_000);
    assert.equal(reply?.answer.length, 1, `the container's CMD answers: ${err}`);
    assert.equal((reply!.answer[0]!.data as { address: string }).address, '192.0.2.20');
    // The control endpoint (and its token) comes up right after DNS does: give it until a deadline.
    const token = join(stateDir, 'control.token');
    for (let until = Date.now() + 15_000; !existsSync(token) && Date.now() < until;) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(token), `control token kept in $STATE_DIRECTORY: ${err}`);
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
  } finally {
    child?.kill('SIGKILL');
    dir.cleanup();
  }
});
