/**
 * `sovereign nta add NAME [--lifetime SECONDS] | remove NAME | list`: negative trust anchors
 * (RFC 7646) of the running resolver, through its control endpoint (as `rndc nta` /
 * `unbound-control insecure_add`). Names at or below an NTA are not validated (answers are
 * insecure, never bogus); the default lifetime is BIND's, one hour (0 = until removed).
 */
import { parseArgs } from 'node:util';
import type { NtaResult } from '../control/backend.js';
import { controlJson } from '../control/client.js';
import { resolveTarget, targetOptions } from '../control/cli-target.js';
import type { Command } from './command.js';

const USAGE = 'usage: sovereign nta add NAME [--lifetime SECONDS] | sovereign nta remove NAME | sovereign nta list';

export interface NtaArgs {
  action: 'add' | 'remove' | 'list';
  name: string | undefined;
  lifetimeSec: number | undefined;
  json: boolean;
  target: Parameters<typeof resolveTarget>[0];
}

/** Parses argv (throws with a usage message). */
export function parseNtaArgs(argv: string[]): NtaArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...targetOptions, lifetime: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const [action, name, ...extra] = positionals;
  if (action !== 'add' && action !== 'remove' && action !== 'list') throw new Error(USAGE);
  if (extra.length > 0) throw new Error(`unexpected argument "${extra[0]}"`);
  if (action !== 'list' && name === undefined) throw new Error(`${action} needs a NAME (${USAGE})`);
  if (action === 'list' && name !== undefined) throw new Error(`list takes no NAME (${USAGE})`);
  let lifetimeSec: number | undefined;
  if (values.lifetime !== undefined) {
    if (action !== 'add') throw new Error('--lifetime is for add only');
    lifetimeSec = Number(values.lifetime);
    if (!Number.isInteger(lifetimeSec) || lifetimeSec < 0) throw new Error('--lifetime takes whole seconds (0 = until removed)');
  }
  return { action, name, lifetimeSec, json: values.json === true, target: { control: values.control, 'token-file': values['token-file'], config: values.config } };
}

function format(r: NtaResult): string {
  if (r.ntas.length === 0) return 'no negative trust anchors\n';
  return r.ntas.map((n) => `${n.name}\t${n.expiresInSec === 0 ? 'until removed' : `expires in ${n.expiresInSec} s`}`).join('\n') + '\n';
}

export const command: Command = {
  summary: 'add, remove or list negative trust anchors of the running resolver (RFC 7646)',
  usage: `${USAGE}\n\noptions:\n  --lifetime SECONDS           how long the NTA lasts (default 3600; 0 = until removed)\n  --json                       print JSON\n  --control ADDR:PORT|SOCKET   the server's control endpoint\n  --token-file FILE            control token\n  -c, --config FILE            take the endpoint and token from this config\n`,
  async run(argv: string[]): Promise<number> {
    let args: NtaArgs;
    try {
      args = parseNtaArgs(argv);
    } catch (err) {
      process.stderr.write(`sovereign nta: ${(err as Error).message}\n`);
      return 2;
    }
    try {
      const target = resolveTarget(args.target);
      const q = new URLSearchParams();
      if (args.name !== undefined) q.set('name', args.name);
      if (args.lifetimeSec !== undefined) q.set('lifetime', String(args.lifetimeSec));
      const { data } = args.action === 'list'
        ? await controlJson<NtaResult>(target, 'GET', '/v1/nta')
        : await controlJson<NtaResult>(target, 'POST', `/v1/nta/${args.action}?${q.toString()}`);
      if (args.json) process.stdout.write(JSON.stringify(data, null, 1) + '\n');
      else {
        if (args.action === 'remove' && !data.changed) process.stdout.write(`${args.name}: no such negative trust anchor\n`);
        else if (args.action !== 'list') process.stdout.write(`${args.action === 'add' ? 'added' : 'removed'} ${args.name}\n`);
        process.stdout.write(format(data));
      }
      return args.action === 'remove' && !data.changed ? 1 : 0;
    } catch (err) {
      process.stderr.write(`sovereign nta: ${(err as Error).message}\n`);
      return 1;
    }
  },
};
