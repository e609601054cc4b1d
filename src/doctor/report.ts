/**
 * What `sovereign doctor` found: one Finding per check, grouped by layer, printed as text (one
 * line per finding, worst verdict first within a layer) or as JSON.
 *
 * Invariants: every finding names its layer, a verdict (ok / warn / fail), what was seen (facts
 * only: addresses, RCODEs, flags, sizes, times) and, unless it is ok, the fix in one sentence.
 * Layers run in the order a query travels: this host's configuration, the path to the resolver,
 * what the resolver does (DNSSEC, EDNS), the clock, the answer itself, the domain's delegation.
 */

export const LAYERS = ['system', 'reach', 'dnssec', 'edns', 'clock', 'compare', 'delegation'] as const;
export type Layer = (typeof LAYERS)[number];
export type Verdict = 'ok' | 'warn' | 'fail';

export interface Finding {
  layer: Layer;
  /** Stable short name of the check (`udp`, `recursion`, `lame`, `ds-match`...), for scripts. */
  check: string;
  verdict: Verdict;
  /** What was seen. */
  seen: string;
  /** What to do about it, in one sentence ('' when ok). */
  fix: string;
  /** The server or zone the finding is about, when there is one. */
  subject?: string;
}

/** Builds a finding (the fix is dropped for ok ones). */
export function finding(layer: Layer, check: string, verdict: Verdict, seen: string, fix = '', subject?: string): Finding {
  const f: Finding = { layer, check, verdict, seen, fix: verdict === 'ok' ? '' : fix };
  if (subject !== undefined) f.subject = subject;
  return f;
}

export interface DoctorReport {
  /** The name asked about. */
  name: string;
  /** The resolvers examined, as ADDR#PORT. */
  resolvers: string[];
  findings: Finding[];
  /** Counts per verdict. */
  summary: Record<Verdict, number>;
}

export function makeReport(name: string, resolvers: string[], findings: Finding[]): DoctorReport {
  const summary: Record<Verdict, number> = { ok: 0, warn: 0, fail: 0 };
  for (const f of findings) summary[f.verdict]++;
  return { name, resolvers, findings, summary };
}

const MARK: Record<Verdict, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };

/** The report as text: a header, then each layer's findings, then the counts. */
export function formatText(r: DoctorReport): string {
  const lines = [`sovereign doctor: ${r.name} via ${r.resolvers.join(', ') || '(no resolver)'}`];
  for (const layer of LAYERS) {
    const fs = r.findings.filter((f) => f.layer === layer);
    if (fs.length === 0) continue;
    lines.push('', `[${layer}]`);
    for (const f of fs) {
      lines.push(`  ${MARK[f.verdict]} ${f.check}${f.subject === undefined ? '' : ` (${f.subject})`}: ${f.seen}`);
      if (f.fix !== '') lines.push(`       fix: ${f.fix}`);
    }
  }
  const worst = r.summary.fail > 0 ? 'FAIL' : r.summary.warn > 0 ? 'WARN' : 'OK';
  lines.push('', `${worst}: ${r.summary.fail} fail, ${r.summary.warn} warn, ${r.summary.ok} ok`);
  return lines.join('\n') + '\n';
}

export function formatJson(r: DoctorReport): string {
  return JSON.stringify(r, null, 2) + '\n';
}
