/**
 * What the lab runs inside a namespace (`sovereign lab probe JSON`, started with `ip netns exec`):
 * a stub lookup (stub.ts), or one DNS query sent from a chosen source port (to show the NAT's port
 * mapping and a collision). Prints one JSON object.
 */
import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
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

export type ProbeRequest =
  | ({ op: 'stub' } & StubOptions)
  | { op: 'send'; name: string; type: string; server: string; sport: number; timeoutMs?: number };

export async function runProbe(req: ProbeRequest): Promise<unknown> {
  switch (req.op) {
    case 'stub': return stubResolve(req);
    case 'send': return sendFromPort(req.name, req.type, req.server, req.sport, req.timeoutMs);
  }
}
