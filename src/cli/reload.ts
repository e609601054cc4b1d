/**
 * `sovereign reload [--pid-file FILE | --config FILE]`: asks the running server to reload its
 * config and zones (SIGHUP to the PID in its pid file; zones that fail keep serving the old data).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.js';
import type { Command } from './main.js';

export const command: Command = {
  summary: 'make the running server reload its config and zones',
  run(argv: string[]): number {
    let pidFile: string | undefined;
    try {
      const { values } = parseArgs({ args: argv, options: { 'pid-file': { type: 'string' }, config: { type: 'string', short: 'c' } } });
      pidFile = values['pid-file'] ?? (values.config !== undefined ? loadConfigFile(values.config).pidFile : undefined);
    } catch (err) {
      process.stderr.write(`sovereign reload: ${(err as Error).message}\n`);
      return 2;
    }
    if (pidFile === undefined) {
      process.stderr.write('sovereign reload: give --pid-file FILE (or --config FILE whose pidFile is set)\n');
      return 2;
    }
    let pid: number;
    try {
      pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 1) throw new Error(`${pidFile} does not hold a PID`);
      process.kill(pid, 'SIGHUP');
    } catch (err) {
      process.stderr.write(`sovereign reload: ${(err as Error).message}\n`);
      return 1;
    }
    process.stdout.write(`reload requested (pid ${pid})\n`);
    return 0;
  },
};
