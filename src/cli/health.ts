/**
 * `sovereign health [--json]`: the load balancer's health-checked addresses (src/balance/health.ts)
 * through the running server's control endpoint (`GET /v1/health-checks`): up or down, checks run
 * and failed, the last failure's reason. Exit code 1 when any address is down.
 */
import { parseArgs } from 'node:util';
import type { HealthRow } from '../balance/health.js';
import { controlJson } from '../control/client.js';
import { resolveTarget, targetOptions } from '../control/cli-target.js';
import type { Command } from './command.js';

const USAGE = 'usage: sovereign health [--json] [--control ADDR:PORT|SOCKET] [--token-file FILE] [-c FILE]';

export interface HealthArgs {
  json: boolean;
  target: Parameters<typeof resolveTarget>[0];
}

/** Parses argv (throws with a usage message). */
export function parseHealthArgs(argv: string[]): HealthArgs {
  const { values, positionals } = parseArgs({ args: argv, options: { ...targetOptions, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}" (${USAGE})`);
  return { json: values.json === true, target: { control: values.control, 'token-file': values['token-file'], config: values.config } };
}

/** One line per address: state, name(s), address, check, counts and the last failure. */
export function formatHealth(rows: readonly HealthRow[]): string {
  if (rows.length === 0) return 'no health-checked addresses (balance.records[].health)\n';
  const lines = rows.map((r) => `${r.up ? 'up  ' : 'DOWN'}  ${r.names.join(',')}  ${r.address}  ${r.check}  checks ${r.checks}  failed ${r.failedChecks}` +
    `  last ${r.lastCheckAgoSec < 0 ? '-' : `${r.lastCheckAgoSec}s ago`}  for ${r.sinceChangeSec}s${r.lastError === '' ? '' : `  (${r.lastError})`}`);
  return lines.join('\n') + '\n';
}

export const command: Command = {
  summary: 'health checks of load-balanced addresses (up/down, failures)',
  usage: `${USAGE}\n\noptions:\n  --json                       print JSON\n  --control ADDR:PORT|SOCKET   the server's control endpoint\n  --token-file FILE            control token\n  -c, --config FILE            take the endpoint and token from this config\n`,
  async run(argv: string[]): Promise<number> {
    let args: HealthArgs;
    try {
      args = parseHealthArgs(argv);
    } catch (err) {
      process.stderr.write(`sovereign health: ${(err as Error).message}\n`);
      return 2;
    }
    try {
      const { data } = await controlJson<{ checks: HealthRow[] }>(resolveTarget(args.target), 'GET', '/v1/health-checks');
      process.stdout.write(args.json ? JSON.stringify(data.checks, null, 1) + '\n' : formatHealth(data.checks));
      return data.checks.some((r) => !r.up) ? 1 : 0;
    } catch (err) {
      process.stderr.write(`sovereign health: ${(err as Error).message}\n`);
      return 1;
    }
  },
};
