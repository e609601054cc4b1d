/**
 * Layer "dnssec": does the resolver validate (RFC 4035 §3.2, §4)? Two tests, as dig users make
 * them by hand:
 * - a signed answer (RRSIGs come back with DO=1) must carry AD=1 from a validating resolver
 *   (RFC 4035 §3.2.3, RFC 6840 §5.8); the name asked first, the root's SOA as the fallback;
 * - a known-bogus name (`--bogus NAME`; dnssec-failed.org on the real Internet) must give
 *   SERVFAIL, and with CD=1 (RFC 4035 §3.2.2) the data.
 * A SERVFAIL for the name itself that CD=1 turns into data means the name's own chain is broken
 * (expired signatures, a wrong DS...): the clock and delegation layers say which.
 */
import type { ServerAddress } from '../client/exchange.js';
import { Rcode } from '../wire/constants.js';
import { Name } from '../wire/name.js';
import { RRType } from '../wire/types.js';
import { type Finding, finding } from './report.js';
import { type ProbeResult, describe, label, probe, question } from './probe.js';

const DO = { udpSize: 1232, dnssecOk: true };

function hasSigs(p: ProbeResult): boolean {
  return p.kind === 'reply' && p.message.answer.some((rr) => rr.type === RRType.RRSIG);
}

/** Asks with DO=1, TCP retried on TC so the signatures fit. */
function askDo(server: ServerAddress, name: Name, type: number, transport: 'udp' | 'tcp', timeoutMs: number, cd = false): Promise<ProbeResult> {
  return probe(server, name, type, { transport, edns: DO, cd, ignoreTruncation: false, timeoutMs });
}

export interface DnssecOptions {
  name: Name;
  type: number;
  /** A name known to fail validation, or undefined to skip that test. */
  bogus?: Name;
  transport: 'udp' | 'tcp';
  timeoutMs: number;
}

export async function examineDnssec(server: ServerAddress, o: DnssecOptions): Promise<Finding[]> {
  const who = label(server);
  const out: Finding[] = [];
  const first = await askDo(server, o.name, o.type, o.transport, o.timeoutMs);
  if (first.kind === 'reply' && first.message.rcode === Rcode.SERVFAIL) {
    const cd = await askDo(server, o.name, o.type, o.transport, o.timeoutMs, true);
    if (cd.kind === 'reply' && cd.message.rcode !== Rcode.SERVFAIL) {
      out.push(finding('dnssec', 'bogus', 'fail',
        `${question(o.name, o.type)} gives SERVFAIL, but with CD=1 (checking disabled) ${describe(cd)}: the resolver validates and finds the answer bogus`,
        'repair the zone\'s chain of trust (see the clock and delegation findings: expired signatures or a DS matching no DNSKEY)', who));
    }
  }
  let signed: { p: ProbeResult; q: string } | undefined;
  if (hasSigs(first)) signed = { p: first, q: question(o.name, o.type) };
  else {
    const root = await askDo(server, Name.fromText('.'), RRType.SOA, o.transport, o.timeoutMs);
    if (hasSigs(root)) signed = { p: root, q: '. SOA' };
  }
  if (signed === undefined) {
    out.push(finding('dnssec', 'validation', 'warn', 'no RRSIG came back with DO=1 for the name or for the root SOA: cannot tell whether the resolver validates',
      'use a resolver that passes DNSSEC records (DO=1) and validates, such as Unbound or Sovereign with validation on', who));
  } else if (signed.p.kind === 'reply' && signed.p.message.ad) {
    out.push(finding('dnssec', 'validation', 'ok', `${signed.q} is signed and the resolver sets AD=1: it validates`, '', who));
  } else {
    out.push(finding('dnssec', 'validation', 'fail',
      `${signed.q} comes back signed (RRSIGs with DO=1) but without AD: the resolver does not validate DNSSEC`,
      'turn validation on in the resolver (Unbound: module-config "validator iterator" with a trust anchor; BIND: dnssec-validation auto)', who));
  }
  if (o.bogus !== undefined) {
    const bad = await askDo(server, o.bogus, RRType.A, o.transport, o.timeoutMs);
    const cd = await askDo(server, o.bogus, RRType.A, o.transport, o.timeoutMs, true);
    const q = question(o.bogus, RRType.A);
    if (bad.kind === 'reply' && bad.message.rcode === Rcode.SERVFAIL && cd.kind === 'reply' && cd.message.rcode === Rcode.NOERROR) {
      out.push(finding('dnssec', 'bogus-test', 'ok', `known-bogus ${q} -> SERVFAIL, with CD=1 -> ${describe(cd)}`, '', who));
    } else if (bad.kind === 'reply' && bad.message.rcode === Rcode.NOERROR && bad.message.answer.length > 0) {
      out.push(finding('dnssec', 'bogus-test', 'fail', `known-bogus ${q} is answered (${describe(bad)}): the resolver does not validate`,
        'turn DNSSEC validation on in the resolver', who));
    } else {
      out.push(finding('dnssec', 'bogus-test', 'warn', `known-bogus ${q}: ${describe(bad)}; with CD=1: ${describe(cd)} (inconclusive)`,
        'pass --bogus with a name known to fail validation that is reachable from here', who));
    }
  }
  return out;
}
