/**
 * `sovereign serve`: run the server. Options are parsed apart from running (`parseServeArgs`).
 *
 *   sovereign serve [--config FILE] [--listen ADDR:PORT]... [--zone NAME=FILE]... [--workers N|auto]
 *                   [--log-level LEVEL] [--pid-file FILE] [--recursive] [--root-hints FILE] [--forward ADDR[:PORT]]...
 *
 * Flags override the file; with neither, the embedded defaults apply (127.0.0.1 and ::1 port 5300).
 */
import { availableParallelism } from 'node:os';
import { writeFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { resolve as resolvePath } from 'node:path';
import { defaultConfig, embeddedConfig, loadConfigFile, validateConfig } from '../config/load.js';
import { ClusterBackend, LocalBackend, serveWorkerControl } from '../control/backend.js';
import { startControl } from '../control/start.js';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../logging.js';
import { READY, RELOAD, isWorker, runPrimary } from '../server/cluster.js';
import { DnsServer } from '../server/server.js';
import type { Command } from './main.js';

/** How long a cluster worker waits for its sockets to close on stop before exiting anyway. */
const WORKER_STOP_MS = 1000;

export interface ServeArgs {
  config: Config;
  configPath: string | undefined;
}

/** Turns argv into a validated Config (throws ConfigError naming the flag or key). */
export function parseServeArgs(argv: string[]): ServeArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      listen: { type: 'string', short: 'l', multiple: true },
      zone: { type: 'string', short: 'z', multiple: true },
      workers: { type: 'string', short: 'w' },
      'log-level': { type: 'string' },
      'pid-file': { type: 'string' },
      forward: { type: 'string', short: 'f', multiple: true },
      recursive: { type: 'boolean', short: 'r' },
      'root-hints': { type: 'string' },
      'trust-anchor': { type: 'string', multiple: true },
    },
    strict: true,
    allowPositionals: false,
  });
  // No file and no zones: the embedded default (recursion, hosts file, control); see embeddedConfig().
  const base = values.config !== undefined ? loadConfigFile(values.config) : values.zone === undefined ? embeddedConfig() : defaultConfig();
  const merged: Record<string, unknown> = { ...base };
  if (values.listen !== undefined) merged.listen = values.listen;
  if (values.zone !== undefined) {
    merged.zones = values.zone.map((z) => {
      const eq = z.indexOf('=');
      if (eq <= 0 || eq === z.length - 1) throw new ConfigError('--zone', `"${z}" is not NAME=FILE`, 'write --zone example.com=path/to/zone.file');
      return { name: z.slice(0, eq), file: z.slice(eq + 1) };
    });
  }
  if (values.workers !== undefined) merged.workers = values.workers === 'auto' ? 'auto' : Number(values.workers);
  if (values['log-level'] !== undefined) merged.log = { level: values['log-level'] };
  if (values['pid-file'] !== undefined) merged.pidFile = values['pid-file'];
  if (values.forward !== undefined) merged.forwarders = values.forward;
  if (values.recursive === true || values['root-hints'] !== undefined || values['trust-anchor'] !== undefined) {
    // --recursive switches full recursion on; --root-hints FILE replaces the built-in hints;
    // --trust-anchor FILE (repeatable) replaces the built-in root trust anchors.
    const r: Record<string, unknown> = { ...(base.resolver as object), enabled: values.recursive === true || base.resolver.enabled };
    if (values['root-hints'] !== undefined) r.rootHints = values['root-hints'];
    if (values['trust-anchor'] !== undefined) r.trustAnchors = values['trust-anchor'].map((f) => resolvePath(f));
    merged.resolver = r;
  }
  return { config: validateConfig(merged, process.cwd(), 'command line'), configPath: values.config };
}

function workerCount(cfg: Config): number {
  return cfg.workers === 'auto' ? availableParallelism() : cfg.workers;
}

async function runServer(args: ServeArgs, shared: boolean): Promise<DnsServer> {
  const logger = createLogger(args.config.log.level);
  const server = new DnsServer({ config: args.config, logger, configPath: args.configPath, shared });
  const reports = await server.loadZones();
  for (const r of reports) logger.info({ zone: r.name, serial: r.serial, records: r.records }, 'zone loaded');
  await server.start();
  return server;
}

export const command: Command = {
  summary: 'run the DNS server (authoritative for --zone / config zones; --recursive resolves from the root)',
  usage: 'usage: sovereign serve [options]\n\noptions:\n  -c, --config FILE        configuration file\n  -l, --listen ADDR:PORT   address to listen on (repeatable)\n  -z, --zone NAME=FILE     serve a zone (repeatable)\n  -w, --workers N|auto     worker processes\n  --log-level LEVEL        log level\n  --pid-file FILE          write the process ID here\n  -r, --recursive          resolve from the root\n  --root-hints FILE        root hints for --recursive\n  --trust-anchor FILE      DNSSEC trust anchors (DS/DNSKEY records) replacing the built-in root anchors\n  -f, --forward ADDR[:PORT]  forward to this upstream (repeatable)\n',
  async run(argv: string[]): Promise<number> {
    let args: ServeArgs;
    try {
      args = parseServeArgs(argv);
    } catch (err) {
      process.stderr.write(`sovereign serve: ${(err as Error).message}\n`);
      return 2;
    }
    const workers = workerCount(args.config);
    const logger = createLogger(args.config.log.level);
    if (workers > 1 && !isWorker()) {
      if (args.config.pidFile !== undefined) writeFileSync(args.config.pidFile, `${process.pid}\n`);
      // The control endpoint lives in the primary and fans each request out to every worker.
      const control = await startControl(args.config, new ClusterBackend(), logger);
      await runPrimary({ workers, logger, onReady: () => logger.info({ workers }, 'all workers ready') });
      if (args.config.pidFile !== undefined) rmSync(args.config.pidFile, { force: true });
      await control?.close();
      return 0;
    }
    let server: DnsServer;
    // A reload the primary forwards while this worker is still loading its zones must not be lost.
    let reloadWhileStarting = false;
    const early = (m: unknown): void => {
      if (m === RELOAD) reloadWhileStarting = true;
    };
    if (isWorker()) process.on('message', early);
    try {
      server = await runServer(args, isWorker());
    } catch (err) {
      process.stderr.write(`sovereign serve: ${(err as Error).message}\n`);
      return 1;
    }
    const reload = (): void => {
      server.reload().catch((err: unknown) => logger.error({ err }, 'reload failed'));
    };
    const control = isWorker() ? undefined : await startControl(args.config, new LocalBackend(server), logger);
    if (isWorker()) {
      serveWorkerControl(new LocalBackend(server));
      process.send?.(READY);
      process.on('message', (m) => {
        if (m === RELOAD) reload();
      });
      process.off('message', early);
      if (reloadWhileStarting) reload();
    } else {
      if (args.config.pidFile !== undefined) writeFileSync(args.config.pidFile, `${process.pid}\n`);
      process.on('SIGHUP', reload);
    }
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      // A worker whose primary is gone (killed outright) stops too, rather than serving unsupervised.
      if (isWorker()) process.once('disconnect', resolve);
    });
    await control?.close();
    if (isWorker()) {
      // A cluster worker's shared sockets are released through the primary, which may already be
      // gone or stopping: give the close a moment, then leave regardless.
      await Promise.race([server.stop(), new Promise((r) => setTimeout(r, WORKER_STOP_MS).unref())]);
      process.exit(0);
    }
    await server.stop();
    if (args.config.pidFile !== undefined) rmSync(args.config.pidFile, { force: true });
    return 0;
  },
};
