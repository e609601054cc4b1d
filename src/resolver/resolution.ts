/**
 * What a resolution gives back, and the part of the Resolver that DNSSEC validation drives: its
 * own file so that the iterator and the validating step (validate.ts) share them without
 * importing each other.
 */
import type { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import type { RRCache } from './cache.js';
import type { ResolverStats } from './stats.js';

export interface Resolution {
  rcode: number;
  answer: readonly ResourceRecord[];
  authority: readonly ResourceRecord[];
  /** Extended DNS Error to attach (stale answers, local answers...). */
  ede?: { code: number; text: string };
  stale: boolean;
  /** Upstream queries this resolution sent. */
  queries: number;
  /** True when answered from the cache or locally without any upstream query. */
  cached: boolean;
  /** DNSSEC: a ValidationState value (UNCHECKED when not validated). */
  dnssec?: number;
}

/** The resolver as validate.ts uses it: resolve unchecked (CD) and read the cache. */
export interface ResolverCore {
  readonly cache: RRCache;
  /** Counters the validation step adds to (validations, aggressive NSEC answers). */
  readonly stats: ResolverStats;
  resolve(qname: Name, qtype: number, qclass?: number,
    opts?: { refresh?: boolean; cacheChecked?: boolean; cd?: boolean; forValidation?: boolean }): Promise<Resolution>;
}
