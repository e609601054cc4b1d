/**
 * Views against Unbound: unbound.conf `view:` clauses (each with its own `local-zone: ... static`
 * and `local-data:`, `view-first: no`) picked by `access-control-view:`, and our `views:` with the
 * same records as each view's `localData` (recursion off). Both are asked from the same loopback
 * source addresses (the client socket binds 127.60.1.5 for "internal", 127.60.2.5 for "public",
 * 127.60.3.5 for neither) for every name and type, and the RCODE, AA and the answer and authority
 * sections (TTLs included: both take them from the same data) must be the same.
 *
 * Expected behaviour, as Unbound's `static` local zone defines it: a name of the view's data gives
 * its RRset; another type of it NOERROR/NODATA with the zone's SOA; a name the view does not have
 * (intranet. from outside, nothere. from anyone) NXDOMAIN with the SOA. Our local data does the
 * same below an SOA it is given (src/resolver/local-data.ts), so both views carry the zone's SOA.
 * A source no view matches: we REFUSE (as BIND does with no matching view); Unbound is told to do
 * the same with `access-control: 127.60.3.0/24 refuse`.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Rcode, rcodeToString } from '../../src/wire/constants.js';
import { Message } from '../../src/wire/message.js';
import { recordToString } from '../../src/wire/record.js';
import { RRType } from '../../src/wire/types.js';
import { addLoopbackAddress, havePeers, pickPort, startUnbound, tempDir } from '../helpers/peers.js';

const UNBOUND = '127.60.0.1';
const OURS = '127.60.0.2';
const INTERNAL_CLIENT = '127.60.1.5';
const PUBLIC_CLIENT = '127.60.2.5';
const NO_VIEW_CLIENT = '127.60.3.5';

const SOA = 'corp.example. 3600 IN SOA ns.corp.example. hostmaster.corp.example. 1 3600 900 604800 300';
const VIEWS: Record<'internal' | 'public', string[]> = {
  internal: [
    SOA,
    'www.corp.example. 300 IN A 10.0.0.10',
    'www.corp.example. 300 IN AAAA fd00::10',
    'mail.corp.example. 600 IN A 10.0.0.25',
    'intranet.corp.example. 300 IN A 10.0.0.80',
  ],
  public: [
    SOA,
    'www.corp.example. 300 IN A 203.0.113.10',
    'www.corp.example. 300 IN AAAA 2001:db8::10',
    'mail.corp.example. 600 IN A 203.0.113.25',
  ],
};

/** RCODE, AA and the answer and authority sections as text (what must agree). */
async function answer(server: string, port: number, from: string, name: string, type: number): Promise<string> {
  const { message: m } = await exchange(Message.query(name, type, { rd: true }), { address: server, port }, { localAddress: from, timeoutMs: 3000 });
  const lines = [`${rcodeToString(m.rcode)} aa=${m.aa}`];
  for (const rr of [...m.answer].map(recordToString).sort()) lines.push(`an ${rr}`);
  for (const rr of [...m.authority].map(recordToString).sort()) lines.push(`ns ${rr}`);
  return lines.join('\n');
}

test('views agree with Unbound access-control-view: per-view local data, NODATA, NXDOMAIN, no view REFUSED', async (t) => {
  if (!havePeers(t, 'unbound')) return;
  const dir = tempDir('sovereign-views-unbound-');
  // Root hints at a loopback address nobody serves: only local data is asked, and nothing may leave 127/8.
  const hints = join(dir.path, 'root.hints');
  writeFileSync(hints, '.  3600000 IN NS a.root.test.\na.root.test. 3600000 IN A 127.60.9.9\n');
  for (const a of [UNBOUND, OURS, INTERNAL_CLIENT, PUBLIC_CLIENT, NO_VIEW_CLIENT]) addLoopbackAddress(a);
  const port = pickPort();
  const view = (name: 'internal' | 'public'): string => `view:
  name: "${name}"
  view-first: no
  local-zone: "corp.example." static
${VIEWS[name].map((r) => `  local-data: "${r}"`).join('\n')}`;
  // access-control lines go in server: (startUnbound appends `extra` to that clause, before the views).
  const unbound = await startUnbound(dir.path, UNBOUND, port, hints, `  access-control: 127.60.1.0/24 allow
  access-control: 127.60.2.0/24 allow
  access-control: 127.60.3.0/24 refuse
  access-control-view: 127.60.1.0/24 internal
  access-control-view: 127.60.2.0/24 public
${view('internal')}
${view('public')}
`);
  const server = new DnsServer({
    config: defaultConfig({
      listen: [`${OURS}:${port}`], workers: 1,
      views: [
        { name: 'internal', clients: ['127.60.1.0/24'], recursion: false, localData: VIEWS.internal },
        { name: 'public', clients: ['127.60.2.0/24'], recursion: false, localData: VIEWS.public },
      ],
    }),
    logger: silentLogger,
  });
  await server.loadZones();
  await server.start();
  try {
    const names = ['www.corp.example.', 'mail.corp.example.', 'intranet.corp.example.', 'nothere.corp.example.', 'corp.example.'];
    // TXT: a type none of the names has (NODATA where the name exists).
    const types = [RRType.A, RRType.AAAA, RRType.TXT];
    let compared = 0;
    for (const from of [INTERNAL_CLIENT, PUBLIC_CLIENT, NO_VIEW_CLIENT]) {
      for (const name of names) {
        for (const type of types) {
          const theirs = await answer(UNBOUND, port, from, name, type);
          const ours = await answer(OURS, port, from, name, type);
          assert.equal(ours, theirs, `from ${from}: ${name} type ${type}`);
          compared++;
        }
      }
      const theirs = await answer(UNBOUND, port, from, 'corp.example.', RRType.SOA);
      assert.equal(await answer(OURS, port, from, 'corp.example.', RRType.SOA), theirs, `from ${from}: corp.example. SOA`);
      compared++;
    }
    assert.equal(compared, 48);

    // The comparisons must have covered each view, NODATA, NXDOMAIN and the refusal: exact answers.
    const negSoa = 'ns corp.example.\t300\tIN\tSOA\tns.corp.example. hostmaster.corp.example. 1 3600 900 604800 300';
    assert.equal(await answer(OURS, port, INTERNAL_CLIENT, 'www.corp.example.', RRType.A), 'NOERROR aa=true\nan www.corp.example.\t300\tIN\tA\t10.0.0.10');
    assert.equal(await answer(OURS, port, PUBLIC_CLIENT, 'www.corp.example.', RRType.A), 'NOERROR aa=true\nan www.corp.example.\t300\tIN\tA\t203.0.113.10');
    assert.equal(await answer(OURS, port, INTERNAL_CLIENT, 'mail.corp.example.', RRType.A), 'NOERROR aa=true\nan mail.corp.example.\t600\tIN\tA\t10.0.0.25');
    assert.equal(await answer(OURS, port, PUBLIC_CLIENT, 'www.corp.example.', RRType.AAAA), 'NOERROR aa=true\nan www.corp.example.\t300\tIN\tAAAA\t2001:db8::10');
    assert.equal(await answer(OURS, port, INTERNAL_CLIENT, 'intranet.corp.example.', RRType.A), 'NOERROR aa=true\nan intranet.corp.example.\t300\tIN\tA\t10.0.0.80');
    // The internal-only name does not exist from outside.
    assert.equal(await answer(OURS, port, PUBLIC_CLIENT, 'intranet.corp.example.', RRType.A), `NXDOMAIN aa=true\n${negSoa}`);
    assert.equal(await answer(OURS, port, INTERNAL_CLIENT, 'mail.corp.example.', RRType.AAAA), `NOERROR aa=true\n${negSoa}`);
    const refused = await exchange(Message.query('www.corp.example.', RRType.A), { address: UNBOUND, port }, { localAddress: NO_VIEW_CLIENT, timeoutMs: 3000 });
    assert.equal(refused.message.rcode, Rcode.REFUSED);
    const ours = await exchange(Message.query('www.corp.example.', RRType.A), { address: OURS, port }, { localAddress: NO_VIEW_CLIENT, timeoutMs: 3000 });
    assert.equal(ours.message.rcode, Rcode.REFUSED);
    assert.equal(ours.message.answer.length, 0);
  } finally {
    await server.stop();
    await unbound.stop();
    dir.cleanup();
  }
});
