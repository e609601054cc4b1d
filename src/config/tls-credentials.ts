/**
 * The server's TLS credentials (DoT, DoH): certificate chain and private key read from files,
 * checked together at start, by check-config and at every reload.
 *
 * Invariants: a credential set is only ever built from files that were both readable and
 * matching (node:tls checks the key against the certificate), so a failed reload leaves the
 * listeners on the credentials they had; the error names the config key and the file.
 */
import { readFileSync } from 'node:fs';
import { type SecureContext, type SecureContextOptions, createSecureContext } from 'node:tls';
import { ConfigError } from '../errors.js';

export interface TlsFiles {
  cert: string;
  key: string;
}

/** What a TLS listener is configured with: PEM material and the options common to DoT and DoH. */
export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
  files: TlsFiles;
  context: SecureContext;
}

function readPem(key: 'tls.cert' | 'tls.key', file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(key, `cannot read ${file}: ${code}`, `give the path of a readable PEM file (the server reads it at start and at reload)`);
  }
}

/** TLS 1.2 and 1.3 only (RFC 8310 §9, RFC 9325 §3.1.1). */
export const TLS_VERSIONS = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' } as const;

/**
 * Reads and checks `files`. Throws ConfigError naming `tls.cert` or `tls.key` and the file when
 * one cannot be read, is not PEM, or the key does not belong to the certificate.
 */
export function loadTlsCredentials(files: TlsFiles): TlsCredentials {
  const cert = readPem('tls.cert', files.cert);
  const key = readPem('tls.key', files.key);
  let context: SecureContext;
  try {
    context = createSecureContext({ cert, key, ...TLS_VERSIONS });
  } catch (err) {
    const msg = (err as Error).message;
    if (/key values mismatch/i.test(msg)) {
      throw new ConfigError('tls.key', `${files.key} is not the private key of the certificate in ${files.cert}`, 'give the key the certificate was issued for');
    }
    const which = /PEM|certificate|x509/i.test(msg) && !/private|key/i.test(msg) ? 'tls.cert' : 'tls.key';
    throw new ConfigError(which, `${which === 'tls.cert' ? files.cert : files.key} cannot be used: ${msg}`,
      which === 'tls.cert' ? 'give a PEM certificate chain (leaf first)' : 'give an unencrypted PEM private key (PKCS#8, RSA or EC)');
  }
  return { cert, key, files, context };
}

/** The options a listener's secure context is (re)built from. */
export function secureContextOptions(c: TlsCredentials): SecureContextOptions {
  return { cert: c.cert, key: c.key, ...TLS_VERSIONS };
}
