/**
 * `sovereign check-zone [options] ORIGIN FILE`, like named-checkzone: every problem as
 * `FILE:LINE:COLUMN: severity: reason`, then `zone ORIGIN/IN: loaded serial N` and `OK` with exit
 * 0, or `zone ORIGIN/IN: not loaded due to errors.` with exit 1 (also BIND's exit code for a usage
 * error). named-checkzone's everyday options: -i (integrity checks), -k (check-names), -n (NS
 * targets that are addresses), -M/-S (MX/SRV targets that are CNAMEs), -D and -o FILE (dump the
 * zone; -o - is stdout, and then the status lines go to stderr), -s full|relative, -q, -c, -f/-F
 * (text; raw is refused clearly), -t/-w (directories), -v. `--print`/`-p` is -D.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Name } from '../wire/name.js';
import { classFromString, classToString } from '../wire/types.js';
import type { CheckOptions } from '../zone/checks.js';
import { loadZone } from '../zone/load.js';
import { printZone, printZoneRelative } from '../zone/printer.js';
import type { Command } from './command.js';

type Mode = 'fail' | 'warn' | 'ignore';

export interface CheckZoneArgs {
  origin: Name;
  file: string;
  /** Dump the zone (-D, -o, --print). */
  dump: boolean;
  /** Where the dump goes; '-' is stdout. */
  output: string;
  style: 'full' | 'relative';
  quiet: boolean;
  class: number;
  checks: CheckOptions;
  /** Directory to change to before reading (-w; -t is accepted as the same, we do not chroot). */
  directory: string | undefined;
  version: boolean;
}

const USAGE = 'usage: sovereign check-zone [-DjqvP] [-c class] [-f text] [-F text] [-i (full|full-sibling|local|local-sibling|none)]\n' +
  '  [-k (ignore|warn|fail)] [-n (ignore|warn|fail)] [-M (ignore|warn|fail)] [-S (ignore|warn|fail)] [-s (full|relative)]\n' +
  '  [-o filename] [-t directory] [-w directory] zonename filename\n';

export class UsageError extends Error {}

function mode(flag: string, v: string | undefined, def: Mode): Mode {
  if (v === undefined) return def;
  if (v !== 'fail' && v !== 'warn' && v !== 'ignore') throw new UsageError(`invalid argument to -${flag}: ${v}`);
  return v;
}

function format(flag: string, v: string | undefined): void {
  if (v === undefined || v === 'text') return;
  if (v === 'raw' || v === 'map') {
    throw new UsageError(`-${flag} ${v}: BIND's ${v} format is not supported; convert with named-compilezone -f ${v} -F text`);
  }
  throw new UsageError(`invalid argument to -${flag}: ${v} (text is the format read and written)`);
}

export function parseCheckZoneArgs(argv: string[]): CheckZoneArgs {
  const str = { type: 'string' } as const;
  const bool = { type: 'boolean' } as const;
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      print: { type: 'boolean', short: 'p' }, D: bool, q: bool, v: bool, j: bool, d: bool,
      i: str, k: str, n: str, M: str, S: str, m: str, r: str, W: str, s: str, o: str, f: str, F: str, c: str, t: str, w: str,
      J: str, l: str, L: str,
    },
  });
  if (values.v === true) {
    return { origin: Name.ROOT, file: '', dump: false, output: '-', style: 'full', quiet: false, class: 1, checks: {}, directory: undefined, version: true };
  }
  if (positionals.length !== 2) throw new UsageError('expected a zone name and a file name');
  format('f', values.f);
  format('F', values.F);
  const integrity = values.i ?? 'full';
  if (!['full', 'full-sibling', 'local', 'local-sibling', 'none'].includes(integrity)) throw new UsageError(`invalid argument to -i: ${integrity}`);
  const style = values.s ?? 'full';
  if (style !== 'full' && style !== 'relative') throw new UsageError(`unknown or unsupported style: ${style}`);
  const cls = classFromString(values.c ?? 'IN');
  if (cls === undefined) throw new UsageError(`unknown class '${values.c}'`);
  if (values.j === true || values.J !== undefined) throw new UsageError('-j/-J: journals are not read by check-zone');
  return {
    origin: Name.fromText(positionals[0]!),
    file: positionals[1]!,
    dump: values.D === true || values.print === true || values.o !== undefined,
    output: values.o ?? '-',
    style,
    quiet: values.q === true,
    class: cls,
    checks: {
      // named-checkzone's defaults: check-names, MX/SRV-to-CNAME and NS-is-address only warn.
      names: mode('k', values.k, 'warn'),
      nsAddress: mode('n', values.n, 'warn'),
      mxCname: mode('M', values.M, 'warn'),
      srvCname: mode('S', values.S, 'warn'),
      integrity: integrity.startsWith('local') ? 'local' : integrity === 'none' ? 'none' : 'full',
    },
    directory: values.w ?? values.t,
    version: false,
  };
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export const command: Command = {
  summary: 'check a zone file like named-checkzone (-D: dump it in canonical form)',
  usage: `${USAGE}\nChecks a zone file as named-checkzone does (same options, output lines and exit codes);\n-D (or --print) writes the zone in canonical form to stdout, -o FILE to FILE.\n`,
  run(argv: string[]): number {
    let args: CheckZoneArgs;
    try {
      args = parseCheckZoneArgs(argv);
    } catch (err) {
      process.stderr.write(`sovereign check-zone: ${(err as Error).message}\n${USAGE}`);
      return 1;
    }
    if (args.version) {
      process.stdout.write(`Sovereign ${packageVersion()}\n`);
      return 0;
    }
    if (args.directory !== undefined) {
      try {
        process.chdir(args.directory);
      } catch (err) {
        process.stderr.write(`sovereign check-zone: ${args.directory}: ${(err as Error).message}\n`);
        return 1;
      }
    }
    const { zone, problems } = loadZone(args.file, args.origin, { class: args.class, checks: args.checks });
    // With the dump on stdout, named-checkzone's messages go to stderr.
    const toStdout = args.dump && args.output === '-';
    const status = (s: string): void => {
      if (!args.quiet) (toStdout ? process.stderr : process.stdout).write(s);
    };
    for (const p of problems) status(`${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.reason}\n`);
    const label = `zone ${args.origin.isRoot ? '.' : args.origin.toString().slice(0, -1)}/${classToString(args.class)}`;
    if (zone === undefined) {
      status(`${label}: not loaded due to errors.\n`);
      return 1;
    }
    status(`${label}: loaded serial ${zone.serial}\n`);
    if (args.dump) {
      const lines = args.style === 'relative' ? printZoneRelative(zone) : printZone(zone);
      if (toStdout) {
        let out = '';
        for (const line of lines) {
          out += line + '\n';
          if (out.length > 1 << 16) {
            process.stdout.write(out);
            out = '';
          }
        }
        process.stdout.write(out);
      } else {
        try {
          const parts: string[] = [];
          for (const line of lines) parts.push(line + '\n');
          writeFileSync(args.output, parts.join(''));
        } catch (err) {
          status(`dumping "${args.origin.toString()}" failed: ${(err as Error).message}\n`);
          return 1;
        }
      }
    }
    status('OK\n');
    return 0;
  },
};
