/**
 * One random secret per server instance, shared by every cluster worker: server cookies
 * (RFC 9018 §4.2 wants every server of a set to compute the same cookie) and TLS session-ticket
 * keys (a session resumes on any worker) are derived from it.
 *
 * Invariant: the primary creates it before forking (workers inherit it through their
 * environment); a single process creates it on first use. It comes from node:crypto and never
 * leaves the process tree (the variable is removed from what child tools would see is not our
 * concern: workers are the only children).
 */
import { createHmac, randomBytes } from 'node:crypto';

export const CLUSTER_SECRET_ENV = 'SOVEREIGN_CLUSTER_SECRET';

let cached: Buffer | undefined;

/** The instance's 32-octet secret (created, and put in the environment for workers, on first use). */
export function clusterSecret(): Buffer {
  if (cached !== undefined) return cached;
  const env = process.env[CLUSTER_SECRET_ENV];
  if (env !== undefined && /^[0-9a-f]{64}$/.test(env)) {
    cached = Buffer.from(env, 'hex');
  } else {
    cached = randomBytes(32);
    process.env[CLUSTER_SECRET_ENV] = cached.toString('hex');
  }
  return cached;
}

/**
 * 48 octets of session-ticket keys (name, HMAC and AES keys) derived from a secret all workers
 * share, so a ticket issued by one worker is honoured by the others; `label` keeps DoT and
 * DoH tickets apart.
 */
export function ticketKeys(secret: Buffer, label: string): Buffer {
  const a = createHmac('sha256', secret).update(`sovereign tls ticket keys 1 ${label}`).digest();
  const b = createHmac('sha256', secret).update(`sovereign tls ticket keys 2 ${label}`).digest();
  return Buffer.concat([a, b]).subarray(0, 48);
}
