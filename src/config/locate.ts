/**
 * From a key path back to the YAML text: where a key or value sits (line and column, 1-based), and
 * which known key an unknown one was probably meant to be ("did you mean `zones`?").
 */
import { type Document, isMap, isSeq, type LineCounter, type Node } from 'yaml';
import type { z } from 'zod';

export type Locate = (path: readonly PropertyKey[], key?: string) => { line: number; column: number } | undefined;

/** A locator over a parsed document: the node at `path` (or the nearest ancestor that exists). */
export function yamlLocator(doc: Document, lines: LineCounter): Locate {
  return (path, key) => {
    let node: unknown = doc.contents;
    let found: unknown = node;
    const steps = key === undefined ? path : [...path, key];
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      let next: unknown;
      if (isMap(node)) {
        const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === String(step));
        // The last step of an unknown key points at the key itself; otherwise at the value.
        next = pair === undefined ? undefined : (i === steps.length - 1 && key !== undefined ? pair.key : pair.value);
      } else if (isSeq(node) && typeof step === 'number') {
        next = node.items[step];
      }
      if (next === undefined || next === null) break;
      node = next;
      found = next;
    }
    const range = (found as Node | undefined)?.range;
    if (range === undefined || range === null) return undefined;
    const pos = lines.linePos(range[0]);
    return { line: pos.line, column: pos.col };
  };
}

/** The keys a strict object in `schema` allows at `path` (array indexes and record keys walked through). */
export function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = schema;
  const unwrap = (): void => {
    for (;;) {
      const def = (s as { _zod: { def: Record<string, unknown> } })._zod.def;
      if (['default', 'prefault', 'optional', 'nullable', 'catch', 'readonly'].includes(def.type as string)) s = def.innerType;
      // z.preprocess is a pipe from a transform into the real schema: follow the schema side.
      else if (def.type === 'pipe') s = (def.in as { _zod: { def: { type: string } } })._zod.def.type === 'transform' ? def.out : def.in;
      else return;
    }
  };
  unwrap();
  for (const step of path) {
    const def = (s as { _zod: { def: Record<string, unknown> } })._zod.def;
    if (def.type === 'object') s = (def.shape as Record<string, unknown>)[String(step)];
    else if (def.type === 'array') s = def.element;
    else if (def.type === 'record') s = def.valueType;
    else return [];
    if (s === undefined) return [];
    unwrap();
  }
  const def = (s as { _zod: { def: Record<string, unknown> } })._zod.def;
  return def.type === 'object' ? Object.keys(def.shape as object) : [];
}

/** Levenshtein distance, for suggestions (config keys are short; not a hot path). */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The known key closest to `unknown`, when it is close enough to be a typo. */
export function suggestKey(unknown: string, known: readonly string[]): string | undefined {
  const u = unknown.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(u, k.toLowerCase());
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(unknown.length / 3)) ? best : undefined;
}
