/**
 * SvcParams of SVCB and HTTPS (RFC 9460 §2.2, §7; RFC 9461 dohpath; RFC 9540 ohttp): a list of
 * key/value pairs in strictly increasing key order.
 *
 * Invariants: values are kept as raw wire bytes, so a record round-trips exactly; decoding
 * checks the value format of every key this module knows (as BIND does: a malformed `port` or
 * `ipv4hint` is a FORMERR), so printing never meets a value it cannot show. Presentation
 * follows BIND/dig: `alpn` and generic `keyNNNNN` values quoted, lists comma-separated with
 * `\,` and `\\` escaping inside items (RFC 9460 Appendix A.1), `ech` as bare base64.
 */
import { TextFormatError } from '../../errors.js';
import type { Field } from './fields.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './addresses.js';
import { TokenCursor, fromBase64, parseUint, quoteBytes, toBase64, unescapeBytes } from './text.js';

export interface SvcParam {
  key: number;
  value: Uint8Array;
}

/** SvcParamKeys by name (IANA "Service Parameter Keys (SvcParamKeys)"). */
export const SvcParamKey = {
  mandatory: 0, alpn: 1, 'no-default-alpn': 2, port: 3, ipv4hint: 4, ech: 5, ipv6hint: 6, dohpath: 7, ohttp: 8,
} as const;
const keyNames: string[] = [];
for (const [k, v] of Object.entries(SvcParamKey)) keyNames[v] = k;

/** Name of a SvcParamKey (`alpn`) or its generic form (`key65333`). */
export function svcParamKeyToString(key: number): string {
  return keyNames[key] ?? `key${key}`;
}

/** Code of a SvcParamKey name or `keyNNNNN`; undefined when neither. */
export function svcParamKeyFromString(text: string): number | undefined {
  const k = (SvcParamKey as Record<string, number>)[text];
  if (k !== undefined) return k;
  if (text.length > 3 && text.length <= 8 && text.startsWith('key')) {
    let v = 0;
    for (let i = 3; i < text.length; i++) {
      const d = text.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) return undefined;
      v = v * 10 + d;
    }
    // RFC 9460 §14.3.2: 65535 is reserved ("Invalid key").
    if (v <= 0xfffe) return v;
  }
  return undefined;
}

/** Why a known key's value is malformed, or undefined when it is fine (RFC 9460 §7). */
function checkValue(key: number, v: Uint8Array): string | undefined {
  const n = v.length;
  switch (key) {
    case 0: // mandatory: non-empty list of u16 keys, strictly increasing, not containing 0
      if (n === 0 || n % 2 !== 0) return 'mandatory needs a non-empty list of 2-octet keys';
      for (let i = 0, last = -1; i < n; i += 2) {
        const k = (v[i]! << 8) | v[i + 1]!;
        if (k === 0) return 'mandatory lists "mandatory"';
        if (k <= last) return 'mandatory keys out of order or repeated';
        last = k;
      }
      return undefined;
    case 1: // alpn: non-empty list of non-empty length-prefixed ids
      if (n === 0) return 'alpn needs at least one protocol id';
      for (let i = 0; i < n; ) {
        const len = v[i]!;
        if (len === 0) return 'empty alpn id';
        i += 1 + len;
        if (i > n) return 'alpn id runs past the value';
      }
      return undefined;
    case 2: // no-default-alpn
    case 8: // ohttp (RFC 9540 §4)
      return n === 0 ? undefined : `${keyNames[key]} takes no value`;
    case 3:
      return n === 2 ? undefined : 'port needs 2 octets';
    case 4:
      return n > 0 && n % 4 === 0 ? undefined : 'ipv4hint needs a non-empty multiple of 4 octets';
    case 5:
      return n > 0 ? undefined : 'ech needs a value';
    case 6:
      return n > 0 && n % 16 === 0 ? undefined : 'ipv6hint needs a non-empty multiple of 16 octets';
    case 7:
      return n > 0 ? undefined : 'dohpath needs a value';
    default:
      return undefined;
  }
}

/** RFC 9460 §8: every key listed in mandatory must be present (else the RR is malformed). */
function missingMandatory(params: readonly SvcParam[]): string | undefined {
  const mandatory = params[0]?.key === 0 ? params[0].value : undefined;
  if (mandatory === undefined) return undefined;
  for (let i = 0; i + 1 < mandatory.length; i += 2) {
    const k = (mandatory[i]! << 8) | mandatory[i + 1]!;
    if (!params.some((p) => p.key === k)) return `mandatory key ${svcParamKeyToString(k)} is missing`;
  }
  return undefined;
}

/** Splits an RFC 9460 Appendix A.1 value-list (after char-string unescaping) on unescaped commas. */
function splitValueList(b: Uint8Array, field: string): Uint8Array[] {
  const items: Uint8Array[] = [];
  let cur: number[] = [];
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x5c) {
      if (i + 1 >= b.length) throw new TextFormatError(field, 'dangling backslash in value list');
      cur.push(b[++i]!);
    } else if (c === 0x2c) {
      items.push(Uint8Array.from(cur));
      cur = [];
    } else {
      cur.push(c);
    }
  }
  items.push(Uint8Array.from(cur));
  return items;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function u16List(codes: number[]): Uint8Array {
  const out = new Uint8Array(codes.length * 2);
  codes.forEach((c, i) => {
    out[2 * i] = c >>> 8;
    out[2 * i + 1] = c & 0xff;
  });
  return out;
}

/** Parses one value in presentation form (already char-string unescaped) into wire bytes. */
function parseValue(key: number, name: string, raw: Uint8Array | undefined, field: string): Uint8Array {
  const need = (): Uint8Array => {
    if (raw === undefined || raw.length === 0) throw new TextFormatError(field, `${name} needs a value`);
    return raw;
  };
  switch (key) {
    case 0: {
      const codes = splitValueList(need(), field).map((item) => {
        const k = svcParamKeyFromString(latin1(item));
        if (k === undefined) throw new TextFormatError(field, `unknown key "${latin1(item)}" in mandatory`);
        return k;
      });
      codes.sort((a, b) => a - b);
      const out = u16List(codes);
      const why = checkValue(0, out);
      if (why !== undefined) throw new TextFormatError(field, why);
      return out;
    }
    case 1: {
      const items = splitValueList(need(), field);
      let len = 0;
      for (const it of items) {
        if (it.length === 0 || it.length > 255) throw new TextFormatError(field, 'alpn ids must be 1..255 octets');
        len += 1 + it.length;
      }
      const out = new Uint8Array(len);
      let p = 0;
      for (const it of items) {
        out[p++] = it.length;
        out.set(it, p);
        p += it.length;
      }
      return out;
    }
    case 2:
    case 8:
      if (raw !== undefined && raw.length > 0) throw new TextFormatError(field, `${name} takes no value`);
      return new Uint8Array(0);
    case 3: {
      const port = parseUint(latin1(need()), 0xffff, field);
      return new Uint8Array([port >>> 8, port & 0xff]);
    }
    case 4:
    case 6: {
      const items = latin1(need()).split(',');
      const size = key === 4 ? 4 : 16;
      const out = new Uint8Array(items.length * size);
      items.forEach((a, i) => out.set(key === 4 ? parseIPv4(a, field) : parseIPv6(a, field), i * size));
      return out;
    }
    case 5:
      return fromBase64(latin1(need()), field);
    case 7:
      return need();
    default:
      return raw ?? new Uint8Array(0);
  }
}

/** Escapes an item of a value-list (`,` and `\`), before char-string quoting. */
function escapeListItem(b: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x2c || c === 0x5c) out.push(0x5c);
    out.push(c);
  }
  return Uint8Array.from(out);
}

function printValue(key: number, v: Uint8Array): string {
  switch (key) {
    case 0: {
      const names: string[] = [];
      for (let i = 0; i + 1 < v.length; i += 2) names.push(svcParamKeyToString((v[i]! << 8) | v[i + 1]!));
      return names.join(',');
    }
    case 1: {
      const parts: number[] = [];
      for (let i = 0; i < v.length; ) {
        const len = v[i]!;
        if (parts.length > 0) parts.push(0x2c);
        for (const c of escapeListItem(v.subarray(i + 1, i + 1 + len))) parts.push(c);
        i += 1 + len;
      }
      return quoteBytes(Uint8Array.from(parts));
    }
    case 3:
      return String((v[0]! << 8) | v[1]!);
    case 4: {
      const out: string[] = [];
      for (let i = 0; i + 4 <= v.length; i += 4) out.push(formatIPv4(v.subarray(i, i + 4)));
      return out.join(',');
    }
    case 5:
      return toBase64(v);
    case 6: {
      const out: string[] = [];
      for (let i = 0; i + 16 <= v.length; i += 16) out.push(formatIPv6(v, i));
      return out.join(',');
    }
    default:
      return quoteBytes(v);
  }
}

/** Presentation of one SvcParam as BIND prints it (`alpn="h2,h3"`, `port=443`, `no-default-alpn`). */
export function svcParamToString(p: SvcParam): string {
  const name = svcParamKeyToString(p.key);
  if (p.value.length === 0 && (p.key === 2 || p.key === 8 || p.key > 8)) return name;
  return `${name}=${printValue(p.key, p.value)}`;
}

export function svcParams<K extends string>(key: K): Field<K, SvcParam[]> {
  return {
    key, kind: 'svcParams', rest: true,
    decode: (r, end) => {
      const out: SvcParam[] = [];
      let last = -1;
      while (r.pos < end) {
        const at = r.pos;
        const k = r.u16(key);
        const len = r.u16(key);
        if (k <= last) r.fail(key, `SvcParamKey ${k} out of order`, at);
        if (k === 0xffff) r.fail(key, 'SvcParamKey 65535 is reserved (RFC 9460 §14.3.2)', at);
        if (r.pos + len > end) r.fail(key, 'SvcParamValue runs past RDATA end', at);
        last = k;
        const value = r.bytes(len, key);
        const why = checkValue(k, value);
        if (why !== undefined) r.fail(key, why, at);
        out.push({ key: k, value });
      }
      const why = missingMandatory(out);
      if (why !== undefined) r.fail(key, why, end);
      return out;
    },
    encode: (w, v) => {
      for (const p of v) {
        w.u16(p.key);
        w.u16(p.value.length);
        w.bytes(p.value);
      }
    },
    parse: (t: TokenCursor) => {
      const out: SvcParam[] = [];
      while (!t.done) {
        const tok = t.next(key);
        const eq = tok.text.indexOf('=');
        const name = eq < 0 ? tok.text : tok.text.slice(0, eq);
        let valueText: string | undefined = eq < 0 ? undefined : tok.text.slice(eq + 1);
        // `key="value"`: the tokenizer splits the quoted part into its own token.
        if (eq === tok.text.length - 1 && t.peek()?.quoted === true) valueText = t.next(key).text;
        const k = svcParamKeyFromString(name);
        if (k === undefined) throw new TextFormatError(key, `unknown SvcParamKey "${name}"`);
        if (out.some((p) => p.key === k)) throw new TextFormatError(key, `SvcParamKey "${name}" repeated`);
        const raw = valueText === undefined ? undefined : unescapeBytes(valueText, key);
        const value = parseValue(k, name, raw, key);
        if (value.length > 0xffff) throw new TextFormatError(key, `${name} value exceeds 65535 octets`);
        out.push({ key: k, value });
      }
      out.sort((a, b) => a.key - b.key);
      const why = missingMandatory(out);
      if (why !== undefined) throw new TextFormatError(key, why);
      return out;
    },
    print: (v) => v.map(svcParamToString).join(' '),
    equals: (a, b) =>
      a.length === b.length && a.every((p, i) => p.key === b[i]!.key && p.value.length === b[i]!.value.length &&
        p.value.every((x, j) => x === b[i]!.value[j])),
  };
}
