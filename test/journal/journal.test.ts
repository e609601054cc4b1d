// The zone journal: records round-trip; a torn or corrupt tail is cut and logged while every
// record before it is kept; bad magic starts afresh; compaction is atomic. And the difference
// between two zone versions (RFC 1995 §4 order: old SOA + removed, new SOA + added).
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { zoneDifference } from '../../src/journal/difference.js';
import { JOURNAL_MAGIC, Journal, type JournalDifference, crc32 } from '../../src/journal/journal.js';
import type { Logger } from '../../src/logging.js';
import { Name, parseRecord, recordToString } from '../../src/wire/index.js';
import { loadZone } from '../../src/zone/load.js';
import { tempDir } from '../helpers/peers.js';

function capture(): { logger: Logger; errors: string[] } {
  const errors: string[] = [];
  const noop = (): void => {};
  return { logger: { trace: noop, debug: noop, info: noop, warn: noop, error: (_o, m) => { errors.push(String(m)); } }, errors };
}

function diff(from: number, to: number, removed: string[], added: string[]): JournalDifference {
  const soa = (s: number) => parseRecord(`j.example. 300 IN SOA ns1.j.example. Host.j.example. ${s} 3600 600 86400 300`);
  return { fromSerial: from, toSerial: to, removed: [soa(from), ...removed.map((r) => parseRecord(r))], added: [soa(to), ...added.map((r) => parseRecord(r))] };
}

const text = (d: JournalDifference): string[] => [...d.removed, ...d.added].map(recordToString);

test('crc32 is the IEEE one (as zlib)', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
});

test('journal: differences round-trip through the file, in order', () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'z.sovjnl');
    const log = capture();
    const { journal, differences } = Journal.open(path, log.logger);
    assert.deepEqual(differences, []);
    const ds = [
      diff(1, 2, ['a.j.example. 300 IN A 10.0.0.1'], ['a.j.example. 300 IN A 10.0.0.2', 'b.j.example. 60 IN TXT "x y" "z"']),
      diff(2, 3, ['b.j.example. 60 IN TXT "x y" "z"'], ['c.j.example. 300 IN MX 10 mail.j.example.']),
    ];
    journal.append(ds[0]!);
    journal.append(ds[1]!, true);
    const back = Journal.open(path, log.logger).differences;
    assert.deepEqual(back.map((d) => [d.fromSerial, d.toSerial]), [[1, 2], [2, 3]]);
    assert.deepEqual(back.map(text), ds.map(text));
    assert.deepEqual(log.errors, []);
  } finally {
    dir.cleanup();
  }
});

test('journal: a torn tail (crash mid-append) and a corrupt record are cut; earlier records kept', () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'z.sovjnl');
    const log = capture();
    const { journal } = Journal.open(path, log.logger);
    journal.append(diff(1, 2, [], ['a.j.example. 300 IN A 10.0.0.1']));
    const good = statSync(path).size;
    journal.append(diff(2, 3, [], ['b.j.example. 300 IN A 10.0.0.2']));
    // Torn: the last record lost its last 5 octets.
    truncateSync(path, statSync(path).size - 5);
    let r = Journal.open(path, log.logger);
    assert.deepEqual(r.differences.map((d) => d.toSerial), [2]);
    assert.ok(r.cut > 0);
    assert.equal(statSync(path).size, good, 'the file was cut after the last good record');
    assert.match(log.errors.join('\n'), /torn record/);
    // Corrupt: a flipped octet inside a record's payload fails its checksum.
    r.journal.append(diff(2, 3, [], ['b.j.example. 300 IN A 10.0.0.2']));
    const buf = readFileSync(path);
    buf[buf.length - 3]! ^= 0xff;
    writeFileSync(path, buf);
    r = Journal.open(path, log.logger);
    assert.deepEqual(r.differences.map((d) => d.toSerial), [2]);
    assert.match(log.errors.join('\n'), /checksum mismatch/);
    // Appends after a cut continue from the good part.
    r.journal.append(diff(2, 3, [], ['b.j.example. 300 IN A 10.0.0.2']));
    assert.deepEqual(Journal.open(path, log.logger).differences.map((d) => d.toSerial), [2, 3]);
    // Garbage instead of a length: cut too.
    appendFileSync(path, Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    assert.deepEqual(Journal.open(path, log.logger).differences.map((d) => d.toSerial), [2, 3]);
  } finally {
    dir.cleanup();
  }
});

test('journal: bad magic starts afresh; rewrite keeps only what it is given', () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'z.sovjnl');
    writeFileSync(path, 'this is a BIND journal, not ours');
    const log = capture();
    const r = Journal.open(path, log.logger);
    assert.deepEqual(r.differences, []);
    assert.match(log.errors[0]!, /bad magic/);
    assert.deepEqual(readFileSync(path), JOURNAL_MAGIC);
    r.journal.append(diff(1, 2, [], []));
    r.journal.append(diff(2, 3, [], []));
    r.journal.rewrite([diff(2, 3, [], [])]);
    assert.deepEqual(Journal.open(path, log.logger).differences.map((d) => d.fromSerial), [2]);
  } finally {
    dir.cleanup();
  }
});

test('zoneDifference: removed and added records, TTL changes as remove+add, SOAs first', () => {
  const dir = tempDir();
  try {
    const write = (name: string, body: string): string => {
      const p = join(dir.path, name);
      writeFileSync(p, `$ORIGIN d.example.\n$TTL 300\n${body}`);
      return p;
    };
    const origin = Name.fromText('d.example.');
    const a = loadZone(write('a', '@ SOA ns1 host 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\nx A 10.0.0.1\nx A 10.0.0.2\nt 60 TXT "ttl"\ngone MX 10 x\n'), origin).zone!;
    const b = loadZone(write('b', '@ SOA ns1 host 2 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\nx A 10.0.0.2\nx A 10.0.0.3\nt 120 TXT "ttl"\nnew.sub AAAA 2001:db8::1\n'), origin).zone!;
    const d = zoneDifference(a, b)!;
    assert.equal(d.fromSerial, 1);
    assert.equal(d.toSerial, 2);
    const rs = d.removed.map(recordToString);
    const as = d.added.map(recordToString);
    assert.match(rs[0]!, /SOA.* 1 3600/);
    assert.match(as[0]!, /SOA.* 2 3600/);
    assert.deepEqual(rs.slice(1).sort(), ['gone.d.example.\t300\tIN\tMX\t10 x.d.example.', 't.d.example.\t60\tIN\tTXT\t"ttl"', 'x.d.example.\t300\tIN\tA\t10.0.0.1']);
    assert.deepEqual(as.slice(1).sort(), ['new.sub.d.example.\t300\tIN\tAAAA\t2001:db8::1', 't.d.example.\t120\tIN\tTXT\t"ttl"', 'x.d.example.\t300\tIN\tA\t10.0.0.3']);
  } finally {
    dir.cleanup();
  }
});
