/**
 * Counters of answer policies (RPZ rewrites, blocklist blocks): per policy zone and trigger, per
 * list, and per client. Per-client counts are bounded (top-N): a new client past the bound
 * replaces the one with the smallest count (space-saving), so a spoofed-source flood cannot grow
 * the map.
 */

/** Counts per key, at most `max` keys; the smallest is evicted for a new one. */
export class TopCounts {
  private readonly counts = new Map<string, number>();
  constructor(private readonly max: number) {}

  add(key: string): void {
    const c = this.counts;
    const n = c.get(key);
    if (n !== undefined) {
      c.set(key, n + 1);
      return;
    }
    if (c.size >= this.max) {
      // Space-saving (Metwally et al.): the newcomer inherits the evicted minimum, so heavy hitters stay.
      let minKey = '';
      let min = Infinity;
      for (const [k, v] of c) if (v < min) { min = v; minKey = k; }
      c.delete(minKey);
      c.set(key, min + 1);
      return;
    }
    c.set(key, 1);
  }

  /** The `n` largest counts, largest first. */
  top(n: number): Record<string, number> {
    const rows = [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, n);
    return Object.fromEntries(rows);
  }
}

/** What one policy zone has rewritten. */
export interface RpzZoneCounters {
  hits: number;
  /** By trigger kind: client-ip, qname, ip, nsdname, nsip. */
  byTrigger: Record<string, number>;
  /** Matches of a zone whose policy is `disabled`: logged and counted, not applied (BIND). */
  disabled: number;
}

export interface BlocklistCounters {
  blocked: number;
  /** Names held (after the last good load). */
  names: number;
  /** Loads that succeeded / failed (fetch or read errors; a failed load keeps the last good copy). */
  loads: number;
  failures: number;
  /** Lines skipped as malformed in the last load. */
  skipped: number;
  /** ISO time of the last good load, null before one. */
  loadedAt: string | null;
  error: string | null;
}

export const TOP_CLIENTS = 1000;

export class PolicyStats {
  readonly rpz = new Map<string, RpzZoneCounters>();
  readonly rpzClients = new TopCounts(TOP_CLIENTS);
  readonly lists = new Map<string, BlocklistCounters>();
  readonly blockClients = new TopCounts(TOP_CLIENTS);
  /** Queries the allowlist let through although a list had the name. */
  allowed = 0;

  rpzZone(name: string): RpzZoneCounters {
    let z = this.rpz.get(name);
    if (z === undefined) {
      z = { hits: 0, byTrigger: {}, disabled: 0 };
      this.rpz.set(name, z);
    }
    return z;
  }

  list(name: string): BlocklistCounters {
    let l = this.lists.get(name);
    if (l === undefined) {
      l = { blocked: 0, names: 0, loads: 0, failures: 0, skipped: 0, loadedAt: null, error: null };
      this.lists.set(name, l);
    }
    return l;
  }

  snapshot(topN = 20): PolicySnapshot {
    return {
      rpz: { zones: Object.fromEntries([...this.rpz].map(([k, v]) => [k, { ...v, byTrigger: { ...v.byTrigger } }])), clients: this.rpzClients.top(topN) },
      blocklists: { lists: Object.fromEntries([...this.lists].map(([k, v]) => [k, { ...v }])), clients: this.blockClients.top(topN), allowed: this.allowed },
    };
  }
}

export interface PolicySnapshot {
  rpz: { zones: Record<string, RpzZoneCounters>; clients: Record<string, number> };
  blocklists: { lists: Record<string, BlocklistCounters>; clients: Record<string, number>; allowed: number };
}
