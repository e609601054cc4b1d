/**
 * TTL rules every part shares: the RFC 2181 §8 reading of a TTL field and the RFC 2308 negative
 * TTL. One copy here, used by the authority, the resolver cache, the forwarder and local data.
 */
import type { ResourceRecord } from './record.js';

/** Largest TTL a sender may mean (RFC 2181 §8: 2^31 - 1). */
export const MAX_TTL = 0x7fffffff;

/**
 * RFC 2181 §8: a TTL with the most significant bit set is to be treated as zero (Unbound and
 * BIND do so). Values from the wire are unsigned 32-bit numbers.
 */
export function ttlValue(ttl: number): number {
  return ttl > MAX_TTL ? 0 : ttl;
}

/** RFC 2308 §5: a negative answer lives min(SOA TTL, SOA MINIMUM) seconds (each read per RFC 2181 §8). */
export function negativeTtl(soa: ResourceRecord): number {
  const minimum = (soa.data as { minimum?: number }).minimum ?? 0;
  return Math.min(ttlValue(soa.ttl), ttlValue(minimum));
}

/** RFC 2308 §3: the SOA put in a negative answer carries the negative TTL (the same object when already so). */
export function negativeSoa(soa: ResourceRecord): ResourceRecord {
  const ttl = negativeTtl(soa);
  return ttl === soa.ttl ? soa : { name: soa.name, type: soa.type, class: soa.class, ttl, data: soa.data };
}
