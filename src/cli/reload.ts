/**
 * `sovereign reload [--what all|zones|hosts] [--config FILE] [--control ADDR:PORT|SOCKET]
 *                   [--token-file FILE] [--pid-file FILE]`
 *
 * Asks the running server to reload through its control endpoint and prints what happened
 * (zones loaded or rejected — a rejected zone keeps serving its old data). When the endpoint
 * cannot be reached (switched off, no token), falls back to SIGHUP to the PID in the pid file
 * (`--pid-file`, or the config's `pidFile`), which reloads everything without a report. A
 * `--pid-file` given without `--control` or `--config` names the server: it is signalled directly.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import { ControlRequestError, controlJson } from '../control/client.js';
import { resolveTarget, targetOptions } from '../control/cli-target.js';
import type { ReloadReport } from '../control/snapshot.js';
import { type Command, TARGET_USAGE, parseThenRun } from './command.js';

export interface ReloadArgs {
  what: 'all' | 'zones' | 'hosts';
  pidFile: string | undefined;
  /** `--pid-file` given and no endpoint named: that process is the one meant, signal it directly. */
  pidOnly: boolean;
  target: { control?: string | undefined; 'token-file'?: string | undefined; config?: string | undefined };
}

export function parseReloadArgs(argv: string[]): ReloadArgs {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: { ...targetOptions, 'pid-file': { type: 'string' }, what: { type: 'string' } },
  });
  const what = values.what ?? 'all';
  if (what !== 'all' && what !== 'zones' && what !== 'hosts') throw new Error(`--what must be all, zones or hosts, not "${what}"`);
  const pidFile = values['pid-file'] ?? (values.config !== undefined ? loadConfigFile(values.config).pidFile : undefined);
  const pidOnly = values['pid-file'] !== undefined && values.control === undefined && values.config === undefined;
  return { what, pidFile, pidOnly, target: { control: values.control, 'token-file': values['token-file'], config: values.config } };
}

function printReport(r: ReloadReport): void {
  for (const z of r.zones) {
    process.stdout.write(z.ok ? `zone ${z.name}: loaded, serial ${z.serial ?? '-'}\n` : `zone ${z.name}: REJECTED (old version keeps serving)\n`);
    for (const p of z.problems) process.stdout.write(`  ${p}\n`);
  }
  if (r.hosts !== null) process.stdout.write(`hosts ${r.hosts.path}: ${r.hosts.names} names\n`);
  if (r.error !== undefined) process.stdout.write(`config rejected, the running one stays: ${r.error}\n`);
}

function signal(pidFile: string): number {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`${pidFile} does not hold a PID`);
    process.kill(pid, 'SIGHUP');
  } catch (err) {
    process.stderr.write(`sovereign reload: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`reload requested (SIGHUP to pid ${pid})\n`);
  return 0;
}

export const command: Command = {
  summary: 'make the running server reload its config, zones and hosts file',
  usage: 'usage: sovereign reload [--what all|zones|hosts] [--pid-file FILE] [target options]\n\noptions:\n  --what all|zones|hosts       what to reload (default all)\n  --pid-file FILE              signal this process when the control endpoint cannot be used\n' + TARGET_USAGE,
  run: (argv) => parseThenRun('reload', argv, parseReloadArgs, reload),
};

async function reload(args: ReloadArgs): Promise<number> {
  // The default endpoint may belong to another server on this host than the one the pid file names.
  if (args.pidOnly) return signal(args.pidFile!);
  let why: string;
  try {
    const target = resolveTarget(args.target);
    const { data } = await controlJson<ReloadReport>(target, 'POST', `/v1/reload?what=${args.what}`);
    printReport(data);
    return data.ok ? 0 : 1;
  } catch (err) {
    // A server that answered with an error has spoken: do not signal it as well.
    if (err instanceof ControlRequestError && err.status !== 0) {
      process.stderr.write(`sovereign reload: ${err.message}\n`);
      return 1;
    }
    why = (err as Error).message;
  }
  if (args.pidFile === undefined) {
    process.stderr.write(`sovereign reload: ${why}\n(and no pid file to fall back on: give --pid-file FILE or a --config whose pidFile is set)\n`);
    return 1;
  }
  process.stderr.write(`sovereign reload: control endpoint unavailable (${why}); falling back to the pid file\n`);
  return signal(args.pidFile);
}
