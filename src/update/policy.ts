/**
 * Who may update a zone (RFC 2136 §3.3): either `allowUpdate` (BIND's allow-update: "key NAME"
 * entries and address prefixes, all or nothing for the whole update) or `updatePolicy` (BIND's
 * update-policy, checked for every update RR):
 *
 *     grant|deny IDENTITY RULETYPE [NAME] [TYPE ...]
 *
 * IDENTITY is a TSIG key name (`*` any key; `*.example.` any key below example.). RULETYPE is
 * one of `name` (exactly NAME), `subdomain` (NAME or below), `wildcard` (NAME is a wildcard
 * that matches the updated name, e.g. `_acme-challenge.*.example.com` is not valid DNS but
 * `*.example.com` is: wildcard patterns may carry a `*` label anywhere, matched against one or
 * more labels there), `zonesub` (anywhere in the zone; no NAME), `self` (the name equals the
 * key's name), `selfsub` (the key's name or below), `selfwild` (one label below the key's
 * name). TYPES: none given = every type but SOA, NS, RRSIG, NSEC, NSEC3 (as BIND); `ANY` =
 * every type but NSEC and NSEC3. Rules are tried in order; the first whose identity, name and
 * type match decides (grant or deny); none matching denies.
 *
 * Invariants: the two ways are exclusive (the config check says so); a policy only grants to
 * updates signed with a key that verified (unsigned updates match no identity).
 */
import { TransferAcl } from '../transfer/acl.js';
import type { Name } from '../wire/name.js';
import { RRType, typeFromString } from '../wire/types.js';

export type RuleType = 'name' | 'subdomain' | 'wildcard' | 'zonesub' | 'self' | 'selfsub' | 'selfwild';
const RULE_TYPES: readonly RuleType[] = ['name', 'subdomain', 'wildcard', 'zonesub', 'self', 'selfsub', 'selfwild'];

export interface PolicyRule {
  grant: boolean;
  /** Lowercased text, trailing dot removed; `*` any key. */
  identity: string;
  ruleType: RuleType;
  /** Lowercased labels of NAME (absolute, without the root), for name/subdomain/wildcard. */
  labels: string[] | undefined;
  /** Types granted; undefined = the default set (see the module comment); 'any' = ANY. */
  types: Set<number> | 'any' | undefined;
  text: string;
}

/** Types a rule without TYPES does not cover (BIND's update-policy). */
const NOT_DEFAULT = new Set<number>([RRType.SOA, RRType.NS, RRType.RRSIG, RRType.NSEC, RRType.NSEC3]);
/** Types ANY does not cover. */
const NOT_ANY = new Set<number>([RRType.NSEC, RRType.NSEC3]);

function labelsOf(text: string): string[] {
  const t = text.toLowerCase().replace(/\.$/, '');
  return t === '' ? [] : t.split('.');
}

/** Parses one rule; throws Error naming what is wrong. `origin`: the zone, for relative names. */
export function parseRule(text: string, origin: string): PolicyRule {
  const words = text.trim().split(/\s+/);
  const verb = words[0]?.toLowerCase();
  if (verb !== 'grant' && verb !== 'deny') throw new Error(`rule "${text}" must start with grant or deny`);
  const identity = words[1]?.toLowerCase().replace(/\.$/, '');
  if (identity === undefined || identity === '') throw new Error(`rule "${text}" names no identity (a key name or *)`);
  const ruleType = words[2]?.toLowerCase() as RuleType | undefined;
  if (ruleType === undefined || !RULE_TYPES.includes(ruleType)) {
    throw new Error(`rule "${text}": rule type must be one of ${RULE_TYPES.join(', ')}`);
  }
  let i = 3;
  let labels: string[] | undefined;
  const needsName = ruleType === 'name' || ruleType === 'subdomain' || ruleType === 'wildcard';
  if (needsName) {
    const n = words[i++];
    if (n === undefined) throw new Error(`rule "${text}": ${ruleType} needs a NAME`);
    const abs = n.endsWith('.') ? n : n === '@' ? origin : `${n}.${origin}`;
    labels = labelsOf(abs === '@' ? origin : abs);
  } else if ((ruleType === 'self' || ruleType === 'selfsub' || ruleType === 'selfwild') && words[i] !== undefined &&
    typeFromString(words[i]!.toUpperCase()) === undefined && words[i]!.toUpperCase() !== 'ANY') {
    i++; // BIND's self rules repeat the identity as NAME; it carries no meaning here
  }
  let types: Set<number> | 'any' | undefined;
  for (; i < words.length; i++) {
    const w = words[i]!.toUpperCase();
    if (w === 'ANY') {
      types = 'any';
      continue;
    }
    const t = typeFromString(w);
    if (t === undefined) throw new Error(`rule "${text}": unknown type ${words[i]}`);
    if (types === 'any') continue;
    if (types === undefined) types = new Set<number>();
    types.add(t);
  }
  return { grant: verb === 'grant', identity, ruleType, labels, types, text };
}

/** True when `pattern` labels (with `*` for one or more labels) match `name` labels. */
function wildMatch(pattern: readonly string[], pi: number, name: readonly string[], ni: number): boolean {
  if (pi === pattern.length) return ni === name.length;
  const p = pattern[pi]!;
  if (p === '*') {
    for (let k = ni + 1; k <= name.length; k++) if (wildMatch(pattern, pi + 1, name, k)) return true;
    return false;
  }
  return ni < name.length && name[ni] === p && wildMatch(pattern, pi + 1, name, ni + 1);
}

function endsWith(name: readonly string[], suffix: readonly string[]): boolean {
  if (suffix.length > name.length) return false;
  const off = name.length - suffix.length;
  for (let i = 0; i < suffix.length; i++) if (name[off + i] !== suffix[i]) return false;
  return true;
}

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && endsWith(a, b);
}

export class UpdatePolicy {
  constructor(readonly rules: readonly PolicyRule[], private readonly zoneLabels: readonly string[]) {}

  static parse(texts: readonly string[], origin: Name): UpdatePolicy {
    const o = origin.toString();
    return new UpdatePolicy(texts.map((t) => parseRule(t, o)), labelsOf(o));
  }

  /** True when `key` (verified TSIG key name, lowercased without the dot) may change `type` at `name`. */
  allows(key: string | undefined, name: Name, type: number): boolean {
    if (key === undefined) return false;
    const labels = labelsOf(name.toString());
    const keyLabels = labelsOf(key);
    for (const r of this.rules) {
      if (!this.identityMatches(r.identity, key)) continue;
      if (!this.nameMatches(r, labels, keyLabels)) continue;
      if (!typeMatches(r.types, type)) continue;
      return r.grant;
    }
    return false;
  }

  private identityMatches(identity: string, key: string): boolean {
    if (identity === '*') return true;
    if (identity.startsWith('*.')) return wildMatch(labelsOf(identity), 0, labelsOf(key), 0);
    return identity === key;
  }

  private nameMatches(r: PolicyRule, labels: readonly string[], keyLabels: readonly string[]): boolean {
    switch (r.ruleType) {
      case 'name': return sameLabels(labels, r.labels!);
      case 'subdomain': return endsWith(labels, r.labels!);
      case 'wildcard': return wildMatch(r.labels!, 0, labels, 0);
      case 'zonesub': return endsWith(labels, this.zoneLabels);
      case 'self': return sameLabels(labels, keyLabels);
      case 'selfsub': return endsWith(labels, keyLabels);
      case 'selfwild': return labels.length === keyLabels.length + 1 && endsWith(labels, keyLabels);
    }
  }
}

function typeMatches(types: Set<number> | 'any' | undefined, type: number): boolean {
  if (types === undefined) return !NOT_DEFAULT.has(type);
  if (types === 'any') return !NOT_ANY.has(type);
  return types.has(type);
}

/** A zone's update authorisation: allowUpdate (whole update) or a policy (each RR). */
export type UpdateAuth =
  | { kind: 'acl'; acl: TransferAcl }
  | { kind: 'policy'; policy: UpdatePolicy };

/** From the zone config; undefined when the zone takes no updates. Throws Error naming the bad entry. */
export function updateAuthFrom(allowUpdate: readonly string[] | undefined, updatePolicy: readonly string[] | undefined,
  origin: Name): UpdateAuth | undefined {
  if (updatePolicy !== undefined && updatePolicy.length > 0) return { kind: 'policy', policy: UpdatePolicy.parse(updatePolicy, origin) };
  if (allowUpdate !== undefined && allowUpdate.length > 0) return { kind: 'acl', acl: new TransferAcl(allowUpdate) };
  return undefined;
}
