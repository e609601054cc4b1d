/**
 * A running DNS server, the composition root: zones (src/server/zones.ts), the chain composed
 * from config, and UDP+TCP listeners on every configured address, all sharing one QueryEngine.
 *
 * Reload is atomic per zone: each zone is loaded and checked aside; one that fails keeps its old
 * version serving (the reason is logged); then a new catalog and chain replace the old ones in
 * one assignment. Queries already running finish with what they started with.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { exchange } from '../client/exchange.js';
import { loadConfigFile, parseListen, restartOnlyChanges } from '../config/load.js';
import type { Config, Dns64Config, ZoneConfig } from '../config/schema.js';
import type { DynamicZones } from '../update/dynamic.js';
import { chaos } from '../handlers/chaos/index.js';
import { authority } from '../handlers/authority/index.js';
import { forwarder } from '../handlers/forwarder/index.js';
import { hosts } from '../handlers/hosts/index.js';
import { localData } from '../handlers/local-data/index.js';
import { resolverHandler } from '../handlers/resolver/index.js';
import { Resolver } from '../resolver/iterator.js';
import { ResolverValidation } from '../resolver/validate.js';
import { NegativeTrustAnchors, TrustAnchorSet } from '../dnssec/validator/trust-anchors.js';
import { AutoTrustAnchor } from '../dnssec/validator/rfc5011.js';
import { type RootHints, builtinRootHints, loadRootHints } from '../resolver/root-hints.js';
import { Acl } from '../resolver/acl.js';
import { RRCache } from '../resolver/cache.js';
import { type ForwardRoute, Forwarder, UpstreamSet, parseUpstream } from '../resolver/forwarder.js';
import { RESOLVER_UPSTREAM_MSG, type UpstreamEvent } from '../resolver/server-choice.js';
import { ForwarderValidation, newForwarderValidationStats } from '../resolver/forward-validate.js';
import { HostsFile } from '../resolver/hosts.js';
import { type LocalData, parseLocalData } from '../resolver/local-data.js';
import { isLeadProcess, type Logger } from '../logging.js';
import { Name } from '../wire/name.js';
import { RRClass, RRType } from '../wire/types.js';
import { EdeCode, Rcode } from '../wire/constants.js';
import { option } from '../wire/edns.js';
import type { Zone } from '../zone/zone.js';
import { type ChainElement, type Handler, composeChain } from './chain.js';
import { QueryEngine } from './engine.js';
import { QueryLog } from '../querylog/query-log.js';
import { queryLogOptions } from '../querylog/options.js';
import { tapExchange } from '../querylog/tap-exchange.js';
import { replyTo } from './query-context.js';
import { ServerStats } from './stats.js';
import { TcpListener } from './tcp.js';
import { UdpListener } from './udp.js';
import { EncryptedListeners, isEncryptedListen } from './encrypted.js';
import { ServerCookies } from './cookies.js';
import { clusterSecret } from './cluster-secret.js';
import type { TransferManager } from '../transfer/manager.js';
import type { SecondaryZones } from '../transfer/secondaries.js';
import { isTransferLead } from './cluster.js';
import { ZoneSet, type ZoneLoadReport, type ZoneSetHost, type ZoneStatus, zoneName } from './zones.js';
import { ServerViews } from './views.js';
import { Dns64, newDns64Stats } from '../policy/dns64.js';

export type { ZoneLoadReport, ZoneStatus } from './zones.js';
import { secondary } from '../handlers/secondary/index.js';
import { ZoneSigning } from './zone-signing.js';
import { ResponseRateLimiter } from '../policy/rrl.js';
import { ClientLimits } from '../policy/client-limits.js';

import { Balancer, type BalancerOptions } from '../balance/balancer.js';
import { GeoIp } from '../balance/geoip.js';
import { balance } from '../handlers/balance/index.js';
import { responsePolicy } from '../policy/rpz.js';
import { blocklistHandler } from '../handlers/policy/index.js';
import { PolicyStats } from '../policy/stats.js';
import type { Blocklists } from '../policy/blocklist-fetch.js';
import { buildBlocklists, cacheNameservers, rpzFeedZones, rpzZones } from '../policy/setup.js';
import type { RpzZoneEntry } from '../policy/rpz.js';
import type { QueryContext } from './query-context.js';

const NOT_AUTHORITATIVE = option.extendedError(EdeCode.NOT_AUTHORITATIVE);


export interface ServerOptions {
  config: Config;
  logger: Logger;
  /** Path the config came from (re-read on reload), if any. */
  configPath?: string;
  /** Share listening sockets with other processes (cluster workers). */
  shared?: boolean;
  /**
   * A library user's own chain elements, run before the built-in ones (chaos, authority, local data,
   * hosts, forwarder, resolver): each answers or calls `next`.
   */
  handlers?: readonly ChainElement[];
  /** Clock for DNSSEC signing, seconds since the epoch (tests move it). */
  now?: () => number;
  /** Clock of response rate limiting, whole seconds (tests fix it); default the wall clock. */
  rrlNowS?: () => number;
  /** Load balancer's random source and health-check clock/probe (tests; src/balance). */
  balance?: Omit<BalancerOptions, 'logger' | 'geoip'>;
}

/** How often a worker that does not probe looks at the RFC 5011 state file for the lead's changes, ms. */
const AUTO_TRUST_POLL_MS = 5000;

export class DnsServer {
  readonly stats = new ServerStats();
  /** The resolver/forwarder cache: one per process, kept across reloads. */
  readonly cache: RRCache;
  /** Forwarding routes (forwarders, forwardZones); undefined when none are configured. */
  forwarder: Forwarder | undefined;
  /** DNSSEC validation of forwarded answers (`forwarding.dnssec`). */
  forwarderValidation: ForwarderValidation | undefined = undefined;
  /** The validating forwarder's counters, kept across reloads that rebuild it. */
  private readonly forwarderValidationStats = newForwarderValidationStats();
  /** The hosts file, when enabled. */
  hosts: HostsFile | undefined;
  /** `localData` records, when any are configured. */
  localData: LocalData | undefined;
  /** Load-balanced record sets (`balance:`), when any are configured. */
  balancer: Balancer | undefined = undefined;
  /** The iterator, sharing `cache`: full recursion from the root (`resolver.enabled`) and/or stub zones. */
  resolver: Resolver | undefined;
  private resolverFor: Config | undefined;
  /** The config the forwarder/hosts/local data above were built from. */
  private partsFor: Config | undefined;
  private config: Config;
  private readonly logger: Logger;
  private readonly opts: ServerOptions;
  /** Signers of the zones configured with `dnssec:` (kept across reloads: incremental re-signing). */
  readonly signing: ZoneSigning;
  private readonly engine: QueryEngine;
  private readonly udp: UdpListener[] = [];
  /** Per UDP listener: whether batched UDP (recvmmsg/sendmmsg, udp-batch.ts) serves it. */
  get udpBatched(): boolean[] {
    return this.udp.map((u) => u.batched);
  }
  private readonly tcp: TcpListener[] = [];
  /** RPZ rewrites and blocklist blocks, by zone/list and client (src/policy). */
  readonly policyStats = new PolicyStats();
  /** The blocklists (`blocklists:`), when configured. */
  blocklists: Blocklists | undefined = undefined;
  /** Policy zones in order (`rpz:`), rebuilt when the config changes. */
  private rpz: RpzZoneEntry[] = [];
  private rpzFiles = new Map<string, Zone>();
  private policyFor: Config | undefined;
  /** The first load of the blocklists (URLs fetched): loadZones and reload wait for it. */
  private policyReady: Promise<void> = Promise.resolve();
  /** The listen and TCP settings the sockets were opened with (a reload cannot change them). */
  private listeningWith: { listen: readonly string[]; tcp: Config['tcp'] } | undefined;
  /** Bound addresses (ports resolved when 0 was asked). */
  readonly addresses: { transport: 'udp' | 'tcp' | 'tls' | 'https' | 'http'; address: string; port: number }[] = [];
  /** DoT and DoH listeners (`tls://`, `https://`, `http://` entries of listen). */
  private readonly encrypted: EncryptedListeners;
  /** Views are configured (stats show their counters). */
  get hasViews(): boolean {
    return this.views !== undefined;
  }

  /** DNS64 is configured, top-level or in a view (stats show its counters). */
  get hasDns64(): boolean {
    return this.config.dns64 !== undefined || (this.config.views ?? []).some((v) => v.dns64 !== undefined && v.dns64 !== false);
  }

  /** What DNS64 synthesised (stats, /metrics), kept across reloads. */
  readonly dns64Stats = newDns64Stats();
  /** Listening (start ran): zone sets of views added by a reload start their timers at once. */
  private started = false;

  constructor(opts: ServerOptions) {
    this.opts = opts;
    this.config = opts.config;
    this.logger = opts.logger;
    this.cache = new RRCache({ ...this.config.cache, prefetch: this.config.resolver.prefetch });
    this.signing = new ZoneSigning(opts.logger, opts.now);
    this.signing.pollsParents = isTransferLead(); // in a cluster the lead alone asks the parental agents
    this.mainConfig = this.config;
    this.main = new ZoneSet({
      ...this.zoneHost(() => this.mainConfig, () => {
        if (this.views === undefined) this.engine.transfers = this.main.transferHook;
        this.engine.keys = this.main.transfers.keys;
      }),
      // RPZ feeds (`rpz:` zones with primaries) are transferred like secondary zones.
      extraZones: () => rpzFeedZones(this.config),
    });
    this.engine = new QueryEngine(this.buildChain(), {
      maxUdpSize: this.config.udp.maxSize, logger: this.logger, stats: this.stats,
    });
    this.engine.updates = (ctx) => this.views === undefined ? this.main.update(ctx) : this.views.update(ctx);
    this.applyCookies();
    this.applyRateLimit();
    this.applyQueryLog();
    this.encrypted = new EncryptedListeners(this.engine, this.stats, this.logger);
    this.applyViews();
    this.main.refreshTransfers(undefined);
  }

  /** What a zone set (the server's, or a view's) needs from the server. */
  private zoneHost(config: () => Config, transfersChanged: () => void): ZoneSetHost {
    return {
      logger: this.logger, stats: this.stats, signing: this.signing, config, transfersChanged,
      changed: () => this.engine.setHandler(this.buildChain()),
      invalidateAnswers: () => this.engine.invalidateAnswers(),
      maxUdpSize: () => this.config.udp.maxSize, ownAddresses: () => this.addresses.map((a) => a.address),
      shared: this.opts.shared === true, now: this.opts.now,
    };
  }

  /** The views (`views:`), undefined without: then `main` serves the zones. */
  private views: ServerViews | undefined = undefined;
  /** The config `main` serves: the config itself, or with views no zones (the top-level ones serve through views). */
  private mainConfig: Config;

  /**
   * Follows `views:` (start, reload): the view table goes to the engine, the AXFR/IXFR and UPDATE
   * hooks dispatch by view. Returns the zone sets made now and those of views no longer configured.
   */
  private applyViews(): { fresh: Set<ZoneSet>; removed: ZoneSet[] } {
    const cfg = this.config;
    this.mainConfig = cfg.views === undefined ? cfg : { ...cfg, zones: [] };
    if (cfg.views === undefined) {
      const removed = this.views?.all() ?? [];
      this.views = undefined;
      this.engine.views = undefined;
      this.engine.transfers = this.main.transferHook;
      return { fresh: new Set(), removed };
    }
    this.views ??= new ServerViews((config) => new ZoneSet(this.zoneHost(config, () => undefined)));
    const r = this.views.apply(cfg);
    this.engine.views = this.views.table;
    this.engine.transfers = this.views.transfers;
    return r;
  }

  /** Every zone set: the server's and each view's. */
  private zoneSets(): ZoneSet[] {
    return this.views === undefined ? [this.main] : [this.main, ...this.views.all()];
  }

  /**
   * Loads (`fresh`) or reloads every zone set; a static zone file named by several views is
   * loaded once per pass and shared (the same Zone object).
   */
  private loadSets(fresh: ReadonlySet<ZoneSet> | undefined): ZoneLoadReport[] {
    const files = new Map<string, Zone>();
    const sets = this.zoneSets();
    for (const set of sets) set.loadedFiles = files;
    const reports: ZoneLoadReport[] = [];
    try {
      for (const set of sets) {
        const r = fresh === undefined || fresh.has(set) ? set.load() : set.reload();
        const view = this.views?.list.find((v) => v.zones === set)?.name;
        for (const x of r) reports.push(view === undefined ? x : { ...x, view });
      }
    } finally {
      for (const set of sets) set.loadedFiles = undefined;
    }
    return reports;
  }

  /** The rateLimit settings the engine's limiter was built from (a reload with the same ones keeps its buckets). */
  private rateLimitFor = '';

  /** Response rate limiting from config (start, reload): off while every rate is 0. */
  private applyRateLimit(): void {
    const c = this.config.rateLimit;
    const text = JSON.stringify(c);
    if (text === this.rateLimitFor) return;
    this.rateLimitFor = text;
    const s = this.stats;
    const counters = { dropped: s.rrlDropped, slipped: s.rrlSlipped, wouldDrop: s.rrlWouldDrop, wouldSlip: s.rrlWouldSlip };
    const rrl = new ResponseRateLimiter({ ...c, counters, ...(this.opts.rrlNowS === undefined ? {} : { nowS: this.opts.rrlNowS }) });
    this.engine.rrl = rrl.active ? rrl : undefined;
  }

  private limits: ClientLimits | undefined;
  private limitsFor = '';

  /** The resolver's per-client limits (resolver.clientQueryRate, maxClientRecursions); kept while their settings stay. */
  private clientLimits(): ClientLimits | undefined {
    const r = this.config.resolver;
    const rl = this.config.rateLimit;
    const o = { queryRate: r.clientQueryRate, queryRateAction: r.clientQueryRateAction, maxRecursions: r.maxClientRecursions,
      recursionAction: r.clientRecursionAction, ipv4PrefixLength: rl.ipv4PrefixLength, ipv6PrefixLength: rl.ipv6PrefixLength };
    const text = JSON.stringify(o);
    if (text !== this.limitsFor) {
      this.limitsFor = text;
      const l = new ClientLimits({ ...o, stats: this.stats, ...(this.opts.rrlNowS === undefined ? {} : { nowS: this.opts.rrlNowS }) });
      this.limits = l.active ? l : undefined;
    }
    return this.limits;
  }

  /** The engine's response rate limiter, when one is configured (stats). */
  get rateLimiter(): ResponseRateLimiter | undefined {
    return this.engine.rrl;
  }

  /** Server cookies from config (start, reload): the engine writes and checks them. */
  private applyCookies(): void {
    const c = this.config.cookies;
    this.engine.requireCookies = c.require;
    this.engine.cookies = !c.enabled ? undefined : new ServerCookies({
      base: clusterSecret(), rotationS: c.rotation,
      secret: c.secret !== undefined ? Buffer.from(c.secret, 'hex') : undefined,
      previous: c.previousSecret !== undefined ? Buffer.from(c.previousSecret, 'hex') : undefined,
    });
  }

  /** The zones served (without views; with views, the first view's): see src/server/zones.ts. */
  private readonly main: ZoneSet;
  /** The per-query log and dnstap output (src/querylog), when `queryLog.enabled`. */
  queryLog: QueryLog | undefined;
  /** The queryLog settings the running log was made from (a reload rebuilds it only when they change). */
  private queryLogWith = '';

  /** The query log from config (start, reload): rebuilt when its settings changed, closed when switched off. */
  private applyQueryLog(): void {
    const q = this.config.queryLog;
    const key = JSON.stringify(q);
    if (key === this.queryLogWith) return;
    this.queryLogWith = key;
    this.queryLog?.close();
    this.queryLog = q.enabled ? new QueryLog(queryLogOptions(q, this.logger)) : undefined;
    this.engine.queryLog = this.queryLog;
  }

  /** Zone transfers, their history and NOTIFY (src/transfer). */
  get transfers(): TransferManager {
    return this.main.transfers;
  }
  /** Secondary zones: refresh/retry/expire, NOTIFY in, UPDATE forwarding (src/transfer/secondaries.ts). */
  get secondaries(): SecondaryZones {
    return this.main.secondaries;
  }
  /** Zones that take dynamic updates, their journals and sync (src/update). */
  get dynamic(): DynamicZones {
    return this.main.dynamic;
  }

  /**
   * Loads every zone. A zone that fails (missing or unreadable file, syntax error, failed
   * checks) does not stop the others: it is reported (log, `stats`, `/metrics`) and answered
   * SERVFAIL until a reload loads it, as BIND and Knot do.
   */
  async loadZones(): Promise<ZoneLoadReport[]> {
    const reports = this.loadSets(undefined);
    await this.policyReady;
    return reports;
  }

  /**
   * Starts listening on every configured address (UDP and TCP). All or nothing: when one
   * address cannot be bound, what was bound is closed again and the ListenError (address,
   * cause, what to do) is thrown, so a server never runs on half its addresses.
   */
  async start(): Promise<void> {
    const shared = this.opts.shared === true;
    const cfg = this.config;
    try {
      for (const text of cfg.listen) {
        if (isEncryptedListen(text)) {
          this.addresses.push(...(await this.encrypted.start(text, cfg, shared)));
          continue;
        }
        const l = parseListen(text);
        const u = new UdpListener({ ...l, engine: this.engine, logger: this.logger, exclusive: !shared, batching: cfg.udp.batching });
        this.udp.push(u);
        const bound = await u.listen();
        this.addresses.push({ transport: 'udp', ...bound });
        // TCP on the same port UDP got (matters when port 0 asked for an ephemeral one).
        const t = new TcpListener({
          address: l.address, port: bound.port, engine: this.engine, logger: this.logger, stats: this.stats,
          idleTimeoutMs: cfg.tcp.idleTimeoutMs, maxConnections: cfg.tcp.maxConnections,
          maxConnectionsPerClient: cfg.tcp.maxConnectionsPerClient, maxPipelined: cfg.tcp.maxPipelined,
          exclusive: !shared,
        });
        this.tcp.push(t);
        this.addresses.push({ transport: 'tcp', ...(await t.listen()) });
      }
    } catch (err) {
      await this.stop();
      this.addresses.length = 0;
      throw err;
    }
    this.listeningWith = { listen: cfg.listen, tcp: cfg.tcp };
    this.logger.info({ addresses: this.addresses }, 'listening');
    this.signing.startRefresh((zone) => this.swapZone(zone));
    for (const set of this.zoneSets()) set.start();
    this.started = true;
    // RFC 8109: prime the root NS set at start (in the background; failures are logged).
    if (this.resolver?.recursion === true) void this.resolver.prime();
  }

  /**
   * Reloads the config file (if any) and every zone. Zones that fail keep their old version;
   * the reports say which.
   */
  async reload(): Promise<ZoneLoadReport[]> {
    // In a cluster the primary says "reloading"; each worker's zone lines go to debug but the first's.
    const lead = isLeadProcess();
    if (this.opts.shared !== true) this.logger.info({ config: this.opts.configPath ?? null }, 'reloading');
    if (this.opts.configPath !== undefined) {
      try {
        const running = this.config;
        this.config = loadConfigFile(this.opts.configPath);
        const later = restartOnlyChanges(running, this.config);
        if (later.length > 0 && lead) this.logger.warn({ keys: later }, 'reload: these settings take effect at the next restart');
      } catch (err) {
        this.logger.error({ err }, 'reload: config rejected, keeping the running one');
        throw err;
      }
    }
    this.applyRuntimeLimits();
    // Policy zone files and blocklists are re-read on every reload (BIND's rndc reload re-reads policy zones).
    this.policyFor = undefined;
    const { fresh, removed } = this.applyViews();
    for (const set of removed) set.stop();
    const reports = this.loadSets(fresh);
    if (this.started) for (const set of fresh) set.start();
    await this.policyReady;
    for (const r of reports) {
      const view = r.view === undefined ? {} : { view: r.view };
      if (r.ok) (lead ? this.logger.info : this.logger.debug).call(this.logger, { zone: r.name, ...view, serial: r.serial, records: r.records }, 'zone loaded');
      else this.logger.error({ zone: r.name, ...view, problems: r.problems }, 'zone rejected; the old version keeps serving');
    }
    return reports;
  }

  /**
   * What the control endpoint's reload does: `hosts` re-reads the hosts file only; `zones` and
   * `all` re-read the config file and zones (and `all` the hosts file too). Never throws: the
   * report says what was rejected.
   */
  async reloadParts(what: 'all' | 'zones' | 'hosts'): Promise<{
    zones: ZoneLoadReport[]; hosts: { path: string; names: number } | null; ok: boolean; error?: string;
  }> {
    let zones: ZoneLoadReport[] = [];
    let error: string | undefined;
    if (what !== 'hosts') {
      try {
        zones = await this.reload();
      } catch (err) {
        error = (err as Error).message;
      }
    }
    const h = what !== 'zones' && this.hosts !== undefined ? { path: this.hosts.path, names: this.hosts.reload() } : null;
    const ok = error === undefined && zones.every((z) => z.ok);
    return error === undefined ? { zones, hosts: h, ok } : { zones, hosts: h, ok, error };
  }

  /**
   * After a config reload: `udp.maxSize` and the TCP limits apply at once (to the connections
   * accepted from now on; open ones keep theirs); a changed `listen` needs a restart, said once
   * in the log rather than silently ignored.
   */
  private applyRuntimeLimits(): void {
    const cfg = this.config;
    this.engine.setMaxUdpSize(cfg.udp.maxSize);
    for (const t of this.tcp) t.setLimits(cfg.tcp);
    this.encrypted.reload(cfg);
    this.applyCookies();
    this.applyRateLimit();
    this.applyQueryLog();
    const w = this.listeningWith;
    if (w !== undefined && (w.listen.length !== cfg.listen.length || w.listen.some((l, i) => l !== cfg.listen[i]))) {
      this.logger.warn({ listening: w.listen, configured: cfg.listen },
        'reload: listen changed; the server keeps its current addresses until it is restarted');
    }
  }

  /** The zone `name` as master-file text (what a replacement worker asks its siblings for), or null. */
  zoneText(name: string): string | null {
    return this.main.zoneText(name);
  }

  /**
   * Serves `text` (a sibling's copy) for a configured zone that failed to load here; true when
   * it loaded. The zone's status keeps the local failure in its count.
   */
  adoptZoneText(name: string, text: string): boolean {
    return this.main.adoptZoneText(name, text);
  }

  /** How each configured zone stands: loaded (with its serial) or not, and how often loading failed. */
  zoneStatus(): ZoneStatus[] {
    return this.zoneSets().flatMap((s) => s.zoneStatus());
  }

  /** (Re)builds forwarder, hosts file and local data when the config changed (start, reload). */
  private refreshResolverParts(): void {
    const cfg = this.config;
    if (this.partsFor === cfg) return;
    this.partsFor = cfg;
    const previous = this.forwarder;
    previous?.close();
    this.forwarder = undefined;
    this.forwarderValidation = undefined;
    const routes: ForwardRoute[] = [];
    const tlsCa = cfg.forwarding.tlsCaFile !== undefined ? readFileSync(cfg.forwarding.tlsCaFile, 'utf8') : undefined;
    const route = (zoneText: string, list: readonly string[]): void => {
      const zone = zoneName(zoneText);
      routes.push({
        zone, kind: 'forward', upstreams: new UpstreamSet(list.map((u) => parseUpstream(u)), {
          maxFailures: cfg.forwarding.maxFailures, probeIntervalMs: cfg.forwarding.probeIntervalMs,
          probeName: zone, probeRd: true, exchange: (q, srv, o) => exchange(q, srv, o), logger: this.logger, tlsCa,
        }),
      });
    };
    if (cfg.forwarders.length > 0) route('.', cfg.forwarders);
    for (const [zone, list] of Object.entries(cfg.forwardZones)) route(zone, list);
    if (routes.length > 0) {
      this.forwarder = new Forwarder(routes, {
        cache: this.cache, timeoutMs: cfg.forwarding.timeoutMs, maxAttempts: cfg.forwarding.maxAttempts, logger: this.logger,
        serveStale: cfg.resolver.serveStale, tlsCa, passZones: Object.keys(cfg.stubZones).map(zoneName),
        // dnstap FORWARDER_QUERY/RESPONSE (src/querylog/tap-exchange.ts) when the query log has dnstap on.
        exchange: tapExchange(exchange, () => this.queryLog?.dnstap, true),
      });
      if (previous !== undefined) this.forwarder.adopt(previous);
      // forwarding.dnssec: validate forwarded answers from the resolver's trust anchors (as Unbound does).
      if (cfg.forwarding.dnssec) {
        const r = cfg.resolver;
        for (const n of r.negativeTrustAnchors) this.ntas.add(zoneName(n));
        this.forwarderValidation = new ForwarderValidation(this.forwarder, {
          anchors: r.trustAnchors !== undefined ? TrustAnchorSet.fromFiles(r.trustAnchors) : TrustAnchorSet.builtin(),
          ntas: this.ntas, cache: this.cache, logger: this.logger, stats: this.forwarderValidationStats,
        });
      }
    }
    if (!cfg.hosts.enabled || this.hosts?.path !== cfg.hosts.path) {
      this.hosts?.close();
      this.hosts = undefined;
    }
    if (cfg.hosts.enabled && this.hosts === undefined) {
      this.hosts = new HostsFile(cfg.hosts.path, { logger: this.logger, watch: cfg.hosts.watch, pollMs: cfg.hosts.pollMs });
      // Forwarded and resolved answers the engine keeps passed the hosts element: a new table may now answer them.
      this.hosts.onReload(() => this.engine.invalidateAnswers());
    }
    const local = parseLocalData(cfg.localData);
    this.localData = local.size > 0 ? local : undefined;
    // Load balancing: a new balancer per config, keeping the health state of addresses checked before.
    const oldBalancer = this.balancer;
    this.balancer = undefined;
    if (cfg.balance.records.length > 0) {
      const geoip = cfg.balance.geoip !== undefined ? new GeoIp(cfg.balance.geoip.database) : undefined;
      this.balancer = new Balancer(cfg.balance, { ...this.opts.balance, logger: this.logger, geoip });
      this.balancer.adopt(oldBalancer);
      this.balancer.start();
    }
    oldBalancer?.stop();
  }

  /**
   * (Re)builds the iterator when the config changed: full recursion (`resolver.enabled`) and/or
   * stub zones (iterated from their servers). The cache, server RTTs and counters survive.
   */
  /** Negative trust anchors (config and `sovereign nta`), kept across reloads. */
  readonly ntas = new NegativeTrustAnchors();

  private refreshRecursion(): void {
    const cfg = this.config;
    if (this.resolverFor === cfg) return;
    this.resolverFor = cfg;
    const r = cfg.resolver;
    const stubZones = Object.entries(cfg.stubZones).map(([zone, list]) => ({ zone: zoneName(zone), servers: list.map((u) => parseUpstream(u)) }));
    if (!r.enabled && stubZones.length === 0) {
      this.resolver = undefined;
      return;
    }
    const hints = r.enabled && r.rootHints !== undefined ? loadRootHints(r.rootHints) : builtinRootHints();
    const previous = this.resolver;
    // DNSSEC validation (on by default with full recursion): anchors from files or the built-in root KSKs.
    let validation: ResolverValidation | undefined;
    if (r.enabled && r.dnssec) {
      const anchors = r.trustAnchors !== undefined ? TrustAnchorSet.fromFiles(r.trustAnchors) : TrustAnchorSet.builtin();
      for (const n of r.negativeTrustAnchors) this.ntas.add(zoneName(n));
      validation = new ResolverValidation({ anchors, ntas: this.ntas, logger: this.logger, aggressiveNsec: r.aggressiveNsec });
    }
    this.startAutoTrust(r.enabled && r.dnssec ? r.autoTrustAnchorFile : undefined, validation);
    this.resolver = new Resolver({
      validation,
      cache: this.cache, hints, logger: this.logger, qnameMinimisation: r.qnameMinimisation, use0x20: r.use0x20,
      serveStale: r.serveStale, maxQueries: r.maxQueriesPerRequest, port: r.port, stubZones, recursion: r.enabled,
      // dnstap RESOLVER_QUERY/RESPONSE (src/querylog/tap-exchange.ts) when the query log has dnstap on.
      exchange: tapExchange(exchange, () => this.queryLog?.dnstap, false),
      ...(previous !== undefined ? { selector: previous.selector } : {}),
      // The resolver's own trace at debug level: every upstream exchange (read by `sovereign lab trace`).
      ...(cfg.log.level === 'debug' || cfg.log.level === 'trace' ? { onUpstream: (e: UpstreamEvent) => this.logger.debug(e, RESOLVER_UPSTREAM_MSG) } : {}),
    });
    if (previous !== undefined) Object.assign(this.resolver.stats, previous.stats);
  }

  private autoTrustTimer: NodeJS.Timeout | undefined = undefined;
  /** Followers' watch on the RFC 5011 state file (stat polling: the lead replaces it by rename). */
  private autoTrustWatch: { file: string; fn: () => void } | undefined = undefined;

  /**
   * RFC 5011 (`resolver.autoTrustAnchorFile`): the root's trusted keys come from the state file
   * and follow the root's DNSKEY set, probed at start and every hour (RFC 5011 §2.3's lower bound).
   * With several workers only the lead (isTransferLead: worker 1 or its replacement, or the single
   * process) probes and rewrites the file, as one Unbound does; the others watch the file and
   * re-read it when it changes, so every worker trusts the same keys and the root is asked once.
   */
  private startAutoTrust(file: string | undefined, validation: ResolverValidation | undefined): void {
    if (this.autoTrustTimer !== undefined) clearInterval(this.autoTrustTimer);
    this.autoTrustTimer = undefined;
    this.stopAutoTrustWatch();
    if (file === undefined || validation === undefined) return;
    const auto = new AutoTrustAnchor({
      zone: Name.ROOT, stateFile: file,
      fetch: async (zone) => (await this.resolver!.resolve(zone, RRType.DNSKEY, RRClass.IN, { cd: true, refresh: true })).answer,
    });
    validation.validator.anchors.replace(Name.ROOT, auto.trusted());
    if (!isTransferLead()) {
      const fn = (): void => {
        try {
          if (!auto.reload()) return;
          this.logger.info({ file }, 'RFC 5011 trust anchor state re-read (the lead worker probes)');
          validation.validator.anchors.replace(Name.ROOT, auto.trusted());
          validation.reset();
        } catch (err) {
          // Mid-write or emptied by hand: keep the keys we trust and try again on the next change.
          this.logger.warn({ err }, 'RFC 5011 trust anchor state unreadable');
        }
      };
      watchFile(file, { interval: AUTO_TRUST_POLL_MS, persistent: false }, fn);
      this.autoTrustWatch = { file, fn };
      return;
    }
    const probe = (): void => {
      auto.probe().then((p) => {
        this.logger.debug({ accepted: p.accepted }, 'RFC 5011 trust anchor probed');
        if (p.changes.length === 0) return;
        this.logger.info({ changes: p.changes }, 'RFC 5011 trust anchor update');
        validation.validator.anchors.replace(Name.ROOT, auto.trusted());
        validation.reset();
      }, (err: unknown) => this.logger.warn({ err }, 'RFC 5011 trust anchor probe failed'));
    };
    setImmediate(probe);
    this.autoTrustTimer = setInterval(probe, 3_600_000);
    this.autoTrustTimer.unref();
  }

  private stopAutoTrustWatch(): void {
    if (this.autoTrustWatch !== undefined) unwatchFile(this.autoTrustWatch.file, this.autoTrustWatch.fn);
    this.autoTrustWatch = undefined;
  }

  /** Serves a re-signed zone in place of its current version (signature refresh). */
  swapZone(zone: Zone): void {
    for (const set of this.zoneSets()) set.swapZone(zone);
  }

  async stop(): Promise<void> {
    if (this.autoTrustTimer !== undefined) clearInterval(this.autoTrustTimer);
    this.stopAutoTrustWatch();
    for (const set of this.zoneSets()) set.stop();
    this.signing.stop();
    this.forwarder?.close();
    this.hosts?.close();
    this.balancer?.stop();
    this.blocklists?.stop();
    this.queryLog?.close();
    this.queryLog = undefined;
    this.engine.queryLog = undefined;
    await Promise.all([...this.udp.map((u) => u.close()), ...this.tcp.map((t) => t.close()), this.encrypted.close()]);
    this.udp.length = 0;
    this.tcp.length = 0;
  }

  /** The configuration in force (for the control endpoint's `GET /v1/config`, redacted there). */
  get currentConfig(): Config {
    return this.config;
  }

  /** Where recursion starts: the configured root hints file, else the built-in IANA set. */
  rootHints(): RootHints {
    const r = this.config.resolver;
    return r.rootHints !== undefined ? loadRootHints(r.rootHints) : builtinRootHints();
  }

  /** The configuration of the zone named `name`, if it is configured. */
  configuredZone(name: Name): ZoneConfig | undefined {
    for (const set of this.zoneSets()) {
      const zc = set.configuredZone(name);
      if (zc !== undefined) return zc;
    }
    return undefined;
  }

  /** The zones being served now. */
  zones(): Zone[] {
    return this.zoneSets().flatMap((s) => s.zones());
  }

  /**
   * The policy elements (blocklists, RPZ) for the chain: rebuilt when the config changed (start,
   * reload), otherwise the same zones and lists; feeds are read from the catalog at query time.
   * Policy applies to recursive queries (RD=1, server offers recursion, client in the recursion ACL).
   */
  private refreshPolicy(ra: boolean, max: number): ChainElement[] {
    const cfg = this.config;
    if (this.policyFor !== cfg) {
      this.policyFor = cfg;
      const r = rpzZones(cfg, this.logger, this.rpzFiles, (o) => this.main.catalog.get(o));
      this.rpz = r.entries;
      this.rpzFiles = r.files;
      const previous = this.blocklists;
      previous?.stop();
      this.blocklists = buildBlocklists(cfg, this.logger, this.policyStats, previous, () => this.engine?.invalidateAnswers());
      this.policyReady = this.blocklists?.start() ?? Promise.resolve();
    }
    const acl = new Acl(cfg.resolver.allow ?? cfg.allowRecursion);
    const recursive = (ctx: QueryContext): boolean => ra && ctx.request.rd && acl.allows(ctx.clientAddress);
    const out: ChainElement[] = [];
    if (this.blocklists !== undefined) {
      out.push({ name: 'blocklists', pure: true, middleware: blocklistHandler(this.blocklists, {
        action: cfg.blocklists.action, ttl: cfg.blocklists.ttl, maxUdpSize: max, stats: this.policyStats, recursive,
      }) });
    }
    if (this.rpz.length > 0) {
      const ns = this.resolver !== undefined ? cacheNameservers(this.cache) : undefined;
      const zones = this.rpz;
      // client-ip triggers make every answer depend on the client: the element is then not pure.
      const clientIp = zones.some((z) => (z.compiled()?.clientIp.size ?? 0) > 0);
      out.push({ name: 'rpz', pure: !clientIp, middleware: responsePolicy({
        zones, breakDnssec: cfg.rpz.breakDnssec, qnameWaitRecurse: cfg.rpz.qnameWaitRecurse, recursive, maxUdpSize: max,
        stats: this.policyStats, logger: this.logger, ns, clientIp,
      }) });
    }
    return out;
  }

  private buildChain(): Handler {
    this.refreshResolverParts();
    this.refreshRecursion();
    const views = this.views;
    if (views === undefined) return this.chainFor(this.main, this.localData, true, this.config.dns64);
    // One chain per view, picked by the view the engine gave the query (ctx.view, never -1 here).
    const chains = views.list.map((v) => this.chainFor(v.zones, v.localData, v.config.recursion,
      v.config.dns64 === false ? undefined : v.config.dns64 ?? this.config.dns64));
    return (ctx) => chains[ctx.view]!(ctx);
  }

  /** The chain over one zone set, local data, and (when `recursion`) the resolver and forwarders. */
  private chainFor(zones: ZoneSet, local: LocalData | undefined, recursion: boolean, dns64: Dns64Config | undefined): Handler {
    const cfg = this.config;
    const max = cfg.udp.maxSize;
    const fwd = recursion ? this.forwarder : undefined;
    const res = recursion ? this.resolver : undefined;
    const ra = fwd?.route(Name.ROOT) !== undefined || res?.recursion === true;
    const policy = this.refreshPolicy(ra, max);
    // THE ORDER of the chain: fixed here, switched on and configured by config.
    const elements: ChainElement[] = [
      ...(this.opts.handlers ?? []),
      { name: 'chaos', middleware: chaos(cfg.chaos, max), pure: true },
      // Answers only its configured names, each answer marked client-dependent (never cached for others).
      { name: 'balance', middleware: this.balancer !== undefined ? balance(this.balancer, { maxUdpSize: max }) : undefined, pure: true },
      { name: 'secondary', middleware: secondary(zones.secondaries, max), pure: true },
      // Answer policy (src/policy): blocklists, then RPZ, over everything below (local zones, hosts, forwarder, resolver).
      ...policy,
      { name: 'authority', middleware: zones.catalog.size > 0 ? authority(zones.catalog, { rotate: cfg.rotate, maxUdpSize: max }) : undefined, pure: true },
      { name: 'local-data', middleware: local !== undefined ? localData(local, { maxUdpSize: max, recursionAvailable: ra }) : undefined },
      { name: 'hosts', middleware: this.hosts !== undefined ? hosts(this.hosts, { ttl: cfg.hosts.ttl, maxUdpSize: max, recursionAvailable: ra }) : undefined },
      // DNS64 (RFC 6147) over what the forwarder and resolver answer (src/policy/dns64.ts).
      { name: 'dns64', middleware: dns64 !== undefined && (fwd !== undefined || res !== undefined)
        ? new Dns64({ ...dns64, maxUdpSize: max, stats: this.dns64Stats }).middleware() : undefined },
      { name: 'forwarder', middleware: fwd !== undefined ? forwarder(fwd, { maxUdpSize: max, acl: new Acl(cfg.allowRecursion), validation: this.forwarderValidation, limits: this.clientLimits() }) : undefined },
      { name: 'resolver', middleware: res !== undefined ? resolverHandler(res, { maxUdpSize: max, acl: new Acl(cfg.resolver.allow ?? cfg.allowRecursion), limits: this.clientLimits() }) : undefined },
    ];
    return composeChain(elements, (ctx) => {
      // Nobody here is responsible: REFUSED for queries (RFC 1035 §4.1.1), NOTIMP for opcodes we lack.
      const rcode = ctx.request.opcode === 0 ? Rcode.REFUSED : Rcode.NOTIMP;
      const reply = replyTo(ctx.request, rcode, max);
      // RFC 8914 §4.21 (as Knot does): say why, when the client speaks EDNS.
      if (rcode === Rcode.REFUSED && reply.edns !== undefined) reply.edns.options.push(NOT_AUTHORITATIVE);
      return reply;
    });
  }
}
