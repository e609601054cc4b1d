/**
 * `npm run bench:zone`: writes a 1,000,000-record zone (A, AAAA, MX, TXT, CNAME and NS delegations
 * with glue, as a hosting provider's zone looks) to a temp folder, then loads it with Sovereign's
 * loader, named-checkzone and kzonecheck in the same run, each in its own process so peak RSS is
 * the loader's own. Prints seconds, peak RSS, memory per record (peak RSS less the same tool's RSS
 * on a 4-record zone, divided by the records) and the ratios.
 *
 * Targets (issue 3): load time no more than named-checkzone's; memory per record within 2x of it.
 * Each tool runs BENCH_ROUNDS times (default 3) and the median time is reported, with the peak RSS
 * of the same run; the machine is shared and noisy.
 *
 * `node dist/bench/zone.js --child FILE ORIGIN` is the child: it loads FILE (parse, zone, checks)
 * and prints `{seconds, maxRssKb, records}` as JSON (for a look by hand); the benchmark times the
 * whole child process with /usr/bin/time, as it times the peers.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Name } from '../src/wire/name.js';
import { loadZone } from '../src/zone/load.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const NAMED_CHECKZONE = '/usr/bin/named-checkzone';
const KZONECHECK = '/usr/bin/kzonecheck';
const TIME = '/usr/bin/time';

interface Run {
  seconds: number;
  maxRssKb: number;
}

function child(file: string, origin: string): void {
  const t0 = process.hrtime.bigint();
  const r = loadZone(file, Name.fromText(origin));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.zone === undefined) {
    process.stderr.write(r.problems.slice(0, 5).map((p) => `${p.file}:${p.line}: ${p.reason}`).join('\n') + '\n');
    process.exit(1);
  }
  process.stdout.write(JSON.stringify({ seconds, maxRssKb: process.resourceUsage().maxRSS, records: r.zone.recordCount }) + '\n');
}

/** Writes the zone in 1 MiB pieces (never the whole text in memory); returns the record count. */
function writeZone(path: string, target: number): number {
  const fd = openSync(path, 'w');
  let buf = '';
  let n = 0;
  const put = (line: string): void => {
    buf += line + '\n';
    n++;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  };
  put('$TTL 3600');
  put('@ IN SOA ns1 hostmaster 2024010101 7200 900 1209600 300');
  put('@ NS ns1');
  put('@ NS ns2.example.net.');
  put('ns1 A 192.0.2.1');
  put('ns1 AAAA 2001:db8::1');
  for (let i = 0; n < target; i++) {
    switch (i % 10) {
      case 0: case 1: case 2: case 3:
        put(`h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
        break;
      case 4: case 5:
        put(`h${i} AAAA 2001:db8:${(i >> 16).toString(16)}::${(i & 0xffff).toString(16)}`);
        break;
      case 6:
        put(`h${i} MX 10 mx${i % 100}.example.net.`);
        break;
      case 7:
        put(`h${i} TXT "v=spf1 include:_spf.example.net ~all" "id=${i}"`);
        break;
      case 8:
        put(`www${i} CNAME h${i - 8}`);
        break;
      default:
        if (n + 3 > target) {
          put(`h${i} A 10.255.${(i >> 8) & 255}.${i & 255}`);
          break;
        }
        put(`d${i} NS ns.d${i}`);
        put(`d${i} NS ns2.example.net.`);
        put(`ns.d${i} A 10.200.${(i >> 8) & 255}.${i & 255}`);
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
  return n;
}

/** Runs a peer under GNU time: elapsed seconds and peak RSS. */
function timed(cmd: string, args: string[]): Run {
  const r = spawnSync(TIME, ['-f', 'BENCH %e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
  const m = /BENCH ([\d.]+) (\d+)/.exec(r.stderr);
  if (r.status !== 0 || m === null) throw new Error(`${cmd} failed (${r.status}): ${r.stdout.slice(-500)}${r.stderr.slice(-500)}`);
  return { seconds: Number(m[1]), maxRssKb: Number(m[2]) };
}

/**
 * Our loader as a whole process under GNU time, like the peers: node's start-up and module loading
 * count, as they do for named-checkzone's and kzonecheck's own start-up.
 */
function ours(file: string): Run {
  return timed(process.execPath, [fileURLToPath(import.meta.url), '--child', file, 'example.com.']);
}

function median(runs: Run[]): Run {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function main(): void {
  const missing = [NAMED_CHECKZONE, KZONECHECK, TIME].filter((p) => !existsSync(p));
  if (missing.length > 0) {
    console.error(`missing: ${missing.join(', ')} (run scripts/install-peers.sh)`);
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sovereign-bench-zone-'));
  try {
    const file = join(dir, 'big.zone');
    const small = join(dir, 'small.zone');
    const t0 = Date.now();
    const records = writeZone(file, RECORDS);
    writeFileSync(small, '$TTL 3600\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n');
    console.log(`zone benchmark: node ${process.version}, ${records} records written in ${((Date.now() - t0) / 1000).toFixed(1)} s; median of ${ROUNDS} rounds`);

    const tools: { name: string; run(f: string): Run }[] = [
      { name: 'sovereign', run: (f) => ours(f) },
      { name: 'named-checkzone', run: (f) => timed(NAMED_CHECKZONE, ['-i', 'local', 'example.com', f]) },
      { name: 'kzonecheck', run: (f) => timed(KZONECHECK, ['-o', 'example.com', f]) },
    ];
    const results = new Map<string, { run: Run; baseKb: number; perRecord: number }>();
    const runs = new Map<string, Run[]>(tools.map((t) => [t.name, []]));
    // Alternate the tools round by round so noise hits them alike.
    for (let round = 0; round < ROUNDS; round++) for (const t of tools) runs.get(t.name)!.push(t.run(file));
    for (const t of tools) {
      const base = t.run(small).maxRssKb;
      const run = median(runs.get(t.name)!);
      results.set(t.name, { run, baseKb: base, perRecord: ((run.maxRssKb - base) * 1024) / records });
    }

    console.log(`${'tool'.padEnd(17)}${'seconds'.padStart(9)}${'peak RSS MB'.padStart(13)}${'base MB'.padStart(9)}${'bytes/record'.padStart(14)}`);
    for (const [name, r] of results) {
      console.log(`${name.padEnd(17)}${r.run.seconds.toFixed(2).padStart(9)}${(r.run.maxRssKb / 1024).toFixed(0).padStart(13)}` +
        `${(r.baseKb / 1024).toFixed(0).padStart(9)}${r.perRecord.toFixed(0).padStart(14)}`);
    }
    const us = results.get('sovereign')!;
    for (const peer of ['named-checkzone', 'kzonecheck']) {
      const p = results.get(peer)!;
      console.log(`vs ${peer}: time ${(us.run.seconds / p.run.seconds).toFixed(2)}x, memory per record ${(us.perRecord / p.perRecord).toFixed(2)}x, ` +
        `peak RSS ${(us.run.maxRssKb / p.run.maxRssKb).toFixed(2)}x`);
    }
    const named = results.get('named-checkzone')!;
    const timeOk = us.run.seconds <= named.run.seconds;
    const memOk = us.perRecord <= 2 * named.perRecord;
    console.log(`target load time <= named-checkzone: ${timeOk ? 'MET' : 'NOT MET'}; memory per record <= 2x named-checkzone: ${memOk ? 'MET' : 'NOT MET'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') child(process.argv[3]!, process.argv[4]!);
else main();
