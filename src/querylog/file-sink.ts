/**
 * Where query log lines go: a file (rotated by size, as BIND's `querylog` channel with `size` and
 * `versions`) or standard output, both through pino's asynchronous destination (sonic-boom), which
 * buffers lines and writes them without blocking the event loop.
 *
 * Rotation: once the file passes `maxBytes`, FILE.(N-1) becomes FILE.N ... FILE becomes FILE.1
 * and a new FILE is opened (sonic-boom's reopen waits for a write in progress). Lines a slow
 * disk cannot take (more than `maxBufferBytes` waiting) are dropped and counted, never queued
 * without bound.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino } from 'pino';
import type { Logger } from '../logging.js';

type Destination = ReturnType<typeof pino.destination>;

/** Octets of lines waiting for the disk before new ones are dropped. */
const MAX_BUFFER_BYTES = 16 * 1024 * 1024;

export interface LineSink {
  /** Whole lines, as UTF-8 octets (the sink keeps the buffer until written). */
  write(lines: Buffer): void;
  /** Lines dropped because the destination was too slow. */
  readonly dropped: number;
  /** Size rotations done. */
  readonly rotations: number;
  close(): void;
}

/** Lines to a file, rotated by size. */
export class RotatingFileSink implements LineSink {
  private readonly dest: Destination;
  private bytes: number;
  dropped = 0;
  /** Rotations done (for tests and stats). */
  rotations = 0;

  constructor(readonly path: string, private readonly maxBytes: number, private readonly maxFiles: number, logger: Logger) {
    mkdirSync(dirname(path), { recursive: true });
    this.bytes = existsSync(path) ? statSync(path).size : 0;
    this.dest = pino.destination({ dest: path, sync: false, mkdir: true, maxLength: MAX_BUFFER_BYTES, contentMode: 'buffer' });
    this.dest.on('drop', (data: Buffer) => {
      this.dropped += countLines(data);
    });
    this.dest.on('error', (err: Error) => logger.warn({ err, file: path }, 'query log file write failed'));
  }

  write(lines: Buffer): void {
    this.dest.write(lines as unknown as string); // contentMode 'buffer': sonic-boom takes octets
    this.bytes += lines.length;
    if (this.maxBytes > 0 && this.bytes >= this.maxBytes) this.rotate();
  }

  private rotate(): void {
    const p = this.path;
    rmSync(`${p}.${this.maxFiles}`, { force: true });
    for (let k = this.maxFiles - 1; k >= 1; k--) {
      if (existsSync(`${p}.${k}`)) renameSync(`${p}.${k}`, `${p}.${k + 1}`);
    }
    if (existsSync(p)) renameSync(p, `${p}.1`);
    this.dest.reopen();
    this.bytes = 0;
    this.rotations++;
  }

  close(): void {
    try {
      this.dest.flushSync();
    } catch { /* not open yet, or busy: end() still writes what is buffered */ }
    this.dest.end();
  }
}

/** Lines to standard output. */
export class StdoutSink implements LineSink {
  private readonly dest: Destination = pino.destination({ dest: 1, sync: false, maxLength: MAX_BUFFER_BYTES, contentMode: 'buffer' });
  dropped = 0;
  readonly rotations = 0;

  constructor() {
    this.dest.on('drop', (data: Buffer) => {
      this.dropped += countLines(data);
    });
  }

  write(lines: Buffer): void {
    this.dest.write(lines as unknown as string);
  }

  close(): void {
    try {
      this.dest.flushSync();
    } catch { /* busy: what is left goes with the process */ }
  }
}

function countLines(data: Buffer): number {
  let n = 0;
  for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, i + 1)) n++;
  return n;
}
