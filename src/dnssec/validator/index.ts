/**
 * DNSSEC validation (RFC 4033-4035, 5155, 6840): trust anchors and NTAs, the chain of trust,
 * NSEC/NSEC3 proofs, bounded work. Usable without a server: give it a `fetch` and a clock.
 */
export { Validator, type FetchResult, type SecurityStatus, type ValidationResult, type ValidatorOptions, type RrsetStatus, type VerifiedNsec } from './validator.js';
export { TrustAnchorSet, NegativeTrustAnchors, ROOT_ANCHORS_TEXT, parseAnchorText, type TrustAnchor } from './trust-anchors.js';
export { DEFAULT_LIMITS, type ValidationLimits } from './verify.js';
export { AutoTrustAnchor, HOLD_DOWN_SEC, type KeyState, type TrackedKey, type ProbeResult } from './rfc5011.js';
