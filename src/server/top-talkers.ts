/**
 * Top query names and clients, for the dashboard and `GET /v1/top`: a sample of the queries
 * (one in `every`) counted in two bounded space-saving tables (Metwally, Agrawal, El Abbadi,
 * "Efficient Computation of Frequent and Top-k Elements in Data Streams", 2005).
 *
 * Invariants: the hot path pays one decrement and compare per query (ServerStats.sampleIn);
 * only a sampled query reads its QNAME from the wire (labels lowercased, no Name object) and
 * touches a table. A table never holds more than `capacity` keys; when full, the new key takes
 * the place of the smallest count and inherits it (+1), so a count overestimates by at most the
 * `error` it carries. Counts are scaled back by `every` when reported.
 */

/** One table: key -> count, with the error inherited at replacement. */
export class SpaceSaving {
  private readonly counts = new Map<string, { count: number; error: number }>();

  constructor(readonly capacity: number) {}

  add(key: string): void {
    const have = this.counts.get(key);
    if (have !== undefined) {
      have.count++;
      return;
    }
    if (this.counts.size < this.capacity) {
      this.counts.set(key, { count: 1, error: 0 });
      return;
    }
    // Replace the smallest: a scan of `capacity` entries, only on a sampled query with a new key.
    let minKey = '';
    let min = Infinity;
    for (const [k, v] of this.counts) {
      if (v.count < min) {
        min = v.count;
        minKey = k;
      }
    }
    this.counts.delete(minKey);
    this.counts.set(key, { count: min + 1, error: min });
  }

  /** The `n` largest, largest first. */
  top(n: number): { key: string; count: number; error: number }[] {
    return [...this.counts].map(([key, v]) => ({ key, count: v.count, error: v.error }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1)).slice(0, n);
  }

  clear(): void {
    this.counts.clear();
  }
}

/** One row of a top list: `count` is the estimate of queries (sample count × sampling rate). */
export interface TopRow {
  key: string;
  count: number;
}

export interface TopSnapshot {
  /** One query in `every` was counted. */
  every: number;
  names: TopRow[];
  clients: TopRow[];
}

/** Queries between two samples (a power of two keeps the estimate's scale obvious). */
export const SAMPLE_EVERY = 16;
/** Keys each table holds: top-k of k up to ~50 are accurate with a table several times k. */
const CAPACITY = 256;

export class TopTalkers {
  readonly names = new SpaceSaving(CAPACITY);
  readonly clients = new SpaceSaving(CAPACITY);

  constructor(readonly every = SAMPLE_EVERY) {}

  /**
   * Counts one query: its client and the QNAME read from `buf` at offset 12 (RFC 1035 §4.1.2),
   * lowercased, in presentation form. A malformed name counts the client only.
   */
  sample(buf: Uint8Array, len: number, address: string): void {
    this.clients.add(address);
    let pos = 12;
    let text = '';
    for (let hops = 0; hops < 128 && pos < len; hops++) {
      const l = buf[pos]!;
      if (l === 0) {
        this.names.add(text === '' ? '.' : text);
        return;
      }
      if (l > 63 || pos + 1 + l > len) return;
      for (let i = pos + 1; i <= pos + l; i++) {
        let c = buf[i]!;
        if (c >= 0x41 && c <= 0x5a) c |= 0x20;
        // RFC 4343 §2.1: dots and unprintable octets inside a label are escaped in presentation form.
        if (c === 0x2e || c === 0x5c) text += '\\' + String.fromCharCode(c);
        else if (c < 0x21 || c > 0x7e) text += '\\' + String(c).padStart(3, '0');
        else text += String.fromCharCode(c);
      }
      text += '.';
      pos += 1 + l;
    }
  }

  snapshot(n = 20): TopSnapshot {
    const scale = (rows: { key: string; count: number }[]): TopRow[] => rows.map((r) => ({ key: r.key, count: r.count * this.every }));
    return { every: this.every, names: scale(this.names.top(n)), clients: scale(this.clients.top(n)) };
  }
}

/** Sums the tables of several processes (cluster workers) and keeps the `n` largest. */
export function mergeTop(parts: readonly TopSnapshot[], n = 20): TopSnapshot {
  const sum = (pick: (t: TopSnapshot) => TopRow[]): TopRow[] => {
    const m = new Map<string, number>();
    for (const p of parts) for (const r of pick(p)) m.set(r.key, (m.get(r.key) ?? 0) + r.count);
    return [...m].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1)).slice(0, n);
  };
  return { every: parts[0]?.every ?? SAMPLE_EVERY, names: sum((t) => t.names), clients: sum((t) => t.clients) };
}
