// `sovereign help` and every registered command's `--help` / `-h`: a usage on stdout and exit 0;
// an unknown option: one line on stderr naming it, exit 2 (dig and nslookup keep their own
// codes: dig exits 1 with its synopsis, as BIND's dig does; nslookup prints `*** Invalid option`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runTool } from '../helpers/peers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;
const sovereign = (...args: string[]): ReturnType<typeof runTool> => runTool(process.execPath, [BIN, ...args], { input: '' });

/** The commands `sovereign help` lists (all those registered in src/cli/main.ts). */
function commands(): string[] {
  const out = sovereign('help').stdout;
  const names: string[] = [];
  let inList = false;
  for (const line of out.split('\n')) {
    if (line === 'commands:') { inList = true; continue; }
    if (!inList) continue;
    const m = /^ {2}(\S+)\s/.exec(line);
    if (m === null) break;
    if (m[1] !== 'version' && m[1] !== 'help') names.push(m[1]!);
  }
  return names;
}

test('sovereign help lists the commands and exits 0; no command exits 2; an unknown command is one line', () => {
  const h = sovereign('help');
  assert.equal(h.status, 0);
  assert.match(h.stdout, /^usage: sovereign <command>/);
  for (const c of ['decode', 'check-zone', 'serve', 'reload', 'dig', 'nslookup', 'cache', 'stats', 'zone']) assert.ok(commands().includes(c), c);
  assert.equal(sovereign('--help').status, 0);
  assert.equal(sovereign().status, 2);
  const bad = sovereign('frobnicate');
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trimEnd().split('\n').length, 1);
  assert.match(bad.stderr, /frobnicate/);
});

test('every command prints its usage on --help and -h and exits 0', () => {
  for (const c of commands()) {
    for (const flag of ['--help', '-h']) {
      const r = sovereign(c, flag);
      assert.equal(r.status, 0, `${c} ${flag}: ${r.stderr}`);
      assert.match(r.stdout, /^usage:/i, `${c} ${flag}`);
      assert.ok(r.stdout.includes(c === 'dig' ? 'dig' : `sovereign ${c}`), `${c} ${flag} names the command`);
      assert.equal(r.stderr, '', `${c} ${flag}`);
    }
  }
});

test('an unknown option: one line naming it, exit 2 (dig: 1 as dig; nslookup: as nslookup; check-zone: 1 as named-checkzone)', () => {
  for (const c of commands()) {
    const r = sovereign(c, '--frobnicate');
    if (c === 'nslookup') {
      // nslookup warns on stdout and carries on: with no name it reads commands (none here) from stdin.
      assert.equal(r.stdout, '*** Invalid option: -frobnicate\n\n');
      assert.equal(r.status, 1);
      continue;
    }
    const first = r.stderr.split('\n')[0]!;
    assert.match(first, /frobnicate/, `${c}: ${r.stderr}`);
    assert.equal(r.stdout, '', c);
    if (c === 'dig') {
      assert.equal(r.status, 1);
      assert.equal(first, 'Invalid option: --frobnicate');
    } else if (c === 'nsupdate') {
      // nsupdate's usage errors exit 1 (`nsupdate: invalid argument -x` and its usage).
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^usage: sovereign nsupdate /m);
    } else if (c === 'check-zone') {
      // named-checkzone's usage errors exit 1 (and print its usage after the reason).
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^usage: sovereign check-zone /m);
    } else {
      assert.equal(r.status, 2, `${c}: ${r.stderr}`);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${c}: one line`);
    }
  }
});
