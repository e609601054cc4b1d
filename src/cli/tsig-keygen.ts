/**
 * `sovereign tsig-keygen [-a ALGORITHM] [NAME]`: prints a new TSIG key (RFC 8945) in BIND's
 * key-file syntax, as BIND's tsig-keygen does: a random secret as long as the digest, default
 * hmac-sha256, default name `tsig-key`. The output goes under `keys:` or to `dig -k`.
 */
import { TextFormatError } from '../errors.js';
import { TSIG_ALGORITHMS, generateKey, keyFileText } from '../tsig/key.js';
import type { Command } from './command.js';

const USAGE = `usage: sovereign tsig-keygen [-a ALGORITHM] [NAME]
  -a ALGORITHM   ${TSIG_ALGORITHMS.map((a) => a.short).join(', ')} (default hmac-sha256)
  NAME           the key's name (default tsig-key)
Prints the key as BIND's tsig-keygen does; in sovereign.yaml it becomes
  keys: { NAME: { algorithm: ALGORITHM, secret: "..." } }`;

export function tsigKeygen(args: string[], out: (s: string) => void, err: (s: string) => void): number {
  let algorithm = 'hmac-sha256';
  let name = 'tsig-key';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-a') {
      const v = args[++i];
      if (v === undefined) {
        err('tsig-keygen: -a needs an algorithm\n');
        return 2;
      }
      algorithm = v;
    } else if (a.startsWith('-')) {
      err(`tsig-keygen: unknown option ${a} (see \`sovereign tsig-keygen --help\`)\n`);
      return 2;
    } else {
      name = a;
    }
  }
  try {
    out(keyFileText(generateKey(name, algorithm)));
  } catch (e) {
    if (!(e instanceof TextFormatError)) throw e;
    err(`tsig-keygen: ${e.message}\n`);
    return 2;
  }
  return 0;
}

export const command: Command = {
  summary: 'print a new TSIG key (as BIND tsig-keygen does)',
  usage: USAGE,
  run: (args) => tsigKeygen(args, (s) => process.stdout.write(s), (s) => process.stderr.write(s)),
};
