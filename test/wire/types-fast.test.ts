// The hand-written fast codecs in src/wire/types.ts must agree exactly with the generic field
// walk over the same fields, in both directions and both encode modes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EncodeMode, Name, Reader, Writer, parseRecord, typeDef } from '../../src/index.js';

const samples = [
  'a.example. 60 IN A 192.0.2.1',
  'a.example. 60 IN AAAA 2001:db8::1',
  'a.example. 60 IN AAAA ::ffff:192.0.2.1',
  'a.example. 60 IN NS Ns1.Example.',
  'a.example. 60 IN CNAME Target.example.',
  'a.example. 60 IN PTR Host.Example.',
  'a.example. 60 IN MX 10 Mail.Example.',
];

for (const text of samples) {
  test(`fast codec equals generic walk: ${text}`, () => {
    const rr = parseRecord(text);
    const def = typeDef(rr.type)!;
    for (const mode of [EncodeMode.Message, EncodeMode.Canonical]) {
      const fast = new Writer();
      def.encode(fast, rr.data, mode);
      const generic = new Writer();
      for (const f of def.fields) f.encode(generic, (rr.data as Record<string, unknown>)[f.key], mode);
      assert.deepEqual(fast.toBytes(), generic.toBytes());
      const bytes = fast.toBytes();
      const viaFast = def.decode(new Reader(bytes), bytes.length);
      const r = new Reader(bytes);
      const viaGeneric: Record<string, unknown> = {};
      for (const f of def.fields) viaGeneric[f.key] = f.decode(r, bytes.length);
      assert.deepEqual(Object.keys(viaFast as object), Object.keys(viaGeneric));
      assert.ok(def.equals(viaFast, viaGeneric));
      for (const v of Object.values(viaFast as object)) if (v instanceof Name) assert.ok(v.wire.length > 0);
    }
  });
}
