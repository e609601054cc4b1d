/**
 * The stub resolver of a lab client, in the order of seed 001 (as Windows and systemd-resolved
 * ask): the hosts file, the stub's own small cache, DNS (the configured server, the gateway),
 * then, for single-label names only, LLMNR (RFC 4795) and NetBIOS name service (RFC 1002).
 * Each source can be switched off. The cache is a small JSON file per client (the stub runs as
 * one short process per lookup), keyed by name and type, expiring by the answer's smallest TTL.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { exchange } from '../client/exchange.js';
import { queryLlmnr } from '../llmnr/client.js';
import { queryName } from '../netbios/client.js';
import { parseHosts } from '../resolver/hosts.js';
import { rcodeToString } from '../wire/constants.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import { RRType, printRData, typeFromString, typeToString } from '../wire/types.js';

export type StubSource = 'hosts' | 'cache' | 'dns' | 'llmnr' | 'netbios';

export interface StubOptions {
  name: string;
  type: string;
  hostsFile?: string;
  cacheFile?: string;
  /** DNS server (the gateway). */
  server?: string;
  /** Subnet broadcast for NetBIOS (B-node). */
  broadcast?: string;
  /** This client's address: LLMNR multicast goes out of its interface. */
  address?: string;
  use: Record<StubSource, boolean>;
  dnsTimeoutMs?: number;
}

export interface StubAnswer {
  name: string;
  ttl: number;
  type: string;
  data: string;
}

export interface StubStep {
  source: StubSource;
  outcome: string;
  ms: number;
}

export interface StubResult {
  name: string;
  type: string;
  /** Which source answered, or 'none'. */
  source: StubSource | 'none';
  /** DNS RCODE text when DNS decided the outcome; NOERROR for the other sources' answers. */
  status: string;
  answers: StubAnswer[];
  steps: StubStep[];
}

interface CacheEntry { expires: number; answers: StubAnswer[] }
const CACHE_MAX = 64;

function readCache(file: string | undefined): Record<string, CacheEntry> {
  if (file === undefined || !existsSync(file)) return {};
  try { return JSON.parse(readFileSync(file, 'utf8')) as Record<string, CacheEntry>; } catch { return {}; }
}

/** Runs the stub order for one question. */
export async function stubResolve(o: StubOptions, now = Date.now): Promise<StubResult> {
  const name = Name.fromText(o.name.endsWith('.') ? o.name : o.name + '.');
  const typeText = o.type.toUpperCase();
  const type = typeText === 'AAAA' ? RRType.AAAA : typeText === 'A' ? RRType.A : undefined;
  const r: StubResult = { name: name.toString(), type: typeText, source: 'none', status: 'NXDOMAIN', answers: [], steps: [] };
  const step = (source: StubSource, t0: number, outcome: string): void => { r.steps.push({ source, outcome, ms: Math.round(now() - t0) }); };
  const done = (source: StubSource, answers: StubAnswer[], status = 'NOERROR'): StubResult => {
    r.source = source;
    r.answers = answers;
    r.status = status;
    return r;
  };

  if (o.use.hosts && o.hostsFile !== undefined && type !== undefined) {
    const t0 = now();
    const e = existsSync(o.hostsFile) ? parseHosts(readFileSync(o.hostsFile, 'utf8')).lookup(name) : undefined;
    const addrs = e === undefined ? [] : type === RRType.A ? e.ipv4 : e.ipv6;
    step('hosts', t0, addrs.length > 0 ? `${addrs.length} address(es)` : 'not listed');
    if (addrs.length > 0) return done('hosts', addrs.map((a) => ({ name: r.name, ttl: 0, type: typeText, data: a })));
  }

  const key = `${name.key}/${typeText}`;
  const cache = o.use.cache ? readCache(o.cacheFile) : {};
  if (o.use.cache) {
    const t0 = now();
    const hit = cache[key];
    if (hit !== undefined && hit.expires > now()) {
      const left = Math.max(0, Math.floor((hit.expires - now()) / 1000));
      step('cache', t0, `hit, ${left} s left`);
      return done('cache', hit.answers.map((a) => ({ ...a, ttl: Math.min(a.ttl, left) })));
    }
    step('cache', t0, hit === undefined ? 'miss' : 'expired');
  }

  if (o.use.dns && o.server !== undefined) {
    const t0 = now();
    const qtype = type ?? typeFromString(typeText) ?? RRType.A;
    try {
      const x = await exchange(Message.query(name, qtype), { address: o.server, port: 53 }, { timeoutMs: o.dnsTimeoutMs ?? 6000 });
      const m = x.message;
      const answers = m.answer.map((rr) => ({ name: rr.name.toString(), ttl: rr.ttl, type: typeToString(rr.type), data: printRData(rr.type, rr.data) }));
      const status = rcodeToString(m.rcode);
      step('dns', t0, `${status} from ${o.server}, ${answers.length} record(s)`);
      if (m.rcode === 0 && answers.length > 0) {
        if (o.use.cache && o.cacheFile !== undefined) {
          const ttl = Math.min(...answers.map((a) => a.ttl));
          if (ttl > 0) {
            cache[key] = { expires: now() + ttl * 1000, answers };
            const keys = Object.keys(cache);
            for (const k of keys.slice(0, Math.max(0, keys.length - CACHE_MAX))) delete cache[k];
            writeFileSync(o.cacheFile, JSON.stringify(cache));
          }
        }
        return done('dns', answers, status);
      }
      r.status = status;
    } catch (e) {
      step('dns', t0, `no answer (${(e as Error).message})`);
      r.status = 'TIMEOUT';
    }
  }

  // Seed 001: LLMNR and NetBIOS only for single-label names (a multi-label name is DNS's).
  if (name.labelCount !== 1 || type === undefined) return r;
  if (o.use.llmnr) {
    const t0 = now();
    const l = await queryLlmnr(name, type, { interfaceAddress: o.address });
    const answers = l.responses.flatMap((x) => x.message.answer.filter((rr) => rr.type === type))
      .map((rr) => ({ name: rr.name.toString(), ttl: rr.ttl, type: typeText, data: printRData(rr.type, rr.data) }));
    step('llmnr', t0, answers.length > 0 ? `answered by ${l.responses.map((x) => x.from).join(', ')}` : 'no responder');
    if (answers.length > 0) return done('llmnr', answers);
  }
  if (o.use.netbios && type === RRType.A && o.broadcast !== undefined) {
    const t0 = now();
    const label = name.toString().slice(0, -1).toUpperCase();
    const got = label.length <= 15 ? await queryName({ name: label, suffix: 0x00, scope: '' }, { to: o.broadcast, timeoutMs: 1000 }) : [];
    const addrs = [...new Set(got.flatMap((g) => g.addresses.map((a) => a.address)))];
    step('netbios', t0, addrs.length > 0 ? `answered by ${[...new Set(got.map((g) => g.from))].join(', ')}` : 'no node answered');
    if (addrs.length > 0) return done('netbios', addrs.map((a) => ({ name: r.name, ttl: 0, type: 'A', data: a })));
  }
  return r;
}
