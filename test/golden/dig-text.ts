/**
 * Support for the wire interop tests: comparing our presentation text with what dig, kdig and
 * dnspython print, an async tool runner (the tests answer the tool's packets while it runs), and
 * a UDP relay that shows the exact bytes a tool sent and received.
 *
 * Comparison rules (decided once, here): whitespace runs count as one space; the base64/hex
 * field that ends DNSKEY, RRSIG, DS, TLSA, ... is compared without the spaces dig inserts every
 * 56 characters (we print it unbroken, as kdig and Knot do — both are valid presentation form).
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { type RemoteInfo, type Socket, createSocket } from 'node:dgram';
import { typeDef, typeFromString } from '../../src/index.js';

/** Field kinds that end RDATA with base64/hex that dig may split into chunks. */
const SPLIT_KINDS = new Set(['base64Rest', 'hexRest', 'dsDigest', 'keyData', 'base64OrDash']);

/** Collapses whitespace and joins the chunks dig splits a trailing base64/hex field into. */
export function normalizeRecordLine(line: string): string {
  const t = line.trim().split(/\s+/);
  // owner ttl class type rdata...
  if (t.length < 5) return t.join(' ');
  const type = typeFromString(t[3]!);
  let fixed = -1;
  if (t[4] === '\\#') {
    fixed = 2; // `\# len hex hex ...`
  } else if (type !== undefined) {
    const def = typeDef(type);
    const last = def?.fields[def.fields.length - 1];
    if (last !== undefined && SPLIT_KINDS.has(last.kind)) fixed = def!.fields.length - 1;
  }
  if (fixed >= 0 && t.length > 4 + fixed + 1) {
    return [...t.slice(0, 4 + fixed), t.slice(4 + fixed).join('')].join(' ');
  }
  return t.join(' ');
}

/** The record lines of dig/kdig output (no comments, no blank lines), normalized. */
export function recordLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';')).map(normalizeRecordLine);
}

const DIG_NOISE = /^;; (Query time|SERVER|WHEN|MSG SIZE|QUERY SIZE|global options|Sending|Got answer|Warning|WARNING|XFR size|Transfer)|^; <<>>|^; \(\d+ server/;

/**
 * dig's text for one message (from `;; ->>HEADER<<-` to the end of its sections), normalized
 * for comparison with `Message.toString()`: blank lines dropped, whitespace collapsed, record
 * lines dechunked. `which` picks the n-th message in the output (0 = the query with +qr).
 */
export function digMessageBlock(output: string, which: number): string[] {
  const blocks = output.split(/(?=^;; ->>HEADER<<-)/m).slice(1);
  const block = blocks[which];
  if (block === undefined) throw new Error(`no message #${which} in dig output:\n${output}`);
  return normalizeMessageText(block);
}

export function normalizeMessageText(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (DIG_NOISE.test(line)) continue;
    // dig judges a server cookie against the one it sent; the codec just prints the bytes.
    out.push(line.startsWith(';') ? line.trim().split(/\s+/).join(' ').replace(/ \((good|bad)\)$/, '') : normalizeRecordLine(line));
  }
  return out;
}

/** Runs a tool asynchronously (the event loop keeps serving our sockets meanwhile). */
export function runAsync(bin: string, args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Exchange {
  query: Uint8Array;
  response: Uint8Array | undefined;
}

/**
 * A UDP socket on our address that either answers each packet with `answer(query)` or relays it
 * to `upstream` and the reply back, recording every exchange.
 */
export class UdpTap {
  readonly exchanges: Exchange[] = [];
  private readonly socket: Socket;
  private readonly pending = new Map<number, { client: RemoteInfo; ex: Exchange }>();
  private upstreamSocket: Socket | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
  }

  static async open(address: string, port: number, handler: { answer?: (q: Uint8Array) => Uint8Array | undefined; upstream?: { address: string; port: number } }): Promise<UdpTap> {
    const s = createSocket('udp4');
    const tap = new UdpTap(s);
    if (handler.upstream !== undefined) {
      const up = createSocket('udp4');
      tap.upstreamSocket = up;
      await new Promise<void>((resolve, reject) => { up.once('error', reject); up.bind(0, address, () => resolve()); });
      up.on('message', (msg) => {
        const id = msg.length >= 2 ? (msg[0]! << 8) | msg[1]! : -1;
        const p = tap.pending.get(id);
        if (p === undefined) return;
        tap.pending.delete(id);
        p.ex.response = new Uint8Array(msg);
        s.send(msg, p.client.port, p.client.address);
      });
    }
    s.on('message', (msg, rinfo) => {
      const ex: Exchange = { query: new Uint8Array(msg), response: undefined };
      tap.exchanges.push(ex);
      if (handler.upstream !== undefined && msg.length >= 2) {
        tap.pending.set((msg[0]! << 8) | msg[1]!, { client: rinfo, ex });
        tap.upstreamSocket!.send(msg, handler.upstream.port, handler.upstream.address);
        return;
      }
      const reply = handler.answer?.(ex.query);
      if (reply !== undefined) {
        ex.response = reply;
        s.send(reply, rinfo.port, rinfo.address);
      }
    });
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind(port, address, () => resolve()); });
    return tap;
  }

  close(): void {
    this.socket.close();
    this.upstreamSocket?.close();
  }
}

/** Sends one UDP query and resolves with the reply (rejects after `timeoutMs`). */
export function udpExchange(address: string, port: number, query: Uint8Array, timeoutMs = 3000): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => { s.close(); reject(new Error(`no reply from ${address}:${port}`)); }, timeoutMs);
    s.on('message', (msg) => { clearTimeout(timer); s.close(); resolve(new Uint8Array(msg)); });
    s.on('error', (e) => { clearTimeout(timer); s.close(); reject(e); });
    s.send(query, port, address);
  });
}

/**
 * Sends `query` over TCP (RFC 1035 §4.2.2 length prefix) and collects reply messages until
 * `done(messages)` says so (for AXFR: the second SOA), then closes.
 */
export function tcpExchange(address: string, port: number, query: Uint8Array, done: (msgs: Uint8Array[]) => boolean,
  timeoutMs = 10_000): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const msgs: Uint8Array[] = [];
    let buf = new Uint8Array(0);
    const sock = connect({ host: address, port });
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`TCP exchange with ${address}:${port} timed out`)); }, timeoutMs);
    sock.on('connect', () => {
      const framed = new Uint8Array(query.length + 2);
      framed[0] = query.length >> 8;
      framed[1] = query.length & 0xff;
      framed.set(query, 2);
      sock.write(framed);
    });
    sock.on('data', (chunk: Uint8Array) => {
      const joined = new Uint8Array(buf.length + chunk.length);
      joined.set(buf);
      joined.set(chunk, buf.length);
      buf = joined;
      while (buf.length >= 2) {
        const len = (buf[0]! << 8) | buf[1]!;
        if (buf.length < 2 + len) break;
        msgs.push(buf.slice(2, 2 + len));
        buf = buf.slice(2 + len);
      }
      if (done(msgs)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(msgs);
      }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('close', () => { clearTimeout(timer); resolve(msgs); });
  });
}
