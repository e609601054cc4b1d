/**
 * A spoofed-source flood on loopback for rate limiting tests: one UDP socket per source address
 * (Linux lets a socket bind any 127/8 address), the queries sent in the plan's order, and the
 * replies each source got counted as answered (no TC), truncated (TC) or none (dropped).
 */
import { type Socket, createSocket } from 'node:dgram';
import { Message } from '../../src/wire/message.js';

export interface FloodQuery {
  source: string;
  name: string;
  type: number;
}

export interface SourceOutcome {
  sent: number;
  answered: number;
  truncated: number;
  /** RCODEs of the replies (answered and truncated), by number. */
  rcodes: Record<number, number>;
}

/** The standard plan: `rounds` rounds; in each, every source asks for `www`, and every third round also an NXDOMAIN name and a referral. */
export function floodPlan(sources: readonly string[], rounds: number, zone: string, legit: string, legitRounds: readonly number[]): FloodQuery[] {
  const plan: FloodQuery[] = [];
  for (let r = 0; r < rounds; r++) {
    sources.forEach((source, i) => {
      plan.push({ source, name: `www.${zone}`, type: 1 });
      if (r % 3 === 0) {
        plan.push({ source, name: `nx-${r}-${i}.${zone}`, type: 1 });
        plan.push({ source, name: `x.sub.${zone}`, type: 1 });
      }
    });
    if (legitRounds.includes(r)) plan.push({ source: legit, name: `www.${zone}`, type: 1 });
  }
  return plan;
}

/**
 * Sends `plan` to address:port and collects replies until `expected` arrived (when given) or no
 * reply came for `idleMs`. Returns the outcome per source and when the sending started and ended (ms).
 */
export async function flood(address: string, port: number, plan: readonly FloodQuery[],
  opts: { expected?: number; idleMs?: number; deadlineMs?: number; query?: { rd?: boolean } } = {}): Promise<{ bySource: Map<string, SourceOutcome>; startMs: number; endMs: number }> {
  const sockets = new Map<string, Socket>();
  const bySource = new Map<string, SourceOutcome>();
  let received = 0;
  let last = Date.now();
  for (const q of plan) {
    if (sockets.has(q.source)) continue;
    const s = createSocket('udp4');
    const out: SourceOutcome = { sent: 0, answered: 0, truncated: 0, rcodes: {} };
    bySource.set(q.source, out);
    s.on('message', (msg) => {
      let m: Message;
      try {
        m = Message.decode(msg);
      } catch {
        return;
      }
      received++;
      last = Date.now();
      if (m.tc) out.truncated++;
      else out.answered++;
      out.rcodes[m.rcode] = (out.rcodes[m.rcode] ?? 0) + 1;
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ address: q.source, port: 0 }, () => resolve());
    });
    sockets.set(q.source, s);
  }
  // Wires built before the clock starts, so sending is quick.
  const wires = plan.map((q, i) => Message.query(q.name, q.type, { id: i & 0xffff, rd: opts.query?.rd ?? false }).encode());
  const startMs = Date.now();
  await Promise.all(plan.map((q, i) => new Promise<void>((resolve) => {
    bySource.get(q.source)!.sent++;
    sockets.get(q.source)!.send(wires[i]!, port, address, () => resolve());
  })));
  const endMs = Date.now();
  last = endMs;
  const idle = opts.idleMs ?? 700;
  const deadline = endMs + (opts.deadlineMs ?? 15_000);
  while (Date.now() < deadline) {
    if (opts.expected !== undefined ? received >= opts.expected && Date.now() - last >= 200 : Date.now() - last >= idle) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const s of sockets.values()) s.close();
  return { bySource, startMs, endMs };
}

/** Sums outcomes of the sources whose address starts with `prefix`. */
export function total(bySource: Map<string, SourceOutcome>, prefix = ''): SourceOutcome {
  const t: SourceOutcome = { sent: 0, answered: 0, truncated: 0, rcodes: {} };
  for (const [src, o] of bySource) {
    if (!src.startsWith(prefix)) continue;
    t.sent += o.sent;
    t.answered += o.answered;
    t.truncated += o.truncated;
    for (const [k, v] of Object.entries(o.rcodes)) t.rcodes[Number(k)] = (t.rcodes[Number(k)] ?? 0) + v;
  }
  return t;
}
