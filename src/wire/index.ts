/**
 * The wire codec: names, records, messages, EDNS. Imports no Node built-in, so it runs in
 * browsers, Deno and edge runtimes too.
 */
export * from './constants.js';
export * from './edns.js';
export * from './message.js';
export * from './name.js';
export * from './reader.js';
export * from './record.js';
export * from './types.js';
export * from './writer.js';
export {
  type Token, TokenCursor, tokenize, toBase64, fromBase64, toHex, fromHex, toBase32Hex, fromBase32Hex, parseTtl,
} from './rdata/text.js';
export { type Field, bytesEqual, encodeTypeBitmap } from './rdata/fields.js';
export { formatIPv6, parseIPv6, parseIPv4, formatIPv4 } from './rdata/addresses.js';
export { type SvcParam, SvcParamKey, svcParamKeyFromString, svcParamKeyToString, svcParamToString } from './rdata/svcb.js';
export { type MultilineShape, type TypeLayout, chunkBlob, typeLayout } from './layout.js';
