/**
 * Layer "clock": DNSSEC signatures are valid between their inception and expiration times
 * (RFC 4034 §3.1.5, compared with serial arithmetic, RFC 1982), so a host clock that is wrong by
 * more than the validity window makes every signed name bogus for a validator on this host, and
 * a zone whose signatures were not refreshed looks the same from here. The check takes the RRSIGs
 * of the name's answer and of its zone's SOA (asked with CD=1 so a validating resolver still
 * hands them over) and puts this host's clock (injected: tests move it) against their windows.
 */
import type { ServerAddress } from '../client/exchange.js';
import type { Name } from '../wire/name.js';
import type { ResourceRecord } from '../wire/record.js';
import { type RRSIGData, RRType, typeToString } from '../wire/types.js';
import { type Finding, finding } from './report.js';
import { label, probe } from './probe.js';

/** RFC 1982 serial difference b - a (32-bit). */
function serialDiff(b: number, a: number): number {
  return (b - a) | 0;
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

function span(seconds: number): string {
  const s = Math.abs(seconds);
  if (s >= 86_400) return `${(s / 86_400).toFixed(1)} days`;
  if (s >= 3600) return `${(s / 3600).toFixed(1)} hours`;
  return `${s} s`;
}

/** Where `now` (seconds) sits against one signature's window: 0 inside, < 0 before inception, > 0 after expiration (seconds off). */
export function windowOffset(sig: RRSIGData, now: number): number {
  const n = now >>> 0;
  const early = serialDiff(sig.signatureInception, n);
  if (early > 0) return -early;
  const late = serialDiff(n, sig.signatureExpiration);
  return late > 0 ? late : 0;
}

export interface ClockOptions {
  name: Name;
  type: number;
  transport: 'udp' | 'tcp';
  timeoutMs: number;
  /** Milliseconds since the epoch (Date.now unless injected). */
  now: number;
}

/** Judges the host clock against the RRSIGs of the name's answer and of its zone's SOA. */
export async function examineClock(server: ServerAddress, o: ClockOptions): Promise<Finding[]> {
  const who = label(server);
  const now = Math.floor(o.now / 1000);
  const ask = async (name: Name, type: number): Promise<ResourceRecord<RRSIGData>[]> => {
    const p = await probe(server, name, type, { transport: o.transport, edns: { udpSize: 1232, dnssecOk: true }, cd: true, ignoreTruncation: false, timeoutMs: o.timeoutMs });
    if (p.kind !== 'reply') return [];
    return p.message.answer.filter((rr): rr is ResourceRecord<RRSIGData> => rr.type === RRType.RRSIG && (rr.data as RRSIGData).typeCovered === type);
  };
  const sigs = await ask(o.name, o.type);
  if (sigs.length === 0) {
    return [finding('clock', 'rrsig-window', 'ok', `host clock ${iso(now)}; ${o.name.toString()} ${typeToString(o.type)} is not signed, nothing to compare`, '', who)];
  }
  const signer = sigs[0]!.data.signerName;
  const soaSigs = await ask(signer, RRType.SOA);
  const judge = (set: ResourceRecord<RRSIGData>[]): { off: number; sig: RRSIGData } => {
    // The best signature decides (a validator needs one good one): the smallest offset.
    let best = { off: Number.MAX_SAFE_INTEGER, sig: set[0]!.data };
    for (const s of set) {
      const off = windowOffset(s.data, now);
      if (Math.abs(off) < Math.abs(best.off)) best = { off, sig: s.data };
    }
    return best;
  };
  const a = judge(sigs);
  const window = (s: RRSIGData): string => `${iso(s.signatureInception)} .. ${iso(s.signatureExpiration)}`;
  const soa = soaSigs.length > 0 ? judge(soaSigs) : undefined;
  const soaText = soa === undefined ? '' : `; the zone ${signer.toString()} SOA's RRSIG: ${window(soa.sig)}`;
  if (a.off === 0) {
    return [finding('clock', 'rrsig-window', 'ok', `host clock ${iso(now)} is inside the RRSIG validity window ${window(a.sig)}${soaText}`, '', who)];
  }
  const both = soa !== undefined && Math.sign(soa.off) === Math.sign(a.off);
  if (a.off > 0) {
    return [finding('clock', 'rrsig-window', 'fail',
      `host clock ${iso(now)} is ${span(a.off)} after the expiration of the RRSIG over ${o.name.toString()} ${typeToString(o.type)} (${window(a.sig)})${soaText}` +
      `${both ? ': every signature of the zone looks expired from here' : ''}`,
      'if this host\'s clock is right the zone\'s signatures expired: re-sign it (and automate re-signing); otherwise set the clock (NTP), since validation depends on it', who)];
  }
  return [finding('clock', 'rrsig-window', 'fail',
    `host clock ${iso(now)} is ${span(-a.off)} before the inception of the RRSIG over ${o.name.toString()} ${typeToString(o.type)} (${window(a.sig)})${soaText}`,
    'this host\'s clock is probably behind: set it (NTP); if it is right, the zone was signed with inception times in the future', who)];
}
