/**
 * Reads and validates configuration: YAML text -> zod schema -> `Config`, with relative paths
 * resolved against the config file's directory.
 *
 * Every problem is reported at once (as named-checkconf does): one ConfigError per problem, naming
 * the key, the YAML line and column, and the fix; several are thrown together as ConfigErrors.
 */
import { signingAlgorithmFrom } from '../dnssec/algorithms.js';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, ConfigErrors } from '../errors.js';
import { TrustAnchorSet } from '../dnssec/validator/trust-anchors.js';
import { Acl } from '../resolver/acl.js';
import { parseUpstream } from '../resolver/forwarder.js';
import { parseLocalData } from '../resolver/local-data.js';
import { knownKeys, type Locate, suggestKey, yamlLocator } from './locate.js';
import { makeKey } from '../tsig/key.js';
import { TransferAcl } from '../transfer/acl.js';
import { parseServerSpec } from '../transfer/notify.js';
import { loadTlsCredentials } from './tls-credentials.js';
import { GeoIp } from '../balance/geoip.js';
import { type Config, type ConfigInput, configHints, configSchema } from './schema.js';

export { expandListen, formatListen, isLoopback, type ListenAddress, parseListen } from './listen.js';

function hintFor(path: string): string {
  let best = '';
  for (const key of Object.keys(configHints)) {
    if ((path === key || path.startsWith(key + '.') || path.startsWith(key + '[')) && key.length > best.length) best = key;
  }
  return best === '' ? 'remove the key or check its spelling against sovereign.example.yaml' : configHints[best]!;
}

function pathToString(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : (s === '' ? '' : '.') + String(p);
  return s === '' ? '(top level)' : s;
}

export interface ValidateOptions {
  /** Finds a key path in the source text (line/column in errors). */
  locate?: Locate;
  /**
   * Keys set from command-line flags: an error under `listen` is reported as `--listen "value"`.
   * Maps a top-level key to the flag and the text the user gave.
   */
  flags?: Record<string, { flag: string; text: string }>;
}

/** Collects problems while validating; `add` places each in the source and finds its fix. */
class Problems {
  readonly list: ConfigError[] = [];
  constructor(private readonly source: string, private readonly opts: ValidateOptions) {}

  add(path: readonly PropertyKey[], problem: string, opts: { key?: string; fix?: string } = {}): void {
    const full = opts.key === undefined ? path : [...path, opts.key];
    const keyPath = pathToString(full);
    const fix = opts.fix ?? hintFor(keyPath.replace(/\[\d+\]/g, ''));
    const flag = typeof full[0] === 'string' ? this.opts.flags?.[full[0]] : undefined;
    if (flag !== undefined) {
      this.list.push(new ConfigError(`${flag.flag} "${flag.text}"`, problem, fix));
      return;
    }
    const at = this.opts.locate?.(path, opts.key);
    const where = at === undefined ? `${this.source}: ${keyPath}` : `${this.source}:${at.line}:${at.column}: ${keyPath}`;
    this.list.push(new ConfigError(where, problem, fix, at));
  }

  /** Runs `fn`; a thrown error becomes a problem at `path`. */
  check(path: readonly PropertyKey[], fix: string | undefined, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      const problem = err instanceof ConfigError ? err.problem : (err as Error).message;
      this.add(path, problem, fix === undefined ? {} : { fix });
    }
  }

  throwIfAny(): void {
    if (this.list.length === 1) throw this.list[0]!;
    if (this.list.length > 1) throw new ConfigErrors(this.source, this.list);
  }
}

/**
 * Validates an already-parsed config object; `baseDir` resolves relative file paths. Throws
 * ConfigError (one problem) or ConfigErrors (several, each also a ConfigError).
 */
export function validateConfig(input: unknown, baseDir: string, source = 'config', opts: ValidateOptions = {}): Config {
  const problems = new Problems(source, opts);
  const r = configSchema.safeParse(input ?? {});
  if (!r.success) {
    for (const issue of r.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        const known = knownKeys(configSchema, issue.path);
        for (const key of issue.keys) {
          const guess = suggestKey(key, known);
          problems.add(issue.path, `unknown key "${key}"${guess === undefined ? '' : `; did you mean "${guess}"?`}`, {
            key, ...(guess === undefined ? {} : { fix: `rename it to ${guess}` }),
          });
        }
      } else {
        problems.add(issue.path, issue.message);
      }
    }
    problems.throwIfAny();
  }
  const cfg = r.data!;
  for (const [i, zone] of cfg.zones.entries()) {
    zone.file = resolve(baseDir, zone.file);
    const d = zone.dnssec;
    if (d === undefined) continue;
    if (d.keyDir !== undefined) d.keyDir = resolve(baseDir, d.keyDir);
    if (signingAlgorithmFrom(d.algorithm) === undefined) {
      problems.add(['zones', i, 'dnssec', 'algorithm'], `"${d.algorithm}" is not an algorithm we sign with`,
        { fix: 'use 8 (RSASHA256), 10, 13 (ECDSAP256SHA256), 14, 15 (ED25519) or 16' });
    }
    if (d.signatureRefresh >= d.signatureValidity) {
      problems.add(['zones', i, 'dnssec', 'signatureRefresh'], 'must be shorter than signatureValidity', { fix: configHints['zones.dnssec']! });
    }
    d.parentalAgents.forEach((a, j) => {
      try {
        parseUpstream(a);
      } catch (err) {
        problems.add(['zones', i, 'dnssec', 'parentalAgents', j], (err as Error).message, { fix: 'an address with an optional port: "192.0.2.53" or "127.0.0.1:5301"' });
      }
    });
    if (d.optOut && !d.nsec3) problems.add(['zones', i, 'dnssec', 'optOut'], 'opt-out needs NSEC3', { fix: 'add nsec3: true' });
  }
  // Views' own zone blocks: files relative to the config file's directory too; local data checked.
  for (const [i, v] of (cfg.views ?? []).entries()) {
    for (const z of v.zones) {
      if (typeof z === 'string') continue;
      z.file = resolve(baseDir, z.file);
      if (z.dnssec?.keyDir !== undefined) z.dnssec.keyDir = resolve(baseDir, z.dnssec.keyDir);
    }
    problems.check(['views', i, 'localData'], configHints['views.localData'], () => parseLocalData(v.localData, 3600, `views[${i}].localData`));
  }
  // Policy files (rpz zones, blocklists, allow files); a transferred policy zone's copy defaults to NAME.rpz next to the config.
  for (const z of cfg.rpz.zones) z.file = resolve(baseDir, z.file ?? `${z.name.replace(/\.$/, '')}.rpz`);
  for (const l of cfg.blocklists.lists) if (l.file !== undefined) l.file = resolve(baseDir, l.file);
  cfg.blocklists.allow = cfg.blocklists.allow.map((a) => (a.includes('/') ? resolve(baseDir, a) : a));
  if (cfg.pidFile !== undefined) cfg.pidFile = resolve(baseDir, cfg.pidFile);
  if (cfg.balance.geoip !== undefined) {
    const geo = cfg.balance.geoip;
    geo.database = resolve(baseDir, geo.database);
    // Read now, so check-config and startup name an unreadable or corrupt database.
    problems.check(['balance', 'geoip', 'database'], 'the path of a readable MaxMind DB file (.mmdb), e.g. GeoLite2-Country.mmdb', () => new GeoIp(geo.database));
  }
  if (cfg.resolver.rootHints !== undefined) cfg.resolver.rootHints = resolve(baseDir, cfg.resolver.rootHints);
  if (cfg.resolver.trustAnchors !== undefined) {
    const files = cfg.resolver.trustAnchors.map((f) => resolve(baseDir, f));
    cfg.resolver.trustAnchors = files;
    // Read now, so check-config and startup name the unreadable or empty file (each one on its own).
    if (cfg.resolver.dnssec) {
      for (const [i, f] of files.entries()) problems.check(['resolver', 'trustAnchors', i], undefined, () => TrustAnchorSet.fromFiles([f]));
    }
  }
  if (cfg.log.destination !== 'stderr' && cfg.log.destination !== 'syslog') cfg.log.destination = resolve(baseDir, cfg.log.destination);
  if (cfg.resolver.allow !== undefined) {
    const allow = cfg.resolver.allow;
    problems.check(['resolver', 'allow'], undefined, () => new Acl(allow));
  }
  checkForwardingConfig(cfg, baseDir, problems);
  checkTransferConfig(cfg, problems);
  checkSecondaryConfig(cfg, problems);
  checkTlsConfig(cfg, baseDir, problems);
  problems.throwIfAny();
  return cfg;
}

/** Secondary zones: primaries parse and name keys that exist; `type` agrees with `primaries`. */
function checkSecondaryConfig(cfg: Config, problems: Problems): void {
  const keyNames = new Set(Object.keys(cfg.keys).map((k) => k.toLowerCase().replace(/\.$/, '')));
  for (const [i, zone] of cfg.zones.entries()) {
    if (zone.type === 'secondary' && zone.primaries === undefined) {
      problems.add(['zones', i, 'primaries'], 'a secondary zone needs the primaries it transfers from', { fix: configHints['zones.primaries']! });
    }
    if (zone.type === 'primary' && zone.primaries !== undefined) {
      problems.add(['zones', i, 'type'], 'a primary zone has no primaries', { fix: 'remove type: primary, or remove primaries' });
    }
    for (const [j, e] of (zone.primaries ?? []).entries()) {
      const path = ['zones', i, 'primaries', j];
      try {
        const spec = parseServerSpec(e);
        if (spec.key !== undefined && !keyNames.has(spec.key.toLowerCase().replace(/\.$/, ''))) {
          problems.add(path, `key "${spec.key}" is not defined under keys:`, { fix: 'add it under keys: { NAME: { algorithm, secret } }' });
        }
      } catch (err) {
        problems.add(path, (err as Error).message, { fix: configHints['zones.primaries']! });
      }
    }
    for (const [j, e] of (zone.allowNotify ?? []).entries()) {
      problems.check(['zones', i, 'allowNotify', j], configHints['zones.allowNotify'], () => new TransferAcl([e]));
    }
    if (zone.catalogRole === 'consume' && zone.primaries === undefined) {
      problems.add(['zones', i, 'catalogRole'], 'a consumed catalog zone is a secondary zone', { fix: 'add primaries: [...]' });
    }
    if (zone.catalogRole === 'generate' && zone.primaries !== undefined) {
      problems.add(['zones', i, 'catalogRole'], 'a generated catalog zone has no primaries', { fix: 'remove primaries, or use catalogRole: consume' });
    }
    if (zone.catalogZone !== undefined) {
      const want = zone.catalogZone.toLowerCase().replace(/\.$/, '');
      const cat = cfg.zones.find((z) => z.name.toLowerCase().replace(/\.$/, '') === want);
      if (cat?.catalogRole !== 'generate') {
        problems.add(['zones', i, 'catalogZone'], `no zone ${zone.catalogZone} with catalogRole: generate is configured`, { fix: 'configure that catalog zone with catalogRole: generate' });
      }
    }
    if (zone.forwardUpdates === true && zone.primaries === undefined) {
      problems.add(['zones', i, 'forwardUpdates'], 'only a secondary zone forwards updates', { fix: 'add primaries: [...] or remove forwardUpdates' });
    }
    if (zone.dnssec !== undefined && zone.primaries !== undefined) {
      // A secondary serves what its primary signed (BIND's dnssec-policy on a secondary is
      // inline signing, which we do not do): the block would be silently ignored.
      problems.add(['zones', i, 'dnssec'], 'a secondary zone is not signed here: it serves the records its primary sends (signed or not)',
        { fix: 'remove dnssec: from this zone and sign it on its primary, or remove primaries: to make it a primary zone signed here' });
    }
  }
}

/** tls:// and https:// listeners need a certificate and key that can be read and belong together. */
function checkTlsConfig(cfg: Config, baseDir: string, problems: Problems): void {
  const t = cfg.tls;
  if (t.cert !== undefined) t.cert = resolve(baseDir, t.cert);
  if (t.key !== undefined) t.key = resolve(baseDir, t.key);
  const i = cfg.listen.findIndex((l) => /^(tls|https):\/\//.test(l));
  if (i < 0) return;
  if (t.cert === undefined || t.key === undefined) {
    problems.add(['tls', t.cert === undefined ? 'cert' : 'key'], `listen entry "${cfg.listen[i]}" serves TLS but tls.${t.cert === undefined ? 'cert' : 'key'} is not set`,
      { fix: 'set tls: { cert: /path/cert.pem, key: /path/key.pem }' });
    return;
  }
  const files = { cert: t.cert, key: t.key };
  try {
    loadTlsCredentials(files);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.add(err.path.split('.'), err.problem, { fix: err.fix });
  }
}

/** TSIG keys decode; allowTransfer entries parse and name keys that exist. */
function checkTransferConfig(cfg: Config, problems: Problems): void {
  for (const [name, k] of Object.entries(cfg.keys)) {
    problems.check(['keys', name], configHints.keys, () => makeKey(name, k.algorithm, k.secret));
  }
  const keyNames = new Set(Object.keys(cfg.keys).map((k) => k.toLowerCase().replace(/\.$/, '')));
  for (const [i, zone] of cfg.zones.entries()) {
    for (const [j, e] of (zone.allowTransfer ?? []).entries()) {
      const path = ['zones', i, 'allowTransfer', j];
      const m = /^key\s+"?([^"\s]+)"?$/i.exec(e.trim());
      if (m !== null) {
        if (!keyNames.has(m[1]!.toLowerCase().replace(/\.$/, ''))) {
          problems.add(path, `key "${m[1]}" is not defined under keys:`, { fix: 'add it under keys: { NAME: { algorithm, secret } }' });
        }
        continue;
      }
      problems.check(path, '"key NAME" or an address or address/prefix, e.g. "192.0.2.0/24"', () => new Acl([e]));
    }
  }
}

/** Forwarders, routes, ACL, hosts, local data and control: paths resolved, entries checked. */
function checkForwardingConfig(cfg: Config, baseDir: string, problems: Problems): void {
  cfg.hosts.path = resolve(baseDir, cfg.hosts.path);
  if (cfg.forwarding.tlsCaFile !== undefined) cfg.forwarding.tlsCaFile = resolve(baseDir, cfg.forwarding.tlsCaFile);
  if (cfg.control.socket !== undefined) cfg.control.socket = resolve(baseDir, cfg.control.socket);
  if (cfg.control.tokenFile !== undefined) cfg.control.tokenFile = resolve(baseDir, cfg.control.tokenFile);
  const upstreams = (path: PropertyKey[], list: readonly string[]): void => {
    for (const [i, u] of list.entries()) problems.check([...path, i], undefined, () => parseUpstream(u));
  };
  upstreams(['forwarders'], cfg.forwarders);
  for (const key of ['forwardZones', 'stubZones'] as const) {
    for (const [zone, list] of Object.entries(cfg[key])) {
      upstreams([key, zone], list);
      // Stub zones are iterated over plain DNS (UDP, TCP on truncation), as authoritative servers speak it.
      const encrypted = key === 'stubZones' ? list.findIndex((u) => /^(tls|https):\/\//i.test(u.trim())) : -1;
      if (encrypted >= 0) problems.add([key, zone, encrypted], 'stub zone servers are asked over plain DNS (no tls:// or https://)');
    }
  }
  problems.check(['allowRecursion'], undefined, () => new Acl(cfg.allowRecursion));
  problems.check(['localData'], configHints.localData, () => parseLocalData(cfg.localData, 3600, 'localData'));
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

/** Parses YAML text and validates it; `path` names the file in errors and resolves relative paths. */
export function parseConfigText(text: string, path: string): Config {
  const lines = new LineCounter();
  // uniqueKeys (the default) makes a repeated key a syntax error, as it is in BIND's grammar.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const errs = doc.errors.map((e) => {
      const pos = lines.linePos(e.pos[0]);
      return new ConfigError(`${path}:${pos.line}:${pos.col}`, e.message.split('\n')[0]!, 'fix the YAML syntax', { line: pos.line, column: pos.col });
    });
    if (errs.length === 1) throw errs[0]!;
    throw new ConfigErrors(path, errs);
  }
  return validateConfig(doc.toJS(), dirname(resolve(path)), path, { locate: yamlLocator(doc, lines) });
}

/** Loads a YAML config file. */
export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, `cannot read: ${(err as Error).message}`, 'check the --config path');
  }
  return parseConfigText(text, path);
}

/** Config with every default, for when no file is given. */
export function defaultConfig(overrides: ConfigInput = {}): Config {
  return validateConfig(overrides, process.cwd(), 'defaults');
}

/** Settings a running server applies only at start (sockets, processes, logging, control endpoint). */
const RESTART_ONLY = ['listen', 'workers', 'udp.maxSize', 'tcp', 'log', 'pidFile', 'control'] as const;

/**
 * The restart-only settings that differ between the running config and a reloaded one, so reload
 * can say which of the new values wait for a restart instead of ignoring them silently.
 */
export function restartOnlyChanges(running: Config, reloaded: Config): string[] {
  const at = (c: Config, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], c);
  return RESTART_ONLY.filter((p) => JSON.stringify(at(running, p)) !== JSON.stringify(at(reloaded, p)));
}
