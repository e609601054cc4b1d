/**
 * What every `sovereign <command>` module shares: the `Command` shape main.ts dispatches to, the
 * output sink tests capture, the package version, and the parse-then-run boilerplate of the
 * control commands (usage error: exit 2; failure while running: exit 1, one line on stderr).
 * Leaf module: imports nothing from src/cli, so commands never import each other for these.
 */
import { readFileSync } from 'node:fs';

export interface Command {
  /** One line for `sovereign help`. */
  summary: string;
  /** Text for `sovereign <command> --help` (and `-h`): the synopsis and options. */
  usage?: string;
  run(args: string[]): Promise<number> | number;
}

/** Where a command's output goes (tests capture it). */
export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
}

export const stdio: CommandIO = {
  out: (t) => { process.stdout.write(t); },
  err: (t) => { process.stderr.write(t); },
};

/** The package version (package.json two levels above dist/src/cli). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
}

/** Usage text of the options every control command takes (see src/control/cli-target.ts). */
export const TARGET_USAGE = '  --control ADDR:PORT|SOCKET   the server\'s control endpoint\n' +
  '  --token-file FILE            control token\n' +
  '  -c, --config FILE            take the endpoint and token from this config\n';

/** Exit code of a command line that could not be parsed. */
export const EXIT_PARSE = 2;
/** Exit code of a command that parsed but failed while running. */
export const EXIT_FAILED = 1;

/**
 * The shared shape of the control commands: parse (a thrown error is a usage error, exit 2),
 * then run (a thrown error is reported on one line, exit 1). Messages read `sovereign NAME: ...`.
 */
export async function parseThenRun<A>(name: string, argv: string[], parse: (argv: string[]) => A,
  run: (args: A) => Promise<number> | number, io: CommandIO = stdio): Promise<number> {
  let args: A;
  try {
    args = parse(argv);
  } catch (err) {
    io.err(`sovereign ${name}: ${(err as Error).message}\n`);
    return EXIT_PARSE;
  }
  try {
    return await run(args);
  } catch (err) {
    io.err(`sovereign ${name}: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  }
}
