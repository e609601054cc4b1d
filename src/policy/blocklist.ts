/**
 * Plain blocklists as Pi-hole and AdGuard Home users have them, parsed and held for lookups.
 *
 * Formats (detected per line, so mixed lists work; `format` only narrows what is accepted):
 * - hosts: `0.0.0.0 ads.example [more names]` — each name blocked EXACTLY (Pi-hole's gravity
 *   semantics for hosts and domain lists: `ads.example` does not block `x.ads.example`).
 * - domains: one name per line, blocked exactly (Pi-hole).
 * - adblock: `||ads.example^` blocks the name AND its subdomains (AdGuard/ABP, and Pi-hole v6's
 *   ABP-style entries); `@@||name^` is an exception (allowed, with subdomains). Other ABP rules
 *   (paths, options, regexes) are skipped, as Pi-hole skips them.
 * Comments (`#`, `!`), blank lines and the hosts file's own names (localhost, broadcasthost...)
 * are ignored; malformed names are skipped and reported with their line.
 *
 * Invariants: names are stored as Name.key strings (lowercased wire form, Latin-1), so a lookup
 * uses the query name's cached key and its suffixes: no Name, no dotted string built per query.
 * A list is immutable once built; reloading builds a new one and swaps it in.
 */

export type ListFormat = 'hosts' | 'domains' | 'adblock';

/** Names hosts files carry for the machine itself: never entries. */
const HOSTS_OWN = new Set([
  'localhost', 'localhost.localdomain', 'local', 'broadcasthost', 'ip6-localhost', 'ip6-loopback', 'ip6-localnet',
  'ip6-mcastprefix', 'ip6-allnodes', 'ip6-allrouters', 'ip6-allhosts', '0.0.0.0',
]);

/** Scratch for hostKey: the key is written here, then made one flat Latin-1 string (no rope of concatenations). */
const scratch = Buffer.alloc(256);

/**
 * The Name.key of a dotted host name (`ads.Example.com`, trailing dot optional), or undefined when
 * it is not a valid DNS name of letters, digits, `-` and `_` (labels 1-63 octets, 255 in all).
 * The string is flat (one allocation): half a million of them are the list's memory.
 */
export function hostKey(text: string): string | undefined {
  let n = text.length;
  if (n > 0 && text.charCodeAt(n - 1) === 46) n--;
  if (n === 0 || n > 253) return undefined;
  const out = scratch;
  let lenAt = 0;
  let pos = 1;
  for (let i = 0; i < n; i++) {
    let d = text.charCodeAt(i);
    if (d === 46) {
      const len = pos - lenAt - 1;
      if (len < 1 || len > 63) return undefined;
      out[lenAt] = len;
      lenAt = pos;
      pos++;
      continue;
    }
    if (d >= 65 && d <= 90) d += 32;
    else if (!((d >= 97 && d <= 122) || (d >= 48 && d <= 57) || d === 45 || d === 95)) return undefined;
    out[pos++] = d;
  }
  const len = pos - lenAt - 1;
  if (len < 1 || len > 63) return undefined;
  out[lenAt] = len;
  out[pos++] = 0;
  return out.toString('latin1', 0, pos);
}

function isAddress(token: string): boolean {
  // hosts(5): an IPv4 or IPv6 address first. Cheap shape test (the address itself is not used).
  const c = token.charCodeAt(0);
  return token.includes(':') || (c >= 48 && c <= 57 && /^\d{1,3}(\.\d{1,3}){3}$/.test(token));
}

export interface ParseProblem {
  line: number;
  text: string;
  reason: string;
}

/** A parsed list: names blocked exactly, names blocked with their subdomains, and exceptions. */
export class Blocklist {
  readonly exact = new Set<string>();
  readonly subtree = new Set<string>();
  /** `@@||name^` exceptions in this list (name and subdomains). */
  readonly exceptions = new Set<string>();
  /** Lines skipped as malformed: how many, and the first few (file/line for the log). */
  skipped = 0;
  readonly problems: ParseProblem[] = [];

  get size(): number {
    return this.exact.size + this.subtree.size;
  }

  /**
   * Parses `text` (a whole list). `format` narrows what a line may be; undefined accepts all three.
   * Malformed lines are counted and skipped (the first 20 kept for the log).
   */
  static parse(text: string, format?: ListFormat): Blocklist {
    const list = new Blocklist();
    let lineNo = 0;
    let at = 0;
    const n = text.length;
    while (at < n) {
      let end = text.indexOf('\n', at);
      if (end < 0) end = n;
      lineNo++;
      const line = text.slice(at, end);
      at = end + 1;
      list.line(line, lineNo, format);
    }
    return list;
  }

  private problem(line: number, text: string, reason: string): void {
    this.skipped++;
    if (this.problems.length < 20) this.problems.push({ line, text: text.length > 80 ? text.slice(0, 80) + '...' : text, reason });
  }

  private line(raw: string, lineNo: number, format: ListFormat | undefined): void {
    let s = raw.trim();
    if (s.length === 0) return;
    const c0 = s.charCodeAt(0);
    if (c0 === 35 /* # */ || c0 === 33 /* ! */ || c0 === 91 /* [ */) return;
    if (s.startsWith('||') || s.startsWith('@@||')) {
      if (format !== undefined && format !== 'adblock') return this.problem(lineNo, raw, `an adblock rule in a ${format} list`);
      const allow = s.startsWith('@@');
      s = s.slice(allow ? 4 : 2);
      // `||name^` (optionally `$important` or other options, which only browsers act on).
      const caret = s.indexOf('^');
      const tail = caret < 0 ? '' : s.slice(caret + 1);
      const name = caret < 0 ? s : s.slice(0, caret);
      if (tail !== '' && !tail.startsWith('$')) return this.problem(lineNo, raw, 'not a whole-domain rule (||name^)');
      const key = hostKey(name);
      if (key === undefined) return this.problem(lineNo, raw, `"${name}" is not a domain name`);
      (allow ? this.exceptions : this.subtree).add(key);
      return;
    }
    const hash = s.indexOf('#');
    if (hash >= 0) s = s.slice(0, hash).trim();
    if (s.length === 0) return;
    const tokens = s.split(/\s+/);
    if (tokens.length > 1 || isAddress(tokens[0]!)) {
      if (!isAddress(tokens[0]!)) return this.problem(lineNo, raw, 'several names on a line without an address first');
      if (format !== undefined && format !== 'hosts') return this.problem(lineNo, raw, `a hosts line in a ${format} list`);
      for (let i = 1; i < tokens.length; i++) {
        const name = tokens[i]!.toLowerCase();
        if (HOSTS_OWN.has(name)) continue;
        const key = hostKey(name);
        if (key === undefined) this.problem(lineNo, raw, `"${tokens[i]}" is not a domain name`);
        else this.exact.add(key);
      }
      return;
    }
    if (format === 'adblock') return this.problem(lineNo, raw, 'not an adblock rule (||name^)');
    const name = tokens[0]!;
    if (HOSTS_OWN.has(name.toLowerCase())) return;
    const key = hostKey(name);
    if (key === undefined) return this.problem(lineNo, raw, `"${name}" is not a domain name`);
    this.exact.add(key);
  }
}

/** The allowlist: exact names, and `*.name` / `||name^` entries for a name and its subdomains. */
export class Allowlist {
  readonly exact = new Set<string>();
  readonly subtree = new Set<string>();

  get size(): number {
    return this.exact.size + this.subtree.size;
  }

  /** Adds one entry; false when it is not a name. */
  add(entry: string): boolean {
    let s = entry.trim();
    let sub = false;
    if (s.startsWith('*.')) {
      sub = true;
      s = s.slice(2);
    } else if (s.startsWith('||') || s.startsWith('@@||')) {
      sub = true;
      s = s.slice(s.startsWith('@@') ? 4 : 2);
      const caret = s.indexOf('^');
      if (caret >= 0) s = s.slice(0, caret);
    }
    const key = hostKey(s);
    if (key === undefined) return false;
    (sub ? this.subtree : this.exact).add(key);
    return true;
  }

  allows(key: string): boolean {
    return this.exact.has(key) || (this.subtree.size > 0 && inSubtree(this.subtree, key));
  }
}

/** True when `key` or one of its ancestors (keys are suffixes at label boundaries) is in `set`. */
export function inSubtree(set: ReadonlySet<string>, key: string): boolean {
  let at = 0;
  for (;;) {
    const len = key.charCodeAt(at);
    if (len === 0) return false;
    if (set.has(at === 0 ? key : key.slice(at))) return true;
    at += len + 1;
  }
}

/** Whether `list` blocks the name whose key is `key` (its own exceptions win, as in ABP). */
export function listBlocks(list: Blocklist, key: string): boolean {
  if (!list.exact.has(key) && (list.subtree.size === 0 || !inSubtree(list.subtree, key))) return false;
  return list.exceptions.size === 0 || !inSubtree(list.exceptions, key);
}
