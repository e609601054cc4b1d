/**
 * 0x20 (draft-vixie-dnsext-dns0x20): query names sent upstream in random letter case, which the
 * reply must echo byte for byte (checked by `exchange()` with `matchCase`): more bits an off-path
 * spoofer must guess. Randomness from node:crypto.
 */
import { randomBytes } from 'node:crypto';
import type { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';

/** `name` with its letters in random case (draft-vixie-dnsext-dns0x20). */
export function randomCase(name: Name): Name {
  const w = name.wire.slice();
  const bits = randomBytes(w.length);
  let p = 0;
  while (w[p]! !== 0) {
    const len = w[p]!;
    for (let i = p + 1; i <= p + len; i++) {
      const b = w[i]!;
      const l = b | 0x20;
      if (l >= 0x61 && l <= 0x7a) w[i] = (bits[i]! & 1) !== 0 ? l : l & ~0x20;
    }
    p += len + 1;
  }
  return new Name(w);
}

/** After a 0x20 query: owner names equal to the query name get the original spelling back. */
export function restoreCase(m: Message, qn: Name): void {
  for (const sec of [m.answer, m.authority, m.additional]) {
    for (const r of sec) if (r.name !== qn && r.name.equals(qn)) r.name = qn;
  }
}
