/**
 * `sovereign querylog [--name N] [--client C] [--rcode R] [--type T] [--since TIME] [--limit N]
 * [--follow] [--json]`: the running server's query log through its control endpoint, oldest
 * first, one line per query as BIND's querylog prints them (or the JSON entries). `--follow`
 * keeps asking for newer entries, as `tail -f` would.
 */
import { parseArgs } from 'node:util';
import { controlJson } from '../control/client.js';
import { resolveTarget, targetOptions } from '../control/cli-target.js';
import { type QueryLogEntry, type QueryLogResult, bindLine } from '../querylog/entry.js';
import { type Command, TARGET_USAGE, parseThenRun } from './command.js';

export interface QueryLogArgs {
  filters: Record<string, string>;
  follow: boolean;
  json: boolean;
  intervalMs: number;
  target: Parameters<typeof resolveTarget>[0];
}

const FILTERS = ['name', 'client', 'rcode', 'type', 'since', 'until', 'limit'] as const;

/** Parses argv (throws with a usage message). */
export function parseQueryLogArgs(argv: string[]): QueryLogArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...targetOptions, name: { type: 'string', short: 'n' }, client: { type: 'string' }, rcode: { type: 'string' },
      type: { type: 'string', short: 't' }, since: { type: 'string' }, until: { type: 'string' }, limit: { type: 'string' },
      follow: { type: 'boolean', short: 'f' }, json: { type: 'boolean' }, interval: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  const filters: Record<string, string> = {};
  for (const k of FILTERS) if (values[k] !== undefined) filters[k] = values[k];
  const intervalMs = values.interval === undefined ? 1000 : Number(values.interval);
  if (!Number.isFinite(intervalMs) || intervalMs < 50) throw new Error('--interval is milliseconds, from 50');
  return {
    filters, follow: values.follow === true, json: values.json === true, intervalMs,
    target: { control: values.control, 'token-file': values['token-file'], config: values.config },
  };
}

function print(entries: readonly QueryLogEntry[], json: boolean): void {
  let out = '';
  // The API answers newest first; a log reads oldest first.
  for (let i = entries.length - 1; i >= 0; i--) out += (json ? JSON.stringify(entries[i]) : bindLine(entries[i]!)) + '\n';
  if (out !== '') process.stdout.write(out);
}

export const command: Command = {
  summary: 'print the running server\'s query log (--name, --client, --rcode, --type, --since; --follow)',
  usage: 'usage: sovereign querylog [options] [target options]\n\noptions:\n' +
    '  -n, --name NAME      this name and the names below it\n  --client ADDRESS     queries from this address\n' +
    '  --rcode RCODE        answered with this RCODE (NXDOMAIN, SERVFAIL...)\n  -t, --type TYPE      of this type\n' +
    '  --since TIME         at or after (ISO 8601 or ms since 1970)\n  --until TIME         before\n' +
    '  --limit N            at most N entries (default 100)\n  -f, --follow         keep printing new entries\n' +
    '  --interval MS        --follow asks this often (default 1000)\n  --json               the entries as JSON lines\n' + TARGET_USAGE,
  run: (argv) => parseThenRun('querylog', argv, parseQueryLogArgs, async (args) => {
    const target = resolveTarget(args.target);
    const ask = async (extra: Record<string, string>): Promise<QueryLogResult | undefined> => {
      const q = new URLSearchParams({ ...args.filters, ...extra });
      const { status, data } = await controlJson<QueryLogResult & { error?: string }>(target, 'GET', `/v1/querylog?${q.toString()}`);
      if (status !== 200) {
        process.stderr.write(`sovereign querylog: ${data.error ?? `status ${status}`}\n`);
        return undefined;
      }
      return data;
    };
    const first = await ask({});
    if (first === undefined) return 1;
    print(first.entries, args.json);
    if (!args.follow) return 0;
    let last = first.entries[0]?.time;
    let seenAtLast = new Set(first.entries.filter((e) => e.time === last).map((e) => JSON.stringify(e)));
    for (;;) {
      await new Promise((r) => setTimeout(r, args.intervalMs));
      const r = await ask(last === undefined ? {} : { since: last, limit: '10000' });
      if (r === undefined) return 1;
      // `since` is inclusive: entries of the last millisecond already printed are skipped.
      const fresh = r.entries.filter((e) => e.time !== last || !seenAtLast.has(JSON.stringify(e)));
      print(fresh, args.json);
      if (r.entries.length > 0) {
        const newest = r.entries[0]!.time;
        if (newest !== last) seenAtLast = new Set();
        last = newest;
        for (const e of r.entries) if (e.time === last) seenAtLast.add(JSON.stringify(e));
      }
    }
  }),
};
