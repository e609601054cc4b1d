/**
 * A small DNS hierarchy on 127.71.x for the doctor's tests, with one zone or resolver per fault
 * the lab injects. Root, TLD `tst.` and most leaves are Sovereign servers (in process); NSD is the
 * second server of the healthy zone, BIND the authoritative server with open AXFR and the one with
 * open recursion; Unbound the resolvers (validating, not validating, poisoned by local-data). Two
 * small proxies in this process stand for the network faults: one that speaks only TCP (UDP 53
 * blocked) and one that drops UDP replies above 512 bytes (a broken MTU).
 *
 * Zones (signed with dnssec-keygen / dnssec-signzone, ECDSAP256SHA256):
 *   .  (signed)  -> tst. (signed) -> good.tst   healthy: signed, DS ok, NS 127.71.2.1 (ours) + 127.71.2.2 (NSD)
 *                                   lame.tst    ns2 at 127.71.3.1 answers REFUSED (not loaded there)
 *                                   nsmm.tst    parent NS {ns1,ns2}, zone NS {ns1,ns2,ns3}
 *                                   glue.tst    glue for ns2 is 127.71.2.1, the zone says 127.71.2.9
 *                                   serial.tst  serial 1 at 127.71.2.1, 2 at NSD
 *                                   axfr.tst    BIND at 127.71.4.1 with allow-transfer { any; }
 *                                   recur.tst   BIND at 127.71.4.2 with recursion for anyone
 *                                   badds.tst   signed, the parent's DS digest matches no key
 *                                   expired.tst signed with inception/expiration 40/10 days ago
 * Resolvers: 127.71.5.1 Unbound validating, .2 Unbound not validating, .3 nothing, .4 TCP-only
 * proxy to .1, .5 Unbound validating with a poisoned www.good.tst A, .6 proxy to .1 dropping big UDP,
 * (and blocked.good.tst filtered to NXDOMAIN), .7 proxy to .1 whose UDP side swallows every query (a firewall dropping UDP 53). Unbound .2
 * caps its UDP replies at 1232 bytes (max-udp-size), so big answers come back with TC=1.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { type Server as TcpServer, type Socket, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/logging.js';
import { DnsServer } from '../../src/server/server.js';
import { type RunningPeer, addLoopbackAddress, namedOptions, runTool, startNsd, startPeer, startUnbound } from '../helpers/peers.js';

export const H = {
  root: '127.71.0.1',
  tld: '127.71.1.1',
  leaf: '127.71.2.1',
  nsd: '127.71.2.2',
  refuser: '127.71.3.1',
  axfr: '127.71.4.1',
  recur: '127.71.4.2',
  unbound: '127.71.5.1',
  noValidation: '127.71.5.2',
  down: '127.71.5.3',
  tcpOnly: '127.71.5.4',
  poisoned: '127.71.5.5',
  smallMtu: '127.71.5.6',
  udpDropped: '127.71.5.7',
} as const;

/** The address the poisoned resolver gives for www.good.tst (the zone says 192.0.2.1). */
export const POISON = '198.51.100.66';

export interface Hierarchy {
  dir: string;
  hintsFile: string;
  /** The root KSK's DS (Unbound's trust anchor). */
  anchorFile: string;
  stop(): Promise<void>;
}

function must(tool: string, args: string[], cwd: string): string {
  const r = runTool(tool, args, { cwd, timeoutMs: 60_000 });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function stamp(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** Signs `text` as `zone` with a fresh KSK and ZSK; returns the signed file and the KSK's DS lines. */
function sign(dir: string, zone: string, text: string, window?: { start: string; end: string }): { file: string; ds: string[] } {
  const zdir = join(dir, `keys-${zone}`);
  mkdirSync(zdir, { recursive: true });
  const origin = zone === '.' ? '.' : `${zone}.`;
  const ksk = must('dnssec-keygen', ['-q', '-K', zdir, '-a', 'ECDSAP256SHA256', '-f', 'KSK', '-n', 'ZONE', origin], zdir).trim();
  const zsk = must('dnssec-keygen', ['-q', '-K', zdir, '-a', 'ECDSAP256SHA256', '-n', 'ZONE', origin], zdir).trim();
  const keys = [ksk, zsk].map((k) => readFileSync(join(zdir, `${k}.key`), 'utf8')).join('\n');
  writeFileSync(join(zdir, 'zone'), text + '\n' + keys);
  const file = join(zdir, 'zone.signed');
  const args = ['-q', '-P', '-O', 'full', '-K', zdir, '-o', origin, '-f', file, '-d', zdir, '-k', join(zdir, ksk)];
  if (window !== undefined) args.push('-s', window.start, '-e', window.end);
  must('dnssec-signzone', [...args, join(zdir, 'zone'), join(zdir, zsk)], zdir);
  const ds = must('dnssec-dsfromkey', ['-2', join(zdir, `${ksk}.key`)], zdir).trim().split('\n');
  return { file, ds };
}

function leaf(zone: string, ns: [string, string][], extra = '', serial = 1): string {
  return `$ORIGIN ${zone}.
$TTL 300
@ SOA ns1 hostmaster ${serial} 3600 600 86400 300
${ns.map(([n]) => `@ NS ${n}`).join('\n')}
${ns.filter(([n]) => !n.endsWith('.')).map(([n, a]) => `${n} A ${a}`).join('\n')}
www A 192.0.2.1
${extra}`;
}

/** A delegation in the tst. zone: NS records, glue, DS lines (owner rewritten to the child). */
function delegation(child: string, ns: [string, string][], ds: string[] = []): string {
  return ns.map(([n]) => `${child}. NS ${n}.${child}.`).join('\n') + '\n' +
    ns.map(([n, a]) => `${n}.${child}. A ${a}`).join('\n') + '\n' +
    ds.map((d) => d.replace(/^\S+\s+(\d+\s+)?(IN\s+)?/, `${child}. `)).join('\n') + '\n';
}

/**
 * A UDP and/or TCP relay on `address`:53 to `upstream`:53; UDP replies longer than `maxUdp` are
 * dropped; `udp: 'drop'` binds UDP 53 and never answers (a firewall dropping, not rejecting).
 */
function relay(address: string, upstream: string, opts: { udp: boolean | 'drop'; maxUdp?: number }): Promise<() => Promise<void>> {
  const sockets = new Set<Socket>();
  const tcp: TcpServer = createServer((client) => {
    const up = connect(53, upstream);
    sockets.add(client).add(up);
    client.pipe(up).pipe(client);
    const end = (): void => { client.destroy(); up.destroy(); sockets.delete(client); sockets.delete(up); };
    client.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  let udp: UdpSocket | undefined;
  const ups = new Set<UdpSocket>();
  return new Promise((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(53, address, () => {
      const close = async (): Promise<void> => {
        for (const s of sockets) s.destroy();
        for (const u of ups) u.close();
        udp?.close();
        await new Promise((r) => tcp.close(r));
      };
      if (!opts.udp) return resolve(close);
      udp = createSocket('udp4');
      udp.on('message', (msg, rinfo) => {
        if (opts.udp === 'drop') return;
        const up = createSocket('udp4');
        ups.add(up);
        const done = (): void => { if (ups.delete(up)) up.close(); };
        const timer = setTimeout(done, 10_000);
        up.on('message', (reply) => {
          clearTimeout(timer);
          // The broken path: big datagrams (fragments, above the MTU) never arrive.
          if (opts.maxUdp === undefined || reply.length <= opts.maxUdp) udp!.send(reply, rinfo.port, rinfo.address);
          done();
        });
        up.on('error', done);
        up.send(msg, 53, upstream);
      });
      udp.once('error', reject);
      udp.bind(53, address, () => resolve(close));
    });
  });
}

async function ours(address: string, zones: { name: string; file: string }[]): Promise<DnsServer> {
  const s = new DnsServer({
    // No AXFR for anyone: the healthy zones must not look open (the default allows loopback).
    config: defaultConfig({ listen: [`${address}:53`], zones: zones.map((z) => ({ ...z, allowTransfer: [] })), workers: 1 }),
    logger: silentLogger,
  });
  await s.loadZones();
  await s.start();
  return s;
}

export async function startHierarchy(dir: string): Promise<Hierarchy> {
  const servers: DnsServer[] = [];
  const peers: RunningPeer[] = [];
  const relays: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const r of relays) await r();
    for (const s of servers) await s.stop();
    for (const p of peers) await p.stop();
  };
  try {
    for (const a of Object.values(H)) addLoopbackAddress(a);
    const L = H.leaf;
    const write = (name: string, text: string): string => {
      const f = join(dir, `${name}.zone`);
      writeFileSync(f, text);
      return f;
    };
    const big = Array.from({ length: 10 }, (_, i) => `big TXT "${String(i).repeat(200)}"`).join('\n');
    const good = sign(dir, 'good.tst', leaf('good.tst', [['ns1', L], ['ns2', H.nsd]], `${big}\nblocked A 192.0.2.7\n`));
    const badds = sign(dir, 'badds.tst', leaf('badds.tst', [['ns1', L]]));
    const expired = sign(dir, 'expired.tst', leaf('expired.tst', [['ns1', L]]), { start: stamp(-40), end: stamp(-10) });
    const wrongDs = badds.ds.map((d) => d.replace(/ ([0-9A-F]{64})$/i, (_m, hex: string) => ' ' + (hex[0] === '0' ? '1' : '0') + hex.slice(1)));
    const tld = sign(dir, 'tst', `$ORIGIN tst.
$TTL 3600
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
ns A ${H.tld}
${delegation('good.tst', [['ns1', L], ['ns2', H.nsd]], good.ds)}
${delegation('lame.tst', [['ns1', L], ['ns2', H.refuser]])}
${delegation('nsmm.tst', [['ns1', L], ['ns2', L]])}
${delegation('glue.tst', [['ns1', L], ['ns2', L]])}
${delegation('serial.tst', [['ns1', L], ['ns2', H.nsd]])}
${delegation('axfr.tst', [['ns1', H.axfr]])}
${delegation('recur.tst', [['ns1', H.recur]])}
${delegation('badds.tst', [['ns1', L]], wrongDs)}
${delegation('expired.tst', [['ns1', L]], expired.ds)}
`);
    const root = sign(dir, '.', `$TTL 86400
. SOA a.root. hostmaster.root. 1 3600 600 86400 300
. NS a.root.
a.root. A ${H.root}
tst. NS ns.tst.
ns.tst. A ${H.tld}
${tld.ds.map((d) => d.replace(/^\S+\s+(\d+\s+)?(IN\s+)?/, 'tst. ')).join('\n')}
`);
    const hintsFile = join(dir, 'root.hints');
    writeFileSync(hintsFile, `. 3600000 NS a.root.\na.root. 3600000 A ${H.root}\n`);
    const anchorFile = join(dir, 'root.anchor');
    writeFileSync(anchorFile, root.ds.join('\n') + '\n');

    const zone = (name: string, file: string): { name: string; file: string } => ({ name, file });
    servers.push(await ours(H.root, [zone('.', root.file)]));
    servers.push(await ours(H.tld, [zone('tst.', tld.file)]));
    servers.push(await ours(L, [
      zone('good.tst.', good.file), zone('badds.tst.', badds.file), zone('expired.tst.', expired.file),
      zone('lame.tst.', write('lame.tst', leaf('lame.tst', [['ns1', L], ['ns2', H.refuser]]))),
      zone('nsmm.tst.', write('nsmm.tst', leaf('nsmm.tst', [['ns1', L], ['ns2', L], ['ns3', L]]))),
      zone('glue.tst.', write('glue.tst', leaf('glue.tst', [['ns1', L], ['ns2', '127.71.2.9']]))),
      zone('serial.tst.', write('serial.tst', leaf('serial.tst', [['ns1', L], ['ns2', H.nsd]], '', 1))),
    ]));
    servers.push(await ours(H.refuser, [zone('other.', write('other', leaf('other', [['ns1', H.refuser]])))]));
    const nsdDir = join(dir, 'nsd');
    mkdirSync(nsdDir);
    peers.push(await startNsd(nsdDir, H.nsd, 53, [
      zone('good.tst', good.file),
      zone('serial.tst', write('serial2.tst', leaf('serial.tst', [['ns1', L], ['ns2', H.nsd]], '', 2))),
    ]));
    const bindAxfr = join(dir, 'named-axfr');
    mkdirSync(bindAxfr);
    writeFileSync(join(bindAxfr, 'named.conf'), `${namedOptions(bindAxfr, H.axfr, 53, 'allow-transfer { any; };')}
zone "axfr.tst" { type primary; file "${write('axfr.tst', leaf('axfr.tst', [['ns1', H.axfr]]))}"; };
`);
    peers.push(await startPeer('named', ['-g', '-u', 'root', '-c', join(bindAxfr, 'named.conf')], { address: H.axfr, port: 53, zone: 'axfr.tst' }));
    const bindRecur = join(dir, 'named-recur');
    mkdirSync(bindRecur);
    writeFileSync(join(bindRecur, 'named.conf'), `options {
  directory "${bindRecur}";
  pid-file "${bindRecur}/named.pid";
  listen-on port 53 { ${H.recur}; };
  listen-on-v6 { none; };
  query-source address ${H.recur};
  recursion yes;
  allow-recursion { any; };
  allow-query-cache { any; };
  allow-transfer { none; };
  dnssec-validation no;
  notify no;
};
zone "." { type hint; file "${hintsFile}"; };
zone "recur.tst" { type primary; file "${write('recur.tst', leaf('recur.tst', [['ns1', H.recur]]))}"; };
`);
    peers.push(await startPeer('named', ['-g', '-u', 'root', '-c', join(bindRecur, 'named.conf')], { address: H.recur, port: 53, zone: 'recur.tst' }));
    const validating = `  module-config: "validator iterator"
  trust-anchor-file: "${anchorFile}"
  val-log-level: 2
`;
    for (const [address, extra] of [
      [H.unbound, validating],
      [H.noValidation, '  module-config: "iterator"\n  max-udp-size: 1232\n'],
      [H.poisoned, `${validating}  local-data: "www.good.tst. 300 IN A ${POISON}"\n  local-zone: "blocked.good.tst." always_nxdomain\n`],
    ] as const) {
      const udir = join(dir, `unbound-${address}`);
      mkdirSync(udir);
      peers.push(await startUnbound(udir, address, 53, hintsFile, `  outgoing-interface: ${address}\n${extra}`));
    }
    relays.push(await relay(H.tcpOnly, H.unbound, { udp: false }));
    relays.push(await relay(H.smallMtu, H.unbound, { udp: true, maxUdp: 512 }));
    relays.push(await relay(H.udpDropped, H.unbound, { udp: 'drop' }));
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, hintsFile: join(dir, 'root.hints'), anchorFile: join(dir, 'root.anchor'), stop };
}
