/**
 * The encrypted listeners of a server: DNS over TLS (`tls://`, RFC 7858) and DNS over HTTPS
 * (`https://`, RFC 8484; `http://` behind a reverse proxy), all feeding the server's one
 * QueryEngine, and their certificate, which a reload swaps without closing a connection.
 *
 * Invariants: listeners are only started with credentials that loaded and matched; a reload
 * whose certificate or key cannot be read or does not match keeps every listener on the old
 * one (the error is logged and returned); open connections keep the session they have, new
 * handshakes get the new certificate (tls.Server#setSecureContext).
 */
import { loadTlsCredentials, type TlsCredentials, secureContextOptions } from '../config/tls-credentials.js';
import { type EncryptedListen, expandEncryptedListen, isEncryptedListen } from '../config/listen.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging.js';
import { Acl } from '../resolver/acl.js';
import { clusterSecret, ticketKeys } from './cluster-secret.js';
import { DohListener } from './doh.js';
import type { QueryEngine } from './engine.js';
import type { ServerStats } from './stats.js';
import { type DotOptions, TcpListener } from './tcp.js';

export { isEncryptedListen };

export interface BoundEncrypted {
  transport: 'tls' | 'https' | 'http';
  address: string;
  port: number;
}

export class EncryptedListeners {
  private readonly dot: TcpListener[] = [];
  private readonly doh: DohListener[] = [];
  private credentials: TlsCredentials | undefined;

  constructor(private readonly engine: QueryEngine, private readonly stats: ServerStats, private readonly logger: Logger) {}

  /** Entries of `listen` this class serves. */
  static entries(cfg: Config): string[] {
    return cfg.listen.filter(isEncryptedListen);
  }

  private dotOptions(cfg: Config, label: string): DotOptions {
    const creds = this.credentialsFor(cfg);
    return { context: secureContextOptions(creds), ticketKeys: ticketKeys(clusterSecret(), label), handshakeTimeoutMs: cfg.tls.handshakeTimeoutMs };
  }

  private credentialsFor(cfg: Config): TlsCredentials {
    if (this.credentials === undefined) {
      // check-config already said which key is missing; this is the library path (DnsServer built by hand).
      const cert = cfg.tls.cert ?? '';
      const key = cfg.tls.key ?? '';
      this.credentials = loadTlsCredentials({ cert, key });
    }
    return this.credentials;
  }

  /** Starts one listener per address of `text`; returns what was bound. Throws ListenError or ConfigError. */
  async start(text: string, cfg: Config, shared: boolean): Promise<BoundEncrypted[]> {
    const out: BoundEncrypted[] = [];
    for (const l of expandEncryptedListen(text)) out.push(await this.startOne(l, cfg, shared));
    return out;
  }

  private async startOne(l: EncryptedListen, cfg: Config, shared: boolean): Promise<BoundEncrypted> {
    const t = cfg.tls;
    if (l.scheme === 'tls') {
      const listener = new TcpListener({
        address: l.address, port: l.port, engine: this.engine, logger: this.logger, stats: this.stats,
        idleTimeoutMs: t.idleTimeoutMs, maxConnections: t.maxConnections, maxConnectionsPerClient: t.maxConnectionsPerClient,
        maxPipelined: t.maxPipelined, exclusive: !shared, tls: this.dotOptions(cfg, 'dot'),
      });
      this.dot.push(listener);
      return { transport: 'tls', ...(await listener.listen()) };
    }
    const listener = new DohListener({
      address: l.address, port: l.port, path: l.path, engine: this.engine, logger: this.logger, stats: this.stats,
      tls: l.scheme === 'https' ? this.dotOptions(cfg, 'doh') : undefined,
      idleTimeoutMs: t.idleTimeoutMs, maxConnections: t.maxConnections, maxConnectionsPerClient: t.maxConnectionsPerClient,
      maxStreams: t.maxPipelined, json: cfg.doh.json,
      trustedProxies: cfg.doh.trustedProxies.length > 0 ? new Acl(cfg.doh.trustedProxies) : undefined,
      exclusive: !shared,
    });
    this.doh.push(listener);
    return { transport: l.scheme, ...(await listener.listen()) };
  }

  /**
   * Reload: limits for new connections, and the certificate and key read again. A certificate
   * that fails keeps the old one serving; the error is logged and returned.
   */
  reload(cfg: Config): Error | undefined {
    for (const d of this.dot) d.setLimits(cfg.tls);
    for (const d of this.doh) d.setLimits(cfg.tls);
    if (this.credentials === undefined) return undefined;
    let next: TlsCredentials;
    try {
      next = loadTlsCredentials({ cert: cfg.tls.cert ?? '', key: cfg.tls.key ?? '' });
    } catch (err) {
      this.logger.error({ err }, 'reload: TLS certificate rejected; the old one keeps serving');
      return err as Error;
    }
    this.credentials = next;
    const context = secureContextOptions(next);
    for (const d of this.dot) d.setSecureContext(context);
    for (const d of this.doh) d.setSecureContext(context);
    return undefined;
  }

  async close(): Promise<void> {
    await Promise.all([...this.dot.map((d) => d.close()), ...this.doh.map((d) => d.close())]);
    this.dot.length = 0;
    this.doh.length = 0;
  }
}
