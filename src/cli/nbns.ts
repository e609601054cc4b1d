/**
 * `sovereign nbns NAME[#SUFFIX]` and `sovereign nbns -A ADDRESS`: NetBIOS name service lookups
 * (RFC 1001/1002, legacy, IPv4 only) printed as Samba's nmblookup prints them. Exit 0 when found,
 * 1 when nothing answered, 2 for a usage error.
 */
import { nodeStatus, queryName } from '../netbios/client.js';
import { NameFlag } from '../netbios/packet.js';
import { type Command, type CommandIO, stdio } from './command.js';

const USAGE = `usage: sovereign nbns [-B BROADCAST | -U ADDRESS] [-T SECONDS] NAME[#SUFFIX]
       sovereign nbns -A ADDRESS
NetBIOS name service (RFC 1001/1002; legacy, IPv4 only), like Samba's nmblookup:
  NAME[#SUFFIX]   the name to query; SUFFIX in hex (default 00), e.g. FILESERVER#20
  -B BROADCAST    broadcast address to send to (default 255.255.255.255)
  -U ADDRESS      ask one node (unicast) instead of broadcasting
  -A ADDRESS      node status: the name table of the node at ADDRESS
  -T SECONDS      how long to wait for answers (default 2)
`;

interface NbnsArgs {
  name: string | undefined;
  suffix: number;
  status: string | undefined;
  to: string | undefined;
  unicast: boolean;
  timeoutMs: number;
}

export function parseNbnsArgs(argv: string[]): NbnsArgs {
  const a: NbnsArgs = { name: undefined, suffix: 0x00, status: undefined, to: undefined, unicast: false, timeoutMs: 2000 };
  const ipv4 = (v: string | undefined, flag: string): string => {
    if (v === undefined || !/^\d{1,3}(\.\d{1,3}){3}$/.test(v)) throw new Error(`${flag} needs an IPv4 address`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === '-A') a.status = ipv4(argv[++i], '-A');
    else if (x === '-B') a.to = ipv4(argv[++i], '-B');
    else if (x === '-U') { a.to = ipv4(argv[++i], '-U'); a.unicast = true; }
    else if (x === '-T') {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0 || v > 60) throw new Error('-T needs seconds from 0 to 60');
      a.timeoutMs = Math.round(v * 1000);
    } else if (x.startsWith('-')) throw new Error(`unknown option ${x} (see \`sovereign nbns --help\`)`);
    else if (a.name === undefined) {
      const [n, s] = x.split('#');
      if (n === undefined || n === '' || n.length > 15) throw new Error(`"${x}" is not a NetBIOS name of 1 to 15 characters`);
      a.name = n;
      if (s !== undefined) {
        if (!/^[0-9a-fA-F]{1,2}$/.test(s)) throw new Error(`suffix "${s}" is not one hex octet`);
        a.suffix = parseInt(s, 16);
      }
    } else throw new Error(`extra argument ${x}`);
  }
  if (a.status === undefined && a.name === undefined) throw new Error('a NAME or -A ADDRESS is needed (see `sovereign nbns --help`)');
  return a;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

export async function runNbns(a: NbnsArgs, io: CommandIO = stdio): Promise<number> {
  if (a.status !== undefined) {
    // nmblookup -A's layout: one line per name, then the MAC address.
    io.out(`Looking up status of ${a.status}\n`);
    const st = await nodeStatus(a.status, { timeoutMs: a.timeoutMs });
    if (st === undefined) {
      io.out(`No reply from ${a.status}\n\n`);
      return 1;
    }
    for (const e of st.names) {
      const group = (e.flags & NameFlag.GROUP) !== 0 ? '<GROUP>' : '       ';
      const ont = 'BPMH'[(e.flags >> 13) & 3];
      const states = [(e.flags & NameFlag.DRG) !== 0 ? '<DEREGISTERING>' : '', (e.flags & NameFlag.CNF) !== 0 ? '<CONFLICT>' : '',
        (e.flags & NameFlag.ACTIVE) !== 0 ? '<ACTIVE>' : '', (e.flags & NameFlag.PERMANENT) !== 0 ? '<PERMANENT>' : ''].join(' ').replace(/ +/g, ' ').trim();
      io.out(`\t${e.name.padEnd(15)} <${hex2(e.suffix)}> - ${group} ${ont} ${states} \n`);
    }
    io.out(`\n\tMAC Address = ${[...st.mac].map((b) => hex2(b).toUpperCase()).join('-')}\n\n`);
    return 0;
  }
  const name = a.name!;
  io.out(`querying ${name} on ${a.to ?? '255.255.255.255'}\n`);
  const answers = await queryName({ name, suffix: a.suffix, scope: '' }, { to: a.to, unicast: a.unicast, timeoutMs: a.timeoutMs });
  // One line per address, however many sockets of the node answered (nmbd answers a broadcast on two).
  const seen = new Set<string>();
  for (const ans of answers) for (const addr of ans.addresses) seen.add(addr.address);
  for (const address of seen) io.out(`${address} ${name}<${hex2(a.suffix)}>\n`);
  const found = seen.size;
  if (found === 0) {
    io.out(`name_query failed to find name ${name}${a.suffix !== 0 ? `#${hex2(a.suffix)}` : ''}\n`);
    return 1;
  }
  return 0;
}

export const command: Command = {
  summary: 'NetBIOS name lookups and node status (legacy; like nmblookup)',
  usage: USAGE,
  async run(args) {
    let a: NbnsArgs;
    try {
      a = parseNbnsArgs(args);
    } catch (e) {
      process.stderr.write(`sovereign nbns: ${(e as Error).message}\n`);
      return 2;
    }
    return runNbns(a);
  },
};
