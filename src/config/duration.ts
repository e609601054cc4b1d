/**
 * Durations in the config: `10s`, `1500ms`, `5m`, `1h`, `1d`, `1w`, and sums like `1h30m` (BIND's and
 * Unbound's TTL shorthand). A plain number keeps the key's own unit (milliseconds for `...Ms` keys,
 * seconds for TTLs), so configs written before units existed mean what they meant.
 */
import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses a duration into milliseconds; `plainUnitMs` is what a bare number means. Undefined when malformed. */
export function parseDurationMs(text: string, plainUnitMs: number): number | undefined {
  const t = text.trim().toLowerCase();
  if (/^\d+$/.test(t)) return Number(t) * plainUnitMs;
  if (!/^(\d+(ms|s|m|h|d|w))+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

function describe(ms: number, unitMs: number): string {
  return unitMs === 1 ? `${ms}ms` : `${ms / unitMs}s`;
}

function duration(unitMs: number, min: number, max: number) {
  const unit = unitMs === 1 ? 'milliseconds' : 'seconds';
  return z.union([z.number(), z.string()]).transform((v, ctx) => {
    const ms = typeof v === 'number' ? v * unitMs : parseDurationMs(v, unitMs);
    if (ms === undefined || !Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration (write 10s, 5m, 1h, 1d or a number of ${unit})` });
      return z.NEVER;
    }
    if (ms % unitMs !== 0 || !Number.isInteger(ms)) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a whole number of ${unit}` });
      return z.NEVER;
    }
    const n = ms / unitMs;
    if (n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is outside ${describe(min * unitMs, unitMs)} to ${describe(max * unitMs, unitMs)}` });
      return z.NEVER;
    }
    return n;
  });
}

/** A time in milliseconds: `timeoutMs: 1500`, `1500ms` or `2s`. */
export function durationMs(min: number, max: number) {
  return duration(1, min, max);
}

/** A time in seconds (TTLs: `maxTtl: 86400` or `maxTtl: 1d`). */
export function durationS(min: number, max: number) {
  return duration(1000, min, max);
}
