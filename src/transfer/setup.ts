/**
 * Builds the transfer side of a server from its config: the TSIG key store and the AXFR/IXFR
 * hook over the current catalog (rebuilt at start and at every reload, with the catalog).
 */
import type { Catalog } from '../authority/catalog.js';
import type { Config } from '../config/schema.js';
import type { TransferHook } from '../server/engine.js';
import type { ServerStats } from '../server/stats.js';
import { KeyStore, makeKey } from '../tsig/key.js';
import { Name } from '../wire/name.js';
import type { Zone } from '../zone/zone.js';
import { DEFAULT_ALLOW_TRANSFER, TransferAcl } from './acl.js';
import { type Difference, transferHook } from './outbound.js';

/** The `keys:` of a config as a KeyStore (the config was validated, so every key decodes). */
export function keyStoreFromConfig(cfg: Config): KeyStore {
  return new KeyStore(Object.entries(cfg.keys).map(([name, k]) => makeKey(name, k.algorithm, k.secret)));
}

/** The AXFR/IXFR hook for `catalog` with each zone's `allowTransfer`. */
export function transfersFromConfig(cfg: Config, catalog: Catalog, stats: ServerStats,
  history?: (zone: Zone) => readonly Difference[]): TransferHook {
  const acls = new Map<string, TransferAcl>();
  for (const z of cfg.zones) {
    const origin = Name.fromText(z.name.endsWith('.') ? z.name : z.name + '.');
    acls.set(origin.key, new TransferAcl(z.allowTransfer ?? DEFAULT_ALLOW_TRANSFER));
  }
  return transferHook({ catalog, acls, stats, maxUdpSize: cfg.udp.maxSize, ...(history === undefined ? {} : { history }) });
}
