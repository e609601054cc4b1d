/**
 * `sovereign check-config [-q] [--no-zones] [FILE]`, like `named-checkconf -z`: every problem in the
 * config at once (`FILE:LINE:COLUMN: key: problem (fix: ...)`), then every zone it names loaded and
 * checked as `serve` would (`zone NAME/IN: loaded serial N`, or the zone's problems and
 * `zone NAME/IN: not loaded due to errors.`), and the other files it names (root hints, hosts file,
 * TLS CA file) checked for reading.
 *
 * Exit codes (as named-checkconf): 0 when everything loads, 1 when anything does not, 2 for a usage error.
 * FILE defaults to $SOVEREIGN_CONFIG, else /etc/sovereign/sovereign.yaml.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { parseConfigText } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { ConfigError, ConfigErrors } from '../errors.js';
import { Name } from '../wire/name.js';
import { loadZone } from '../zone/load.js';
import type { Command } from './command.js';

export const DEFAULT_CONFIG_PATH = '/etc/sovereign/sovereign.yaml';

export interface CheckConfigArgs {
  file: string;
  quiet: boolean;
  zones: boolean;
}

export function parseCheckConfigArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CheckConfigArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { quiet: { type: 'boolean', short: 'q' }, 'no-zones': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 1) throw new Error(`one config file at a time, not ${positionals.length}`);
  return {
    file: positionals[0] ?? env.SOVEREIGN_CONFIG ?? DEFAULT_CONFIG_PATH,
    quiet: values.quiet === true,
    zones: values['no-zones'] !== true,
  };
}

export interface CheckReport {
  /** Lines to print, in order. */
  lines: string[];
  ok: boolean;
}

/** The zones to load: from the valid config, or (when the config has errors) each well-formed entry. */
function zonesOf(cfg: Config | undefined, text: string, baseDir: string): { name: string; file: string }[] {
  if (cfg !== undefined) {
    // Views' own zone blocks too (names of top-level zones are those zones, checked once).
    const own = (cfg.views ?? []).flatMap((v) => v.zones.filter((z) => typeof z !== 'string'));
    return [...cfg.zones, ...own];
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch {
    return [];
  }
  const zones = (raw as { zones?: unknown } | null)?.zones;
  if (!Array.isArray(zones)) return [];
  return zones.filter((z): z is { name: string; file: string } => typeof z?.name === 'string' && typeof z?.file === 'string')
    .map((z) => ({ name: z.name, file: resolve(baseDir, z.file) }));
}

function readable(path: string): string | undefined {
  try {
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Checks one config file and what it names; never throws. */
export function checkConfig(file: string, opts: { zones?: boolean } = {}): CheckReport {
  const lines: string[] = [];
  let ok = true;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { lines: [`${file}: cannot read: ${(err as Error).message}`], ok: false };
  }
  let cfg: Config | undefined;
  try {
    cfg = parseConfigText(text, file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    ok = false;
    for (const e of err instanceof ConfigErrors ? err.errors : [err]) lines.push(e.message);
  }
  if (cfg !== undefined) {
    const files: [string, string | undefined][] = [
      ['resolver.rootHints', cfg.resolver.rootHints],
      ['hosts.path', cfg.hosts.enabled ? cfg.hosts.path : undefined],
      ['forwarding.tlsCaFile', cfg.forwarding.tlsCaFile],
    ];
    for (const [key, path] of files) {
      const why = path === undefined ? undefined : readable(path);
      if (why !== undefined) {
        ok = false;
        lines.push(`${file}: ${key}: cannot read ${path}: ${why}`);
      }
    }
  }
  if (opts.zones !== false) {
    for (const z of zonesOf(cfg, text, dirname(resolve(file)))) {
      let origin: Name;
      try {
        origin = Name.fromText(z.name.endsWith('.') ? z.name : z.name + '.');
      } catch {
        continue; // already reported as a config error
      }
      const label = `zone ${origin.isRoot ? '.' : origin.toString().slice(0, -1)}/IN`;
      try {
        const r = loadZone(z.file, origin);
        for (const p of r.problems) lines.push(`${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.reason}`);
        if (r.zone !== undefined) lines.push(`${label}: loaded serial ${r.zone.serial}`);
        else {
          ok = false;
          lines.push(`${label}: not loaded due to errors.`);
        }
      } catch (err) {
        ok = false;
        lines.push(`${z.file}: ${(err as Error).message}`, `${label}: not loaded due to errors.`);
      }
    }
  }
  return { lines, ok };
}

export const command: Command = {
  summary: 'check a config file and the zones it names, like named-checkconf -z (every error at once)',
  usage: 'usage: sovereign check-config [-q|--quiet] [--no-zones] [FILE]\n\n'
    + 'Checks FILE (default $SOVEREIGN_CONFIG, else /etc/sovereign/sovereign.yaml): every config error with its\n'
    + 'line and column, then each zone loaded and checked. Exit 0 when all is well, 1 when not, 2 on bad usage.\n\n'
    + 'options:\n  -q, --quiet      print errors only (not the zones loaded)\n  --no-zones       check the config alone\n',
  run(argv: string[]): number {
    let args: CheckConfigArgs;
    try {
      args = parseCheckConfigArgs(argv);
    } catch (err) {
      process.stderr.write(`sovereign check-config: ${(err as Error).message}\n`);
      return 2;
    }
    const r = checkConfig(args.file, { zones: args.zones });
    const shown = args.quiet ? r.lines.filter((l) => !/: loaded serial \d+$/.test(l)) : r.lines;
    // named-checkconf writes its findings to stdout; the exit code says whether they are errors.
    if (shown.length > 0) process.stdout.write(shown.join('\n') + '\n');
    return r.ok ? 0 : 1;
  },
};
