/**
 * RFC 9471 referral glue through answerFromZone and the size-limited encoder: glue for in-domain
 * name servers is required (TC when it does not all fit, §3.1), sibling glue and other additional
 * data stay optional (dropped without TC, §3.2), whole RRsets only, OPT always kept. The same zone
 * is compared with BIND and Knot in test/interop/auth-glue.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerFromZone } from '../../src/authority/answer.js';
import { Flag } from '../../src/wire/constants.js';
import { newEdns } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { type ResourceRecord, recordToString } from '../../src/wire/record.js';
import { RRType } from '../../src/wire/types.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { Zone } from '../../src/zone/zone.js';

function zoneOf(origin: string, text: string): Zone {
  const o = Name.fromText(origin);
  const z = new Zone(o);
  for (const e of parseZoneText(text, { origin: o, file: 'test.zone' })) z.add(e.record);
  z.finish();
  return z;
}

const pad = (i: number): string => String(i).padStart(2, '0');
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

// `child` has twenty in-domain name servers (A + AAAA each; ns01 has two A records, one RRset)
// and one sibling; `few` has two in-domain ones and sixteen siblings under `sib`.
const ZONE = zoneOf('parent.example.', `$TTL 3600
@          SOA ns1 hostmaster 1 3600 900 604800 300
@          NS  ns1
@          MX  10 mx
mx         A   192.0.2.2
ns1        A   192.0.2.1
sib        NS  ns.sib
ns.sib     A   192.0.2.200
ns.sib     AAAA 2001:db8::200
child      NS  ns.sib
ns01.child A   192.0.2.9
${range(20).map((i) => `child NS ns${pad(i)}.child
ns${pad(i)}.child A 192.0.2.${10 + i}
ns${pad(i)}.child AAAA 2001:db8::${10 + i}`).join('\n')}
few        NS  a.few
few        NS  b.few
a.few      A   192.0.2.100
b.few      AAAA 2001:db8::100
${range(16).map((i) => `few NS s${pad(i)}.sib
s${pad(i)}.sib A 192.0.2.${120 + i}
s${pad(i)}.sib AAAA 2001:db8::1:${i}`).join('\n')}
`);

function ask(qname: string, qtype: number, edns = false): Message {
  const reply = new Message();
  reply.id = 7;
  reply.qr = true;
  reply.question.push({ name: Name.fromText(qname), type: qtype, class: 1 });
  if (edns) reply.edns = newEdns({ udpSize: 1232 });
  answerFromZone(ZONE, reply, Name.fromText(qname), qtype, { rotate: false, anyAll: false });
  return reply;
}

/** Encodes within `maxSize` and decodes what a client would get. */
function over(reply: Message, maxSize: number): { m: Message; tc: boolean; size: number } {
  const bytes = reply.encode({ maxSize });
  assert.ok(bytes.length <= maxSize);
  const m = Message.decode(bytes);
  return { m, tc: ((bytes[2]! << 8) & Flag.TC) !== 0, size: bytes.length };
}

const owners = (rrs: ResourceRecord[]): string[] => rrs.map((rr) => rr.name.toString().toLowerCase());
const isBelow = (rr: ResourceRecord, cut: string): boolean => rr.name.isSubdomainOf(Name.fromText(cut));
const text = (rrs: ResourceRecord[]): string[] => rrs.map(recordToString).sort();

test('referral: in-domain glue first and marked required, sibling glue after it', () => {
  const r = ask('www.child.parent.example.', RRType.A);
  assert.equal(r.aa, false);
  assert.equal(r.authority.length, 21);
  // 41 in-domain records (21 A, ns01 has two, and 20 AAAA), then the sibling's two.
  assert.equal(r.requiredAdditional, 41);
  assert.equal(r.additional.length, 43);
  assert.ok(r.additional.slice(0, 41).every((rr) => isBelow(rr, 'child.parent.example.')));
  assert.deepEqual(owners(r.additional.slice(41)), ['ns.sib.parent.example.', 'ns.sib.parent.example.']);
  // NS order, A before AAAA (as Knot orders glue).
  assert.deepEqual(r.additional.slice(0, 4).map((rr) => rr.type), [RRType.A, RRType.A, RRType.AAAA, RRType.A]);
});

test('in-domain glue that does not fit sets TC (RFC 9471 §3.1), keeping whole RRsets that fit', () => {
  for (const [edns, size] of [[false, 512], [true, 1232], [true, 700]] as const) {
    const { m, tc, size: got } = over(ask('www.child.parent.example.', RRType.A, edns), size);
    assert.equal(tc, true, `size ${size}`);
    assert.equal(m.authority.length, 21, 'the referral itself is complete');
    assert.ok(m.additional.length > 0 && m.additional.length < 41);
    assert.ok(m.additional.every((rr) => isBelow(rr, 'child.parent.example.')), 'no sibling glue before in-domain glue');
    // ns01's A RRset has two records: both or neither.
    assert.notEqual(m.additional.filter((rr) => rr.type === RRType.A && rr.name.toString().startsWith('ns01')).length, 1);
    assert.equal(m.edns !== undefined, edns, 'OPT survives truncation');
    assert.ok(got <= size);
  }
  // The two-record RRset that does not fit whole is dropped whole (rollback to the set's mark).
  let cut = 0;
  for (let size = 460; size < 560 && cut === 0; size++) {
    const { m } = over(ask('www.child.parent.example.', RRType.A), size);
    const a = m.additional.filter((rr) => rr.name.toString().startsWith('ns01') && rr.type === RRType.A).length;
    assert.ok(a === 0 || a === 2, `size ${size}: ${a} of ns01's two A records`);
    if (a === 2) cut = size;
  }
  assert.ok(cut > 0);
});

test('everything fits over TCP: no TC, in-domain and sibling glue', () => {
  const { m, tc } = over(ask('www.child.parent.example.', RRType.A), 65535);
  assert.equal(tc, false);
  assert.equal(m.additional.length, 43);
});

test('sibling glue that does not fit is dropped without TC (RFC 9471 §3.2)', () => {
  const r = ask('x.few.parent.example.', RRType.A);
  assert.equal(r.requiredAdditional, 2);
  const { m, tc } = over(r, 512);
  assert.equal(tc, false);
  assert.equal(m.authority.length, 18);
  assert.deepEqual(text(m.additional.slice(0, 2)), text(r.additional.slice(0, 2)));
  assert.ok(m.additional.length > 2 && m.additional.length < r.additional.length, 'some sibling glue dropped');
});

test('additional data outside referrals stays optional', () => {
  const r = ask('parent.example.', RRType.MX);
  assert.equal(r.requiredAdditional, 0);
  // Room for the header, question and MX answer but not the address of mx.
  const full = over(r, 65535).size;
  const { m, tc } = over(r, full - 1);
  assert.equal(tc, false);
  assert.equal(m.answer.length, 1);
  assert.equal(m.additional.length, 0);
});

test('requiredAdditional on a hand-built message; decoding leaves it 0', () => {
  const m = new Message();
  m.qr = true;
  m.question.push({ name: Name.fromText('x.test.'), type: RRType.A, class: 1 });
  for (let i = 0; i < 40; i++) {
    m.additional.push({ name: Name.fromText(`h${i}.x.test.`), type: RRType.A, class: 1, ttl: 60, data: { address: `192.0.2.${i}` } });
  }
  const optional = m.encode({ maxSize: 512 });
  assert.equal(optional[2]! & (Flag.TC >> 8), 0);
  m.requiredAdditional = 1;
  assert.equal(m.encode({ maxSize: 512 })[2]! & (Flag.TC >> 8), 0, 'the required record fits');
  m.requiredAdditional = 40;
  const cut = m.encode({ maxSize: 512 });
  assert.notEqual(cut[2]! & (Flag.TC >> 8), 0);
  const back = Message.decode(cut);
  assert.equal(back.tc, true);
  assert.equal(back.requiredAdditional, 0);
  assert.equal(back.additional.length, Message.decode(optional).additional.length, 'same records kept either way');
});
