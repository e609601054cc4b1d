/**
 * Canonical presentation of a zone: one RR per line, absolute names, explicit TTL and class,
 * names in DNSSEC canonical order (RFC 4034 §6.1), RRsets by type code (the apex SOA first), records by canonical
 * RDATA (RFC 4034 §6.3). Columns as named-checkzone -D lays them out (tab stops of 8: owner to
 * column 40, TTL right-aligned in 10, RDATA at column 64).
 */
import { Writer } from '../wire/writer.js';
import { EncodeMode, classToString, encodeRData, printRData, typeToString } from '../wire/types.js';
import { chunkBlob } from '../wire/layout.js';
import { type Zone, peekRData } from './zone.js';

/** Visual column after `text`, with tab stops every 8. */
function columnOf(text: string): number {
  let col = 0;
  for (let i = 0; i < text.length; i++) col = text.charCodeAt(i) === 9 ? (Math.floor(col / 8) + 1) * 8 : col + 1;
  return col;
}

function padTabs(text: string, column: number, spaceWhenPast = false): string {
  return padTabsFrom(text, columnOf(text), column, spaceWhenPast);
}

/** padTabs when the column `text` ends at is already known (`col`). */
function padTabsFrom(text: string, col: number, column: number, spaceWhenPast = false): string {
  // RDATA after a type name that reaches its column (NSEC3PARAM): BIND separates with one space.
  if (spaceWhenPast && col >= column) return text + ' ';
  let s = text;
  do {
    s += '\t';
    col = (Math.floor(col / 8) + 1) * 8;
  } while (col < column);
  return s;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

const writer = new Writer();

/** Yields the zone's lines (without newlines) in canonical order. */
export function* printZone(zone: Zone): Generator<string> {
  for (const node of zone.nodes()) {
    // Owner padding once per node, and columns counted arithmetically after it (owner names in
    // presentation form escape tabs, and TTL, class and type names have none): printing a
    // received zone to disk was dominated by rescanning each line for its column.
    const owner = padTabs(node.peekName().toString(), 40);
    const ownerCol = columnOf(owner);
    // The SOA leads the zone, as every zone printer writes it.
    const sets = node === zone.apex ? [...node.rrsets].sort((a, b) => (a.type === 6 ? -1 : b.type === 6 ? 1 : a.type - b.type)) : node.rrsets;
    for (const set of sets) {
      // Decoded and canonicalised here without being kept on the zone (printing a large zone
      // must not turn every stored record into objects).
      const rdata = peekRData(set);
      const head = owner + String(set.ttl).padStart(10) + ` ${classToString(set.class)} ` + typeToString(set.type);
      const typed = padTabsFrom(head, ownerCol + head.length - owner.length, 64, true);
      if (rdata.length === 1) {
        yield typed + chunkBlob(set.type, printRData(set.type, rdata[0]));
        continue;
      }
      const order = rdata.map((d) => {
        writer.reset();
        encodeRData(set.type, writer, d, EncodeMode.Canonical);
        return { w: writer.toBytes(), d };
      }).sort((x, y) => compareBytes(x.w, y.w));
      for (const { d } of order) yield typed + chunkBlob(set.type, printRData(set.type, d));
    }
  }
}

/** `1 hour 30 minutes`: a TTL as BIND's verbose dns_ttl_totext writes it in comments. */
export function ttlWords(ttl: number): string {
  const units: [number, string][] = [[604800, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
  const parts: string[] = [];
  let rest = ttl;
  for (const [size, word] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n} ${word}${n === 1 ? '' : 's'}`);
  }
  return parts.length === 0 ? '0 seconds' : parts.join(' ');
}

/**
 * The zone in named-checkzone's `-s relative` layout: `$ORIGIN`/`$TTL` lines, owners relative to
 * the origin and left blank when repeated, the class once, the SOA over several commented lines.
 * The records and their order are printZone's; the `$ORIGIN` lines are simpler than BIND's (BIND
 * follows its internal tree, we use the zone origin), so the text is equivalent, not identical.
 */
export function* printZoneRelative(zone: Zone): Generator<string> {
  const originText = zone.origin.toString();
  const relative = (owner: string): string => {
    if (owner === originText) return '@';
    return zone.origin.isRoot ? owner : owner.slice(0, -originText.length - 1);
  };
  yield `$ORIGIN ${originText}`;
  let ttl = -1;
  let lastOwner = '';
  let classShown = false;
  for (const line of printZone(zone)) {
    // printZone's columns: owner, TTL, class, type, RDATA (see padTabs above).
    const m = /^(\S+)\s+(\d+) (\S+) (\S+)\s+(.*)$/.exec(line)!;
    const [, owner, ttlText, cls, type, rdata] = m as unknown as [string, string, string, string, string, string];
    const t = Number(ttlText);
    if (t !== ttl) {
      ttl = t;
      yield `$TTL ${t}\t; ${ttlWords(t)}`;
    }
    const head = padTabs(owner === lastOwner ? '' : relative(owner), 24) + (classShown ? '' : `${cls} `) + type;
    classShown = true;
    lastOwner = owner;
    if (type === 'SOA') {
      const f = rdata.split(' ');
      const names = ['serial', 'refresh', 'retry', 'expire', 'minimum'];
      yield padTabs(head, 32) + `${f[0]} ${f[1]} (`;
      for (let i = 0; i < 5; i++) {
        const v = f[2 + i]!;
        yield `\t\t\t\t${v.padEnd(10)} ; ${names[i]}${i === 0 ? '' : ` (${ttlWords(Number(v))})`}`;
      }
      yield '\t\t\t\t)';
      continue;
    }
    yield padTabs(head, 32) + rdata;
  }
}
