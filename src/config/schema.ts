/**
 * The configuration file's shape (YAML), with defaults, validated by zod. Every key has a hint
 * that `load.ts` puts in the error message, so a bad config names the key and the fix.
 */
import { z } from 'zod';

/** `host:port`, `[v6]:port`, or a bare host (port 53). */
const listenAddress = z.string().min(1);

export const zoneSchema = z.strictObject({
  /** Zone origin, e.g. `example.com`. */
  name: z.string().min(1),
  /** Master file path, relative to the config file's directory. */
  file: z.string().min(1),
});

export const configSchema = z.strictObject({
  listen: z.array(listenAddress).min(1).default(['127.0.0.1:5300', '[::1]:5300']),
  /** Worker processes; `auto` = one per core. */
  workers: z.union([z.literal('auto'), z.int().min(1).max(256)]).default('auto'),
  zones: z.array(zoneSchema).default([]),
  udp: z.strictObject({
    /** Largest UDP reply we send, whatever the client offers (RFC 6891; 1232 avoids fragmentation). */
    maxSize: z.int().min(512).max(65535).default(1232),
  }).prefault({}),
  tcp: z.strictObject({
    idleTimeoutMs: z.int().min(100).max(3_600_000).default(10_000),
    maxConnections: z.int().min(1).max(1_000_000).default(1000),
    maxConnectionsPerClient: z.int().min(1).max(100_000).default(20),
    /** Queries in flight on one connection before we stop reading from it. */
    maxPipelined: z.int().min(1).max(65535).default(100),
  }).prefault({}),
  /** Round-robin rotation of multi-record RRsets in answers. */
  rotate: z.boolean().default(true),
  /** CH TXT version.bind / hostname.bind / id.server: a string to answer, or false to refuse. */
  chaos: z.strictObject({
    version: z.union([z.string(), z.literal(false)]).default(false),
    hostname: z.union([z.string(), z.literal(false)]).default(false),
    id: z.union([z.string(), z.literal(false)]).default(false),
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  }).prefault({}),
  /** Where `serve` writes its PID so `sovereign reload` can signal it. */
  pidFile: z.string().optional(),
  /**
   * Full recursion from the root (iterative, RD=0 upstream). Cache sizes and TTL bounds are the
   * shared `cache` keys; who may recurse is `allowRecursion` unless `resolver.allow` is given.
   */
  resolver: z.strictObject({
    enabled: z.boolean().default(false),
    /** A named.root-format file replacing the built-in root hints (relative to the config file). */
    rootHints: z.string().min(1).optional(),
    /** RFC 9156 QNAME minimisation. */
    qnameMinimisation: z.boolean().default(true),
    /** Randomise query-name case upstream and require it back (0x20). */
    use0x20: z.boolean().default(false),
    /** Answer from expired cache data when every upstream fails (RFC 8767; needs cache.staleTtl > 0). */
    serveStale: z.boolean().default(false),
    /** Refresh popular records in the last 10% of their TTL. */
    prefetch: z.boolean().default(false),
    /** Upstream queries allowed per client query (NXNS defence). */
    maxQueriesPerRequest: z.int().min(4).max(1000).default(64),
    /** Port authoritative servers are asked on. */
    port: z.int().min(1).max(65535).default(53),
    /** Clients that may recurse; overrides `allowRecursion` for the resolver when set. */
    allow: z.array(z.string().min(1)).optional(),
    /** DNSSEC validation (RFC 4033-4035), on by default. */
    dnssec: z.boolean().default(true),
    /** Trust anchor files (DS/DNSKEY in master-file format, or a BIND trust-anchors clause) replacing the built-in root anchors. */
    trustAnchors: z.array(z.string().min(1)).optional(),
    /** Negative trust anchors (RFC 7646): domains not validated. */
    negativeTrustAnchors: z.array(z.string().min(1)).default([]),
  }).prefault({}),
  /** Upstream resolvers for everything no zone, local data or route covers (queried RD=1). */
  forwarders: z.array(z.string().min(1)).default([]),
  /** Per-domain upstream resolvers: `corp.example: ["10.0.0.53", "10.0.0.54:5353"]` (RD=1). */
  forwardZones: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)).default({}),
  /** Per-domain authoritative servers the iterator starts from (RD=0, referrals below followed; Unbound's stub-zone). */
  stubZones: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)).default({}),
  forwarding: z.strictObject({
    /** Per-attempt timeout, ms. */
    timeoutMs: z.int().min(50).max(60_000).default(1500),
    /** Upstream attempts per question, across upstreams. */
    maxAttempts: z.int().min(1).max(16).default(3),
    /** Timeouts in a row before an upstream is skipped as dead. */
    maxFailures: z.int().min(1).max(100).default(3),
    /** How often dead upstreams are probed, ms. */
    probeIntervalMs: z.int().min(100).max(3_600_000).default(5000),
    /** PEM file of the CA(s) that DNS-over-TLS upstreams (`tls://...`) must chain to; default the system store. */
    tlsCaFile: z.string().min(1).optional(),
  }).prefault({}),
  /** Clients that may have questions forwarded or resolved for them (address or address/prefix; `!` denies). */
  allowRecursion: z.array(z.string().min(1)).default([
    '127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10',
    'fc00::/7', 'fe80::/10',
  ]),
  /** The shared resolver/forwarder cache. */
  cache: z.strictObject({
    maxEntries: z.int().min(1).max(100_000_000).default(100_000),
    minTtl: z.int().min(0).max(86_400).default(0),
    maxTtl: z.int().min(1).max(604_800).default(86_400),
    maxNegativeTtl: z.int().min(0).max(86_400).default(3600),
    /** Serve expired data this long when upstreams fail (RFC 8767), seconds; 0 = off. */
    staleTtl: z.int().min(0).max(604_800).default(0),
  }).prefault({}),
  /** The hosts file (hosts(5) format): A/AAAA for its names, PTR for its addresses. */
  hosts: z.strictObject({
    enabled: z.boolean().default(false),
    path: z.string().min(1).default('/etc/hosts'),
    /** TTL of answers from it, seconds (dnsmasq's local-ttl). */
    ttl: z.int().min(0).max(604_800).default(0),
    /** Reload when the file changes. */
    watch: z.boolean().default(true),
    /** Fallback stat check interval, ms (0 = only fs.watch). */
    pollMs: z.int().min(0).max(3_600_000).default(5000),
  }).prefault({}),
  /** Records served locally, in zone-file syntax: `["router.lan. 300 IN A 192.168.1.1"]`. */
  localData: z.array(z.string()).default([]),
  /** The local control endpoint used by `sovereign cache|stats|reload`. */
  control: z.strictObject({
    enabled: z.boolean().default(true),
    /** HTTP listen address (keep it on loopback). */
    listen: z.string().min(1).default('127.0.0.1:8053'),
    /** A Unix socket path instead of HTTP over TCP (mode 0600). */
    socket: z.string().min(1).optional(),
    /** File holding the bearer token; created at first start when absent (mode 0600). */
    tokenFile: z.string().min(1).optional(),
  }).prefault({}),
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ZoneConfig = z.output<typeof zoneSchema>;

/** How to fix each key, for error messages (first matching prefix wins). */
export const configHints: Record<string, string> = {
  listen: 'a list of "address:port" strings, e.g. ["127.0.0.1:5300", "[::1]:5300"]',
  workers: '"auto" or a whole number of worker processes (1 to 256)',
  zones: 'a list of { name: example.com, file: path/to/example.com.zone }',
  'udp.maxSize': 'a whole number of octets from 512 to 65535 (1232 is the usual choice)',
  'tcp.idleTimeoutMs': 'milliseconds from 100 to 3600000',
  'tcp.maxConnections': 'a whole number from 1',
  'tcp.maxConnectionsPerClient': 'a whole number from 1',
  'tcp.maxPipelined': 'a whole number from 1 to 65535',
  rotate: 'true or false',
  chaos: 'each of version, hostname, id: a string to answer with, or false to refuse',
  'log.level': 'one of trace, debug, info, warn, error, fatal, silent',
  pidFile: 'a file path',
  'resolver.enabled': 'true or false',
  'resolver.rootHints': 'a path to a root hints file in named.root format',
  'resolver.qnameMinimisation': 'true or false',
  'resolver.use0x20': 'true or false',
  'resolver.serveStale': 'true or false (stale data is kept for cache.staleTtl seconds)',
  'resolver.prefetch': 'true or false',
  'resolver.maxQueriesPerRequest': 'a whole number from 4 to 1000',
  'resolver.port': 'a port number from 1 to 65535',
  'resolver.dnssec': 'true or false',
  'resolver.trustAnchors': 'a list of files of DS or DNSKEY records, e.g. ["/usr/share/dns/root.key"]',
  'resolver.negativeTrustAnchors': 'a list of domain names, e.g. ["broken.example"]',
  'resolver.allow': 'a list of addresses or address/prefix entries ("192.168.0.0/16", "::1", "!10.0.0.1", "any")',
  forwarders: 'a list of upstream resolvers, e.g. ["127.0.0.1:53", "[::1]:53", "192.0.2.1", "tls://192.0.2.1:853#dns.example"]',
  forwardZones: 'a map of domain -> list of upstream resolvers, e.g. { corp.example: ["10.0.0.53"] }',
  stubZones: 'a map of domain -> list of authoritative servers, e.g. { lab.example: ["10.0.0.2"] }',
  'forwarding.timeoutMs': 'milliseconds from 50 to 60000',
  'forwarding.maxAttempts': 'a whole number from 1 to 16',
  'forwarding.maxFailures': 'a whole number from 1 to 100',
  'forwarding.probeIntervalMs': 'milliseconds from 100 to 3600000',
  'forwarding.tlsCaFile': 'a path to a PEM file of CA certificates',
  allowRecursion: 'a list of addresses or address/prefix entries ("192.168.0.0/16", "::1", "!10.0.0.1", "any")',
  cache: 'maxEntries (a whole number from 1), minTtl, maxTtl, maxNegativeTtl, staleTtl (seconds)',
  hosts: 'enabled (true/false), path (a file), ttl (seconds), watch (true/false), pollMs (milliseconds)',
  localData: 'a list of records in zone-file syntax, e.g. ["router.lan. 300 IN A 192.168.1.1"]',
  control: 'enabled (true/false), listen ("127.0.0.1:8053"), socket (a path), tokenFile (a path)',
};
