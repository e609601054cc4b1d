/**
 * nftables in the lab: the gateway's NAT (masquerade of the LAN behind its WAN address, RFC 3022
 * NAPT, plus the topology's port forwards), the fault rules `lab break` adds (each in a chain of
 * its own, removed whole by `lab repair`), and the connection-tracking table read back with
 * `conntrack -L` to show what the NAT rewrote. Every rule goes into the `sovlab` table of a lab
 * namespace; the host's ruleset is never read or written.
 */
import { execIn } from './netns.js';
import type { Topology } from './topology.js';

export const NFT = '/usr/sbin/nft';
export const CONNTRACK = '/usr/sbin/conntrack';
export const TABLE = 'sovlab';

/** The gateway's ruleset: masquerade out of `wan`, DNAT of the port forwards coming in on it. */
export function gatewayRuleset(t: Topology): string {
  const forwards = t.gateway.portForwards.map((f) => `    iifname "wan" ${f.proto} dport ${f.port} dnat to ${f.to}\n`).join('');
  return `table ip ${TABLE} {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
${forwards}  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" masquerade
  }
}
`;
}

/** A table whose only job is to make the namespace track connections (so `conntrack -L` shows flows). */
export const TRACKING_RULESET = `table ip ${TABLE} {
  chain output {
    type filter hook output priority filter; policy accept;
    ct state new counter
  }
}
`;

export function loadRuleset(ns: string, ruleset: string): void {
  execIn(ns, NFT, ['-f', '-'], ruleset);
}

/** Adds a chain (hook spec and rules) to the namespace's lab table. */
export function addChain(ns: string, chain: string, hook: string, rules: string[]): void {
  loadRuleset(ns, `table ip ${TABLE} {\n  chain ${chain} {\n    ${hook}\n${rules.map((r) => `    ${r}\n`).join('')}  }\n}\n`);
}

/** Removes a chain added by addChain; quiet when it is not there. */
export function deleteChain(ns: string, chain: string): void {
  try {
    execIn(ns, NFT, ['delete', 'chain', 'ip', TABLE, chain]);
  } catch { /* not there: already repaired */ }
}

/** One side of a conntrack tuple. */
export interface Tuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

/** A conntrack entry: the original direction and the reply direction (which shows the NAT). */
export interface ConntrackEntry {
  proto: string;
  original: Tuple;
  reply: Tuple;
  /** The tuple as conntrack printed it. */
  line: string;
}

/** Parses `conntrack -L` output (`udp 17 29 src=A dst=B sport=P dport=Q src=B dst=C sport=Q dport=R ...`). */
export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    const tuples: Partial<Record<string, string>>[] = [];
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq < 0) continue;
      const k = w.slice(0, eq);
      if (k === 'src') tuples.push({});
      const cur = tuples[tuples.length - 1];
      if (cur !== undefined && cur[k] === undefined) cur[k] = w.slice(eq + 1);
    }
    if (tuples.length < 2) continue;
    const tuple = (x: Partial<Record<string, string>>): Tuple => ({ src: x.src ?? '', dst: x.dst ?? '', sport: Number(x.sport ?? 0), dport: Number(x.dport ?? 0) });
    out.push({ proto: words[0]!, original: tuple(tuples[0]!), reply: tuple(tuples[1]!), line: line.trim() });
  }
  return out;
}

/** The namespace's UDP flows to port 53. */
export function conntrackDns(ns: string): ConntrackEntry[] {
  let text: string;
  try {
    text = execIn(ns, CONNTRACK, ['-L', '-p', 'udp', '--orig-port-dst', '53']);
  } catch (e) {
    // conntrack exits 1 with "0 flow entries" on some versions when the table is empty.
    if (/0 flow entries/.test((e as Error).message)) return [];
    throw e;
  }
  return parseConntrack(text);
}

/** The public side of a NATed flow: where replies come back to (the reply tuple's destination). */
export function translated(e: ConntrackEntry): { address: string; port: number } {
  return { address: e.reply.dst, port: e.reply.dport };
}

export function entryKey(e: ConntrackEntry): string {
  return `${e.original.src}:${e.original.sport}>${e.original.dst}:${e.original.dport}`;
}
