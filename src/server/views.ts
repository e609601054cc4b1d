/**
 * The server's views (split horizon): one zone set (src/server/zones.ts), local data and
 * recursion switch per `views:` entry, and the table that picks a query's view
 * (src/policy/views.ts). Rebuilt from the config at start and at every reload; a view keeps its
 * zone set across reloads by name, so a zone that fails to reload keeps serving its old version
 * in that view, and transfers and updates go on where they were.
 */
import type { Config, ViewConfig, ZoneConfig } from '../config/schema.js';
import { canonicalDomain } from '../config/schema.js';
import { ViewTable } from '../policy/views.js';
import { type LocalData, parseLocalData } from '../resolver/local-data.js';
import type { Message } from '../wire/message.js';
import type { ReplyStream } from './engine.js';
import type { QueryContext } from './query-context.js';
import { type ZoneSet, zoneName } from './zones.js';

export interface ServerView {
  readonly name: string;
  readonly config: ViewConfig;
  readonly zones: ZoneSet;
  readonly localData: LocalData | undefined;
}

export class ServerViews {
  /** Picks a query's view; rebuilt with the config. */
  table: ViewTable = new ViewTable([]);
  /** In config order (index = ctx.view). */
  list: ServerView[] = [];
  private readonly sets = new Map<string, ZoneSet>();
  /** Each view's zone config: the top-level config with `zones` replaced by the view's. */
  private readonly configs = new Map<string, Config>();

  constructor(private readonly makeSet: (config: () => Config) => ZoneSet) {}

  /**
   * Follows `cfg.views`: views are built (or kept, by name) in order; zone sets of views no
   * longer configured are returned to be stopped; `fresh` holds sets made now (loaded, not reloaded).
   */
  apply(cfg: Config): { fresh: Set<ZoneSet>; removed: ZoneSet[] } {
    const views = cfg.views ?? [];
    const top = new Map<string, ZoneConfig>(cfg.zones.map((z) => [canonicalDomain(z.name), z]));
    const fresh = new Set<ZoneSet>();
    const list: ServerView[] = [];
    const names = new Set<string>();
    const files = new Set<string>();
    for (const vc of views) {
      names.add(vc.name);
      // A name refers to the top-level zone: the same ZoneConfig, so its file is loaded once (ZoneSet.loadedFiles).
      const zones = vc.zones.map((e) => {
        const zc = typeof e === 'string' ? top.get(canonicalDomain(e))! : e;
        const key = `${canonicalDomain(zc.name)}\0${zc.file}`;
        if (!files.has(key)) {
          files.add(key);
          return zc;
        }
        // The same file in a later view: its IXFR journal is the first view's to write (one writer per file).
        return { ...zc, ixfrHistory: 0 };
      });
      this.configs.set(vc.name, { ...cfg, zones });
      let set = this.sets.get(vc.name);
      if (set === undefined) {
        const name = vc.name;
        set = this.makeSet(() => this.configs.get(name)!);
        this.sets.set(name, set);
        fresh.add(set);
      }
      const local = parseLocalData(vc.localData);
      list.push({ name: vc.name, config: vc, zones: set, localData: local.size > 0 ? local : undefined });
    }
    const removed: ZoneSet[] = [];
    for (const [name, set] of this.sets) {
      if (names.has(name)) continue;
      removed.push(set);
      this.sets.delete(name);
      this.configs.delete(name);
    }
    this.list = list;
    this.table = new ViewTable(views.map((v) => ({
      name: v.name,
      // BIND's match-clients defaults to any; a view selected by keys alone matches no address.
      clients: v.clients ?? (v.keys.length > 0 ? [] : ['any']),
      destinations: v.destinations,
      keys: v.keys.map(zoneName),
    })));
    return { fresh, removed };
  }

  /** Every view's zone set. */
  all(): ZoneSet[] {
    return this.list.map((v) => v.zones);
  }

  /** The engine's AXFR/IXFR hook: the query's view's zones answer it (a key picks the view, as BIND). */
  readonly transfers = (ctx: QueryContext): Message | ReplyStream | undefined => this.list[ctx.view]?.zones.transferHook?.(ctx);

  /** The engine's UPDATE hook: the query's view's zones take it. */
  readonly update = (ctx: QueryContext): Message | Promise<Message> => this.list[ctx.view]!.zones.update(ctx);
}
