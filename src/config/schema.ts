/**
 * The configuration file's shape (YAML), with defaults, validated by zod. Every key has a hint
 * that `load.ts` puts in the error message, so a bad config names the key and the fix.
 */
import { z } from 'zod';

/** `host:port`, `[v6]:port`, or a bare host (port 53). */
const listenAddress = z.string().min(1);

export const zoneSchema = z.strictObject({
  /** Zone origin, e.g. `example.com`. */
  name: z.string().min(1),
  /** Master file path, relative to the config file's directory. */
  file: z.string().min(1),
});

export const configSchema = z.strictObject({
  listen: z.array(listenAddress).min(1).default(['127.0.0.1:5300', '[::1]:5300']),
  /** Worker processes; `auto` = one per core. */
  workers: z.union([z.literal('auto'), z.int().min(1).max(256)]).default('auto'),
  zones: z.array(zoneSchema).default([]),
  udp: z.strictObject({
    /** Largest UDP reply we send, whatever the client offers (RFC 6891; 1232 avoids fragmentation). */
    maxSize: z.int().min(512).max(65535).default(1232),
  }).prefault({}),
  tcp: z.strictObject({
    idleTimeoutMs: z.int().min(100).max(3_600_000).default(10_000),
    maxConnections: z.int().min(1).max(1_000_000).default(1000),
    maxConnectionsPerClient: z.int().min(1).max(100_000).default(20),
    /** Queries in flight on one connection before we stop reading from it. */
    maxPipelined: z.int().min(1).max(65535).default(100),
  }).prefault({}),
  /** Round-robin rotation of multi-record RRsets in answers. */
  rotate: z.boolean().default(true),
  /** CH TXT version.bind / hostname.bind / id.server: a string to answer, or false to refuse. */
  chaos: z.strictObject({
    version: z.union([z.string(), z.literal(false)]).default(false),
    hostname: z.union([z.string(), z.literal(false)]).default(false),
    id: z.union([z.string(), z.literal(false)]).default(false),
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  }).prefault({}),
  /** Where `serve` writes its PID so `sovereign reload` can signal it. */
  pidFile: z.string().optional(),
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ZoneConfig = z.output<typeof zoneSchema>;

/** How to fix each key, for error messages (first matching prefix wins). */
export const configHints: Record<string, string> = {
  listen: 'a list of "address:port" strings, e.g. ["127.0.0.1:5300", "[::1]:5300"]',
  workers: '"auto" or a whole number of worker processes (1 to 256)',
  zones: 'a list of { name: example.com, file: path/to/example.com.zone }',
  'udp.maxSize': 'a whole number of octets from 512 to 65535 (1232 is the usual choice)',
  'tcp.idleTimeoutMs': 'milliseconds from 100 to 3600000',
  'tcp.maxConnections': 'a whole number from 1',
  'tcp.maxConnectionsPerClient': 'a whole number from 1',
  'tcp.maxPipelined': 'a whole number from 1 to 65535',
  rotate: 'true or false',
  chaos: 'each of version, hostname, id: a string to answer with, or false to refuse',
  'log.level': 'one of trace, debug, info, warn, error, fatal, silent',
  pidFile: 'a file path',
};
