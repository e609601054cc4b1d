/**
 * `sovereign zone status [NAME] [--json]`: the configured authoritative zones of the running
 * server through its control endpoint, as `rndc zonestatus` / `knotc zone-status` show them: for
 * each zone its name, whether it is served (and why not: the last load error), the SOA serial and
 * the failed loads, followed by the server's transfer figures (TSIG, AXFR/IXFR out, NOTIFY out),
 * which the server counts for all zones together. With workers > 1 the control endpoint merges
 * the workers' snapshots (src/control/snapshot.ts mergeZones), so this reads one view.
 */
import { parseArgs } from 'node:util';
import { controlJson } from '../control/client.js';
import { type TargetValues, resolveTarget, targetOptions } from '../control/cli-target.js';
import type { StatsSnapshot, TransferSnapshot, ZoneSnapshot } from '../control/snapshot.js';
import type { ZoneAction, ZoneActionResult } from '../control/backend.js';
import { type Command, TARGET_USAGE, parseThenRun } from './command.js';

/** What `zone status --json` prints. */
export interface ZoneStatusReport {
  zones: ZoneSnapshot[];
  transfers: TransferSnapshot | null;
}

/** Absolute, lower-case zone name for comparing what the user typed with the configured names. */
function canonicalZone(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** Human-readable zone status, one block per zone like `rndc zonestatus`. */
export function formatZoneStatus(r: ZoneStatusReport): string {
  const out: string[] = [];
  for (const z of r.zones) {
    out.push(`name: ${z.name}`);
    out.push(`loaded: ${z.loaded ? 'yes' : 'no (answered SERVFAIL)'}`);
    out.push(`serial: ${z.serial ?? '-'}`);
    out.push(`load failures: ${z.loadFailures}`);
    if (z.error !== null) out.push(`last load error: ${z.error}`);
    const sec = z.secondary;
    if (sec !== undefined && sec !== null) {
      // rndc zonestatus's secondary lines: refresh/expiry times and the last transfer.
      out.push('type: secondary');
      out.push(`primaries: ${sec.primaries.join(', ')}`);
      out.push(`last refresh: ${sec.lastRefresh ?? 'never'}`);
      if (sec.transfers) out.push(`next refresh: ${sec.nextRefresh ?? '-'}`);
      out.push(`expires: ${sec.expires ?? '-'}${sec.expired ? ' (expired: answered SERVFAIL)' : ''}`);
      out.push(`last result: ${sec.lastResult ?? '-'}`);
      if (sec.failures > 0) out.push(`failures in a row: ${sec.failures}`);
      const t = sec.lastTransfer;
      out.push(t === null ? 'last transfer: none' : `last transfer: ${t.kind.toUpperCase()} serial ${t.serial} from ${t.from} at ${t.at} (${t.records} records, ${t.messages} messages, ${t.ms} ms)`);
      out.push(`transfers in: ${sec.transfersIn}, failed refreshes: ${sec.transferFailures}`);
    }
    out.push('');
  }
  const t = r.transfers;
  if (t !== null) {
    out.push('transfers (all zones):');
    out.push(`  xfr-out: ${t.xfrOut} (refused ${t.xfrOutRefused}, ${t.xfrOutMessages} messages, ${t.xfrOutMs} ms)`);
    out.push(`  notify-out: ${t.notifySent} sent, ${t.notifyAnswered} answered, ${t.notifyFailed} failed`);
    out.push(`  tsig: ${t.tsigVerified} verified, ${t.tsigFailed} failed`);
  }
  return out.join('\n') + '\n';
}

interface ZoneArgs {
  action: 'status' | 'sync' | ZoneAction;
  name: string | undefined;
  json: boolean;
  target: TargetValues;
}

function parseZoneArgs(argv: string[]): ZoneArgs {
  // Options first, so an unknown option is what the error names even before the action.
  const { values, positionals } = parseArgs({
    args: argv, options: { ...targetOptions, json: { type: 'boolean' } }, strict: true, allowPositionals: true,
  });
  const [action, name, ...extra] = positionals;
  if (action === undefined) throw new Error('missing action (status, sync, refresh, retransfer, notify)');
  if (action !== 'status' && action !== 'sync' && action !== 'refresh' && action !== 'retransfer' && action !== 'notify') {
    throw new Error(`unknown action "${action}" (status, sync, refresh, retransfer, notify)`);
  }
  if (action !== 'status' && action !== 'sync' && name === undefined) throw new Error(`zone ${action} needs the zone's NAME`);
  if (extra.length > 0) throw new Error(`unexpected argument "${extra[0]!}"`);
  const { json, ...target } = values;
  return { action, name, json: json === true, target };
}

export const command: Command = {
  summary: 'zones of the running server: status [NAME]; sync [NAME]; refresh, retransfer, notify NAME (as rndc)',
  usage: 'usage: sovereign zone status [NAME] [--json] [target options]\n' +
    '       sovereign zone sync [NAME] [--json] [target options]\n' +
    '       sovereign zone refresh|retransfer|notify NAME [target options]\n\n' +
    'sync: writes the zone file of NAME (or of every zone taking dynamic updates) from memory and compacts\n' +
    'its journal, as rndc sync; exit 1 when a file could not be written (e.g. edited by hand meanwhile).\n\n' +
    'refresh: a secondary zone checks its primaries\' SOA now (transfer when newer); retransfer: AXFR\n' +
    'now whatever the serial; notify: NOTIFY for the current serial to the NS hosts and notify: targets.\n\n' +
    'For each configured zone (or only NAME): loaded or not with the load error, serial, failed loads,\n' +
    'then the server\'s transfer figures. Exit 1 when NAME is not a configured zone.\n\noptions:\n' +
    '  --json                       print JSON\n' + TARGET_USAGE,
  run: (argv) => parseThenRun('zone', argv, parseZoneArgs, async (args) => {
    const target = resolveTarget(args.target);
    if (args.action === 'sync') return zoneSync(target, args);
    if (args.action !== 'status') {
      const path = `/v1/zone/${args.action}?name=${encodeURIComponent(args.name!)}`;
      const { data: r } = await controlJson<ZoneActionResult>(target, 'POST', path);
      process.stdout.write(args.json ? JSON.stringify(r, null, 1) + '\n' : `${r.zone}: ${r.message}\n`);
      return 0;
    }
    const { data } = await controlJson<StatsSnapshot>(target, 'GET', '/v1/stats');
    let zones = data.zones ?? [];
    if (args.name !== undefined) {
      const want = canonicalZone(args.name);
      zones = zones.filter((z) => canonicalZone(z.name) === want);
      if (zones.length === 0) throw new Error(`no zone "${args.name}" is configured`);
    }
    const report: ZoneStatusReport = { zones, transfers: data.transfers ?? null };
    process.stdout.write(args.json ? JSON.stringify(report, null, 1) + '\n' : formatZoneStatus(report));
    return 0;
  }),
};

/** `zone sync [NAME]`: POST /v1/zone/sync; one line per zone. */
async function zoneSync(target: ReturnType<typeof resolveTarget>, args: ZoneArgs): Promise<number> {
  const path = args.name === undefined ? '/v1/zone/sync' : `/v1/zone/sync?name=${encodeURIComponent(args.name)}`;
  const { data } = await controlJson<{ zones: { zone: string; ok: boolean; serial?: number; written?: boolean; error?: string }[]; ok: boolean }>(
    target, 'POST', path);
  if (args.json) {
    process.stdout.write(JSON.stringify(data, null, 2) + '\n');
  } else {
    for (const z of data.zones) {
      process.stdout.write(z.ok ? `zone ${z.zone}: ${z.written === true ? 'written' : 'up to date'}, serial ${z.serial ?? '-'}\n` : `zone ${z.zone}: FAILED: ${z.error ?? ''}\n`);
    }
  }
  return data.ok ? 0 : 1;
}
