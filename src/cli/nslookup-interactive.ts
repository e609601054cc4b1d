/**
 * nslookup's interactive mode (BIND 9.18): commands read line by line from a stream (stdin).
 *
 *   NAME               look NAME up with the current settings (nslookup 9.18 ignores a
 *                      second word here and asks the default server)
 *   server NAME        make NAME the default server (resolved with the current server: here,
 *   lserver NAME       as an address literal or through the system resolver) and print it
 *   set OPTION         type=T, q=T, class=C, port=N, timeout=S, retry=N, [no]debug, [no]recurse,
 *                      [no]vc — an unknown option is reported and ignored
 *   exit               end (as does the end of the input)
 *
 * Output and exit status as nslookup: lookups follow each other without blank lines, one blank
 * line ends the session, and the status is 1 when any lookup failed or none was answered.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { CommandIO } from './command.js';
import { defaultServer, serverAddress } from './dig-query.js';
import type { NslookupOptions } from './nslookup-options.js';

/** What a session needs from nslookup.ts (passed in, so the two files do not import each other). */
export interface NslookupParts {
  applyOption(o: NslookupOptions, body: string): string | undefined;
  lookup(o: NslookupOptions, io: CommandIO, trailingBlank: boolean, serverAddr?: string): Promise<number>;
}

/** Runs the session; returns the exit code. `prompt`: print `> ` before each command (a terminal). */
export async function runInteractive(o: NslookupOptions, input: Readable, io: CommandIO, prompt: boolean, parts: NslookupParts): Promise<number> {
  // nslookup's status: 1 unless some lookup got a reply, and 1 once any lookup failed.
  let answered = false;
  let failed = false;
  let server = o.server ?? defaultServer(undefined);
  let address = await serverAddress(server, undefined);
  const lines = createInterface({ input, terminal: false });
  if (prompt) io.out('> ');
  for await (const raw of lines) {
    const words = raw.trim().split(/\s+/).filter((w) => w.length > 0);
    const [cmd, ...rest] = words;
    if (cmd === undefined) {
      if (prompt) io.out('> ');
      continue;
    }
    const lower = cmd.toLowerCase();
    if (lower === 'exit') break;
    if (lower === 'server' || lower === 'lserver') {
      if (rest[0] !== undefined) {
        try {
          address = await serverAddress(rest[0], undefined);
          server = rest[0];
        } catch (e) {
          io.out(`*** Can't find address for server ${rest[0]}: ${(e as Error).message}\n`);
        }
      }
      io.out(`Default server: ${server}\nAddress: ${address}#${o.port}\n`);
    } else if (lower === 'set') {
      const warning = rest[0] === undefined ? undefined : parts.applyOption(o, rest[0]);
      if (warning !== undefined) io.out(`${warning}\n`);
    } else if (lower === 'help' || lower === '?') {
      io.out(`The '${lower}' command is not yet implemented.\n`);
    } else if (lower === 'ls' || lower === 'view' || lower === 'finger' || lower === 'root') {
      io.out(`The '${lower}' command is not implemented.\n`);
    } else {
      const code = await parts.lookup({ ...o, name: cmd, server }, io, false, address);
      if (code === 0) answered = true;
      else failed = true;
    }
    if (prompt) io.out('> ');
  }
  io.out('\n');
  return failed || !answered ? 1 : 0;
}
