/**
 * A running DNS server: zones loaded into a catalog, the chain composed from config, and UDP+TCP
 * listeners on every configured address, all sharing one QueryEngine.
 *
 * Reload is atomic per zone: each zone is loaded and checked aside; one that fails keeps its old
 * version serving (the reason is logged); then a new catalog and chain replace the old ones in
 * one assignment. Queries already running finish with what they started with.
 */
import { Catalog } from '../authority/catalog.js';
import { loadConfigFile, parseListen } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { chaos } from '../handlers/chaos/index.js';
import { authority } from '../handlers/authority/index.js';
import type { Logger } from '../logging.js';
import { Name } from '../wire/name.js';
import { Rcode } from '../wire/constants.js';
import { loadZone } from '../zone/load.js';
import type { Zone } from '../zone/zone.js';
import { type ChainElement, type Handler, composeChain } from './chain.js';
import { QueryEngine } from './engine.js';
import { replyTo } from './query-context.js';
import { ServerStats } from './stats.js';
import { TcpListener } from './tcp.js';
import { UdpListener } from './udp.js';

export interface ServerOptions {
  config: Config;
  logger: Logger;
  /** Path the config came from (re-read on reload), if any. */
  configPath?: string;
  /** Share listening sockets with other processes (cluster workers). */
  shared?: boolean;
}

export interface ZoneLoadReport {
  name: string;
  ok: boolean;
  serial?: number | undefined;
  records?: number;
  problems: string[];
}

export class DnsServer {
  readonly stats = new ServerStats();
  private config: Config;
  private readonly logger: Logger;
  private readonly opts: ServerOptions;
  private catalog = new Catalog();
  private readonly engine: QueryEngine;
  private readonly udp: UdpListener[] = [];
  private readonly tcp: TcpListener[] = [];
  /** Bound addresses (ports resolved when 0 was asked). */
  readonly addresses: { transport: 'udp' | 'tcp'; address: string; port: number }[] = [];

  constructor(opts: ServerOptions) {
    this.opts = opts;
    this.config = opts.config;
    this.logger = opts.logger;
    this.engine = new QueryEngine(this.buildChain(), {
      maxUdpSize: this.config.udp.maxSize, logger: this.logger, stats: this.stats,
    });
  }

  /** Loads every zone; refuses to start when any fails (the operator must see it). */
  async loadZones(): Promise<ZoneLoadReport[]> {
    const { catalog, reports } = this.loadCatalog(undefined);
    const failed = reports.filter((r) => !r.ok);
    if (failed.length > 0) {
      throw new Error(failed.map((r) => `zone ${r.name}: ${r.problems.join('; ')}`).join('\n'));
    }
    this.catalog = catalog;
    this.engine.setHandler(this.buildChain());
    return reports;
  }

  /** Starts listening on every configured address (UDP and TCP). */
  async start(): Promise<void> {
    const shared = this.opts.shared === true;
    for (const text of this.config.listen) {
      const l = parseListen(text);
      const u = new UdpListener({ ...l, engine: this.engine, logger: this.logger, exclusive: !shared });
      const bound = await u.listen();
      this.udp.push(u);
      this.addresses.push({ transport: 'udp', ...bound });
      // TCP on the same port UDP got (matters when port 0 asked for an ephemeral one).
      const t = new TcpListener({
        address: l.address, port: bound.port, engine: this.engine, logger: this.logger, stats: this.stats,
        idleTimeoutMs: this.config.tcp.idleTimeoutMs, maxConnections: this.config.tcp.maxConnections,
        maxConnectionsPerClient: this.config.tcp.maxConnectionsPerClient, maxPipelined: this.config.tcp.maxPipelined,
        exclusive: !shared,
      });
      this.addresses.push({ transport: 'tcp', ...(await t.listen()) });
      this.tcp.push(t);
    }
    this.logger.info({ addresses: this.addresses }, 'listening');
  }

  /**
   * Reloads the config file (if any) and every zone. Zones that fail keep their old version;
   * the reports say which.
   */
  async reload(): Promise<ZoneLoadReport[]> {
    if (this.opts.configPath !== undefined) {
      try {
        this.config = loadConfigFile(this.opts.configPath);
      } catch (err) {
        this.logger.error({ err }, 'reload: config rejected, keeping the running one');
        throw err;
      }
    }
    const { catalog, reports } = this.loadCatalog(this.catalog);
    this.catalog = catalog;
    this.engine.setHandler(this.buildChain());
    for (const r of reports) {
      if (r.ok) this.logger.info({ zone: r.name, serial: r.serial, records: r.records }, 'zone loaded');
      else this.logger.error({ zone: r.name, problems: r.problems }, 'zone rejected; the old version keeps serving');
    }
    return reports;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.udp.map((u) => u.close()), ...this.tcp.map((t) => t.close())]);
    this.udp.length = 0;
    this.tcp.length = 0;
  }

  /** The zones being served now. */
  zones(): Zone[] {
    return [...this.catalog.all()];
  }

  private loadCatalog(previous: Catalog | undefined): { catalog: Catalog; reports: ZoneLoadReport[] } {
    const catalog = new Catalog();
    const reports: ZoneLoadReport[] = [];
    for (const zc of this.config.zones) {
      const origin = Name.fromText(zc.name);
      let zone: Zone | undefined;
      const problems: string[] = [];
      try {
        const r = loadZone(zc.file, origin);
        for (const p of r.problems) {
          problems.push(`${p.file}:${p.line}:${p.column}: ${p.severity}: ${p.reason}`);
        }
        zone = r.zone;
      } catch (err) {
        problems.push((err as Error).message);
      }
      if (zone !== undefined) {
        catalog.add(zone);
        reports.push({ name: origin.toString(), ok: true, serial: zone.serial, records: zone.recordCount, problems });
      } else {
        const old = previous?.get(origin);
        if (old !== undefined) catalog.add(old);
        reports.push({ name: origin.toString(), ok: false, problems });
      }
    }
    return { catalog, reports };
  }

  private buildChain(): Handler {
    const cfg = this.config;
    const max = cfg.udp.maxSize;
    // THE ORDER of the chain: fixed here, switched on and configured by config.
    const elements: ChainElement[] = [
      { name: 'chaos', middleware: chaos(cfg.chaos, max) },
      { name: 'authority', middleware: this.catalog.size > 0 ? authority(this.catalog, { rotate: cfg.rotate, maxUdpSize: max }) : undefined },
    ];
    return composeChain(elements, (ctx) => {
      // Nobody here is responsible: REFUSED for queries (RFC 1035 §4.1.1), NOTIMP for opcodes we lack.
      const rcode = ctx.request.opcode === 0 ? Rcode.REFUSED : Rcode.NOTIMP;
      return replyTo(ctx.request, rcode, max);
    });
  }
}
