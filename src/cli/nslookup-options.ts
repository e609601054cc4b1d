/**
 * What `sovereign nslookup` was asked (flags and `set` commands): its own file so that the
 * interactive loop (nslookup-interactive.ts) and the command (nslookup.ts) share it without
 * importing each other.
 */
export interface NslookupOptions {
  name: string;
  server: string | undefined;
  /** undefined: A then AAAA. */
  type: number | undefined;
  class: number;
  port: number;
  timeoutSeconds: number;
  tries: number;
  recurse: boolean;
  tcp: boolean;
  /** -debug / `set debug`: each reply's sections as nslookup's debug blocks. */
  debug: boolean;
  /** No name, or `-` as the name: read commands from stdin. */
  interactive: boolean;
  /** What nslookup says about options it ignores (printed on stdout, then it carries on). */
  warnings: string[];
}
