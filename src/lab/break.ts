/**
 * `lab break KIND` / `lab repair KIND`: the faults of seed 000's checklist ("I can ping 8.8.8.8 but
 * cannot open google.com"), each made the way it happens on real networks:
 * - resolver-down: the ISP resolver's process is stopped (clients get SERVFAIL from the gateway).
 * - udp53-blocked: the gateway's firewall drops UDP to port 53 (forwarded and its own): timeouts/SERVFAIL.
 * - poisoned-cache: an attacker answers for an unsigned zone's server while the resolver asks
 *   (a DNAT in the resolver's namespace stands in for a won spoofing race, RFC 5452); the wrong
 *   address then sits in the resolver's and forwarder's caches with a long TTL after the attacker left.
 * - wrong-ds: the TLD publishes a DS for the (signed) victim zone that matches none of its keys:
 *   the validating resolver answers SERVFAIL (bogus, RFC 4035 §5.2).
 * - lame-delegation: the TLD delegates the victim zone to a server that is not authoritative for it
 *   (RFC 1912 §2.8): SERVFAIL.
 * - broken-mtu: the gateway's WAN link MTU is 1000 and fragments are dropped: UDP answers larger
 *   than the link are lost silently (small ones still work). The gateway clamps the TCP MSS to the
 *   link, as home routers on PPPoE do, so TCP still passes: resolvers that fall back to smaller
 *   EDNS sizes and TCP (the gateway's forwarder, RFC 6891 §6.2.5) still get big answers, and
 *   `doctor` names the broken path from the laptop (edns/path-mtu).
 * Every break flushes the caches that would hide it; every repair undoes it and flushes again.
 */
import { clearStubCaches, execInNode, labQuery } from './lab.js';
import { ipIn, killAllIn } from './netns.js';
import { addChain, deleteChain } from './nat.js';
import { type LabState, SOVEREIGN_BIN, authoritativeSpec, labServices, nsOf, signedZones, startService, stopProcess, writeState } from './services.js';
import { type LabServer, fqdn } from './topology.js';
import { labZones, parentZone } from './zones.js';

export const BREAK_KINDS = ['resolver-down', 'udp53-blocked', 'poisoned-cache', 'lame-delegation', 'wrong-ds', 'broken-mtu'] as const;
export type BreakKind = typeof BREAK_KINDS[number];

/** The zone whose names the faults aim at: the first leaf zone with records (example.com. by default). */
export function victimZone(state: LabState): string {
  const z = labZones(state.topology).find((x) => x.name !== '.' && x.records.length > 0);
  if (z === undefined) throw new Error('the topology has no zone with records to aim the fault at');
  return z.name;
}

/**
 * The zone poisoned-cache aims at: an unsigned one (example.net. by default), since a validating
 * resolver rejects forged answers for a signed zone (RFC 4035 §5) — the lesson of the fault.
 */
export function poisonZone(state: LabState): string {
  const signed = new Set(signedZones(state.topology).map((z) => z.name));
  return labZones(state.topology).find((x) => x.name !== '.' && x.records.length > 0 && !signed.has(x.name))?.name ?? victimZone(state);
}

/** The zone wrong-ds aims at: the first signed leaf zone with records (example.com. by default). */
export function signedVictimZone(state: LabState): string {
  const z = signedZones(state.topology).find((x) => x.name !== '.' && x.records.length > 0);
  if (z === undefined) throw new Error('no zone of the topology is signed (internet.dnssec, and Sovereign serving the zone)');
  return z.name;
}

async function flushCaches(state: LabState, nodes: string[]): Promise<void> {
  clearStubCaches(state);
  await Promise.all(nodes.map(async (node) => {
    const p = state.processes.find((x) => x.node === node);
    if (p?.config === undefined) return;
    const r = await execInNode(state, node, [process.execPath, SOVEREIGN_BIN, 'cache', 'flush', '-c', p.config]);
    if (r.status !== 0) throw new Error(`flushing the cache of ${node} failed: ${r.stderr.trim()}`);
  }));
}

/** Stops a node's process and starts it again from `spec` (new files, new PID). */
async function restart(state: LabState, spec: Parameters<typeof startService>[1]): Promise<void> {
  const i = state.processes.findIndex((p) => p.node === spec.node);
  if (i >= 0) await stopProcess(state.processes[i]!);
  const p = await startService(state, spec);
  if (i >= 0) state.processes[i] = p;
  else state.processes.push(p);
}

function specOf(state: LabState, node: string): Parameters<typeof startService>[1] {
  const s = labServices(state.topology).find((x) => x.node === node);
  if (s === undefined) throw new Error(`no service on ${node}`);
  return s;
}

function serverOfZone(state: LabState, zone: string): LabServer {
  const z = labZones(state.topology).find((x) => x.name === zone);
  if (z === undefined) throw new Error(`no lab server for ${zone}`);
  return z.server;
}

const UDP53_FORWARD = 'break_udp53_fwd';
const UDP53_OUTPUT = 'break_udp53_out';
const POISON = 'break_poison';
const MTU = 'break_mtu';
const MSS = 'break_mtu_mss';

/** Injects a fault; returns what was done. */
export async function labBreak(state: LabState, kind: BreakKind): Promise<string> {
  const t = state.topology;
  const gw = t.gateway.name;
  const gwNs = nsOf(state.prefix, gw);
  let what: string;
  switch (kind) {
    case 'resolver-down': {
      const p = state.processes.find((x) => x.node === 'isp')!;
      await stopProcess(p);
      await flushCaches(state, [gw]);
      what = `ISP resolver ${t.isp.resolver} stopped (pid ${p.pid})`;
      break;
    }
    case 'udp53-blocked':
      addChain(gwNs, UDP53_FORWARD, 'type filter hook forward priority filter; policy accept;', ['udp dport 53 counter drop']);
      addChain(gwNs, UDP53_OUTPUT, 'type filter hook output priority filter; policy accept;', ['oifname "wan" udp dport 53 counter drop']);
      await flushCaches(state, [gw]);
      what = `gateway firewall drops UDP to port 53 (chains ${UDP53_FORWARD}, ${UDP53_OUTPUT})`;
      break;
    case 'poisoned-cache': {
      const zone = poisonZone(state);
      const real = serverOfZone(state, zone);
      const attacker: LabServer = { name: 'attacker', address: t.internet.attacker, software: 'sovereign',
        zones: [{ name: zone, records: ['@ 86400 A ' + t.internet.attacker, '* 86400 A ' + t.internet.attacker] }] };
      const t2 = { ...t, internet: { ...t.internet, servers: [...t.internet.servers, attacker] } };
      const spec = authoritativeSpec(t2, attacker, { unsigned: true });
      await flushCaches(state, ['isp', gw]);
      killAllIn(nsOf(state.prefix, 'attacker'));
      const proc = await startService(state, spec);
      const ispNs = nsOf(state.prefix, 'isp');
      try {
        addChain(ispNs, POISON, 'type nat hook output priority -100; policy accept;', [`ip daddr ${real.address} udp dport 53 dnat to ${t.internet.attacker}`,
          `ip daddr ${real.address} tcp dport 53 dnat to ${t.internet.attacker}`]);
        // One lookup while the attacker answers: the forged data lands in both caches.
        const name = `www.${zone}`;
        const r = await labQuery(state, t.clients[0]!.name, name, 'A', { hosts: false, cache: false, llmnr: false, netbios: false });
        what = `${name} now answers ${r.answers.map((a) => a.data).join(', ') || r.status} from the caches of the ISP resolver and the gateway (TTL 86400)`;
      } finally {
        deleteChain(ispNs, POISON);
        await stopProcess(proc);
        clearStubCaches(state);
      }
      break;
    }
    case 'lame-delegation': {
      const zone = victimZone(state);
      const parent = parentZone(labZones(t), zone);
      const tld = serverOfZone(state, parent);
      const root = serverOfZone(state, '.');
      // The parent's NS for the zone now points at a server that is not authoritative for it.
      await restart(state, authoritativeSpec(t, tld, { delegateTo: new Map([[zone, root.address]]) }));
      await flushCaches(state, ['isp', gw]);
      what = `${fqdn(parent)} (on ${tld.name}) delegates ${zone} to ${root.address}, which is not authoritative for it`;
      break;
    }
    case 'wrong-ds': {
      const zone = signedVictimZone(state);
      const parent = serverOfZone(state, parentZone(labZones(t), zone));
      // The parent publishes a DS matching no DNSKEY of the child: a validating resolver must
      // treat the zone as bogus (RFC 4035 §5.2) and answer SERVFAIL.
      await restart(state, authoritativeSpec(t, parent, { wrongDs: new Set([zone]) }));
      await flushCaches(state, ['isp', gw]);
      what = `${parent.name} publishes a DS for ${zone} that matches none of its keys`;
      break;
    }
    case 'broken-mtu':
      ipIn(gwNs, 'link', 'set', 'wan', 'mtu', '1000');
      addChain(gwNs, MTU, 'type filter hook prerouting priority -450; policy accept;', ['ip frag-off & 0x1fff != 0 counter drop', 'ip frag-off & 0x2000 != 0 counter drop']);
      addChain(gwNs, MSS, 'type filter hook forward priority mangle; policy accept;', ['tcp flags syn tcp option maxseg size set rt mtu']);
      await flushCaches(state, ['isp', gw]);
      what = 'gateway WAN MTU 1000 (TCP MSS clamped to it), fragments dropped: UDP answers over ~970 octets are lost';
      break;
  }
  if (!state.broken.includes(kind)) state.broken.push(kind);
  writeState(state);
  return what;
}

/** Undoes a fault (quietly when it was not injected); returns what was done. */
export async function labRepair(state: LabState, kind: BreakKind): Promise<string> {
  const t = state.topology;
  const gw = t.gateway.name;
  const gwNs = nsOf(state.prefix, gw);
  let what: string;
  switch (kind) {
    case 'resolver-down':
      await restart(state, specOf(state, 'isp'));
      await flushCaches(state, [gw]);
      what = 'ISP resolver started again';
      break;
    case 'udp53-blocked':
      deleteChain(gwNs, UDP53_FORWARD);
      deleteChain(gwNs, UDP53_OUTPUT);
      await flushCaches(state, [gw]);
      what = 'gateway firewall passes UDP 53 again';
      break;
    case 'poisoned-cache':
      await flushCaches(state, ['isp', gw]);
      what = 'caches of the ISP resolver and the gateway flushed';
      break;
    case 'lame-delegation': case 'wrong-ds': {
      const parent = parentZone(labZones(t), kind === 'wrong-ds' ? signedVictimZone(state) : victimZone(state));
      await restart(state, specOf(state, serverOfZone(state, parent).name));
      await flushCaches(state, ['isp', gw]);
      what = `${fqdn(parent)} ${kind === 'wrong-ds' ? 'publishes the right DS' : 'delegates correctly'} again`;
      break;
    }
    case 'broken-mtu':
      ipIn(gwNs, 'link', 'set', 'wan', 'mtu', '1500');
      deleteChain(gwNs, MTU);
      deleteChain(gwNs, MSS);
      await flushCaches(state, ['isp', gw]);
      what = 'gateway WAN MTU 1500, fragments pass';
      break;
  }
  state.broken = state.broken.filter((k) => k !== kind);
  writeState(state);
  return what;
}
