/**
 * Names a recursive resolver answers itself so they never leak upstream:
 * - RFC 6761 §6.3 `localhost.` (and names below it): A 127.0.0.1, AAAA ::1;
 * - RFC 6761 §6.4 `invalid.`, §6.2 `test.`, RFC 7686 `onion.`, RFC 8375 `home.arpa.`: NXDOMAIN
 *   (apex: NODATA with the SOA), as Unbound does by default;
 * - RFC 6303 §4 locally served reverse zones (RFC 1918, loopback, link-local, documentation,
 *   ULA, unspecified ...): empty zones, NXDOMAIN below the apex; `127.in-addr.arpa` and the `::1`
 *   reverse name answer PTR localhost.
 *
 * Invariants: the table is built once at module load; `specialAnswer` is synchronous, allocates
 * nothing on a miss beyond the ancestor names it walks, and returns read-only record arrays.
 */
import { Rcode } from '../wire/constants.js';
import { Name } from '../wire/name.js';
import { type ResourceRecord, parseRecord } from '../wire/record.js';
import { RRClass, RRType } from '../wire/types.js';

export interface SpecialAnswer {
  rcode: number;
  answer: readonly ResourceRecord[];
  authority: readonly ResourceRecord[];
  /** The local zone that answered (for logs). */
  zone: Name;
}

interface LocalZone {
  origin: Name;
  soa: ResourceRecord;
  ns: ResourceRecord;
  /** Records by owner key, then type. */
  data: Map<string, Map<number, ResourceRecord[]>>;
}

/** RFC 6303 §4: SOA and NS for a locally served empty zone. */
function localZone(origin: string, records: string[] = []): LocalZone {
  const o = Name.fromText(origin);
  const soa = parseRecord(`${origin} 10800 IN SOA localhost. nobody.invalid. 1 3600 1200 604800 10800`);
  const ns = parseRecord(`${origin} 10800 IN NS localhost.`);
  const data = new Map<string, Map<number, ResourceRecord[]>>();
  const add = (rr: ResourceRecord): void => {
    let byType = data.get(rr.name.key);
    if (byType === undefined) data.set(rr.name.key, (byType = new Map()));
    const list = byType.get(rr.type) ?? [];
    list.push(rr);
    byType.set(rr.type, list);
  };
  add(soa);
  add(ns);
  for (const t of records) add(parseRecord(t));
  return { origin: o, soa, ns, data };
}

const zones = new Map<string, LocalZone>();
function addZone(z: LocalZone): void {
  zones.set(z.origin.key, z);
}

// RFC 6761 §6.3: localhost is the loopback address.
const localhost = localZone('localhost.', ['localhost. 10800 IN A 127.0.0.1', 'localhost. 10800 IN AAAA ::1']);
addZone(localhost);
for (const n of ['invalid.', 'test.', 'onion.', 'home.arpa.']) addZone(localZone(n));
// RFC 6303 §4.1-4.6.
addZone(localZone('127.in-addr.arpa.', ['1.0.0.127.in-addr.arpa. 10800 IN PTR localhost.']));
addZone(localZone('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.',
  ['1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. 10800 IN PTR localhost.']));
addZone(localZone('0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.'));
for (const n of [
  '10.in-addr.arpa.', '168.192.in-addr.arpa.', '0.in-addr.arpa.', '254.169.in-addr.arpa.', '2.0.192.in-addr.arpa.',
  '100.51.198.in-addr.arpa.', '113.0.203.in-addr.arpa.', '255.255.255.255.in-addr.arpa.',
  'd.f.ip6.arpa.', '8.e.f.ip6.arpa.', '9.e.f.ip6.arpa.', 'a.e.f.ip6.arpa.', 'b.e.f.ip6.arpa.', '8.b.d.0.1.0.0.2.ip6.arpa.',
]) addZone(localZone(n));
for (let i = 16; i <= 31; i++) addZone(localZone(`${i}.172.in-addr.arpa.`));

/** The deepest label count of any local zone: names are only walked up from there. */
let maxDepth = 0;
for (const z of zones.values()) maxDepth = Math.max(maxDepth, z.origin.labelCount);

/** The local zone containing `qname`, if any. */
export function specialZone(qname: Name): Name | undefined {
  return findZone(qname)?.origin;
}

/** Lowercased last labels of every local zone (localhost, invalid, test, onion, arpa). */
const tlds: Uint8Array[] = [];
for (const z of zones.values()) {
  const w = z.origin.toLowerCase().wire;
  let p = 0;
  let last = 0;
  while (w[p]! !== 0) {
    last = p;
    p += w[p]! + 1;
  }
  const tld = w.subarray(last, p);
  if (!tlds.some((t) => t.length === tld.length && t.every((b, i) => b === tld[i]))) tlds.push(tld);
}

/** Cheap pre-check on the wire form: does the name end in one of the local zones' last labels? */
function maybeLocal(w: Uint8Array): boolean {
  let p = 0;
  let last = -1;
  while (w[p]! !== 0) {
    last = p;
    p += w[p]! + 1;
  }
  if (last < 0) return false;
  const len = p - last;
  for (const t of tlds) {
    if (t.length !== len) continue;
    let i = 1;
    for (; i < len; i++) {
      const b = w[last + i]!;
      if ((b >= 0x41 && b <= 0x5a ? b | 0x20 : b) !== t[i]) break;
    }
    if (i === len) return true;
  }
  return false;
}

function findZone(qname: Name): LocalZone | undefined {
  if (!maybeLocal(qname.wire)) return undefined;
  let n = qname.labelCount > maxDepth ? qname.parent(qname.labelCount - maxDepth) : qname;
  while (!n.isRoot) {
    const z = zones.get(n.key);
    if (z !== undefined) return z;
    n = n.parent();
  }
  return undefined;
}

/**
 * The local answer for a query, or undefined when the name is not special (resolve it).
 * Names below `localhost.` answer like `localhost.` itself (RFC 6761 §6.3: they are loopback
 * names too; Unbound's default `localhost.` zone is a redirect zone doing the same).
 */
export function specialAnswer(qname: Name, qtype: number, qclass: number): SpecialAnswer | undefined {
  if (qclass !== RRClass.IN && qclass !== RRClass.ANY) return undefined;
  const z = findZone(qname);
  if (z === undefined) return undefined;
  let byType = z.data.get(qname.key);
  let owner: Name | undefined;
  if (byType === undefined && z === localhost) {
    byType = z.data.get(z.origin.key);
    owner = qname;
  }
  if (byType === undefined) {
    // RFC 6303 §3 / RFC 6761: nothing exists below the apex (bar the PTR entries).
    return { rcode: Rcode.NXDOMAIN, answer: [], authority: [z.soa], zone: z.origin };
  }
  if (qtype === RRType.ANY) {
    const all: ResourceRecord[] = [];
    for (const list of byType.values()) all.push(...list);
    return { rcode: Rcode.NOERROR, answer: all, authority: [], zone: z.origin };
  }
  let list = byType.get(qtype);
  if (list !== undefined && owner !== undefined) list = list.map((r) => ({ ...r, name: owner }));
  if (list !== undefined) return { rcode: Rcode.NOERROR, answer: list, authority: [], zone: z.origin };
  return { rcode: Rcode.NOERROR, answer: [], authority: [z.soa], zone: z.origin };
}
