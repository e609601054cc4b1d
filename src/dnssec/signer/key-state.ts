/**
 * The rollover state of a key, kept beside its K-files as `K<zone>+<alg>+<tag>.state` in the
 * layout of BIND's dnssec-policy state files ("Field: value" lines, times as YYYYMMDDHHMMSS), so
 * a restart continues a roll where it was. What drives signing stays in the K-files' timing
 * metadata (Publish, Activate, Inactive, Delete, SyncPublish, SyncDelete); the state file adds
 * what only the key manager needs: the key's role, lifetime, its predecessor and successor, and
 * when the parent's DS was seen (RFC 7583 §3.3: the KSK roll may only go on once it is).
 *
 * Invariant: files are replaced by rename, so a crash leaves the old or the new state, never half.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { DnssecError } from '../../errors.js';
import { formatKeyTime } from '../key-file.js';

export type KeyRole = 'ksk' | 'zsk' | 'csk';

export interface KeyState {
  role: KeyRole;
  /** Seconds; 0 = unlimited. */
  lifetime: number;
  predecessor: number | undefined;
  successor: number | undefined;
  generated: number;
  /** When the parent's DS for this key was seen (checkds or `dnssec checkds ... published`). */
  dsPublished: number | undefined;
  /** When the parent's DS for this key was seen gone. */
  dsWithdrawn: number | undefined;
  /** omnipresent while the key is wanted in the zone, hidden once it is being retired (BIND's GoalState). */
  goal: 'omnipresent' | 'hidden';
}

function time(fields: Map<string, string>, name: string, file: string): number | undefined {
  const v = fields.get(name);
  if (v === undefined || v === '') return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(v);
  if (m === null) throw new DnssecError('ERR_DNSSEC_KEY_FILE', `${file}: ${name}: "${v}" is not YYYYMMDDHHMMSS`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
}

/** Reads `<base>.state`, or undefined when there is none. */
export function readKeyState(base: string): KeyState | undefined {
  const file = base + '.state';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DnssecError('ERR_DNSSEC_KEY_FILE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith(';')) continue;
    const i = line.indexOf(':');
    if (i > 0) fields.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const ksk = fields.get('KSK') === 'yes';
  const zsk = fields.get('ZSK') === 'yes';
  const num = (n: string): number | undefined => {
    const v = fields.get(n);
    return v === undefined || v === '' ? undefined : Number(v);
  };
  return {
    role: ksk && zsk ? 'csk' : ksk ? 'ksk' : 'zsk',
    lifetime: num('Lifetime') ?? 0,
    predecessor: num('Predecessor'),
    successor: num('Successor'),
    generated: time(fields, 'Generated', file) ?? 0,
    dsPublished: time(fields, 'DSPublish', file),
    dsWithdrawn: time(fields, 'DSRemoved', file),
    goal: fields.get('GoalState') === 'hidden' ? 'hidden' : 'omnipresent',
  };
}

/** The state file's text (BIND's field names where BIND has the field). */
export function keyStateText(tag: number, zone: string, s: KeyState): string {
  const lines = [
    `; This is the state of key ${tag}, for ${zone}`,
    `Lifetime: ${s.lifetime}`,
    ...(s.predecessor !== undefined ? [`Predecessor: ${s.predecessor}`] : []),
    ...(s.successor !== undefined ? [`Successor: ${s.successor}`] : []),
    `KSK: ${s.role !== 'zsk' ? 'yes' : 'no'}`,
    `ZSK: ${s.role !== 'ksk' ? 'yes' : 'no'}`,
    `Generated: ${formatKeyTime(s.generated)}`,
    ...(s.dsPublished !== undefined ? [`DSPublish: ${formatKeyTime(s.dsPublished)}`] : []),
    ...(s.dsWithdrawn !== undefined ? [`DSRemoved: ${formatKeyTime(s.dsWithdrawn)}`] : []),
    `GoalState: ${s.goal}`,
  ];
  return lines.join('\n') + '\n';
}

/** Writes `<base>.state` by rename (see the module comment). */
export function writeKeyState(base: string, tag: number, zone: string, s: KeyState): void {
  const file = base + '.state';
  try {
    writeFileSync(file + '.tmp', keyStateText(tag, zone, s), { mode: 0o644 });
    renameSync(file + '.tmp', file);
  } catch (err) {
    throw new DnssecError('ERR_DNSSEC_KEY_FILE', `cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
