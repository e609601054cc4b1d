/**
 * Sovereign (in process), BIND and Knot serving the same zones on one port, each on its own 127.x
 * address, so interop tests can send each the same query. BIND runs with `minimal-responses
 * no-auth` (Knot's authority-section habit; see test/interop/auth-peers.test.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { type RunningPeer, type ZoneSpec, addLoopbackAddress, pickPort, startKnot, startNamed } from './peers.js';

export interface ServedZones {
  port: number;
  /** Stops every server started (Sovereign first), in any state of start-up. */
  stop(): Promise<void>;
}

/** Starts the servers whose address is given; `dir` holds their working folders. */
export async function serveOnAll(dir: string, zones: ZoneSpec[],
  at: { sovereign: string; bind?: string; knot?: string }): Promise<ServedZones> {
  const port = pickPort();
  let sov: DnsServer | undefined;
  let named: RunningPeer | undefined;
  let knot: RunningPeer | undefined;
  const served: ServedZones = {
    port,
    async stop() {
      await sov?.stop();
      await named?.stop();
      await knot?.stop();
    },
  };
  try {
    if (at.bind !== undefined) {
      addLoopbackAddress(at.bind);
      mkdirSync(join(dir, 'named'));
      named = await startNamed(join(dir, 'named'), at.bind, port, zones, 'minimal-responses no-auth;');
    }
    if (at.knot !== undefined) {
      addLoopbackAddress(at.knot);
      mkdirSync(join(dir, 'knot'));
      knot = await startKnot(join(dir, 'knot'), at.knot, port, zones);
    }
    sov = new DnsServer({ config: defaultConfig({ listen: [`${at.sovereign}:${port}`], zones, workers: 1 }), logger: silentLogger });
    await sov.loadZones();
    await sov.start();
  } catch (err) {
    await served.stop();
    throw err;
  }
  return served;
}
