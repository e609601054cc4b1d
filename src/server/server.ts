/**
 * A running DNS server: zones loaded into a catalog, the chain composed from config, and UDP+TCP
 * listeners on every configured address, all sharing one QueryEngine.
 *
 * Reload is atomic per zone: each zone is loaded and checked aside; one that fails keeps its old
 * version serving (the reason is logged); then a new catalog and chain replace the old ones in
 * one assignment. Queries already running finish with what they started with.
 */
import { mkdtempSync, readFileSync, rmSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog, UnloadedZone } from '../authority/catalog.js';
import { exchange } from '../client/exchange.js';
import { loadConfigFile, parseListen, restartOnlyChanges } from '../config/load.js';
import type { Config, ZoneConfig } from '../config/schema.js';
import { DynamicZones } from '../update/dynamic.js';
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
import { ForwarderValidation, newForwarderValidationStats } from '../resolver/forward-validate.js';
import { HostsFile } from '../resolver/hosts.js';
import { type LocalData, parseLocalData } from '../resolver/local-data.js';
import { isLeadProcess, type Logger } from '../logging.js';
import { Name } from '../wire/name.js';
import { RRClass, RRType } from '../wire/types.js';
import { EdeCode, Rcode } from '../wire/constants.js';
import { option } from '../wire/edns.js';
import { loadZone } from '../zone/load.js';
import { printZone } from '../zone/printer.js';
import type { Zone } from '../zone/zone.js';
import { type ChainElement, type Handler, composeChain } from './chain.js';
import { QueryEngine } from './engine.js';
import { replyTo } from './query-context.js';
import { ServerStats } from './stats.js';
import { TcpListener } from './tcp.js';
import { UdpListener } from './udp.js';
import { EncryptedListeners, isEncryptedListen } from './encrypted.js';
import { ServerCookies } from './cookies.js';
import { clusterSecret } from './cluster-secret.js';
import { TransferManager } from '../transfer/manager.js';
import { SecondaryZones } from '../transfer/secondaries.js';
import type { SecondaryStatus } from '../transfer/secondary.js';
import { secondary } from '../handlers/secondary/index.js';
import { isTransferLead, sendSecondaryEvent } from './cluster.js';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { catalogMembers, generateCatalog } from '../transfer/catalog-zone.js';
import { writeZoneFile } from '../transfer/inbound.js';
import { journalPathFor } from '../journal/journal.js';
import { serialAdd, serialCompare } from '../zone/serial.js';
import { ZoneSigning } from './zone-signing.js';

const NOT_AUTHORITATIVE = option.extendedError(EdeCode.NOT_AUTHORITATIVE);

/** A configured domain name (`corp.example` or `corp.example.`) as a Name. */
function zoneName(text: string): Name {
  return Name.fromText(text.endsWith('.') ? text : text + '.');
}

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
}

export interface ZoneLoadReport {
  name: string;
  ok: boolean;
  serial?: number | undefined;
  records?: number;
  problems: string[];
}

/** One configured zone as `stats` and `/metrics` show it. */
export interface ZoneStatus {
  name: string;
  /** Serving (this load or an earlier version). */
  loaded: boolean;
  /** SOA serial being served, null when nothing is. */
  serial: number | null;
  /** Loads (start, reloads) that failed since the process started. */
  loadFailures: number;
  /** Why the last load failed, null when it succeeded. */
  error: string | null;
  /** For a secondary zone: its refresh machine (timers, last transfer); absent for primaries. */
  secondary?: SecondaryStatus | null;
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
  /** The iterator, sharing `cache`: full recursion from the root (`resolver.enabled`) and/or stub zones. */
  resolver: Resolver | undefined;
  private resolverFor: Config | undefined;
  /** The config the forwarder/hosts/local data above were built from. */
  private partsFor: Config | undefined;
  private config: Config;
  private readonly logger: Logger;
  private readonly opts: ServerOptions;
  private catalog = new Catalog();
  private zoneState = new Map<string, ZoneStatus>();
  /** Signers of the zones configured with `dnssec:` (kept across reloads: incremental re-signing). */
  readonly signing: ZoneSigning;
  private readonly engine: QueryEngine;
  private readonly udp: UdpListener[] = [];
  private readonly tcp: TcpListener[] = [];
  /** The listen and TCP settings the sockets were opened with (a reload cannot change them). */
  private listeningWith: { listen: readonly string[]; tcp: Config['tcp'] } | undefined;
  /** Bound addresses (ports resolved when 0 was asked). */
  readonly addresses: { transport: 'udp' | 'tcp' | 'tls' | 'https' | 'http'; address: string; port: number }[] = [];
  /** DoT and DoH listeners (`tls://`, `https://`, `http://` entries of listen). */
  private readonly encrypted: EncryptedListeners;

  constructor(opts: ServerOptions) {
    this.opts = opts;
    this.config = opts.config;
    this.logger = opts.logger;
    this.cache = new RRCache({ ...this.config.cache, prefetch: this.config.resolver.prefetch });
    this.signing = new ZoneSigning(opts.logger, opts.now);
    this.engine = new QueryEngine(this.buildChain(), {
      maxUdpSize: this.config.udp.maxSize, logger: this.logger, stats: this.stats,
    });
    this.dynamic = new DynamicZones({
      logger: this.logger, catalog: () => this.catalog, maxUdpSize: () => this.config.udp.maxSize,
      publish: (zc, source) => this.publishUpdate(zc, source),
      ...(opts.now === undefined ? {} : { now: opts.now }),
    });
    // UPDATE for a secondary zone is the secondary's (REFUSED or forwarded to its primary); the rest is ours.
    this.engine.updates = (ctx) => this.secondaries.update(ctx, this.config.udp.maxSize) ?? this.dynamic.handle(ctx);
    this.applyCookies();
    this.encrypted = new EncryptedListeners(this.engine, this.stats, this.logger);
    this.transfers = new TransferManager({
      logger: this.logger, stats: this.stats, ownAddresses: () => this.addresses.map((a) => a.address),
      dynamicHistory: (origin) => this.dynamic.history(origin),
    });
    this.refreshTransfers(undefined);
    // Secondary zones: in a cluster only the lead worker transfers; the others load its copy.
    const shared = opts.shared === true;
    this.secondaries = new SecondaryZones({
      logger: this.logger, keys: () => this.transfers.keys, transfers: !shared || isTransferLead(),
      install: (zc, zone, why) => this.installSecondary(zc, zone, why),
      ...(shared ? {
        broadcast: (zone: string, event: 'loaded' | 'expired') => sendSecondaryEvent({ zone, what: event }),
        toLead: (zone: string, what: 'notify' | 'check' | 'retransfer', serial?: number) => sendSecondaryEvent({ zone, what, ...(serial === undefined ? {} : { serial }) }),
      } : {}),
    });
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

  /** Zone transfers, their history and NOTIFY (src/transfer). */
  readonly transfers: TransferManager;
  /** Secondary zones: refresh/retry/expire, NOTIFY in, UPDATE forwarding (src/transfer/secondaries.ts). */
  readonly secondaries: SecondaryZones;

  /** Serves a new version of a secondary zone (a transfer), or withdraws it (expired: SERVFAIL). */
  private installSecondary(zc: ZoneConfig, zone: Zone | undefined, reason: string): void {
    const origin = zoneName(zc.name);
    if (!this.zoneConfigs().zones.some((z) => zoneName(z.name).equals(origin))) return;
    const previous = this.catalog.clone();
    this.catalog.add(zone ?? new UnloadedZone(origin, reason));
    // RFC 9432: a new version of a consumed catalog adds and removes member zones.
    if (zc.catalogRole === 'consume' && zone !== undefined) this.applyMembers();
    const key = origin.toString();
    const before = this.zoneState.get(key);
    this.zoneState.set(key, {
      name: key, loaded: zone !== undefined, serial: zone?.serial ?? null, loadFailures: before?.loadFailures ?? 0,
      error: zone === undefined ? reason : null,
    });
    this.engine.setHandler(this.buildChain());
    this.refreshTransfers(previous);
  }

  /** Zones that take dynamic updates, their journals and sync (src/update). */
  readonly dynamic: DynamicZones;

  /**
   * A dynamic update's new version (durable in the journal already): signed when the zone is,
   * served at once (the catalog is shared by the chain), cached answers dropped, IXFR history
   * and NOTIFY. Runs before the update's NOERROR is encoded.
   */
  private publishUpdate(zc: ZoneConfig, source: Zone): void {
    const origin = source.origin;
    const served = zc.dnssec !== undefined ? this.signing.sign(zc, origin, source) : source;
    const old = this.catalog.get(origin);
    this.catalog.add(served);
    this.engine.invalidateAnswers();
    const name = origin.toString();
    const st = this.zoneState.get(name);
    if (st !== undefined) st.serial = served.serial ?? null;
    this.transfers.recordUpdate(zc, old, served);
  }

  /** TSIG keys, IXFR history, NOTIFY and the AXFR/IXFR hook follow the config and catalog (start, reload). */
  private refreshTransfers(previous: Catalog | undefined): void {
    this.engine.transfers = this.transfers.update(this.zoneConfigs(), previous, this.catalog);
    this.engine.keys = this.transfers.keys;
  }

  /**
   * Loads every zone. A zone that fails (missing or unreadable file, syntax error, failed
   * checks) does not stop the others: it is reported (log, `stats`, `/metrics`) and answered
   * SERVFAIL until a reload loads it, as BIND and Knot do.
   */
  async loadZones(): Promise<ZoneLoadReport[]> {
    const { catalog, reports } = this.loadCatalog(undefined);
    this.catalog = catalog;
    this.applyMembers();
    this.secondaries.sync(this.zoneConfigs(), (o) => catalog.get(o));
    this.engine.setHandler(this.buildChain());
    this.refreshTransfers(undefined);
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
        const u = new UdpListener({ ...l, engine: this.engine, logger: this.logger, exclusive: !shared });
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
    this.transfers.listening();
    this.secondaries.start();
    this.dynamic.startTimer();
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
    const { catalog, reports } = this.loadCatalog(this.catalog);
    const previous = this.catalog;
    this.catalog = catalog;
    this.applyMembers();
    this.secondaries.sync(this.zoneConfigs(), (o) => catalog.get(o));
    this.engine.setHandler(this.buildChain());
    this.refreshTransfers(previous);
    for (const r of reports) {
      if (r.ok) (lead ? this.logger.info : this.logger.debug).call(this.logger, { zone: r.name, serial: r.serial, records: r.records }, 'zone loaded');
      else this.logger.error({ zone: r.name, problems: r.problems }, 'zone rejected; the old version keeps serving');
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
    const w = this.listeningWith;
    if (w !== undefined && (w.listen.length !== cfg.listen.length || w.listen.some((l, i) => l !== cfg.listen[i]))) {
      this.logger.warn({ listening: w.listen, configured: cfg.listen },
        'reload: listen changed; the server keeps its current addresses until it is restarted');
    }
  }

  /** The zone `name` as master-file text (what a replacement worker asks its siblings for), or null. */
  zoneText(name: string): string | null {
    const zone = this.catalog.get(zoneName(name));
    if (zone === undefined) return null;
    let text = '';
    for (const line of printZone(zone)) text += line + '\n';
    return text;
  }

  /**
   * Serves `text` (a sibling's copy) for a configured zone that failed to load here; true when
   * it loaded. The zone's status keeps the local failure in its count.
   */
  adoptZoneText(name: string, text: string): boolean {
    const origin = zoneName(name);
    const dir = mkdtempSync(join(tmpdir(), 'sovereign-zone-'));
    try {
      const file = join(dir, 'zone');
      writeFileSync(file, text, { mode: 0o600 });
      const r = loadZone(file, origin, { file: `${name} (from a sibling worker)` });
      if (r.zone === undefined) return false;
      this.catalog.add(r.zone);
      const key = origin.toString();
      const before = this.zoneState.get(key);
      this.zoneState.set(key, { name: key, loaded: true, serial: r.zone.serial ?? null, loadFailures: before?.loadFailures ?? 0, error: before?.error ?? null });
      this.engine.setHandler(this.buildChain());
      return true;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** How each configured zone stands: loaded (with its serial) or not, and how often loading failed. */
  zoneStatus(): ZoneStatus[] {
    return [...this.zoneState.values()].map((z) => {
      const sz = this.secondaries.get(zoneName(z.name));
      return sz === undefined ? { ...z } : { ...z, secondary: sz.status() };
    });
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
      ...(previous !== undefined ? { selector: previous.selector } : {}),
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
    this.catalog.add(zone);
    this.engine.setHandler(this.buildChain());
  }

  async stop(): Promise<void> {
    if (this.autoTrustTimer !== undefined) clearInterval(this.autoTrustTimer);
    this.stopAutoTrustWatch();
    this.transfers.close();
    this.secondaries.stop();
    this.signing.stop();
    this.dynamic.stopTimer();
    // As BIND at shutdown: zone files of dynamic zones written from memory (the journal has it all anyway).
    this.dynamic.syncAll();
    this.dynamic.close();
    this.forwarder?.close();
    this.hosts?.close();
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
    return this.zoneConfigs().zones.find((zc) => zoneName(zc.name).equals(name));
  }

  /** The zones being served now. */
  zones(): Zone[] {
    return [...this.catalog.all()];
  }

  private loadCatalog(previous: Catalog | undefined): { catalog: Catalog; reports: ZoneLoadReport[] } {
    const catalog = new Catalog();
    const reports: ZoneLoadReport[] = [];
    const state = new Map<string, ZoneStatus>();
    this.dynamic.retain(this.config.zones);
    for (const zc of this.zoneConfigs().zones) {
      const origin = zoneName(zc.name);
      if (zc.catalogRole === 'generate') {
        this.generateCatalogZone(zc, origin, previous, catalog, reports, state);
        continue;
      }
      if (zc.primaries !== undefined && this.loadSecondary(zc, origin, previous, catalog, reports, state)) continue;
      let zone: Zone | undefined;
      const problems: string[] = [];
      if (DynamicZones.configured(zc)) {
        try {
          const r = this.dynamic.load(zc, origin);
          problems.push(...r.problems);
          const kept = r.kept ? previous?.get(origin) : undefined;
          zone = kept ?? (r.zone !== undefined && zc.dnssec !== undefined ? this.signing.sign(zc, origin, r.zone) : r.zone);
        } catch (err) {
          zone = undefined;
          problems.push((err as Error).message);
        }
      } else try {
        // A secondary's copy is checked as BIND checks secondaries (check-names warn).
        const r = loadZone(zc.file, origin, { checks: zc.primaries !== undefined ? { names: 'warn', glue: 'warn' } : zc.checks });
        for (const p of r.problems) {
          problems.push(`${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.reason}`);
        }
        zone = r.zone;
        // Signed here when configured; a key problem rejects this version like a failed check.
        if (zone !== undefined && zc.dnssec !== undefined) zone = this.signing.sign(zc, origin, zone);
      } catch (err) {
        zone = undefined;
        problems.push((err as Error).message);
      }
      const name = origin.toString();
      const before = this.zoneState.get(name);
      if (zone !== undefined) {
        catalog.add(zone);
        reports.push({ name, ok: true, serial: zone.serial, records: zone.recordCount, problems });
        state.set(name, { name, loaded: true, serial: zone.serial ?? null, loadFailures: before?.loadFailures ?? 0, error: null });
      } else {
        const old = previous?.get(origin);
        const error = problems.length > 0 ? problems.join('; ') : 'not loaded';
        // The old version keeps serving; a zone never loaded answers SERVFAIL.
        catalog.add(old ?? new UnloadedZone(origin, error));
        reports.push({ name, ok: false, problems });
        state.set(name, {
          name, loaded: old !== undefined, serial: old?.serial ?? null, loadFailures: (before?.loadFailures ?? 0) + 1, error,
        });
      }
    }
    this.zoneState = state;
    return { catalog, reports };
  }

  /** Zones of catalogs we consume (RFC 9432), as secondary zones of the catalog's primaries. */
  private members: { zc: ZoneConfig; catalog: string }[] = [];

  /** The config with the catalog members' zones added. */
  private zoneConfigs(): Config {
    return this.members.length === 0 ? this.config : { ...this.config, zones: [...this.config.zones, ...this.members.map((m) => m.zc)] };
  }

  /**
   * Follows the consumed catalog zones (RFC 9432 §5): members listed now and not before become
   * secondary zones (served from their copy at once when one is on disk), members no longer
   * listed stop being served and their copy and journal are deleted (as BIND does). A zone
   * configured in the file wins over a member of the same name.
   */
  private applyMembers(): void {
    const statics = new Set(this.config.zones.map((z) => zoneName(z.name).key));
    const next: { zc: ZoneConfig; catalog: string }[] = [];
    const seen = new Set<string>();
    for (const cz of this.config.zones) {
      if (cz.catalogRole !== 'consume') continue;
      const cat = this.catalog.get(zoneName(cz.name));
      const names = cat === undefined ? undefined : catalogMembers(cat);
      if (names === undefined) {
        if (cat !== undefined) this.logger.warn({ zone: cz.name }, 'catalog zone of an unknown schema version (RFC 9432 §4.2.1): members left as they were');
        for (const m of this.members) if (m.catalog === cz.name && !seen.has(m.zc.name)) { next.push(m); seen.add(m.zc.name); }
        continue;
      }
      for (const n of names) {
        const name = n.toString();
        if (statics.has(n.key) || seen.has(name)) continue;
        seen.add(name);
        next.push({
          catalog: cz.name,
          zc: {
            name, file: join(dirname(cz.file), `${name}zone`), primaries: cz.primaries, checks: { names: 'warn', glue: 'warn' },
            ...(cz.allowTransfer === undefined ? {} : { allowTransfer: cz.allowTransfer }),
            ...(cz.allowNotify === undefined ? {} : { allowNotify: cz.allowNotify }),
          } as ZoneConfig,
        });
      }
    }
    const before = new Map(this.members.map((m) => [m.zc.name, m]));
    const after = new Set(next.map((m) => m.zc.name));
    if (before.size === after.size && [...after].every((n) => before.has(n))) return;
    this.members = next;
    for (const [name, m] of before) {
      if (after.has(name)) continue;
      this.catalog.remove(zoneName(name));
      this.zoneState.delete(name);
      for (const f of [m.zc.file, journalPathFor(m.zc.file)]) rmSync(f, { force: true });
      this.logger.info({ zone: name, catalog: m.catalog }, 'catalog member removed');
    }
    for (const m of next) {
      if (before.has(m.zc.name)) continue;
      const origin = zoneName(m.zc.name);
      let zone: Zone | undefined;
      if (existsSync(m.zc.file)) zone = loadZone(m.zc.file, origin, { checks: m.zc.checks }).zone;
      this.catalog.add(zone ?? new UnloadedZone(origin, 'not transferred yet'));
      this.zoneState.set(m.zc.name, {
        name: m.zc.name, loaded: zone !== undefined, serial: zone?.serial ?? null, loadFailures: 0, error: zone === undefined ? 'not transferred yet' : null,
      });
      this.logger.info({ zone: m.zc.name, catalog: m.catalog }, 'catalog member added');
    }
    this.secondaries.sync(this.zoneConfigs(), (o) => this.catalog.get(o));
  }

  /**
   * A generated catalog zone (RFC 9432, Knot's catalog-role: generate): its members are the
   * configured zones naming it in `catalogZone`. The serial stays while the members do, and
   * goes up (at least to the time in seconds) when they change; a copy goes to its file.
   */
  private generateCatalogZone(zc: ZoneConfig, origin: Name, previous: Catalog | undefined, catalog: Catalog,
    reports: ZoneLoadReport[], state: Map<string, ZoneStatus>): void {
    const members = this.config.zones.filter((z) => z.catalogZone !== undefined && zoneName(z.catalogZone).equals(origin)).map((z) => zoneName(z.name));
    let old = previous?.get(origin);
    if (old === undefined && existsSync(zc.file)) old = loadZone(zc.file, origin).zone;
    const same = (z: Zone): boolean => {
      const had = catalogMembers(z);
      return had !== undefined && had.length === members.length && had.every((n) => members.some((m) => m.equals(n)));
    };
    let zone: Zone;
    if (old !== undefined && same(old)) {
      zone = old;
    } else {
      const now = Math.floor(Date.now() / 1000);
      const serial = old?.serial === undefined || serialCompare(now, old.serial) === 1 ? now : serialAdd(old.serial, 1);
      zone = generateCatalog(origin, members, serial);
      try {
        writeZoneFile(zone, zc.file);
      } catch (err) {
        this.logger.warn({ err, zone: zc.name }, 'generated catalog: cannot write its copy');
      }
    }
    const name = origin.toString();
    catalog.add(zone);
    reports.push({ name, ok: true, serial: zone.serial, records: zone.recordCount, problems: [] });
    state.set(name, { name, loaded: true, serial: zone.serial ?? null, loadFailures: 0, error: null });
  }

  /**
   * A secondary zone in a (re)load: the copy its machine holds (a reload never re-reads it from
   * the file), or, first time, nothing when the file is not there yet (transferred once the
   * server starts; SERVFAIL until then, as BIND). False: load it from its file like a primary.
   */
  private loadSecondary(zc: ZoneConfig, origin: Name, previous: Catalog | undefined, catalog: Catalog,
    reports: ZoneLoadReport[], state: Map<string, ZoneStatus>): boolean {
    const name = origin.toString();
    const sz = this.secondaries.get(origin);
    const before = this.zoneState.get(name);
    if (sz !== undefined) {
      const zone = sz.zone ?? previous?.get(origin);
      const why = sz.expired ? 'expired' : 'not transferred yet';
      catalog.add(zone ?? new UnloadedZone(origin, why));
      reports.push({ name, ok: true, serial: zone?.serial, records: zone?.recordCount ?? 0, problems: [] });
      state.set(name, { name, loaded: zone !== undefined, serial: zone?.serial ?? null, loadFailures: before?.loadFailures ?? 0, error: zone === undefined ? why : null });
      return true;
    }
    if (existsSync(zc.file)) return false;
    catalog.add(new UnloadedZone(origin, 'not transferred yet'));
    reports.push({ name, ok: true, records: 0, problems: ['no local copy yet: transferred from the primaries'] });
    state.set(name, { name, loaded: false, serial: null, loadFailures: 0, error: 'not transferred yet' });
    return true;
  }

  private buildChain(): Handler {
    const cfg = this.config;
    const max = cfg.udp.maxSize;
    this.refreshResolverParts();
    this.refreshRecursion();
    const ra = this.forwarder?.route(Name.ROOT) !== undefined || this.resolver?.recursion === true;
    // THE ORDER of the chain: fixed here, switched on and configured by config.
    const elements: ChainElement[] = [
      ...(this.opts.handlers ?? []),
      { name: 'chaos', middleware: chaos(cfg.chaos, max), pure: true },
      { name: 'secondary', middleware: this.secondaries !== undefined ? secondary(this.secondaries, max) : undefined, pure: true },
      { name: 'authority', middleware: this.catalog.size > 0 ? authority(this.catalog, { rotate: cfg.rotate, maxUdpSize: max }) : undefined, pure: true },
      { name: 'local-data', middleware: this.localData !== undefined ? localData(this.localData, { maxUdpSize: max, recursionAvailable: ra }) : undefined },
      { name: 'hosts', middleware: this.hosts !== undefined ? hosts(this.hosts, { ttl: cfg.hosts.ttl, maxUdpSize: max, recursionAvailable: ra }) : undefined },
      { name: 'forwarder', middleware: this.forwarder !== undefined ? forwarder(this.forwarder, { maxUdpSize: max, acl: new Acl(cfg.allowRecursion), validation: this.forwarderValidation }) : undefined },
      { name: 'resolver', middleware: this.resolver !== undefined ? resolverHandler(this.resolver, { maxUdpSize: max, acl: new Acl(cfg.resolver.allow ?? cfg.allowRecursion) }) : undefined },
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
