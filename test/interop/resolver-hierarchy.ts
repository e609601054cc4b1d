/**
 * A small DNS hierarchy on loopback for resolver tests and the resolver benchmark: a root zone,
 * TLDs and leaf zones served by Sovereign's own authoritative server (in-process DnsServer),
 * BIND and NSD, each reached by resolvers through a counting proxy on port 53 of its own
 * 127.25.x address (the real server listens on the same address, port BACKEND_PORT).
 *
 * The proxies count every query (UDP datagrams and TCP messages) per source address, so a test
 * can compare how many upstream queries two resolvers sent, whatever software the authoritative
 * server is. Unbound is told to send from its own address (`outgoing-interface`), Sovereign's
 * in-process resolver sends from 127.0.0.1, so the counts separate.
 *
 * Special servers: a lame one (answers REFUSED for the zone delegated to it), a silent one
 * (counts, never answers), and a spoofing one that answers each query first with a wrong ID,
 * then with a wrong question, then (for www.spoof.sov only) with the right answer.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server as TcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Rcode } from '../../src/wire/constants.js';
import { Message } from '../../src/wire/message.js';
import { Name } from '../../src/wire/name.js';
import { parseRecord } from '../../src/wire/record.js';
import { RRType } from '../../src/wire/types.js';
import { type RunningPeer, addLoopbackAddress, startNamed, startNsd } from '../helpers/peers.js';

export const BACKEND_PORT = 5354;

/** Addresses (all in 127.25.0.0/16). */
export const ADDR = {
  rootOurs: '127.25.0.1',
  rootNsd: '127.25.0.2',
  sovOurs: '127.25.1.1',
  sovBind: '127.25.1.2', // also serves bnd.
  exampleSov: '127.25.2.1', // example.sov, lame.sov (good server), silent.sov (good server)
  deep: '127.25.2.2',
  sub: '127.25.2.3',
  nsdLeaf: '127.25.3.1', // example.bnd, glueless.sov
  lame: '127.25.4.1',
  silent: '127.25.4.2',
  spoof: '127.25.5.1',
  /** Resolvers under test. */
  ours: '127.25.0.53',
  unbound: '127.25.0.54',
} as const;

const ZONES: Record<string, string> = {
  '.': `$TTL 86400
. SOA a.root.sov. hostmaster.root.sov. 1 1800 900 604800 86400
. NS a.root.sov.
. NS b.root.sov.
a.root.sov. A ${ADDR.rootOurs}
b.root.sov. A ${ADDR.rootNsd}
sov. 172800 NS ns1.nic.sov.
sov. 172800 NS ns2.nic.sov.
ns1.nic.sov. 172800 A ${ADDR.sovOurs}
ns2.nic.sov. 172800 A ${ADDR.sovBind}
bnd. 172800 NS ns1.nic.bnd.
ns1.nic.bnd. 172800 A ${ADDR.sovBind}
`,
  'sov.': `$TTL 3600
@ SOA ns1.nic.sov. hostmaster.nic.sov. 1 3600 600 86400 300
@ NS ns1.nic.sov.
@ NS ns2.nic.sov.
ns1.nic A ${ADDR.sovOurs}
ns2.nic A ${ADDR.sovBind}
a.root A ${ADDR.rootOurs}
b.root A ${ADDR.rootNsd}
example NS ns1.example
ns1.example A ${ADDR.exampleSov}
glueless NS ns.example.bnd.
lame NS ns.lame
lame NS ns2.lame
ns.lame A ${ADDR.lame}
ns2.lame A ${ADDR.exampleSov}
silent NS ns.silent
silent NS ns2.silent
ns.silent A ${ADDR.silent}
ns2.silent A ${ADDR.exampleSov}
spoof NS ns.spoof
ns.spoof A ${ADDR.spoof}
`,
  'bnd.': `$TTL 3600
@ SOA ns1.nic.bnd. hostmaster.nic.bnd. 1 3600 600 86400 300
@ NS ns1.nic.bnd.
ns1.nic A ${ADDR.sovBind}
example NS ns.example
ns.example A ${ADDR.nsdLeaf}
`,
  'example.bnd.': `$TTL 3600
@ SOA ns.example.bnd. hostmaster.example.bnd. 1 3600 600 86400 300
@ NS ns.example.bnd.
ns A ${ADDR.nsdLeaf}
www A 127.25.8.1
web CNAME host.glueless.sov.
mail MX 10 www
`,
  'glueless.sov.': `$TTL 3600
@ SOA ns.example.bnd. hostmaster.example.bnd. 1 3600 600 86400 300
@ NS ns.example.bnd.
host A 127.25.9.9
host AAAA 2001:db8::99
`,
  'example.sov.': `$TTL 3600
@ SOA ns1.example.sov. hostmaster.example.sov. 1 3600 600 86400 2
@ NS ns1.example.sov.
ns1 A ${ADDR.exampleSov}
a A 127.25.8.2
www CNAME web.example.bnd.
txt TXT "hello"
shortttl 2 A 127.25.8.3
alias DNAME example.bnd.
cn CNAME a.example.sov.
mapped A 127.25.8.8
mapped AAAA ::ffff:127.25.8.8
deep NS ns.deep
ns.deep A ${ADDR.deep}
${Array.from({ length: 40 }, (_, i) => `big TXT "record ${i} ${'x'.repeat(60)}"`).join('\n')}
`,
  'deep.example.sov.': `$TTL 3600
@ SOA ns.deep.example.sov. hostmaster.example.sov. 1 3600 600 86400 300
@ NS ns.deep.example.sov.
ns A ${ADDR.deep}
a.b.c A 127.25.8.4
sub NS ns.sub
ns.sub A ${ADDR.sub}
`,
  'sub.deep.example.sov.': `$TTL 3600
@ SOA ns.sub.deep.example.sov. hostmaster.example.sov. 1 3600 600 86400 300
@ NS ns.sub.deep.example.sov.
ns A ${ADDR.sub}
x A 127.25.8.5
`,
  'lame.sov.': `$TTL 3600
@ SOA ns2.lame.sov. hostmaster.lame.sov. 1 3600 600 86400 300
@ NS ns.lame.sov.
@ NS ns2.lame.sov.
ns A ${ADDR.lame}
ns2 A ${ADDR.exampleSov}
www A 127.25.8.6
`,
  'silent.sov.': `$TTL 3600
@ SOA ns2.silent.sov. hostmaster.silent.sov. 1 3600 600 86400 300
@ NS ns.silent.sov.
@ NS ns2.silent.sov.
ns A ${ADDR.silent}
ns2 A ${ADDR.exampleSov}
www A 127.25.8.7
`,
};

/** Names both resolvers resolve in the agreement test and the cold-cost benchmark. */
export const NAMES: readonly [string, string][] = [
  ['a.example.sov.', 'A'],
  ['txt.example.sov.', 'TXT'],
  ['www.example.sov.', 'A'],
  ['www.example.bnd.', 'A'],
  ['mail.example.bnd.', 'MX'],
  ['host.glueless.sov.', 'AAAA'],
  ['a.b.c.deep.example.sov.', 'A'],
  ['x.sub.deep.example.sov.', 'A'],
  ['www.alias.example.sov.', 'A'],
  ['nx.example.sov.', 'A'],
  ['a.example.sov.', 'AAAA'],
  ['nothere.bnd.', 'A'],
  ['big.example.sov.', 'TXT'],
  ['www.lame.sov.', 'A'],
  ['www.silent.sov.', 'A'],
];

/** Counts per source address, per transport. */
export class Counter {
  readonly bySource = new Map<string, { udp: number; tcp: number }>();
  add(source: string, transport: 'udp' | 'tcp'): void {
    let c = this.bySource.get(source);
    if (c === undefined) this.bySource.set(source, (c = { udp: 0, tcp: 0 }));
    c[transport]++;
  }
}

type Fake = (query: Buffer, reply: (b: Uint8Array) => void) => void;

/** A UDP+TCP proxy on address:53 that counts queries and forwards them (or not: silent, fake). */
class CountingProxy {
  readonly counter = new Counter();
  private udp: UdpSocket | undefined;
  private tcp: TcpServer | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly pending = new Set<UdpSocket>();
  private closed = false;

  constructor(readonly address: string, private readonly target: { address: string; port: number } | 'silent' | Fake) {}

  async start(): Promise<void> {
    const udp = createSocket('udp4');
    this.udp = udp;
    udp.on('message', (msg, rinfo) => this.onUdp(msg, rinfo));
    udp.on('error', () => { /* test sockets: ignore */ });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(53, this.address, () => resolve());
    });
    const tcp = createServer((sock) => this.onTcp(sock));
    this.tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(53, this.address, () => resolve());
    });
  }

  private onUdp(msg: Buffer, rinfo: RemoteInfo): void {
    this.counter.add(rinfo.address, 'udp');
    const t = this.target;
    const send = (b: Uint8Array): void => {
      if (!this.closed) this.udp?.send(b, rinfo.port, rinfo.address);
    };
    if (t === 'silent') return;
    if (typeof t === 'function') {
      t(msg, send);
      return;
    }
    const s = createSocket('udp4');
    this.pending.add(s);
    const done = (): void => {
      clearTimeout(timer);
      this.pending.delete(s);
      try { s.close(); } catch { /* closed */ }
    };
    const timer = setTimeout(done, 5000);
    s.on('message', (r) => {
      send(r);
      done();
    });
    s.on('error', done);
    s.send(msg, t.port, t.address);
  }

  private onTcp(sock: Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    const source = sock.remoteAddress ?? '?';
    let buf = Buffer.alloc(0);
    const t = this.target;
    let upstream: Socket | undefined;
    if (typeof t === 'object') {
      upstream = connect(t.port, t.address);
      upstream.on('error', () => sock.destroy());
      upstream.on('close', () => sock.destroy());
      upstream.pipe(sock);
      this.sockets.add(upstream);
      upstream.on('close', () => this.sockets.delete(upstream!));
    }
    sock.on('data', (d: Buffer) => {
      upstream?.write(d);
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        this.counter.add(source, 'tcp');
        if (typeof t === 'function') {
          t(msg, (b) => {
            const out = Buffer.alloc(2 + b.length);
            out.writeUInt16BE(b.length, 0);
            out.set(b, 2);
            sock.write(out);
          });
        }
      }
    });
  }

  async stop(): Promise<void> {
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    for (const s of this.pending) {
      try { s.close(); } catch { /* closed */ }
    }
    await new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r()));
    await new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r()));
  }
}

/**
 * The spoofing server: for every query, first an answer with the wrong ID, then one with the
 * right ID but another question, both claiming www.spoof.sov is 6.6.6.6; then, for www.spoof.sov
 * only, the genuine answer (127.25.7.7). Other names get only the forgeries.
 */
export const spoofer: Fake = (query, reply) => {
  let q: Message;
  try {
    q = Message.decode(query);
  } catch {
    return;
  }
  const question = q.question[0];
  if (question === undefined) return;
  const forged = new Message();
  forged.qr = true;
  forged.aa = true;
  forged.question = [{ name: question.name, type: question.type, class: question.class }];
  forged.answer = [parseRecord(`${question.name.toString()} 86400 IN A 6.6.6.6`)];
  forged.id = (q.id + 1) & 0xffff; // wrong ID
  reply(forged.encode());
  forged.id = q.id;
  // Right ID, another question (a name the resolver never asks about).
  forged.question = [{ name: Name.fromText('forged.spoof.sov.'), type: question.type, class: question.class }];
  forged.answer = [parseRecord('forged.spoof.sov. 86400 IN A 6.6.6.6')];
  reply(forged.encode()); // wrong question
  const genuine = new Message();
  genuine.id = q.id;
  genuine.qr = true;
  genuine.aa = true;
  genuine.question = q.question;
  genuine.edns = q.edns === undefined ? undefined : { version: 0, udpSize: 1232, dnssecOk: false, zFlags: 0, options: [] };
  const isWww = question.name.equals(Name.fromText('www.spoof.sov.'));
  if (isWww && question.type === RRType.A) {
    genuine.answer = [{ name: question.name, type: RRType.A, class: 1, ttl: 300, data: { address: '127.25.7.7' } }];
  } else if (isWww || question.name.equals(Name.fromText('spoof.sov.')) || question.name.equals(Name.fromText('ns.spoof.sov.'))) {
    genuine.authority = [parseRecord('spoof.sov. 300 IN SOA ns.spoof.sov. h.spoof.sov. 1 3600 600 86400 300')];
    if (question.name.equals(Name.fromText('ns.spoof.sov.')) && question.type === RRType.A) {
      genuine.authority = [];
      genuine.answer = [parseRecord(`ns.spoof.sov. 300 IN A ${ADDR.spoof}`)];
    }
  } else {
    return; // other names: only forgeries, never a genuine answer
  }
  genuine.rcode = Rcode.NOERROR;
  reply(genuine.encode());
};

export interface Hierarchy {
  dir: string;
  /** named.root-format hints pointing at the two root servers. */
  hintsFile: string;
  /** Counting proxies by address. */
  proxies: Map<string, CountingProxy>;
  /** Queries seen at every proxy from `source` (undefined: from anyone). */
  queries(source?: string | ((s: string) => boolean)): { udp: number; tcp: number; total: number };
  resetCounts(): void;
  stop(): Promise<void>;
}

/** Builds the hierarchy in `dir` (zone files, hints) and starts every server and proxy. */
export async function startHierarchy(dir: string): Promise<Hierarchy> {
  for (const a of Object.values(ADDR)) addLoopbackAddress(a);
  const file = (zone: string): string => join(dir, zone === '.' ? 'root.zone' : `${zone}zone`);
  for (const [zone, text] of Object.entries(ZONES)) writeFileSync(file(zone), text);
  const hintsFile = join(dir, 'root.hints');
  writeFileSync(hintsFile, `.  3600000 NS a.root.sov.
a.root.sov. 3600000 A ${ADDR.rootOurs}
.  3600000 NS b.root.sov.
b.root.sov. 3600000 A ${ADDR.rootNsd}
`);
  const ours: DnsServer[] = [];
  const peers: RunningPeer[] = [];
  const proxies = new Map<string, CountingProxy>();
  const stopAll = async (): Promise<void> => {
    await Promise.all([...proxies.values()].map((p) => p.stop()));
    await Promise.all(ours.map((s) => s.stop()));
    await Promise.all(peers.map((p) => p.stop()));
  };
  try {
    const own = async (address: string, zones: string[]): Promise<void> => {
      const config = defaultConfig({
        listen: [`${address}:${BACKEND_PORT}`], workers: 1, zones: zones.map((z) => ({ name: z, file: file(z) })),
        control: { enabled: false },
      });
      const s = new DnsServer({ config, logger: silentLogger });
      ours.push(s);
      await s.loadZones();
      await s.start();
    };
    await own(ADDR.rootOurs, ['.']);
    await own(ADDR.sovOurs, ['sov.']);
    await own(ADDR.exampleSov, ['example.sov.', 'lame.sov.', 'silent.sov.']);
    await own(ADDR.deep, ['deep.example.sov.']);
    await own(ADDR.sub, ['sub.deep.example.sov.']);
    await own(ADDR.lame, []);
    const mk = (name: string): string => {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      return d;
    };
    peers.push(await startNsd(mk('nsd-root'), ADDR.rootNsd, BACKEND_PORT, [{ name: '.', file: file('.') }]));
    peers.push(await startNamed(mk('named'), ADDR.sovBind, BACKEND_PORT,
      [{ name: 'sov.', file: file('sov.') }, { name: 'bnd.', file: file('bnd.') }]));
    peers.push(await startNsd(mk('nsd-leaf'), ADDR.nsdLeaf, BACKEND_PORT,
      [{ name: 'example.bnd.', file: file('example.bnd.') }, { name: 'glueless.sov.', file: file('glueless.sov.') }]));
    for (const a of [ADDR.rootOurs, ADDR.rootNsd, ADDR.sovOurs, ADDR.sovBind, ADDR.exampleSov, ADDR.deep, ADDR.sub, ADDR.nsdLeaf, ADDR.lame]) {
      proxies.set(a, new CountingProxy(a, { address: a, port: BACKEND_PORT }));
    }
    proxies.set(ADDR.silent, new CountingProxy(ADDR.silent, 'silent'));
    proxies.set(ADDR.spoof, new CountingProxy(ADDR.spoof, spoofer));
    for (const p of proxies.values()) await p.start();
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    dir,
    hintsFile,
    proxies,
    queries(source) {
      let udp = 0;
      let tcp = 0;
      for (const p of proxies.values()) {
        for (const [s, c] of p.counter.bySource) {
          if (source === undefined || (typeof source === 'string' ? s === source : source(s))) {
            udp += c.udp;
            tcp += c.tcp;
          }
        }
      }
      return { udp, tcp, total: udp + tcp };
    },
    resetCounts() {
      for (const p of proxies.values()) p.counter.bySource.clear();
    },
    stop: stopAll,
  };
}
