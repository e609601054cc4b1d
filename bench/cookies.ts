/**
 * `npm run bench:cookies`: what DNS Cookies (RFC 7873, RFC 9018) cost on the UDP answer cache.
 *
 * Serves a 1,000-name zone with Sovereign (`--workers 1`, pinned to core 0; dnsperf on core 1) and
 * sends the same names three ways, rounds interleaved: EDNS without options (`dnsperf -e`), a
 * client cookie only (`-E 10:<8 octets>`, as dig and resolvers send first), and client plus a
 * valid server cookie (`-E 10:<24 octets>`, computed with the configured secret for 127.0.0.1,
 * as they send afterwards). Every cookie answer comes from the answer cache with a fresh server
 * cookie. Prints QPS, lost queries and the server's CPU µs per answer (medians), and the ratios
 * to the cookie-less run (target <= 1.1x).
 *
 * Environment: BENCH_SECONDS (per round, default 5), BENCH_ROUNDS (default 3), BENCH_OUTSTANDING.
 */
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServerCookies } from '../src/server/cookies.js';
import { addLoopbackAddress, tempDir } from '../test/helpers/peers.js';
import { type Measured, ROUNDS, SECONDS, median, measure, pinTree, startNode, warmUp } from './lib/dnsperf.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADDRESS = '127.23.9.2';
const PORT = 5391;
const ZONE = 'bench.example';
const SECRET = '0123456789abcdef0123456789abcdef';

async function main(): Promise<void> {
  const dir = tempDir('sovereign-bench-cookies-');
  const lines = [`$ORIGIN ${ZONE}.`, '$TTL 3600', '@ SOA ns1 hostmaster 1 7200 3600 1209600 300', '@ NS ns1', 'ns1 A 192.0.2.1'];
  const names: string[] = [];
  for (let i = 0; i < 1000; i++) {
    lines.push(`host${i} A 10.${(i >> 8) & 255}.${i & 255}.1`);
    names.push(`host${i}.${ZONE} A`);
  }
  writeFileSync(join(dir.path, 'zone.db'), lines.join('\n') + '\n');
  const queries = join(dir.path, 'queries.txt');
  writeFileSync(queries, names.join('\n') + '\n');
  const conf = join(dir.path, 'sovereign.json');
  writeFileSync(conf, JSON.stringify({ workers: 1, zones: [{ name: ZONE, file: join(dir.path, 'zone.db') }], cookies: { secret: SECRET }, control: { enabled: false } }));

  // dnsperf sends from 127.0.0.1; the server cookie it returns must be valid for that address.
  const sc = new ServerCookies({ base: new Uint8Array(32), rotationS: 3600, secret: Buffer.from(SECRET, 'hex') });
  const client = Buffer.from('0102030405060708', 'hex');
  const opt = new Uint8Array(28);
  sc.writeOption(client, 0, '127.0.0.1', opt, 0);
  const modes: Record<string, string[]> = {
    'EDNS, no cookie': ['-e'],
    'client cookie': ['-E', `10:${client.toString('hex')}`],
    'client+server cookie': ['-E', `10:${Buffer.from(opt.subarray(4)).toString('hex')}`],
  };

  addLoopbackAddress(ADDRESS);
  const h = await startNode([join(ROOT, 'bin', 'sovereign.js'), 'serve', '--config', conf, '--listen', `${ADDRESS}:${PORT}`, '--log-level', 'warn'],
    { address: ADDRESS, port: PORT, zone: ZONE });
  const target = { name: 'Sovereign', address: ADDRESS, port: PORT, tree: pinTree(h.pid) };
  const results: Record<string, Measured[]> = {};
  try {
    for (const m of Object.values(modes)) warmUp(target, queries, m);
    console.log(`load: ${execSync('uptime').toString().trim()}`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, m] of Object.entries(modes)) (results[name] ??= []).push(measure(target, queries, SECONDS, m));
    }
    console.log(`load: ${execSync('uptime').toString().trim()}`);
  } finally {
    await h.stop();
    dir.cleanup();
  }
  const base = median(results['EDNS, no cookie']!.map((r) => r.cpuUsPerQuery));
  for (const [name, rs] of Object.entries(results)) {
    const cpu = median(rs.map((r) => r.cpuUsPerQuery));
    const lost = rs.reduce((a, r) => a + (Number.isNaN(r.lost) ? 0 : r.lost), 0);
    console.log(`${name.padEnd(22)} ${median(rs.map((r) => r.qps)).toFixed(0).padStart(7)} QPS  ${cpu.toFixed(2)} µs CPU/answer  ` +
      `${(cpu / base).toFixed(2)}x${name.includes('cookie') && !name.startsWith('EDNS') ? ` (target <= 1.1x: ${cpu / base <= 1.1 ? 'met' : 'NOT met'})` : ''}  lost ${lost}`);
  }
}

await main();
