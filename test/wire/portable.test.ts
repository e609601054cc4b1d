// The codec is a library that runs anywhere: src/wire imports no Node built-in and uses no Buffer
// (browsers, Deno, edge runtimes), takes and returns plain Uint8Array, and its API is exported
// from the package root with precise types.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as lib from '../../src/index.js';
import { Message, Name, RRType, isType, parseRecord } from '../../src/index.js';

const wireDir = new URL('../../../src/wire/', import.meta.url).pathname;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

test('src/wire imports no Node built-in and uses no Buffer or process', () => {
  const files = sources(wireDir);
  assert.ok(files.length >= 10, `found ${files.length} files in ${wireDir}`);
  for (const f of files) {
    const code = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    assert.doesNotMatch(code, /from\s+['"]node:/, `${f} imports a node: module`);
    assert.doesNotMatch(code, /import\(\s*['"]node:/, `${f} imports a node: module`);
    assert.doesNotMatch(code, /require\(/, `${f} uses require`);
    const bare = /from\s+['"]([^'"./][^'"]*)['"]/g;
    for (const m of code.matchAll(bare)) assert.fail(`${f} imports package "${m[1]}" (the codec has no dependencies)`);
    assert.doesNotMatch(code, /\bBuffer\b/, `${f} uses Buffer`);
    assert.doesNotMatch(code, /\bprocess\./, `${f} uses process`);
    assert.doesNotMatch(code, /\bconsole\./, `${f} writes to the console`);
    assert.doesNotMatch(code, /Math\.random/, `${f} uses Math.random`);
  }
});

test('the package root exports the codec', () => {
  for (const name of ['Message', 'Name', 'Reader', 'Writer', 'RRType', 'RRClass', 'Rcode', 'Opcode', 'Flag', 'EdnsOptionCode',
    'EdeCode', 'parseRecord', 'recordToString', 'isType', 'newEdns', 'option', 'decodeOption', 'ednsOptionToString',
    'typeToString', 'typeFromString', 'allTypes', 'defineType', 'WireFormatError', 'TextFormatError', 'NameError',
    'EncodeError', 'DnsError', 'svcParamToString', 'SvcParamKey']) {
    assert.ok((lib as Record<string, unknown>)[name] !== undefined, `${name} is exported`);
  }
});

test('decode takes a plain Uint8Array (not only a Buffer) and encode returns one', () => {
  const q = Message.query('example.com.', RRType.MX, { id: 4242 });
  const wire = q.encode();
  assert.equal(Object.getPrototypeOf(wire), Uint8Array.prototype);
  const copy = new Uint8Array(wire.length);
  copy.set(wire);
  assert.equal(Message.decode(copy).question[0]!.name.toString(), 'example.com.');
  // a view into a bigger buffer works as well
  const big = new Uint8Array(wire.length + 10);
  big.set(wire, 5);
  assert.equal(Message.decode(big.subarray(5, 5 + wire.length)).id, 4242);
});

test('types are precise: isType narrows RDATA to the RFC field names', () => {
  const rr = parseRecord('example.com. 60 IN MX 10 mail.example.com.');
  if (isType(rr, RRType.MX)) {
    const pref: number = rr.data.preference;
    const exchange: Name = rr.data.exchange;
    assert.equal(pref, 10);
    assert.equal(exchange.toString(), 'mail.example.com.');
  } else {
    assert.fail('not MX');
  }
  const tlsa = parseRecord('_443._tcp.example.com. 60 IN TLSA 3 1 1 ABCD');
  if (isType(tlsa, RRType.TLSA)) {
    const data: Uint8Array = tlsa.data.certificateAssociationData;
    assert.deepEqual([tlsa.data.usage, tlsa.data.selector, tlsa.data.matchingType, data.length], [3, 1, 1, 2]);
  } else {
    assert.fail('not TLSA');
  }
  const soa = parseRecord('example.com. 60 IN SOA ns. host. 1 2 3 4 5');
  if (isType(soa, RRType.SOA)) {
    const { mname, rname, serial, refresh, retry, expire, minimum } = soa.data;
    assert.deepEqual([mname.toString(), rname.toString(), serial, refresh, retry, expire, minimum], ['ns.', 'host.', 1, 2, 3, 4, 5]);
  }
});
