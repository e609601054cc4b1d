/**
 * Every error class Sovereign throws, with a stable `code` and the RCODE it maps to.
 *
 * Invariant: library code throws only these (or lets a platform error through as `cause`), so a
 * server can map any failure to an RCODE and an Extended DNS Error without string matching.
 * This module imports nothing, so `src/wire` can use it in any runtime.
 */

/** RCODE values used by the error classes (duplicated as literals to keep this module import-free). */
const FORMERR = 1;
const SERVFAIL = 2;
const NOTAUTH = 9;

export interface DnsErrorOptions {
  /** Extended DNS Error info-code (RFC 8914) to attach to a reply caused by this error. */
  ede?: number;
  cause?: unknown;
}

/** Base class: a stable machine-readable `code`, the RCODE a reply caused by it carries, optional EDE. */
export class DnsError extends Error {
  readonly code: string;
  readonly rcode: number;
  readonly ede: number | undefined;

  constructor(code: string, message: string, rcode: number, options: DnsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.rcode = rcode;
    this.ede = options.ede;
  }
}

/**
 * Bytes that are not a valid DNS message (or RDATA): says what was wrong and at which offset.
 * Maps to FORMERR.
 */
export class WireFormatError extends DnsError {
  readonly offset: number;
  readonly field: string;

  constructor(offset: number, field: string, reason: string) {
    super('ERR_DNS_WIRE_FORMAT', `${field} at offset ${offset}: ${reason}`, FORMERR);
    this.offset = offset;
    this.field = field;
  }
}

/** A message that does not fit the space it must be encoded into (and cannot be truncated). */
export class EncodeError extends DnsError {
  constructor(message: string) {
    super('ERR_DNS_ENCODE', message, SERVFAIL);
  }
}

/** Presentation-format text (a name, an RDATA field, a type mnemonic) that cannot be parsed. */
export class TextFormatError extends DnsError {
  /** Which field or token was wrong, e.g. `MX preference`. */
  readonly field: string;

  constructor(field: string, reason: string) {
    super('ERR_DNS_TEXT_FORMAT', `${field}: ${reason}`, FORMERR);
    this.field = field;
  }
}

/** A name that breaks RFC 1035 §2.3.4 limits (63-octet labels, 255-octet names) or syntax. */
export class NameError extends TextFormatError {
  constructor(name: string, reason: string) {
    super(`name "${name}"`, reason);
  }
}

/** An error in a zone file, with its place. */
export class ZoneSyntaxError extends DnsError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly reason: string;

  constructor(file: string, line: number, column: number, reason: string, options: DnsErrorOptions = {}) {
    super('ERR_DNS_ZONE_SYNTAX', `${file}:${line}:${column}: ${reason}`, SERVFAIL, options);
    this.file = file;
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}

/** A bad configuration value: names the key and how to fix it. */
export class ConfigError extends DnsError {
  readonly path: string;
  readonly fix: string;
  readonly problem: string;
  /** Where in the file, when the error came from one (1-based, as editors count). */
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(path: string, problem: string, fix: string, where?: { line: number; column: number }) {
    // A command-line flag (`--listen`) is named as the user typed it, not as a config key.
    super('ERR_DNS_CONFIG', `${path.startsWith('--') ? '' : 'config '}${path}: ${problem} (fix: ${fix})`, SERVFAIL);
    this.path = path;
    this.fix = fix;
    this.problem = problem;
    this.line = where?.line;
    this.column = where?.column;
  }
}

/** Every problem in one config at once (as named-checkconf lists them); `errors` holds each. */
export class ConfigErrors extends ConfigError {
  readonly errors: readonly ConfigError[];

  constructor(source: string, errors: readonly ConfigError[]) {
    super(source, `${errors.length} errors`, 'fix each error listed');
    this.message = `${source}: ${errors.length} errors in the configuration:\n${errors.map((e) => '  ' + e.message).join('\n')}`;
    this.errors = errors;
  }
}

/** TSIG verification failure (RFC 8945); the TSIG error field is carried separately. */
export class TsigError extends DnsError {
  readonly tsigError: number;

  constructor(message: string, tsigError: number) {
    super('ERR_DNS_TSIG', message, NOTAUTH);
    this.tsigError = tsigError;
  }
}

/** A resolution that failed (all servers lame, limits hit, validation failure): SERVFAIL + EDE. */
export class ResolutionError extends DnsError {
  constructor(message: string, ede: number, cause?: unknown) {
    super('ERR_DNS_RESOLUTION', message, SERVFAIL, { ede, cause });
  }
}

/**
 * A DNSSEC key, signature or proof that cannot be used (malformed key, unsupported algorithm or
 * digest, unreadable key file). Validation failures of data are results, not this error; this is
 * for the tools and the signer. Maps to SERVFAIL.
 */
export class DnssecError extends DnsError {
  constructor(code: string, message: string, options: DnsErrorOptions = {}) {
    super(code, message, SERVFAIL, options);
  }
}

/** RFC 8914 info-codes used by the client errors below (literals keep this module import-free). */
const EDE_NO_REACHABLE_AUTHORITY = 22;
const EDE_NETWORK_ERROR = 23;

/**
 * No acceptable reply arrived within the time allowed (every attempt on every transport timed
 * out). Maps to SERVFAIL + EDE 22 (No Reachable Authority).
 */
export class TimeoutError extends DnsError {
  /** Server that did not answer, as `address#port`. */
  readonly server: string;
  readonly timeoutMs: number;

  constructor(server: string, timeoutMs: number, detail = '') {
    super('ERR_DNS_TIMEOUT', `no reply from ${server} within ${timeoutMs} ms${detail === '' ? '' : ` (${detail})`}`, SERVFAIL,
      { ede: EDE_NO_REACHABLE_AUTHORITY });
    this.server = server;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A socket-level failure talking to a server (connection refused or reset, unreachable, a TCP
 * reply that was malformed or cut short). Maps to SERVFAIL + EDE 23 (Network Error).
 */
export class NetworkError extends DnsError {
  /** Server involved, as `address#port`. */
  readonly server: string;

  constructor(server: string, message: string, cause?: unknown) {
    super('ERR_DNS_NETWORK', `${server}: ${message}`, SERVFAIL, { ede: EDE_NETWORK_ERROR, cause });
    this.server = server;
  }
}

/** The exchange was cancelled through its AbortSignal. */
export class AbortedError extends DnsError {
  constructor(message = 'query aborted', cause?: unknown) {
    super('ERR_DNS_ABORTED', message, SERVFAIL, { cause });
  }
}

/**
 * A listening socket that could not be opened: the address, the cause (EADDRINUSE, EACCES,
 * EADDRNOTAVAIL...) and what to do about it, in one line an operator can act on.
 */
export class ListenError extends DnsError {
  readonly transport: string;
  readonly address: string;
  readonly port: number;
  /** The system error code (`EADDRINUSE`...), or '' when there was none. */
  readonly errno: string;

  constructor(transport: string, address: string, port: number, cause: unknown, hint?: string) {
    const errno = typeof cause === 'object' && cause !== null && typeof (cause as { code?: unknown }).code === 'string'
      ? (cause as { code: string }).code : '';
    const where = address.startsWith('/') ? `${transport} socket ${address}`
      : `${transport} ${address.includes(':') ? `[${address}]` : address}:${port}`;
    super('ERR_DNS_LISTEN', `cannot listen on ${where}: ${errno !== '' ? errno : (cause as Error)?.message ?? String(cause)}` +
      `${errno === 'EADDRINUSE' && hint !== undefined ? hint : listenHint(errno, port)}`, SERVFAIL, { cause });
    this.transport = transport;
    this.address = address;
    this.port = port;
    this.errno = errno;
  }
}

function listenHint(errno: string, port: number): string {
  switch (errno) {
    case 'EADDRINUSE':
      return ' (another process holds this address: see `ss -lunp` and `ss -ltnp`; or two listen entries overlap)';
    case 'EACCES':
      return port < 1024
        ? ` (port ${port} needs root or CAP_NET_BIND_SERVICE: run as root with \`user:\` set, or grant the capability, e.g. AmbientCapabilities=CAP_NET_BIND_SERVICE in the systemd unit)`
        : ' (permission denied)';
    case 'EADDRNOTAVAIL':
      return ' (no interface has this address: check `ip addr`)';
    case 'EAFNOSUPPORT':
      return ' (this host has no IPv6: remove the [::] entries from listen)';
    default:
      return '';
  }
}

/** The server could not start or run as configured (no zone it can serve, a worker that died at start...). */
export class ServerError extends DnsError {
  constructor(message: string, cause?: unknown) {
    super('ERR_DNS_SERVER', message, SERVFAIL, { cause });
  }
}

/**
 * A server or client address that cannot be used: an upstream (`192.0.2.1#5353`, `tls://...`), an
 * ACL entry (`10.0.0.0/8`). Its message is the reason, for a ConfigError to carry with the key.
 */
export class AddressError extends DnsError {
  /** The text as given. */
  readonly text: string;

  constructor(text: string, reason: string) {
    super('ERR_DNS_ADDRESS', `"${text}" ${reason}`, SERVFAIL);
    this.text = text;
  }
}

/**
 * A zone transfer in (AXFR/IXFR) that failed or was rejected (cut short, inconsistent, bad TSIG,
 * failing the zone checks): the copy we had keeps serving. Maps to SERVFAIL.
 */
export class TransferError extends DnsError {
  /** The zone, as text. */
  readonly zone: string;

  constructor(zone: string, message: string, cause?: unknown) {
    super('ERR_DNS_TRANSFER', `zone ${zone}: ${message}`, SERVFAIL, { cause });
    this.zone = zone;
  }
}
