/**
 * `npm run bench:sign [-- RECORDS] [--ours-only]`: writes a zone of RECORDS records (argument, else
 * BENCH_RECORDS, default 1,000,000: A, AAAA, TXT, MX and delegations with DS), makes one
 * ECDSAP256SHA256 KSK and ZSK with dnssec-keygen, and signs the zone with `sovereign dnssec sign`
 * (one thread per core, its default), `dnssec-signzone` (one per core, its default) and
 * `ldns-signzone` (single-threaded) in the same run, with NSEC and with NSEC3 (RFC 9276: no salt,
 * 0 iterations). Prints wall seconds, CPU seconds (user + system) and peak RSS of each (GNU time),
 * the ratios to dnssec-signzone and the load. `--ours-only` signs with Sovereign alone (a large
 * zone on a loaded machine).
 *
 * Target (issue 14): wall time at most 1x dnssec-signzone's, memory at most 2x.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const OURS_ONLY = args.includes('--ours-only');
const RECORDS = Number(args.find((a) => /^\d+$/.test(a)) ?? process.env.BENCH_RECORDS ?? 1_000_000);
const TIME = '/usr/bin/time';
const ORIGIN = 'bench.example';
const BIN = fileURLToPath(new URL('../../bin/sovereign.js', import.meta.url));

function writeZone(path: string, target: number): number {
  const fd = openSync(path, 'w');
  let buf = `$ORIGIN ${ORIGIN}.\n$TTL 3600\n@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2\n`;
  let n = 5;
  for (let i = 0; n < target; i++) {
    const k = i % 10;
    if (k < 5) buf += `h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`;
    else if (k < 7) buf += `h${i} AAAA 2001:db8::${(i & 0xffff).toString(16)}\n`;
    else if (k < 8) buf += `h${i} TXT "v=spf1 -all ${i}"\n`;
    else if (k < 9) buf += `h${i} MX 10 h${i - 1}\n`;
    else {
      buf += `d${i} NS ns.d${i}\nns.d${i} A 192.0.2.${i & 255}\n`;
      if ((i & 1) === 0) buf += `d${i} DS 12345 13 2 ${'AB'.repeat(32)}\n`;
      n += (i & 1) === 0 ? 2 : 1;
    }
    n++;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
  return n;
}

interface Run {
  seconds: number;
  cpu: number;
  maxRssKb: number;
}

function timed(cmd: string, args: string[], cwd: string): Run {
  const r = spawnSync(TIME, ['-f', '%e %U %S %M', cmd, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.slice(-2000)}`);
  const last = r.stderr.trim().split('\n').pop()!.split(' ');
  return { seconds: Number(last[0]), cpu: Number(last[1]) + Number(last[2]), maxRssKb: Number(last[3]) };
}

const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

const dir = mkdtempSync(join(tmpdir(), 'sovereign-bench-sign-'));
try {
  const zone = join(dir, 'zone');
  const records = writeZone(zone, RECORDS);
  const keys = join(dir, 'keys');
  mkdirSync(keys);
  const ksk = spawnSync('/usr/bin/dnssec-keygen', ['-q', '-K', keys, '-a', 'ECDSAP256SHA256', '-f', 'KSK', ORIGIN], { encoding: 'utf8' }).stdout.trim();
  const zsk = spawnSync('/usr/bin/dnssec-keygen', ['-q', '-K', keys, '-a', 'ECDSAP256SHA256', ORIGIN], { encoding: 'utf8' }).stdout.trim();
  process.stdout.write(`bench:sign ${records} records, ${availableParallelism()} cores, load ${load()}\n`);
  for (const [label, extra, ldnsExtra] of [['NSEC', [], []], ['NSEC3', ['-3', '-', '-H', '0'], ['-n', '-t', '0']]] as const) {
    const runs: [string, Run][] = [];
    runs.push(['sovereign', timed(process.execPath, [BIN, 'dnssec', 'sign', '-o', ORIGIN, '-K', keys, '-f', join(dir, 'ours'), ...extra, zone], dir)]);
    if (!OURS_ONLY) {
      runs.push(['dnssec-signzone', timed('/usr/bin/dnssec-signzone', ['-S', '-K', keys, '-d', dir, '-o', ORIGIN, '-f', join(dir, 'bind'), ...extra, zone], dir)]);
      runs.push(['ldns-signzone', timed('/usr/bin/ldns-signzone', ['-o', ORIGIN, '-f', join(dir, 'ldns'), ...ldnsExtra, zone, join(keys, ksk), join(keys, zsk)], dir)]);
    }
    process.stdout.write(`${label} (load ${load()}):\n`);
    for (const [who, r] of runs) {
      process.stdout.write(`  ${who.padEnd(16)} ${r.seconds.toFixed(2).padStart(8)} s wall ${r.cpu.toFixed(2).padStart(8)} s CPU ` +
        `${((r.cpu * 1e6) / records).toFixed(1).padStart(6)} µs CPU/record ${(r.maxRssKb / 1024).toFixed(0).padStart(6)} MiB peak RSS\n`);
    }
    const bind = runs.find(([w]) => w === 'dnssec-signzone')?.[1];
    if (bind !== undefined) {
      for (const [who, r] of runs) {
        if (r === bind) continue;
        process.stdout.write(`  ${who} / dnssec-signzone: wall ${(r.seconds / bind.seconds).toFixed(2)}x, CPU ${(r.cpu / bind.cpu).toFixed(2)}x, memory ${(r.maxRssKb / bind.maxRssKb).toFixed(2)}x\n`);
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
