/**
 * A server set-up for the control API and dashboard tests: a small delegation hierarchy of
 * Sovereign authoritative servers on 127.26.7.x:53 (root -> `sov.` -> `web.sov.`), and the
 * server under test on 127.26.7.10 with recursion from those root hints, a forward zone, a
 * static primary zone, a dynamic zone (allowUpdate) and a secondary zone (transferred from the
 * leaf server), and its control endpoint with a token.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config/load.js';
import { LocalBackend } from '../../src/control/backend.js';
import { ControlServer } from '../../src/control/server.js';
import { ensureToken } from '../../src/control/token.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { tempDir } from './peers.js';

export const LAB = {
  root: '127.26.7.1', tld: '127.26.7.2', leaf: '127.26.7.3', ours: '127.26.7.10',
};

export interface ControlLab {
  dir: string;
  server: DnsServer;
  control: ControlServer;
  /** DNS port of the server under test (53 for the hierarchy). */
  port: number;
  controlUrl: string;
  token: string;
  stop(): Promise<void>;
}

const SOA = 'SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 60';

async function authServer(dir: string, address: string, zones: { name: string; text: string }[]): Promise<DnsServer> {
  const list = zones.map((z) => {
    const file = join(dir, `${z.name === '.' ? 'root' : z.name}.zone`);
    writeFileSync(file, z.text);
    return { name: z.name, file };
  });
  const s = new DnsServer({ config: defaultConfig({ listen: [`${address}:53`], workers: 1, control: { enabled: false }, zones: list }), logger: silentLogger });
  await s.loadZones();
  await s.start();
  return s;
}

/** Starts everything; `seriesStepMs` shortens the statistics sampling for tests. */
export async function startControlLab(opts: { seriesStepMs?: number } = {}): Promise<ControlLab> {
  const tmp = tempDir('sovereign-control-lab-');
  const dir = tmp.path;
  const started: DnsServer[] = [];
  let control: ControlServer | undefined;
  const stop = async (): Promise<void> => {
    await control?.close();
    for (const s of started.reverse()) await s.stop();
    tmp.cleanup();
  };
  try {
    for (const d of ['root', 'tld', 'leaf', 'ours']) mkdirSync(join(dir, d));
    started.push(await authServer(join(dir, 'root'), LAB.root, [{
      name: '.', text: `$TTL 3600\n. ${SOA}\n. NS a.root-servers.sov.\na.root-servers.sov. A ${LAB.root}\nsov. NS ns.sov.\nns.sov. A ${LAB.tld}\n`,
    }]));
    started.push(await authServer(join(dir, 'tld'), LAB.tld, [{
      name: 'sov.', text: `$TTL 3600\n@ ${SOA}\n@ NS ns\nns A ${LAB.tld}\nweb NS ns.web\nns.web A ${LAB.leaf}\n`,
    }]));
    started.push(await authServer(join(dir, 'leaf'), LAB.leaf, [{
      name: 'web.sov.', text: `$TTL 300\n@ ${SOA}\n@ NS ns\nns A ${LAB.leaf}\nwww A 192.0.2.80\nwww AAAA 2001:db8::80\nalias CNAME www\n`,
    }, {
      name: 'sec.example.', text: `$TTL 300\n@ ${SOA}\n@ NS ns.sec.example.\nns A ${LAB.leaf}\nthing TXT "transferred"\n`,
    }, {
      name: 'fwd.example.', text: `$TTL 300\n@ ${SOA}\n@ NS ns.fwd.example.\nns A ${LAB.leaf}\nhost A 192.0.2.99\n`,
    }]));
    const o = join(dir, 'ours');
    writeFileSync(join(o, 'hints'), `. 3600000 NS a.root-servers.sov.\na.root-servers.sov. 3600000 A ${LAB.root}\n`);
    writeFileSync(join(o, 'static.example.zone'), `$TTL 300\n@ ${SOA}\n@ NS ns\nns A ${LAB.ours}\nwww A 192.0.2.1\nmail A 192.0.2.2\n@ MX 10 mail\n`);
    writeFileSync(join(o, 'dyn.example.zone'), `$TTL 300\n@ ${SOA}\n@ NS ns\nns A ${LAB.ours}\nold A 192.0.2.10\n`);
    const port = 53;
    const server = new DnsServer({
      config: defaultConfig({
        listen: [`${LAB.ours}:${port}`], workers: 1, control: { enabled: false }, queryLog: { enabled: true },
        resolver: { enabled: true, dnssec: false, rootHints: join(o, 'hints'), allow: ['127.0.0.0/8'] },
        forwardZones: { 'fwd.example': [`${LAB.leaf}:53`] },
        keys: { 'api-test-key': { algorithm: 'hmac-sha256', secret: 'c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw==' } },
        zones: [
          { name: 'static.example', file: join(o, 'static.example.zone') },
          { name: 'dyn.example', file: join(o, 'dyn.example.zone'), allowUpdate: ['127.0.0.1'], journalFsync: false },
          { name: 'sec.example', file: join(o, 'sec.example.zone'), primaries: [`${LAB.leaf}:53`] },
        ],
      }),
      logger: silentLogger,
    });
    started.push(server);
    await server.loadZones();
    await server.start();
    const token = ensureToken(join(dir, 'token')).token;
    control = new ControlServer({
      backend: new LocalBackend(server), logger: silentLogger, address: LAB.ours, port: 0, token,
      ...(opts.seriesStepMs !== undefined ? { seriesStepMs: opts.seriesStepMs } : {}),
    });
    await control.listen();
    return { dir, server, control, port, controlUrl: control.endpoint, token, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
