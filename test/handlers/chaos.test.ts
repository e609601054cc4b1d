/**
 * CH TXT version.bind / version.server / hostname.bind / id.server: answered with the configured
 * string, REFUSED when switched off (the default), other CH names REFUSED.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Message } from '../../src/wire/message.js';
import { Rcode } from '../../src/wire/constants.js';
import { RRClass, RRType } from '../../src/wire/types.js';
import { startServer, udpQuery } from '../server/net-helpers.js';

const ADDRESS = '127.23.8.1';
const dec = new TextDecoder();

function txt(m: Message): string {
  return (m.answer[0]!.data as { data: Uint8Array[] }).data.map((d) => dec.decode(d)).join('');
}

test('CH TXT answered or refused as configured', async () => {
  const srv = await startServer(ADDRESS, { chaos: { version: 'Sovereign test', id: 'node-7' } });
  const q = (name: string, type: number = RRType.TXT): Promise<Message> =>
    udpQuery(ADDRESS, srv.port, Message.query(name, type, { class: RRClass.CH, id: 3 }));
  try {
    const v = await q('VERSION.BIND.');
    assert.equal(v.rcode, Rcode.NOERROR);
    assert.equal(v.aa, true);
    assert.equal(txt(v), 'Sovereign test');
    assert.equal(v.answer[0]!.class, RRClass.CH);
    assert.equal(txt(await q('version.server.')), 'Sovereign test');
    assert.equal(txt(await q('id.server.')), 'node-7');
    assert.equal((await q('hostname.bind.')).rcode, Rcode.REFUSED);
    assert.equal((await q('other.bind.')).rcode, Rcode.REFUSED);
    const a = await q('version.bind.', RRType.A);
    assert.equal(a.rcode, Rcode.NOERROR);
    assert.equal(a.answer.length, 0);
  } finally {
    await srv.stop();
  }
});

test('CH TXT refused by default', async () => {
  const srv = await startServer(ADDRESS);
  try {
    const r = await udpQuery(ADDRESS, srv.port, Message.query('version.bind.', RRType.TXT, { class: RRClass.CH }));
    assert.equal(r.rcode, Rcode.REFUSED);
  } finally {
    await srv.stop();
  }
});
