/**
 * SvcParams of SVCB and HTTPS (RFC 9460 §2.2, §7): a list of key/value pairs in strictly
 * increasing key order. Values are kept as raw bytes (exact round-trip); presentation of the
 * keys RFC 9460/9461/9540 define is handled here.
 */
import { TextFormatError } from '../../errors.js';
import type { Field } from './fields.js';
import { TokenCursor, quoteBytes, unescapeBytes } from './text.js';

export interface SvcParam {
  key: number;
  value: Uint8Array;
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
        if (r.pos + len > end) r.fail(key, 'SvcParamValue runs past RDATA end', at);
        last = k;
        out.push({ key: k, value: r.bytes(len, key) });
      }
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
        const k = eq < 0 ? tok.text : tok.text.slice(0, eq);
        let valueText = eq < 0 ? '' : tok.text.slice(eq + 1);
        if (eq === tok.text.length - 1 && t.peek()?.quoted === true) valueText = t.next(key).text;
        const m = /^key(\d{1,5})$/.exec(k);
        if (m === null) throw new TextFormatError(key, `unknown SvcParamKey "${k}"`);
        out.push({ key: Number(m[1]), value: unescapeBytes(valueText, key) });
      }
      out.sort((a, b) => a.key - b.key);
      return out;
    },
    print: (v) => v.map((p) => (p.value.length === 0 ? `key${p.key}` : `key${p.key}=${quoteBytes(p.value)}`)).join(' '),
    equals: (a, b) =>
      a.length === b.length && a.every((p, i) => p.key === b[i]!.key && p.value.length === b[i]!.value.length &&
        p.value.every((x, j) => x === b[i]!.value[j])),
  };
}
