/**
 * Layer "reach": can this host talk to each resolver, over UDP and over TCP (RFC 7766 §5: TCP is
 * not optional), does it answer, and does it recurse for us. The outcomes kept apart, because each
 * points at a different layer: a timeout (packets lost: a firewall, nothing routed), "connection
 * refused" (ICMP port unreachable / TCP RST: nothing listens), REFUSED (a server that will not
 * serve us: ACL or not a resolver), SERVFAIL (it tried and failed upstream), RA=0 (RFC 1035 §4.1.1:
 * recursion not available).
 */
import type { ServerAddress } from '../client/exchange.js';
import { Rcode } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import { type Finding, finding } from './report.js';
import { type ProbeResult, describe, label, probe, question } from './probe.js';

export interface ReachResult {
  findings: Finding[];
  /** True when the resolver answered over UDP or TCP and recurses: the later layers may ask it. */
  usable: boolean;
  /** Which transport later probes should use (TCP when only TCP works). */
  transport: 'udp' | 'tcp';
  udp: ProbeResult;
  tcp: ProbeResult;
}

/** Probes one resolver with `name`/`type` over UDP and TCP. */
export async function examineReach(server: ServerAddress, name: Name, type: number, timeoutMs: number): Promise<ReachResult> {
  const who = label(server);
  const q = question(name, type);
  const [udp, tcp] = await Promise.all([
    probe(server, name, type, { transport: 'udp', timeoutMs }),
    probe(server, name, type, { transport: 'tcp', timeoutMs }),
  ]);
  const findings: Finding[] = [];
  const udpOk = udp.kind === 'reply';
  const tcpOk = tcp.kind === 'reply';
  if (!udpOk && !tcpOk) {
    const why = `${udp.why} ${tcp.why}`;
    // ICMP port unreachable / TCP RST: the host is there, no DNS server is; no route: our side.
    const fix = why.includes('connection refused') ? 'nothing listens on port 53 there: start the resolver, or point resolv.conf at one that runs'
      : /ENETUNREACH|EHOSTUNREACH|EADDRNOTAVAIL/.test(why) ? 'this host has no route to the resolver: check the network link, the default route and the address in resolv.conf'
        : 'packets to it are lost: check that the resolver runs and that no firewall drops port 53 on the way';
    findings.push(finding('reach', 'resolver-down', 'fail', `no answer over UDP (${udp.why}) or TCP (${tcp.why})`, fix, who));
    return { findings, usable: false, transport: 'udp', udp, tcp };
  }
  if (udpOk) findings.push(finding('reach', 'udp', 'ok', `UDP: ${q} -> ${describe(udp)}`, '', who));
  else {
    findings.push(finding('reach', 'udp', 'fail', `UDP to port 53 fails (${udp.why}) while TCP answers (${describe(tcp)})`,
      'a firewall or the resolver blocks UDP port 53: allow UDP 53 both ways (replies come back from port 53)', who));
  }
  if (tcpOk) findings.push(finding('reach', 'tcp', 'ok', `TCP: ${q} -> ${describe(tcp)}`, '', who));
  else {
    findings.push(finding('reach', 'tcp', 'warn', `TCP to port 53 fails (${tcp.why}) while UDP answers`,
      'allow TCP port 53 too: large and truncated answers need it (RFC 7766)', who));
  }
  const reply = udp.kind === 'reply' ? udp.message : (tcp as Extract<ProbeResult, { kind: 'reply' }>).message;
  const transport = udpOk ? 'udp' : 'tcp';
  let usable = true;
  if (reply.rcode === Rcode.REFUSED) {
    findings.push(finding('reach', 'recursion', 'fail', `the server answers REFUSED${reply.ra ? '' : ' with RA=0'}: it will not resolve ${name.toString()} for this host`,
      'use a recursive resolver that allows this host (check its access control, e.g. allow-recursion / access-control)', who));
    usable = false;
  } else if (!reply.ra && !reply.aa) {
    findings.push(finding('reach', 'recursion', 'fail', `RA=0: the server does not offer recursion (${describe(udp.kind === 'reply' ? udp : tcp)})`,
      'point the host at a recursive resolver; this one is an authoritative server or refuses recursion to this client', who));
    usable = false;
  } else if (!reply.ra) {
    findings.push(finding('reach', 'recursion', 'fail', 'RA=0 and AA=1: this is an authoritative server, not a resolver; it only knows its own zones',
      'point the host at a recursive resolver', who));
    usable = false;
  } else {
    findings.push(finding('reach', 'recursion', 'ok', 'RA=1: recursion available', '', who));
  }
  if (usable && reply.rcode === Rcode.SERVFAIL) {
    findings.push(finding('reach', 'answer', 'fail', `SERVFAIL for ${q}: the resolver could not resolve it`,
      'see the DNSSEC, clock and delegation findings below for why; a validating resolver answers SERVFAIL for bogus data', who));
  } else if (usable && reply.rcode === Rcode.NXDOMAIN) {
    findings.push(finding('reach', 'answer', 'warn', `NXDOMAIN for ${q}: the resolver says the name does not exist`,
      'check the spelling, and compare with the answer from the root below', who));
  }
  return { findings, usable, transport, udp, tcp };
}
