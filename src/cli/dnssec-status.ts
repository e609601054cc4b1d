/**
 * `sovereign dnssec status ZONE` and `sovereign dnssec checkds ZONE published|withdrawn [--key TAG]`:
 * the running server's key manager through the control endpoint, as `rndc dnssec -status` and
 * `rndc dnssec -checkds` are BIND's: each key's role, state (RFC 7583 §3.1), timing metadata, its
 * CDS and parent-DS state and its next event; checkds tells the server the parent's DS RRset now
 * has (or no longer has) the key's DS, which lets a KSK roll waiting for it go on.
 */
import { parseArgs } from 'node:util';
import type { ControlResults } from '../control/backend.js';
import { controlJson } from '../control/client.js';
import { type TargetValues, resolveTarget, targetOptions } from '../control/cli-target.js';
import { algorithmInfo } from '../dnssec/algorithms.js';

type Status = ControlResults['dnssec'];

function when(t: number | undefined | null): string {
  return t === undefined || t === null ? '-' : new Date(t * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function span(s: number): string {
  if (s <= 0) return 'now';
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return [d > 0 ? `${d}d` : '', h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : '', d === 0 && h === 0 && m === 0 ? `${s}s` : ''].filter((x) => x !== '').join(' ');
}

/** Human-readable status, one block per key (newest roles first as the server lists them). */
export function formatDnssecStatus(r: Status): string {
  const out = [`zone: ${r.zone}`, `current time: ${when(r.now)}`,
    `parental agents: ${r.parentalAgents.length > 0 ? r.parentalAgents.join(', ') : 'none (tell the server with: sovereign dnssec checkds ZONE published --key TAG)'}`,
    `next event: ${r.nextEventAt === null ? 'none scheduled' : `${when(r.nextEventAt)} (in ${span(r.nextEventAt - r.now)})`}`, ''];
  for (const k of r.keys) {
    const t = k.timing;
    out.push(`key ${k.tag} (${algorithmInfo(k.algorithm)?.mnemonic ?? k.algorithm}) ${k.role.toUpperCase()}, ${k.state}`);
    out.push(`  published:   ${when(t.Publish)}`);
    out.push(`  active:      ${when(t.Activate)}`);
    out.push(`  retired:     ${when(t.Inactive)}`);
    out.push(`  removed:     ${when(t.Delete)}`);
    if (k.role !== 'zsk') {
      out.push(`  CDS/CDNSKEY: ${k.cds ? 'published' : 'not published'} (from ${when(t.SyncPublish)}${t.SyncDelete !== undefined ? ` to ${when(t.SyncDelete)}` : ''})`);
      out.push(`  parent DS:   ${k.ds === 'unknown' ? 'not seen' : k.ds}`);
    }
    out.push(`  lifetime:    ${k.lifetime === 0 ? 'unlimited' : span(k.lifetime)}`);
    if (k.predecessor !== null) out.push(`  predecessor: ${k.predecessor}`);
    if (k.successor !== null) out.push(`  successor:   ${k.successor}`);
    if (k.next !== null) out.push(`  next:        ${k.next.event} at ${when(k.next.at)} (in ${span(k.next.at - r.now)})`);
    if (k.waiting !== null) out.push(`  waiting for: ${k.waiting}`);
    if (r.changed?.includes(k.tag) === true) out.push('  (DS state changed now)');
    out.push('');
  }
  return out.join('\n');
}

interface StatusArgs {
  zone: string;
  what: 'published' | 'withdrawn' | undefined;
  tag: number | undefined;
  json: boolean;
  target: TargetValues;
}

function parse(tool: 'status' | 'checkds', argv: string[]): StatusArgs {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { ...targetOptions, json: { type: 'boolean' }, ...(tool === 'checkds' ? { key: { type: 'string' as const } } : {}) },
  });
  const [zone, what, ...extra] = positionals;
  if (zone === undefined) throw new Error('name the ZONE');
  if (tool === 'status' && what !== undefined) throw new Error(`unexpected argument "${what}"`);
  if (tool === 'checkds' && what !== 'published' && what !== 'withdrawn') throw new Error('say published or withdrawn after the ZONE');
  if (extra.length > 0) throw new Error(`unexpected argument "${extra[0]!}"`);
  const keyText = (values as { key?: string }).key;
  const tag = keyText === undefined ? undefined : Number(keyText);
  if (tag !== undefined && (!Number.isInteger(tag) || tag < 0 || tag > 65535)) throw new Error('--key takes a key tag (0-65535)');
  return {
    zone, what: tool === 'checkds' ? (what as 'published' | 'withdrawn') : undefined, tag, json: values.json === true,
    target: { control: values.control, 'token-file': values['token-file'], config: values.config },
  };
}

async function run(tool: 'status' | 'checkds', argv: string[]): Promise<number> {
  let args: StatusArgs;
  try {
    args = parse(tool, argv);
  } catch (err) {
    process.stderr.write(`sovereign dnssec ${tool}: ${(err as Error).message}\n`);
    return 2;
  }
  try {
    const target = resolveTarget(args.target);
    const q = new URLSearchParams({ zone: args.zone });
    if (args.what !== undefined) q.set('what', args.what);
    if (args.tag !== undefined) q.set('key', String(args.tag));
    const { data } = tool === 'status'
      ? await controlJson<Status>(target, 'GET', `/v1/dnssec/status?${q.toString()}`)
      : await controlJson<Status>(target, 'POST', `/v1/dnssec/checkds?${q.toString()}`);
    process.stdout.write(args.json ? JSON.stringify(data, null, 1) + '\n' : formatDnssecStatus(data));
    return 0;
  } catch (err) {
    process.stderr.write(`sovereign dnssec ${tool}: ${(err as Error).message}\n`);
    return 1;
  }
}

export const runStatus = (argv: string[]): Promise<number> => run('status', argv);
export const runCheckds = (argv: string[]): Promise<number> => run('checkds', argv);
