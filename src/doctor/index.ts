/**
 * `sovereign doctor`: why does this name not work from here, layer by layer (system, reach,
 * dnssec, edns, clock, compare, delegation; one module per layer, report.ts for the output).
 *
 * Invariants: the doctor only asks questions (src/client's exchange(), our own iterator from the
 * root hints); it never changes anything. Every query has a deadline. With explicit resolvers
 * and root hints it touches nothing but those addresses (tests and `sovereign lab` rely on it);
 * without them it reads /etc/resolv.conf and the built-in root hints.
 */
import type { ServerAddress } from '../client/exchange.js';
import { type RootHints, builtinRootHints } from '../resolver/root-hints.js';
import { Name } from '../wire/name.js';
import { RRType } from '../wire/types.js';
import { examineClock } from './clock.js';
import { type Answer, examineCompare, resolveFromRoot } from './compare.js';
import { examineDelegation } from './delegation.js';
import { examineDnssec } from './dnssec.js';
import { examineEdns } from './edns.js';
import { examinePathMtu } from './path-mtu.js';
import { examineReach } from './reach.js';
import { type DoctorReport, type Finding, type Layer, finding, makeReport } from './report.js';
import { label } from './probe.js';
import { type SystemSources, examineSystem, hostSources } from './system.js';

export { type DoctorReport, type Finding, type Layer, type Verdict, LAYERS, formatJson, formatText } from './report.js';
export { parseResolvConf, parseResolvectlDns, type ResolvConf, type SystemSources } from './system.js';

export interface DoctorOptions {
  /** The name to diagnose (default: the root, which skips the delegation checks). */
  name?: Name;
  /** Its type (default A). */
  type?: number;
  /** Resolvers to examine instead of the host's (resolv.conf). */
  resolvers?: ServerAddress[];
  /** Root hints for our own resolution from the root (default: the built-in IANA hints). */
  hints?: RootHints;
  /** A name known to fail DNSSEC validation, for the bogus test (default with the built-in hints: REAL_BOGUS; else skipped). */
  bogus?: Name;
  /** A question with a large answer (default: the root's DNSKEY set). */
  large?: { name: Name; type: number };
  /** Per-query deadline, ms (default 2000). */
  timeoutMs?: number;
  /** Port of authoritative servers (default 53). */
  authPort?: number;
  /** Milliseconds since the epoch (default Date.now): tests and `--now` move the doctor's clock. */
  clock?: () => number;
  /** Where the system layer reads from (default: this host). */
  system?: SystemSources;
  /** Skip the delegation checks. */
  noDelegation?: boolean;
}

/** A name whose DNSSEC signatures are deliberately broken (Comcast's test zone), for the bogus test with the real root. */
export const REAL_BOGUS = 'www.dnssec-failed.org.';

/** Runs one layer; a check that throws (a bug, or data we did not expect) becomes a warning, never a crash. */
async function guard(layer: Layer, subject: string, run: () => Promise<Finding[]>): Promise<Finding[]> {
  try {
    return await run();
  } catch (err) {
    return [finding(layer, 'error', 'warn', `the ${layer} checks stopped: ${(err as Error).message}`, 'run again; if it repeats, report it with this output', subject)];
  }
}

/** Runs every layer and returns the report. */
export async function runDoctor(o: DoctorOptions = {}): Promise<DoctorReport> {
  const name = o.name ?? Name.fromText('.');
  const type = o.type ?? RRType.A;
  const timeoutMs = o.timeoutMs ?? 2000;
  const clock = o.clock ?? Date.now;
  const hints = o.hints ?? builtinRootHints();
  // On the real Internet (built-in hints) a well-known deliberately broken zone serves as the bogus test.
  const bogus = o.bogus ?? (o.hints === undefined ? Name.fromText(REAL_BOGUS) : undefined);
  const findings: Finding[] = [];
  let resolvers: ServerAddress[];
  if (o.resolvers !== undefined && o.resolvers.length > 0) {
    resolvers = o.resolvers;
    findings.push(finding('system', 'nameservers', 'ok', `resolver given on the command line: ${resolvers.map(label).join(', ')} (resolv.conf not read)`));
  } else {
    const sys = examineSystem(o.system ?? hostSources);
    findings.push(...sys.findings);
    resolvers = sys.resolvers.map((n) => ({ address: n.scope === undefined ? n.address : `${n.address}%${n.scope}`, port: 53 }));
  }
  const truthPromise: Promise<Answer | { error: string }> = resolveFromRoot(hints, name, type, { timeoutMs, clock, ...(o.authPort === undefined ? {} : { port: o.authPort }) });
  for (const server of resolvers) {
    const reach = await examineReach(server, name, type, timeoutMs);
    findings.push(...reach.findings);
    if (!reach.usable) continue;
    const transport = reach.transport;
    const who = label(server);
    findings.push(...await guard('dnssec', who, () => examineDnssec(server, { name, type, transport, timeoutMs, ...(bogus === undefined ? {} : { bogus }) })));
    findings.push(...await guard('edns', who, () => examineEdns(server, {
      name, type, timeoutMs, udpWorks: reach.udp.kind === 'reply',
      large: o.large ?? { name: Name.fromText('.'), type: RRType.DNSKEY },
    })));
    findings.push(...await guard('clock', who, () => examineClock(server, { name, type, transport, timeoutMs, now: clock() })));
    const truth = await truthPromise;
    findings.push(...await guard('compare', who, () => examineCompare(server, { name, type, transport, timeoutMs, truth })));
  }
  await truthPromise;
  // This host's own path to the authoritative servers: a resolver that falls back to small EDNS
  // sizes and TCP hides a broken uplink from the resolver checks above.
  if (o.noDelegation !== true) {
    const large = o.large ?? { name: Name.fromText('.'), type: RRType.DNSKEY };
    findings.push(...await guard('edns', large.name.toString(), () =>
      examinePathMtu({ large, hints, timeoutMs, ...(o.authPort === undefined ? {} : { port: o.authPort }) })));
  }
  if (!name.isRoot && o.noDelegation !== true) {
    findings.push(...await guard('delegation', name.toString(), () =>
      examineDelegation({ name, hints, timeoutMs, clock, ...(o.authPort === undefined ? {} : { port: o.authPort }) })));
  }
  return makeReport(name.toString(), resolvers.map(label), findings);
}
