/**
 * The hosts file (`/etc/hosts` format, hosts(5)): one address per line followed by one or more
 * names, `#` comments, IPv4 and IPv6. Answers A/AAAA for its names and PTR for its addresses.
 *
 * Invariants:
 * - A loaded table is never changed: a reload builds a new one and swaps it in one assignment,
 *   so a lookup sees either the old file or the new one, never half of each.
 * - A line that does not parse is skipped and reported (with its line number); it never stops
 *   the rest of the file from loading. A file that cannot be read keeps the previous table.
 * - Names are matched case-insensitively (by `Name.key`); the first name on a line is the
 *   canonical one, the one a PTR query gets (as glibc and dnsmasq do).
 * - Changes are noticed by `fs.watch` on the file's directory (editors replace files by
 *   renaming, which a watch on the file itself would miss) and, where watching is unavailable
 *   or unreliable (network file systems), by a periodic `stat` comparing mtime, size and inode.
 */
import { type FSWatcher, readFileSync, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../logging.js';
import { Name } from '../wire/name.js';

/** One problem found while reading the file. */
export interface HostsProblem {
  line: number;
  reason: string;
}

/** What the file says about one name. */
export interface HostsEntry {
  /** The name as first written in the file. */
  name: Name;
  ipv4: string[];
  ipv6: string[];
}

/** An immutable parsed hosts file. */
export class HostsTable {
  /** By `Name.key`. */
  readonly byName = new Map<string, HostsEntry>();
  /** Reverse names (`4.3.2.1.in-addr.arpa.`, nibble `ip6.arpa.`) by key -> canonical name. */
  readonly byReverse = new Map<string, Name>();
  readonly problems: HostsProblem[] = [];

  get size(): number {
    return this.byName.size;
  }

  lookup(name: Name): HostsEntry | undefined {
    return this.byName.get(name.key);
  }

  /** The canonical name for a reverse-mapping name, if one of the file's addresses. */
  reverse(name: Name): Name | undefined {
    return this.byReverse.get(name.key);
  }
}

const isV4 = (s: string): boolean => z.ipv4().safeParse(s).success;
const isV6 = (s: string): boolean => z.ipv6().safeParse(s).success;

/** Expands an IPv6 address to its 32 hex nibbles (lowercase), or undefined. */
export function ipv6Nibbles(text: string): string | undefined {
  let s = text.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!isV4(tail)) return undefined;
    const o = tail.split('.').map(Number);
    s = s.slice(0, lastColon + 1) + ((o[0]! << 8) | o[1]!).toString(16) + ':' + ((o[2]! << 8) | o[3]!).toString(16);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const rest = halves.length === 2 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  let out = '';
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    out += g.padStart(4, '0');
  }
  return out;
}

/** The reverse-mapping name for an address (RFC 1035 §3.5 in-addr.arpa, RFC 3596 §2.5 ip6.arpa). */
export function reverseName(address: string): Name | undefined {
  if (isV4(address)) return Name.fromText(address.split('.').reverse().join('.') + '.in-addr.arpa.');
  const n = ipv6Nibbles(address);
  if (n === undefined) return undefined;
  return Name.fromText([...n].reverse().join('.') + '.ip6.arpa.');
}

/** True for 0.0.0.0 and ::, which blocklists use and which must not get a PTR. */
function isUnspecified(address: string, v6: boolean): boolean {
  return v6 ? ipv6Nibbles(address) === '0'.repeat(32) : address === '0.0.0.0';
}

/** Parses hosts(5) text. Bad lines are recorded in `problems` and skipped. */
export function parseHosts(text: string): HostsTable {
  const t = new HostsTable();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    const fields = line.trim().split(/\s+/);
    if (fields.length === 1 && fields[0] === '') continue;
    const lineNo = i + 1;
    let address = fields[0]!;
    // A zone index (fe80::1%eth0) only means something to the host itself: drop it.
    const pct = address.indexOf('%');
    if (pct >= 0) address = address.slice(0, pct);
    const v4 = isV4(address);
    const v6 = !v4 && isV6(address);
    if (!v4 && !v6) {
      t.problems.push({ line: lineNo, reason: `"${fields[0]}" is not an IPv4 or IPv6 address` });
      continue;
    }
    if (fields.length < 2) {
      t.problems.push({ line: lineNo, reason: `address ${address} has no names` });
      continue;
    }
    // Keep the canonical text form the wire codec would produce (:: compression, lowercase).
    const canonical = v6 ? address.toLowerCase() : address;
    let first: Name | undefined;
    for (let f = 1; f < fields.length; f++) {
      let name: Name;
      try {
        const text = fields[f]!;
        name = Name.fromText(text.endsWith('.') ? text : text + '.');
      } catch (err) {
        t.problems.push({ line: lineNo, reason: `bad name "${fields[f]}": ${(err as Error).message}` });
        continue;
      }
      first ??= name;
      let e = t.byName.get(name.key);
      if (e === undefined) {
        e = { name, ipv4: [], ipv6: [] };
        t.byName.set(name.key, e);
      }
      const list = v4 ? e.ipv4 : e.ipv6;
      if (!list.includes(canonical)) list.push(canonical);
    }
    if (first !== undefined && !isUnspecified(canonical, v6)) {
      const rev = reverseName(canonical);
      // The first line naming an address wins its PTR (as glibc's gethostbyaddr does).
      if (rev !== undefined && !t.byReverse.has(rev.key)) t.byReverse.set(rev.key, first);
    }
  }
  return t;
}

export interface HostsFileOptions {
  logger?: Logger;
  /** Watch the file and reload it when it changes (default true). */
  watch?: boolean;
  /** How often to stat the file as the fallback for missed watch events; 0 = never (default 5000). */
  pollMs?: number;
}

/**
 * A hosts file on disk, loaded at construction and reloaded when it changes. A missing file
 * gives an empty table (and is picked up when it appears).
 */
export class HostsFile {
  readonly path: string;
  private tableNow: HostsTable = new HostsTable();
  private readonly logger: Logger | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private signature = '';
  private readonly listeners: ((t: HostsTable) => void)[] = [];
  /** Times the table was (re)built from the file. */
  loads = 0;

  constructor(path: string, opts: HostsFileOptions = {}) {
    this.path = path;
    this.logger = opts.logger;
    this.reload();
    if (opts.watch !== false) {
      this.startWatch();
      const pollMs = opts.pollMs ?? 5000;
      if (pollMs > 0) {
        this.timer = setInterval(() => this.checkChanged(), pollMs);
        this.timer.unref();
      }
    }
  }

  get table(): HostsTable {
    return this.tableNow;
  }

  /** Called with the new table after every successful reload. */
  onReload(fn: (t: HostsTable) => void): void {
    this.listeners.push(fn);
  }

  /** Re-reads the file now (what `sovereign reload` and a detected change do). Returns the entry count. */
  reload(): number {
    let text: string;
    try {
      this.signature = this.stat();
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.tableNow = new HostsTable();
        this.logger?.warn({ path: this.path }, 'hosts file not found; serving no hosts entries');
        for (const fn of this.listeners) fn(this.tableNow);
        return 0;
      }
      this.logger?.error({ path: this.path, err }, 'hosts file unreadable; keeping the previous entries');
      return this.tableNow.size;
    }
    const t = parseHosts(text);
    for (const p of t.problems) this.logger?.warn({ path: this.path, line: p.line }, `hosts: ${p.reason}`);
    this.tableNow = t;
    this.loads++;
    this.logger?.info({ path: this.path, names: t.size }, 'hosts file loaded');
    for (const fn of this.listeners) fn(t);
    return t.size;
  }

  /** Stops watching. */
  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.debounce !== undefined) clearTimeout(this.debounce);
    this.timer = undefined;
  }

  private stat(): string {
    try {
      const s = statSync(this.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'absent';
    }
  }

  /** Reloads when mtime, size or inode differ from the last load. */
  checkChanged(): boolean {
    if (this.stat() === this.signature) return false;
    this.reload();
    return true;
  }

  private startWatch(): void {
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, file) => {
        if (file !== null && file !== name) return;
        // Writers often truncate then write: wait for the burst to end before re-reading.
        if (this.debounce !== undefined) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => this.checkChanged(), 50);
        this.debounce.unref();
      });
      this.watcher.on('error', (err) => {
        this.logger?.warn({ path: this.path, err }, 'hosts file watch failed; relying on periodic checks');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.logger?.warn({ path: this.path, err }, 'cannot watch the hosts file; relying on periodic checks');
    }
  }
}
