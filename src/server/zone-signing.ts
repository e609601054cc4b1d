/**
 * The server's side of signing zones (`dnssec:` on a zone): one ZoneSigner per signed zone, kept
 * across reloads (so its signature cache makes re-signing incremental), and the timer that
 * refreshes signatures before they expire. A zone that cannot be signed is reported like a zone
 * that fails its checks: the server keeps its last signed version.
 */
import { dirname } from 'node:path';
import { parseUpstream } from '../client/upstream.js';
import { signingAlgorithmFrom } from '../dnssec/algorithms.js';
import type { KeyStatus } from '../dnssec/signer/key-manager.js';
import { DEFAULT_POLICY, RFC9276_NSEC3, type SigningPolicy, ZoneSigner } from '../dnssec/signer/zone-signer.js';
import type { ZoneConfig } from '../config/schema.js';
import type { Logger } from '../logging.js';
import type { Name } from '../wire/name.js';
import type { Zone } from '../zone/zone.js';
import { checkDs } from './checkds.js';

/** `sovereign dnssec status`: one zone's keys and when the signer next acts. */
export interface DnssecZoneStatus {
  zone: string;
  keys: KeyStatus[];
  /** Seconds since the epoch of the next signature refresh or key event (null: nothing scheduled). */
  nextEventAt: number | null;
  parentalAgents: string[];
  now: number;
}

/** How often the refresh timer looks (real time); the signers' clock decides what is due. */
const REFRESH_CHECK_MS = 60_000;
/** How often a worker that does not ask the parental agents looks for the lead's changes to the key files. */
const FOLLOW_KEYS_MS = 5000;

export class ZoneSigning {
  private readonly signers = new Map<string, { signer: ZoneSigner; fingerprint: string; agents: string[] }>();
  /** One parental-agents check at a time per zone. */
  private readonly checking = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private followTimer: NodeJS.Timeout | undefined;
  private firstCheck: NodeJS.Timeout | undefined;
  /**
   * This process asks the parental agents (checkds). With several workers only the lead does
   * (isTransferLead), as one BIND does: it records what it sees in the shared key directory and
   * the others follow the key files (followKeys).
   */
  pollsParents = true;

  constructor(private readonly logger: Logger, private readonly now: () => number = () => Math.floor(Date.now() / 1000),
    private readonly random?: () => number) {}

  /** Signs `zone` as `zc.dnssec` asks (throws DnssecError on key problems). */
  sign(zc: ZoneConfig, origin: Name, zone: Zone): Zone {
    const signer = this.signerFor(zc, origin);
    const signed = signer.sign(zone);
    for (const tag of signer.generated.splice(0)) {
      this.logger.info({ zone: origin.toString(), keyTag: tag, keyDir: signer.opts.keyDir }, 'DNSSEC key generated');
    }
    this.logger.info({ zone: origin.toString(), signed: signer.lastSigned, reused: signer.lastReused }, 'zone signed');
    return signed;
  }

  /** The signer of a zone, made anew when its policy or key directory changed. */
  signerFor(zc: ZoneConfig, origin: Name): ZoneSigner {
    const d = zc.dnssec!;
    const policy: SigningPolicy = {
      ...DEFAULT_POLICY,
      algorithm: signingAlgorithmFrom(d.algorithm) ?? DEFAULT_POLICY.algorithm,
      split: d.keys === 'split',
      nsec3: d.nsec3 ? { ...RFC9276_NSEC3, optOut: d.optOut } : undefined,
      validity: d.signatureValidity,
      refresh: d.signatureRefresh,
      unsign: d.policy === 'insecure',
      rollover: {
        kskLifetime: d.kskLifetime, zskLifetime: d.zskLifetime, cskLifetime: d.cskLifetime, dnskeyTtl: d.dnskeyTtl,
        propagationDelay: d.propagationDelay, publishSafety: d.publishSafety, retireSafety: d.retireSafety,
        parentDsTtl: d.parentDsTtl, parentPropagationDelay: d.parentPropagationDelay,
      },
    };
    const keyDir = d.keyDir ?? dirname(zc.file);
    const fingerprint = JSON.stringify([policy, keyDir]);
    const have = this.signers.get(origin.key);
    if (have !== undefined && have.fingerprint === fingerprint) {
      have.agents = d.parentalAgents;
      return have.signer;
    }
    const signer = new ZoneSigner(origin, { keyDir, policy, now: this.now, ...(this.random !== undefined ? { random: this.random } : {}) });
    this.signers.set(origin.key, { signer, fingerprint, agents: d.parentalAgents });
    return signer;
  }

  /** The signer of a zone by name (lower-case key), if it is signed here. */
  signerOf(origin: Name): ZoneSigner | undefined {
    return this.signers.get(origin.key)?.signer;
  }

  /** `sovereign dnssec status ZONE`. */
  status(origin: Name): DnssecZoneStatus | undefined {
    const e = this.signers.get(origin.key);
    if (e === undefined) return undefined;
    const next = e.signer.nextEventAt();
    return { zone: origin.toString(), keys: e.signer.status(), nextEventAt: Number.isFinite(next) ? next : null, parentalAgents: e.agents, now: this.now() };
  }

  /**
   * Asks each signed zone's parental agents for its DS RRset (as BIND's checkds does) and records
   * KSKs whose DS is at every agent as published, and withdrawn KSKs whose DS is at none as
   * withdrawn; a zone whose keys moved on is re-signed and handed to `swap`.
   */
  async checkParents(swap: (zone: Zone) => void): Promise<void> {
    for (const [key, e] of this.signers) {
      if (e.agents.length === 0 || this.checking.has(key)) continue;
      const pending = e.signer.dsPending();
      if (pending.published.length === 0 && pending.withdrawn.length === 0) continue;
      this.checking.add(key);
      try {
        const agents = e.agents.map((a) => parseUpstream(a));
        this.logger.debug({ zone: e.signer.origin.toString(), agents: e.agents, published: pending.published.map((k) => k.keyTag),
          withdrawn: pending.withdrawn.map((k) => k.keyTag) }, 'asking the parental agents for the DS');
        const seen = await checkDs(e.signer.origin, agents, pending);
        let moved = false;
        for (const tag of seen.published) moved = e.signer.dsSeen('published', tag).length > 0 || moved;
        for (const tag of seen.withdrawn) moved = e.signer.dsSeen('withdrawn', tag).length > 0 || moved;
        for (const tag of seen.published) this.logger.info({ zone: e.signer.origin.toString(), keyTag: tag }, 'DS seen at the parental agents');
        for (const tag of seen.withdrawn) this.logger.info({ zone: e.signer.origin.toString(), keyTag: tag }, 'DS withdrawn at the parental agents');
        if (moved) this.resign(e.signer, swap, 'keys changed');
        for (const p of seen.problems) this.logger.warn({ zone: e.signer.origin.toString(), problem: p }, 'parental agent check failed');
      } catch (err) {
        this.logger.warn({ zone: e.signer.origin.toString(), err: (err as Error).message }, 'parental agent check failed');
      } finally {
        this.checking.delete(key);
      }
    }
  }

  /** `sovereign dnssec checkds ZONE published|withdrawn [--key TAG]`: the manual override; re-signs. */
  dsSeen(origin: Name, what: 'published' | 'withdrawn', tag: number | undefined, swap: (zone: Zone) => void): number[] {
    const e = this.signers.get(origin.key);
    if (e === undefined) throw new Error(`${origin.toString()} is not signed by this server`);
    const tags = e.signer.dsSeen(what, tag);
    this.resign(e.signer, swap, 'keys changed');
    return tags;
  }

  /** Keys made by a roll are told once (their tags only: key material is never logged). */
  private logGenerated(signer: ZoneSigner): void {
    for (const tag of signer.generated.splice(0)) {
      this.logger.info({ zone: signer.origin.toString(), keyTag: tag, keyDir: signer.opts.keyDir }, 'DNSSEC key generated');
    }
  }

  private resign(signer: ZoneSigner, swap: (zone: Zone) => void, why: string): void {
    try {
      const z = signer.refresh();
      if (z === undefined) return;
      swap(z);
      this.logGenerated(signer);
      this.logger.info({ zone: signer.origin.toString(), signed: signer.lastSigned, reused: signer.lastReused, why }, 'zone re-signed');
    } catch (err) {
      this.logger.error({ zone: signer.origin.toString(), err: (err as Error).message }, 'signing failed; the zone keeps its current signatures');
    }
  }

  /**
   * Checks every REFRESH_CHECK_MS whether signatures are due and hands each re-signed zone to
   * `swap`. A failure (say, a key file gone) is logged and the zone keeps its current signatures.
   */
  startRefresh(swap: (zone: Zone) => void): void {
    this.stop();
    this.timer = setInterval(() => {
      this.refreshDue(swap);
      if (this.pollsParents) void this.checkParents(swap);
    }, REFRESH_CHECK_MS);
    this.timer.unref();
    if (this.pollsParents) {
      // A CDS waiting at start is looked for at once, not a minute later.
      this.firstCheck = setTimeout(() => void this.checkParents(swap), 0);
      this.firstCheck.unref();
    } else {
      this.followTimer = setInterval(() => this.followKeys(swap), FOLLOW_KEYS_MS);
      this.followTimer.unref();
    }
  }

  /** A worker that does not ask the parental agents: re-signs a zone whose key files the lead changed. */
  followKeys(swap: (zone: Zone) => void): void {
    for (const { signer } of this.signers.values()) {
      if (signer.keysChangedOnDisk()) this.resign(signer, swap, 'key files changed (the lead worker checks the parent)');
    }
  }

  /** Re-signs the zones whose signatures are due (also what the timer calls). */
  refreshDue(swap: (zone: Zone) => void): void {
    const now = this.now();
    for (const { signer } of this.signers.values()) {
      // Key files changed by another worker (say, `sovereign dnssec checkds` handled there, or the
      // lead's parent check) count as due, and are told as what they are, whichever timer sees them first.
      if (signer.keysChangedOnDisk()) {
        this.resign(signer, swap, this.pollsParents ? 'key files changed' : 'key files changed (the lead worker checks the parent)');
        continue;
      }
      if (now < signer.nextEventAt()) continue;
      try {
        const z = signer.refresh();
        if (z === undefined) continue;
        swap(z);
        this.logGenerated(signer);
        this.logger.info({ zone: signer.origin.toString(), signed: signer.lastSigned, reused: signer.lastReused }, 'signatures refreshed');
      } catch (err) {
        this.logger.error({ zone: signer.origin.toString(), err: (err as Error).message }, 'signature refresh failed; the zone keeps its current signatures');
      }
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.followTimer !== undefined) clearInterval(this.followTimer);
    if (this.firstCheck !== undefined) clearTimeout(this.firstCheck);
    this.timer = undefined;
    this.followTimer = undefined;
    this.firstCheck = undefined;
  }
}
