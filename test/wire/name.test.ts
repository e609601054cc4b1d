// Names: presentation escapes, origins, case rules, RFC 4034 §6.1 order, limits, compression
// on encode and pointer rules on decode (RFC 1035 §4.1.4).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Name, NameError, Reader, WireFormatError, Writer } from '../../src/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

describe('presentation form', () => {
  const cases: [text: string, wireHex: string, printed: string][] = [
    ['.', '00', '.'],
    ['example.com.', '076578616d706c6503636f6d00', 'example.com.'],
    ['a\\.b.example.', '03612e62076578616d706c6500', 'a\\.b.example.'],
    ['a\\046b.example.', '03612e62076578616d706c6500', 'a\\.b.example.'],
    ['sp\\032ace.', '0673702061636500', 'sp\\032ace.'],
    ['\\000\\255.', '0200ff00', '\\000\\255.'],
    ['q\\"t\\;s\\(\\)\\@\\$\\\\.', '0a7122743b73282940245c00', 'q\\"t\\;s\\(\\)\\@\\$\\\\.'],
    ['\\a\\b.', '02616200', 'ab.'],
    ['MiXeD.CaSe.', '054d69586544044361536500', 'MiXeD.CaSe.'],
  ];
  for (const [text, wireHex, printed] of cases) {
    test(`${text} -> wire -> ${printed}`, () => {
      const n = Name.fromText(text);
      assert.equal(hex(n.wire), wireHex.replace(/\s+/g, ''));
      assert.equal(n.toString(), printed);
      assert.ok(Name.fromText(n.toString()).equals(n), 'printed form parses back to the same name');
      assert.deepEqual(Name.fromText(n.toString()).wire, n.wire, 'byte-for-byte, case kept');
    });
  }

  test('relative names, @ and absolute names with an origin', () => {
    const origin = Name.fromText('example.com.');
    assert.equal(Name.fromText('www', origin).toString(), 'www.example.com.');
    assert.equal(Name.fromText('a.b', origin).toString(), 'a.b.example.com.');
    assert.equal(Name.fromText('@', origin), origin);
    assert.equal(Name.fromText('other.net.', origin).toString(), 'other.net.');
    assert.equal(Name.fromText('www').toString(), 'www.', 'no origin: taken as absolute, like dig');
    assert.throws(() => Name.fromText('@'), NameError);
    assert.equal(Name.fromText('www.example.com.').toRelativeString(origin), 'www');
    assert.equal(origin.toRelativeString(origin), '@');
    assert.equal(Name.fromText('x.org.').toRelativeString(origin), 'x.org.');
  });

  test('syntax errors are NameError with the name in the message', () => {
    for (const bad of ['', 'a..b.', '.a.', 'a\\', 'a\\25.', 'a\\256.', 'caf\u00e9.']) {
      assert.throws(() => Name.fromText(bad), (e: unknown) => e instanceof NameError && e.code === 'ERR_DNS_TEXT_FORMAT', bad);
    }
  });
});

describe('limits (RFC 1035 §2.3.4)', () => {
  test('63-octet labels are fine, 64 is an error', () => {
    assert.equal(Name.fromText('a'.repeat(63) + '.').wire.length, 65);
    assert.throws(() => Name.fromText('a'.repeat(64) + '.'), /label exceeds 63 octets/);
    assert.throws(() => Name.fromLabels(['a'.repeat(64)]), NameError);
    assert.throws(() => Name.fromText('x.').prepend('b'.repeat(64)), NameError);
    // \DDD counts as one octet
    assert.equal(Name.fromText('\\000'.repeat(63) + '.').wire.length, 65);
    assert.throws(() => Name.fromText('\\000'.repeat(64) + '.'), /63/);
  });

  test('255-octet names are fine, 256 is an error', () => {
    const l63 = 'a'.repeat(63);
    const max = `${l63}.${l63}.${l63}.${'b'.repeat(61)}.`; // 4*64 - 2 + 1 = 255
    assert.equal(Name.fromText(max).wire.length, 255);
    assert.throws(() => Name.fromText(`${l63}.${l63}.${l63}.${'b'.repeat(62)}.`), /255/);
    assert.throws(() => Name.fromText(`${'b'.repeat(62)}`, Name.fromText(`${l63}.${l63}.${l63}.`)), /255/);
    assert.throws(() => Name.fromText(max).prepend('x'), /255/);
    assert.throws(() => Name.fromWire(new Uint8Array(256).fill(1)), NameError);
  });

  test('fromWire validates', () => {
    assert.equal(Name.fromWire(bytes('0161 00')).toString(), 'a.');
    assert.throws(() => Name.fromWire(bytes('0161')), /root label/);
    assert.throws(() => Name.fromWire(bytes('40')), /exceeds 63/);
    assert.throws(() => Name.fromWire(bytes('0161 00 00')), /after the root/);
  });
});

describe('case', () => {
  test('comparison ignores ASCII case and keeps the case given', () => {
    const a = Name.fromText('WWW.Example.COM.');
    const b = Name.fromText('www.example.com.');
    assert.ok(a.equals(b));
    assert.equal(a.key, b.key);
    assert.equal(a.toString(), 'WWW.Example.COM.');
    assert.equal(a.toLowerCase().toString(), 'www.example.com.');
    assert.ok(a.isSubdomainOf(Name.fromText('EXAMPLE.com.')));
    assert.ok(!Name.fromText('xexample.com.').isSubdomainOf(Name.fromText('example.com.')));
    // only ASCII letters fold (RFC 4343 §3): 0xC0 and 0xE0 differ
    assert.ok(!Name.fromText('\\192.').equals(Name.fromText('\\224.')));
  });

  test('labels, parent, suffix, prepend, concat, wildcard', () => {
    const n = Name.fromText('a.b.c.example.');
    assert.equal(n.labelCount, 4);
    assert.deepEqual(n.labels(), ['a', 'b', 'c', 'example']);
    assert.equal(n.parent().toString(), 'b.c.example.');
    assert.equal(n.parent(4).toString(), '.');
    assert.equal(n.suffix(2).toString(), 'c.example.');
    assert.equal(Name.fromText('example.').prepend('*').isWildcard, true);
    assert.equal(Name.fromText('www.').concat(Name.fromText('example.')).toString(), 'www.example.');
    assert.equal(Name.ROOT.labelCount, 0);
    assert.ok(Name.ROOT.isRoot);
  });
});

describe('canonical order (RFC 4034 §6.1)', () => {
  test('the RFC example sorts as listed', () => {
    const ordered = ['example.', 'a.example.', 'yljkjljk.a.example.', 'Z.a.example.', 'zABC.a.EXAMPLE.', 'z.example.',
      '\\001.z.example.', '*.z.example.', '\\200.z.example.'];
    const names = ordered.map((t) => Name.fromText(t));
    const shuffled = [...names].reverse();
    shuffled.sort((x, y) => x.compare(y));
    assert.deepEqual(shuffled.map((n) => n.toString()), names.map((n) => n.toString()));
    for (let i = 0; i + 1 < names.length; i++) {
      assert.ok(names[i]!.compare(names[i + 1]!) < 0);
      assert.ok(names[i + 1]!.compare(names[i]!) > 0);
    }
    assert.equal(Name.fromText('A.Example.').compare(Name.fromText('a.example.')), 0);
    assert.ok(Name.ROOT.compare(Name.fromText('com.')) < 0);
  });
});

describe('compression', () => {
  test('encode points at the longest suffix already written, keeping case', () => {
    const w = new Writer();
    w.name(Name.fromText('www.example.com.'), true); // offset 0
    w.name(Name.fromText('MAIL.example.com.'), true); // MAIL + pointer to 4 (example.com)
    w.name(Name.fromText('www.example.com.'), true); // pointer to 0
    w.name(Name.fromText('other.net.'), true); // nothing to share
    w.name(Name.fromText('a.EXAMPLE.com.'), true); // a.EXAMPLE + pointer to 12 (com): case is kept
    w.name(Name.ROOT, true);
    assert.equal(hex(w.toBytes()),
      '03777777076578616d706c6503636f6d00' + '044d41494cc004' + 'c000' + '056f74686572036e657400' +
      '0161074558414d504c45c00c' + '00');
    const r = new Reader(w.toBytes());
    assert.deepEqual(['', '', '', '', ''].map(() => r.name('n').toString()),
      ['www.example.com.', 'MAIL.example.com.', 'www.example.com.', 'other.net.', 'a.EXAMPLE.com.']);
  });

  test('uncompressed names are written whole but still serve as targets', () => {
    const w = new Writer();
    w.name(Name.fromText('example.com.'), false);
    w.name(Name.fromText('example.com.'), false);
    w.name(Name.fromText('a.example.com.'), true);
    assert.equal(hex(w.toBytes()), '076578616d706c6503636f6d00076578616d706c6503636f6d00' + '0161c000');
  });

  test('rollback forgets targets written after the mark', () => {
    const w = new Writer();
    w.name(Name.fromText('a.'), true);
    const m = w.mark();
    w.name(Name.fromText('b.example.'), true);
    w.rollback(m);
    w.name(Name.fromText('c.example.'), true);
    assert.equal(hex(w.toBytes()), '016100' + '0163076578616d706c6500');
  });

  test('decoding follows backward pointers and keeps case', () => {
    const buf = bytes('03777777076578616d706c6503636f6d00 044d61696cc004 c000');
    const r = new Reader(buf);
    assert.equal(r.name('n').toString(), 'www.example.com.');
    assert.equal(r.name('n').toString(), 'Mail.example.com.');
    assert.equal(r.name('n').toString(), 'www.example.com.');
    assert.equal(r.pos, buf.length);
  });
});

describe('bad names on the wire: one WireFormatError with the offset', () => {
  const cases: [what: string, h: string, offset: number, reason: RegExp][] = [
    ['pointer to itself', 'c000', 0, /not backwards/],
    ['forward pointer', '0161 c004 0162 00', 2, /not backwards/],
    ['loop of two pointers', '0161 00 c005 c003', 3, /not backwards/],
    ['pointer past the end', '0161 c0ff', 2, /not backwards/],
    ['truncated pointer', '0161 c0', 2, /truncated compression pointer/],
    ['label past the end', '0561 62', 0, /runs past the end/],
    ['missing root', '0161', 2, /runs past the end/],
    ['reserved label type 0x40', '41', 0, /unknown label type/],
    ['reserved label type 0x80', '80', 0, /unknown label type/],
  ];
  for (const [what, h, offset, reason] of cases) {
    test(what, () => {
      const buf = bytes(h);
      // start decoding at the last name in the buffer for the pointer cases
      const start = what === 'loop of two pointers' ? 5 : 0;
      const r = new Reader(buf, start);
      assert.throws(() => r.name('owner name'), (e: unknown) => {
        assert.ok(e instanceof WireFormatError, String(e));
        assert.equal(e.offset, offset);
        assert.equal(e.field, 'owner name');
        assert.match(e.message, reason);
        assert.equal(e.rcode, 1);
        return true;
      });
    });
  }

  test('a name over 255 octets (built through pointers) is refused', () => {
    // four 63-octet labels chained by pointers: 4*64+1 = 257 octets
    const parts: number[] = [];
    const label = [63, ...new Array<number>(63).fill(0x61)];
    parts.push(...label, 0); // offset 0: one label + root
    parts.push(...label, 0xc0, 0); // offset 65
    parts.push(...label, 0xc0, 65); // offset 131
    parts.push(...label, 0xc0, 131); // offset 197
    const r = new Reader(Uint8Array.from(parts), 197);
    assert.throws(() => r.name('n'), (e: unknown) => e instanceof WireFormatError && /255/.test(e.message));
  });

  test('a long pointer chain ends (hops are capped, and every hop must go backwards)', () => {
    // 200 pointers each to the previous one, the first to a root label
    const buf = new Uint8Array(1 + 400);
    buf[0] = 0;
    for (let i = 0; i < 200; i++) {
      const at = 1 + i * 2;
      const target = i === 0 ? 0 : at - 2;
      buf[at] = 0xc0 | (target >> 8);
      buf[at + 1] = target & 0xff;
    }
    const r = new Reader(buf, 399);
    assert.throws(() => r.name('n'), (e: unknown) => e instanceof WireFormatError && /too many compression pointers/.test(e.message));
  });
});
