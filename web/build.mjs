// Builds the web dashboard (web/src) into dist/dashboard: one JS bundle, one CSS file and the
// page, all served by the control endpoint (src/control/static.ts). No CDN: Preact and uPlot are
// bundled from node_modules. Run by `npm run build` after tsc; type-checked by web/tsconfig.json.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'dashboard');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
await build({
  entryPoints: [join(here, 'src', 'main.tsx')],
  bundle: true,
  minify: true,
  sourcemap: false,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outfile: join(out, 'assets', 'app.js'),
  logLevel: 'warning',
  legalComments: 'linked',
});
copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
copyFileSync(join(here, 'icon.svg'), join(out, 'assets', 'icon.svg'));
