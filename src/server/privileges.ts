/**
 * Dropping root after binding (`user:` in the config), as named -u and nsd's `username:` do:
 * the process binds port 53 as root, then switches group, supplementary groups and user, so
 * a bug in query handling runs with the rights of an unprivileged account.
 *
 * Invariant: the switch is all or nothing; if any step fails the caller stops the server
 * rather than run as root when the operator asked otherwise.
 */
import { readFileSync } from 'node:fs';
import { ServerError } from '../errors.js';

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** Looks `name` (or a numeric uid) up in /etc/passwd. */
export function lookupAccount(name: string, passwd = '/etc/passwd'): Account {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch (err) {
    throw new ServerError(`user: cannot read ${passwd} to look up "${name}"`, err);
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4) continue;
    if (f[0] === name || f[2] === name) return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new ServerError(`user: no account "${name}" in ${passwd} (create it, e.g. \`useradd --system --no-create-home sovereign\`)`);
}

/**
 * Becomes `user` (its primary group; supplementary groups reduced to that group). Running already as that
 * user is fine; any other non-root user cannot switch and gets a ServerError.
 */
export function dropPrivileges(user: string): Account {
  const account = lookupAccount(user);
  if (process.getuid === undefined || process.setuid === undefined || process.setgid === undefined || process.setgroups === undefined) {
    throw new ServerError('user: switching users is not supported on this platform');
  }
  const uid = process.getuid();
  if (uid === account.uid) return account;
  if (uid !== 0) throw new ServerError(`user: running as uid ${uid}, which cannot switch to "${user}" (start as root, or leave user: out)`);
  try {
    // Order matters: groups while still root, the user last (after it, nothing can be changed back).
    // Supplementary groups: only the account's primary group (root's groups must not stay).
    process.setgroups([account.gid]);
    process.setgid(account.gid);
    process.setuid(account.uid);
  } catch (err) {
    throw new ServerError(`user: cannot switch to "${user}": ${(err as Error).message}`, err);
  }
  if (process.getuid() !== account.uid || process.geteuid?.() !== account.uid) {
    throw new ServerError(`user: still uid ${process.getuid()} after switching to "${user}"`);
  }
  return account;
}
