/**
 * dig +nssearch (BIND 9.18): the zone's NS set from the @server (or the default server), each
 * name server's addresses, then a non-recursive SOA query to every address, printed one line per
 * server as dig's short form with +identify prints it:
 *   SOA <mname> <rname> <serial> <refresh> <retry> <expire> <minimum> from server <addr> in <N> ms.
 * A server that cannot be reached gets dig's `;; communications error to ADDR#PORT: why` line;
 * a reply without an SOA in its answer (REFUSED, NXDOMAIN, a referral) prints nothing, as dig.
 */
import { type ServerAddress, randomId } from '../client/exchange.js';
import { Message } from '../wire/message.js';
import { Name } from '../wire/name.js';
import { type NSData, RRType } from '../wire/types.js';
import type { DigLookup, DigOptions } from './dig-args.js';
import { digRData } from './dig-format.js';
import { type DigIO, EXIT_NO_REPLY, EXIT_OK, sendWithRetries } from './dig-query.js';

/** One query of `type` for `name`, built as dig builds its +nssearch queries (no EDNS options of ours). */
function nsQuery(name: Name, type: number, recurse: boolean, cls: number): Message {
  const q = Message.query(name, type, { rd: recurse, class: cls });
  q.id = randomId();
  return q;
}

/**
 * Runs +nssearch for lookup `l`; `header` is the banner dig prints before `;; no servers could be
 * reached` when the first server does not answer. Returns dig's exit code.
 */
export async function runNssearch(l: DigLookup, o: DigOptions, server: ServerAddress, serverName: string, io: DigIO,
  header: () => string[]): Promise<number> {
  const zone = Name.fromText(l.name.endsWith('.') ? l.name : l.name + '.');
  const reply = await sendWithRetries(nsQuery(zone, RRType.NS, o.recurse, l.class), server, serverName, o, io, l.name);
  if (reply === undefined) {
    io.out([...header(), ';; no servers could be reached'].map((x) => x + '\n').join(''));
    return EXIT_NO_REPLY;
  }
  const hosts: Name[] = [];
  for (const rr of reply.message.answer) {
    if (rr.type === RRType.NS && rr.name.equals(zone)) hosts.push((rr.data as NSData).nsdname);
  }
  // dig looks the name servers' addresses up with the system resolver (resolv.conf). We ask the
  // same @server for their A (and, unless -4, AAAA) records instead: the answer is the same for
  // in-zone name servers, and we never read or depend on the host's /etc/resolv.conf here.
  const addresses: string[] = [];
  const types = o.family === 4 ? [RRType.A] : o.family === 6 ? [RRType.AAAA] : [RRType.A, RRType.AAAA];
  for (const host of hosts) {
    for (const type of types) {
      const r = await sendWithRetries(nsQuery(host, type, true, l.class), server, serverName, o, io, host.toString());
      if (r === undefined) continue;
      for (const rr of r.message.answer) {
        if (rr.type !== type) continue;
        const a = digRData(rr.type, rr.data);
        if (!addresses.includes(a)) addresses.push(a);
      }
    }
  }
  // dig sends these without RD (the SOA must come from the server itself) and in parallel; the
  // lines come in the order the replies arrive.
  let answered = 0;
  await Promise.all(addresses.map(async (address) => {
    const target = { address, port: server.port };
    const r = await sendWithRetries(nsQuery(zone, RRType.SOA, false, l.class), target, address, o, io, l.name);
    if (r === undefined) return;
    answered++;
    const ms = Math.round(r.rttMs);
    for (const rr of r.message.answer) {
      if (rr.type !== RRType.SOA) continue;
      io.out(`SOA ${digRData(rr.type, rr.data)} from server ${address} in ${o.display.usec ? `${Math.round(r.rttMs * 1000)} us` : `${ms} ms`}.\n`);
    }
  }));
  // dighost.c nssearch_next(): not one server replied (any RCODE counts as a reply).
  if (addresses.length > 0 && answered === 0) {
    io.out(';; NS servers could not be reached\n');
    return EXIT_NO_REPLY;
  }
  return EXIT_OK;
}
