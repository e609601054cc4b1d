/**
 * The shapes every RRset of a zone has, stored (ZoneRRset, in node.ts) or built by hand: a
 * types-only module so the zone's storage and its users share them without import circles.
 */
import type { Name } from '../wire/name.js';

export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

export interface RRset {
  name: Name;
  type: number;
  class: number;
  /** TTL of the RRset (the first record's; RFC 2181 §5.2 wants them equal). */
  ttl: number;
  /** Decoded RDATA, one per record, duplicates removed. */
  rdata: unknown[];
  /** Where the first record was read (for checks and error messages). */
  source?: SourcePos | undefined;
  /** Canonical (RFC 4034 §6.2) RDATA per record for transfers and DNSSEC: see Zone.wireOf. */
  wire?: Uint8Array[] | undefined;
}
