/**
 * The lab's topology: a small YAML file (schema below) describing a home LAN behind a NAT gateway,
 * an ISP resolver and a few "Internet" servers (a root, TLDs, authoritative servers), and the
 * default one, which follows seed 000's example (a laptop at 192.168.1.100 behind a masquerading
 * gateway; root -> TLD -> authoritative for www.example.com).
 *
 * Invariants: every address is private (the LAN) or from the documentation ranges (RFC 5737:
 * 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), so nothing in the lab can be mistaken for (or
 * reach) a real host; TLD names avoid the ones resolvers answer themselves (test, invalid,
 * localhost: RFC 6761). Zone contents are derived from the topology (zones.ts), not written by hand.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const ipv4 = z.ipv4();
const nodeName = z.string().regex(/^[a-z][a-z0-9-]{0,11}$/, 'a node name: a lowercase letter, then up to 11 of a-z 0-9 -');

const client = z.object({
  name: nodeName,
  address: ipv4,
  /** Lines of this client's hosts(5) file, consulted first by `lab query`. */
  hosts: z.array(z.string()).default([]),
  /** Answer this client's name by LLMNR (RFC 4795) and NetBIOS (RFC 1002) on the LAN. */
  llmnr: z.boolean().default(true),
  netbios: z.boolean().default(true),
  /** Who answers NetBIOS: Sovereign, or Samba's nmbd where installed (interop). */
  netbiosServer: z.enum(['sovereign', 'nmbd']).default('sovereign'),
}).strict();

const portForward = z.object({
  proto: z.enum(['tcp', 'udp']),
  port: z.number().int().min(1).max(65535),
  /** ADDRESS:PORT on the LAN. */
  to: z.string().regex(/^\d+\.\d+\.\d+\.\d+:\d+$/),
}).strict();

const zone = z.object({
  name: z.string().min(1),
  /** Records in zone-file syntax, relative to the zone ("www 300 A 192.0.2.80"); NS/SOA/glue are added. */
  records: z.array(z.string()).default([]),
}).strict();

const server = z.object({
  name: nodeName,
  address: ipv4,
  /** Which software serves the zones; bind/nsd fall back to sovereign when not installed. */
  software: z.enum(['sovereign', 'bind', 'nsd']).default('sovereign'),
  zones: z.array(zone).min(1),
}).strict();

export const topologySchema = z.object({
  lan: z.object({ gateway: ipv4.default('192.168.1.1'), prefixLength: z.number().int().min(8).max(30).default(24) }).strict().default({ gateway: '192.168.1.1', prefixLength: 24 }),
  clients: z.array(client).min(1),
  gateway: z.object({
    name: nodeName.default('gw'),
    /** The public (WAN) address masquerade rewrites LAN sources to. */
    wan: ipv4,
    portForwards: z.array(portForward).default([]),
  }).strict(),
  isp: z.object({
    /** The ISP segment's router (in the core namespace). */
    router: ipv4,
    resolver: ipv4,
    prefixLength: z.number().int().default(24),
  }).strict(),
  internet: z.object({
    /** Router addresses (ADDRESS/LEN) of the Internet segment, one per documentation range used. */
    routers: z.array(z.string().regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/)).min(1),
    servers: z.array(server).min(1),
    /** Where the attacker of `lab break poisoned-cache` sits. */
    attacker: ipv4.default('198.51.100.66'),
    /** Sign the zones Sovereign serves and validate in the resolver (trust anchor: the lab root). */
    dnssec: z.boolean().default(true),
  }).strict(),
}).strict();

export type Topology = z.infer<typeof topologySchema>;
export type LabServer = Topology['internet']['servers'][number];
export type LabClient = Topology['clients'][number];

/** A TXT record big enough (~1100 octets of answer) to be lost on a link whose MTU is 1000. */
export const BIG_TXT = Array.from({ length: 5 }, (_, i) => `"${String(i).repeat(200)}"`).join(' ');

export const DEFAULT_TOPOLOGY_YAML = `# Seed 000: a laptop behind a home NAT router, an ISP resolver, the root, TLDs and authoritative servers.
lan: { gateway: 192.168.1.1, prefixLength: 24 }
clients:
  - name: laptop
    address: 192.168.1.100
    hosts: ["192.168.1.1 router router.lan", "192.168.1.50 printer.lan"]
  - name: phone
    address: 192.168.1.101
    netbiosServer: nmbd
gateway:
  name: gw
  wan: 203.0.113.2
  portForwards: [{ proto: tcp, port: 8080, to: "192.168.1.100:80" }]
isp: { router: 203.0.113.1, resolver: 203.0.113.53, prefixLength: 24 }
internet:
  routers: [198.51.100.254/24, 192.0.2.254/24]
  attacker: 198.51.100.66
  servers:
    - { name: root, address: 198.51.100.1, zones: [{ name: "." }] }
    - { name: tld-com, address: 198.51.100.10, zones: [{ name: com }] }
    - { name: tld-net, address: 198.51.100.20, software: nsd, zones: [{ name: net }] }
    - name: auth-com
      address: 192.0.2.10
      zones:
        - name: example.com
          records:
            - "@ 300 A 192.0.2.80"
            - "www 300 A 192.0.2.80"
            - "mail 300 A 192.0.2.25"
            - "@ 300 MX 10 mail"
            - 'big 300 TXT ${BIG_TXT}'
    - name: auth-net
      address: 192.0.2.20
      software: bind
      zones:
        - name: example.net
          records: ["www 300 A 192.0.2.81", "@ 300 A 192.0.2.81"]
`;

/** Parses and checks a topology (YAML text); throws with the key at fault. */
export function parseTopology(text: string, file = '(topology)'): Topology {
  const r = topologySchema.safeParse(parseYaml(text));
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${file}: ${i.path.join('.') || '(top)'}: ${i.message}`);
  }
  const t = r.data;
  const names = new Set<string>();
  for (const n of [...t.clients.map((c) => c.name), t.gateway.name, ...t.internet.servers.map((s) => s.name)]) {
    if (names.has(n) || RESERVED_NODES.has(n)) throw new Error(`${file}: node name "${n}" is used twice or reserved (${[...RESERVED_NODES].join(', ')})`);
    names.add(n);
  }
  if (!t.internet.servers.some((s) => s.zones.some((z) => z.name === '.'))) throw new Error(`${file}: internet.servers: no server serves the root zone "."`);
  return t;
}

/** Namespaces the lab always has besides the topology's nodes. */
export const RESERVED_NODES = new Set(['core', 'isp', 'attacker']);

export function loadTopology(file: string | undefined): Topology {
  return file === undefined ? parseTopology(DEFAULT_TOPOLOGY_YAML, '(default topology)') : parseTopology(readFileSync(file, 'utf8'), file);
}

/** A zone name with exactly one final dot ("." for the root). */
export function fqdn(name: string): string {
  return name === '.' || name === '' ? '.' : name.replace(/\.$/, '') + '.';
}
