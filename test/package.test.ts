/**
 * What `npm pack` ships: a LICENSE (MIT, as package.json says), the example config, and source maps
 * whose sources are in the package too (a map pointing at a file not shipped is a broken map).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('npm pack ships the LICENSE and every source a shipped map names', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = new Set((JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
  assert.ok(files.has('LICENSE'));
  assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /^MIT License/);
  assert.equal((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string }).license, 'MIT');
  assert.ok(files.has('sovereign.example.yaml'));
  const maps = [...files].filter((f) => f.endsWith('.map'));
  assert.ok(maps.length > 50, `${maps.length} maps`);
  const missing: string[] = [];
  for (const m of maps) {
    const map = JSON.parse(readFileSync(join(ROOT, m), 'utf8')) as { sources: string[] };
    for (const s of map.sources) {
      const p = normalize(join(dirname(m), s));
      if (!files.has(p)) missing.push(`${m} -> ${p}`);
    }
  }
  assert.deepEqual(missing.slice(0, 5), []);
  // Tests and benchmarks are not shipped.
  assert.ok(![...files].some((f) => f.startsWith('dist/test/') || f.startsWith('test/')));
});
