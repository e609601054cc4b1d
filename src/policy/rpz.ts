/**
 * Response Policy Zones applied to answers (draft-vixie-dnsop-dns-rpz; BIND ARM "Response
 * Policy Zone (RPZ) Rewriting", whose choices we follow where the draft leaves room):
 *
 * - Policy zones are consulted in configured order; the first zone with a matching trigger wins.
 *   Within a zone BIND's precedence holds: client-ip, then QNAME, then response IP (A/AAAA in
 *   the answer), then NSDNAME, then NSIP. Names in the answer's CNAME chain are QNAME triggers
 *   too (BIND restarts at each CNAME): the CNAMEs before the matched name are kept.
 * - Only recursive queries are rewritten (RD=1 from a client allowed recursion), as BIND's
 *   default `recursive-only yes`; `recursiveOnly: false` on a zone rewrites every query, including
 *   answers from our own authoritative zones (BIND's RFC 1918 use case).
 * - DNSSEC (BIND's break-dnssec): with DO=1, an answer that carries signatures is not rewritten
 *   unless `breakDnssec: true`. Rewritten answers never have AD.
 * - `qnameWaitRecurse` (default true, as BIND): the answer is fetched before a QNAME/client-ip
 *   rule is applied, so response-triggered rules of earlier zones get their turn. With false the
 *   rule applies at once when no earlier zone has response triggers.
 *
 * Rewritten answers are never put in the engine's answer cache (each is counted per client), and
 * with client-ip triggers nothing passing this element is (the element is not `pure`).
 */
import type { Logger } from '../logging.js';
import type { Middleware, Handler } from '../server/chain.js';
import { QueryContext, replyTo } from '../server/query-context.js';
import { Opcode, Rcode } from '../wire/constants.js';
import type { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { RRClass, RRType } from '../wire/types.js';
import type { RRset } from '../zone/rrset.js';
import { addressBytes } from './prefix-table.js';
import type { CompiledPolicyZone, RpzAction, RpzRule, RpzTrigger } from './rpz-zone.js';
import type { PolicyStats } from './stats.js';

/** A zone's `policy` override (BIND's `policy given|disabled|passthru|...|cname DOMAIN`). */
export type RpzOverride =
  | { kind: 'given' | 'disabled' | 'passthru' | 'nxdomain' | 'nodata' | 'drop' | 'tcp-only' }
  | { kind: 'cname'; target: Name };

export interface RpzZoneEntry {
  name: string;
  /** The compiled zone now (a feed may not be transferred yet: undefined). */
  compiled(): CompiledPolicyZone | undefined;
  policy: RpzOverride;
  log: boolean;
  /** TTL cap of local data and the SOA of rewrites, seconds (BIND's max-policy-ttl, 5m). */
  maxPolicyTtl: number;
  recursiveOnly: boolean;
}

/** The name servers of the zones above a name, deepest first (the resolver's delegations). */
export interface NameserverSource {
  nameservers(name: Name): Iterable<{ names: readonly Name[]; addresses: readonly Uint8Array[] }>;
}

export interface ResponsePolicyOptions {
  zones: readonly RpzZoneEntry[];
  breakDnssec: boolean;
  qnameWaitRecurse: boolean;
  /** True when the query is recursive and the client may have recursion (RD=1, ACL). */
  recursive(ctx: QueryContext): boolean;
  maxUdpSize: number;
  stats: PolicyStats;
  logger: Logger;
  ns?: NameserverSource | undefined;
  /** Some zone has client-ip triggers: no answer passing here may be served to another client from the engine's cache. */
  clientIp?: boolean;
}

interface Match {
  zone: RpzZoneEntry;
  compiled: CompiledPolicyZone;
  rule: RpzRule;
  trigger: RpzTrigger;
  /** Index of the zone in the configured order. */
  index: number;
  /** The name the rewrite answers for (the query name, or a CNAME target in the answer). */
  name: Name;
  /** Answer records kept before the rewrite (the CNAMEs leading to `name`). */
  kept: readonly ResourceRecord[];
}

function signed(m: Message): boolean {
  for (const r of m.answer) if (r.type === RRType.RRSIG) return true;
  for (const r of m.authority) if (r.type === RRType.RRSIG) return true;
  return false;
}

/** The RPZ chain element. */
export function responsePolicy(opts: ResponsePolicyOptions): Middleware {
  const zones = opts.zones;
  return (next) => (ctx) => {
    const req = ctx.request;
    if (req.opcode !== Opcode.QUERY || zones.length === 0) return next(ctx);
    const q = req.question[0]!;
    if (q.class !== RRClass.IN || q.type === RRType.AXFR || q.type === RRType.IXFR) return next(ctx);
    const recursive = opts.recursive(ctx);
    // Not rewritten for this client (outside the recursion ACL): its answer must not be served to
    // one that is. RD=0 needs no mark: the flags are part of the answer cache's key.
    if (!recursive && req.rd) ctx.clientDependent = true;
    if (opts.clientIp === true) ctx.clientDependent = true;
    const pre = before(opts, ctx, recursive);
    // Earlier zones with response triggers, or DNSSEC to look at: the answer is needed first.
    const limit = pre === undefined ? zones.length : pre.index;
    let needAnswer = opts.qnameWaitRecurse || (ctx.dnssecOk && !opts.breakDnssec);
    if (!needAnswer) {
      for (let i = 0; i < limit; i++) {
        const c = zones[i]!.compiled();
        if (c !== undefined && (c.ip.size > 0 || c.nsdname.size > 0 || c.nsip.size > 0)) needAnswer = true;
      }
    }
    if (pre !== undefined && !needAnswer) return apply(opts, ctx, pre, undefined, next);
    const answer = next(ctx);
    // A resolver cache hit would be served again from bytes without coming here: not with client-ip triggers.
    if (opts.clientIp === true) ctx.live = undefined;
    if (answer instanceof Promise) return answer.then((m) => after(opts, ctx, pre, m, next, recursive), (err: unknown) => {
      // The recursion failed. BIND with qname-wait-recurse yes lets the failure stand (SERVFAIL before
      // policy); with no, a QNAME/client-ip rule still answers.
      if (pre !== undefined && !opts.qnameWaitRecurse) return apply(opts, ctx, pre, undefined, next);
      throw err;
    });
    return after(opts, ctx, pre, answer, next, recursive);
  };
}

/** client-ip and QNAME triggers, zone by zone: the first match (maybe a disabled zone's, counted and skipped). */
function before(opts: ResponsePolicyOptions, ctx: QueryContext, recursive: boolean): Match | undefined {
  const zones = opts.zones;
  let client: Uint8Array | undefined;
  const qname = ctx.qname;
  for (let i = 0; i < zones.length; i++) {
    const zone = zones[i]!;
    if (!recursive && zone.recursiveOnly) continue;
    const c = zone.compiled();
    if (c === undefined) continue;
    let rule: RpzRule | undefined;
    let trigger: RpzTrigger = 'client-ip';
    if (c.clientIp.size > 0) {
      client ??= addressBytes(ctx.clientAddress.startsWith('::ffff:') ? ctx.clientAddress.slice(7) : ctx.clientAddress);
      if (client !== undefined) rule = c.clientIp.match(client);
    }
    if (rule === undefined && c.qname.size > 0) {
      rule = c.qname.match(qname.key);
      trigger = 'qname';
    }
    if (rule === undefined) continue;
    const m: Match = { zone, compiled: c, rule, trigger, index: i, name: qname, kept: [] };
    if (zone.policy.kind === 'disabled') {
      disabledHit(opts, ctx, m);
      continue;
    }
    return m;
  }
  return undefined;
}

/** With the answer in hand: DNSSEC, response-triggered rules of zones before `pre`, CNAME targets. */
function after(opts: ResponsePolicyOptions, ctx: QueryContext, pre: Match | undefined, answer: Message, next: Handler,
  recursive: boolean): Message | Promise<Message> {
  // BIND: with DO=1, data that is signed is not rewritten unless break-dnssec yes.
  if (ctx.dnssecOk && !opts.breakDnssec && signed(answer)) return answer;
  // BIND (qname-wait-recurse yes): a failed resolution is answered SERVFAIL, policy or not.
  if (answer.rcode === Rcode.SERVFAIL && opts.qnameWaitRecurse) return answer;
  const zones = opts.zones;
  const limit = pre === undefined ? zones.length : pre.index;
  const found = responseTriggers(opts, ctx, answer, limit, recursive);
  if (found !== undefined) return apply(opts, ctx, found, answer, next);
  if (pre !== undefined) return apply(opts, ctx, pre, answer, next);
  return answer;
}

/** The first zone (below `limit`) whose CNAME-target, IP, NSDNAME or NSIP trigger matches `answer`. */
function responseTriggers(opts: ResponsePolicyOptions, ctx: QueryContext, answer: Message, limit: number,
  recursive: boolean): Match | undefined {
  const zones = opts.zones;
  const rrs = answer.answer;
  let addrs: Uint8Array[] | undefined;
  let servers: { names: readonly Name[]; addresses: readonly Uint8Array[] }[] | undefined;
  for (let i = 0; i < limit; i++) {
    const zone = zones[i]!;
    if (!recursive && zone.recursiveOnly) continue;
    const c = zone.compiled();
    if (c === undefined) continue;
    let m: Match | undefined;
    // QNAME triggers on the CNAME chain's targets (the query name itself was looked at already).
    if (c.qname.size > 0) {
      for (let k = 0; k < rrs.length && m === undefined; k++) {
        const r = rrs[k]!;
        if (r.type !== RRType.CNAME) continue;
        const target = (r.data as { cname: Name }).cname;
        const rule = c.qname.match(target.key);
        if (rule !== undefined) m = { zone, compiled: c, rule, trigger: 'qname', index: i, name: target, kept: rrs.slice(0, k + 1) };
      }
    }
    if (m === undefined && c.ip.size > 0) {
      addrs ??= answerAddresses(rrs);
      for (const a of addrs) {
        const rule = c.ip.match(a);
        if (rule !== undefined) {
          m = { zone, compiled: c, rule, trigger: 'ip', index: i, name: ctx.qname, kept: [] };
          break;
        }
      }
    }
    if (m === undefined && (c.nsdname.size > 0 || c.nsip.size > 0) && opts.ns !== undefined) {
      servers ??= [...opts.ns.nameservers(answeringName(ctx, answer))];
      for (const s of servers) {
        for (const n of s.names) {
          const rule = c.nsdname.size > 0 ? c.nsdname.match(n.key) : undefined;
          if (rule !== undefined) {
            m = { zone, compiled: c, rule, trigger: 'nsdname', index: i, name: ctx.qname, kept: [] };
            break;
          }
        }
        if (m !== undefined) break;
      }
      if (m === undefined && c.nsip.size > 0) {
        outer: for (const s of servers) {
          for (const a of s.addresses) {
            const rule = c.nsip.match(a);
            if (rule !== undefined) {
              m = { zone, compiled: c, rule, trigger: 'nsip', index: i, name: ctx.qname, kept: [] };
              break outer;
            }
          }
        }
      }
    }
    if (m === undefined) continue;
    if (zone.policy.kind === 'disabled') {
      disabledHit(opts, ctx, m);
      continue;
    }
    return m;
  }
  return undefined;
}

/** The name whose zone answered: the negative answer's SOA owner, the last CNAME target, or the query name. */
function answeringName(ctx: QueryContext, answer: Message): Name {
  for (const r of answer.authority) if (r.type === RRType.SOA) return r.name;
  let name = ctx.qname;
  for (const r of answer.answer) if (r.type === RRType.CNAME && r.name.equals(name)) name = (r.data as { cname: Name }).cname;
  return name;
}

function answerAddresses(rrs: readonly ResourceRecord[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const r of rrs) {
    if (r.type !== RRType.A && r.type !== RRType.AAAA) continue;
    const b = addressBytes((r.data as { address: string }).address);
    if (b !== undefined) out.push(b);
  }
  return out;
}

function disabledHit(opts: ResponsePolicyOptions, ctx: QueryContext, m: Match): void {
  opts.stats.rpzZone(m.zone.name).disabled++;
  if (m.zone.log) {
    opts.logger.info({ zone: m.zone.name, trigger: m.trigger, owner: m.rule.owner.toString(), qname: ctx.qname.toString(), client: ctx.clientAddress },
      'rpz: disabled policy matched (not applied)');
  }
}

/** The action after the zone's `policy` override. */
function actionOf(m: Match): { action: RpzAction; sets: readonly RRset[] } {
  const p = m.zone.policy;
  switch (p.kind) {
    case 'given': return { action: m.rule.action, sets: m.rule.sets };
    case 'cname': return { action: 'local', sets: [{ name: m.rule.owner, type: RRType.CNAME, class: RRClass.IN, ttl: m.zone.maxPolicyTtl, rdata: [{ cname: p.target }] }] };
    default: return { action: p.kind as RpzAction, sets: [] };
  }
}

/** Builds the rewritten answer for `m` (`answer`: the unrewritten one, when fetched). */
function apply(opts: ResponsePolicyOptions, ctx: QueryContext, m: Match, answer: Message | undefined, next: Handler): Message | Promise<Message> {
  const { action, sets } = actionOf(m);
  const zone = m.zone;
  const stats = opts.stats;
  const z = stats.rpzZone(zone.name);
  z.hits++;
  z.byTrigger[m.trigger] = (z.byTrigger[m.trigger] ?? 0) + 1;
  stats.rpzClients.add(ctx.clientAddress);
  ctx.policy = 'rpz:' + zone.name + ':' + m.trigger;
  // A rewritten answer is this rule's, not the cache's: never served again from bytes by the engine.
  ctx.live = undefined;
  ctx.cacheVariants = 0;
  if (zone.log) {
    opts.logger.info({ zone: zone.name, trigger: m.trigger, action, owner: m.rule.owner.toString(), qname: ctx.qname.toString(), client: ctx.clientAddress },
      'rpz rewrite');
  }
  const req = ctx.request;
  const max = opts.maxUdpSize;
  switch (action) {
    case 'passthru':
      return answer ?? next(ctx);
    case 'drop': {
      // No reply at all (an empty rawReply is the engine's "send nothing").
      ctx.rawReply = DROP;
      return replyTo(req, Rcode.SERVFAIL, max);
    }
    case 'tcp-only': {
      // Over UDP: an empty truncated reply, so the client retries over TCP, where it is answered as usual.
      if (ctx.transport !== 'udp') return answer ?? next(ctx);
      const r = replyTo(req, Rcode.NOERROR, max);
      r.ra = true;
      r.tc = true;
      return r;
    }
    case 'nxdomain':
    case 'nodata': {
      const r = replyTo(req, action === 'nxdomain' ? Rcode.NXDOMAIN : Rcode.NOERROR, max);
      r.ra = true;
      r.answer = [...m.kept];
      addSoa(r, m);
      return r;
    }
    case 'local':
      return localAnswer(ctx, m, sets, max, next);
  }
}

const DROP = new Uint8Array(0);

/**
 * draft-vixie-dnsop-dns-rpz §6 and BIND: the policy zone's SOA goes in the ADDITIONAL section of
 * rewritten answers (NXDOMAIN, NODATA, local data) (it names the zone for whoever debugs the answer; not the authority
 * section, so downstream caches do not take it for the negative TTL). TTL as in the zone, as BIND.
 */
function addSoa(r: Message, m: Match): void {
  const s = m.compiled.soa;
  if (s === undefined) return;
  r.additional.push({ name: s.name, type: RRType.SOA, class: RRClass.IN, ttl: s.ttl, data: s.rdata[0] });
}

/**
 * Local data: the trigger's RRsets of the query type with the query name as owner (all of them
 * for ANY); a CNAME answers any type and is followed down the chain (BIND restarts the query at
 * its target); no data of the type: NODATA.
 */
function localAnswer(ctx: QueryContext, m: Match, sets: readonly RRset[], max: number, next: Handler): Message | Promise<Message> {
  const req = ctx.request;
  const qtype = ctx.qtype;
  const ttlCap = m.zone.maxPolicyTtl;
  const r = replyTo(req, Rcode.NOERROR, max);
  r.ra = true;
  r.answer = [...m.kept];
  const owner = m.name;
  let cname: Name | undefined;
  for (const s of sets) {
    const isCname = s.type === RRType.CNAME;
    if (!isCname && s.type !== qtype && qtype !== RRType.ANY) continue;
    for (const d of s.rdata) {
      let data = d;
      if (isCname) {
        let target = (d as { cname: Name }).cname;
        // `*.garden.`: the query name under garden. (BIND's wildcard CNAME substitution).
        if (target.isWildcard) target = substitute(owner, target);
        cname = target;
        data = { cname: target };
      }
      r.answer.push({ name: owner, type: s.type, class: RRClass.IN, ttl: Math.min(s.ttl, ttlCap), data });
    }
  }
  // BIND puts the policy zone's SOA in the additional section of local-data answers too.
  addSoa(r, m);
  if (r.answer.length === m.kept.length) return r;
  if (cname === undefined || qtype === RRType.CNAME) return r;
  // Follow the CNAME (the walled garden) through the rest of the chain.
  const sub = followContext(ctx, cname);
  if (sub === undefined) return r;
  const joined = (t: Message): Message => {
    if (t.rcode === Rcode.NOERROR || t.rcode === Rcode.NXDOMAIN) {
      r.rcode = t.rcode;
      for (const rr of t.answer) r.answer.push(rr);
      if (t.answer.length === 0) r.authority = t.authority;
    }
    return r;
  };
  try {
    const t = next(sub);
    return t instanceof Promise ? t.then(joined, () => r) : joined(t);
  } catch {
    return r;
  }
}

/** `*.garden.` with the query name put in place of `*`. */
function substitute(qname: Name, wildcardTarget: Name): Name {
  const rest = wildcardTarget.wire.subarray(2);
  const w = qname.wire;
  const len = w.length - 1 + rest.length;
  if (len > 255) return wildcardTarget.parent();
  const out = new Uint8Array(len);
  out.set(w.subarray(0, w.length - 1), 0);
  out.set(rest, w.length - 1);
  return new Name(out);
}

/** A context asking for `target` (same type, client and transport), for following a local CNAME. */
function followContext(ctx: QueryContext, target: Name): QueryContext | undefined {
  const req = ctx.request;
  const m = Object.assign(Object.create(Object.getPrototypeOf(req) as object) as Message, req);
  m.question = [{ name: target, type: ctx.qtype, class: ctx.qclass }];
  return new QueryContext(m, ctx.transport, ctx.clientAddress, ctx.clientPort, ctx.maxSize);
}
