/**
 * `sovereign check-zone [--print] ORIGIN FILE`, like named-checkzone: every problem as
 * `FILE:LINE:COLUMN: severity: reason`, then `zone ORIGIN/IN: loaded serial N` and exit 0, or
 * `zone ORIGIN/IN: not loaded due to errors.` and exit 1. `--print` writes the zone in canonical
 * form to stdout (status lines then go to stderr).
 */
import { parseArgs } from 'node:util';
import { Name } from '../wire/name.js';
import { classToString } from '../wire/types.js';
import { loadZone } from '../zone/load.js';
import { printZone } from '../zone/printer.js';
import type { Command } from './command.js';

export interface CheckZoneArgs {
  print: boolean;
  origin: Name;
  file: string;
}

export function parseCheckZoneArgs(argv: string[]): CheckZoneArgs {
  const { values, positionals } = parseArgs({ args: argv, options: { print: { type: 'boolean', short: 'p' } }, allowPositionals: true });
  if (positionals.length !== 2) throw new Error('usage: sovereign check-zone [--print] ORIGIN FILE');
  return { print: values.print === true, origin: Name.fromText(positionals[0]!), file: positionals[1]! };
}

export const command: Command = {
  summary: 'check a zone file like named-checkzone (--print: canonical form)',
  usage: 'usage: sovereign check-zone [-p|--print] ORIGIN FILE\n\nChecks a zone file as named-checkzone does; --print writes it in canonical form to stdout.\n',
  run(argv: string[]): number {
    let args: CheckZoneArgs;
    try {
      args = parseCheckZoneArgs(argv);
    } catch (err) {
      process.stderr.write(`sovereign check-zone: ${(err as Error).message}\n`);
      return 2;
    }
    const { zone, problems } = loadZone(args.file, args.origin);
    const status = args.print ? process.stderr : process.stdout;
    for (const p of problems) status.write(`${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.reason}\n`);
    const label = `zone ${args.origin.isRoot ? '.' : args.origin.toString().slice(0, -1)}/${classToString(zone?.class ?? 1)}`;
    if (zone === undefined) {
      status.write(`${label}: not loaded due to errors.\n`);
      return 1;
    }
    if (args.print) {
      let out = '';
      for (const line of printZone(zone)) {
        out += line + '\n';
        if (out.length > 1 << 16) {
          process.stdout.write(out);
          out = '';
        }
      }
      process.stdout.write(out);
    }
    status.write(`${label}: loaded serial ${zone.serial}\nOK\n`);
    return 0;
  },
};
