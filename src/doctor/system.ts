/**
 * Layer "system": which resolvers this host uses. Reads /etc/resolv.conf as glibc does
 * (resolv.conf(5): `nameserver` up to 3 used, `search`/`domain` (the last one wins),
 * `options ndots:N timeout:N attempts:N rotate edns0 trust-ad ...`), and recognises
 * systemd-resolved: the stub 127.0.0.53 (or 127.0.0.54) in resolv.conf, the real upstreams in
 * /run/systemd/resolve/resolv.conf, and `resolvectl dns` when the tool is installed.
 *
 * Invariants: parsing never throws (a bad line is reported as a warning finding); file reads go
 * through an injected reader so tests give sample files; nothing here sends a packet.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { type Finding, finding } from './report.js';

export interface Nameserver {
  address: string;
  /** IPv6 zone (scope) after `%`, e.g. `eth0` in fe80::1%eth0. */
  scope?: string;
}

export interface ResolvConf {
  nameservers: Nameserver[];
  search: string[];
  options: {
    ndots: number;
    timeout: number;
    attempts: number;
    rotate: boolean;
    edns0: boolean;
    trustAd: boolean;
    /** Every option as written (`ndots:2`, `single-request`...). */
    raw: string[];
  };
  /** Lines that could not be understood, with their line numbers. */
  problems: string[];
}

/** glibc's MAXNS: only the first three nameservers are used. */
export const MAXNS = 3;

/** Parses resolv.conf text (resolv.conf(5)); unknown keywords are ignored as glibc does, bad values reported. */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = {
    nameservers: [], search: [],
    options: { ndots: 1, timeout: 5, attempts: 2, rotate: false, edns0: false, trustAd: false, raw: [] },
    problems: [],
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    // resolv.conf(5): comments start with ';' or '#' in the first column; glibc also strips them after values.
    const line = lines[i]!.replace(/[;#].*$/, '').trim();
    if (line === '') continue;
    const [key, ...args] = line.split(/\s+/);
    switch (key) {
      case 'nameserver': {
        const arg = args[0] ?? '';
        const pct = arg.indexOf('%');
        const address = pct < 0 ? arg : arg.slice(0, pct);
        if (isIP(address) === 0) {
          conf.problems.push(`line ${i + 1}: nameserver "${arg}" is not an IP address`);
          break;
        }
        conf.nameservers.push(pct < 0 ? { address } : { address, scope: arg.slice(pct + 1) });
        break;
      }
      case 'domain':
        conf.search = args.length > 0 ? [args[0]!] : [];
        break;
      case 'search':
        conf.search = args.filter((a) => a !== '.');
        break;
      case 'options':
        for (const o of args) {
          conf.options.raw.push(o);
          const [opt, val] = o.split(':');
          const n = val === undefined ? NaN : Number(val);
          if (opt === 'ndots' || opt === 'timeout' || opt === 'attempts') {
            if (!Number.isInteger(n) || n < 0) conf.problems.push(`line ${i + 1}: options ${o}: needs a whole number`);
            // glibc caps: ndots 15, timeout 30, attempts 5 (RES_MAXNDOTS, RES_MAXRETRANS, RES_MAXRETRY).
            else if (opt === 'ndots') conf.options.ndots = Math.min(n, 15);
            else if (opt === 'timeout') conf.options.timeout = Math.min(n, 30);
            else conf.options.attempts = Math.min(n, 5);
          } else if (opt === 'rotate') conf.options.rotate = true;
          else if (opt === 'edns0') conf.options.edns0 = true;
          else if (opt === 'trust-ad') conf.options.trustAd = true;
        }
        break;
      case 'sortlist':
        break;
      default:
        conf.problems.push(`line ${i + 1}: unknown keyword "${key}"`);
    }
  }
  return conf;
}

/** systemd-resolved's stub listeners (resolved.conf(5): 127.0.0.53, and 127.0.0.54 in proxy mode). */
const RESOLVED_STUBS = new Set(['127.0.0.53', '127.0.0.54']);

export interface SystemView {
  conf: ResolvConf;
  /** The resolvers to examine: resolv.conf's nameservers (the stub among them, when resolved runs). */
  resolvers: Nameserver[];
  /** systemd-resolved's upstream servers, when it is in use and they could be read. */
  resolvedUpstreams: Nameserver[];
  resolved: boolean;
  findings: Finding[];
}

export interface SystemSources {
  /** Reads a file; undefined when it does not exist or cannot be read. */
  readFile(path: string): string | undefined;
  /** Output of `resolvectl dns`, or undefined when the tool is missing or fails. */
  resolvectl(): string | undefined;
}

/** The real host: files from disk, `resolvectl` when installed (it only talks to resolved over D-Bus). */
export const hostSources: SystemSources = {
  readFile(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  resolvectl() {
    const bin = ['/usr/bin/resolvectl', '/bin/resolvectl'].find((p) => existsSync(p));
    if (bin === undefined) return undefined;
    const r = spawnSync(bin, ['dns'], { encoding: 'utf8', timeout: 3000 });
    return r.status === 0 ? r.stdout : undefined;
  },
};

/** Addresses listed by `resolvectl dns` ("Global: 192.0.2.1 2001:db8::1", "Link 2 (eth0): ..."). */
export function parseResolvectlDns(text: string): Nameserver[] {
  const out: Nameserver[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || !/^(Global|Link)/.test(line.trim())) continue;
    for (const word of line.slice(colon + 1).trim().split(/\s+/)) {
      const a = word.replace(/#.*$/, '').replace(/%.*$/, '');
      if (isIP(a) !== 0 && !out.some((n) => n.address === a)) out.push({ address: a });
    }
  }
  return out;
}

/** Reads and judges this host's resolver configuration. */
export function examineSystem(src: SystemSources = hostSources, path = '/etc/resolv.conf'): SystemView {
  const findings: Finding[] = [];
  const text = src.readFile(path);
  const conf = parseResolvConf(text ?? '');
  if (text === undefined) {
    findings.push(finding('system', 'resolv.conf', 'warn', `${path} is missing; the C library then asks 127.0.0.1`,
      `write ${path} with a "nameserver ADDRESS" line for your resolver`));
  }
  for (const p of conf.problems) findings.push(finding('system', 'resolv.conf', 'warn', `${path} ${p}`, 'correct or remove the line (see resolv.conf(5))'));
  let nameservers = conf.nameservers;
  // resolv.conf(5): with no nameserver line the resolver uses the local host.
  if (nameservers.length === 0 && text !== undefined) {
    findings.push(finding('system', 'nameservers', 'warn', `${path} names no nameserver; the C library then asks 127.0.0.1`,
      `add "nameserver ADDRESS" for your resolver to ${path}`));
    nameservers = [{ address: '127.0.0.1' }];
  } else if (nameservers.length > 0) {
    const used = nameservers.slice(0, MAXNS).map((n) => n.address + (n.scope !== undefined ? `%${n.scope}` : '')).join(', ');
    findings.push(finding('system', 'nameservers', 'ok', `${path}: ${used}${conf.search.length > 0 ? `; search ${conf.search.join(' ')}` : ''}` +
      `; options ndots:${conf.options.ndots} timeout:${conf.options.timeout} attempts:${conf.options.attempts}` +
      `${conf.options.rotate ? ' rotate' : ''}${conf.options.edns0 ? ' edns0' : ''}${conf.options.trustAd ? ' trust-ad' : ''}`));
  }
  if (nameservers.length > MAXNS) {
    findings.push(finding('system', 'nameservers', 'warn', `${nameservers.length} nameservers listed; only the first ${MAXNS} are used`,
      `keep at most ${MAXNS} nameserver lines in ${path}`));
  }
  if (conf.options.ndots > 1) {
    findings.push(finding('system', 'ndots', 'warn', `options ndots:${conf.options.ndots}: names with fewer dots are tried with each search domain first`,
      'lower ndots (1 is the default) unless you rely on short names with dots'));
  }
  const used = nameservers.slice(0, MAXNS);
  const resolved = used.some((n) => RESOLVED_STUBS.has(n.address));
  let upstreams: Nameserver[] = [];
  if (resolved) {
    const uplink = src.readFile('/run/systemd/resolve/resolv.conf');
    if (uplink !== undefined) upstreams = parseResolvConf(uplink).nameservers;
    const ctl = src.resolvectl();
    if (ctl !== undefined) {
      for (const n of parseResolvectlDns(ctl)) if (!upstreams.some((u) => u.address === n.address)) upstreams.push(n);
    }
    if (upstreams.length > 0) {
      findings.push(finding('system', 'systemd-resolved', 'ok',
        `systemd-resolved's stub answers on 127.0.0.53; it forwards to ${upstreams.map((n) => n.address).join(', ')}`));
    } else {
      findings.push(finding('system', 'systemd-resolved', 'warn',
        'resolv.conf points at systemd-resolved\'s stub 127.0.0.53, but it knows no upstream server',
        'give systemd-resolved a DNS server (DNS= in resolved.conf or from DHCP), then `resolvectl dns` lists it'));
    }
  }
  return { conf, resolvers: used, resolvedUpstreams: upstreams, resolved, findings };
}
