/** Zones: master-file parser, in-memory zone with RFC 1034 lookup, checks, loading, printing. */
export * from './checks.js';
export * from './lexer.js';
export * from './load.js';
export * from './parser.js';
export * from './printer.js';
export * from './serial.js';
export * from './zone.js';
