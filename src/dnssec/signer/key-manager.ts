/**
 * Automatic key management for a signed zone, as BIND's dnssec-policy and Knot's automatic
 * signing do it: keys made when the policy needs one, and rolled when their lifetime ends.
 *
 * - ZSK: pre-publication (RFC 6781 §4.1.1.1, RFC 7583 §3.2.1). The successor is published Ipub
 *   before it signs; the predecessor stops signing when it starts and leaves the DNSKEY RRset Iret
 *   later, once no cached signature of it can be in use.
 * - KSK and CSK: double signature in the zone, double DS at the parent (RFC 6781 §4.1.2,
 *   RFC 7583 §3.3; Knot's `cds-cdnskey-publish: double-ds`). The successor is published and signs
 *   at once (beside the predecessor, so every validator finds a signature it can check); once its
 *   DNSKEY has reached every cache (Ipub) the CDS/CDNSKEY RRsets (RFC 7344) list both keys; the
 *   roll waits until the parent's DS for the successor is seen (parental agents, RFC 7344 §4 and
 *   BIND's checkds, or `sovereign dnssec checkds`), then for the parent's DS TTL and propagation,
 *   and only then retires the predecessor (its CDS withdrawn, its signatures dropped, its DNSKEY
 *   removed after the DNSKEY TTL, or for a CSK the zone's largest TTL, has passed).
 * - Algorithm rollover (RFC 6781 §4.1.4), when the policy's algorithm is not the keys': new keys
 *   of the new algorithm, in the same roles, publish and sign at once beside the old ones; the
 *   CDS/CDNSKEY swap to the new KSKs once both are in every cache; when the parent shows the new
 *   DS and not the old one, the old DNSKEYs leave after the parent's DS TTL and the old
 *   algorithm's signatures after the DNSKEY TTL (startAlgorithmRoll, finishAlgorithmRoll).
 *
 * Timings, as RFC 7583 §3 names them: Dprp = propagationDelay, TTLkey = dnskeyTtl, TTLsig = the
 * zone's largest TTL; Ipub = Dprp + TTLkey + publishSafety; Iret(ZSK) = Dsgn + Dprp + TTLsig +
 * retireSafety with Dsgn = 0 (a key change re-signs every RRset in the same run).
 *
 * State: the K-files' timing metadata (what the signer obeys) plus a `.state` file per key
 * (src/dnssec/signer/key-state.ts), so a restart carries on. Every decision is made under a lock
 * file in the key directory after re-reading it, so workers of one server sharing the directory
 * never make two successors. The clock is injected (seconds since the epoch).
 */
import { closeSync, openSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DnssecError } from '../../errors.js';
import type { Name } from '../../wire/name.js';
import { type DnssecKey, type TimingField, generateKey, isKsk, keyBaseName, readZoneKeys, rewriteKeyPair, writeKeyPair } from '../key-file.js';
import { type KeyRole, type KeyState, readKeyState, writeKeyState } from './key-state.js';

/** Lifetimes and the delays rollovers are timed by (seconds; a lifetime of 0 never rolls). */
export interface RolloverPolicy {
  kskLifetime: number;
  zskLifetime: number;
  cskLifetime: number;
  dnskeyTtl: number;
  /** Dprp: from a change at the primary until every secondary serves it. */
  propagationDelay: number;
  publishSafety: number;
  retireSafety: number;
  /** The parent's DS TTL and its own propagation delay. */
  parentDsTtl: number;
  parentPropagationDelay: number;
}

/** BIND 9.18's dnssec-policy "default" delays, with keys that never roll (its CSK lifetime is unlimited). */
export const DEFAULT_ROLLOVER: RolloverPolicy = {
  kskLifetime: 0, zskLifetime: 0, cskLifetime: 0, dnskeyTtl: 3600, propagationDelay: 300, publishSafety: 3600,
  retireSafety: 3600, parentDsTtl: 86_400, parentPropagationDelay: 3600,
};

export interface KeyManagerOptions {
  keyDir: string;
  algorithm: number;
  /** A KSK and a ZSK instead of one CSK. */
  split: boolean;
  rollover: RolloverPolicy;
  now: () => number;
}

/** A key with its rollover state and where its files are. */
export interface ManagedKey {
  key: DnssecKey;
  state: KeyState;
  /** The key's files without extension. */
  base: string;
}

/** What `sovereign dnssec status` shows for a key. */
export interface KeyStatus {
  tag: number;
  algorithm: number;
  role: KeyRole;
  /** RFC 7583 §3.1 names: generated, published, ready, active, retired, removed. */
  state: 'generated' | 'published' | 'ready' | 'active' | 'retired' | 'removed';
  /** Its CDS/CDNSKEY are in the zone. */
  cds: boolean;
  /** Its DS at the parent: seen, seen withdrawn, or not known. */
  ds: 'published' | 'withdrawn' | 'unknown';
  predecessor: number | null;
  successor: number | null;
  lifetime: number;
  timing: Partial<Record<TimingField, number>>;
  /** The key's next scheduled change and when (seconds), if any. */
  next: { event: string; at: number } | null;
  /** What the roll waits for that no clock brings. */
  waiting: string | null;
}

const LOCK = '.sovereign-keymgr.lock';
/** A lock older than this is left over by a process that died holding it. */
const STALE_LOCK_MS = 60_000;

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function within(t: number | undefined, now: number): boolean {
  return t !== undefined && t <= now;
}

/** Manages the keys of one zone in one directory (see the module comment). */
export class KeyManager {
  readonly generated: number[] = [];

  constructor(readonly origin: Name, readonly opts: KeyManagerOptions) {}

  private lifetimeOf(role: KeyRole): number {
    const r = this.opts.rollover;
    return role === 'ksk' ? r.kskLifetime : role === 'zsk' ? r.zskLifetime : r.cskLifetime;
  }

  /** Ipub (RFC 7583 §3.2.1): until a newly published DNSKEY is in every cache. */
  get ipub(): number {
    const r = this.opts.rollover;
    return r.propagationDelay + r.dnskeyTtl + r.publishSafety;
  }

  /** Runs `fn` holding the key directory's lock (see the module comment). */
  private locked<T>(fn: () => T): T {
    const path = join(this.opts.keyDir, LOCK);
    for (let i = 0; ; i++) {
      try {
        closeSync(openSync(path, 'wx', 0o600));
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new DnssecError('ERR_DNSSEC_KEY_FILE', `cannot lock key directory ${this.opts.keyDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        try {
          if (Date.now() - statSync(path).mtimeMs > STALE_LOCK_MS) rmSync(path, { force: true });
        } catch { /* gone meanwhile */ }
        if (i >= 200) throw new DnssecError('ERR_DNSSEC_KEY_FILE', `key directory ${this.opts.keyDir} stays locked (${LOCK}): remove it if no server is running`);
        sleepMs(25);
      }
    }
    try {
      return fn();
    } finally {
      rmSync(path, { force: true });
    }
  }

  /** The zone's keys with their states (a missing state file is derived from the key and the policy). */
  read(): ManagedKey[] {
    const dir = this.opts.keyDir;
    return readZoneKeys(dir, this.origin).map((key) => {
      const base = join(dir, keyBaseName(key.owner, key.algorithm, key.keyTag));
      const role: KeyRole = !isKsk(key) ? 'zsk' : this.opts.split ? 'ksk' : 'csk';
      const state = readKeyState(base) ?? {
        role, lifetime: this.lifetimeOf(role), predecessor: undefined, successor: undefined,
        generated: key.timing.Created ?? key.timing.Publish ?? 0, dsPublished: undefined, dsWithdrawn: undefined, goal: 'omnipresent',
      };
      return { key, state, base };
    });
  }

  private save(m: ManagedKey): void {
    rewriteKeyPair(this.opts.keyDir, m.key);
    writeKeyState(m.base, m.key.keyTag, this.origin.toString(), m.state);
  }

  private make(role: KeyRole, now: number, have: ManagedKey[], predecessor: ManagedKey | undefined): ManagedKey {
    const key = generateKey(this.origin, {
      algorithm: this.opts.algorithm, ksk: role !== 'zsk', now, ttl: this.opts.rollover.dnskeyTtl,
      avoidTags: new Set(have.map((m) => m.key.keyTag)),
    });
    const base = writeKeyPair(this.opts.keyDir, key);
    this.generated.push(key.keyTag);
    const state: KeyState = {
      role, lifetime: this.lifetimeOf(role), predecessor: predecessor?.key.keyTag, successor: undefined, generated: now,
      dsPublished: undefined, dsWithdrawn: undefined, goal: 'omnipresent',
    };
    return { key, state, base };
  }

  /** When a current key's roll starts: its successor must be ready when its lifetime ends. */
  private rollAt(m: ManagedKey, keys: readonly ManagedKey[]): number | undefined {
    if (m.state.lifetime <= 0 || m.state.successor !== undefined || m.state.goal !== 'omnipresent') return undefined;
    // One roll at a time: a key whose predecessor is still in use (a KSK waiting for the parent) does not roll yet.
    const p = m.state.predecessor === undefined ? undefined : keys.find((k) => k.key.keyTag === m.state.predecessor);
    if (p !== undefined && p.key.timing.Inactive === undefined) return undefined;
    const start = Math.max(m.key.timing.Activate ?? m.state.generated, p?.key.timing.Inactive ?? 0);
    return start + m.state.lifetime - this.ipub;
  }

  /**
   * Brings the keys up to date with the clock: makes missing keys, starts rolls that are due and
   * moves started ones on. `maxTtl` is the zone's largest TTL (TTLsig). Returns every key.
   */
  manage(maxTtl: number): ManagedKey[] {
    return this.locked(() => this.step(maxTtl));
  }

  private step(maxTtl: number): ManagedKey[] {
    const now = this.opts.now();
    const r = this.opts.rollover;
    const keys = this.read();
    const changed = new Set<ManagedKey>();
    for (const m of keys) if (readKeyState(m.base) === undefined) changed.add(m);
    const byTag = (tag: number | undefined): ManagedKey | undefined => keys.find((m) => m.key.keyTag === tag);
    const gone = (m: ManagedKey): boolean => within(m.key.timing.Delete, now);

    this.startAlgorithmRoll(keys, changed, now, maxTtl);
    for (const role of this.opts.split ? (['ksk', 'zsk'] as const) : (['csk'] as const)) {
      const current = keys.filter((m) => m.state.role === role && m.state.goal === 'omnipresent' && m.state.successor === undefined && !gone(m));
      // A lifetime changed in the policy applies to the keys in use, as BIND applies a changed dnssec-policy.
      for (const m of current) {
        if (m.state.lifetime !== this.lifetimeOf(role)) {
          m.state.lifetime = this.lifetimeOf(role);
          changed.add(m);
        }
      }
      if (current.length === 0) {
        // The zone's first key of this role: it is published and signs now (as dnssec-signzone's
        // keys do); a KSK's CDS follows once its DNSKEY has reached every cache.
        const m = this.make(role, now, keys, undefined);
        if (role !== 'zsk') m.key.timing.SyncPublish = now + this.ipub;
        keys.push(m);
        changed.add(m);
        continue;
      }
      for (const p of current) {
        const at = this.rollAt(p, keys);
        if (at === undefined || now < at) continue;
        const s = this.make(role, now, keys, p);
        p.state.successor = s.key.keyTag;
        if (role === 'zsk') {
          // RFC 7583 §3.2.1: published now, active after Ipub; the old key retires then and leaves after Iret.
          s.key.timing.Activate = now + this.ipub;
          p.key.timing.Inactive = now + this.ipub;
          p.key.timing.Delete = now + this.ipub + r.propagationDelay + maxTtl + r.retireSafety;
        } else {
          // Double signature from now; CDS for both once the new DNSKEY is everywhere.
          s.key.timing.SyncPublish = now + this.ipub;
        }
        keys.push(s);
        changed.add(s).add(p);
      }
    }

    this.finishAlgorithmRoll(keys, changed, byTag);
    // KSK/CSK rolls waiting for the parent: retire the predecessor once the successor's DS is seen
    // and has outlived the parent's DS TTL everywhere (RFC 7583 §3.3.2).
    for (const p of keys) {
      if (p.state.role === 'zsk' || p.state.successor === undefined || p.key.timing.Inactive !== undefined) continue;
      const s = byTag(p.state.successor);
      if (s !== undefined && s.key.algorithm !== p.key.algorithm) continue; // an algorithm roll: finishAlgorithmRoll
      if (s?.state.dsPublished === undefined) continue;
      const t = Math.max(s.state.dsPublished, s.key.timing.SyncPublish ?? 0) + r.parentPropagationDelay + r.parentDsTtl + r.retireSafety;
      p.key.timing.Inactive = t;
      p.key.timing.SyncDelete = t;
      p.key.timing.Delete = t + r.propagationDelay + (p.state.role === 'csk' ? Math.max(maxTtl, r.dnskeyTtl) : r.dnskeyTtl) + r.retireSafety;
      changed.add(p);
    }
    for (const m of keys) {
      if (m.state.goal === 'omnipresent' && within(m.key.timing.Inactive, now)) {
        m.state.goal = 'hidden';
        changed.add(m);
      }
    }
    for (const m of changed) this.save(m);
    return keys;
  }

  /**
   * Algorithm rollover, step 1 (RFC 6781 §4.1.4; what BIND's dnssec-policy does when the policy's
   * algorithm changes): every key in use whose algorithm is not the policy's gets a successor of
   * the policy's algorithm, in the same role, published and signing at once, so from this zone
   * version on every RRset carries an RRSIG of each algorithm in the DNSKEY RRset (RFC 4035
   * §2.2). The DS swap is asked for (CDS/CDNSKEY of the new KSKs only, the old ones' withdrawn)
   * once the new DNSKEYs and the new signatures are in every cache: Dprp + max(TTLsig, TTLkey) +
   * publishSafety. Until then the parent's DS of the old algorithm is the only one (a validator
   * that insists on every DS algorithm, like Unbound's harden-algo-downgrade, finds it signed).
   */
  private startAlgorithmRoll(keys: ManagedKey[], changed: Set<ManagedKey>, now: number, maxTtl: number): void {
    const r = this.opts.rollover;
    const stale = keys.filter((m) => m.state.goal === 'omnipresent' && m.state.successor === undefined &&
      !within(m.key.timing.Delete, now) && !within(m.key.timing.Inactive, now) && m.key.algorithm !== this.opts.algorithm);
    if (stale.length === 0) return;
    const swapAt = now + r.propagationDelay + Math.max(maxTtl, r.dnskeyTtl) + r.publishSafety;
    for (const p of stale) {
      const s = this.make(p.state.role, now, keys, p);
      p.state.successor = s.key.keyTag;
      if (p.state.role !== 'zsk') {
        s.key.timing.SyncPublish = swapAt;
        p.key.timing.SyncDelete = Math.max(swapAt, p.key.timing.SyncPublish ?? 0);
      }
      keys.push(s);
      changed.add(s).add(p);
    }
  }

  /**
   * Algorithm rollover, the end (RFC 6781 §4.1.4 "DNSKEY removal" and "RRSIGs removal"): once the
   * parental agents show the DS of every new KSK and none of the old ones (RFC 7583 §3.3.2: the
   * parent's change, then its DS TTL and propagation, and the retire safety), the old algorithm's
   * DNSKEYs leave the zone; their signatures stay until no cached DNSKEY RRset can still list
   * them (Dprp + TTLkey + retireSafety later), so a validator holding the old RRset still finds
   * a signature of each algorithm it lists.
   */
  private finishAlgorithmRoll(keys: ManagedKey[], changed: Set<ManagedKey>, byTag: (tag: number | undefined) => ManagedKey | undefined): void {
    const r = this.opts.rollover;
    const old = keys.filter((p) => {
      const s = byTag(p.state.successor);
      return s !== undefined && s.key.algorithm !== p.key.algorithm && p.key.timing.Delete === undefined;
    });
    if (old.length === 0) return;
    const oldKsks = old.filter((p) => p.state.role !== 'zsk');
    const newKsks = oldKsks.map((p) => byTag(p.state.successor)!);
    if (oldKsks.some((p) => p.state.dsWithdrawn === undefined) || newKsks.some((s) => s.state.dsPublished === undefined)) return;
    const seen = Math.max(...oldKsks.map((p) => p.state.dsWithdrawn!), ...newKsks.map((s) => Math.max(s.state.dsPublished!, s.key.timing.SyncPublish ?? 0)));
    const t = seen + r.parentPropagationDelay + r.parentDsTtl + r.retireSafety;
    for (const p of old) {
      p.key.timing.Delete = t;
      p.key.timing.Inactive = t + r.propagationDelay + r.dnskeyTtl + r.retireSafety;
      changed.add(p);
    }
  }

  /**
   * Records that the parent's DS for `tag` (every KSK/CSK whose CDS is published, when undefined)
   * was seen published or withdrawn (`rndc dnssec -checkds`). Returns the tags changed.
   */
  dsSeen(what: 'published' | 'withdrawn', tag: number | undefined): number[] {
    return this.locked(() => {
      const now = this.opts.now();
      const out: number[] = [];
      for (const m of this.read()) {
        if (m.state.role === 'zsk') continue;
        // Without a tag: the keys whose CDS is out (published), or withdrawn (an algorithm roll's old KSKs, going insecure).
        const asked = what === 'published'
          ? within(m.key.timing.SyncPublish, now) && !within(m.key.timing.SyncDelete, now)
          : within(m.key.timing.SyncDelete, now);
        if (tag !== undefined ? m.key.keyTag !== tag : !asked) continue;
        if (what === 'published') m.state.dsPublished = now;
        else m.state.dsWithdrawn = now;
        writeKeyState(m.base, m.key.keyTag, this.origin.toString(), m.state);
        out.push(m.key.keyTag);
      }
      if (tag !== undefined && out.length === 0) throw new DnssecError('ERR_DNSSEC_KEY_FILE', `no KSK or CSK with tag ${tag} for ${this.origin.toString()}`);
      return out;
    });
  }

  /**
   * Going insecure (BIND's `dnssec-policy insecure`, RFC 8078 §4): the KSKs' CDS give way to the
   * delete records (the caller publishes them), the zone stays signed until the parent's DS is
   * seen gone for every KSK and that has outlived the parent's DS TTL, and then `unsigned` is
   * true: the zone is served without DNSSEC. No key is ever made here.
   */
  unsign(): { keys: ManagedKey[]; unsigned: boolean } {
    return this.locked(() => {
      const now = this.opts.now();
      const r = this.opts.rollover;
      const keys = this.read();
      const live = keys.filter((m) => !within(m.key.timing.Delete, now));
      if (live.length === 0) return { keys, unsigned: true };
      const ksks = live.filter((m) => m.state.role !== 'zsk');
      for (const m of live) {
        let changed = m.state.goal !== 'hidden';
        m.state.goal = 'hidden';
        if (m.state.role !== 'zsk' && (m.key.timing.SyncDelete === undefined || m.key.timing.SyncDelete > now)) {
          m.key.timing.SyncDelete = now;
          changed = true;
        }
        if (changed) this.save(m);
      }
      if (ksks.length > 0 && ksks.every((m) => m.state.dsWithdrawn !== undefined)) {
        const t = Math.max(...ksks.map((m) => m.state.dsWithdrawn!)) + r.parentPropagationDelay + r.parentDsTtl + r.retireSafety;
        for (const m of live) {
          if (m.key.timing.Delete !== undefined) continue;
          m.key.timing.Inactive = t;
          m.key.timing.Delete = t;
          this.save(m);
        }
        return { keys, unsigned: now >= t };
      }
      return { keys, unsigned: false };
    });
  }

  /** The keys the parent's DS should be checked for: CDS published, DS not yet seen; CDS withdrawn, DS not yet seen gone. */
  dsPending(keys: readonly ManagedKey[]): { published: ManagedKey[]; withdrawn: ManagedKey[] } {
    const now = this.opts.now();
    const live = (m: ManagedKey): boolean => m.state.role !== 'zsk' && within(m.key.timing.SyncPublish, now);
    return {
      published: keys.filter((m) => live(m) && !within(m.key.timing.SyncDelete, now) && m.state.dsPublished === undefined),
      withdrawn: keys.filter((m) => m.state.role !== 'zsk' && within(m.key.timing.SyncDelete, now) && m.state.dsWithdrawn === undefined),
    };
  }

  /** The earliest scheduled change after `now` (default the clock's; the signer gives its last run), or Infinity. */
  nextEventAt(keys: readonly ManagedKey[], now: number = this.opts.now()): number {
    let min = Infinity;
    for (const m of keys) {
      for (const t of [m.key.timing.Publish, m.key.timing.Activate, m.key.timing.Inactive, m.key.timing.Delete,
        m.key.timing.SyncPublish, m.key.timing.SyncDelete, this.rollAt(m, keys)]) {
        if (t !== undefined && t > now && t < min) min = t;
      }
    }
    return min;
  }

  /** Every key as `sovereign dnssec status` shows it. */
  status(keys: readonly ManagedKey[]): KeyStatus[] {
    const now = this.opts.now();
    return keys.map((m): KeyStatus => {
      const t = m.key.timing;
      let state: KeyStatus['state'];
      if (within(t.Delete, now)) state = 'removed';
      else if (within(t.Inactive, now)) state = 'retired';
      else if (within(t.Activate, now)) state = 'active';
      else if (within(t.Publish, now)) state = within((t.Publish ?? 0) + this.ipub, now) ? 'ready' : 'published';
      else state = 'generated';
      const events: [string, number | undefined][] = [
        ['publish', t.Publish], ['activate', t.Activate], ['publish CDS', t.SyncPublish], ['retire', t.Inactive],
        ['withdraw CDS', t.SyncDelete], ['remove', t.Delete], ['start rollover', this.rollAt(m, keys)],
      ];
      let next: KeyStatus['next'] = null;
      for (const [event, at] of events) if (at !== undefined && at > now && (next === null || at < next.at)) next = { event, at };
      let waiting: string | null = null;
      if (m.state.role !== 'zsk' && m.state.predecessor !== undefined && m.state.dsPublished === undefined && state !== 'removed') {
        waiting = within(t.SyncPublish, now) ? 'the parent\'s DS for this key (checkds)' : null;
      }
      const successor = keys.find((k) => k.key.keyTag === m.state.successor);
      if (m.state.role !== 'zsk' && successor !== undefined && successor.key.algorithm !== m.key.algorithm &&
        within(t.SyncDelete, now) && m.state.dsWithdrawn === undefined && t.Delete === undefined) {
        waiting = 'the parent to withdraw this key\'s DS (checkds)';
      }
      return {
        tag: m.key.keyTag, algorithm: m.key.algorithm, role: m.state.role, state,
        cds: within(t.SyncPublish, now) && !within(t.SyncDelete, now) && !within(t.Delete, now),
        ds: m.state.dsWithdrawn !== undefined ? 'withdrawn' : m.state.dsPublished !== undefined ? 'published' : 'unknown',
        predecessor: m.state.predecessor ?? null, successor: m.state.successor ?? null, lifetime: m.state.lifetime,
        timing: { ...t }, next, waiting,
      };
    });
  }
}
