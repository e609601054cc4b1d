/**
 * The resolver's and the forwarder's side of the engine's fast path for cache hits
 * (src/server/live-answer.ts): around one synchronous cache answer, records the entries it was
 * built from, and gives the engine the cache's clock, the recursion ACL and the counters a hit
 * served from bytes must still move (so `sovereign stats` reads the same either way).
 */
import type { Acl } from '../resolver/acl.js';
import type { CacheEntry, RRCache } from '../resolver/cache.js';
import type { LiveEntry, LiveSource } from '../server/live-answer.js';
import type { QueryContext } from '../server/query-context.js';
import type { ClientLimits } from '../policy/client-limits.js';

export class CacheLiveSource implements LiveSource {
  /** Reused for every recording (the engine keeps a copy only when it remembers an answer). */
  private readonly recorded: CacheEntry[] = [];

  constructor(private readonly cache: RRCache, private readonly acl: Acl, private readonly counted: () => void,
    /** Per-client query rate (src/policy/client-limits.ts): a client over it leaves the fast path. */
    private readonly limits?: ClientLimits | undefined) {}

  now(): number {
    return this.cache.now();
  }

  get generation(): number {
    return this.cache.generation;
  }

  get prefetching(): boolean {
    return this.cache.prefetching;
  }

  allows(address: string): boolean {
    return this.acl.allows(address) && (this.limits === undefined || this.limits.peek(address));
  }

  hit(entries: readonly LiveEntry[]): void {
    this.counted();
    this.cache.noteHit(entries as readonly CacheEntry[]);
  }

  /** Starts recording the entries lookups return. */
  start(): void {
    this.cache.record(this.recorded);
  }

  /**
   * Stops recording; when `answered` (a fresh cache answer, not stale, not local data) and entries
   * were used, tells the engine on `ctx`.
   */
  stop(ctx: QueryContext, answered: boolean): void {
    this.cache.record(undefined);
    if (answered && this.recorded.length > 0) ctx.live = { source: this, entries: this.recorded.slice() };
  }
}
