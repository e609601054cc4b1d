/**
 * The resolver against an adversarial zone on loopback, served by NSD (127.61.2.2), side by side
 * with Unbound where they must agree:
 * - `*.big.lab.` answers every name with a ~51 KB TXT RRset: resolving hundreds of names must
 *   leave the cache within `cache.maxBytes` and the process's memory bounded (the data fetched is
 *   several times the bound).
 * - `c1.chain.lab.` starts a 30-link CNAME chain that NSD puts in one reply: SERVFAIL, as Unbound
 *   answers; a 4-link chain is followed to its address by both.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, test } from 'node:test';
import { exchange } from '../../src/client/exchange.js';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { Rcode } from '../../src/wire/constants.js';
import { newEdns } from '../../src/wire/edns.js';
import { Message } from '../../src/wire/message.js';
import { RRType } from '../../src/wire/types.js';
import { type RunningPeer, addLoopbackAddress, havePeers, pickPort, startNsd, startPeer, startUnbound, tempDir } from '../helpers/peers.js';

const AUTH = '127.61.2.2';
const UNBOUND = '127.61.2.3';
const OURS = '127.61.2.10';
const MAX_BYTES = 4 * 1024 * 1024;
const CHAIN = 30;

function zoneText(): string {
  const big = Array.from({ length: 200 }, () => `"${'x'.repeat(255)}"`).join(' ');
  const lines = ['$ORIGIN lab.', '$TTL 300', '@ SOA ns.lab. h.lab. 1 3600 600 86400 60', '@ NS ns', `ns A ${AUTH}`, `*.big TXT ${big}`];
  for (let i = 1; i <= CHAIN; i++) lines.push(`c${i}.chain CNAME c${i + 1}.chain`);
  lines.push(`c${CHAIN + 1}.chain A 192.0.2.30`);
  for (let i = 1; i <= 4; i++) lines.push(`s${i}.chain CNAME s${i + 1}.chain`);
  lines.push('s5.chain A 192.0.2.5');
  return lines.join('\n') + '\n';
}

/**
 * Full garbage collections until freed array buffers are swept too (their backing stores go
 * later than the objects). The flag is set at run time: the test runner starts node without it.
 */
async function collect(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
}

function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('resolver under attack (NSD serving an adversarial zone, Unbound beside us)', () => {
  const dir = tempDir('sovereign-attack-');
  let nsd: RunningPeer | undefined;
  let unbound: RunningPeer | undefined;
  let ours: DnsServer | undefined;
  let unboundPort = 0;

  before(async () => {
    addLoopbackAddress(AUTH);
    addLoopbackAddress(UNBOUND);
    writeFileSync(join(dir.path, 'lab.zone'), zoneText());
    const port = pickPort();
    try {
      nsd = await startNsd(dir.path, AUTH, port, [{ name: 'lab', file: join(dir.path, 'lab.zone') }]);
      writeFileSync(join(dir.path, 'root.hints'), `. 3600000 NS a.root.lab.\na.root.lab. 3600000 A ${AUTH}\n`);
      mkdirSync(join(dir.path, 'ub'));
      unboundPort = pickPort();
      unbound = await startUnbound(join(dir.path, 'ub'), UNBOUND, unboundPort, join(dir.path, 'root.hints'),
        `stub-zone:\n  name: "lab"\n  stub-addr: ${AUTH}@${port}\n`);
    } catch {
      // A missing peer: the tests report it through havePeers (a failure in CI).
    }
    ours = new DnsServer({
      config: defaultConfig({
        listen: [`${OURS}:0`], workers: 1, control: { enabled: false }, stubZones: { lab: [`${AUTH}:${port}`] },
        cache: { maxBytes: MAX_BYTES },
      }),
      logger: silentLogger,
    });
    await ours.start();
  });

  after(async () => {
    await ours?.stop();
    await unbound?.stop();
    await nsd?.stop();
    dir.cleanup();
  });

  async function ask(server: { address: string; port: number }, name: string, type: number): Promise<Message> {
    const q = Message.query(name, type, { edns: newEdns({ udpSize: 1232 }) });
    return (await exchange(q, server, { timeoutMs: 8000, tries: 2 })).message;
  }
  const us = (): { address: string; port: number } => {
    const a = ours!.addresses.find((x) => x.transport === 'udp')!;
    return { address: a.address, port: a.port };
  };

  test('hundreds of names with 51 KB TXT RRsets: the cache stays within maxBytes, memory stays bounded', async (t) => {
    if (!havePeers(t, 'nsd')) return;
    assert.ok(nsd !== undefined, 'NSD did not start');
    const names = 600;
    await collect();
    const before = memory();
    for (let i = 0; i < names; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, (_, j) => ask(us(), `n${i + j}.big.lab`, RRType.TXT)));
      for (const r of batch) {
        // 51 KB does not fit the client's 1232 octets: TC, and the client's retry over TCP gets it all.
        assert.equal(r.rcode, Rcode.NOERROR);
        assert.equal(r.answer.length, 1);
        assert.equal((r.answer[0]!.data as { data: Uint8Array[] }).data.length, 200);
      }
    }
    const cache = ours!.cache;
    assert.ok(cache.bytes <= MAX_BYTES, `cache holds ${cache.bytes} estimated bytes, bound ${MAX_BYTES}`);
    assert.ok(cache.stats.evictions > names / 2, `${cache.stats.evictions} evictions`);
    await collect();
    const grown = memory() - before;
    t.diagnostic(`memory grew by ${(grown / 1048576).toFixed(1)} MiB; cache ${cache.size} entries, ${cache.bytes} estimated bytes`);
    // ~30 MB of TXT data came in; what stays is the bound and fixed costs, not the data.
    assert.ok(grown < 16 * 1024 * 1024, `memory grew by ${(grown / 1048576).toFixed(1)} MiB`);
    // The most recent names are still answered from the cache.
    const hits = cache.stats.hits;
    const again = await ask(us(), `n${names - 1}.big.lab`, RRType.TXT);
    assert.equal(again.rcode, Rcode.NOERROR);
    assert.ok(cache.stats.hits > hits, 'the most recent name was not cached');
  });

  test(`a ${CHAIN}-link CNAME chain in one reply is SERVFAIL, as Unbound answers; a 4-link chain is followed by both`, async (t) => {
    if (!havePeers(t, 'nsd', 'unbound')) return;
    assert.ok(unbound !== undefined, 'Unbound did not start');
    const ub = { address: UNBOUND, port: unboundPort };
    const theirs = await ask(ub, 'c1.chain.lab', RRType.A);
    assert.equal(theirs.rcode, Rcode.SERVFAIL, 'Unbound no longer SERVFAILs here: revisit the limit');
    const mine = await ask(us(), 'c1.chain.lab', RRType.A);
    assert.equal(mine.rcode, Rcode.SERVFAIL);
    assert.equal(mine.answer.length, 0);
    const short = await ask(us(), 's1.chain.lab', RRType.A);
    const shortTheirs = await ask(ub, 's1.chain.lab', RRType.A);
    for (const m of [short, shortTheirs]) {
      assert.equal(m.rcode, Rcode.NOERROR);
      assert.deepEqual(m.answer.map((r) => r.type), [RRType.CNAME, RRType.CNAME, RRType.CNAME, RRType.CNAME, RRType.A]);
      assert.equal((m.answer[4]!.data as { address: string }).address, '192.0.2.5');
    }
  });
});

/**
 * Where Sovereign already does better than Unbound, kept so by a test: against BIND (query log on,
 * so every query it receives is counted by source), both resolvers answer SERVFAIL for
 * - an NXNS-style delegation (`attack.lab.`, 40 glueless NS names in `victim.lab2.`, all NXDOMAIN):
 *   Sovereign asks about the victim's names no more often than Unbound, and within its fan-out cap;
 * - a lame server (`lame.lab3.` served by a BIND that answers REFUSED): Sovereign sends it no more
 *   queries than Unbound before giving up (its SERVFAIL comes at least as soon).
 */
describe('resolver under attack, counted at BIND beside Unbound', () => {
  const BIND = '127.61.3.2';
  const LAME = '127.61.3.6';
  const UB = '127.61.3.4';
  const OURS3 = '127.61.3.10';
  const dir = tempDir('sovereign-nxns-');
  let named: RunningPeer | undefined;
  let ub: RunningPeer | undefined;
  let ours: DnsServer | undefined;
  let ubPort = 0;

  before(async () => {
    for (const a of [BIND, LAME, UB]) addLoopbackAddress(a);
    const port = pickPort();
    // lab. delegates attack.lab. to 40 names in victim.lab2. without glue (the NXNS shape).
    const ns = Array.from({ length: 40 }, (_, i) => `attack NS ns${i}.victim.lab2.`).join('\n');
    writeFileSync(join(dir.path, 'lab.zone'), `$ORIGIN lab.\n$TTL 300\n@ SOA ns h 1 3600 600 86400 60\n@ NS ns\nns A ${BIND}\n${ns}\n`);
    writeFileSync(join(dir.path, 'victim.lab2.zone'), `$ORIGIN victim.lab2.\n$TTL 300\n@ SOA ns h 1 3600 600 86400 60\n@ NS ns\nns A ${BIND}\n`);
    try {
      named = await startNamedOn(dir.path, [BIND, LAME], port, [
        { name: 'lab', file: join(dir.path, 'lab.zone') }, { name: 'victim.lab2', file: join(dir.path, 'victim.lab2.zone') },
      ]);
      writeFileSync(join(dir.path, 'root.hints'), `. 3600000 NS a.root.lab.\na.root.lab. 3600000 A ${BIND}\n`);
      mkdirSync(join(dir.path, 'ub'));
      ubPort = pickPort();
      ub = await startUnbound(join(dir.path, 'ub'), UB, ubPort, join(dir.path, 'root.hints'),
        `  outgoing-interface: ${UB}\nstub-zone:\n  name: "lab"\n  stub-addr: ${BIND}@${port}\n` +
        `stub-zone:\n  name: "victim.lab2"\n  stub-addr: ${BIND}@${port}\nstub-zone:\n  name: "lame.lab3"\n  stub-addr: ${LAME}@${port}\n`);
    } catch {
      // A missing peer: the tests report it through havePeers (a failure in CI).
    }
    ours = new DnsServer({
      config: defaultConfig({
        listen: [`${OURS3}:0`], workers: 1, control: { enabled: false },
        stubZones: { lab: [`${BIND}:${port}`], 'victim.lab2': [`${BIND}:${port}`], 'lame.lab3': [`${LAME}:${port}`] },
      }),
      logger: silentLogger,
    });
    await ours.start();
  });

  after(async () => {
    await ours?.stop();
    await ub?.stop();
    await named?.stop();
    dir.cleanup();
  });

  /** Queries BIND logged, by resolver (Unbound sends from its outgoing-interface, we from any other address). */
  async function counted(match: (qname: string, server: string) => boolean): Promise<{ ours: number; unbound: number }> {
    await new Promise((r) => setTimeout(r, 300)); // let BIND's log lines reach us
    // "client @0x... 127.61.3.4#53837 (www.lame.lab3): query: www.lame.lab3 IN A -E(0)DC (127.61.3.6)"
    const re = /client @\S+ (\S+)#\d+ \([^)]*\): query: (\S+) IN \S+ \S+ \(([^)]+)\)/g;
    const out = { ours: 0, unbound: 0 };
    for (const m of named!.output().matchAll(re)) {
      if (!match(m[2]!.toLowerCase(), m[3]!)) continue;
      if (m[1] === UB) out.unbound++;
      else out.ours++;
    }
    return out;
  }

  async function ask(server: { address: string; port: number }, name: string): Promise<Message> {
    return (await exchange(Message.query(name, RRType.A, { edns: newEdns({ udpSize: 1232 }) }), server, { timeoutMs: 15_000 })).message;
  }
  const us = (): { address: string; port: number } => {
    const a = ours!.addresses.find((x) => x.transport === 'udp')!;
    return { address: a.address, port: a.port };
  };

  test('NXNS: 40 glueless NS names that do not exist; no more queries about them than Unbound sends', async (t) => {
    if (!havePeers(t, 'named', 'unbound')) return;
    assert.ok(named !== undefined && ub !== undefined, 'peers did not start');
    const [mine, theirs] = await Promise.all([ask(us(), 'www.attack.lab'), ask({ address: UB, port: ubPort }, 'www.attack.lab')]);
    assert.equal(mine.rcode, Rcode.SERVFAIL);
    assert.equal(theirs.rcode, Rcode.SERVFAIL);
    const n = await counted((q) => q.endsWith('.victim.lab2') && q !== 'ns.victim.lab2');
    t.diagnostic(`queries about the victim's names: Sovereign ${n.ours}, Unbound ${n.unbound}`);
    assert.ok(n.unbound > 0, 'Unbound asked nothing about the victim: the setup is wrong');
    assert.ok(n.ours <= n.unbound, `ours ${n.ours}, Unbound ${n.unbound}`);
    assert.ok(n.ours <= 2 * 4, `ours ${n.ours}: above the fan-out cap (4 names, A and AAAA)`);
  });

  test('a lame server (REFUSED): SERVFAIL after no more queries to it than Unbound sends', async (t) => {
    if (!havePeers(t, 'named', 'unbound')) return;
    assert.ok(named !== undefined && ub !== undefined, 'peers did not start');
    const [mine, theirs] = await Promise.all([ask(us(), 'www.lame.lab3'), ask({ address: UB, port: ubPort }, 'www.lame.lab3')]);
    assert.equal(mine.rcode, Rcode.SERVFAIL);
    assert.equal(theirs.rcode, Rcode.SERVFAIL);
    const n = await counted((q, server) => q.endsWith('lame.lab3') && server === LAME);
    t.diagnostic(`queries to the lame server: Sovereign ${n.ours}, Unbound ${n.unbound}`);
    assert.ok(n.unbound > 0 && n.ours > 0, `ours ${n.ours}, Unbound ${n.unbound}: the lame server was not asked`);
    assert.ok(n.ours <= n.unbound, `ours ${n.ours}, Unbound ${n.unbound}`);
  });
});

/** BIND authoritative on several addresses (one port), query log on: what startNamed does, for more than one address. */
async function startNamedOn(dir: string, addresses: string[], port: number, zones: { name: string; file: string }[]): Promise<RunningPeer> {
  for (const a of addresses) addLoopbackAddress(a);
  const conf = join(dir, 'named.conf');
  writeFileSync(conf, `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  listen-on port ${port} { ${addresses.join('; ')}; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
  querylog yes;
  rate-limit { responses-per-second 0; };
};
${zones.map((z) => `zone "${z.name}" { type primary; file "${z.file}"; };`).join('\n')}
`);
  return startPeer('named', ['-g', '-u', 'root', '-c', conf], { address: addresses[0]!, port, zone: zones[0]!.name });
}
