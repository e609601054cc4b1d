/**
 * Domain names (RFC 1035 §2.3.4, §3.1; RFC 4343 case rules; RFC 4034 §6.1 canonical order).
 *
 * Invariants: a `Name` is always absolute and valid: its `wire` is the uncompressed wire form
 * (length-prefixed labels, each 1..63 octets, ending with the root label) of at most 255 octets.
 * Case is kept as given; comparison, `key` and ordering ignore ASCII case only.
 * Names are immutable; derived forms (key, text) are computed on first use and cached.
 */
import { NameError } from '../errors.js';
import { decimalEscape } from './escape.js';

/** Longest name in wire form, root label included (RFC 1035 §2.3.4). */
export const MAX_NAME_LENGTH = 255;
/** Longest label (RFC 1035 §2.3.4). */
export const MAX_LABEL_LENGTH = 63;

const scratch = new Uint8Array(MAX_NAME_LENGTH + 64);

function lower(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

export class Name {
  /** Uncompressed wire form, case as given. Never mutate. */
  readonly wire: Uint8Array;
  private keyCache: string | undefined;
  private textCache: string | undefined;
  private labelCountCache: number;
  /** Compression data for the Writer, computed on first encode (see `suffixData`). */
  private suffixCache: Int32Array | undefined;

  /** @internal Use the static constructors; `wire` must already be valid. */
  constructor(wire: Uint8Array) {
    this.wire = wire;
    this.keyCache = undefined;
    this.textCache = undefined;
    this.labelCountCache = -1;
    this.suffixCache = undefined;
  }

  /** The root name `.`. */
  static readonly ROOT: Name = new Name(new Uint8Array([0]));

  /**
   * Builds a name from validated uncompressed wire bytes (copied). Throws NameError when
   * the bytes are not a valid name.
   */
  static fromWire(bytes: Uint8Array): Name {
    let i = 0;
    for (;;) {
      if (i >= bytes.length) throw new NameError('(wire)', 'missing root label');
      const len = bytes[i]!;
      if (len > MAX_LABEL_LENGTH) throw new NameError('(wire)', `label length ${len} exceeds 63 octets`);
      i += len + 1;
      if (i > MAX_NAME_LENGTH) throw new NameError('(wire)', 'name exceeds 255 octets');
      if (len === 0) break;
    }
    if (i !== bytes.length) throw new NameError('(wire)', 'bytes after the root label');
    return new Name(bytes.slice(0, i));
  }

  /**
   * Parses presentation form: labels separated by unescaped dots, `\X` and `\DDD` escapes,
   * `@` for the origin. A name without a trailing dot is relative to `origin`; with no origin
   * it is taken as absolute (as dig does).
   */
  static fromText(text: string, origin?: Name): Name {
    if (text === '@') {
      if (origin === undefined) throw new NameError(text, '"@" used without an origin');
      return origin;
    }
    if (text === '.') return Name.ROOT;
    if (text.length === 0) throw new NameError(text, 'empty name');
    const len = parseInto(text, origin);
    return new Name(scratch.slice(0, len));
  }

  /** Builds a name from label strings (each used byte-for-byte as Latin-1), most specific first. */
  static fromLabels(labels: readonly (string | Uint8Array)[]): Name {
    let pos = 0;
    for (const label of labels) {
      const len = label.length;
      if (len === 0 || len > MAX_LABEL_LENGTH) throw new NameError(String(labels.join('.')), `label length ${len} is not 1..63`);
      if (pos + len + 2 > MAX_NAME_LENGTH) throw new NameError(String(labels.join('.')), 'name exceeds 255 octets');
      scratch[pos++] = len;
      if (typeof label === 'string') {
        for (let i = 0; i < len; i++) scratch[pos++] = label.charCodeAt(i) & 0xff;
      } else {
        scratch.set(label, pos);
        pos += len;
      }
    }
    scratch[pos++] = 0;
    return new Name(scratch.slice(0, pos));
  }

  /**
   * For name compression: `[n, offset_0..offset_{n-1}, hash_0..hash_{n-1}]` where offset_i is
   * where label i starts in `wire` and hash_i hashes the lowercased suffix from label i (never 0).
   * Cached, so encoding the same zone names again costs no hashing.
   */
  suffixData(): Int32Array {
    let d = this.suffixCache;
    if (d === undefined) {
      const w = this.wire;
      let n = 0;
      for (let p = 0; w[p]! !== 0; p += w[p]! + 1) n++;
      d = new Int32Array(1 + 2 * n);
      d[0] = n;
      let i = 1;
      for (let p = 0; w[p]! !== 0; p += w[p]! + 1) d[i++] = p;
      let h = 1;
      for (let k = n - 1; k >= 0; k--) {
        const p = d[1 + k]!;
        const len = w[p]!;
        h = Math.imul(h ^ len, 0x01000193);
        for (let j = 1; j <= len; j++) h = Math.imul(h ^ lower(w[p + j]!), 0x01000193);
        d[1 + n + k] = h === 0 ? 1 : h;
      }
      this.suffixCache = d;
    }
    return d;
  }

  /** Length of the uncompressed wire form. */
  get length(): number {
    return this.wire.length;
  }

  /** Number of labels, not counting the root label (`.` has 0, `example.com.` has 2). */
  get labelCount(): number {
    if (this.labelCountCache < 0) {
      let count = 0;
      const w = this.wire;
      for (let i = 0; w[i]! !== 0; i += w[i]! + 1) count++;
      this.labelCountCache = count;
    }
    return this.labelCountCache;
  }

  /** True for the root name. */
  get isRoot(): boolean {
    return this.wire.length === 1;
  }

  /** True when the first label is `*` (RFC 4592 wildcard owner). */
  get isWildcard(): boolean {
    return this.wire[0] === 1 && this.wire[1] === 0x2a;
  }

  /**
   * Lowercased wire form as a Latin-1 string: the key for maps and equality.
   * Two names have the same key exactly when they are equal ignoring ASCII case.
   */
  get key(): string {
    let k = this.keyCache;
    if (k === undefined) {
      const w = this.wire;
      k = '';
      for (let i = 0; i < w.length; i++) k += String.fromCharCode(lower(w[i]!));
      this.keyCache = k;
    }
    return k;
  }

  /** Label `i` (0 = leftmost) as raw bytes. */
  label(i: number): Uint8Array {
    const w = this.wire;
    let p = 0;
    for (let n = 0; n < i; n++) {
      if (w[p] === 0) throw new RangeError(`label ${i} out of range`);
      p += w[p]! + 1;
    }
    return w.subarray(p + 1, p + 1 + w[p]!);
  }

  /** Labels as presentation-escaped strings, leftmost first (root omitted). */
  labels(): string[] {
    const out: string[] = [];
    const w = this.wire;
    for (let p = 0; w[p]! !== 0; p += w[p]! + 1) out.push(escapeLabel(w, p + 1, w[p]!));
    return out;
  }

  /** The name with its `n` leftmost labels removed (`n` = 1: the parent). */
  parent(n = 1): Name {
    if (n === 0) return this;
    const w = this.wire;
    let p = 0;
    for (let i = 0; i < n; i++) {
      if (w[p] === 0) throw new RangeError(`cannot strip ${n} labels from ${this.toString()}`);
      p += w[p]! + 1;
    }
    return new Name(w.slice(p));
  }

  /** The name made of the rightmost `count` labels. */
  suffix(count: number): Name {
    const drop = this.labelCount - count;
    if (drop < 0) throw new RangeError(`${this.toString()} has fewer than ${count} labels`);
    return this.parent(drop);
  }

  /** `label` prepended to this name (e.g. `*` for a wildcard). */
  prepend(label: string | Uint8Array): Name {
    const bytes = typeof label === 'string' ? latin1(label) : label;
    if (bytes.length === 0 || bytes.length > MAX_LABEL_LENGTH) throw new NameError(String(label), 'label must be 1..63 octets');
    if (bytes.length + 1 + this.wire.length > MAX_NAME_LENGTH) throw new NameError(String(label), 'name exceeds 255 octets');
    const out = new Uint8Array(bytes.length + 1 + this.wire.length);
    out[0] = bytes.length;
    out.set(bytes, 1);
    out.set(this.wire, bytes.length + 1);
    return new Name(out);
  }

  /** This (relative-looking) name's labels followed by `origin`'s. */
  concat(origin: Name): Name {
    if (this.isRoot) return origin;
    const len = this.wire.length - 1 + origin.wire.length;
    if (len > MAX_NAME_LENGTH) throw new NameError(this.toString(), 'name exceeds 255 octets');
    const out = new Uint8Array(len);
    out.set(this.wire.subarray(0, this.wire.length - 1), 0);
    out.set(origin.wire, this.wire.length - 1);
    return new Name(out);
  }

  /** Equality ignoring ASCII case (RFC 4343). */
  equals(other: Name): boolean {
    if (this === other) return true;
    const a = this.wire;
    const b = other.wire;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i] && lower(a[i]!) !== lower(b[i]!)) return false;
    }
    return true;
  }

  /** True when this name is `other` or below it. */
  isSubdomainOf(other: Name): boolean {
    const diff = this.labelCount - other.labelCount;
    if (diff < 0) return false;
    const a = this.wire;
    let p = 0;
    for (let i = 0; i < diff; i++) p += a[p]! + 1;
    const b = other.wire;
    if (a.length - p !== b.length) return false;
    for (let i = 0; i < b.length; i++) {
      if (a[p + i] !== b[i] && lower(a[p + i]!) !== lower(b[i]!)) return false;
    }
    return true;
  }

  /**
   * Canonical DNS name order (RFC 4034 §6.1): compare labels from the right, each as
   * lowercased octet strings; a name sorts after its own ancestors. Returns <0, 0 or >0.
   */
  compare(other: Name): number {
    return compareCanonical(this, other);
  }

  /** This name with ASCII letters lowercased (RFC 4034 §6.2 canonical form). */
  toLowerCase(): Name {
    const w = this.wire;
    for (let i = 0; i < w.length; i++) {
      const b = w[i]!;
      if (b >= 0x41 && b <= 0x5a) {
        const out = w.slice();
        for (let j = i; j < out.length; j++) out[j] = lower(out[j]!);
        return new Name(out);
      }
    }
    return this;
  }

  /** Presentation form, absolute, with BIND's escapes (`\.`, `\"`, `\DDD`, ...). */
  toString(): string {
    let t = this.textCache;
    if (t === undefined) {
      const w = this.wire;
      if (w.length === 1) {
        t = '.';
      } else {
        t = '';
        for (let p = 0; w[p]! !== 0; p += w[p]! + 1) t += escapeLabel(w, p + 1, w[p]!) + '.';
      }
      this.textCache = t;
    }
    return t;
  }

  /** Presentation form relative to `origin` (`@` for the origin itself), as zone printers write it. */
  toRelativeString(origin: Name): string {
    if (this.equals(origin)) return '@';
    if (!this.isSubdomainOf(origin)) return this.toString();
    const s = this.toString();
    const o = origin.isRoot ? 0 : origin.toString().length;
    return s.slice(0, s.length - o - 1);
  }

  toJSON(): string {
    return this.toString();
  }
}

/**
 * The body of Name.fromText for text other than `@`, `.` and '': parses into `scratch` and
 * returns the wire length (same rules, same errors).
 */
function parseInto(text: string, origin: Name | undefined): number {
  const out = scratch;
  let pos = 0; // where the next label's length byte goes
  let labelStart = 0;
  let labelLen = 0;
  let absolute = false;
  out[0] = 0;
  let w = 1;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (labelLen === 0) throw new NameError(text, 'empty label');
      out[labelStart] = labelLen;
      if (i === n - 1) {
        absolute = true;
        pos = w;
        break;
      }
      labelStart = w;
      w++;
      labelLen = 0;
      pos = w;
      continue;
    }
    if (c === 0x5c /* \ */) {
      if (i + 1 >= n) throw new NameError(text, 'dangling backslash');
      const d1 = text.charCodeAt(i + 1);
      if (d1 >= 0x30 && d1 <= 0x39) {
        c = decimalEscape(text, i + 1);
        if (c < 0) throw new NameError(text, '\\DDD escape needs three decimal digits');
        if (c > 255) throw new NameError(text, `\\DDD escape ${c} exceeds 255`);
        i += 3;
      } else {
        c = d1;
        i += 1;
        if (c > 0xff) throw new NameError(text, 'non-ASCII character (use \\DDD escapes or punycode)');
      }
    } else if (c > 0x7f) {
      throw new NameError(text, 'non-ASCII character (use \\DDD escapes or punycode)');
    }
    labelLen++;
    if (labelLen > MAX_LABEL_LENGTH) throw new NameError(text, 'label exceeds 63 octets');
    if (w >= MAX_NAME_LENGTH) throw new NameError(text, 'name exceeds 255 octets');
    out[w++] = c;
  }
  if (!absolute) {
    // Close the last label.
    out[labelStart] = labelLen;
    pos = w;
    const suffix = origin === undefined ? Name.ROOT.wire : origin.wire;
    if (pos + suffix.length > MAX_NAME_LENGTH) throw new NameError(text, 'name exceeds 255 octets');
    out.set(suffix, pos);
    pos += suffix.length;
  } else {
    out[pos++] = 0;
  }
  if (pos > MAX_NAME_LENGTH) throw new NameError(text, 'name exceeds 255 octets');
  return pos;
}

/**
 * @internal Writes the wire form of `text` (the rules of Name.fromText) into `out` at `off` and
 * returns its length, without building a Name: for loaders that store names as bytes. `out`
 * needs room for MAX_NAME_LENGTH octets at `off`.
 */
export function nameTextInto(text: string, origin: Name | undefined, out: Uint8Array, off: number): number {
  if (text === '@') {
    if (origin === undefined) throw new NameError(text, '"@" used without an origin');
    out.set(origin.wire, off);
    return origin.wire.length;
  }
  if (text === '.') {
    out[off] = 0;
    return 1;
  }
  if (text.length === 0) throw new NameError(text, 'empty name');
  const len = parseInto(text, origin);
  for (let i = 0; i < len; i++) out[off + i] = scratch[i]!;
  return len;
}

function compareCanonical(x: Name, y: Name): number {
  if (x === y) return 0;
  const a = x.wire;
  const b = y.wire;
  // Label start offsets, right to left, without allocating for typical depths.
  const ia = labelOffsets(a, offsetsA);
  const ib = labelOffsets(b, offsetsB);
  let na = ia;
  let nb = ib;
  while (na > 0 && nb > 0) {
    na--;
    nb--;
    const pa = offsetsA[na]!;
    const pb = offsetsB[nb]!;
    const la = a[pa]!;
    const lb = b[pb]!;
    const m = la < lb ? la : lb;
    for (let k = 1; k <= m; k++) {
      const ca = lower(a[pa + k]!);
      const cb = lower(b[pb + k]!);
      if (ca !== cb) return ca - cb;
    }
    if (la !== lb) return la - lb;
  }
  return na - nb;
}

const offsetsA = new Int32Array(128);
const offsetsB = new Int32Array(128);

function labelOffsets(w: Uint8Array, into: Int32Array): number {
  let n = 0;
  for (let p = 0; w[p]! !== 0; p += w[p]! + 1) into[n++] = p;
  return n;
}

/** Escapes one label the way BIND prints it. */
export function escapeLabel(w: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len; i++) {
    const c = w[i]!;
    switch (c) {
      case 0x2e: // .
      case 0x22: // "
      case 0x28: // (
      case 0x29: // )
      case 0x3b: // ;
      case 0x5c: // \
      case 0x40: // @
      case 0x24: // $
        s += '\\' + String.fromCharCode(c);
        break;
      default:
        if (c <= 0x20 || c >= 0x7f) s += '\\' + (c < 10 ? '00' : c < 100 ? '0' : '') + c;
        else s += String.fromCharCode(c);
    }
  }
  return s;
}

function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

const keyOffsA = new Int32Array(128);
const keyOffsB = new Int32Array(128);

/**
 * RFC 4034 §6.1 order on name keys (lowercased wire form, one Latin-1 character per octet):
 * labels compared from the rightmost as octet strings, a name that runs out of labels first.
 */
export function compareNameKeys(a: string, b: string): number {
  let na = 0;
  for (let p = 0; p < a.length && a.charCodeAt(p) !== 0; p += a.charCodeAt(p) + 1) keyOffsA[na++] = p;
  let nb = 0;
  for (let p = 0; p < b.length && b.charCodeAt(p) !== 0; p += b.charCodeAt(p) + 1) keyOffsB[nb++] = p;
  while (na > 0 && nb > 0) {
    const pa = keyOffsA[--na]!;
    const pb = keyOffsB[--nb]!;
    const la = a.charCodeAt(pa);
    const lb = b.charCodeAt(pb);
    const n = la < lb ? la : lb;
    for (let i = 1; i <= n; i++) {
      const d = a.charCodeAt(pa + i) - b.charCodeAt(pb + i);
      if (d !== 0) return d;
    }
    if (la !== lb) return la - lb;
  }
  return na - nb;
}
