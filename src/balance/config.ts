/**
 * The `balance:` block of the config: load-balanced A/AAAA record sets with weights, answers by
 * client subnet (EDNS Client Subnet, RFC 7871) or GeoIP region, and health-checked failover.
 * Validated here, so a bad record set names its key and the fix (see the hints below, which
 * schema.ts merges into configHints).
 */
import { z } from 'zod';
import { durationMs, durationS } from '../config/duration.js';
import { Name } from '../wire/name.js';
import { rcodeFromString } from '../wire/constants.js';
import { typeFromString } from '../wire/types.js';
import { parseAddress, parsePrefix } from './addresses.js';

const domain = z.string().min(1).superRefine((v, ctx) => {
  try {
    Name.fromText(v.endsWith('.') ? v : v + '.');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

/** `192.0.2.1` or `{ address: 192.0.2.1, weight: 3 }`. */
const addressEntry = z.union([
  z.string().min(1),
  z.strictObject({ address: z.string().min(1), weight: z.number().min(0).max(1_000_000).default(1) }),
]).transform((v) => (typeof v === 'string' ? { address: v, weight: 1 } : v));

const addressList = z.array(addressEntry).min(1);

export const healthSchema = z.strictObject({
  /** tcp (connect), http/https (GET, expected status) or dns (a query, expected RCODE). */
  check: z.enum(['tcp', 'http', 'https', 'dns']),
  /** Default 80 (http), 443 (https), 53 (dns); required for tcp. */
  port: z.int().min(1).max(65535).optional(),
  path: z.string().startsWith('/').default('/'),
  /** Host header and TLS server name; default the record set's name. */
  host: z.string().min(1).optional(),
  expectStatus: z.int().min(100).max(599).default(200),
  /** https: accept any certificate (self-signed backends). */
  insecure: z.boolean().default(false),
  /** dns: the question (default: the record set's name and type) and the RCODE wanted. */
  query: z.strictObject({ name: domain.optional(), type: z.string().min(1).optional() }).prefault({}),
  expectRcode: z.string().min(1).default('NOERROR'),
  interval: durationMs(100, 86_400_000).default(10_000),
  timeout: durationMs(10, 60_000).default(2_000),
  /** Successes in a row that bring a down address back; failures in a row that take it out (HAProxy's rise/fall). */
  rise: z.int().min(1).max(100).default(2),
  fall: z.int().min(1).max(100).default(3),
});

export const balanceRecordSchema = z.strictObject({
  name: domain,
  type: z.enum(['A', 'AAAA']).default('A'),
  ttl: durationS(0, 604_800).default(30),
  /** Addresses per answer: a number, or all (every healthy one, in weighted random order). Default: 1 with weights, else all. */
  answers: z.union([z.literal('all'), z.int().min(1).max(64)]).optional(),
  addresses: addressList,
  /** Answered when every address of the chosen set is down (default: all of them, as PowerDNS's ifportup). */
  fallback: addressList.optional(),
  /** Honour EDNS Client Subnet (RFC 7871) in choosing among subnets/regions, and echo it with its scope. */
  ecs: z.boolean().default(false),
  subnets: z.array(z.strictObject({ prefix: z.string().min(1), addresses: addressList })).optional(),
  /** Country ISO codes (DE), continent codes (EU) and `default` -> addresses; needs balance.geoip. */
  regions: z.record(z.string().min(1), addressList).optional(),
  health: healthSchema.optional(),
}).superRefine((r, ctx) => {
  const family = r.type === 'A' ? 4 : 16;
  const check = (list: { address: string }[], path: (string | number)[]): void => {
    list.forEach((a, i) => {
      const b = parseAddress(a.address);
      if (b === undefined || b.length !== family) {
        ctx.addIssue({ code: 'custom', path: [...path, i], message: `"${a.address}" is not an ${r.type === 'A' ? 'IPv4' : 'IPv6'} address (the set's type is ${r.type})` });
      }
    });
  };
  check(r.addresses, ['addresses']);
  if (r.fallback !== undefined) check(r.fallback, ['fallback']);
  (r.subnets ?? []).forEach((s, i) => {
    try {
      parsePrefix(s.prefix);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['subnets', i, 'prefix'], message: (err as Error).message });
    }
    check(s.addresses, ['subnets', i, 'addresses']);
  });
  for (const [k, list] of Object.entries(r.regions ?? {})) {
    if (k !== 'default' && !/^[A-Za-z]{2}$/.test(k)) {
      ctx.addIssue({ code: 'custom', path: ['regions', k], message: `"${k}" is not a two-letter country or continent code, nor default` });
    }
    check(list, ['regions', k]);
  }
  const h = r.health;
  if (h !== undefined) {
    if (h.check === 'tcp' && h.port === undefined) ctx.addIssue({ code: 'custom', path: ['health', 'port'], message: 'a tcp check needs the port to connect to' });
    if (h.timeout >= h.interval) ctx.addIssue({ code: 'custom', path: ['health', 'timeout'], message: 'the timeout must be shorter than the interval' });
    if (h.query.type !== undefined && typeFromString(h.query.type) === undefined) ctx.addIssue({ code: 'custom', path: ['health', 'query', 'type'], message: `unknown type "${h.query.type}"` });
    if (rcodeFromString(h.expectRcode) === undefined) ctx.addIssue({ code: 'custom', path: ['health', 'expectRcode'], message: `unknown RCODE "${h.expectRcode}"` });
  }
});

export const balanceSchema = z.strictObject({
  /** A MaxMind DB file (GeoIP2/GeoLite2 Country or City) for `regions:`. */
  geoip: z.strictObject({ database: z.string().min(1) }).optional(),
  records: z.array(balanceRecordSchema).default([]),
}).superRefine((b, ctx) => {
  const seen = new Map<string, number>();
  b.records.forEach((r, i) => {
    if (typeof r?.name !== 'string') return;
    let key: string;
    try {
      key = Name.fromText(r.name.endsWith('.') ? r.name : r.name + '.').key + ' ' + r.type;
    } catch {
      return;
    }
    const first = seen.get(key);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['records', i, 'name'], message: `${r.name} ${r.type} is already balanced at balance.records[${first}]` });
    else seen.set(key, i);
    if (r.regions !== undefined && b.geoip === undefined) {
      ctx.addIssue({ code: 'custom', path: ['records', i, 'regions'], message: 'regions need a GeoIP database: set balance.geoip.database' });
    }
  });
}).prefault({});

export type BalanceConfig = z.output<typeof balanceSchema>;
export type BalanceRecordConfig = z.output<typeof balanceRecordSchema>;

/** Fixes for the keys above, merged into configHints. */
export const balanceHints: Record<string, string> = {
  balance: 'geoip: { database: FILE.mmdb } and records: a list of { name, type: A|AAAA, addresses, ... } (see sovereign.example.yaml)',
  'balance.geoip': '{ database: path/to/GeoLite2-Country.mmdb } (a MaxMind DB file)',
  'balance.records': 'a list of { name: www.example., type: A, addresses: [{ address: 192.0.2.1, weight: 3 }, 192.0.2.2], ttl: 30 }',
  'balance.records.name': 'a domain name, e.g. www.example.com.; each name and type balanced once',
  'balance.records.type': 'A or AAAA',
  'balance.records.ttl': 'a duration up to 7d (e.g. 30s; a plain number is seconds)',
  'balance.records.answers': 'a whole number of addresses per answer (1 to 64) or all',
  'balance.records.addresses': 'a list of addresses of the set\'s type, each "192.0.2.1" or { address: 192.0.2.1, weight: 3 } (weight >= 0)',
  'balance.records.fallback': 'a list of addresses answered when every checked address is down, e.g. [192.0.2.99]',
  'balance.records.ecs': 'true (choose subnets/regions by the EDNS Client Subnet address, RFC 7871) or false',
  'balance.records.subnets': 'a list of { prefix: 10.0.0.0/8, addresses: [...] } (network addresses, longest prefix wins)',
  'balance.records.regions': 'a map of country (DE) or continent (EU) codes and default to address lists; needs balance.geoip.database',
  'balance.records.health': '{ check: tcp|http|https|dns, port, path, host, expectStatus, insecure, query: { name, type }, expectRcode, interval, timeout (< interval), rise, fall }',
  'balance.records.health.port': 'a port from 1 to 65535 (required for check: tcp)',
  'balance.records.health.timeout': 'a duration shorter than the interval, e.g. 2s',
  'balance.records.health.interval': 'a duration from 100ms, e.g. 10s',
  'balance.records.health.query.type': 'a record type such as A, AAAA or SOA',
  'balance.records.health.expectRcode': 'an RCODE name such as NOERROR or NXDOMAIN',
};
