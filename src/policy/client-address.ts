/**
 * Client addresses as Node gives them (`rinfo.address` strings) turned into octets without
 * allocating: the rate limiters key their buckets by a client's network prefix, per packet.
 *
 * Invariant: `parseClientAddress` writes 4 octets (IPv4, also for `::ffff:a.b.c.d`) or 16
 * (IPv6) into `out` and returns 4, 6 or 0 (not an address: the caller does not limit it).
 */

/** Parses dotted IPv4 text from `start`; writes 4 octets at out[at..]; false when malformed. */
function parseV4(s: string, start: number, out: Uint8Array, at: number): boolean {
  let part = 0;
  let v = -1;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (v < 0 || part === 3) return false;
      out[at + part++] = v;
      v = -1;
    } else if (c >= 0x30 && c <= 0x39) {
      v = (v < 0 ? 0 : v * 10) + (c - 0x30);
      if (v > 255) return false;
    } else {
      return false;
    }
  }
  if (v < 0 || part !== 3) return false;
  out[at + 3] = v;
  return true;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * IPv6 text (RFC 4291 §2.2, with `::` and a trailing dotted quad; a `%zone` suffix ignored) into
 * 16 octets. Returns false when malformed.
 */
function parseV6(s: string, out: Uint8Array): boolean {
  let end = s.indexOf('%');
  if (end < 0) end = s.length;
  let w = 0; // 16-bit words written
  let gap = -1; // word index where '::' stands
  let i = 0;
  if (s.charCodeAt(0) === 0x3a) {
    if (s.charCodeAt(1) !== 0x3a) return false;
    gap = 0;
    i = 2;
    if (i === end) {
      out.fill(0, 0, 16);
      return true;
    }
  }
  while (i < end) {
    // A dotted quad may end the address (::ffff:192.0.2.1).
    let j = i;
    let dot = false;
    while (j < end && s.charCodeAt(j) !== 0x3a) {
      if (s.charCodeAt(j) === 0x2e) dot = true;
      j++;
    }
    if (dot) {
      if (j !== end || w > 6) return false;
      if (!(end === s.length ? parseV4(s, i, out, w * 2) : parseV4(s.slice(i, end), 0, out, w * 2))) return false;
      w += 2;
      break;
    }
    if (j === i || j - i > 4 || w >= 8) return false;
    let v = 0;
    for (let k = i; k < j; k++) {
      const h = hexValue(s.charCodeAt(k));
      if (h < 0) return false;
      v = (v << 4) | h;
    }
    out[w * 2] = v >>> 8;
    out[w * 2 + 1] = v & 0xff;
    w++;
    if (j === end) break;
    // j is at ':'
    if (s.charCodeAt(j + 1) === 0x3a) {
      if (gap >= 0) return false;
      gap = w;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === end) return false;
    }
  }
  if (gap < 0) return w === 8;
  if (w >= 8) return false;
  // Move the words after the gap to the end and zero the gap.
  const tail = w - gap;
  for (let k = tail - 1; k >= 0; k--) {
    out[16 - (tail - k) * 2] = out[(gap + k) * 2]!;
    out[16 - (tail - k) * 2 + 1] = out[(gap + k) * 2 + 1]!;
  }
  out.fill(0, gap * 2, 16 - tail * 2);
  return true;
}

/**
 * The client's address as octets in `out` (at least 16 long): 4 for IPv4 (and IPv4-mapped IPv6,
 * so a dual-stack socket limits an IPv4 client by its /24, as BIND sees it), 6 for IPv6, 0 when
 * the text is not an address.
 */
export function parseClientAddress(address: string, out: Uint8Array): 4 | 6 | 0 {
  if (address.indexOf(':') < 0) return parseV4(address, 0, out, 0) ? 4 : 0;
  if (!parseV6(address, out)) return 0;
  // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2)
  if (out[10] === 0xff && out[11] === 0xff) {
    let zero = true;
    for (let k = 0; k < 10; k++) if (out[k] !== 0) zero = false;
    if (zero) {
      out[0] = out[12]!;
      out[1] = out[13]!;
      out[2] = out[14]!;
      out[3] = out[15]!;
      return 4;
    }
  }
  return 6;
}

/** Text of the prefix `bytes`/`bits` (for logs and stats, never on the hot path). */
export function prefixText(bytes: Uint8Array, family: 4 | 6, bits: number): string {
  if (family === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}/${bits}`;
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return `${words.join(':')}/${bits}`;
}
