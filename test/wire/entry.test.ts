/**
 * `sovereign-dns/wire` is the codec alone: its module graph (followed through the compiled files)
 * reaches no Node built-in and none of the server's dependencies (pino, prom-client, yaml, zod), so
 * browsers and edge runtimes can bundle it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Every module reachable from `entry` by static import/export, and every bare specifier met. */
function graph(entry: string): { files: string[]; bare: string[] } {
  const files = new Set<string>();
  const bare = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      if (spec.startsWith('.')) todo.push(join(dirname(f), spec));
      else bare.add(spec);
    }
  }
  return { files: [...files].map((f) => relative(ROOT, f)).sort(), bare: [...bare].sort() };
}

test('the wire entry imports no Node built-in and no server dependency', async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { default: string }> };
  const entry = join(ROOT, pkg.exports['./wire']!.default);
  const g = graph(entry);
  assert.deepEqual(g.bare, [], `bare imports reached from the wire entry: ${g.bare.join(', ')}`);
  assert.ok(g.files.every((f) => f.startsWith('dist/src/wire/') || f === 'dist/src/errors.js'), g.files.join('\n'));
  assert.ok(g.files.length > 10);
  // And it loads, by the package's own name, with the codec in it.
  const wire = await import('sovereign-dns/wire') as Record<string, unknown>;
  for (const name of ['Message', 'Name', 'recordToString', 'parseRecord', 'RRType']) assert.ok(name in wire, name);
});

test('the full entry does reach the server (the check above can fail)', () => {
  const g = graph(join(ROOT, 'dist/src/index.js'));
  for (const dep of ['pino', 'zod', 'yaml']) assert.ok(g.bare.includes(dep), dep);
});
