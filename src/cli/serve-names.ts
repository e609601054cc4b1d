/**
 * The name services beside DNS that `sovereign serve` runs when the config switches them on:
 * the LLMNR responder (`llmnr:`, RFC 4795) and the NetBIOS name service (`netbios:`, RFC
 * 1001/1002). One instance per host (the lead process), never in cluster workers.
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging.js';

export interface NameServices {
  stop(): Promise<void>;
}

export async function startNameServices(cfg: Config, logger: Logger): Promise<NameServices> {
  const running: { stop(): Promise<void> }[] = [];
  try {
    if (cfg.llmnr.enabled) {
      const { LlmnrResponder } = await import('../llmnr/responder.js');
      const r = new LlmnrResponder({ names: cfg.llmnr.names, interfaces: cfg.llmnr.interfaces, addresses: cfg.llmnr.addresses, logger });
      await r.start();
      running.push(r);
      logger.info({ names: cfg.llmnr.names, interfaces: cfg.llmnr.interfaces }, 'LLMNR responder started');
    }
    if (cfg.netbios.enabled) {
      const { NetbiosResponder } = await import('../netbios/responder.js');
      const r = new NetbiosResponder({ names: cfg.netbios.names, interfaces: cfg.netbios.interfaces, addresses: cfg.netbios.addresses, logger });
      await r.start();
      running.push(r);
      logger.info({ names: cfg.netbios.names, interfaces: cfg.netbios.interfaces }, 'NetBIOS name service started (legacy)');
    }
  } catch (err) {
    for (const r of running) await r.stop();
    throw err;
  }
  return { stop: async () => { for (const r of running) await r.stop(); } };
}
