/**
 * How the CLI commands (`cache`, `stats`, `reload`) find the control endpoint:
 *   --control ADDR:PORT | --control /path/to.sock   explicit endpoint
 *   --token-file FILE                               explicit token
 *   --config FILE                                   the server's config (its `control` section)
 * With none of them, the embedded default: 127.0.0.1:8053 and the default token file.
 */
import { existsSync } from 'node:fs';
import { type ListenAddress, embeddedConfig, loadConfigFile, parseListen } from '../config/load.js';
import { ConfigError } from '../errors.js';
import type { ControlTarget } from './client.js';
import { controlTargetFromConfig } from './start.js';
import { clientTokenFile, readToken } from './token.js';

/** Options every control command accepts (for node:util parseArgs). */
export const targetOptions = {
  control: { type: 'string' },
  'token-file': { type: 'string' },
  config: { type: 'string', short: 'c' },
} as const;

export interface TargetValues {
  control?: string | undefined;
  'token-file'?: string | undefined;
  config?: string | undefined;
}

/** Resolves the endpoint from the parsed options (throws with a message naming the fix). */
export function resolveTarget(v: TargetValues): ControlTarget {
  if (v.control !== undefined) {
    if (v.control.includes('/')) {
      const tokenFile = v['token-file'];
      return tokenFile !== undefined ? { socketPath: v.control, token: readToken(tokenFile) } : { socketPath: v.control };
    }
    let l: ListenAddress;
    try {
      l = parseListen(v.control);
    } catch (err) {
      // Named as the flag the user typed, not as a config key.
      if (err instanceof ConfigError) throw new ConfigError(`--control "${v.control}"`, err.problem, 'write --control 127.0.0.1:8053 or the path of the control socket');
      throw err;
    }
    const base = v.config !== undefined ? loadConfigFile(v.config) : embeddedConfig();
    const tokenFile = v['token-file'] ?? base.control.tokenFile ?? clientTokenFile();
    return { address: l.address, port: l.port, token: readToken(tokenFile) };
  }
  const cfg = v.config !== undefined ? loadConfigFile(v.config) : embeddedConfig();
  if (v['token-file'] !== undefined) {
    if (!existsSync(v['token-file'])) throw new Error(`${v['token-file']} does not exist`);
    cfg.control.tokenFile = v['token-file'];
  }
  return controlTargetFromConfig(cfg);
}
