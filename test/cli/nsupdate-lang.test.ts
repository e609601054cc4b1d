// nsupdate's command language without a server: each command's RFC 2136 §2.4/§2.5 record
// (class, TTL, empty or present RDATA), the session settings, and the complaints nsupdate prints.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Session, runLine } from '../../src/cli/nsupdate-lang.js';
import { showDraft, updateRecordText } from '../../src/cli/nsupdate-message.js';
import { RRClass, RRType } from '../../src/wire/types.js';

function session(): { s: Session; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const s = new Session({ out: (t) => { out.push(t); }, err: (t) => { err.push(t); } });
  return { s, out, err };
}

test('prerequisites and updates get the classes, TTLs and RDATA of RFC 2136 §2.4 and §2.5', () => {
  const { s } = session();
  const lines = [
    'prereq nxdomain a.example.', 'prereq yxdomain b.example.', 'prereq nxrrset c.example. A', 'prereq yxrrset d.example. TXT',
    'prereq yxrrset e.example. IN A 192.0.2.1', 'update add f.example. 60 A 192.0.2.2', 'update delete g.example. A 192.0.2.3',
    'update delete h.example. MX', 'del i.example.', 'delete j.example. 300 IN A',
  ];
  for (const l of lines) assert.equal(runLine(s, l, () => undefined, 'x'), 'more', l);
  const p = s.draft.prereq.map((r) => [r.name.toString(), r.class, r.type, r.ttl, r.data === undefined]);
  assert.deepEqual(p, [
    ['a.example.', RRClass.NONE, RRType.ANY, 0, true], ['b.example.', RRClass.ANY, RRType.ANY, 0, true],
    ['c.example.', RRClass.NONE, RRType.A, 0, true], ['d.example.', RRClass.ANY, RRType.TXT, 0, true],
    ['e.example.', RRClass.IN, RRType.A, 0, false],
  ]);
  const u = s.draft.update.map((r) => [r.name.toString(), r.class, r.type, r.ttl, r.data === undefined]);
  assert.deepEqual(u, [
    ['f.example.', RRClass.IN, RRType.A, 60, false], ['g.example.', RRClass.NONE, RRType.A, 0, false],
    ['h.example.', RRClass.ANY, RRType.MX, 0, true], ['i.example.', RRClass.ANY, RRType.ANY, 0, true],
    ['j.example.', RRClass.ANY, RRType.A, 0, true],
  ]);
  // Empty RDATA prints with the tab before it, as nsupdate's show does.
  assert.equal(updateRecordText(s.draft.update[2]!), 'h.example.\t\t0\tANY\tMX\t');
  // Relative names are taken from the root, as nsupdate does.
  runLine(s, 'add k 1 MX 10 mx', () => undefined, 'x');
  assert.equal(updateRecordText(s.draft.update[5]!), 'k.\t\t\t1\tIN\tMX\t10 mx.');
  assert.match(showDraft(s.draft), /^Outgoing update query:\n;; ->>HEADER<<- opcode: UPDATE, status: NOERROR, id:      0\n/);
});

test('nsupdate\'s complaints and statuses', () => {
  const cases: [string, string | undefined, string][] = [
    ['', undefined, 'send'], ['; comment', undefined, 'more'], ['send', undefined, 'send'], ['quit', undefined, 'quit'],
    ['frob', 'incorrect section name: frob\n', 'syntax'], ['update add a. xx A 1.2.3.4', "ttl 'xx': not a valid number\n", 'syntax'],
    ['update add a. 4294967295 A 1.2.3.4', "ttl '4294967295' is out of range (0 to 2147483647)\n", 'syntax'],
    ['update add a. 60 A', 'could not read rdata\n', 'syntax'], ['update add a.', 'could not read owner ttl\n', 'syntax'],
    ['update frob a.', 'incorrect operation code: frob\n', 'syntax'], ['prereq yxrrset a.', 'could not read class or type\n', 'syntax'],
    ['server 127.0.0.1 99999', "port '99999' is out of range (1 to 65535)\n", 'syntax'], ['zone', 'could not read zone name\n', 'syntax'],
    ['class FOO', 'could not parse class name: FOO\n', 'syntax'], ['key upd', 'could not read key secret\n', 'syntax'],
  ];
  for (const [line, err, status] of cases) {
    const { s, err: e } = session();
    assert.equal(runLine(s, line, () => undefined, 'x'), status, line);
    assert.equal(e.join(''), err ?? '', line);
  }
  const { s } = session();
  runLine(s, 'ttl 77', () => undefined, 'x');
  runLine(s, 'add a. A 192.0.2.1', () => undefined, 'x');
  assert.equal(s.draft.update[0]!.ttl, 77, 'the ttl command sets the TTL of adds without one');
  runLine(s, 'key hmac-sha256:upd c2VjcmV0', () => undefined, 'x');
  assert.equal(s.key?.algorithm.short, 'hmac-sha256');
  runLine(s, 'key upd c2VjcmV0', () => undefined, 'x');
  assert.equal(s.key?.algorithm.short, 'hmac-md5', 'nsupdate\'s default algorithm');
});
