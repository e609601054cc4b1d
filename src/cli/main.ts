/**
 * `sovereign <command> [args]`: dispatches to one module per command. Each command parses its
 * own options apart from running, and returns an exit code; nothing here calls process.exit.
 */
import { type Command, version } from './command.js';

export type { Command } from './command.js';

/** Commands by name; each lives in its own file and is loaded on use. */
const commands: Record<string, () => Promise<Command>> = {
  decode: async () => (await import('./decode.js')).command,
  'check-zone': async () => (await import('./check-zone.js')).command,
  'check-config': async () => (await import('./check-config.js')).command,
  serve: async () => (await import('./serve.js')).command,
  reload: async () => (await import('./reload.js')).command,
  dig: async () => (await import('./dig.js')).command,
  nslookup: async () => (await import('./nslookup.js')).command,
  cache: async () => (await import('./cache.js')).command,
  stats: async () => (await import('./stats.js')).command,
  'tsig-keygen': async () => (await import('./tsig-keygen.js')).command,
  dnssec: async () => (await import('./dnssec.js')).command,
  zone: async () => (await import('./zone.js')).command,
  nta: async () => (await import('./nta.js')).command,
  delv: async () => (await import('./delv.js')).command,
  nsupdate: async () => (await import('./nsupdate.js')).command,
  llmnr: async () => (await import('./llmnr.js')).command,
  nbns: async () => (await import('./nbns.js')).command,
  doctor: async () => (await import('./doctor.js')).command,
  health: async () => (await import('./health.js')).command,
  lab: async () => (await import('./lab.js')).command,
  querylog: async () => (await import('./querylog.js')).command,
};

async function usage(): Promise<string> {
  const lines = ['usage: sovereign <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(commands)) lines.push(`  ${name.padEnd(12)} ${(await load()).summary}`);
  lines.push(`  ${'version'.padEnd(12)} print the version`, `  ${'help'.padEnd(12)} this text`, '',
    'Each command prints its own options with `sovereign <command> --help`.');
  return lines.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write((await usage()) + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === 'version' || name === '--version') {
    process.stdout.write(`sovereign ${version()}\n`);
    return 0;
  }
  const load = commands[name];
  if (load === undefined) {
    process.stderr.write(`sovereign: unknown command "${name}" (see \`sovereign help\`)\n`);
    return 2;
  }
  const command = await load();
  // `--help` / `-h` anywhere: the command's usage on stdout, exit 0 (dig's own -h prints the same).
  if (command.usage !== undefined && rest.some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(command.usage.endsWith('\n') ? command.usage : command.usage + '\n');
    return 0;
  }
  return command.run(rest);
}
