/**
 * The configured blocklists kept current: read from files or fetched over HTTP(S) (Node's fetch)
 * at start and every `refresh`, each list swapped in whole when its new copy parsed. A failed
 * read or fetch, or a copy with no usable line, keeps the last good copy serving (logged and
 * counted); malformed lines are skipped and logged with file and line.
 *
 * Invariants: lookups read only immutable Blocklist objects; timers are unref'd and stopped by
 * stop(); the clock and fetch are injectable for tests.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from '../logging.js';
import { Allowlist, Blocklist, type ListFormat, listBlocks } from './blocklist.js';
import type { PolicyStats } from './stats.js';

export interface BlocklistSource {
  name: string;
  file?: string | undefined;
  url?: string | undefined;
  format?: ListFormat | undefined;
  /** How often to re-read or re-fetch, ms (0: only at start and reload). */
  refreshMs: number;
}

export interface BlocklistsOptions {
  logger: Logger;
  stats: PolicyStats;
  /** Called after a list changed (the engine drops answers it kept). */
  onChange?: () => void;
  fetch?: typeof fetch;
  /** Fetch timeout, ms. */
  timeoutMs?: number;
}

interface ListState {
  source: BlocklistSource;
  current: Blocklist | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class Blocklists {
  private readonly states: ListState[];
  readonly allow = new Allowlist();
  private readonly opts: BlocklistsOptions;

  constructor(sources: readonly BlocklistSource[], allow: readonly string[], opts: BlocklistsOptions) {
    this.opts = opts;
    this.states = sources.map((source) => ({ source, current: undefined, timer: undefined }));
    for (const entry of allow) this.addAllow(entry);
    for (const s of sources) opts.stats.list(s.name);
  }

  /** An allow entry: a name (`*.name` for a subtree), or a file of them (a path: has a `/`). */
  private addAllow(entry: string): void {
    if (!entry.includes('/')) {
      if (!this.allow.add(entry)) this.opts.logger.warn({ entry }, 'blocklists.allow: not a domain name, ignored');
      return;
    }
    let text: string;
    try {
      text = readFileSync(entry, 'utf8');
    } catch (err) {
      this.opts.logger.warn({ file: entry, err: (err as Error).message }, 'blocklists.allow: cannot read the file');
      return;
    }
    text.split('\n').forEach((line, i) => {
      const t = line.replace(/#.*/, '').trim();
      if (t !== '' && !this.allow.add(t)) this.opts.logger.warn({ file: entry, line: i + 1, text: t }, 'blocklists.allow: not a domain name, skipped');
    });
  }

  /** Names held, over all lists. */
  get size(): number {
    let n = 0;
    for (const s of this.states) n += s.current?.size ?? 0;
    return n;
  }

  /** Lists kept from `previous` (same name and source) start with its copy: a reload does not empty them. */
  adopt(previous: Blocklists | undefined): void {
    if (previous === undefined) return;
    for (const s of this.states) {
      const old = previous.states.find((o) => o.source.name === s.source.name && o.source.file === s.source.file && o.source.url === s.source.url);
      if (old?.current !== undefined) s.current = old.current;
    }
  }

  /** Loads every list now (files at once, URLs fetched), then refreshes each on its schedule. */
  async start(): Promise<void> {
    await Promise.all(this.states.map((s) => this.load(s)));
    for (const s of this.states) {
      if (s.source.refreshMs <= 0) continue;
      s.timer = setInterval(() => void this.load(s), s.source.refreshMs);
      s.timer.unref();
    }
  }

  stop(): void {
    for (const s of this.states) {
      if (s.timer !== undefined) clearInterval(s.timer);
      s.timer = undefined;
    }
  }

  /** Re-reads one list (by name) or all of them now. */
  async refresh(name?: string): Promise<void> {
    await Promise.all(this.states.filter((s) => name === undefined || s.source.name === name).map((s) => this.load(s)));
  }

  /**
   * The name of the first list blocking the name whose Name.key is `key`, or undefined (also when
   * the allowlist has it; counted in stats.allowed).
   */
  lookup(key: string): string | undefined {
    const states = this.states;
    for (let i = 0; i < states.length; i++) {
      const l = states[i]!.current;
      if (l === undefined || !listBlocks(l, key)) continue;
      if (this.allow.size > 0 && this.allow.allows(key)) {
        this.opts.stats.allowed++;
        return undefined;
      }
      return states[i]!.source.name;
    }
    return undefined;
  }

  private async load(s: ListState): Promise<void> {
    const { logger, stats } = this.opts;
    const src = s.source;
    const where = src.file ?? src.url ?? src.name;
    const counters = stats.list(src.name);
    let text: string;
    try {
      text = src.file !== undefined ? readFileSync(src.file, 'utf8') : await this.fetchText(src.url!);
    } catch (err) {
      counters.failures++;
      counters.error = (err as Error).message;
      logger.warn({ list: src.name, source: where, err: (err as Error).message, keeping: s.current?.size ?? 0 },
        'blocklist: load failed; the last good copy keeps serving');
      return;
    }
    const list = Blocklist.parse(text, src.format);
    for (const p of list.problems) logger.warn({ list: src.name, file: where, line: p.line, text: p.text, reason: p.reason }, 'blocklist: line skipped');
    if (list.skipped > list.problems.length) logger.warn({ list: src.name, file: where, more: list.skipped - list.problems.length }, 'blocklist: more lines skipped');
    if (list.size === 0 && list.skipped > 0) {
      counters.failures++;
      counters.error = `no usable line (${list.skipped} skipped)`;
      logger.warn({ list: src.name, source: where, skipped: list.skipped }, 'blocklist: no usable line; the last good copy keeps serving');
      return;
    }
    s.current = list;
    counters.loads++;
    counters.names = list.size;
    counters.skipped = list.skipped;
    counters.loadedAt = new Date().toISOString();
    counters.error = null;
    logger.info({ list: src.name, source: where, names: list.size, skipped: list.skipped }, 'blocklist loaded');
    this.opts.onChange?.();
  }

  private async fetchText(url: string): Promise<string> {
    const f = this.opts.fetch ?? fetch;
    const res = await f(url, { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000), redirect: 'follow' });
    if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`);
    return await res.text();
  }
}
