/**
 * What the lab runs inside a namespace (`sovereign lab probe JSON`, started with `ip netns exec`):
 * a stub lookup (stub.ts), one DNS query sent from a chosen source port (to show the NAT's port
 * mapping and a collision), and an iterative walk from the lab's root down to the answer with
 * each hop's server, time and TTLs. Prints one JSON object.
 */
import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { exchange } from '../client/exchange.js';
import { rcodeToString } from '../wire/constants.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import { RRType, printRData, typeFromString, typeToString } from '../wire/types.js';
import { type StubOptions, stubResolve } from './stub.js';

export interface SendResult {
  sport: number;
  rttMs: number;
  status: string;
  answers: string[];
  ttl: number | undefined;
  error?: string;
}

function recordText(rr: Message['answer'][number]): string {
  return `${rr.name.toString()} ${rr.ttl} ${typeToString(rr.type)} ${printRData(rr.type, rr.data)}`;
}

/** One query from source port `sport` to server:53; the reply must carry our ID (RFC 5452 §9.1). */
export async function sendFromPort(name: string, type: string, server: string, sport: number, timeoutMs = 5000): Promise<SendResult> {
  const id = randomInt(0, 0x10000);
  const q = Message.query(Name.fromText(name.endsWith('.') ? name : name + '.'), typeFromString(type) ?? RRType.A, { id });
  const s = createSocket({ type: 'udp4', reuseAddr: false });
  await new Promise<void>((res, rej) => { s.once('error', rej); s.bind(sport, () => { s.off('error', rej); res(); }); });
  const t0 = performance.now();
  try {
    const m = await new Promise<Message>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
      s.on('message', (b, r) => {
        if (r.address !== server || r.port !== 53) return;
        try {
          const m = Message.decode(b);
          if (m.id !== id || !m.qr) return;
          clearTimeout(timer);
          res(m);
        } catch { /* malformed: keep waiting */ }
      });
      s.send(q.encode(), 53, server);
    });
    return { sport, rttMs: performance.now() - t0, status: rcodeToString(m.rcode), answers: m.answer.map(recordText), ttl: m.answer[0]?.ttl };
  } catch (e) {
    return { sport, rttMs: performance.now() - t0, status: 'TIMEOUT', answers: [], ttl: undefined, error: (e as Error).message };
  } finally {
    s.close();
  }
}

export interface WalkHop {
  server: string;
  zone: string;
  kind: 'referral' | 'answer' | 'nxdomain' | 'nodata' | 'error';
  rttMs: number;
  /** The delegation's NS TTL on a referral, the answer's TTL on an answer. */
  ttl: number | undefined;
  next: string | undefined;
  records: string[];
  aa: boolean;
}

/** Iterates from `root` down (RD=0), following referrals by their glue, at most 10 hops. */
export async function walk(name: string, type: string, root: string): Promise<WalkHop[]> {
  const qname = Name.fromText(name.endsWith('.') ? name : name + '.');
  const qtype = typeFromString(type) ?? RRType.A;
  const hops: WalkHop[] = [];
  let server = root;
  let zone = '.';
  for (let i = 0; i < 10; i++) {
    let m: Message;
    let rttMs: number;
    try {
      const x = await exchange(Message.query(qname, qtype, { rd: false }), { address: server, port: 53 }, { timeoutMs: 3000 });
      m = x.message;
      rttMs = x.rttMs;
    } catch (e) {
      hops.push({ server, zone, kind: 'error', rttMs: 0, ttl: undefined, next: undefined, records: [(e as Error).message], aa: false });
      return hops;
    }
    const ns = m.authority.filter((rr) => rr.type === RRType.NS);
    const base = { server, zone, rttMs, aa: m.aa };
    if (m.rcode !== 0) {
      hops.push({ ...base, kind: m.rcode === 3 ? 'nxdomain' : 'error', ttl: undefined, next: undefined, records: [rcodeToString(m.rcode)] });
      return hops;
    }
    if (m.answer.length > 0 || ns.length === 0) {
      hops.push({ ...base, kind: m.answer.length > 0 ? 'answer' : 'nodata', ttl: m.answer[0]?.ttl, next: undefined, records: m.answer.map(recordText) });
      return hops;
    }
    const next = ns[0]!.name.toString();
    const glue = m.additional.find((rr) => rr.type === RRType.A && ns.some((n) => (n.data as { nsdname: Name }).nsdname.equals(rr.name)));
    hops.push({ ...base, kind: 'referral', ttl: ns[0]!.ttl, next, records: [...ns, ...(glue ? [glue] : [])].map(recordText) });
    if (glue === undefined || next === zone) return hops;
    server = (glue.data as { address: string }).address;
    zone = next;
  }
  return hops;
}

export type ProbeRequest =
  | ({ op: 'stub' } & StubOptions)
  | { op: 'send'; name: string; type: string; server: string; sport: number; timeoutMs?: number }
  | { op: 'walk'; name: string; type: string; root: string };

export async function runProbe(req: ProbeRequest): Promise<unknown> {
  switch (req.op) {
    case 'stub': return stubResolve(req);
    case 'send': return sendFromPort(req.name, req.type, req.server, req.sport, req.timeoutMs);
    case 'walk': return walk(req.name, req.type, req.root);
  }
}
