/**
 * `BENCH_ONLY=dashboard npm run bench:auth` (or BENCH_DASHBOARD=1 beside the usual servers): what
 * a web dashboard open during the benchmark costs the server. Sovereign serves the benchmark zone
 * with its control endpoint on; Debian's chromium (headless, puppeteer-core, pinned to the client
 * core with dnsperf) is logged in to the dashboard. Rounds alternate: the overview page open (it
 * polls /v1/stats/series, /v1/stats and /v1/top every 2 s) and closed (about:blank), so a noisy
 * moment on the shared machine hits both. Prints QPS and server CPU per answer for each, and the
 * ratios (target: QPS changes by at most 5%).
 */
import { execSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import puppeteer from 'puppeteer-core';
import { ensureToken } from '../../src/control/token.js';
import { PEER_BINARIES, addLoopbackAddress } from '../../test/helpers/peers.js';
import { type Measured, ROUNDS, median, pin, pinTree, processTree, startNode, summarize, measure, warmUp, CLIENT_CORE } from './dnsperf.js';

export interface DashboardCost {
  open: ReturnType<typeof summarize>;
  closed: ReturnType<typeof summarize>;
  /** Open over closed, round by round (measured back to back): QPS and server CPU per answer. */
  pairedQps: number[];
  pairedCpu: number[];
}

/** Runs the pass; `root` is the repository, `dir` a scratch folder holding zone and queries. */
export async function dashboardPass(root: string, dir: string, zone: string, zoneFile: string, queries: string, port: number): Promise<DashboardCost> {
  const address = '127.23.2.21';
  addLoopbackAddress(address);
  const controlPort = 8153;
  const token = ensureToken(join(dir, 'dashboard-token')).token;
  const cfg = join(dir, 'dashboard.yaml');
  writeFileSync(cfg, [
    `listen: ["${address}:${port}"]`, 'workers: 1', `zones: [{ name: "${zone}", file: "${zoneFile}" }]`,
    `control: { listen: "${address}:${controlPort}", tokenFile: "${join(dir, 'dashboard-token')}" }`, '',
  ].join('\n'));
  const server = await startNode([join(root, 'bin', 'sovereign.js'), 'serve', '--config', cfg, '--log-level', 'warn'], { address, port, zone });
  const target = { name: 'Sovereign', address, port, tree: pinTree(server.pid) };
  const browser = await puppeteer.launch({
    executablePath: PEER_BINARIES.chromium, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
  try {
    const bpid = browser.process()?.pid;
    if (bpid !== undefined) pin(processTree(bpid).length > 0 ? processTree(bpid) : [bpid]);
    const page = await browser.newPage();
    const url = `http://${address}:${controlPort}/`;
    await page.goto(url);
    await page.waitForSelector('#token');
    await page.type('#token', token);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#chart-qps');
    // Chromium's renderers start later than its main process: pin them too.
    if (bpid !== undefined) pin(processTree(bpid));
    warmUp(target, queries);
    const open: Measured[] = [];
    const closed: Measured[] = [];
    console.log(`dashboard pass: load before: ${execSync('uptime').toString().trim()}; chromium on core ${CLIENT_CORE}`);
    for (let round = 0; round < ROUNDS; round++) {
      await page.goto(url + '#/overview');
      await page.waitForSelector('#chart-qps');
      open.push(measure(target, queries));
      await page.goto('about:blank');
      closed.push(measure(target, queries));
    }
    console.log(`dashboard pass: load after: ${execSync('uptime').toString().trim()}`);
    return {
      open: summarize(open), closed: summarize(closed),
      pairedQps: open.map((o, i) => o.qps / closed[i]!.qps), pairedCpu: open.map((o, i) => o.cpuUsPerQuery / closed[i]!.cpuUsPerQuery),
    };
  } finally {
    await browser.close();
    await server.stop();
  }
}

export function printDashboardCost(c: DashboardCost): void {
  const row = (label: string, s: ReturnType<typeof summarize>): string =>
    `  ${label.padEnd(18)}${s.qps.toFixed(0).padEnd(10)}${s.cpuUsPerQuery.toFixed(2).padEnd(8)}us/answer  lost ${s.lost}  rounds ${s.roundsQps}`;
  console.log('\nDashboard open (overview polling every 2 s) vs closed, Sovereign --workers 1, medians:');
  console.log(row('dashboard open', c.open));
  console.log(row('dashboard closed', c.closed));
  const q = c.open.qps / c.closed.qps;
  console.log(`  open / closed: ${q.toFixed(3)}x QPS (target within 5%: ${Math.abs(1 - q) <= 0.05 ? 'met' : 'NOT met'}), ` +
    `${(c.open.cpuUsPerQuery / c.closed.cpuUsPerQuery).toFixed(3)}x CPU per answer`);
  const mq = median(c.pairedQps);
  console.log(`  per round (back to back): QPS ${c.pairedQps.map((x) => x.toFixed(3)).join(' ')}, median ${mq.toFixed(3)}x ` +
    `(target within 5%: ${Math.abs(1 - mq) <= 0.05 ? 'met' : 'NOT met'}); server CPU per answer ${c.pairedCpu.map((x) => x.toFixed(3)).join(' ')}, ` +
    `median ${median(c.pairedCpu).toFixed(3)}x (chromium shares dnsperf's core: on a loaded machine QPS moves with it, CPU per answer is the server's own cost)`);
}
