/**
 * Layer "edns": EDNS(0) (RFC 6891) and large answers. A reply to an EDNS query must carry an OPT
 * record (or FORMERR from a pre-EDNS server, §7). A large answer with DO=1 and a 4096-byte buffer
 * must arrive over UDP, or come back truncated (TC=1) and then over TCP (RFC 7766 §5). When the
 * small queries worked, the large UDP reply times out and TCP carries the same answer, the big
 * datagram (fragmented above the path MTU) is lost on the way: the classic broken-MTU /
 * dropped-fragments symptom (DNS Flag Day 2020 recommends a 1232-byte buffer for this reason).
 */
import type { ServerAddress } from '../client/exchange.js';
import { Rcode } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import { type Finding, finding } from './report.js';
import { describe, label, probe, question } from './probe.js';

/** Above this a UDP answer needs IP fragmentation on many paths (DNS Flag Day 2020). */
export const SAFE_UDP_SIZE = 1232;

export interface EdnsOptions {
  name: Name;
  type: number;
  /** The question expected to give a large answer with DO=1. */
  large: { name: Name; type: number };
  /** False when UDP does not work at all (reach said so): only the EDNS check over TCP runs. */
  udpWorks: boolean;
  timeoutMs: number;
}

export async function examineEdns(server: ServerAddress, o: EdnsOptions): Promise<Finding[]> {
  const who = label(server);
  const out: Finding[] = [];
  const transport = o.udpWorks ? 'udp' : 'tcp';
  const e = await probe(server, o.name, o.type, { transport, edns: { udpSize: SAFE_UDP_SIZE, dnssecOk: false }, timeoutMs: o.timeoutMs });
  if (e.kind === 'reply') {
    if (e.message.edns !== undefined) {
      out.push(finding('edns', 'edns', 'ok', `EDNS(0) supported: the resolver offers a ${e.message.edns.udpSize}-byte UDP buffer`, '', who));
    } else if (e.message.rcode === Rcode.FORMERR) {
      out.push(finding('edns', 'edns', 'fail', 'FORMERR to an EDNS query: the resolver does not understand EDNS(0)',
        'upgrade the resolver or the middlebox in front of it: DNSSEC and large answers need EDNS(0) (RFC 6891)', who));
    } else {
      out.push(finding('edns', 'edns', 'warn', 'the reply to an EDNS query has no OPT record: EDNS is stripped or unsupported',
        'check for a middlebox that rewrites DNS, or upgrade the resolver (RFC 6891)', who));
    }
  }
  if (!o.udpWorks) return out;
  const q = question(o.large.name, o.large.type);
  const big = await probe(server, o.large.name, o.large.type, { transport: 'udp', edns: { udpSize: 4096, dnssecOk: true }, timeoutMs: o.timeoutMs });
  if (big.kind === 'reply' && !big.message.tc) {
    const note = big.size > SAFE_UDP_SIZE ? '' : ` (not above ${SAFE_UDP_SIZE} bytes, so the fragmentation path was not exercised; pass --large NAME/TYPE with a bigger answer)`;
    out.push(finding('edns', 'large-udp', 'ok', `${q} with DO=1: ${big.size} bytes arrived over UDP${note}`, '', who));
    return out;
  }
  const tcp = await probe(server, o.large.name, o.large.type, { transport: 'tcp', edns: { udpSize: 4096, dnssecOk: true }, timeoutMs: o.timeoutMs });
  if (big.kind === 'reply') {
    if (tcp.kind === 'reply') out.push(finding('edns', 'tc-fallback', 'ok', `${q}: TC=1 over UDP, then ${tcp.size} bytes over TCP`, '', who));
    else {
      out.push(finding('edns', 'tc-fallback', 'fail', `${q}: TC=1 over UDP, and the TCP retry fails (${tcp.why})`,
        'allow TCP port 53 to the resolver: truncated answers can only be fetched over TCP (RFC 7766)', who));
    }
    return out;
  }
  if (tcp.kind === 'reply') {
    const small = await probe(server, o.large.name, o.large.type, { transport: 'udp', edns: { udpSize: 512, dnssecOk: true }, timeoutMs: o.timeoutMs });
    out.push(finding('edns', 'mtu', 'fail',
      `${q} with DO=1: the ${tcp.size}-byte answer over UDP is lost (${big.why}) while TCP carries it and small UDP answers arrive` +
      ` (with a 512-byte buffer: ${describe(small)}): large or fragmented UDP datagrams are dropped on the way (MTU / fragment filtering)`,
      `fix the path MTU or the firewall dropping IP fragments, or cap the EDNS buffer at ${SAFE_UDP_SIZE} bytes (Unbound edns-buffer-size, BIND max-udp-size) so large answers fall back to TCP`, who));
  } else {
    out.push(finding('edns', 'large-udp', 'warn', `${q}: no answer over UDP (${big.why}) or TCP (${tcp.why})`,
      'pass --large NAME/TYPE with a name that has a large answer', who));
  }
  return out;
}
