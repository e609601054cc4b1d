// TSIG (RFC 8945): keys and key files, sign/verify for every algorithm, the §5.2 error order
// (BADKEY, BADSIG, BADTIME), truncated MACs, placement (§5.1), and multi-message chaining
// (§5.3.1) including a wrong MAC in a middle message. Interop with BIND and Knot is in
// test/interop/tsig-peers.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WireFormatError } from '../../src/errors.js';
import { KeyStore, TSIG_ALGORITHMS, generateKey, keyFileText, makeKey, parseKeyFile } from '../../src/tsig/key.js';
import {
  TsigErr, TsigStreamSigner, TsigStreamVerifier, findTsig, signMessage, signature, verifyMessage,
} from '../../src/tsig/tsig.js';
import { Message, Name, RRType } from '../../src/wire/index.js';

const NOW = 1_700_000_000;

function query(id = 4242): Uint8Array {
  return Message.query('example.com.', RRType.SOA, { id }).encode();
}

test('keys: every algorithm signs and verifies its own message; another secret gives BADSIG', () => {
  for (const a of TSIG_ALGORITHMS) {
    const key = generateKey('k1.example', a.short);
    assert.equal(key.secret.length, a.digestSize);
    const store = new KeyStore([key]);
    const { bytes, mac } = signMessage(query(), key, { timeSigned: NOW });
    assert.equal(mac.length, a.digestSize);
    const rec = findTsig(bytes)!;
    assert.equal(rec.keyName.toString(), 'k1.example.');
    assert.equal(rec.algorithm.toString(), a.name.toString());
    assert.equal(verifyMessage(bytes, bytes.length, rec, store, { now: NOW }).error, 0, a.short);
    const other = new KeyStore([makeKey('k1.example', a.short, Buffer.alloc(a.digestSize, 7).toString('base64'))]);
    assert.equal(verifyMessage(bytes, bytes.length, rec, other, { now: NOW }).error, TsigErr.BADSIG, a.short);
    // The message decodes with the TSIG as the last additional record.
    const m = Message.decode(bytes);
    assert.equal(m.additional.at(-1)!.type, RRType.TSIG);
  }
});

test('verify: §5.2 order — unknown key or algorithm BADKEY, changed byte BADSIG, outside fudge BADTIME', () => {
  const key = makeKey('xfr', 'hmac-sha256', Buffer.alloc(32, 1).toString('base64'));
  const store = new KeyStore([key]);
  const { bytes } = signMessage(query(), key, { timeSigned: NOW, fudge: 300 });
  const rec = findTsig(bytes)!;
  assert.equal(verifyMessage(bytes, bytes.length, rec, new KeyStore(), { now: NOW }).error, TsigErr.BADKEY);
  const sha1 = new KeyStore([makeKey('xfr', 'hmac-sha1', key.secret.toString('base64'))]);
  assert.equal(verifyMessage(bytes, bytes.length, rec, sha1, { now: NOW }).error, TsigErr.BADKEY);
  const flipped = Uint8Array.from(bytes);
  flipped[3]! ^= 0x10; // the AD bit
  assert.equal(verifyMessage(flipped, flipped.length, findTsig(flipped)!, store, { now: NOW }).error, TsigErr.BADSIG);
  assert.equal(verifyMessage(bytes, bytes.length, rec, store, { now: NOW + 300 }).error, 0);
  assert.equal(verifyMessage(bytes, bytes.length, rec, store, { now: NOW + 301 }).error, TsigErr.BADTIME);
  assert.equal(verifyMessage(bytes, bytes.length, rec, store, { now: NOW - 301 }).error, TsigErr.BADTIME);
  // A bad MAC with a bad time is BADSIG (the MAC is checked first).
  assert.equal(verifyMessage(flipped, flipped.length, findTsig(flipped)!, store, { now: NOW + 1000 }).error, TsigErr.BADSIG);
});

test('verify: the ID may change after signing (Original ID, RFC 8945 §4.2); names compare case-insensitively', () => {
  const key = makeKey('Xfr.Example', 'hmac-sha512', Buffer.alloc(64, 3).toString('base64'));
  const { bytes } = signMessage(query(1111), key, { timeSigned: NOW });
  bytes[0] = 0x22; // a forwarder rewrote the ID
  bytes[1] = 0x33;
  const store = new KeyStore([makeKey('xfr.example.', 'HMAC-SHA512', Buffer.alloc(64, 3).toString('base64'))]);
  assert.equal(verifyMessage(bytes, bytes.length, findTsig(bytes)!, store, { now: NOW }).error, 0);
});

test('verify: truncated MACs (§5.2.2.1) — half the digest (at least 10) passes, shorter is BADTRUNC', () => {
  const key = makeKey('t', 'hmac-sha256', Buffer.alloc(32, 9).toString('base64'));
  const msg = query();
  const { record, mac } = signature(msg, msg.length, key, { timeSigned: NOW });
  const build = (macLen: number): Uint8Array => {
    // Rebuild the record with the MAC cut to macLen (RDATA: alg, time, fudge, size, mac, id, error, other).
    const alg = key.algorithm.name.wire.length;
    const owner = key.name.wire.length;
    const head = record.subarray(0, owner + 10 + alg + 8);
    const tail = record.subarray(owner + 10 + alg + 10 + mac.length);
    const out = new Uint8Array(msg.length + head.length + 2 + macLen + tail.length);
    out.set(msg);
    out.set(head, msg.length);
    let p = msg.length + head.length;
    out[p++] = 0;
    out[p++] = macLen;
    out.set(mac.subarray(0, macLen), p);
    out.set(tail, p + macLen);
    const rdlen = alg + 16 + macLen;
    out[msg.length + owner + 8] = rdlen >> 8;
    out[msg.length + owner + 9] = rdlen & 0xff;
    out[11] = 1;
    return out;
  };
  const store = new KeyStore([key]);
  for (const [len, want] of [[32, 0], [16, 0], [15, TsigErr.BADTRUNC], [8, TsigErr.BADTRUNC]] as const) {
    const b = build(len);
    assert.equal(verifyMessage(b, b.length, findTsig(b)!, store, { now: NOW }).error, want, `MAC of ${len}`);
  }
});

test('placement: a TSIG that is not the last additional record is a format error (§5.1)', () => {
  const key = makeKey('k', 'hmac-sha256', 'aGVsbG8=');
  const { bytes } = signMessage(query(), key, { timeSigned: NOW });
  // Add an OPT after the TSIG.
  const opt = Uint8Array.of(0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0);
  const out = new Uint8Array(bytes.length + opt.length);
  out.set(bytes);
  out.set(opt, bytes.length);
  out[11] = 2;
  assert.throws(() => findTsig(out), WireFormatError);
  assert.equal(findTsig(query()), undefined);
});

test('key files: tsig-keygen format round-trips; comments allowed; bad files say what is wrong', () => {
  const k = generateKey('xfr-key', 'hmac-sha384');
  const text = keyFileText(k);
  assert.match(text, /^key "xfr-key" \{\n\talgorithm hmac-sha384;\n\tsecret "[A-Za-z0-9+/=]{64}";\n\};\n$/);
  const [back] = parseKeyFile(`# made by hand\n${text}// trailing comment\n`);
  assert.equal(back!.name.toString(), 'xfr-key.');
  assert.equal(back!.algorithm.short, 'hmac-sha384');
  assert.deepEqual(back!.secret, k.secret);
  assert.throws(() => parseKeyFile('nothing here'), /no key/);
  assert.throws(() => parseKeyFile('key "a" { secret "aGVsbG8="; };'), /no algorithm/);
  assert.throws(() => makeKey('a', 'hmac-sha999', 'aGVsbG8='), /not one of/);
  assert.throws(() => makeKey('a', 'hmac-sha256', 'not base64!'), /base64/);
});

test('streams (§5.3.1): every message chained to the previous MAC; unsigned middles folded in; a wrong middle MAC fails', () => {
  const key = makeKey('xfr', 'hmac-sha256', Buffer.alloc(32, 5).toString('base64'));
  const req = signMessage(query(77), key, { timeSigned: NOW });
  const msgs: Uint8Array[] = [];
  for (let i = 0; i < 5; i++) {
    const m = new Message();
    m.id = 77;
    m.qr = true;
    m.answer.push({ name: Name.fromText('example.com.'), type: RRType.A, class: 1, ttl: 60, data: { address: `192.0.2.${i}` } });
    msgs.push(m.encode());
  }
  const signer = new TsigStreamSigner(key, req.mac, () => NOW);
  const signed = msgs.map((b) => {
    const rec = signer.sign(b, b.length);
    const out = new Uint8Array(b.length + rec.length);
    out.set(b);
    out.set(rec, b.length);
    out[11] = 1;
    return out;
  });
  const ok = new TsigStreamVerifier(key, req.mac, () => NOW);
  signed.forEach((b, i) => assert.equal(ok.check(b, i === signed.length - 1), undefined, `message ${i}`));
  // A wrong MAC in the middle message.
  const bad = signed.map((b) => Uint8Array.from(b));
  bad[2]![bad[2]!.length - 10]! ^= 1; // inside the MAC
  const v = new TsigStreamVerifier(key, req.mac, () => NOW);
  assert.equal(v.check(bad[0]!, false), undefined);
  assert.equal(v.check(bad[1]!, false), undefined);
  assert.match(v.check(bad[2]!, false) ?? '', /BADSIG on message 3/);
  // Another request MAC: the first message already fails.
  assert.match(new TsigStreamVerifier(key, new Uint8Array(32), () => NOW).check(signed[0]!, false) ?? '', /BADSIG/);
  // RFC 8945 §5.3.1: unsigned messages between signed ones are covered by the next MAC.
  const s2 = new TsigStreamSigner(key, req.mac, () => NOW);
  const first = s2.sign(msgs[0]!, msgs[0]!.length);
  // The signer is for "every message"; emulate a peer that signs every other one by hand.
  const withRec = (b: Uint8Array, rec: Uint8Array): Uint8Array => {
    const out = new Uint8Array(b.length + rec.length);
    out.set(b);
    out.set(rec, b.length);
    out[11] = 1;
    return out;
  };
  const firstMac = findTsig(withRec(msgs[0]!, first))!.mac;
  const joined = new Uint8Array(msgs[1]!.length + msgs[2]!.length);
  joined.set(msgs[1]!);
  joined.set(msgs[2]!, msgs[1]!.length);
  // MAC over prior MAC, the unsigned message 1, then message 2 (timers only).
  const third = signature(joined, joined.length, key, { timeSigned: NOW, priorMac: firstMac, timersOnly: true }).record;
  const v2 = new TsigStreamVerifier(key, req.mac, () => NOW);
  assert.equal(v2.check(withRec(msgs[0]!, first), false), undefined);
  assert.equal(v2.check(msgs[1]!, false), undefined);
  // The record's Original ID is joined's ID (message 1's); message 2 has the same ID.
  assert.equal(v2.check(withRec(msgs[2]!, third), true), undefined);
  // The last message must be signed.
  const v3 = new TsigStreamVerifier(key, req.mac, () => NOW);
  assert.equal(v3.check(signed[0]!, false), undefined);
  assert.match(v3.check(msgs[1]!, true) ?? '', /last message is not signed/);
});
