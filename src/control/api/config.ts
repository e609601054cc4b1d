/**
 * `GET /v1/config`: the configuration in force, with secrets replaced by "(redacted)": TSIG and
 * cookie secrets, tokens, passwords, private keys given inline. Paths to key files stay (they
 * say where, not what).
 *
 * Invariant: redaction works on key names and on values that look like key material, so a key
 * added to the schema later is caught by its name without a change here.
 */
export const REDACTED = '(redacted)';

/** Keys whose values are secret whatever they hold. */
const SECRET_KEY = /secret|password|passphrase|^token$|^psk$|privatekey/i;

function looksLikeKeyMaterial(v: string): boolean {
  return v.includes('-----BEGIN');
}

/** A deep copy of `value` with secrets redacted. */
export function redactConfig(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return SECRET_KEY.test(key) || looksLikeKeyMaterial(value) ? REDACTED : value;
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, key));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null && typeof v !== 'boolean' ? REDACTED : redactConfig(v, k);
    }
    return out;
  }
  return value;
}
