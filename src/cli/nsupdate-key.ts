/**
 * TSIG keys for `sovereign nsupdate`: `-y [hmac:]name:secret` (HMAC-MD5 when no algorithm is
 * named, as nsupdate 9.18) and `-k FILE`, which is either a `key "NAME" { ... };` file
 * (tsig-keygen, ddns-confgen) or one of BIND's dnssec-keygen HMAC key pairs
 * (`Kname.+163+12345.key` / `.private`; the secret is in the .private file's `Key:` line).
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TextFormatError } from '../errors.js';
import { type TsigKey, makeKey, parseKeyFile } from '../tsig/key.js';
import { splitKeyName } from './nsupdate-lang.js';

/** dnssec-keygen's algorithm numbers for HMAC keys (BIND's DST_ALG_HMAC*). */
const DST_HMAC: Record<number, string> = {
  157: 'hmac-md5', 161: 'hmac-sha1', 162: 'hmac-sha224', 163: 'hmac-sha256', 164: 'hmac-sha384', 165: 'hmac-sha512',
};

/** `-y [hmac:]name:secret`. */
export function keyFromArgument(text: string): TsigKey {
  const last = text.lastIndexOf(':');
  if (last < 0) throw new TextFormatError('-y', `"${text}" is not [hmac:]keyname:secret`);
  const { algorithm, name } = splitKeyName(text.slice(0, last));
  return makeKey(name, algorithm, text.slice(last + 1));
}

/** `-k FILE`. */
export function keyFromFile(path: string): TsigKey {
  const m = /^K(.+)\.\+(\d{3})\+(\d{5})(\.key|\.private)?$/.exec(basename(path));
  if (m !== null) {
    const priv = join(dirname(path), `K${m[1]}.+${m[2]}+${m[3]}.private`);
    const text = readFileSync(priv, 'utf8');
    const alg = /^Algorithm:\s*(\d+)/m.exec(text);
    const secret = /^Key:\s*(\S+)/m.exec(text);
    if (alg === null || secret === null) throw new TextFormatError(priv, 'has no "Algorithm:" and "Key:" lines');
    const algorithm = DST_HMAC[Number(alg[1])];
    if (algorithm === undefined) throw new TextFormatError(priv, `algorithm ${alg[1]} is not an HMAC (TSIG) algorithm`);
    return makeKey(m[1]!, algorithm, secret[1]!);
  }
  return parseKeyFile(readFileSync(path, 'utf8'))[0]!;
}
