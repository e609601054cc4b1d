/**
 * `sovereign serve`: run the server. Options are parsed apart from running (`parseServeArgs`).
 *
 *   sovereign serve [--config FILE] [--listen ADDR:PORT]... [--zone NAME=FILE]... [--workers N|auto]
 *                   [--log-level LEVEL] [--pid-file FILE] [--user NAME] [--recursive] [--root-hints FILE] [--forward ADDR[:PORT]]...
 *
 * Flags override the file; with neither, the embedded defaults apply (127.0.0.1 and ::1 port 5300).
 */
import { availableParallelism } from 'node:os';
import { writeFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { resolve as resolvePath } from 'node:path';
import { relayUpdates, workerLink } from '../update/cluster-link.js';
import { Name } from '../wire/name.js';
import { defaultConfig, embeddedConfig, loadConfigFile, validateConfig } from '../config/load.js';
import { ClusterBackend, LocalBackend, serveWorkerControl } from '../control/backend.js';
import { type NameServices, startNameServices } from './serve-names.js';
import type { ControlBackend } from '../control/backend.js';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { type Logger, createLogger, isLeadProcess } from '../logging.js';
import type { ControlServer } from '../control/server.js';
import {
  READY, RELOAD, REPLACEMENT_ENV, isWorker, onSecondaryEvents, reportWorkerFailure, requestZoneText, runPrimary, serveZoneDumps,
} from '../server/cluster.js';
import { dropPrivileges } from '../server/privileges.js';
import { sdNotify } from '../server/sd-notify.js';
import type { DnsServer } from '../server/server.js';
import type { Command } from './command.js';

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
      user: { type: 'string', short: 'u' },
      forward: { type: 'string', short: 'f', multiple: true },
      recursive: { type: 'boolean', short: 'r' },
      'root-hints': { type: 'string' },
      'trust-anchor': { type: 'string', multiple: true },
      sign: { type: 'boolean' },
      nsec3: { type: 'boolean' },
      'key-dir': { type: 'string' },
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
  if ((values.nsec3 === true || values['key-dir'] !== undefined) && values.sign !== true) {
    throw new ConfigError('--nsec3/--key-dir', 'only mean something with --sign', 'add --sign');
  }
  if (values.sign === true) {
    // Every zone is signed by the server: keys made when absent (one ECDSAP256SHA256 CSK), NSEC or
    // RFC 9276 NSEC3.
    const zones = (merged.zones ?? []) as Record<string, unknown>[];
    if (zones.length === 0) throw new ConfigError('--sign', 'there is no zone to sign', 'add --zone NAME=FILE');
    merged.zones = zones.map((z) => ({
      ...z, dnssec: { policy: 'default', nsec3: values.nsec3 === true, ...(values['key-dir'] !== undefined ? { keyDir: values['key-dir'] } : {}) },
    }));
  }
  if (values.workers !== undefined) merged.workers = values.workers === 'auto' ? 'auto' : Number(values.workers);
  if (values['log-level'] !== undefined) merged.log = { ...base.log, level: values['log-level'] };
  if (values['pid-file'] !== undefined) merged.pidFile = values['pid-file'];
  if (values.user !== undefined) merged.user = values.user;
  if (values.forward !== undefined) merged.forwarders = values.forward;
  if (values.recursive === true || values['root-hints'] !== undefined || values['trust-anchor'] !== undefined) {
    // --recursive switches full recursion on; --root-hints FILE replaces the built-in hints;
    // --trust-anchor FILE (repeatable) replaces the built-in root trust anchors.
    const r: Record<string, unknown> = { ...(base.resolver as object), enabled: values.recursive === true || base.resolver.enabled };
    if (values['root-hints'] !== undefined) r.rootHints = values['root-hints'];
    if (values['trust-anchor'] !== undefined) r.trustAnchors = values['trust-anchor'].map((f) => resolvePath(f));
    merged.resolver = r;
  }
  // Errors in values that came from flags are reported as those flags, not as config keys.
  const flags: Record<string, { flag: string; text: string }> = {};
  if (values.listen !== undefined) flags.listen = { flag: '--listen', text: values.listen.join(' ') };
  if (values.zone !== undefined) flags.zones = { flag: '--zone', text: values.zone.join(' ') };
  if (values.workers !== undefined) flags.workers = { flag: '--workers', text: values.workers };
  if (values['log-level'] !== undefined) flags.log = { flag: '--log-level', text: values['log-level'] };
  if (values['pid-file'] !== undefined) flags.pidFile = { flag: '--pid-file', text: values['pid-file'] };
  if (values.user !== undefined) flags.user = { flag: '--user', text: values.user };
  if (values.forward !== undefined) flags.forwarders = { flag: '--forward', text: values.forward.join(' ') };
  if (values['root-hints'] !== undefined) flags.resolver = { flag: '--root-hints', text: values['root-hints'] };
  return { config: validateConfig(merged, process.cwd(), 'command line', { flags }), configPath: values.config };
}

function workerCount(cfg: Config): number {
  return cfg.workers === 'auto' ? availableParallelism() : cfg.workers;
}

/** Writes the pid file (only once the server answers, so a supervisor reading it sees a serving process). */
function writePidFile(path: string | undefined): void {
  if (path !== undefined) writeFileSync(path, `${process.pid}\n`);
}

function removePidFile(path: string | undefined): void {
  if (path === undefined) return;
  try {
    rmSync(path, { force: true });
  } catch {
    // After dropping privileges the folder (/run) may no longer be ours: the supervisor cleans it.
  }
}

/**
 * The last resort: an exception or rejection nothing caught (a bug, by definition) is logged
 * with its stack and the process keeps serving; queries are guarded one by one in the engine
 * (which logs the query that failed), so what lands here comes from timers and sockets.
 */
function installLastResort(logger: Logger, count: () => void): void {
  process.on('uncaughtException', (err, origin) => {
    count();
    logger.error({ err, origin }, 'unexpected exception (a bug; please report it); still serving');
  });
  process.on('unhandledRejection', (reason) => {
    count();
    logger.error({ err: reason }, 'unhandled promise rejection (a bug; please report it); still serving');
  });
}

/** One line for the operator, on stderr, whatever the log format. */
function fail(err: unknown): void {
  process.stderr.write(`sovereign serve: ${err instanceof Error ? err.message : String(err)}\n`);
}

/**
 * Sends systemd the readiness notification when it asked for one (Type=notify sets
 * NOTIFY_SOCKET): one `READY=1` datagram on a Unix datagram socket (sd_notify(3)).
 */
async function notifySystemd(state: string, logger: Logger): Promise<void> {
  if (process.env.NOTIFY_SOCKET === undefined || process.env.NOTIFY_SOCKET === '') return;
  try {
    await sdNotify(process.env.NOTIFY_SOCKET, state);
  } catch (err) {
    logger.warn({ err }, 'could not notify systemd');
  }
}

export const command: Command = {
  summary: 'run the DNS server (authoritative for --zone / config zones; --recursive resolves from the root)',
  usage: 'usage: sovereign serve [options]\n\noptions:\n  -c, --config FILE        configuration file\n  -l, --listen ADDR:PORT   address to listen on (repeatable)\n  -z, --zone NAME=FILE     serve a zone (repeatable)\n  -w, --workers N|auto     worker processes\n  --log-level LEVEL        log level\n  --pid-file FILE          write the process ID here (once serving)\n  -u, --user NAME          run as this account once the sockets are bound\n  -r, --recursive          resolve from the root\n  --root-hints FILE        root hints for --recursive\n  --trust-anchor FILE      DNSSEC trust anchors (DS/DNSKEY records) replacing the built-in root anchors\n  -f, --forward ADDR[:PORT]  forward to this upstream (repeatable)\n  --sign                   sign every zone (keys made in the key directory when absent)\n  --nsec3                  with --sign: NSEC3 (no salt, 0 iterations) instead of NSEC\n  --key-dir DIR            with --sign: where the K-files are (default: each zone file\'s directory)\n',
  async run(argv: string[]): Promise<number> {
    let args: ServeArgs;
    try {
      args = parseServeArgs(argv);
    } catch (err) {
      process.stderr.write(`sovereign serve: ${(err as Error).message}\n`);
      return 2;
    }
    const workers = workerCount(args.config);
    let logger: Logger;
    try {
      logger = createLogger(args.config.log.level, args.config.log);
    } catch (err) {
      process.stderr.write(`sovereign serve: cannot open log.destination ${args.config.log.destination}: ${(err as Error).message}\n`);
      return 1;
    }
    if (!isWorker()) logger.info({ pid: process.pid, workers, config: args.configPath ?? null }, 'starting');
    const code = workers > 1 && !isWorker() ? await runClusterPrimary(args, workers, logger) : await runOne(args, logger);
    if (!isWorker()) logger.info({ pid: process.pid, code }, 'stopped');
    return code;
  },
};

/**
 * The control endpoint, imported only by the process that runs it: workers never load it, nor
 * prom-client behind its /metrics (about 10 MiB of resident memory per worker).
 */
async function startControlLazily(cfg: Config, backend: ControlBackend, logger: Logger): Promise<ControlServer | undefined> {
  const { startControl } = await (controlModule ??= import('../control/start.js'));
  return startControl(cfg, backend, logger);
}

/** The control module once asked for: imported while zones load, so serving and dropping root stay close together. */
let controlModule: Promise<typeof import('../control/start.js')> | undefined;

/** The cluster primary: the control endpoint, and supervision of the workers (which serve DNS). */
async function runClusterPrimary(args: ServeArgs, workers: number, logger: Logger): Promise<number> {
  const cfg = args.config;
  // Keys are made once, here, before the workers start: each would otherwise make its own.
  // The primary never answers a query: the engine, the zone code and the signer are imported only
  // by the processes that serve (about 15 MiB less resident memory here; issue 17), the signer only
  // when a zone is signed.
  try {
    if (cfg.zones.some((zc) => zc.dnssec !== undefined)) {
      const { ZoneSigning } = await import('../server/zone-signing.js');
      const signing = new ZoneSigning(logger);
      for (const zc of cfg.zones) if (zc.dnssec !== undefined) signing.signerFor(zc, Name.fromText(zc.name.endsWith('.') ? zc.name : zc.name + '.')).keys();
    }
  } catch (err) {
    fail(err);
    return 1;
  }
  let control: ControlServer | undefined;
  let names: NameServices | undefined;
  try {
    // The control endpoint lives in the primary and fans each request out to every worker.
    control = await startControlLazily(cfg, new ClusterBackend(), logger);
    names = await startNameServices(cfg, logger);
  } catch (err) {
    await control?.close();
    fail(err);
    return 1;
  }
  let dropFailed: unknown;
  installLastResort(logger, () => {});
  relayUpdates(logger);
  const result = await runPrimary({
    workers, logger,
    onReady: () => {
      // Written as root (into /run), once every worker serves; then root goes.
      writePidFile(cfg.pidFile);
      if (cfg.user !== undefined) {
        try {
          dropPrivileges(cfg.user);
        } catch (err) {
          // Never run as root when the operator asked otherwise: stop, and exit non-zero below.
          dropFailed = err;
          process.kill(process.pid, 'SIGTERM');
          return;
        }
      }
      logger.info({ workers }, 'all workers ready');
      void notifySystemd('READY=1', logger);
    },
  });
  removePidFile(cfg.pidFile);
  await control?.close();
  await names?.stop();
  if (result.error !== undefined || dropFailed !== undefined) {
    fail(result.error ?? dropFailed);
    return 1;
  }
  return 0;
}

/** One serving process: the only one (workers: 1), or a cluster worker. */
async function runOne(args: ServeArgs, logger: Logger): Promise<number> {
  const cfg = args.config;
  const worker = isWorker();
  const { DnsServer } = await import('../server/server.js');
  const server: DnsServer = new DnsServer({ config: cfg, logger, configPath: args.configPath, shared: worker });
  // One worker owns the dynamic zones' journals; the others forward updates to it (src/update/cluster-link.ts).
  if (worker) server.dynamic.link = workerLink(server.dynamic, logger);
  installLastResort(logger, () => { server.stats.internalErrors++; });
  // A reload the primary forwards while this worker is still loading its zones must not be lost.
  let reloadWhileStarting = false;
  const early = (m: unknown): void => {
    if (m === RELOAD) reloadWhileStarting = true;
  };
  if (worker) process.on('message', early);
  else controlModule ??= import('../control/start.js');
  let control: ControlServer | undefined;
  let names: NameServices | undefined;
  let pidWritten = false;
  try {
    const reports = await server.loadZones();
    for (const r of reports) {
      if (r.ok) {
        // Every worker loads every zone: one of them says so at info, the others at debug.
        if (isLeadProcess()) logger.info({ zone: r.name, serial: r.serial, records: r.records }, 'zone loaded');
        else logger.debug({ zone: r.name, serial: r.serial, records: r.records }, 'zone loaded');
        continue;
      }
      // A replacement worker serves what its siblings serve: a zone a reload rejected keeps its old version.
      if (worker && process.env[REPLACEMENT_ENV] === '1') {
        const text = await requestZoneText(r.name);
        if (text !== null && server.adoptZoneText(r.name, text)) {
          logger.warn({ zone: r.name, problems: r.problems }, 'zone file rejected; serving the version the other workers serve');
          continue;
        }
        logger.warn({ zone: r.name, handedOver: text !== null }, 'no other worker could hand over the zone');
      }
      logger.error({ zone: r.name, problems: r.problems }, 'zone not loaded; answering SERVFAIL for it until a reload loads it');
    }
    // The other listeners first, the DNS sockets last: root goes right after they are bound, so
    // (almost) no query is answered as root while the control endpoint is still starting.
    if (!worker) names = await startNameServices(cfg, logger);
    if (!worker) control = await startControlLazily(cfg, new LocalBackend(server), logger);
    await server.start();
    // Serving now: the pid file (written while still root, so /run works), then root goes.
    if (!worker) {
      writePidFile(cfg.pidFile);
      pidWritten = true;
    }
    if (cfg.user !== undefined) dropPrivileges(cfg.user);
  } catch (err) {
    await control?.close();
    await names?.stop();
    await server.stop();
    // Only ours: a failed second instance must not remove the running one's pid file.
    if (pidWritten) removePidFile(cfg.pidFile);
    if (worker) {
      // The primary prints the one message and stops the other workers.
      await reportWorkerFailure(err instanceof Error ? err.message : String(err));
      process.exit(1);
    }
    fail(err);
    return 1;
  }
  const reload = (): void => {
    server.reload().catch((err: unknown) => logger.error({ err }, 'reload failed'));
  };
  if (worker) {
    serveWorkerControl(new LocalBackend(server));
    serveZoneDumps((zone) => server.zoneText(zone));
    onSecondaryEvents((e) => server.secondaries.fromCluster(e.zone, e.what, e.serial));
    process.send?.(READY);
    process.on('message', (m) => {
      if (m === RELOAD) reload();
    });
    process.off('message', early);
    if (reloadWhileStarting) reload();
  }
  // Signal handlers first, then readiness: a stop asked for the moment systemd sees READY=1 must be honoured.
  const stopAsked = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    // A worker whose primary is gone (killed outright) stops too, rather than serving unsupervised.
    if (worker) process.once('disconnect', () => resolve('primary gone'));
  });
  if (!worker) {
    process.on('SIGHUP', reload);
    void notifySystemd('READY=1', logger);
  }
  const why = await stopAsked;
  if (!worker) logger.info({ reason: why }, 'stopping');
  if (!worker) await notifySystemd('STOPPING=1', logger);
  await control?.close();
  await names?.stop();
  if (worker) {
    // A cluster worker's shared sockets are released through the primary, which may already be
    // gone or stopping: give the close a moment, then leave regardless.
    await Promise.race([server.stop(), new Promise((r) => setTimeout(r, WORKER_STOP_MS).unref())]);
    process.exit(0);
  }
  await server.stop();
  removePidFile(cfg.pidFile);
  return 0;
}
