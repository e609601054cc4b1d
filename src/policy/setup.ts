/**
 * Builds the policy elements from config for the server (src/server/server.ts calls this at start
 * and reload): policy zones loaded from their files (or, for feeds, read from the catalog where
 * the secondary-zone machinery installs each transferred version), blocklists kept across reloads,
 * and the resolver's delegations for NSDNAME/NSIP triggers.
 */
import type { Config, ZoneConfig } from '../config/schema.js';
import type { Logger } from '../logging.js';
import type { RRCache } from '../resolver/cache.js';
import { Name } from '../wire/name.js';
import { RRClass, RRType } from '../wire/types.js';
import { loadZone } from '../zone/load.js';
import type { Zone } from '../zone/zone.js';
import { Blocklists } from './blocklist-fetch.js';
import { addressBytes } from './prefix-table.js';
import type { NameserverSource, RpzOverride, RpzZoneEntry } from './rpz.js';
import { type CompiledPolicyZone, compilePolicyZone } from './rpz-zone.js';
import type { PolicyStats } from './stats.js';

function origin(text: string): Name {
  return Name.fromText(text.endsWith('.') ? text : text + '.');
}

/** The `policy` text as an override. */
export function parseOverride(text: string): RpzOverride {
  const t = text.trim();
  const m = /^cname\s+(\S+)$/i.exec(t);
  if (m !== null) return { kind: 'cname', target: origin(m[1]!) };
  return { kind: t.toLowerCase() as Exclude<RpzOverride['kind'], 'cname'> };
}

/** Policy zones transferred from primaries, as secondary ZoneConfigs (the transfer machinery runs them). */
export function rpzFeedZones(cfg: Config): ZoneConfig[] {
  return cfg.rpz.zones.filter((z) => z.primaries !== undefined).map((z) => ({
    name: z.name, file: z.file!, primaries: z.primaries, checks: { names: 'ignore', glue: 'warn' },
    ...(z.allowNotify === undefined ? {} : { allowNotify: z.allowNotify }),
  }) as unknown as ZoneConfig);
}

const compiledOf = new WeakMap<Zone, CompiledPolicyZone>();

function compiled(zone: Zone | undefined, logger: Logger): CompiledPolicyZone | undefined {
  if (zone === undefined || zone.soa === undefined) return undefined;
  let c = compiledOf.get(zone);
  if (c === undefined) {
    c = compilePolicyZone(zone);
    compiledOf.set(zone, c);
    for (const p of c.problems) logger.warn({ zone: zone.origin.toString(), problem: p }, 'rpz: trigger skipped');
    logger.info({ zone: zone.origin.toString(), serial: zone.serial, triggers: c.counts }, 'rpz zone loaded');
  }
  return c;
}

/**
 * The policy zones of `cfg` in order. File zones load now (a zone that fails keeps its previous
 * version from `previous`, else it is skipped with an error logged); feeds read `catalogZone` at
 * query time so each transferred version applies as soon as it is installed.
 */
export function rpzZones(cfg: Config, logger: Logger, previous: Map<string, Zone>,
  catalogZone: (origin: Name) => Zone | undefined): { entries: RpzZoneEntry[]; files: Map<string, Zone> } {
  const files = new Map<string, Zone>();
  const entries: RpzZoneEntry[] = [];
  for (const z of cfg.rpz.zones) {
    const o = origin(z.name);
    const base = { name: o.toString(), policy: parseOverride(z.policy), log: z.log, maxPolicyTtl: z.maxPolicyTtl, recursiveOnly: z.recursiveOnly };
    if (z.primaries !== undefined) {
      entries.push({ ...base, compiled: () => compiled(catalogZone(o), logger) });
      continue;
    }
    let zone: Zone | undefined;
    const r = loadZone(z.file!, o, { checks: { names: 'ignore', glue: 'warn', integrity: 'none', nsAddress: 'ignore', mxCname: 'ignore', srvCname: 'ignore' } });
    const errors = r.problems.filter((p) => p.severity === 'error');
    if (r.zone !== undefined) zone = r.zone;
    else {
      zone = previous.get(o.key);
      logger.error({ zone: o.toString(), problems: errors.map((p) => `${p.file}:${p.line}: ${p.reason}`), keeping: zone !== undefined },
        'rpz zone rejected');
    }
    if (zone !== undefined) files.set(o.key, zone);
    const c = compiled(zone, logger);
    entries.push({ ...base, compiled: () => c });
  }
  return { entries, files };
}

/** NSDNAME/NSIP data from the resolver cache: NS RRsets from the name up (BIND's min-ns-dots 1: not the TLDs). */
export function cacheNameservers(cache: RRCache): NameserverSource {
  return {
    *nameservers(name: Name) {
      let n = name;
      while (n.labelCount >= 2) {
        const hit = cache.peek(n, RRType.NS, RRClass.IN);
        if (hit !== undefined && hit.kind === 'positive') {
          const names: Name[] = [];
          const addresses: Uint8Array[] = [];
          for (const r of hit.records) {
            const ns = (r.data as { nsdname: Name }).nsdname;
            names.push(ns);
            for (const t of [RRType.A, RRType.AAAA]) {
              const a = cache.peek(ns, t, RRClass.IN);
              if (a === undefined || a.kind !== 'positive') continue;
              for (const ar of a.records) {
                const b = addressBytes((ar.data as { address: string }).address);
                if (b !== undefined) addresses.push(b);
              }
            }
          }
          yield { names, addresses };
        }
        n = n.parent();
      }
    },
  };
}

/** The blocklists of `cfg` (undefined when none), taking over `previous`'s copies of unchanged lists. */
export function buildBlocklists(cfg: Config, logger: Logger, stats: PolicyStats, previous: Blocklists | undefined,
  onChange: () => void): Blocklists | undefined {
  const b = cfg.blocklists;
  if (b.lists.length === 0) return undefined;
  const lists = new Blocklists(b.lists.map((l) => ({ name: l.name, file: l.file, url: l.url, format: l.format, refreshMs: l.refresh * 1000 })),
    b.allow, { logger, stats, onChange });
  lists.adopt(previous);
  return lists;
}
