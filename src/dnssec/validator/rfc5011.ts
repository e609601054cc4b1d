/**
 * RFC 5011 automated updates of DNSSEC trust anchors, as Unbound's auto-trust-anchor-file keeps
 * them: the zone's DNSKEY RRset is fetched now and then, checked against the keys trusted now,
 * and each SEP key moves through the RFC 5011 §4 states:
 *
 *   Start -> AddPend (a new key seen in a validated set) -> Valid (still there after the 30-day
 *   add hold-down, §2.4.1) ; Valid -> Missing (absent; still trusted) -> Valid (back) ;
 *   Valid/Missing -> Revoked (REVOKE bit set and the key signs the set, §2.1) -> Removed (30 days
 *   after, §4 removal hold-down) ; AddPend absent -> forgotten.
 *
 * Invariants:
 * - The trusted keys are the Valid and Missing ones; a revoked key is never trusted again, even
 *   in the same probe (RFC 5011 §2.1), and a set is accepted only when signed by a trusted key.
 * - Hold-down timers run on `clock` (injected: tests run a roll in seconds); signature validity
 *   windows run on `sigClock` (the wall clock by default), so a test can skip 30 days of hold-down
 *   without expiring every signature.
 * - The state file is master-file DNSKEY lines with the state in a trailing comment
 *   (`;;state=VALID;;since=SECONDS;;seen=SECONDS`): it loads as a plain trust anchor file too.
 *   It is written (atomically: temp file + rename) after every change.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../../errors.js';
import type { Name } from '../../wire/name.js';
import type { ResourceRecord } from '../../wire/record.js';
import { recordToString } from '../../wire/record.js';
import { RRType, type DNSKEYData, type RRSIGData } from '../../wire/types.js';
import { keyTag } from '../key-tag.js';
import { DnskeyFlag } from '../rrsig.js';
import { parseAnchorText } from './trust-anchors.js';
import { Budget, DEFAULT_LIMITS, checkRrset, zoneKeysOf, type ZoneKey } from './verify.js';

export type KeyState = 'ADDPEND' | 'VALID' | 'MISSING' | 'REVOKED' | 'REMOVED';

/** RFC 5011 §2.4.1 add hold-down and §4 removal hold-down: 30 days. */
export const HOLD_DOWN_SEC = 30 * 86_400;

export interface TrackedKey {
  /** The key with the REVOKE bit cleared (the identity kept across a revocation). */
  rr: ResourceRecord<DNSKEYData>;
  state: KeyState;
  /** When the key entered this state (seconds on `clock`). */
  since: number;
}

export interface ProbeResult {
  /** False when the fetched set was not signed by a trusted key (nothing changed). */
  accepted: boolean;
  /** Keys whose state changed, as `TAG STATE`. */
  changes: string[];
}

export interface AutoTrustAnchorOptions {
  zone: Name;
  stateFile: string;
  /** Milliseconds since the epoch, for hold-down timers (default Date.now). */
  clock?: () => number;
  /** Milliseconds since the epoch, for signature validity (default Date.now). */
  sigClock?: () => number;
  /** Fetches the zone's DNSKEY RRset and its RRSIGs (answer section). */
  fetch: (zone: Name) => Promise<readonly ResourceRecord[]>;
}

/** The key material without the REVOKE bit, for matching a key before and after revocation. */
function identity(d: DNSKEYData): string {
  return `${d.algorithm}/${d.protocol}/${d.flags & ~DnskeyFlag.REVOKE}/${Buffer.from(d.publicKey).toString('base64')}`;
}

function tagOf(d: DNSKEYData): number {
  return keyTag(d.flags, d.protocol, d.algorithm, d.publicKey);
}

export class AutoTrustAnchor {
  readonly zone: Name;
  private readonly stateFile: string;
  private readonly clock: () => number;
  private readonly sigClock: () => number;
  private readonly fetch: (zone: Name) => Promise<readonly ResourceRecord[]>;
  private keys: TrackedKey[] = [];

  constructor(opts: AutoTrustAnchorOptions) {
    this.zone = opts.zone;
    this.stateFile = opts.stateFile;
    this.clock = opts.clock ?? Date.now;
    this.sigClock = opts.sigClock ?? Date.now;
    this.fetch = opts.fetch;
    this.load();
  }

  private nowSec(): number {
    return Math.floor(this.clock() / 1000);
  }

  /** Reads the state file: DNSKEY lines (VALID unless a `;;state=` comment says otherwise). */
  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.stateFile, 'utf8');
    } catch (e) {
      throw new ConfigError('resolver.autoTrustAnchorFile', `${this.stateFile}: ${(e as Error).message}`, 'give a file of DNSKEY records (e.g. /usr/share/dns/root.key) that the server may rewrite');
    }
    const now = this.nowSec();
    const out: TrackedKey[] = [];
    for (const line of text.split('\n')) {
      if (!/\sDNSKEY\s/.test(line) || line.trimStart().startsWith(';')) continue;
      const rrs = parseAnchorText(line, this.stateFile).filter((r) => r.type === RRType.DNSKEY && r.name.equals(this.zone));
      if (rrs.length === 0) continue;
      const state = /;;state=([A-Z]+)/.exec(line)?.[1] as KeyState | undefined;
      const since = Number(/;;since=(\d+)/.exec(line)?.[1] ?? now);
      const r = rrs[0] as ResourceRecord<DNSKEYData>;
      const d = r.data;
      out.push({ rr: { ...r, data: { ...d, flags: d.flags & ~DnskeyFlag.REVOKE } }, state: state ?? ((d.flags & DnskeyFlag.REVOKE) !== 0 ? 'REVOKED' : 'VALID'), since });
    }
    if (!out.some((k) => k.state === 'VALID' || k.state === 'MISSING')) {
      throw new ConfigError('resolver.autoTrustAnchorFile', `${this.stateFile} holds no trusted DNSKEY of ${this.zone.toString()}`, 'start it from the zone\'s KSK (DNSKEY record)');
    }
    this.keys = out;
  }

  private save(): void {
    const lines = [`; RFC 5011 trust anchor state for ${this.zone.toString()} (written by sovereign; hold-down ${HOLD_DOWN_SEC} s)`];
    for (const k of this.keys) {
      const d = k.rr.data;
      const flags = k.state === 'REVOKED' || k.state === 'REMOVED' ? d.flags | DnskeyFlag.REVOKE : d.flags;
      const rr: ResourceRecord<DNSKEYData> = { ...k.rr, ttl: 3600, data: { ...d, flags } };
      lines.push(`${recordToString(rr)} ;{id = ${tagOf(rr.data)}} ;;state=${k.state};;since=${k.since}`);
    }
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, lines.join('\n') + '\n');
    renameSync(tmp, this.stateFile);
  }

  /**
   * Reads the state file again (a process that does not probe, following the one that does:
   * cluster workers other than the lead). True when the trusted keys changed.
   */
  reload(): boolean {
    const before = this.trusted().map((r) => identity(r.data)).sort().join(' ');
    this.load();
    return this.trusted().map((r) => identity(r.data)).sort().join(' ') !== before;
  }

  /** Every tracked key and its state. */
  state(): readonly TrackedKey[] {
    return this.keys;
  }

  /** The keys to trust now (Valid and Missing: RFC 5011 §4). */
  trusted(): ResourceRecord<DNSKEYData>[] {
    return this.keys.filter((k) => k.state === 'VALID' || k.state === 'MISSING').map((k) => k.rr);
  }

  /**
   * One active refresh (RFC 5011 §2.3): fetch the DNSKEY set, accept it only when a trusted key
   * signs it, then move each key's state. Writes the state file when something changed.
   */
  async probe(): Promise<ProbeResult> {
    const rrs = await this.fetch(this.zone);
    const set = rrs.filter((r) => r.type === RRType.DNSKEY && r.name.equals(this.zone)) as ResourceRecord<DNSKEYData>[];
    const sigs = rrs.filter((r) => r.type === RRType.RRSIG && (r.data as RRSIGData).typeCovered === RRType.DNSKEY && r.name.equals(this.zone));
    const sigNow = Math.floor(this.sigClock() / 1000);
    const budget = (): Budget => new Budget(DEFAULT_LIMITS);
    if (set.length === 0) return { accepted: false, changes: [] };
    // Signed by a key trusted now (revoked keys in the set do not count: zoneKeysOf drops them).
    const trustedIds = new Set(this.trusted().map((r) => identity(r.data)));
    const trustedKeys = zoneKeysOf(set).filter((k) => trustedIds.has(identity(k.rr.data)));
    if (trustedKeys.length === 0 || !checkRrset(set, sigs, this.zone, trustedKeys, sigNow, budget()).ok) return { accepted: false, changes: [] };
    const now = this.nowSec();
    const changes: string[] = [];
    const move = (k: TrackedKey, state: KeyState): void => {
      if (k.state === state) return;
      k.state = state;
      k.since = now;
      changes.push(`${tagOf(k.rr.data)} ${state}`);
    };
    const seen = new Set<string>();
    for (const r of set) {
      const d = r.data;
      if ((d.flags & DnskeyFlag.SEP) === 0 || (d.flags & DnskeyFlag.ZONE) === 0) continue;
      const id = identity(d);
      seen.add(id);
      let k = this.keys.find((x) => identity(x.rr.data) === id);
      if ((d.flags & DnskeyFlag.REVOKE) !== 0) {
        // RFC 5011 §2.1: a revocation counts only when the revoked key itself signs the set.
        if (k === undefined || k.state === 'REVOKED' || k.state === 'REMOVED') continue;
        const self: ZoneKey = { rr: r, tag: tagOf(d), key: undefined };
        if (checkRrset(set, sigs, this.zone, [self], sigNow, budget()).ok) move(k, 'REVOKED');
        continue;
      }
      if (k === undefined) {
        k = { rr: { ...r, data: { ...d } }, state: 'ADDPEND', since: now };
        this.keys.push(k);
        changes.push(`${tagOf(d)} ADDPEND`);
        continue;
      }
      if (k.state === 'ADDPEND' && now - k.since >= HOLD_DOWN_SEC) move(k, 'VALID');
      else if (k.state === 'MISSING') move(k, 'VALID');
    }
    for (const k of [...this.keys]) {
      if (seen.has(identity(k.rr.data))) continue;
      if (k.state === 'ADDPEND') {
        // §4: a pending key that disappears is forgotten (its hold-down starts over if it comes back).
        this.keys.splice(this.keys.indexOf(k), 1);
        changes.push(`${tagOf(k.rr.data)} forgotten`);
      } else if (k.state === 'VALID') move(k, 'MISSING');
      else if (k.state === 'REVOKED' && now - k.since >= HOLD_DOWN_SEC) move(k, 'REMOVED');
    }
    // A revoked key still in the set starts its removal hold-down only once it is gone (§4):
    // here it simply stays REVOKED.
    if (changes.length > 0) this.save();
    return { accepted: true, changes };
  }

  /**
   * RFC 5011 §2.3 active refresh interval: MAX(1 hour, MIN(15 days, 1/2 original TTL,
   * 1/2 signature validity left)), in seconds, from a fetched set.
   */
  static refreshIntervalSec(originalTtl: number, sigLeftSec: number): number {
    return Math.max(3600, Math.min(15 * 86_400, Math.floor(originalTtl / 2), Math.floor(sigLeftSec / 2)));
  }
}
