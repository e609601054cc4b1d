/** Sovereign as a library: `import { Message, Name } from 'sovereign-dns'`. */
export * from './wire/index.js';
export * from './errors.js';
