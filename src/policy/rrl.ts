/**
 * Response Rate Limiting (RRL) for authoritative answers, with BIND 9.18's rules (lib/dns/rrl.c,
 * `rate-limit { ... }`), so the same traffic gets the same answered / dropped / slipped counts:
 *
 * - A bucket per (client prefix, response kind, name [, qclass [, qtype]]): the prefix is the
 *   client's /24 (IPv4) or /56 (IPv6); answers are keyed by qname, class and type; NODATA and
 *   referrals by name and class (their answer sections are empty, so types count as one);
 *   NXDOMAIN by the zone's origin (so random names do not each get their own bucket); errors
 *   by the prefix alone. `all-per-second` adds a bucket per prefix debited by every response.
 * - Token accounting in whole seconds of an injected clock: a bucket starts with `rate` tokens;
 *   each response takes one; each second adds `rate` back, never above `rate`; the balance may
 *   fall to -window*rate, so a flood must stop for up to `window` seconds before answers resume.
 *   A bucket untouched for more than `window` seconds starts afresh.
 * - Out of tokens: dropped, except that the first of every `slip` limited responses "slips"
 *   (sent truncated, TC=1 with no records, so a real client retries over TCP, RFC 7766 §5);
 *   slip 0 never slips, slip 1 always does. `all-per-second` limits never slip.
 * - TCP is never limited (a TCP client proved its address); with `qps-scale` a TCP exchange
 *   exempts that prefix from scaling as BIND does.
 * - `qps-scale N`: when the server as a whole answers more than N responses per second, every
 *   rate (and a slip above 2) is scaled down by N / qps.
 * - `exempt-clients` are never limited; `log-only` counts what would be limited and limits nothing.
 *
 * The table is a fixed set of entries in typed arrays (keys, balances, time stamps, LRU links,
 * hash chains): no per-packet objects, closures or strings. It starts at `minTableSize` entries and
 * grows by half (at most 1000 at a time) up to `maxTableSize` when every entry is in recent use;
 * at the bound the least recently used entry is reused (BIND's get_entry).
 */
import { Acl } from '../resolver/acl.js';
import { parseClientAddress } from './client-address.js';

/** What kind of response a bucket counts (BIND's dns_rrl_rtype_t). */
export const RrlKind = { ANSWER: 0, REFERRAL: 1, NODATA: 2, NXDOMAIN: 3, ERROR: 4, ALL: 5, TCP: 6 } as const;
export type RrlKind = (typeof RrlKind)[keyof typeof RrlKind];
/** Kind names, as stats and /metrics show them. */
export const RRL_KIND_NAMES = ['responses', 'referrals', 'nodata', 'nxdomains', 'errors', 'all'] as const;

/** What to do with a response. */
export const RrlVerdict = { OK: 0, DROP: 1, SLIP: 2 } as const;
export type RrlVerdict = (typeof RrlVerdict)[keyof typeof RrlVerdict];

export interface RrlOptions {
  /** Answers (NOERROR with records) per second per bucket; 0: not limited. */
  responsesPerSecond: number;
  /** Default responsesPerSecond, as in BIND. */
  referralsPerSecond?: number | undefined;
  nodataPerSecond?: number | undefined;
  nxdomainsPerSecond?: number | undefined;
  errorsPerSecond?: number | undefined;
  /** All responses per second per client prefix; 0: not limited. */
  allPerSecond?: number | undefined;
  /** Seconds of history a bucket keeps (1..3600, BIND's default 15). */
  window?: number | undefined;
  /** Every Nth limited response slips (0..10, default 2). */
  slip?: number | undefined;
  ipv4PrefixLength?: number | undefined;
  ipv6PrefixLength?: number | undefined;
  /** Clients never limited (addresses or prefixes, as the recursion ACL is written). */
  exempt?: readonly string[] | undefined;
  /** Count, but answer everything. */
  logOnly?: boolean | undefined;
  /** Scale the rates down when the total rate exceeds this many responses per second; 0: off. */
  qpsScale?: number | undefined;
  maxTableSize?: number | undefined;
  minTableSize?: number | undefined;
  /** Whole seconds (injected in tests); default the wall clock. */
  nowS?: (() => number) | undefined;
  /** Where to count outcomes by kind (ServerStats' tables, so counts outlive a reload); default own tables. */
  counters?: { dropped: Float64Array; slipped: Float64Array; wouldDrop: Float64Array; wouldSlip: Float64Array } | undefined;
}

/** Limits BIND accepts (bin/named/server.c configure_rrl and the ARM). */
export const RRL_LIMITS = { maxRate: 1000, maxWindow: 3600, maxSlip: 10 } as const;

/** An age meaning "never stamped, or too long ago to matter". */
const FOREVER = 0x7fffffff;
/** A clock this far in the past is a clock change, not reordering (DNS_RRL_MAX_TIME_TRAVEL). */
const MAX_TIME_TRAVEL = 5;
/** Octets of a bucket's key: 4 words of address, kind|family|class, type, name hash. */
const KEY_WORDS = 7;

function wallSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * A 32-bit hash of a name's wire form, ASCII letters folded (RFC 4343), FNV-1a. Collisions make
 * two names share a bucket, which BIND accepts as rare and benign (rrl.c make_key).
 */
export function nameHash(wire: Uint8Array, start = 0, end = wire.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    let c = wire[i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h | 0;
}

export class ResponseRateLimiter {
  /** Rates by kind (per second), and the rates in force after qps scaling. */
  readonly rates = new Int32Array(7);
  private readonly scaled = new Int32Array(7);
  readonly window: number;
  readonly slip: number;
  private slipScaled: number;
  readonly logOnly: boolean;
  readonly qpsScale: number;
  readonly ipv4PrefixLength: number;
  readonly ipv6PrefixLength: number;
  private readonly v4Mask = new Uint8Array(4);
  private readonly v6Mask = new Uint8Array(16);
  private readonly exempt: Acl | undefined;
  private readonly nowS: () => number;
  readonly maxEntries: number;

  /** Counters by kind (RRL_KIND_NAMES order): limited responses dropped, slipped, and (log-only) those that would have been. */
  readonly dropped: Float64Array;
  readonly slipped: Float64Array;
  readonly wouldDrop: Float64Array;
  readonly wouldSlip: Float64Array;
  /** Responses the limiter looked at (TCP and exempt clients excluded). */
  checked = 0;
  /** Log-only: what the last `check` would have done (it returned OK). */
  lastWould: RrlVerdict = RrlVerdict.OK;

  // The table: entry i's fields at index i (key words at i * KEY_WORDS).
  private cap = 0;
  private keys = new Int32Array(0);
  private responses = new Int32Array(0);
  private slipCnt = new Int32Array(0);
  private ts = new Float64Array(0);
  private tsValid = new Uint8Array(0);
  private inHash = new Uint8Array(0);
  private hashNext = new Int32Array(0);
  private lruPrev = new Int32Array(0);
  private lruNext = new Int32Array(0);
  private bins = new Int32Array(0);
  private binMask = 0;
  private lruHead = -1;
  private lruTail = -1;

  // qps scaling state (rrl->qps, qps_responses, qps_time).
  private qps = 1;
  private qpsResponses = 0;
  private qpsTime = 0;
  private scale = 1;

  /** Scratch: the client's address octets and the key being looked up. */
  private readonly addr = new Uint8Array(16);
  private readonly key = new Int32Array(KEY_WORDS);

  constructor(o: RrlOptions) {
    const c = o.counters;
    this.dropped = c?.dropped ?? new Float64Array(6);
    this.slipped = c?.slipped ?? new Float64Array(6);
    this.wouldDrop = c?.wouldDrop ?? new Float64Array(6);
    this.wouldSlip = c?.wouldSlip ?? new Float64Array(6);
    const rps = o.responsesPerSecond;
    this.rates[RrlKind.ANSWER] = rps;
    this.rates[RrlKind.REFERRAL] = o.referralsPerSecond ?? rps;
    this.rates[RrlKind.NODATA] = o.nodataPerSecond ?? rps;
    this.rates[RrlKind.NXDOMAIN] = o.nxdomainsPerSecond ?? rps;
    this.rates[RrlKind.ERROR] = o.errorsPerSecond ?? rps;
    this.rates[RrlKind.ALL] = o.allPerSecond ?? 0;
    this.rates[RrlKind.TCP] = 1;
    this.scaled.set(this.rates);
    this.window = o.window ?? 15;
    this.slip = o.slip ?? 2;
    this.slipScaled = this.slip;
    this.logOnly = o.logOnly === true;
    this.qpsScale = o.qpsScale ?? 0;
    this.ipv4PrefixLength = o.ipv4PrefixLength ?? 24;
    this.ipv6PrefixLength = o.ipv6PrefixLength ?? 56;
    maskOf(this.ipv4PrefixLength, this.v4Mask);
    maskOf(this.ipv6PrefixLength, this.v6Mask);
    this.exempt = o.exempt !== undefined && o.exempt.length > 0 ? new Acl(o.exempt) : undefined;
    this.nowS = o.nowS ?? wallSeconds;
    this.maxEntries = o.maxTableSize ?? 20000;
    this.grow(Math.max(1, Math.min(o.minTableSize ?? 500, this.maxEntries)));
  }

  /** Entries the table holds now (grows up to maxEntries). */
  get tableSize(): number {
    return this.cap;
  }

  /** True when some kind of response is limited at all. */
  get active(): boolean {
    const r = this.rates;
    return r[0]! + r[1]! + r[2]! + r[3]! + r[4]! + r[5]! > 0;
  }

  /**
   * BIND's dns_rrl(): what to do with a response of `kind` for `name` (a nameHash; 0 for none)
   * to `address`. Counts the outcome (dropped/slipped or, log-only, would-be) by kind; the
   * caller sends, slips or drops as told (log-only: always OK).
   */
  check(address: string, tcp: boolean, kind: RrlKind, qtype: number, qclass: number, name: number): RrlVerdict {
    this.lastWould = RrlVerdict.OK;
    if (this.exempt !== undefined && this.exempt.allows(address)) return RrlVerdict.OK;
    const family = parseClientAddress(address, this.addr);
    if (family === 0) return RrlVerdict.OK;
    const now = this.nowS();
    let scale = 1;
    if (this.qpsScale > 0) scale = this.measureQps(now);
    if (tcp) {
      if (scale < 1) {
        // A prefix that talks TCP is real: its responses are not scaled down (BIND's TCP entry).
        const e = this.entry(family, RrlKind.TCP, 0, 0, 0, now, true);
        this.responses[e] = -(this.window + 1);
        this.setAge(e, now);
      }
      return RrlVerdict.OK;
    }
    this.checked++;
    let e = this.entry(family, kind, qtype, qclass, name, now, true);
    let verdict = this.debit(e, family, scale, now);
    if (this.rates[RrlKind.ALL]! !== 0) {
      // Every response also debits the prefix's all-per-second bucket; when that one limits, it decides.
      const all = this.entry(family, RrlKind.ALL, 0, 0, 0, now, true);
      const v = this.debit(all, family, scale, now);
      if (v !== RrlVerdict.OK) {
        e = all;
        verdict = v;
        kind = RrlKind.ALL;
      }
    }
    if (verdict === RrlVerdict.OK) return verdict;
    if (this.logOnly) {
      (verdict === RrlVerdict.DROP ? this.wouldDrop : this.wouldSlip)[kind]!++;
      this.lastWould = verdict;
      return RrlVerdict.OK;
    }
    (verdict === RrlVerdict.DROP ? this.dropped : this.slipped)[kind]!++;
    return verdict;
  }

  /** Estimated total responses per second, and the scale it implies (rrl.c, "qps-scale"). */
  private measureQps(now: number): number {
    this.qpsResponses++;
    const secs = delta(this.qpsTime, now);
    let qps: number;
    if (secs <= 0) {
      qps = this.qps;
    } else {
      qps = this.qpsResponses / secs;
      if (secs >= this.window) {
        this.qps = qps;
        this.qpsResponses = 0;
        this.qpsTime = now;
      } else if (qps < this.qps) {
        qps = this.qps;
      }
    }
    this.scale = this.qpsScale / qps;
    return this.scale;
  }

  /** debit_rrl_entry(): one token from entry `e`, after crediting the seconds since it was last used. */
  private debit(e: number, family: 4 | 6, scale: number, now: number): RrlVerdict {
    const kind = this.keys[e * KEY_WORDS + 4]! & 0xf;
    let rate = this.rates[kind]!;
    if (rate === 0) return RrlVerdict.OK;
    if (scale < 1) {
      // BIND looks for the prefix's TCP entry and, finding one, compares the age of the entry
      // being debited (not the TCP entry's) with the window; kept as BIND has it.
      const credit = this.entry(family, RrlKind.TCP, 0, 0, 0, now, false);
      if (credit >= 0 && this.age(e, now) < this.window) scale = 1;
    }
    if (scale < 1) {
      const r = Math.max(1, Math.trunc(rate * scale));
      if (this.scaled[kind] !== r) this.scaled[kind] = r;
      rate = r;
    }
    const min = -this.window * rate;
    const age = this.age(e, now);
    if (age > 0) {
      if (age > this.window) {
        this.responses[e] = rate;
        this.slipCnt[e] = 0;
      } else {
        let r = this.responses[e]! + rate * age;
        if (r > rate) {
          r = rate;
          this.slipCnt[e] = 0;
        }
        this.responses[e] = r;
      }
    }
    this.setAge(e, now);
    const left = this.responses[e]! - 1;
    this.responses[e] = left;
    if (left >= 0) return RrlVerdict.OK;
    if (left < min) this.responses[e] = min;
    let slip = this.slip;
    if (slip > 2 && scale < 1) {
      slip = Math.max(2, Math.trunc(slip * scale));
      this.slipScaled = slip;
    }
    if (slip !== 0 && kind !== RrlKind.ALL) {
      // The first limited response of a run slips, then every `slip`th (rrl.c slip_cnt).
      const c = this.slipCnt[e]!;
      this.slipCnt[e] = c + 1;
      if (c === 0) {
        if (c + 1 >= slip) this.slipCnt[e] = 0;
        return RrlVerdict.SLIP;
      }
      if (c + 1 >= slip) this.slipCnt[e] = 0;
    }
    return RrlVerdict.DROP;
  }

  private age(e: number, now: number): number {
    if (this.tsValid[e] === 0) return FOREVER;
    return delta(this.ts[e]!, now);
  }

  private setAge(e: number, now: number): void {
    this.ts[e] = now;
    this.tsValid[e] = 1;
  }

  /** The rate in force for a kind (scaled by qps-scale when it applies); for stats. */
  rateOf(kind: RrlKind): number {
    return this.scaled[kind]!;
  }

  /** The slip in force (scaled by qps-scale when it applies). */
  get slipInForce(): number {
    return this.slipScaled;
  }

  /** Builds the key in `this.key` from the parsed address in `this.addr`. */
  private makeKey(family: 4 | 6, kind: number, qtype: number, qclass: number, name: number): void {
    const k = this.key;
    const a = this.addr;
    if (family === 4) {
      const m = this.v4Mask;
      k[0] = ((a[0]! & m[0]!) << 24) | ((a[1]! & m[1]!) << 16) | ((a[2]! & m[2]!) << 8) | (a[3]! & m[3]!);
      k[1] = 0;
      k[2] = 0;
      k[3] = 0;
    } else {
      const m = this.v6Mask;
      for (let w = 0; w < 4; w++) {
        const o = w * 4;
        k[w] = ((a[o]! & m[o]!) << 24) | ((a[o + 1]! & m[o + 1]!) << 16) | ((a[o + 2]! & m[o + 2]!) << 8) | (a[o + 3]! & m[o + 3]!);
      }
    }
    // make_key(): answers keep type and class; NODATA and referrals class only; the rest neither.
    const cls = kind === RrlKind.ANSWER || kind === RrlKind.REFERRAL || kind === RrlKind.NODATA ? qclass & 0xff : 0;
    k[4] = kind | (family === 6 ? 0x10 : 0) | (cls << 8);
    k[5] = kind === RrlKind.ANSWER ? qtype : 0;
    k[6] = kind === RrlKind.ALL || kind === RrlKind.TCP || kind === RrlKind.ERROR ? 0 : name;
  }

  private bin(): number {
    return this.binOf(this.key, 0);
  }

  /** The hash bin of the key at k[o..o+KEY_WORDS). */
  private binOf(k: Int32Array, o: number): number {
    let h = k[o]! ^ Math.imul(k[o + 1]!, 0x9e3779b1) ^ Math.imul(k[o + 2]!, 0x85ebca6b) ^ Math.imul(k[o + 3]!, 0xc2b2ae35);
    h = Math.imul(h ^ k[o + 4]!, 0x27d4eb2f) ^ Math.imul(k[o + 5]! + 0x165667b1, 0x9e3779b1) ^ k[o + 6]!;
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    return h & this.binMask;
  }

  private matches(e: number): boolean {
    const keys = this.keys;
    const k = this.key;
    const o = e * KEY_WORDS;
    return keys[o] === k[0] && keys[o + 1] === k[1] && keys[o + 2] === k[2] && keys[o + 3] === k[3] &&
      keys[o + 4] === k[4] && keys[o + 5] === k[5] && keys[o + 6] === k[6];
  }

  /** get_entry(): the bucket for the key, found or (when `create`) made; -1 when absent and not made. */
  private entry(family: 4 | 6, kind: number, qtype: number, qclass: number, name: number, now: number, create: boolean): number {
    this.makeKey(family, kind, qtype, qclass, name);
    let b = this.bin();
    for (let e = this.bins[b]!; e >= 0; e = this.hashNext[e]!) {
      if (this.matches(e)) {
        this.touch(e);
        return e;
      }
    }
    if (!create) return -1;
    // Reuse the least recently used entry that is free, idle for more than a second and not
    // in debt; else grow; at the bound, take the least recently used one regardless.
    let e = this.lruTail;
    for (; e >= 0; e = this.lruPrev[e]!) {
      if (this.inHash[e] === 0) break;
      const age = this.age(e, now);
      if (age <= 1) {
        e = -1;
        break;
      }
      if (this.balance(e, age) > 0) break;
    }
    if (e < 0) {
      if (this.cap < this.maxEntries) {
        this.grow(Math.min(this.cap + Math.min(Math.floor((this.cap + 1) / 2), 1000), this.maxEntries));
        b = this.bin(); // the bins were rebuilt
      }
      e = this.lruTail;
    }
    if (this.inHash[e] === 1) this.unhash(e);
    const o = e * KEY_WORDS;
    this.keys.set(this.key, o);
    this.hashNext[e] = this.bins[b]!;
    this.bins[b] = e;
    this.inHash[e] = 1;
    this.tsValid[e] = 0;
    this.responses[e] = 0;
    this.slipCnt[e] = 0;
    this.touch(e);
    return e;
  }

  /** response_balance(): tokens the entry would hold now. */
  private balance(e: number, age: number): number {
    const kind = this.keys[e * KEY_WORDS + 4]! & 0xf;
    const rate = kind === RrlKind.TCP ? 1 : this.scaled[kind]!;
    const b = this.responses[e]! + age * rate;
    return b > rate ? rate : b;
  }

  /** Takes entry `e` out of its hash chain (its key is still in `keys`). */
  private unhash(e: number): void {
    const b = this.binOf(this.keys, e * KEY_WORDS);
    let p = this.bins[b]!;
    if (p === e) {
      this.bins[b] = this.hashNext[e]!;
    } else {
      while (p >= 0 && this.hashNext[p] !== e) p = this.hashNext[p]!;
      if (p >= 0) this.hashNext[p] = this.hashNext[e]!;
    }
    this.inHash[e] = 0;
  }

  /** Makes `e` the most recently used entry. */
  private touch(e: number): void {
    if (this.lruHead === e) return;
    const p = this.lruPrev[e]!;
    const n = this.lruNext[e]!;
    if (p >= 0) this.lruNext[p] = n;
    if (n >= 0) this.lruPrev[n] = p;
    if (this.lruTail === e) this.lruTail = p;
    this.lruPrev[e] = -1;
    this.lruNext[e] = this.lruHead;
    if (this.lruHead >= 0) this.lruPrev[this.lruHead] = e;
    this.lruHead = e;
    if (this.lruTail < 0) this.lruTail = e;
  }

  /** Grows the table to `n` entries: new ones free at the LRU tail; the hash bins rebuilt. */
  private grow(n: number): void {
    const old = this.cap;
    if (n <= old) return;
    const keys = new Int32Array(n * KEY_WORDS);
    keys.set(this.keys);
    this.keys = keys;
    this.responses = growI32(this.responses, n);
    this.slipCnt = growI32(this.slipCnt, n);
    const ts = new Float64Array(n);
    ts.set(this.ts);
    this.ts = ts;
    const tv = new Uint8Array(n);
    tv.set(this.tsValid);
    this.tsValid = tv;
    const ih = new Uint8Array(n);
    ih.set(this.inHash);
    this.inHash = ih;
    this.hashNext = growI32(this.hashNext, n);
    this.lruPrev = growI32(this.lruPrev, n);
    this.lruNext = growI32(this.lruNext, n);
    for (let e = old; e < n; e++) {
      // Append at the tail (ISC_LIST_INITANDAPPEND): the next entry taken.
      this.lruPrev[e] = this.lruTail;
      this.lruNext[e] = -1;
      if (this.lruTail >= 0) this.lruNext[this.lruTail] = e;
      else this.lruHead = e;
      this.lruTail = e;
    }
    this.cap = n;
    let bins = 16;
    while (bins < n * 2) bins *= 2;
    this.bins = new Int32Array(bins).fill(-1);
    this.binMask = bins - 1;
    for (let e = 0; e < old; e++) {
      if (this.inHash[e] === 0) continue;
      const b = this.binOf(this.keys, e * KEY_WORDS);
      this.hashNext[e] = this.bins[b]!;
      this.bins[b] = e;
    }
  }

  /** Counters for stats: by kind name, dropped/slipped and the log-only would-be counts. */
  snapshot(): Record<string, unknown> {
    const by = (a: Float64Array): Record<string, number> => {
      const o: Record<string, number> = {};
      for (let i = 0; i < RRL_KIND_NAMES.length; i++) if (a[i] !== 0) o[RRL_KIND_NAMES[i]!] = a[i]!;
      return o;
    };
    return {
      logOnly: this.logOnly, checked: this.checked, tableSize: this.cap, dropped: by(this.dropped), slipped: by(this.slipped),
      wouldDrop: by(this.wouldDrop), wouldSlip: by(this.wouldSlip),
    };
  }
}

function growI32(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

/** delta_rrl_time(): seconds from `ts` to `now`; a little in the future is now, far in the future is forever ago. */
function delta(ts: number, now: number): number {
  const d = now - ts;
  if (d >= 0) return d;
  return d < -MAX_TIME_TRAVEL ? FOREVER : 0;
}

/** A netmask of `bits` over `out.length` octets. */
function maskOf(bits: number, out: Uint8Array): void {
  for (let i = 0; i < out.length; i++) {
    const b = bits - i * 8;
    out[i] = b >= 8 ? 0xff : b <= 0 ? 0 : (0xff << (8 - b)) & 0xff;
  }
}
