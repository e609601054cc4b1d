/**
 * The configuration file's shape (YAML), with defaults, validated by zod. Every key has a hint
 * that `load.ts` puts in the error message, so a bad config names the key and the fix.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { Name } from '../wire/name.js';
import { durationMs, durationS } from './duration.js';
import { parseRule } from '../update/policy.js';
import { TransferAcl } from '../transfer/acl.js';
import { Acl } from '../resolver/acl.js';
import { parseDns64Prefix } from '../policy/dns64-prefix.js';
import { balanceHints, balanceSchema } from '../balance/config.js';
import { blocklistsSchema, policyConfigHints, rpzSchema } from '../policy/config.js';
import { expandEncryptedListen, expandListen, formatEncryptedListen, formatListen, isEncryptedListen, isLoopback, parseListen } from './listen.js';

/**
 * `listen`: one entry or a list; each `host:port`, `[v6]:port`, a bare host (port 53), `localhost[:port]`
 * or a bare port. Normalised to canonical `addr:port` strings, so later code parses one form only.
 */
const listenList = z.union([z.string(), z.int(), z.array(z.union([z.string(), z.int()])).min(1)]).transform((v, ctx) => {
  const out: string[] = [];
  const list = Array.isArray(v) ? v : [v];
  list.forEach((entry, i) => {
    try {
      // tls://, https:// and http:// entries are DoT/DoH listeners (src/server/encrypted.ts).
      const texts = typeof entry === 'string' && isEncryptedListen(entry)
        ? expandEncryptedListen(entry).map(formatEncryptedListen) : expandListen(entry).map(formatListen);
      for (const text of texts) {
        if (!out.includes(text)) out.push(text);
      }
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof ConfigError ? err.problem : String(err), path: Array.isArray(v) ? [i] : [] });
    }
  });
  return out;
});

/** A domain name as it appears in config: checked as DNS checks it (empty labels, 63-octet labels, 255 octets). */
export function canonicalDomain(text: string): string {
  return Name.fromText(text.endsWith('.') ? text : text + '.').toString().toLowerCase();
}

const domainName = z.string().min(1).superRefine((v, ctx) => {
  try {
    canonicalDomain(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

export const zoneSchema = z.strictObject({
  /** Zone origin, e.g. `example.com`. */
  name: domainName,
  /** Master file path, relative to the config file's directory. */
  file: z.string().min(1),
  /** How strict loading is (src/zone/checks.ts CheckOptions): BIND's check-names, Knot's missing-glue error. */
  checks: z.strictObject({
    /** Host names in owners and targets: fail (BIND's default for a primary), warn or ignore. */
    names: z.enum(['fail', 'warn', 'ignore']).default('fail'),
    /** An in-zone delegation without glue: error (Knot) or warn (BIND). */
    glue: z.enum(['error', 'warn']).default('error'),
  }).prefault({}),
  /** Who may AXFR/IXFR the zone: "key NAME" entries and address prefixes; default loopback only. */
  allowTransfer: z.array(z.string().min(1)).optional(),
  /** Extra addresses ("ADDR[:PORT]") sent NOTIFY on each new serial, besides the zone's NS hosts. */
  notify: z.array(z.string().min(1)).optional(),
  /** Versions of differences kept for IXFR (journal next to the zone file); 0 = none. */
  ixfrHistory: z.int().min(0).max(100_000).optional(),
  /** Dynamic update (RFC 2136, src/update): who may update, all or nothing ("key NAME", address prefixes); BIND's allow-update. */
  allowUpdate: z.array(z.string().min(1)).optional(),
  /** Or rules per updated record: "grant|deny IDENTITY RULETYPE [NAME] [TYPE...]"; BIND's update-policy. */
  updatePolicy: z.array(z.string().min(1)).optional(),
  /** How an update steps the SOA serial: BIND's serial-update-method. */
  serialUpdateMethod: z.enum(['increment', 'unixtime', 'date']).default('increment'),
  /**
   * fsync (fdatasync) the journal before acknowledging an update (default). false: the update is
   * in the OS's cache when NOERROR goes back (survives a crash of the server, not of the machine).
   * BIND 9.18 fsyncs its journal (twice per update).
   */
  journalFsync: z.boolean().default(true),
  /** How long after an update the zone file is rewritten from memory + journal (seconds or a duration). */
  syncInterval: durationS(1, 86_400).default(900),
  /** Sign the zone in the server (src/dnssec/signer/zone-signer.ts). */
  dnssec: z.strictObject({
    /** `insecure`: publish CDS/CDNSKEY delete records (RFC 8078) and go unsigned once the parent's DS is gone. */
    policy: z.enum(['default', 'insecure']).default('default'),
    /** By number or BIND's mnemonic: 8, 10, 13 (default), 14, 15, 16. */
    algorithm: z.union([z.int(), z.string()]).default(13),
    /** One CSK (default) or a KSK and a ZSK. */
    keys: z.enum(['csk', 'split']).default('csk'),
    /** NSEC3 with RFC 9276's parameters (no salt, 0 iterations) instead of NSEC. */
    nsec3: z.boolean().default(false),
    optOut: z.boolean().default(false),
    /** Where the K-files live (default: the zone file's directory), relative to the config file's. */
    keyDir: z.string().min(1).optional(),
    signatureValidity: durationS(3600, 366 * 86_400).default(14 * 86400),
    signatureRefresh: durationS(60, 366 * 86_400).default(7 * 86400),
    /** Key lifetimes (0 = never rolled, BIND's "unlimited") and rollover timings (src/dnssec/signer/key-manager.ts). */
    kskLifetime: durationS(0, 100 * 366 * 86_400).default(0),
    zskLifetime: durationS(0, 100 * 366 * 86_400).default(0),
    cskLifetime: durationS(0, 100 * 366 * 86_400).default(0),
    dnskeyTtl: durationS(0, 7 * 86_400).default(3600),
    propagationDelay: durationS(0, 7 * 86_400).default(300),
    publishSafety: durationS(0, 30 * 86_400).default(3600),
    retireSafety: durationS(0, 30 * 86_400).default(3600),
    parentDsTtl: durationS(0, 7 * 86_400).default(86_400),
    parentPropagationDelay: durationS(0, 7 * 86_400).default(3600),
    /** Servers asked for the zone's DS ("ADDR[:PORT]"), as BIND's parental-agents: a KSK roll goes on once they all show the new DS. */
    parentalAgents: z.array(z.string().min(1)).default([]),
  }).optional(),
  // --- secondary zones (src/transfer/secondary.ts) ---
  /** `secondary`: transferred from `primaries` into `file` (implied by `primaries`); default primary. */
  type: z.enum(['primary', 'secondary']).optional(),
  /** Where a secondary transfers from, in order: "ADDR[:PORT] [key NAME]" (BIND's primaries, Knot's master). */
  primaries: z.array(z.string().min(1)).min(1).optional(),
  /** Besides the primaries' addresses, who may send NOTIFY: "key NAME" entries and address prefixes. */
  allowNotify: z.array(z.string().min(1)).optional(),
  /** A secondary passes UPDATE messages on to its first primary, unchanged (BIND's allow-update-forwarding); else REFUSED. */
  forwardUpdates: z.boolean().optional(),
  /**
   * Catalog zones (RFC 9432, Knot's catalog-role): `generate` builds this zone from the zones
   * naming it in `catalogZone` (its `file` gets a copy); `consume` (a secondary zone) makes each
   * member it lists a secondary zone of the same primaries, added and removed as it changes.
   */
  catalogRole: z.enum(['generate', 'consume']).optional(),
  /** This zone is a member of the generated catalog zone of that name. */
  catalogZone: domainName.optional(),
});

/** A TSIG key (RFC 8945): `{ algorithm: hmac-sha256, secret: BASE64 }`. */
export const tsigKeySchema = z.strictObject({
  algorithm: z.enum(['hmac-md5', 'hmac-sha1', 'hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512']).default('hmac-sha256'),
  secret: z.string().min(1),
});

/** `llmnr:` and `netbios:` blocks: names this host answers for, on which interfaces, with which addresses. */
const nameServiceSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** Single-label host names, e.g. ["fileserver"]. */
  names: z.array(z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,62}$/)).default([]),
  /** Interface names to serve (multicast/broadcast only there); empty: every non-loopback interface. */
  interfaces: z.array(z.string().min(1)).default([]),
  /** Addresses to answer with; empty: those of the interfaces served. */
  addresses: z.array(z.union([z.ipv4(), z.ipv6()])).default([]),
}).prefault({});

// --- views (split horizon, src/policy/views.ts) and DNS64 (RFC 6147, src/policy/dns64.ts) ---

/** An address match list entry as Acl reads it: "ADDR[/LEN]", "!ADDR[/LEN]", "any", "none". */
const addressList = z.array(z.string().min(1).superRefine((v, ctx) => {
  try {
    new Acl([v]);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
}));

/** `dns64:` (top level or per view): synthesise AAAA from A for clients of an IPv6-only network. */
export const dns64Schema = z.strictObject({
  /** RFC 6052 §2.2 prefix: /32, /40, /48, /56, /64 or /96 (64:ff9b::/96, the well-known prefix, by default). */
  prefix: z.string().min(1).default('64:ff9b::/96').superRefine((v, ctx) => {
    try {
      parseDns64Prefix(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof ConfigError ? err.problem : (err as Error).message });
    }
  }),
  /** Clients whose AAAA queries are synthesised (address match list); default every client. */
  clients: addressList.default(['any']),
  /** AAAA addresses that do not count as an answer (RFC 6147 §5.1.4): synthesised over; default IPv4-mapped. */
  exclude: addressList.default(['::ffff:0:0/96']),
});

/** One view (BIND's `view`, Unbound's access-control-view): who it is for, and what it serves them. */
export const viewSchema = z.strictObject({
  /** Shown in logs, stats and the query log ("view:NAME"). */
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  /** Source addresses this view answers (BIND's match-clients); default any, none when only `keys` is given. */
  clients: addressList.optional(),
  /** Our addresses the query came to (BIND's match-destinations); default any. */
  destinations: addressList.default(['any']),
  /** TSIG key names: a query signed with one of them picks this view, whatever its source (checked before addresses). */
  keys: z.array(z.string().min(1)).default([]),
  /** This view's zones: zone blocks as in `zones:`, or the name of a top-level zone shared with other views. */
  zones: z.array(z.union([domainName, zoneSchema])).default([]),
  /** Local records for this view, as top-level `localData`. */
  localData: z.array(z.string()).default([]),
  /** Recursion (the top-level resolver and forwarders) for this view's clients; false: its zones and local data only. */
  recursion: z.boolean().default(true),
  /** DNS64 for this view (replaces the top-level `dns64:`); false: none here. */
  dns64: z.union([dns64Schema, z.literal(false)]).optional(),
});
export type ViewConfig = z.output<typeof viewSchema>;
export type Dns64Config = z.output<typeof dns64Schema>;

/** Most views a server has (a bit each in the view table's masks). */
export const MAX_VIEWS = 31;

/** Views: names once each, shared zones named at the top level and served once, keys known. */
function viewChecks(cfg: { views?: ViewConfig[] | undefined; zones: ZoneConfig[]; keys: Record<string, unknown> }, ctx: z.RefinementCtx): void {
  if (!Array.isArray(cfg.views)) return;
  if (cfg.views.length > MAX_VIEWS) ctx.addIssue({ code: 'custom', path: ['views'], message: `${cfg.views.length} views; at most ${MAX_VIEWS}` });
  const names = new Set<string>();
  const top = new Map<string, ZoneConfig>();
  if (Array.isArray(cfg.zones)) for (const z of cfg.zones) if (typeof z?.name === 'string') top.set(safeDomain(z.name) ?? z.name, z);
  /** Zones that take updates or transfers in: one view each (their journal and refresh machine are one). */
  const stateful = new Map<string, string>();
  cfg.views.forEach((v, i) => {
    if (v === undefined || typeof v.name !== 'string') return;
    if (names.has(v.name)) ctx.addIssue({ code: 'custom', path: ['views', i, 'name'], message: `view ${v.name} is configured twice; give each view its own name` });
    names.add(v.name);
    for (const [j, k] of (v.keys ?? []).entries()) {
      if (cfg.keys?.[k] === undefined) ctx.addIssue({ code: 'custom', path: ['views', i, 'keys', j], message: `key ${k} is not defined under keys:` });
    }
    const seen = new Set<string>();
    (v.zones ?? []).forEach((entry, j) => {
      const zc = typeof entry === 'string' ? top.get(safeDomain(entry) ?? entry) : entry;
      if (zc === undefined) {
        ctx.addIssue({ code: 'custom', path: ['views', i, 'zones', j], message: `${String(entry)} is not a zone under zones:; name a top-level zone or give { name, file }` });
        return;
      }
      const key = safeDomain(zc.name);
      if (key === undefined) return;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['views', i, 'zones', j], message: `zone ${key} is already in view ${v.name}` });
      seen.add(key);
      if (zc.primaries !== undefined || zc.allowUpdate !== undefined || zc.updatePolicy !== undefined || zc.catalogRole !== undefined || zc.dnssec !== undefined) {
        // The signer's state is per zone name: a signed zone is in one view only, whatever its file.
        const where = zc.dnssec !== undefined ? key : `${key} ${zc.file}`;
        const other = stateful.get(where);
        if (other !== undefined && other !== v.name) {
          ctx.addIssue({ code: 'custom', path: ['views', i, 'zones', j], message: `zone ${key} (${zc.file}) takes updates, transfers or signing and is also in view ${other}; give each view its own file` });
        }
        stateful.set(where, v.name);
      }
    });
  });
}

function safeDomain(text: string): string | undefined {
  try {
    return canonicalDomain(text);
  } catch {
    return undefined;
  }
}

export const configSchema = z.strictObject({
  listen: listenList.default(['127.0.0.1:5300', '[::1]:5300']),
  /** Worker processes; `auto` = one per core. */
  workers: z.union([z.literal('auto'), z.int().min(1).max(256)]).default('auto'),
  zones: z.array(zoneSchema).default([]),
  /** TSIG keys by name, for signed queries, transfers and `allowTransfer: ["key NAME"]`. */
  keys: z.record(z.string().min(1), tsigKeySchema).default({}),
  udp: z.strictObject({
    /** Largest UDP reply we send, whatever the client offers (RFC 6891; 1232 avoids fragmentation). */
    maxSize: z.int().min(512).max(65535).default(1232),
    /** recvmmsg/sendmmsg through the native addon (src/server/udp-batch.ts): an opt-in prototype; auto = when it was built. */
    batching: z.enum(['auto', 'on', 'off']).default('off'),
  }).prefault({}),
  tcp: z.strictObject({
    idleTimeoutMs: durationMs(100, 3_600_000).default(10_000),
    maxConnections: z.int().min(1).max(1_000_000).default(1000),
    maxConnectionsPerClient: z.int().min(1).max(100_000).default(20),
    /** Queries in flight on one connection before we stop reading from it. */
    maxPipelined: z.int().min(1).max(65535).default(100),
  }).prefault({}),
  /**
   * DNS over TLS and HTTPS (`listen: ["tls://ADDR:853", "https://ADDR:443/dns-query"]`): the
   * certificate chain and key (PEM files, re-read on reload), and the limits of those listeners.
   */
  tls: z.strictObject({
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    /** A connection with no query outstanding this long is closed (sent as the RFC 7828 keepalive). */
    idleTimeoutMs: durationMs(100, 3_600_000).default(30_000),
    /** A client must finish its TLS handshake within this. */
    handshakeTimeoutMs: durationMs(100, 120_000).default(5_000),
    maxConnections: z.int().min(1).max(1_000_000).default(10_000),
    maxConnectionsPerClient: z.int().min(1).max(100_000).default(100),
    /** Queries in flight on one DoT connection (or HTTP/2 streams on one DoH connection). */
    maxPipelined: z.int().min(1).max(65535).default(100),
  }).prefault({}),
  /** DNS over HTTPS details: the JSON API and which reverse proxies may say who the client is. */
  doh: z.strictObject({
    /** Answer `application/dns-json` (`?name=&type=`) as Google's and Cloudflare's resolvers do. */
    json: z.boolean().default(true),
    /** Addresses (or prefixes) whose X-Forwarded-For is believed (plain `http://` listeners behind a proxy). */
    trustedProxies: z.array(z.string().min(1)).default([]),
  }).prefault({}),
  /** DNS Cookies (RFC 7873, RFC 9018 server cookies as BIND and Knot make them). */
  cookies: z.strictObject({
    enabled: z.boolean().default(true),
    /** Answer UDP queries lacking a valid server cookie with BADCOOKIE (BIND's require-server-cookie). */
    require: z.boolean().default(false),
    /** 32 hex digits shared by every server of an anycast set; default: derived per instance and rotated. */
    secret: z.string().regex(/^[0-9a-fA-F]{32}$/).optional(),
    /** The secret before `secret`, still accepted while clients move over (RFC 9018 §4.3). */
    previousSecret: z.string().regex(/^[0-9a-fA-F]{32}$/).optional(),
    /** How long a derived secret is current (the previous one is still accepted). */
    rotation: durationS(3600, 30 * 86_400).default(86_400),
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
    /** `text` for people, `json` for machines; `auto` = text when stderr is a terminal, else JSON. */
    format: z.enum(['auto', 'text', 'json']).default('auto'),
    /** `stderr`, `syslog` (RFC 5424 datagrams to `syslogSocket`; journald reads /dev/log too) or a file path. */
    destination: z.string().min(1).default('stderr'),
    /** The syslog Unix datagram socket. */
    syslogSocket: z.string().min(1).default('/dev/log'),
  }).prefault({}),
  /** Where `serve` writes its PID so `sovereign reload` can signal it. */
  pidFile: z.string().optional(),
  /** Account to switch to once every socket is bound (start as root for port 53); as named -u. */
  user: z.string().min(1).optional(),
  /**
   * Full recursion from the root (iterative, RD=0 upstream). Cache sizes and TTL bounds are the
   * shared `cache` keys; who may recurse is `allowRecursion` unless `resolver.allow` is given.
   */
  resolver: z.preprocess(acceptBothSpellings, z.strictObject({
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
    negativeTrustAnchors: z.array(domainName).default([]),
    /** RFC 5011: a DNSKEY state file for the root's trust anchors, kept current by automated updates (Unbound's auto-trust-anchor-file). */
    autoTrustAnchorFile: z.string().min(1).optional(),
    /** RFC 8198: answer NXDOMAIN/NODATA from cached validated NSEC ranges (Unbound's aggressive-nsec). */
    aggressiveNsec: z.boolean().default(true),
    /** Queries per second one client prefix (/24, /56) may send to the resolver and forwarder; 0 = unlimited (Unbound's ip-ratelimit, by prefix). */
    clientQueryRate: z.int().min(0).max(1_000_000).default(0),
    /** What a client over clientQueryRate gets: nothing (drop, as Unbound) or REFUSED. */
    clientQueryRateAction: z.enum(['drop', 'refuse']).default('drop'),
    /** Recursions (cache misses being resolved) one client prefix may have in flight; 0 = unlimited. */
    maxClientRecursions: z.int().min(0).max(100_000).default(0),
    /** What a query over maxClientRecursions gets: SERVFAIL (as BIND's recursive-clients) or nothing. */
    clientRecursionAction: z.enum(['servfail', 'drop']).default('servfail'),
  })).prefault({}),
  /** Upstream resolvers for everything no zone, local data or route covers (queried RD=1). */
  forwarders: z.array(z.string().min(1)).default([]),
  /** Per-domain upstream resolvers: `corp.example: ["10.0.0.53", "10.0.0.54:5353"]` (RD=1). */
  forwardZones: z.record(domainName, z.array(z.string().min(1)).min(1)).default({}),
  /** Per-domain authoritative servers the iterator starts from (RD=0, referrals below followed; Unbound's stub-zone). */
  stubZones: z.record(domainName, z.array(z.string().min(1)).min(1)).default({}),
  forwarding: z.strictObject({
    /** Per-attempt timeout, ms. */
    timeoutMs: durationMs(50, 60_000).default(1500),
    /** Upstream attempts per question, across upstreams. */
    maxAttempts: z.int().min(1).max(16).default(3),
    /** Timeouts in a row before an upstream is skipped as dead. */
    maxFailures: z.int().min(1).max(100).default(3),
    /** How often dead upstreams are probed, ms. */
    probeIntervalMs: durationMs(100, 3_600_000).default(5000),
    /** PEM file of the CA(s) that DNS-over-TLS upstreams (`tls://...`) must chain to; default the system store. */
    tlsCaFile: z.string().min(1).optional(),
    /** Validate forwarded answers (DNSSEC) from resolver.trustAnchors or the built-in root anchors, as Unbound does. */
    dnssec: z.boolean().default(false),
  }).prefault({}),
  /** Clients that may have questions forwarded or resolved for them (address or address/prefix; `!` denies). */
  allowRecursion: z.array(z.string().min(1)).default([
    '127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10',
    'fc00::/7', 'fe80::/10',
  ]),
  /** The shared resolver/forwarder cache. */
  cache: z.strictObject({
    maxEntries: z.int().min(1).max(100_000_000).default(100_000),
    /** Estimated bytes the cache may hold (LRU beyond it): bounds what upstreams can make us keep. */
    maxBytes: z.int().min(65_536).max(1024 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
    minTtl: durationS(0, 86_400).default(0),
    maxTtl: durationS(1, 604_800).default(86_400),
    maxNegativeTtl: durationS(0, 86_400).default(3600),
    /** Serve expired data this long when upstreams fail (RFC 8767), seconds; 0 = off. */
    staleTtl: durationS(0, 604_800).default(0),
  }).prefault({}),
  /** The hosts file (hosts(5) format): A/AAAA for its names, PTR for its addresses. */
  hosts: z.strictObject({
    enabled: z.boolean().default(false),
    path: z.string().min(1).default('/etc/hosts'),
    /** TTL of answers from it, seconds (dnsmasq's local-ttl). */
    ttl: durationS(0, 604_800).default(0),
    /** Reload when the file changes. */
    watch: z.boolean().default(true),
    /** Fallback stat check interval, ms (0 = only fs.watch). */
    pollMs: durationMs(0, 3_600_000).default(5000),
  }).prefault({}),
  /** Records served locally, in zone-file syntax: `["router.lan. 300 IN A 192.168.1.1"]`. */
  localData: z.array(z.string()).default([]),
  /** The local control endpoint used by `sovereign cache|stats|reload`. */
  control: z.strictObject({
    enabled: z.boolean().default(true),
    /** HTTP listen address; loopback only unless `allowRemote` (the token is sent in clear over HTTP). */
    listen: z.string().min(1).default('127.0.0.1:8053'),
    /** Let `listen` be a non-loopback address. */
    allowRemote: z.boolean().default(false),
    /** Require the token for `/metrics` too (`false`: scrapers need none, as exporters usually do). */
    metricsAuth: z.boolean().default(true),
    /** A Unix socket path instead of HTTP over TCP (mode 0600). */
    socket: z.string().min(1).optional(),
    /** File holding the bearer token; created at first start when absent (mode 0600). */
    tokenFile: z.string().min(1).optional(),
  }).prefault({}),
  /** LLMNR responder (RFC 4795) for this host's single-label names; off by default (src/llmnr). */
  llmnr: nameServiceSchema,
  /** NetBIOS name service responder (RFC 1001/1002, UDP 137, IPv4 only); legacy, off by default (src/netbios). */
  netbios: nameServiceSchema,
  /**
   * Response rate limiting of UDP answers from our zones and of error replies (BIND 9.18's
   * `rate-limit`, src/policy/rrl.ts); off while every rate is 0. TCP is never limited.
   */
  rateLimit: z.strictObject({
    responsesPerSecond: z.int().min(0).max(1000).default(0),
    /** These four default to responsesPerSecond, as in BIND. */
    referralsPerSecond: z.int().min(0).max(1000).optional(),
    nodataPerSecond: z.int().min(0).max(1000).optional(),
    nxdomainsPerSecond: z.int().min(0).max(1000).optional(),
    errorsPerSecond: z.int().min(0).max(1000).optional(),
    allPerSecond: z.int().min(0).max(1000).default(0),
    window: durationS(1, 3600).default(15),
    slip: z.int().min(0).max(10).default(2),
    ipv4PrefixLength: z.int().min(0).max(32).default(24),
    ipv6PrefixLength: z.int().min(0).max(128).default(56),
    exempt: z.array(z.string().min(1)).default([]).superRefine((v, ctx) => {
      try {
        new Acl(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
    logOnly: z.boolean().default(false),
    qpsScale: z.int().min(0).max(1_000_000).default(0),
    maxTableSize: z.int().min(1).max(10_000_000).default(20_000),
    minTableSize: z.int().min(1).max(10_000_000).default(500),
  }).prefault({}).superRefine((v, ctx) => {
    if (v.minTableSize > v.maxTableSize) {
      ctx.addIssue({ code: 'custom', path: ['minTableSize'], message: `minTableSize (${v.minTableSize}) is above maxTableSize (${v.maxTableSize})` });
    }
  }),
  /** Split horizon: answers chosen by who asks, first matching view wins, no match REFUSED (src/policy/views.ts). */
  views: z.array(viewSchema).min(1).optional(),
  /** DNS64 (RFC 6147) for the resolver and forwarder; per view with views. */
  dns64: dns64Schema.optional(),
  /** Load balancing (src/balance): weighted A/AAAA sets, answers by client subnet (ECS) or GeoIP region, health-checked failover. */
  balance: balanceSchema,
  /** Response policy zones (BIND's response-policy): src/policy/rpz.ts. */
  rpz: rpzSchema,
  /** Pi-hole/AdGuard-style blocklists: src/policy/blocklist.ts. */
  blocklists: blocklistsSchema,
  /** Per-query log (BIND's querylog, Unbound's log-queries + log-replies) and dnstap output; off by default (src/querylog). */
  queryLog: z.strictObject({
    enabled: z.boolean().default(false),
    /** JSON lines appended to this file (rotated by size). */
    file: z.string().min(1).optional(),
    /** JSON lines to standard output as well. */
    stdout: z.boolean().default(false),
    /** Rotate `file` once it passes this many bytes (0: never). */
    maxFileBytes: z.int().min(0).default(100 * 1024 * 1024),
    /** Rotated files kept: file.1 ... file.N (BIND's `versions`). */
    maxFiles: z.int().min(1).max(1000).default(5),
    /** Entries kept in memory for `GET /v1/querylog` and `sovereign querylog` (0: none). */
    ring: z.int().min(0).max(10_000_000).default(10_000),
    /** Log one query in N (1: all). */
    sample: z.int().min(1).max(1_000_000).default(1),
    /** dnstap (Frame Streams) output to a collector's Unix socket or to a file. */
    dnstap: z.strictObject({
      socket: z.string().min(1).optional(),
      file: z.string().min(1).optional(),
      identity: z.string().optional(),
      version: z.string().optional(),
      messages: z.array(z.enum(['client-query', 'client-response', 'auth-query', 'auth-response', 'resolver-query', 'resolver-response', 'forwarder-query', 'forwarder-response']))
        .min(1).default(['client-query', 'client-response', 'auth-query', 'auth-response', 'resolver-query', 'resolver-response', 'forwarder-query', 'forwarder-response']),
      /** Frames waiting for a slow collector before new ones are dropped (and counted). */
      queueFrames: z.int().min(16).max(1_000_000).default(10_000),
    }).refine((d) => (d.socket === undefined) !== (d.file === undefined), { message: 'give exactly one of socket and file' }).optional(),
  }).prefault({}),
}).superRefine(crossChecks).superRefine(viewChecks);

/** `qnameMinimization` (US spelling) is accepted for `qnameMinimisation`; both at once must agree. */
function acceptBothSpellings(v: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof v !== 'object' || v === null || !('qnameMinimization' in v)) return v;
  const { qnameMinimization, ...rest } = v as Record<string, unknown>;
  if ('qnameMinimisation' in rest && rest.qnameMinimisation !== qnameMinimization) {
    ctx.addIssue({ code: 'custom', message: 'qnameMinimisation and qnameMinimization are one setting given twice with different values', path: ['qnameMinimization'] });
  }
  return { qnameMinimisation: qnameMinimization, ...rest };
}

/** A zone's dynamic update keys: one of allowUpdate and updatePolicy, each rule parsing (BIND refuses both as well). */
function updateChecks(z: { allowUpdate?: string[]; updatePolicy?: string[] }, origin: string, i: number, ctx: z.RefinementCtx): void {
  if ((z.allowUpdate?.length ?? 0) > 0 && (z.updatePolicy?.length ?? 0) > 0) {
    ctx.addIssue({ code: 'custom', path: ['zones', i, 'updatePolicy'], message: 'allowUpdate and updatePolicy are exclusive; keep one of them' });
  }
  (z.updatePolicy ?? []).forEach((rule, j) => {
    try {
      parseRule(rule, origin);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['zones', i, 'updatePolicy', j], message: (err as Error).message });
    }
  });
  (z.allowUpdate ?? []).forEach((entry, j) => {
    try {
      new TransferAcl([entry]);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['zones', i, 'allowUpdate', j], message: (err as Error).message });
    }
  });
}

/** Checks between keys, once each key is valid on its own. */
function crossChecks(cfg: {
  zones: { name: string }[]; cache: { minTtl: number; maxTtl: number };
  forwardZones: Record<string, string[]>; stubZones: Record<string, string[]>;
  control: { listen: string; allowRemote: boolean; socket?: string | undefined };
}, ctx: z.RefinementCtx): void {
  if (typeof cfg.cache?.minTtl === 'number' && typeof cfg.cache.maxTtl === 'number' && cfg.cache.minTtl > cfg.cache.maxTtl) {
    ctx.addIssue({ code: 'custom', path: ['cache', 'minTtl'], message: `minTtl (${cfg.cache.minTtl}s) is above maxTtl (${cfg.cache.maxTtl}s)` });
  }
  // BIND refuses a zone given twice; `example.test` and `example.test.` are one zone.
  // zod runs this even when a key failed on its own: skip what is already reported.
  const domain = (text: string): string | undefined => {
    try {
      return canonicalDomain(text);
    } catch {
      return undefined;
    }
  };
  const seen = new Map<string, number>();
  if (Array.isArray(cfg.zones)) cfg.zones.forEach((z, i) => {
    const key = typeof z?.name === 'string' ? domain(z.name) : undefined;
    if (key === undefined) return;
    const first = seen.get(key);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['zones', i, 'name'], message: `zone ${key} is already configured at zones[${first}]` });
    else seen.set(key, i);
    updateChecks(z as { allowUpdate?: string[]; updatePolicy?: string[] }, key, i, ctx);
  });
  // Unbound refuses a name that is both a stub and a forward zone: which one wins would be a guess.
  const stubs = new Map(Object.keys(cfg.stubZones ?? {}).map((k) => [domain(k), k]));
  for (const k of Object.keys(cfg.forwardZones ?? {})) {
    const stub = domain(k) === undefined ? undefined : stubs.get(domain(k));
    if (stub !== undefined) ctx.addIssue({ code: 'custom', path: ['forwardZones', k], message: `${k} is also a stub zone (stubZones.${stub}); keep one of them` });
  }
  if (cfg.control?.socket === undefined && typeof cfg.control?.listen === 'string') {
    let address: string | undefined;
    try {
      address = parseListen(cfg.control.listen).address;
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['control', 'listen'], message: err instanceof ConfigError ? err.problem : String(err) });
    }
    if (address !== undefined && !isLoopback(address) && !cfg.control.allowRemote) {
      ctx.addIssue({
        code: 'custom', path: ['control', 'listen'],
        message: `${cfg.control.listen} is reachable from other hosts; the control endpoint stays on loopback unless control.allowRemote is true`,
      });
    }
  }
}

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ZoneConfig = z.output<typeof zoneSchema>;

/** How to fix each key, for error messages (first matching prefix wins). */
export const configHints: Record<string, string> = {
  listen: 'an "address:port" string or a list of them, e.g. ["127.0.0.1:5300", "[::1]:5300"], "localhost:5300" or a port',
  workers: '"auto" or a whole number of worker processes (1 to 256)',
  'udp.batching': 'auto (batched UDP through the native addon when npm install built it, else node:dgram), on (refuse to start without it) or off',
  zones: 'a list of { name: example.com, file: path/to/example.com.zone }, each zone once (optional checks: { names: fail|warn|ignore, glue: error|warn })',
  'zones.name': 'a domain name with labels of 1 to 63 octets, e.g. example.com',
  'zones.primaries': 'a list of "ADDRESS[:PORT] [key NAME]" entries, e.g. ["192.0.2.1", "[2001:db8::1]:5300 key xfr"]',
  'zones.allowNotify': 'a list of "key NAME" entries and addresses or address/prefix entries, e.g. ["192.0.2.0/24"]',
  'zones.catalogRole': 'generate (a catalog zone of the zones naming it in catalogZone) or consume (a secondary catalog zone, with primaries)',
  'zones.type': 'primary (from its file) or secondary (transferred from primaries: [...])',
  keys: 'a map of key name -> { algorithm: hmac-sha256, secret: BASE64 } (make one with `sovereign tsig-keygen NAME`)',
  'zones.dnssec': '{ policy: default } (or insecure: go unsigned through CDS delete records) or with algorithm (13), keys (csk|split), nsec3 (true|false), optOut, keyDir, signatureValidity and signatureRefresh (seconds, refresh < validity), kskLifetime/zskLifetime/cskLifetime (0 = never roll), dnskeyTtl, propagationDelay, publishSafety, retireSafety, parentDsTtl, parentPropagationDelay, parentalAgents (["192.0.2.53", "127.0.0.1:5301"])',
  'zones.allowUpdate': 'a list of "key NAME" entries and address prefixes, e.g. ["key upd", "127.0.0.1/32"] (not together with updatePolicy)',
  'zones.updatePolicy': 'a list of rules "grant|deny IDENTITY name|subdomain|wildcard|zonesub|self|selfsub|selfwild [NAME] [TYPE...]", e.g. "grant acme wildcard _acme-challenge.* TXT" (not together with allowUpdate)',
  'zones.serialUpdateMethod': 'increment, unixtime or date',
  'zones.journalFsync': 'true (each update fsynced before NOERROR, as BIND) or false (in the OS cache only)',
  'zones.syncInterval': 'a duration from 1s to 1d (e.g. 15m; a plain number is seconds)',
  tls: 'cert and key (PEM file paths) for tls:// and https:// listeners; idleTimeoutMs, handshakeTimeoutMs (durations), maxConnections, maxConnectionsPerClient, maxPipelined (whole numbers)',
  'tls.cert': 'the path of a PEM certificate chain (leaf first), e.g. /etc/sovereign/cert.pem',
  'tls.key': 'the path of the PEM private key of that certificate, e.g. /etc/sovereign/key.pem',
  doh: 'json (true/false), trustedProxies (a list of addresses or prefixes, e.g. ["127.0.0.1"])',
  cookies: 'enabled, require (true/false), secret and previousSecret (32 hex digits, the same on every server of an anycast set), rotation (a duration from 1h)',
  'udp.maxSize': 'a whole number of octets from 512 to 65535 (1232 is the usual choice)',
  'tcp.idleTimeoutMs': 'a duration from 100ms to 1h (e.g. 10s; a plain number is milliseconds)',
  'tcp.maxConnections': 'a whole number from 1',
  'tcp.maxConnectionsPerClient': 'a whole number from 1',
  'tcp.maxPipelined': 'a whole number from 1 to 65535',
  rotate: 'true or false',
  chaos: 'each of version, hostname, id: a string to answer with, or false to refuse',
  'log.level': 'one of trace, debug, info, warn, error, fatal, silent',
  'log.format': 'text, json or auto (text on a terminal, JSON otherwise)',
  'log.destination': 'stderr, syslog or a file path',
  'log.syslogSocket': 'the path of the syslog socket, usually /dev/log',
  pidFile: 'a file path',
  user: 'the name of an existing account to run as after binding, e.g. sovereign or nobody',
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
  'resolver.aggressiveNsec': 'true or false',
  'resolver.autoTrustAnchorFile': 'a path to a writable file of the root KSK DNSKEY record(s), e.g. /var/lib/sovereign/root.key',
  'resolver.allow': 'a list of addresses or address/prefix entries ("192.168.0.0/16", "::1", "!10.0.0.1", "any")',
  forwarders: 'a list of upstream resolvers, e.g. ["127.0.0.1:53", "[::1]:53", "192.0.2.1", "tls://192.0.2.1:853#dns.example"]',
  forwardZones: 'a map of domain -> list of upstream resolvers, e.g. { corp.example: ["10.0.0.53"] }',
  stubZones: 'a map of domain -> list of authoritative servers, e.g. { lab.example: ["10.0.0.2"] }',
  'forwarding.timeoutMs': 'a duration from 50ms to 60s (e.g. 1500ms; a plain number is milliseconds)',
  'forwarding.maxAttempts': 'a whole number from 1 to 16',
  'forwarding.maxFailures': 'a whole number from 1 to 100',
  'forwarding.probeIntervalMs': 'a duration from 100ms to 1h (e.g. 5s; a plain number is milliseconds)',
  'forwarding.tlsCaFile': 'a path to a PEM file of CA certificates',
  'forwarding.dnssec': 'true or false',
  allowRecursion: 'a list of addresses or address/prefix entries ("192.168.0.0/16", "::1", "!10.0.0.1", "any")',
  cache: 'maxEntries (a whole number from 1), maxBytes (bytes, from 65536), minTtl <= maxTtl, maxNegativeTtl, staleTtl (durations: 30s, 1h, 1d; a plain number is seconds)',
  hosts: 'enabled (true/false), path (a file), ttl (a duration; a plain number is seconds), watch (true/false), pollMs (a duration; a plain number is milliseconds)',
  localData: 'a list of records in zone-file syntax, e.g. ["router.lan. 300 IN A 192.168.1.1"]',
  control: 'enabled (true/false), listen ("127.0.0.1:8053"), socket (a path), tokenFile (a path), allowRemote (true/false), metricsAuth (true/false)',
  'control.listen': 'a loopback "address:port" such as "127.0.0.1:8053", or set control.allowRemote: true to listen elsewhere',
  'resolver.qnameMinimization': 'true or false (the same setting as qnameMinimisation)',
  llmnr: 'enabled (true/false), names (single-label host names, e.g. ["fileserver"]), interfaces (e.g. ["eth0"]), addresses (IP addresses)',
  netbios: 'enabled (true/false), names (NetBIOS names of up to 15 characters, e.g. ["FILESERVER"]), interfaces (e.g. ["eth0"]), addresses (IPv4 addresses)',
  'resolver.clientQueryRate': 'a whole number of queries per second per client /24 (IPv4) or /56 (IPv6), 0 to switch it off',
  'resolver.clientQueryRateAction': 'drop or refuse',
  'resolver.maxClientRecursions': 'a whole number of recursions in flight per client /24 or /56, 0 to switch it off',
  'resolver.clientRecursionAction': 'servfail or drop',
  'rateLimit.responsesPerSecond': 'a whole number from 0 (off) to 1000, as BIND\'s responses-per-second',
  'rateLimit.referralsPerSecond': 'a whole number from 0 to 1000 (default: responsesPerSecond)',
  'rateLimit.nodataPerSecond': 'a whole number from 0 to 1000 (default: responsesPerSecond)',
  'rateLimit.nxdomainsPerSecond': 'a whole number from 0 to 1000 (default: responsesPerSecond)',
  'rateLimit.errorsPerSecond': 'a whole number from 0 to 1000 (default: responsesPerSecond)',
  'rateLimit.allPerSecond': 'a whole number from 0 (off) to 1000',
  'rateLimit.window': 'a duration from 1s to 1h (e.g. 15s; a plain number is seconds)',
  'rateLimit.slip': 'a whole number from 0 (never send TC, only drop) to 10; 1 sends TC for every limited response, 2 (default) for every other',
  'rateLimit.ipv4PrefixLength': 'a prefix length from 0 to 32 (24 by default)',
  'rateLimit.ipv6PrefixLength': 'a prefix length from 0 to 128 (56 by default)',
  'rateLimit.exempt': 'a list of addresses or address/prefix entries never limited, e.g. ["192.0.2.0/24", "2001:db8::/32"]',
  'rateLimit.logOnly': 'true (count what would be limited, limit nothing) or false',
  'rateLimit.qpsScale': 'a whole number of responses per second above which all rates are scaled down (0 = off)',
  'rateLimit.maxTableSize': 'a whole number of buckets from 1 (20000 by default), at least minTableSize',
  'rateLimit.minTableSize': 'a whole number of buckets from 1 (500 by default), at most maxTableSize',
  rateLimit: 'responsesPerSecond, referralsPerSecond, nodataPerSecond, nxdomainsPerSecond, errorsPerSecond, allPerSecond (0-1000), window (1s-1h), slip (0-10), ipv4PrefixLength, ipv6PrefixLength, exempt (a list of prefixes), logOnly, qpsScale, maxTableSize, minTableSize',
  views: 'a list of { name, clients: ["10.0.0.0/8", "!10.0.0.1"], destinations: [...], keys: [KEY], zones: [{ name, file } or "top-level zone name"], localData: [...], recursion: true|false, dns64: {...}|false }; first match wins, at most 31',
  'views.name': 'letters, digits, "_", "-", "." (1 to 64), each view once',
  'views.clients': 'a list of addresses or address/prefix entries ("192.168.0.0/16", "!10.0.0.1", "any", "none")',
  'views.destinations': 'a list of our listen addresses or prefixes ("192.0.2.53", "any")',
  'views.keys': 'a list of key names defined under keys:',
  'views.zones': 'a list of zone blocks { name: example.com, file: internal/example.com.zone } or names of top-level zones to share',
  'views.localData': 'a list of records in zone-file syntax, e.g. ["router.lan. 300 IN A 192.168.1.1"]',
  'views.recursion': 'true (the resolver and forwarders answer this view) or false',
  dns64: '{ prefix: 64:ff9b::/96 (or a /32, /40, /48, /56, /64 prefix as RFC 6052 §2.2), clients: [address prefixes], exclude: [AAAA ranges, default ::ffff:0:0/96] }',
  'dns64.prefix': 'an IPv6 prefix of length 32, 40, 48, 56, 64 or 96 (RFC 6052 §2.2) with bits 64-71 zero, e.g. 64:ff9b::/96',
  'views.dns64.prefix': 'an IPv6 prefix of length 32, 40, 48, 56, 64 or 96 (RFC 6052 §2.2) with bits 64-71 zero, e.g. 64:ff9b::/96',
  'views.dns64': '{ prefix: 64:ff9b::/96, clients: [...], exclude: [...] } or false',
  ...balanceHints,
  ...policyConfigHints,
  queryLog: 'enabled (true/false), file (a path), stdout (true/false), maxFileBytes (bytes), maxFiles (1-1000), ring (entries kept in memory), sample (log 1 query in N), dnstap ({ socket: PATH } or { file: PATH })',
  'queryLog.maxFileBytes': 'a whole number of bytes, e.g. 104857600 (0: never rotate)',
  'queryLog.ring': 'a whole number of entries from 0 to 10000000, e.g. 10000',
  'queryLog.sample': 'a whole number from 1: log one query in that many',
  'queryLog.dnstap': '{ socket: /run/dnstap.sock } or { file: /var/log/sovereign.dnstap } (one of them), identity, version (strings), messages (client-query, client-response, auth-query, auth-response, resolver-query, resolver-response, forwarder-query, forwarder-response)',
  'queryLog.dnstap.messages': 'a list of client-query, client-response, auth-query, auth-response, resolver-query, resolver-response, forwarder-query, forwarder-response',
};
