// Interop: the zone corpus in test/golden/zones/ (plus zones generated here) is loaded by
// `sovereign check-zone --print` and by named-checkzone -D, and checked by kzonecheck. Loaded
// zones must hold the same records (compared as sets of normalised RRs); broken files must be
// rejected by us and by each peer that the file says rejects it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Name } from '../../src/index.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { havePeers, runTool, tempDir } from '../helpers/peers.js';
import { rrLine, writeFiles } from '../zone/util.js';

const CORPUS = fileURLToPath(new URL('../../../test/golden/zones/', import.meta.url));
const BIN = fileURLToPath(new URL('../../../bin/sovereign.js', import.meta.url));

/** Records printed in master-file form, normalised: parsed by our parser, one line each, sorted. */
function normalise(text: string): string[] {
  const out: string[] = [];
  for (const e of parseZoneText(text, { origin: Name.ROOT, file: 'printed' })) out.push(rrLine(e.record));
  return out.sort();
}

function ours(origin: string, file: string, cwd: string): { status: number | null; records: string[]; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'check-zone', '--print', origin, file], { encoding: 'utf8', cwd, maxBuffer: 64 << 20 });
  // With --print the problems and the status line go to stderr.
  return { status: r.status, records: r.status === 0 ? normalise(r.stdout) : [], stdout: r.stdout + r.stderr, stderr: r.stderr };
}

function named(origin: string, file: string, cwd: string): { status: number | null; records: string[]; stderr: string } {
  // -i local: no checks that need the network; -D -o -: print the loaded zone.
  const r = runTool('named-checkzone', ['-i', 'local', '-D', '-o', '-', origin, file], { cwd });
  return { status: r.status, records: r.status === 0 ? normalise(r.stdout.replace(/^zone .*$|^OK$/gm, '')) : [], stderr: r.stdout + r.stderr };
}

function knot(origin: string, file: string, cwd: string): { status: number | null; output: string } {
  const r = runTool('kzonecheck', ['-o', origin, file], { cwd });
  return { status: r.status, output: r.stdout + r.stderr };
}

/** The origin a corpus file names in its header comment (`Origin: example.com.`). */
function originOf(path: string): string {
  const m = /Origin: (\S+)/.exec(readFileSync(path, 'utf8'));
  return m?.[1] ?? 'example.com.';
}

interface Good {
  file: string;
  /** Knot cannot read it ($GENERATE, types it lacks): kzonecheck is not asked. */
  knot: boolean;
  /** BIND cannot read it (nested $INCLUDE resolved against its working directory). */
  named?: boolean;
}

const good: Good[] = [
  { file: 'directives.zone', knot: true },
  { file: 'escapes.zone', knot: true },
  { file: 'longtxt.zone', knot: true },
  { file: 'wildcards.zone', knot: true },
  { file: 'delegations.zone', knot: true },
  { file: 'ttl-rules.zone', knot: true },
  { file: 'soa-minimum.zone', knot: true },
  { file: 'generate.zone', knot: false },
  { file: 'reverse.zone', knot: false },
  { file: 'alltypes.zone', knot: false },
  { file: 'bind-types.zone', knot: false },
  { file: 'include-nested.zone', knot: true, named: false },
];

for (const g of good) {
  test(`corpus ${g.file}: same records as named-checkzone -D; kzonecheck accepts it`, (t) => {
    if (!havePeers(t, 'named-checkzone', 'kzonecheck')) return;
    const origin = originOf(join(CORPUS, g.file));
    const us = ours(origin, g.file, CORPUS);
    assert.equal(us.status, 0, us.stdout + us.stderr);
    assert.ok(us.records.length >= 3);
    if (g.named !== false) {
      const them = named(origin, g.file, CORPUS);
      assert.equal(them.status, 0, them.stderr);
      assert.deepEqual(us.records, them.records);
    }
    if (g.knot) {
      const k = knot(origin, g.file, CORPUS);
      assert.equal(k.status, 0, k.output);
    }
  });
}

const BROKEN = join(CORPUS, 'broken');
for (const file of readdirSync(BROKEN).filter((f) => f.endsWith('.zone')).sort()) {
  test(`broken ${file}: rejected by us and by the peers that reject it`, (t) => {
    if (!havePeers(t, 'named-checkzone', 'kzonecheck')) return;
    const text = readFileSync(join(BROKEN, file), 'utf8');
    const rejectedBy = /^; Rejected by: (.*)$/m.exec(text)![1]!;
    const reason = /^; Ours: (.*)$/m.exec(text)![1]!;
    const us = ours('example.com.', file, BROKEN);
    assert.equal(us.status, 1, us.stdout);
    assert.ok(us.stdout.includes(reason), `expected "${reason}" in:\n${us.stdout}`);
    assert.match(us.stdout, /^zone example\.com\/IN: not loaded due to errors\.$/m);
    // Every error line names file, line and column.
    for (const l of us.stdout.split('\n').filter((x) => x.includes(': error: '))) assert.match(l, /^[^:]+\.zone:\d+:\d+: error: /);
    if (/\bnamed\b/.test(rejectedBy)) assert.notEqual(named('example.com.', file, BROKEN).status, 0, 'named-checkzone accepted it');
    if (/\bknot\b/.test(rejectedBy)) assert.notEqual(knot('example.com.', file, BROKEN).status, 0, 'kzonecheck accepted it');
  });
}

// Zones generated here: sizes and shapes the corpus files do not cover.
const dir = tempDir('sovereign-zone-interop-');
after(() => dir.cleanup());

test('generated: a zone of 5,104 mixed records loads to the same records as named-checkzone', (t) => {
  if (!havePeers(t, 'named-checkzone', 'kzonecheck')) return;
  let text = '$TTL 300\n@ SOA ns1 hostmaster 7 3600 900 604800 300\n@ NS ns1\n@ NS ns2.example.net.\nns1 A 192.0.2.1\n';
  for (let i = 0; i < 1000; i++) {
    text += `h${i} A 10.0.${i >> 8}.${i & 255}\n AAAA 2001:db8::${i.toString(16)}\n`;
    text += `m${i} ${i % 7 === 0 ? '60 ' : ''}MX ${i % 50} mail${i % 3}.example.net.\n`;
    text += `t${i} TXT "v=spf1 ~all" "n=${i}" "q\\"${i}\\""\n`;
    text += i % 10 === 0 ? `d${i} NS ns.d${i}\nns.d${i} A 10.9.${i >> 8}.${i & 255}\n` : `c${i} CNAME h${i}\n`;
  }
  writeFiles(dir.path, { 'gen.zone': text });
  const us = ours('example.com', 'gen.zone', dir.path);
  const them = named('example.com', 'gen.zone', dir.path);
  assert.equal(us.status, 0, us.stdout);
  assert.equal(them.status, 0, them.stderr);
  assert.equal(us.records.length, 5104);
  assert.deepEqual(us.records, them.records);
  assert.equal(knot('example.com', 'gen.zone', dir.path).status, 0);
});

test('generated: one TXT string over 255 octets is split (as Knot does); BIND refuses it', (t) => {
  if (!havePeers(t, 'named-checkzone', 'kzonecheck')) return;
  writeFiles(dir.path, { 'long.zone': `$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nlong TXT "${'z'.repeat(600)}"\n` });
  const us = ours('example.com', 'long.zone', dir.path);
  assert.equal(us.status, 0, us.stdout);
  assert.ok(us.records.includes(`long.example.com. 300 IN TXT "${'z'.repeat(255)}" "${'z'.repeat(255)}" "${'z'.repeat(90)}"`));
  assert.equal(knot('example.com', 'long.zone', dir.path).status, 0);
  // A known difference between the peers: named-checkzone rejects the over-long string.
  assert.notEqual(named('example.com', 'long.zone', dir.path).status, 0);
});
