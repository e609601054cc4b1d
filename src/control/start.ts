/**
 * Starting the control endpoint from the config (in `serve`), and finding it again from the
 * same config (in the CLI commands that talk to it).
 */
import { parseListen } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging.js';
import type { ControlBackend } from './backend.js';
import type { ControlTarget } from './client.js';
import { ControlServer } from './server.js';
import { defaultTokenFile, ensureToken, readToken } from './token.js';

/**
 * Starts the endpoint `cfg.control` describes, or returns undefined when it is switched off or
 * cannot start (the reason is logged: DNS service matters more than the control channel).
 */
export async function startControl(cfg: Config, backend: ControlBackend, logger: Logger): Promise<ControlServer | undefined> {
  const c = cfg.control;
  if (!c.enabled) return undefined;
  try {
    let token: string | undefined;
    if (c.socket === undefined || c.tokenFile !== undefined) {
      const path = c.tokenFile ?? defaultTokenFile();
      const t = ensureToken(path);
      if (t.created) logger.info({ tokenFile: path }, 'control token created');
      if (t.tightened) logger.warn({ tokenFile: path }, 'control token file was readable by others; made it 0600');
      token = t.token;
    }
    const l = parseListen(c.listen);
    const server = new ControlServer({
      backend, logger, token, metricsAuth: c.metricsAuth,
      ...(c.socket !== undefined ? { socketPath: c.socket } : { address: l.address, port: l.port }),
    });
    await server.listen();
    return server;
  } catch (err) {
    logger.error({ err }, 'control endpoint not started; `sovereign cache|stats|reload` will not reach this server');
    return undefined;
  }
}

/** Where the CLI finds the endpoint `cfg.control` describes (reads the token file). */
export function controlTargetFromConfig(cfg: Config): ControlTarget {
  const c = cfg.control;
  if (c.socket !== undefined) {
    return c.tokenFile !== undefined ? { socketPath: c.socket, token: readToken(c.tokenFile) } : { socketPath: c.socket };
  }
  const l = parseListen(c.listen);
  return { address: l.address, port: l.port, token: readToken(c.tokenFile ?? defaultTokenFile()) };
}
