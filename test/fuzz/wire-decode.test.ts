// Property test of the decoder against hostile input: more than 100,000 random, structured and
// mutated messages go through Message.decode. The only thing allowed to escape is a
// WireFormatError whose offset lies inside the message; whatever decodes must round-trip:
// decode -> encode -> decode gives the same message, and encoding that again gives the same bytes.
// It also checks wire -> text -> wire for every record that decodes. What it found is pinned as
// named regressions at the bottom.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  EncodeMode, Message, Name, RRType, TokenCursor, WireFormatError, Writer, encodeRData, newEdns, option, parseRData, parseRecord,
  printRData, tokenize, typeToString,
} from '../../src/index.js';
import { goldenRecords } from '../golden/zone-records.js';

/** Checks one input; returns true when it decoded. */
function check(input: Uint8Array): boolean {
  let m1: Message;
  try {
    m1 = Message.decode(input);
  } catch (e) {
    if (!(e instanceof WireFormatError)) throw new Error(`non-WireFormatError for ${Buffer.from(input).toString('hex')}: ${String(e)}`, { cause: e });
    if (!(e.offset >= 0 && e.offset <= input.length)) throw new Error(`offset ${e.offset} outside ${input.length} octets`);
    return false;
  }
  const w1 = m1.encode();
  const m2 = Message.decode(w1);
  const w2 = m2.encode();
  // Names the source compressed in types that must not be compressed (RFC 3597 §4) grow when
  // written back; only a message grown past 64 KiB could be cut, and then TC tells. The cut reply
  // must still decode, keep the question, and hold a prefix of each section (RFC 2181 §9).
  if ((w1[2]! & 0x02) !== 0 && !m1.tc) {
    assert.ok(w1.length <= 65535, `TC reply of ${w1.length} octets`);
    assert.ok(m2.tc, 'the cut reply says TC');
    assert.equal(m2.question.length, m1.question.length);
    for (const [cut, full] of [[m2.answer, m1.answer], [m2.authority, m1.authority], [m2.additional, m1.additional]] as const) {
      assert.ok(cut.length <= full.length, 'a cut section is not longer than the original');
      for (let i = 0; i < cut.length; i++) assert.equal(rrText(cut[i]!), rrText(full[i]!), `record ${i} of a cut section`);
    }
    assert.ok(m2.answer.length + m2.authority.length + m2.additional.length < m1.answer.length + m1.authority.length + m1.additional.length,
      'TC was set, so something was cut');
    return true;
  }
  assert.equal(m2.toString(), m1.toString());
  assert.deepEqual(w2, w1);
  // wire -> text -> wire: every decoded RDATA prints to text that parses back to the same bytes
  for (const rr of [...m1.answer, ...m1.authority, ...m1.additional]) {
    const text = printRData(rr.type, rr.data);
    let again: unknown;
    try {
      again = parseRData(rr.type, new TokenCursor(tokenize(text)), undefined);
    } catch (e) {
      throw new Error(`${typeToString(rr.type)} RDATA printed as "${text}" does not parse back: ${String(e)}`, { cause: e });
    }
    assert.deepEqual(canonical(rr.type, again), canonical(rr.type, rr.data), `${typeToString(rr.type)} "${text}"`);
  }
  return true;
}

/** One record as text, to compare a cut section with the original. */
function rrText(rr: Message['answer'][number]): string {
  return `${rr.name.toString()} ${rr.ttl} ${rr.class} ${typeToString(rr.type)} ${printRData(rr.type, rr.data)}`;
}

const scratch = new Writer();
function canonical(type: number, data: unknown): Uint8Array {
  const w = scratch;
  w.reset();
  encodeRData(type, w, data, EncodeMode.Canonical);
  return w.toBytes();
}

/** Valid messages to mutate: every record of the golden zone, in several arrangements. */
function seeds(): Uint8Array[] {
  const rrs = goldenRecords().map((l) => l.rr);
  const out: Uint8Array[] = [];
  const q = (name: string, type: number): Message => {
    const m = new Message();
    m.id = 0x4242;
    m.qr = true;
    m.aa = true;
    m.question.push({ name: Name.fromText(name), type, class: 1 });
    return m;
  };
  // one message per record (answer), so every type's decoder is reached
  for (const rr of rrs) {
    const m = q(rr.name.toString(), rr.type);
    m.answer.push(rr);
    m.authority.push(rrs[1]!);
    m.additional.push(rrs[3]!);
    m.edns = newEdns({ dnssecOk: true, options: [option.cookie(new Uint8Array(8).fill(7))] });
    out.push(m.encode());
  }
  // a big compressed response holding all of them, and a plain query with options
  const all = q('interop.test.', RRType.AXFR);
  all.answer.push(...rrs);
  out.push(all.encode());
  const query = Message.query('www.example.com.', RRType.A, {
    id: 1, edns: newEdns({ options: [option.clientSubnet('192.0.2.0', 24), option.padding(8), option.extendedError(18, 'x'), option.tcpKeepalive(10)] }),
  });
  out.push(query.encode());
  return out;
}

const SEEDS = seeds();
/**
 * A fresh seed each run, printed as `FUZZ_SEED=N`, so that every run searches somewhere new and a
 * failure can be repeated with `FUZZ_SEED=N node scripts/run-tests.mjs fuzz`. `FUZZ_SCALE=10` runs longer.
 */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const BASE_SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : randomInt(0x3fffffff);
console.log(`FUZZ_SEED=${BASE_SEED}`);

/** Applies byte-level mutations (flip, set, insert, delete, truncate, plant a pointer, copy a slice). */
function mutate(seed: Uint8Array, ops: readonly (readonly [number, number, number])[]): Uint8Array {
  let b = Array.from(seed);
  for (const [op, at, val] of ops) {
    const i = b.length === 0 ? 0 : at % b.length;
    switch (op) {
      case 0: b[i] = (b[i] ?? 0) ^ (1 << (val & 7)); break;
      case 1: b[i] = val; break;
      case 2: b.splice(i, 0, val); break;
      case 3: b.splice(i, 1 + (val & 3)); break;
      case 4: b = b.slice(0, i); break;
      case 5: b[i] = 0xc0 | (val & 0x3f); b[i + 1] = (val * 7) & 0xff; break;
      case 6: b.splice(i, 0, ...b.slice((at >> 3) % Math.max(1, b.length), ((at >> 3) % Math.max(1, b.length)) + (val & 31))); break;
      default: if (b.length >= 12) b[4 + (val % 8)] = at & 0xff; break; // lie in a count
    }
  }
  return Uint8Array.from(b.slice(0, 65535));
}

const mutation = fc.tuple(fc.integer({ min: 0, max: 7 }), fc.nat(), fc.integer({ min: 0, max: 255 }));

/** A message built from parts: a real header with random counts and random RRs (type from a hot list). */
const hotTypes = [1, 2, 5, 6, 12, 13, 15, 16, 28, 33, 35, 39, 41, 43, 46, 47, 48, 50, 51, 52, 64, 65, 250, 257, 65280];
const structured = fc.tuple(
  fc.uint8Array({ minLength: 2, maxLength: 2 }),
  fc.array(fc.tuple(fc.constantFrom(...hotTypes), fc.uint8Array({ maxLength: 40 }), fc.boolean()), { maxLength: 8 }),
  fc.nat(),
  fc.integer({ min: -1, max: 1 }),
).map(([flags, rrs, split, lie]) => {
  // counts agree with the records (mostly), split over answer/authority/additional
  const an = rrs.length === 0 ? 0 : split % (rrs.length + 1);
  const ns = rrs.length - an === 0 ? 0 : (split >> 4) % (rrs.length - an + 1);
  const ar = Math.max(0, rrs.length - an - ns + lie);
  const out: number[] = [0x12, 0x34, flags[0]!, flags[1]!, 0, 1, 0, an, 0, ns, 0, ar];
  out.push(7, ...Buffer.from('example'), 0, 0, 1, 0, 1); // question at 12
  for (const [type, rdata, pointer] of rrs) {
    if (pointer) out.push(0xc0, 12);
    else out.push(1, 0x61, 0xc0, 12);
    out.push(type >> 8, type & 0xff, 0, 1, 0, 0, 0x0e, 0x10, rdata.length >> 8, rdata.length & 0xff, ...rdata);
  }
  return Uint8Array.from(out);
});

describe('fuzz: Message.decode against hostile input', () => {
  test('100,000+ random, structured and mutated messages: only WireFormatError, valid ones round-trip', (t) => {
    let decoded = 0;
    let total = 0;
    const run = (arb: fc.Arbitrary<Uint8Array>, numRuns: number, seed: number): void => {
      fc.assert(fc.property(arb, (input) => {
        total++;
        if (check(input)) decoded++;
      }), { numRuns: Math.round(numRuns * SCALE), seed: BASE_SEED + seed, endOnFailure: true });
    };
    for (const s of SEEDS) assert.ok(check(s), 'every seed decodes');
    run(fc.uint8Array({ minLength: 0, maxLength: 512 }), 25_000, 1);
    run(fc.uint8Array({ minLength: 12, maxLength: 64 }).map((b) => { b[4] = 0; b[5] = 1; return b; }), 15_000, 2);
    run(structured, 25_000, 3);
    run(fc.tuple(fc.integer({ min: 0, max: SEEDS.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }))
      .map(([i, ops]) => mutate(SEEDS[i]!, ops)), 40_000, 4);
    t.diagnostic(`${total} inputs, ${decoded} decoded and round-tripped`);
    assert.ok(total >= 100_000, `ran ${total}`);
    // the mix must actually reach the decoders, not only the header checks
    assert.ok(decoded > 5_000, `only ${decoded} of ${total} inputs decoded`);
  });

  test('every single-byte change of every seed', () => {
    let n = 0;
    for (const s of SEEDS.slice(0, 12).concat(SEEDS.slice(-2))) {
      for (let i = 0; i < s.length; i++) {
        for (const v of [0x00, 0x3f, 0x40, 0xc0, 0xff, s[i]! ^ 0x01]) {
          const b = s.slice();
          b[i] = v;
          check(b);
          n++;
        }
      }
    }
    assert.ok(n > 1000);
  });
});

describe('fuzz: pinned regressions', () => {
  // Found by the wire -> text -> wire property above, each fixed in src/wire and pinned here.
  const HEAD = '1234 8400 0001 0001 0000 0000 076578616d706c6500 0001 0001 c00c';
  const rr = (type: string, rdata: string): Uint8Array => {
    const h = rdata.replace(/\s+/g, '');
    return Uint8Array.from(Buffer.from(`${HEAD}${type}00010000 0e10${(h.length / 2).toString(16).padStart(4, '0')}${h}`.replace(/\s+/g, ''), 'hex'));
  };

  test('TLSA with empty certificate data prints as "3 1 1" and parses back (was: missing value)', () => {
    assert.ok(check(rr('0034', 'ac795c')));
    assert.equal(printRData(RRType.TLSA, Message.decode(rr('0034', '030101')).answer[0]!.data), '3 1 1');
  });

  test('ZONEMD with an empty digest round-trips through text (was: missing value)', () => {
    assert.ok(check(rr('003f', '036e6fb1 c0 0c')));
  });

  test('a CAA tag that is not letters and digits is FORMERR (was: printed, then unparsable)', () => {
    assert.throws(() => Message.decode(rr('0101', '00 05 00737375 65 6c65')), /CAA tag is not letters and digits/);
  });

  test('SVCB mandatory naming an absent key is FORMERR (was: printed, then unparsable)', () => {
    // mandatory=port, no port
    assert.throws(() => Message.decode(rr('0040', '0001 00 0000 0002 0003')), /mandatory key port is missing/);
  });

  test('SVCB key 65535 is FORMERR (reserved "Invalid key", RFC 9460 §14.3.2)', () => {
    assert.throws(() => Message.decode(rr('0040', '0001 00 ffff 0000')), /65535 is reserved/);
  });

  // A sender compressed a name inside SRV, which we must write uncompressed (RFC 3597 §4): the
  // round-trip compares the decoded text, not the original bytes.
  test('compressed name inside a non-compressible type round-trips as text', () => {
    const m = new Message();
    m.question.push({ name: Name.fromText('example.'), type: RRType.SRV, class: 1 });
    m.answer.push(parseRecord('example. 60 IN SRV 0 0 1 example.'));
    const wire = Array.from(m.encode());
    // replace the uncompressed SRV target (last 9 octets) by a pointer to the question name
    wire.splice(wire.length - 9, 9, 0xc0, 12);
    wire[wire.length - 10] = 0; // RDLENGTH: 6 + 2
    wire[wire.length - 9] = 8;
    assert.ok(check(Uint8Array.from(wire)));
  });

  // The same grown past 64 KiB: 2,800 SRV RRsets (owners \NNN.example.) whose compressed targets
  // (2 octets) are written back in full (9 octets), so re-encoding must cut whole RRsets from the
  // answer and set TC; check() then holds the cut reply to a prefix of the original.
  test('compressed names that grow past 64 KiB when written back: TC and a prefix of the answer', () => {
    const N = 2800;
    const out: number[] = [0x12, 0x34, 0x84, 0x00, 0, 1, N >> 8, N & 0xff, 0, 0, 0, 0];
    out.push(7, ...Buffer.from('example'), 0, 0, 33, 0, 1); // question example. SRV at offset 12
    for (let i = 0; i < N; i++) out.push(2, i >> 8, i & 0xff, 0xc0, 12, 0, 33, 0, 1, 0, 0, 0x0e, 0x10, 0, 8, 0, 0, 0, 0, 0, 1, 0xc0, 12);
    const input = Uint8Array.from(out);
    assert.ok(input.length <= 65535, `${input.length} octets`);
    const full = Message.decode(input);
    assert.equal(full.answer.length, N);
    const cut = Message.decode(full.encode());
    assert.ok(cut.tc, 'written back it does not fit: TC');
    assert.ok(cut.answer.length > 0 && cut.answer.length < N, `${cut.answer.length} of ${N} records kept`);
    assert.ok(check(input));
  });
});
