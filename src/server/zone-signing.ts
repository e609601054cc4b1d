/**
 * The server's side of signing zones (`dnssec:` on a zone): one ZoneSigner per signed zone, kept
 * across reloads (so its signature cache makes re-signing incremental), and the timer that
 * refreshes signatures before they expire. A zone that cannot be signed is reported like a zone
 * that fails its checks: the server keeps its last signed version.
 */
import { dirname } from 'node:path';
import { signingAlgorithmFrom } from '../dnssec/algorithms.js';
import { DEFAULT_POLICY, RFC9276_NSEC3, type SigningPolicy, ZoneSigner } from '../dnssec/signer/zone-signer.js';
import type { ZoneConfig } from '../config/schema.js';
import type { Logger } from '../logging.js';
import type { Name } from '../wire/name.js';
import type { Zone } from '../zone/zone.js';

/** How often the refresh timer looks (real time); the signers' clock decides what is due. */
const REFRESH_CHECK_MS = 60_000;

export class ZoneSigning {
  private readonly signers = new Map<string, { signer: ZoneSigner; fingerprint: string }>();
  private timer: NodeJS.Timeout | undefined;

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
    };
    const keyDir = d.keyDir ?? dirname(zc.file);
    const fingerprint = JSON.stringify([policy, keyDir]);
    const have = this.signers.get(origin.key);
    if (have !== undefined && have.fingerprint === fingerprint) return have.signer;
    const signer = new ZoneSigner(origin, { keyDir, policy, now: this.now, ...(this.random !== undefined ? { random: this.random } : {}) });
    this.signers.set(origin.key, { signer, fingerprint });
    return signer;
  }

  /**
   * Checks every REFRESH_CHECK_MS whether signatures are due and hands each re-signed zone to
   * `swap`. A failure (say, a key file gone) is logged and the zone keeps its current signatures.
   */
  startRefresh(swap: (zone: Zone) => void): void {
    this.stop();
    this.timer = setInterval(() => this.refreshDue(swap), REFRESH_CHECK_MS);
    this.timer.unref();
  }

  /** Re-signs the zones whose signatures are due (also what the timer calls). */
  refreshDue(swap: (zone: Zone) => void): void {
    const now = this.now();
    for (const { signer } of this.signers.values()) {
      if (now < signer.nextRefreshAt()) continue;
      try {
        const z = signer.refresh();
        if (z === undefined) continue;
        swap(z);
        this.logger.info({ zone: signer.origin.toString(), signed: signer.lastSigned, reused: signer.lastReused }, 'signatures refreshed');
      } catch (err) {
        this.logger.error({ zone: signer.origin.toString(), err: (err as Error).message }, 'signature refresh failed; the zone keeps its current signatures');
      }
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
