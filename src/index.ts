/** Sovereign as a library: `import { Message, Name } from 'sovereign-dns'`. */
export * from './wire/index.js';
export * from './errors.js';

// The client, the zone loader and the server with its handler chain (README "Sovereign as a library").
// The codec alone is `sovereign-dns/wire`, which pulls in none of pino, prom-client, yaml or zod.
export { exchange, type ExchangeOptions, type ExchangeResult, type ServerAddress } from './client/exchange.js';
export { loadZone, type LoadOptions, type LoadResult } from './zone/load.js';
export { parseZoneFile, parseZoneText, type ZoneEntry, type ZoneParseOptions } from './zone/parser.js';
export { checkZone, type ZoneProblem } from './zone/checks.js';
export { printZone } from './zone/printer.js';
export { Zone, type LookupResult, type RRset } from './zone/zone.js';
export { DnsServer, type ServerOptions, type ZoneLoadReport } from './server/server.js';
export { type ChainElement, type Handler, type Middleware, composeChain } from './server/chain.js';
export { QueryContext, replyTo } from './server/query-context.js';
export { defaultConfig, loadConfigFile, parseConfigText, validateConfig } from './config/load.js';
export type { Config, ConfigInput } from './config/schema.js';
export { createLogger, type Logger, type LogOptions, silentLogger } from './logging.js';
