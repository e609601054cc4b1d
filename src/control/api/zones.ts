/**
 * Zones through the control endpoint: the list (kind, serial, records, transfer state), a
 * zone's records, and record add/delete. Changes are RFC 2136 UPDATE messages applied by the
 * dynamic-update path (src/update/dynamic.ts) as if a client had sent them, so the journal, the
 * serial step, IXFR history, the answer cache and NOTIFY follow exactly as for nsupdate.
 *
 * Invariants: only zones taking updates (allowUpdate / updatePolicy) can be edited: others are
 * 409 ERR_ZONE_NOT_DYNAMIC; listing is bounded (`limit`); everything returned is text.
 */
import { DynamicZones } from '../../update/dynamic.js';
import type { DnsServer } from '../../server/server.js';
import { Opcode, Rcode, rcodeToString } from '../../wire/constants.js';
import { Message } from '../../wire/message.js';
import { Name } from '../../wire/name.js';
import { EMPTY_RDATA, type ResourceRecord, parseRecord, recordToString } from '../../wire/record.js';
import { RRClass, RRType, typeFromString, typeToString } from '../../wire/types.js';
import { peekRData } from '../../zone/node.js';
import type { Zone } from '../../zone/zone.js';
import { ControlError } from '../control-error.js';

export type ZoneKind = 'primary' | 'secondary' | 'dynamic';

export interface ZoneRow {
  name: string;
  kind: ZoneKind;
  loaded: boolean;
  serial: number | null;
  records: number;
  /** Takes record changes through the API (a dynamic zone this server owns). */
  editable: boolean;
  error: string | null;
  /** Secondary zones: the refresh machine's state (null for others). */
  transfer: {
    primaries: string[]; lastRefresh: string | null; nextRefresh: string | null; expires: string | null; expired: boolean;
    lastResult: string | null; failures: number; transfersIn: number; lastTransfer: unknown;
  } | null;
}

export interface RecordRow {
  name: string;
  type: string;
  ttl: number;
  data: string;
  /** The whole record in zone-file form. */
  text: string;
}

export interface RecordEditResult {
  zone: string;
  /** This process applied it (in a cluster only the worker owning the journals does). */
  applied: boolean;
  rcode: string;
  serial: number | null;
  changed: boolean;
}

/** Most records one listing returns. */
export const RECORDS_LIMIT = 5000;

export function zoneOrigin(text: string): Name {
  try {
    return Name.fromText(text.endsWith('.') ? text : text + '.');
  } catch (err) {
    throw new ControlError(`bad zone name "${text}": ${(err as Error).message}`, 400, 'ERR_BAD_NAME');
  }
}

function served(server: DnsServer, origin: Name): Zone | undefined {
  return server.zones().find((z) => z.origin.equals(origin));
}

export function listZones(server: DnsServer): ZoneRow[] {
  return server.zoneStatus().map((st): ZoneRow => {
    const origin = zoneOrigin(st.name);
    const zc = server.configuredZone(origin);
    const sec = st.secondary;
    const kind: ZoneKind = sec !== undefined ? 'secondary' : zc !== undefined && DynamicZones.configured(zc) ? 'dynamic' : 'primary';
    const z = served(server, origin);
    return {
      name: origin.toString(), kind, loaded: st.loaded, serial: st.serial, records: z?.recordCount ?? 0,
      editable: kind === 'dynamic' && server.dynamic.source(origin) !== undefined, error: st.error,
      transfer: sec === undefined || sec === null ? null : {
        primaries: sec.primaries, lastRefresh: sec.lastRefresh, nextRefresh: sec.nextRefresh, expires: sec.expires,
        expired: sec.expired, lastResult: sec.lastResult, failures: sec.failures, transfersIn: sec.transfersIn, lastTransfer: sec.lastTransfer,
      },
    };
  });
}

function parseTypeParam(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const t = typeFromString(text.toUpperCase());
  if (t === undefined) throw new ControlError(`unknown type "${text}"`, 400, 'ERR_BAD_TYPE');
  return t;
}

/** An owner name relative to the zone (`www`, `@`) or absolute (`www.example.`). */
function ownerName(text: string, origin: Name): Name {
  try {
    return text === '@' || text === '' ? origin : Name.fromText(text, origin);
  } catch (err) {
    throw new ControlError(`bad name "${text}": ${(err as Error).message}`, 400, 'ERR_BAD_NAME');
  }
}

/** Records of a served zone, in canonical order, filtered by owner (exact) and type. */
export function zoneRecords(server: DnsServer, zoneText: string, nameText?: string, typeText?: string): { zone: string; serial: number | null; records: RecordRow[]; truncated: boolean } {
  const origin = zoneOrigin(zoneText);
  const z = served(server, origin);
  if (z === undefined) throw new ControlError(`no zone ${origin.toString()} is served`, 404, 'ERR_ZONE_NOT_FOUND');
  const name = nameText === undefined || nameText === '' ? undefined : ownerName(nameText, origin);
  const type = parseTypeParam(typeText);
  const records: RecordRow[] = [];
  let truncated = false;
  const nodes = name === undefined ? z.nodes() : [z.node(name)].filter((n) => n !== undefined);
  outer: for (const node of nodes) {
    for (let i = 0; i < node.setCount; i++) {
      const set = node.setAt(i);
      if (type !== undefined && set.type !== type) continue;
      for (const data of peekRData(set)) {
        if (records.length >= RECORDS_LIMIT) {
          truncated = true;
          break outer;
        }
        const rr: ResourceRecord = { name: node.name, type: set.type, class: set.class, ttl: set.ttl, data };
        const text = recordToString(rr);
        records.push({ name: node.name.toString(), type: typeToString(set.type), ttl: set.ttl, data: text.split('\t').slice(4).join('\t'), text });
      }
    }
  }
  return { zone: origin.toString(), serial: z.serial ?? null, records, truncated };
}

/** What the API asks: add one record, or delete a record / an RRset / every RRset of a name. */
export type RecordEdit =
  | { action: 'add'; zone: string; name: string; type: string; ttl?: number | undefined; data: string }
  | { action: 'delete'; zone: string; name: string; type?: string | undefined; data?: string | undefined };

/** The RFC 2136 update section record for `edit` (§2.5.1 add, §2.5.2 delete RRset, §2.5.4 all at a name, §2.5.4 one RR). */
function updateRecord(edit: RecordEdit, origin: Name, defaultTtl: number): ResourceRecord {
  const name = ownerName(edit.name, origin);
  if (!name.isSubdomainOf(origin)) throw new ControlError(`${name.toString()} is not in zone ${origin.toString()}`, 400, 'ERR_NOT_IN_ZONE');
  if (edit.action === 'add') {
    const type = parseTypeParam(edit.type);
    if (type === undefined) throw new ControlError('type is required', 400, 'ERR_BAD_TYPE');
    const ttl = edit.ttl ?? defaultTtl;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 0x7fffffff) throw new ControlError('ttl must be whole seconds (0-2147483647)', 400, 'ERR_BAD_TTL');
    let rr: ResourceRecord;
    try {
      rr = parseRecord(`${name.toString()} ${ttl} IN ${typeToString(type)} ${edit.data}`, { origin });
    } catch (err) {
      throw new ControlError(`bad record data "${edit.data}" for ${typeToString(type)}: ${(err as Error).message}`, 400, 'ERR_BAD_RDATA');
    }
    return rr;
  }
  const type = parseTypeParam(edit.type);
  if (type === undefined) return { name, type: RRType.ANY, class: RRClass.ANY, ttl: 0, data: EMPTY_RDATA };
  if (edit.data === undefined || edit.data === '') return { name, type, class: RRClass.ANY, ttl: 0, data: EMPTY_RDATA };
  let rr: ResourceRecord;
  try {
    rr = parseRecord(`${name.toString()} 0 IN ${typeToString(type)} ${edit.data}`, { origin });
  } catch (err) {
    throw new ControlError(`bad record data "${edit.data}" for ${typeToString(type)}: ${(err as Error).message}`, 400, 'ERR_BAD_RDATA');
  }
  return { name, type, class: RRClass.NONE, ttl: 0, data: rr.data };
}

/**
 * Applies `edit` as an UPDATE received from the control endpoint (trusted: the token already
 * authenticated the operator). 404 for a zone not served, 409 for one that takes no updates.
 */
export async function editRecord(server: DnsServer, edit: RecordEdit): Promise<RecordEditResult> {
  const origin = zoneOrigin(edit.zone);
  const zone = origin.toString();
  const zc = server.configuredZone(origin);
  if (zc === undefined && served(server, origin) === undefined) throw new ControlError(`no zone ${zone} is served`, 404, 'ERR_ZONE_NOT_FOUND');
  const source = server.dynamic.source(origin);
  if (source === undefined || server.secondaries.get(origin) !== undefined) {
    throw new ControlError(`zone ${zone} does not take dynamic updates: give it allowUpdate or updatePolicy in the config to edit it here`, 409, 'ERR_ZONE_NOT_DYNAMIC');
  }
  // Build the message before the owner check, so every worker rejects bad input alike.
  const soaTtl = source.soa?.ttl ?? 3600;
  const rr = updateRecord(edit, origin, soaTtl);
  if (!server.dynamic.owner) return { zone, applied: false, rcode: 'NOERROR', serial: source.serial ?? null, changed: false };
  const req = new Message();
  req.opcode = Opcode.UPDATE;
  req.question.push({ name: origin, type: RRType.SOA, class: RRClass.IN });
  req.authority.push(rr);
  const before = source.serial ?? null;
  const rcode = await server.dynamic.apply(req, undefined, '127.0.0.1', 0, true);
  const after = server.dynamic.source(origin)?.serial ?? null;
  if (rcode !== Rcode.NOERROR) {
    throw new ControlError(`update of ${zone} failed: ${rcodeToString(rcode)} (see the server log for why)`, rcode === Rcode.SERVFAIL ? 500 : 409, `ERR_UPDATE_${rcodeToString(rcode)}`);
  }
  return { zone, applied: true, rcode: 'NOERROR', serial: after, changed: after !== before };
}
