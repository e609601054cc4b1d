/**
 * `sovereign dnssec verify [-o ORIGIN] ZONEFILE`, like dnssec-verify: every problem on stderr and
 * exit 1, or the summary ("Zone fully signed") and exit 0.
 */
import { parseArgs } from 'node:util';
import { verifySummary, verifyZone } from '../dnssec/signer/verify-zone.js';
import { Name } from '../wire/name.js';
import { loadZone } from '../zone/load.js';

export function runVerify(argv: string[], now = Math.floor(Date.now() / 1000)): number {
  let file: string;
  let origin: Name;
  try {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { o: { type: 'string' } } });
    if (positionals.length !== 1) throw new Error('name one zone file');
    file = positionals[0]!;
    const o = values.o ?? file.slice(file.lastIndexOf('/') + 1);
    origin = Name.fromText(o.endsWith('.') ? o : o + '.');
  } catch (err) {
    process.stderr.write(`sovereign dnssec verify: ${(err as Error).message}\n`);
    return 2;
  }
  const { zone, problems } = loadZone(file, origin);
  if (zone === undefined) {
    for (const p of problems) if (p.severity === 'error') process.stderr.write(`${p.file}:${p.line}:${p.column}: ${p.reason}\n`);
    process.stderr.write(`sovereign dnssec verify: ${file}: zone not loaded due to errors\n`);
    return 1;
  }
  const report = verifyZone(zone, now);
  process.stdout.write(verifySummary(report, origin));
  for (const e of report.errors) process.stderr.write(e + '\n');
  if (report.errors.length > 0) {
    process.stderr.write(`sovereign dnssec verify: ${report.errors.length} problem(s) found\n`);
    return 1;
  }
  return 0;
}
