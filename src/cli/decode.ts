/**
 * `sovereign decode HEX|-`: prints a DNS message given as hex (or raw bytes on stdin) in dig's
 * layout. Handy for packet captures and for checking what the codec makes of hostile input.
 */
import { readFileSync } from 'node:fs';
import { DnsError } from '../errors.js';
import { Message } from '../wire/message.js';
import { fromHex } from '../wire/rdata/text.js';
import type { Command } from './command.js';

export const command: Command = {
  summary: 'print a DNS message given as hex (or raw bytes on stdin with -)',
  usage: 'usage: sovereign decode HEX | -\n\nPrints the DNS message given as hex digits (or as raw bytes on stdin with -) in dig\'s layout.\n',
  run(args: string[]): number {
    // A dash-word is an option, and decode has none: name it (a hex string never starts with '-').
    const bad = args.find((a) => a.startsWith('-') && a !== '-');
    if (bad !== undefined) {
      process.stderr.write(`sovereign decode: unknown option '${bad}'\n`);
      return 2;
    }
    if (args.length !== 1) {
      process.stderr.write('usage: sovereign decode HEX | -\n');
      return 2;
    }
    try {
      const bytes = args[0] === '-' ? new Uint8Array(readFileSync(0)) : fromHex(args[0]!.replace(/\s+/g, ''), 'hex');
      process.stdout.write(Message.decode(bytes).toString() + '\n');
      return 0;
    } catch (err) {
      if (err instanceof DnsError) {
        process.stderr.write(`sovereign decode: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
};
