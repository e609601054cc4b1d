/** Reading delegations out of replies (src/client/delegation.ts), as dig +trace and the API's trace walk them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nsTargets, referralZone } from '../../src/client/delegation.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { parseRecord } from '../../src/wire/record.js';
import { RRType } from '../../src/wire/types.js';

const rr = (text: string): ReturnType<typeof parseRecord> => parseRecord(text);
const ZONE = Name.fromText('example.');
const NS = [
  rr('example. 3600 IN NS ns1.example.'),
  rr('example. 3600 IN NS ns1.example.'), // listed twice: one target
  rr('example. 3600 IN NS 127.9.9.9.'),
  rr('example. 3600 IN NS ns.elsewhere.'),
  rr('other. 3600 IN NS ns.other.'), // not this zone's
];
const GLUE = [rr('ns1.example. 3600 IN A 192.0.2.1'), rr('ns1.example. 3600 IN AAAA 2001:db8::1'), rr('ns.other. 3600 IN A 192.0.2.9')];

test('nsTargets: one target per NS name, glue of the wanted family, address literals as their own address', () => {
  const all = nsTargets(ZONE, NS, GLUE).map((t) => [t.name.toString(), t.addresses]);
  assert.deepEqual(all, [['ns1.example.', ['192.0.2.1', '2001:db8::1']], ['127.9.9.9.', ['127.9.9.9']], ['ns.elsewhere.', []]]);
  assert.deepEqual(nsTargets(ZONE, NS, GLUE, 6).map((t) => t.addresses), [['2001:db8::1'], [], []]);
  assert.deepEqual(nsTargets(ZONE, NS, GLUE, 4).map((t) => t.addresses), [['192.0.2.1'], ['127.9.9.9'], []]);
});

test('referralZone: only NS strictly below the current cut, and never in an answer or an AA reply', () => {
  const m = Message.query(Name.fromText('www.example.'), RRType.A, { rd: false });
  m.authority.push(rr('example. 3600 IN NS ns1.example.'));
  assert.equal(referralZone(m, Name.ROOT)?.toString(), 'example.');
  assert.equal(referralZone(m, ZONE), undefined, 'the same cut again is no referral (a loop)');
  assert.equal(referralZone(m, Name.fromText('org.')), undefined, 'a sideways referral is refused');
  m.aa = true;
  assert.equal(referralZone(m, Name.ROOT), undefined);
  m.aa = false;
  m.answer.push(rr('www.example. 300 IN A 192.0.2.80'));
  assert.equal(referralZone(m, Name.ROOT), undefined);
});
