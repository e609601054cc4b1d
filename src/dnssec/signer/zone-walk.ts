/**
 * The signer's walk over a zone: every owner of the signed zone in canonical order (RFC 4034
 * §6.1), with its RRsets in output order, what each is signed by, and the NSEC (RFC 4035 §2.3) or
 * NSEC3 (RFC 5155 §7.1) records made for it. Both the in-process signer (sign-zone.ts) and the
 * multi-threaded one (parallel-sign.ts) consume it, so they write the same zone.
 *
 * Memory (a zone may hold millions of names): nothing per owner outlives its turn. The walk keeps
 * the zone's sorted node array and, for NSEC3, the hashes in one typed array (20 octets a name)
 * and their order in another; input RRsets stay in the zone's stored wire form, owner Names are
 * made for the owner's turn and dropped (node.peekName, never node.name, which would keep one on
 * every node), and NSEC3 owners are merged into the node order instead of sorting a second list.
 */
import crypto from 'node:crypto';
import { DnssecError } from '../../errors.js';
import { Name, compareNameKeys } from '../../wire/name.js';
import { toBase32Hex } from '../../wire/rdata/text.js';
import type { ResourceRecord } from '../../wire/record.js';
import { RRType } from '../../wire/types.js';
import type { RRset, Zone, ZoneNode } from '../../zone/zone.js';
import type { DnssecKey } from '../key-file.js';

export interface Nsec3Options {
  iterations: number;
  salt: Uint8Array;
  /** RFC 5155 §6: unsigned delegations get no NSEC3 of their own. */
  optOut: boolean;
}

/** One RRset of the output: from the input (stored form) or made by the signer. */
export interface OutSet {
  type: number;
  /** The input RRset (when `made` is undefined). */
  input: RRset | undefined;
  made: ResourceRecord[] | undefined;
  /** Keys that sign it; undefined for an RRset left unsigned (glue, NS at a cut). */
  signers: readonly DnssecKey[] | undefined;
}

/** One owner of the output: valid until the walk moves on (the caller must not keep it). */
export interface OutOwner {
  name: Name;
  key: string;
  sets: OutSet[];
}

export interface WalkOptions {
  ksks: readonly DnssecKey[];
  zsks: readonly DnssecKey[];
  /** The apex DNSKEY RRset (merged by the caller). */
  dnskeys: ResourceRecord[];
  /** RRsets put at the apex in place of the input's of the same type. */
  apexSets: readonly (readonly ResourceRecord[])[];
  nsec3: Nsec3Options | undefined;
  /** NSEC/NSEC3 TTL (RFC 9077). */
  negativeTtl: number;
}

/** Types that never go through from the input: they are what signing makes. */
export const MADE_HERE = new Set<number>([RRType.RRSIG, RRType.NSEC, RRType.NSEC3, RRType.NSEC3PARAM]);
/** Signed by the KSKs (RFC 6781 §3.1; RFC 7344 §4.1 for CDS/CDNSKEY). */
const KSK_SIGNED = new Set<number>([RRType.DNSKEY, RRType.CDS, RRType.CDNSKEY]);

const AUTH = 0;
const DELEGATION = 1;
const GLUE = 2;
const ENT = 3;
/** An old NSEC3 owner (nothing left once the DNSSEC records are dropped): not written. */
const SKIP = 4;

/** Input types of a node that go through (not MADE_HERE), in the node's (type) order. */
function inputTypes(node: ZoneNode): number[] {
  const types: number[] = [];
  for (let i = 0, n = node.setCount; i < n; i++) {
    const t = node.setAt(i).type;
    if (!MADE_HERE.has(t)) types.push(t);
  }
  return types;
}

function statusOf(node: ZoneNode, apex: ZoneNode): number {
  let data = false;
  for (let i = 0, n = node.setCount; i < n && !data; i++) if (!MADE_HERE.has(node.setAt(i).type)) data = true;
  if (!data && node.children === 0 && node !== apex) return SKIP;
  if (node.isBelowCut) return GLUE;
  if (node.isDelegation) return DELEGATION;
  return data || node === apex ? AUTH : ENT;
}

function hasType(node: ZoneNode, type: number): boolean {
  return node.get(type) !== undefined;
}

const hashScratch = Buffer.alloc(255 + 255 + 20);
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;

/**
 * NSEC3 hash (RFC 5155 §5) of a name given by its key (lowercased wire as Latin-1), into
 * `out[at .. at + 20)`: the input is assembled in one reused buffer and hashed one-shot.
 */
function hashKeyInto(key: string, p: Nsec3Options, out: Uint8Array, at: number): void {
  let n = hashScratch.write(key, 0, 'latin1');
  hashScratch.set(p.salt, n);
  n += p.salt.length;
  let h = oneShot !== undefined ? oneShot('sha1', hashScratch.subarray(0, n), 'buffer') : crypto.createHash('sha1').update(hashScratch.subarray(0, n)).digest();
  for (let i = 0; i < p.iterations; i++) {
    hashScratch.set(h, 0);
    hashScratch.set(p.salt, 20);
    const m = 20 + p.salt.length;
    h = oneShot !== undefined ? oneShot('sha1', hashScratch.subarray(0, m), 'buffer') : crypto.createHash('sha1').update(hashScratch.subarray(0, m)).digest();
  }
  out.set(h, at);
}

/** The NSEC3 chain: hashes of the names that need one, in hash order (see the module comment). */
interface Nsec3Chain {
  /** 20 octets per entry, in the order names were hashed. */
  hashes: Uint8Array;
  /** Node index of each entry. */
  node: Int32Array;
  /** Entries in hash order. */
  order: Uint32Array;
}

function compareHashes(h: Uint8Array, a: number, b: number): number {
  const x = a * 20;
  const y = b * 20;
  for (let i = 0; i < 20; i++) {
    const d = h[x + i]! - h[y + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function nsec3Chain(nodes: readonly ZoneNode[], apex: ZoneNode, p: Nsec3Options): Nsec3Chain {
  // Which names need an NSEC3 (RFC 5155 §7.1): authoritative names and (with opt-out only
  // signed) delegations, and the empty non-terminals above them.
  const need = new Uint8Array(nodes.length);
  const entsNeeded = new Set<string>();
  let count = 0;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    const s = statusOf(node, apex);
    if (s === AUTH || (s === DELEGATION && !(p.optOut && !hasType(node, RRType.DS)))) {
      need[i] = 1;
      count++;
      for (let a = node.parent; a !== undefined && a !== apex && statusOf(a, apex) === ENT && !entsNeeded.has(a.key); a = a.parent) entsNeeded.add(a.key);
    }
  }
  if (entsNeeded.size > 0) {
    for (let i = 0; i < nodes.length; i++) {
      if (need[i] === 0 && entsNeeded.has(nodes[i]!.key)) {
        need[i] = 1;
        count++;
      }
    }
  }
  const hashes = new Uint8Array(count * 20);
  const node = new Int32Array(count);
  let k = 0;
  for (let i = 0; i < nodes.length; i++) {
    if (need[i] === 0) continue;
    hashKeyInto(nodes[i]!.key, p, hashes, k * 20);
    node[k++] = i;
  }
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((a, b) => compareHashes(hashes, a, b));
  for (let i = 1; i < count; i++) {
    if (compareHashes(hashes, order[i - 1]!, order[i]!) === 0) {
      throw new DnssecError('ERR_DNSSEC_SIGN', `NSEC3 hash collision between ${nodes[node[order[i - 1]!]!]!.peekName().toString()} and ${nodes[node[order[i]!]!]!.peekName().toString()}: choose another salt`);
    }
  }
  return { hashes, node, order };
}

/** The owners of the signed zone, in canonical order (see the module comment). */
export function* walkZone(zone: Zone, w: WalkOptions): Generator<OutOwner> {
  const origin = zone.origin;
  const cls = zone.class;
  const nodes = zone.nodes();
  const apex = zone.apex;
  const nsec3 = w.nsec3;
  const chain = nsec3 === undefined ? undefined : nsec3Chain(nodes, apex, nsec3);

  // Apex: made sets and the types they add.
  const apexMade: ResourceRecord[][] = [w.dnskeys];
  for (const set of w.apexSets) if (set.length > 0) apexMade.push([...set]);
  if (nsec3 !== undefined) {
    // TTL 0, as BIND writes it; flags 0 (RFC 5155 §4.1.2).
    apexMade.push([{ name: origin, type: RRType.NSEC3PARAM, class: cls, ttl: 0, data: { hashAlgorithm: 1, flags: 0, iterations: nsec3.iterations, salt: nsec3.salt } }]);
  }

  /** Types present at a node, input and made here, in type order (for the bitmaps). */
  const typesAt = (node: ZoneNode): number[] => {
    const types = inputTypes(node);
    if (node === apex) for (const m of apexMade) if (!types.includes(m[0]!.type)) types.push(m[0]!.type);
    return types.sort((a, b) => a - b);
  };

  // NSEC: the next chain member (authoritative or delegation) after index i, wrapping to the apex.
  let nextChain = 0;
  const chainAfter = (i: number): number => {
    if (nextChain <= i) {
      nextChain = i + 1;
      while (nextChain < nodes.length) {
        const s = statusOf(nodes[nextChain]!, apex);
        if (s === AUTH || s === DELEGATION) break;
        nextChain++;
      }
    }
    return nextChain < nodes.length ? nextChain : 0;
  };

  // NSEC3 owners are merged in: `r` is the next one in hash order, `pending` its owner name.
  let r = 0;
  let pending: Name | undefined;
  const nsec3Owner = (): OutOwner => {
    const c = chain!;
    const p = nsec3!;
    const e = c.order[r]!;
    const next = c.order[(r + 1) % c.order.length]!;
    const node = nodes[c.node[e]!]!;
    const s = statusOf(node, apex);
    let types = s === ENT ? [] : typesAt(node);
    // The owner's RRSIGs: everything authoritative is signed; at a cut only a DS is.
    if (s === AUTH || (s === DELEGATION && hasType(node, RRType.DS))) types = [...types, RRType.RRSIG].sort((a, b) => a - b);
    const name = pending!;
    const data = {
      hashAlgorithm: 1, flags: p.optOut ? 1 : 0, iterations: p.iterations, salt: p.salt,
      nextHashedOwnerName: c.hashes.slice(next * 20, next * 20 + 20), types,
    };
    const rr: ResourceRecord = { name, type: RRType.NSEC3, class: cls, ttl: w.negativeTtl, data };
    r++;
    pending = undefined;
    return { name, key: name.key, sets: [{ type: RRType.NSEC3, input: undefined, made: [rr], signers: w.zsks }] };
  };
  const pendingName = (): Name => {
    if (pending === undefined) {
      const e = chain!.order[r]!;
      pending = Name.fromText(toBase32Hex(chain!.hashes.subarray(e * 20, e * 20 + 20)).toLowerCase(), origin);
    }
    return pending;
  };

  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (chain !== undefined) {
      while (r < chain.order.length && compareNameKeys(pendingName().key, node.key) < 0) yield nsec3Owner();
    }
    const s = statusOf(node, apex);
    if (s === SKIP) continue;
    const name = node.peekName();
    const isApex = node === apex;
    const sets: OutSet[] = [];
    const signersOf = (type: number): readonly DnssecKey[] | undefined => {
      if (s === GLUE || s === ENT) return undefined;
      // At a cut only DS and the denial records are the parent's to sign (RFC 4035 §2.2).
      if (s === DELEGATION && type !== RRType.DS && type !== RRType.NSEC) return undefined;
      return KSK_SIGNED.has(type) && isApex ? w.ksks : w.zsks;
    };
    for (let j = 0, n = node.setCount; j < n; j++) {
      const set = node.setAt(j);
      const type = set.type;
      if (MADE_HERE.has(type)) continue;
      if (isApex && apexMade.some((m) => m[0]!.type === type)) continue;
      sets.push({ type, input: set, made: undefined, signers: signersOf(type) });
    }
    if (isApex) for (const m of apexMade) sets.push({ type: m[0]!.type, input: undefined, made: m, signers: signersOf(m[0]!.type) });
    if (nsec3 === undefined && (s === AUTH || s === DELEGATION)) {
      const next = nodes[chainAfter(i)]!.peekName();
      const types = [...typesAt(node), RRType.RRSIG, RRType.NSEC].sort((a, b) => a - b);
      sets.push({ type: RRType.NSEC, input: undefined, made: [{ name, type: RRType.NSEC, class: cls, ttl: w.negativeTtl, data: { nextDomainName: next, types } }], signers: signersOf(RRType.NSEC) });
    }
    // Type order, the apex's SOA first (as a master file starts, RFC 1035 §5.2).
    sets.sort((a, b) => (isApex && a.type === RRType.SOA ? -1 : isApex && b.type === RRType.SOA ? 1 : a.type - b.type));
    yield { name, key: node.key, sets };
  }
  if (chain !== undefined) while (r < chain.order.length) {
    pendingName();
    yield nsec3Owner();
  }
}
