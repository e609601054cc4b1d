/**
 * The `rpz:` and `blocklists:` config keys (their zod schemas; src/config/schema.ts mounts them).
 * Kept here so the policy room owns its settings; paths are resolved by src/config/load.ts.
 */
import { z } from 'zod';
import { Name } from '../wire/name.js';
import { durationS } from '../config/duration.js';

const domain = z.string().min(1).superRefine((v, ctx) => {
  try {
    Name.fromText(v.endsWith('.') ? v : v + '.');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

/** BIND's `policy` of a response-policy zone: given, disabled, passthru, nxdomain, nodata, drop, tcp-only, or `cname DOMAIN`. */
const rpzPolicy = z.string().min(1).superRefine((v, ctx) => {
  const t = v.trim().toLowerCase();
  if (['given', 'disabled', 'passthru', 'nxdomain', 'nodata', 'drop', 'tcp-only'].includes(t)) return;
  const m = /^cname\s+(\S+)$/i.exec(v.trim());
  if (m !== null) {
    try {
      Name.fromText(m[1]!.endsWith('.') ? m[1]! : m[1]! + '.');
      return;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return;
    }
  }
  ctx.addIssue({ code: 'custom', message: `"${v}" is not a policy` });
});

export const rpzZoneSchema = z.strictObject({
  /** The policy zone's name (its origin), e.g. `rpz.example`. */
  name: domain,
  /** Master file of the zone (relative to the config file). With `primaries`: where the transferred copy is kept. */
  file: z.string().min(1).optional(),
  /** Transfer the zone from these primaries (AXFR/IXFR, NOTIFY, refresh), as a secondary zone: "ADDR[:PORT]" or "ADDR[:PORT] key NAME". */
  primaries: z.array(z.string().min(1)).min(1).optional(),
  /** Who may NOTIFY us for it besides the primaries. */
  allowNotify: z.array(z.string()).optional(),
  policy: rpzPolicy.default('given'),
  /** Log each rewrite (BIND's `log yes`, the default). */
  log: z.boolean().default(true),
  /** TTL cap of local-data answers, seconds (BIND's max-policy-ttl; BIND 9.18 answers local data with TTL 5 when unset, so 5). */
  maxPolicyTtl: durationS(0, 604_800).default(5),
  /** Rewrite only recursive queries (RD=1 from clients allowed recursion), as BIND's default. */
  recursiveOnly: z.boolean().default(true),
}).superRefine((v, ctx) => {
  if (v.file === undefined && v.primaries === undefined) ctx.addIssue({ code: 'custom', path: ['file'], message: 'a policy zone needs a file, or primaries to transfer it from' });
});

export const rpzSchema = z.strictObject({
  zones: z.array(rpzZoneSchema).default([]),
  /** Rewrite DNSSEC-signed answers for DO=1 clients too (BIND's break-dnssec; default no). */
  breakDnssec: z.boolean().default(false),
  /** Resolve before applying QNAME/client-ip rules (BIND's qname-wait-recurse; default yes). */
  qnameWaitRecurse: z.boolean().default(true),
}).prefault({});

const listSchema = z.strictObject({
  /** The list's name (stats, logs, ctx.policy `blocklist:NAME`). */
  name: z.string().min(1).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, ".", "_" and "-" only'),
  file: z.string().min(1).optional(),
  url: z.string().url().refine((u) => /^https?:\/\//i.test(u), 'an http:// or https:// URL').optional(),
  /** hosts, domains or adblock; absent: each line as it comes. */
  format: z.enum(['hosts', 'domains', 'adblock']).optional(),
  /** How often to re-read or re-fetch it (0: at start and reload only). */
  refresh: durationS(0, 30 * 86_400).default(86_400),
}).superRefine((v, ctx) => {
  if ((v.file === undefined) === (v.url === undefined)) ctx.addIssue({ code: 'custom', path: ['file'], message: 'give exactly one of file and url' });
});

export const blocklistsSchema = z.strictObject({
  lists: z.array(listSchema).default([]),
  /** Names never blocked: `name` (exact), `*.name` (with subdomains), or the path of a file of them. */
  allow: z.array(z.string().min(1)).default([]),
  /** The block answer: null-ip (0.0.0.0 / ::, Pi-hole's default), nxdomain, nodata or refused. */
  action: z.enum(['nxdomain', 'nodata', 'null-ip', 'refused']).default('null-ip'),
  /** TTL of block answers, seconds (Pi-hole's blockTTL). */
  ttl: durationS(0, 86_400).default(2),
}).prefault({});

export type RpzConfig = z.output<typeof rpzSchema>;
export type BlocklistsConfig = z.output<typeof blocklistsSchema>;

/** configHints entries for these keys. */
export const policyConfigHints: Record<string, string> = {
  'rpz.zones': 'a list of { name: rpz.example, file: rpz.zone } or { name, primaries: ["192.0.2.1"] }, each optionally with policy, log, maxPolicyTtl, recursiveOnly',
  'rpz.zones.policy': 'given, disabled, passthru, nxdomain, nodata, drop, tcp-only, or "cname walled.garden.example"',
  'rpz.zones.file': 'a master file path, or primaries: [...] to transfer the zone',
  'rpz.breakDnssec': 'true or false',
  'rpz.qnameWaitRecurse': 'true or false',
  rpz: 'zones (a list), breakDnssec (true/false), qnameWaitRecurse (true/false)',
  'blocklists.lists': 'a list of { name: ads, file: ads.txt } or { name, url: "https://..." }, with format (hosts|domains|adblock) and refresh (e.g. 1d)',
  'blocklists.lists.file': 'give exactly one of file: PATH and url: "https://..."',
  'blocklists.allow': 'a list of names ("good.example", "*.cdn.example") or files of them',
  'blocklists.action': 'nxdomain, nodata, null-ip or refused',
  blocklists: 'lists, allow, action (nxdomain|nodata|null-ip|refused), ttl',
};
