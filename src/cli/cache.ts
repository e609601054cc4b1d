/**
 * `sovereign cache print [NAME] [--type T] [--json]` and `sovereign cache flush [NAME] [--subtree]`:
 * look into and empty the running server's cache through its control endpoint (see
 * `src/control/cli-target.ts` for --control, --token-file and --config).
 *
 * `print` lists name, type, class, original TTL, remaining TTL and the data, one line per record,
 * as `unbound-control dump_cache` does (negative entries show NXDOMAIN/NODATA and their SOA).
 */
import { parseArgs } from 'node:util';
import { type CacheRow } from '../control/snapshot.js';
import { controlJson } from '../control/client.js';
import { resolveTarget, targetOptions } from '../control/cli-target.js';
import { type Command, TARGET_USAGE, parseThenRun } from './command.js';

export interface CacheArgs {
  action: 'print' | 'flush';
  name: string | undefined;
  type: string | undefined;
  subtree: boolean;
  json: boolean;
  target: Parameters<typeof resolveTarget>[0];
}

/** Parses argv (throws with a usage message). */
export function parseCacheArgs(argv: string[]): CacheArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...targetOptions, type: { type: 'string', short: 't' }, subtree: { type: 'boolean' }, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const [action, name, ...extra] = positionals;
  if (action !== 'print' && action !== 'flush') throw new Error('usage: sovereign cache print [NAME] [--type T] | sovereign cache flush [NAME] [--subtree]');
  if (extra.length > 0) throw new Error(`unexpected argument "${extra[0]}"`);
  if (action === 'flush' && values.type !== undefined) throw new Error('--type is for print only');
  if (action === 'print' && values.subtree === true) throw new Error('--subtree is for flush only');
  if (action === 'flush' && values.subtree === true && name === undefined) throw new Error('--subtree needs a NAME');
  return {
    action, name, type: values.type, subtree: values.subtree === true, json: values.json === true,
    target: { control: values.control, 'token-file': values['token-file'], config: values.config },
  };
}

/** The table `print` shows. */
export function formatCacheRows(rows: readonly CacheRow[]): string {
  // In a cluster each row says which workers hold it (every entry printed once).
  const cluster = rows.some((r) => r.workers !== undefined);
  const all = new Set(rows.flatMap((r) => r.workers ?? [])).size;
  const lines: string[][] = [[...(cluster ? ['WORKERS'] : []), 'NAME', 'TYPE', 'CLASS', 'ORIGINAL-TTL', 'REMAINING-TTL', 'DATA']];
  const pre = (r: CacheRow | undefined): string[] => {
    if (!cluster) return [];
    if (r === undefined) return [''];
    const w = r.workers ?? [];
    return [w.length === all && all > 1 ? 'all' : w.join(',')];
  };
  for (const r of rows) {
    const data = r.records.map((t) => t.split('\t').slice(3).join(' '));
    const first = r.kind === 'positive' ? (r.records[0]?.split('\t').slice(4).join('\t') ?? '')
      : `${r.kind.toUpperCase()} ; ${data[0] ?? ''}`;
    const ttl = r.stale ? `${r.remainingTtl} (stale)` : String(r.remainingTtl);
    lines.push([...pre(r), r.name, r.kind === 'nxdomain' ? '*' : r.type, r.class, String(r.originalTtl), ttl, first]);
    if (r.kind === 'positive') for (const t of r.records.slice(1)) lines.push([...pre(undefined), '', '', '', '', '', t.split('\t').slice(4).join('\t')]);
  }
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l) => l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

export const command: Command = {
  summary: 'print or flush the running server\'s cache (print [NAME] [--type T] | flush [NAME] [--subtree])',
  usage: 'usage: sovereign cache print [NAME] [-t|--type T] [--json] [target options]\n       sovereign cache flush [NAME] [--subtree] [target options]\n\noptions:\n' + TARGET_USAGE,
  run: (argv) => parseThenRun('cache', argv, parseCacheArgs, async (args) => {
    const target = resolveTarget(args.target);
    const q = new URLSearchParams();
    if (args.name !== undefined) q.set('name', args.name);
    if (args.action === 'print') {
      if (args.type !== undefined) q.set('type', args.type);
      const { data } = await controlJson<{ entries: CacheRow[] }>(target, 'GET', `/v1/cache?${q.toString()}`);
      process.stdout.write(args.json ? JSON.stringify(data.entries, null, 1) + '\n' : formatCacheRows(data.entries));
      return 0;
    }
    if (args.subtree) q.set('subtree', '1');
    const { data } = await controlJson<{ removed: number }>(target, 'POST', `/v1/cache/flush?${q.toString()}`);
    const what = args.name === undefined ? 'the whole cache' : args.subtree ? `${args.name} and everything below it` : args.name;
    process.stdout.write(`flushed ${what}: ${data.removed} entr${data.removed === 1 ? 'y' : 'ies'} removed\n`);
    return 0;
  }),
};
