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
import { ConfigError } from '../errors.js';
import { clientTokenFile, defaultTokenFile, ensureToken, readToken } from './token.js';

/**
 * Starts the endpoint `cfg.control` describes, or returns undefined when it is switched off.
 * Throws when it cannot start (ListenError for an address in use, ConfigError for a token file
 * it cannot write): a second instance with the default settings must not run without control
 * while `sovereign stats` silently reaches the first one.
 */
export async function startControl(cfg: Config, backend: ControlBackend, logger: Logger): Promise<ControlServer | undefined> {
  const c = cfg.control;
  if (!c.enabled) return undefined;
  let token: string | undefined;
  if (c.socket === undefined || c.tokenFile !== undefined) {
    const path = c.tokenFile ?? defaultTokenFile();
    let t: ReturnType<typeof ensureToken>;
    try {
      t = ensureToken(path);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError('control.tokenFile', `cannot create ${path}: ${(err as Error).message}`,
        'set control.tokenFile to a file this user may write, or run under systemd with StateDirectory=sovereign');
    }
    if (t.created) logger.info({ tokenFile: path }, 'control token created');
    if (t.regenerated) logger.warn({ tokenFile: path }, 'control token file was readable by others: replaced it with a new token (mode 0600); clients holding the old one must re-read it');
    token = t.token;
  }
  const l = parseListen(c.listen);
  const server = new ControlServer({
    backend, logger, token, metricsAuth: c.metricsAuth,
    ...(c.socket !== undefined ? { socketPath: c.socket } : { address: l.address, port: l.port }),
  });
  await server.listen();
  return server;
}

/** Where the CLI finds the endpoint `cfg.control` describes (reads the token file). */
export function controlTargetFromConfig(cfg: Config): ControlTarget {
  const c = cfg.control;
  if (c.socket !== undefined) {
    return c.tokenFile !== undefined ? { socketPath: c.socket, token: readToken(c.tokenFile) } : { socketPath: c.socket };
  }
  const l = parseListen(c.listen);
  return { address: l.address, port: l.port, token: readToken(c.tokenFile ?? clientTokenFile()) };
}
