/**
 * Records print themselves as dig does (issue 12: `rr.toString()`): what the decoder, parseRecord
 * and the zone parser return is a DnsRecord; a plain object literal is still accepted everywhere
 * (encoding, recordToString), only without the method.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DnsRecord, Message, Name, RRType, parseRecord, recordToString } from '../../src/index.js';
import { parseZoneText } from '../../src/zone/parser.js';

test('decoded, parsed and zone-file records print as dig prints them', () => {
  const reply = Message.query('example.com.', RRType.MX, { id: 1 });
  reply.qr = true;
  reply.answer.push(parseRecord('example.com. 3600 IN MX 10 mail.example.com.'));
  // A plain literal (no toString of its own) goes through the encoder like any record.
  reply.answer.push({ name: Name.fromText('example.com.'), type: RRType.TXT, class: 1, ttl: 60, data: { data: [new TextEncoder().encode('a b')] } });
  const decoded = Message.decode(reply.encode()).answer;
  assert.ok(decoded.every((rr) => rr instanceof DnsRecord));
  assert.deepEqual(decoded.map(String), ['example.com.\t3600\tIN\tMX\t10 mail.example.com.', 'example.com.\t60\tIN\tTXT\t"a b"']);
  assert.equal(`${parseRecord('www.example.com. 300 IN AAAA 2001:db8::1')}`, 'www.example.com.\t300\tIN\tAAAA\t2001:db8::1');
  const origin = Name.fromText('example.com.');
  const [soa] = [...parseZoneText('$TTL 3600\n@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n', { origin, file: 't.zone' })];
  assert.equal(soa!.record.toString(), 'example.com.\t3600\tIN\tSOA\tns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300');
  assert.equal(soa!.record.toString(), recordToString(soa!.record));
});

test('a plain object record keeps working with recordToString (no class needed)', () => {
  const plain = { name: Name.fromText('a.example.'), type: RRType.A, class: 1, ttl: 5, data: { address: '192.0.2.7' } };
  assert.equal(recordToString(plain), 'a.example.\t5\tIN\tA\t192.0.2.7');
  assert.equal(new DnsRecord(plain.name, plain.type, plain.class, plain.ttl, plain.data).toString(), recordToString(plain));
});
