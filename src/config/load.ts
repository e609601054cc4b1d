/**
 * Reads and validates configuration: YAML text -> zod schema -> `Config`, with relative paths
 * resolved against the config file's directory. Errors are ConfigError naming the key and the fix.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { Acl } from '../resolver/acl.js';
import { parseUpstream } from '../resolver/forwarder.js';
import { parseLocalData } from '../resolver/local-data.js';
import { Name } from '../wire/name.js';
import { type Config, type ConfigInput, configHints, configSchema } from './schema.js';

function hintFor(path: string): string {
  let best = '';
  for (const key of Object.keys(configHints)) {
    if ((path === key || path.startsWith(key + '.') || path.startsWith(key + '[')) && key.length > best.length) best = key;
  }
  return best === '' ? 'remove the key or check its spelling against the README' : configHints[best]!;
}

function pathToString(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : (s === '' ? '' : '.') + String(p);
  return s === '' ? '(top level)' : s;
}

/** Validates an already-parsed config object; `baseDir` resolves relative file paths. */
export function validateConfig(input: unknown, baseDir: string, source = 'config'): Config {
  const r = configSchema.safeParse(input ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    let path = pathToString(issue.path);
    let problem = issue.message;
    if (issue.code === 'unrecognized_keys') {
      path = [pathToString(issue.path), ...issue.keys].filter((p) => p !== '(top level)').join('.');
      problem = `unknown key "${issue.keys.join('", "')}"`;
    }
    throw new ConfigError(`${source}: ${path}`, problem, hintFor(path.replace(/\[\d+\]/g, '')));
  }
  const cfg = r.data;
  for (const zone of cfg.zones) zone.file = resolve(baseDir, zone.file);
  if (cfg.pidFile !== undefined) cfg.pidFile = resolve(baseDir, cfg.pidFile);
  if (cfg.resolver.rootHints !== undefined) cfg.resolver.rootHints = resolve(baseDir, cfg.resolver.rootHints);
  if (cfg.resolver.trustAnchors !== undefined) cfg.resolver.trustAnchors = cfg.resolver.trustAnchors.map((f) => resolve(baseDir, f));
  if (cfg.resolver.allow !== undefined) {
    try {
      new Acl(cfg.resolver.allow);
    } catch (err) {
      throw new ConfigError(`${source}: resolver.allow`, (err as Error).message, configHints['resolver.allow']!);
    }
  }
  checkForwardingConfig(cfg, baseDir, source);
  for (const [i, l] of cfg.listen.entries()) {
    try {
      parseListen(l);
    } catch (err) {
      throw new ConfigError(`${source}: listen[${i}]`, (err as Error).message, configHints.listen!);
    }
  }
  return cfg;
}

/** Forwarders, routes, ACL, hosts, local data and control: paths resolved, entries checked. */
function checkForwardingConfig(cfg: Config, baseDir: string, source: string): void {
  cfg.hosts.path = resolve(baseDir, cfg.hosts.path);
  if (cfg.forwarding.tlsCaFile !== undefined) cfg.forwarding.tlsCaFile = resolve(baseDir, cfg.forwarding.tlsCaFile);
  if (cfg.control.socket !== undefined) cfg.control.socket = resolve(baseDir, cfg.control.socket);
  if (cfg.control.tokenFile !== undefined) cfg.control.tokenFile = resolve(baseDir, cfg.control.tokenFile);
  const upstreams = (key: string, list: readonly string[]): void => {
    for (const [i, u] of list.entries()) {
      try {
        parseUpstream(u);
      } catch (err) {
        throw new ConfigError(`${source}: ${key}[${i}]`, (err as Error).message, hintFor(key.replace(/\..*$/, '')));
      }
    }
  };
  upstreams('forwarders', cfg.forwarders);
  for (const key of ['forwardZones', 'stubZones'] as const) {
    for (const [zone, list] of Object.entries(cfg[key])) {
      try {
        Name.fromText(zone.endsWith('.') ? zone : zone + '.');
      } catch (err) {
        throw new ConfigError(`${source}: ${key}.${zone}`, (err as Error).message, configHints[key]!);
      }
      upstreams(`${key}.${zone}`, list);
      // Stub zones are iterated over plain DNS (UDP, TCP on truncation), as authoritative servers speak it.
      const encrypted = key === 'stubZones' ? list.findIndex((u) => /^(tls|https):\/\//i.test(u.trim())) : -1;
      if (encrypted >= 0) {
        throw new ConfigError(`${source}: ${key}.${zone}[${encrypted}]`, 'stub zone servers are asked over plain DNS (no tls:// or https://)', configHints[key]!);
      }
    }
  }
  try {
    new Acl(cfg.allowRecursion);
  } catch (err) {
    throw new ConfigError(`${source}: allowRecursion`, (err as Error).message, configHints.allowRecursion!);
  }
  try {
    parseListen(cfg.control.listen);
  } catch (err) {
    throw new ConfigError(`${source}: control.listen`, (err as Error).message, configHints.control!);
  }
  parseLocalData(cfg.localData, 3600, `${source}: localData`);
}

/**
 * The embedded configuration `sovereign serve` (and `npm start`) runs with when given no config
 * file and no zones: full recursion from the real root hints, the hosts file, the special-use
 * zones, listening on 127.0.0.1 and ::1 port 5300, control on 127.0.0.1:8053. Never for tests:
 * it sends queries to the real root servers.
 */
export function embeddedConfig(): Config {
  return defaultConfig({ resolver: { enabled: true }, hosts: { enabled: true } });
}

/** Loads a YAML config file. */
export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, `cannot read: ${(err as Error).message}`, 'check the --config path');
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const pos = err.linePos?.[0];
      throw new ConfigError(pos ? `${path}:${pos.line}:${pos.col}` : path, err.message.split('\n')[0]!, 'fix the YAML syntax');
    }
    throw err;
  }
  return validateConfig(doc, dirname(resolve(path)), path);
}

/** Config with every default, for when no file is given. */
export function defaultConfig(overrides: ConfigInput = {}): Config {
  return validateConfig(overrides, process.cwd(), 'defaults');
}

export interface ListenAddress {
  address: string;
  port: number;
  family: 4 | 6;
}

/** Parses `127.0.0.1:53`, `[::1]:5300`, `::1` (port 53), `127.0.0.1` (port 53). */
export function parseListen(text: string): ListenAddress {
  let host = text;
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket !== null) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if ((text.match(/:/g) ?? []).length === 1) {
    const i = text.indexOf(':');
    host = text.slice(0, i);
    port = Number(text.slice(i + 1));
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`"${text}" has a bad port`);
  const v4 = z.ipv4().safeParse(host).success;
  const v6 = !v4 && z.ipv6().safeParse(host).success;
  if (!v4 && !v6) throw new Error(`"${text}" is not an IP address with an optional port`);
  return { address: host, port, family: v4 ? 4 : 6 };
}
