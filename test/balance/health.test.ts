/**
 * Health-checked failover with real services on loopback: TCP listeners, node HTTP servers and
 * DNS servers on 127.0.2.x are stopped and started while the test asks the balanced names; an
 * address leaves the answers once its checks fail and comes back once they pass; all down gives
 * the fallback (or every address). No timing is asserted: the test polls the answers until they
 * are what they must be (the test runner's timeout is the only clock).
 */
import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:net';
import { type Server as HttpServer, createServer as createHttpServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { formatHealth } from '../../src/cli/health.js';
import { HealthChecker, type HealthClock, type HealthSpec } from '../../src/balance/health.js';
import { LocalBackend } from '../../src/control/backend.js';
import { controlJson } from '../../src/control/client.js';
import { renderMetrics } from '../../src/control/metrics.js';
import { ControlServer } from '../../src/control/server.js';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { RRType } from '../../src/wire/types.js';
import { pickPort } from '../helpers/peers.js';
import { udpQuery } from '../server/net-helpers.js';

const ADDR = '127.77.1.1';
const TCP = ['127.0.2.1', '127.0.2.2', '127.0.2.3'];
const WEB = ['127.0.2.11', '127.0.2.12'];
const DNS = ['127.0.2.21', '127.0.2.22'];

function listenTcp(address: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((c) => c.destroy());
    s.once('error', reject);
    s.listen(port, address, () => resolve(s));
  });
}

/** An HTTP backend answering /health with `status.code`. */
function listenHttp(address: string, port: number, status: { code: number }): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    const s = createHttpServer((req, res) => {
      res.statusCode = req.url === '/health' ? status.code : 404;
      res.end('ok\n');
    });
    s.once('error', reject);
    s.listen(port, address, () => resolve(s));
  });
}

function closeTcp(s: Server): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()));
}

function closeHttp(s: HttpServer): Promise<void> {
  s.closeAllConnections();
  return new Promise((resolve) => s.close(() => resolve()));
}

/** A DNS backend (our server with local data) answering probe.backend. A. */
async function startDns(address: string, port: number): Promise<DnsServer> {
  const s = new DnsServer({ config: defaultConfig({ listen: [`${address}:${port}`], workers: 1, control: { enabled: false }, localData: ['probe.backend. 60 IN A 192.0.2.53'] }), logger: silentLogger });
  await s.start();
  return s;
}

describe('health-checked failover with real services', () => {
  let server: DnsServer;
  let port: number;
  const tcpPort = pickPort();
  const httpPort = pickPort();
  const dnsPort = pickPort();
  const tcp = new Map<string, Server>();
  const web = new Map<string, HttpServer>();
  const webStatus = new Map(WEB.map((a) => [a, { code: 200 }]));
  const dns = new Map<string, DnsServer>();

  async function answers(name: string): Promise<string[]> {
    const r = await udpQuery(ADDR, port, Message.query(name, RRType.A));
    return r.answer.map((rr) => (rr.data as { address: string }).address).sort();
  }

  /** Asks until the answer is `want` (sorted); fails with the last answer if the runner's timeout comes first. */
  async function until(name: string, want: string[]): Promise<void> {
    const expected = [...want].sort();
    let last: string[] = [];
    for (;;) {
      last = await answers(name);
      if (last.join() === expected.join()) return;
      await new Promise((r) => setTimeout(r, 100));
      if (deadline()) assert.deepEqual(last, expected, `${name} never answered ${expected.join(', ')}`);
    }
  }
  let started = 0;
  const deadline = (): boolean => Date.now() - started > 60_000;

  before(async () => {
    for (const a of TCP) tcp.set(a, await listenTcp(a, tcpPort));
    for (const a of WEB) web.set(a, await listenHttp(a, httpPort, webStatus.get(a)!));
    for (const a of DNS) dns.set(a, await startDns(a, dnsPort));
    const health = { interval: '300ms', timeout: '250ms', rise: 1, fall: 1 };
    server = new DnsServer({
      config: defaultConfig({
        listen: [`${ADDR}:0`], workers: 1, control: { enabled: false },
        balance: {
          records: [
            { name: 'tcp.example.', addresses: TCP, answers: 'all', fallback: ['192.0.2.99'], health: { check: 'tcp', port: tcpPort, ...health } },
            { name: 'web.example.', addresses: WEB, answers: 'all', health: { check: 'http', port: httpPort, path: '/health', expectStatus: 200, ...health, rise: 2 } },
            { name: 'ns.example.', addresses: DNS, answers: 'all', health: { check: 'dns', port: dnsPort, query: { name: 'probe.backend.', type: 'A' }, ...health } },
          ],
        },
      }),
      logger: silentLogger,
    });
    await server.start();
    port = server.addresses[0]!.port;
  });

  after(async () => {
    await server.stop();
    for (const s of tcp.values()) await closeTcp(s);
    for (const s of web.values()) await closeHttp(s);
    for (const s of dns.values()) await s.stop();
  });

  test('TCP: a stopped listener leaves the answers and comes back; all down -> fallback', async () => {
    started = Date.now();
    await until('tcp.example.', TCP);
    await closeTcp(tcp.get('127.0.2.2')!);
    await until('tcp.example.', ['127.0.2.1', '127.0.2.3']);
    const rows = server.balancer!.checker!.snapshot().filter((r) => r.address === '127.0.2.2');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.up, false);
    assert.match(rows[0]!.lastError, /ECONNREFUSED/);
    // While it is down: /metrics and the control op say so.
    const backend = new LocalBackend(server);
    const m = await renderMetrics(await backend.run({ op: 'stats' }), []);
    assert.match(m.body, new RegExp(`sovereign_health_check_up\\{name="tcp\\.example\\.",address="127\\.0\\.2\\.2",check="tcp:${tcpPort}"\\} 0\\n`));
    assert.match(m.body, new RegExp(`sovereign_health_check_up\\{name="tcp\\.example\\.",address="127\\.0\\.2\\.1",check="tcp:${tcpPort}"\\} 1\\n`));
    assert.match(m.body, /sovereign_lb_answers_total\{policy="lb:failover"\} [1-9]/);
    tcp.set('127.0.2.2', await listenTcp('127.0.2.2', tcpPort));
    await until('tcp.example.', TCP);
    for (const a of TCP) await closeTcp(tcp.get(a)!);
    await until('tcp.example.', ['192.0.2.99']);
    for (const a of TCP) tcp.set(a, await listenTcp(a, tcpPort));
    await until('tcp.example.', TCP);
  });

  test('HTTP: a wrong status or a stopped server leaves; back after `rise` good checks', async () => {
    started = Date.now();
    await until('web.example.', WEB);
    webStatus.get('127.0.2.12')!.code = 503;
    await until('web.example.', ['127.0.2.11']);
    const down = server.balancer!.checker!.snapshot().find((r) => r.address === '127.0.2.12')!;
    assert.match(down.lastError, /HTTP status 503, expected 200/);
    webStatus.get('127.0.2.12')!.code = 200;
    await until('web.example.', WEB);
    await closeHttp(web.get('127.0.2.11')!);
    await until('web.example.', ['127.0.2.12']);
    // All down and no fallback: every address (PowerDNS ifportup's "all down, return all").
    await closeHttp(web.get('127.0.2.12')!);
    await until('web.example.', WEB);
    assert.equal(server.balancer!.checker!.snapshot().filter((r) => r.names.includes('web.example.') && r.up).length, 0);
    web.set('127.0.2.11', await listenHttp('127.0.2.11', httpPort, webStatus.get('127.0.2.11')!));
    await until('web.example.', ['127.0.2.11']);
    web.set('127.0.2.12', await listenHttp('127.0.2.12', httpPort, webStatus.get('127.0.2.12')!));
    await until('web.example.', WEB);
  });

  test('DNS: a stopped name server leaves the answers and comes back', async () => {
    started = Date.now();
    await until('ns.example.', DNS);
    await dns.get('127.0.2.21')!.stop();
    await until('ns.example.', ['127.0.2.22']);
    dns.set('127.0.2.21', await startDns('127.0.2.21', dnsPort));
    await until('ns.example.', DNS);
  });

  test('the control endpoint and `sovereign health` show every checked address', async () => {
    const control = new ControlServer({ backend: new LocalBackend(server), logger: silentLogger, address: ADDR, port: 0, token: 't0ken' });
    await control.listen();
    try {
      const r = await controlJson<{ checks: { names: string[]; address: string; up: boolean; checks: number }[] }>({ address: ADDR, port: control.port, token: 't0ken' }, 'GET', '/v1/health-checks');
      assert.equal(r.status, 200);
      assert.deepEqual(r.data.checks.map((c) => `${c.names.join()} ${c.address}`).sort(),
        [...TCP.map((a) => `tcp.example. ${a}`), ...WEB.map((a) => `web.example. ${a}`), ...DNS.map((a) => `ns.example. ${a}`)].sort());
      assert.ok(r.data.checks.every((c) => c.checks > 0));
      const text = formatHealth(r.data.checks as never);
      assert.match(text, /^up {4}tcp\.example\. {2}127\.0\.2\.1 {2}tcp:\d+ {2}checks \d+/m);
    } finally {
      await control.close();
    }
  });
});

describe('health scheduler (injected clock and probe)', () => {
  test('fall/rise counting, one probe in flight per target, one timer', async () => {
    let now = 0;
    const timers: { fn: () => void; at: number }[] = [];
    const clock: HealthClock = {
      now: () => now,
      setTimer: (fn, ms) => {
        const t = { fn, at: now + ms };
        timers.push(t);
        return t;
      },
      clearTimer: (h) => {
        const i = timers.indexOf(h as never);
        if (i >= 0) timers.splice(i, 1);
      },
    };
    let healthy = true;
    let probes = 0;
    const checker = new HealthChecker({ logger: silentLogger, clock, probe: async () => {
      probes++;
      if (!healthy) throw new Error('refused');
    } });
    const spec: HealthSpec = {
      check: 'tcp', port: 80, path: '/', host: 'x', expectStatus: 200, insecure: false, queryName: Name.ROOT, queryType: 1, expectRcode: 0,
      intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3,
    };
    const t = checker.target('192.0.2.1', spec, 'x.example.');
    assert.equal(checker.target('192.0.2.1', spec, 'y.example.'), t, 'one target per address and check');
    assert.deepEqual(t.names, ['x.example.', 'y.example.']);
    const step = async (): Promise<void> => {
      // Let the probe settle, then advance to the next timer.
      await new Promise((r) => setImmediate(r));
      assert.equal(timers.length, 1, 'exactly one timer armed');
      const next = timers.shift()!;
      now = next.at;
      next.fn();
      await new Promise((r) => setImmediate(r));
    };
    checker.start();
    await new Promise((r) => setImmediate(r));
    assert.equal(probes, 1);
    healthy = false;
    await step();
    await step();
    assert.equal(t.up, true, 'two failures of fall 3: still up');
    await step();
    assert.equal(t.up, false, 'third failure: down');
    assert.equal(checker.version, 1);
    healthy = true;
    await step();
    assert.equal(t.up, false, 'one success of rise 2: still down');
    await step();
    assert.equal(t.up, true);
    assert.equal(probes, 6);
    assert.equal(now, 5000);
    checker.stop();
    assert.equal(timers.length, 0);
    // A reload builds a new checker: it keeps what the old one knew (a down address stays down).
    healthy = false;
    const before = new HealthChecker({ logger: silentLogger, clock, probe: async () => { throw new Error('refused'); } });
    const old = before.target('192.0.2.1', spec, 'x.example.');
    for (let i = 0; i < 3; i++) before.record(old, now, 'refused');
    assert.equal(old.up, false);
    const next = new HealthChecker({ logger: silentLogger, clock });
    const fresh = next.target('192.0.2.1', spec, 'x.example.');
    const other = next.target('192.0.2.2', spec, 'x.example.');
    next.adopt(before);
    assert.equal(fresh.up, false);
    assert.equal(fresh.failedChecks, 3);
    assert.equal(other.up, true);
    before.stop();
  });
});
