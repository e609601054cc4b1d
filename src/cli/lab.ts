/**
 * `sovereign lab up|down|status|query|trace|break|repair|exec`: a small Internet in network
 * namespaces (src/lab). Options are parsed apart from running; everything else is in src/lab.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BREAK_KINDS, type BreakKind, labBreak, labRepair } from '../lab/break.js';
import { DEFAULT_PREFIX, execInNode, labDown, labQuery, labStatus, labUp, requireState } from '../lab/lab.js';
import { labPrerequisites } from '../lab/netns.js';
import { type ProbeRequest, runProbe } from '../lab/probe.js';
import { renderStub, renderTraceSvg, renderTraceText } from '../lab/render.js';
import { loadTopology } from '../lab/topology.js';
import { labTrace } from '../lab/trace.js';
import { type Command, EXIT_FAILED, EXIT_PARSE, stdio } from './command.js';

const USAGE = `usage: sovereign lab COMMAND [options]   (root; iproute2, nftables, conntrack)
  up [--topology FILE]            build the lab (namespaces, NAT, servers) and time the first answer
  down                            remove everything (also a crashed lab's leftovers)
  status [--json]                 namespaces, processes, injected faults
  query CLIENT NAME [TYPE]        look NAME up from CLIENT: hosts file, stub cache, DNS (the gateway),
        [--no-hosts] [--no-cache] [--no-dns] [--no-llmnr] [--no-netbios] [--json]
                                  then LLMNR and NetBIOS for single-label names
  trace CLIENT NAME [TYPE] [--json] [--svg FILE] [--cold]
                                  the whole path: NAT (conntrack before/after, a port collision),
                                  the resolver's own trace of its upstream queries (root -> TLD ->
                                  authoritative), the cache; --cold flushes the resolver's cache first
  break KIND | repair KIND        inject / remove a fault: ${BREAK_KINDS.join(', ')}
  exec NODE -- CMD [ARGS...]      run a command in a lab node's namespace
options for every command:
  --prefix P                      namespace name prefix (default ${DEFAULT_PREFIX}); several labs can coexist
`;

const options = {
  prefix: { type: 'string' }, topology: { type: 'string' }, json: { type: 'boolean' }, svg: { type: 'string' }, cold: { type: 'boolean' },
  'no-hosts': { type: 'boolean' }, 'no-cache': { type: 'boolean' }, 'no-dns': { type: 'boolean' },
  'no-llmnr': { type: 'boolean' }, 'no-netbios': { type: 'boolean' },
} as const;

export interface LabArgs {
  action: string;
  positionals: string[];
  prefix: string;
  values: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];
  rest: string[];
}

export function parseLabArgs(argv: string[]): LabArgs {
  const dd = argv.indexOf('--');
  const head = dd < 0 ? argv : argv.slice(0, dd);
  const rest = dd < 0 ? [] : argv.slice(dd + 1);
  const { values, positionals } = parseArgs({ args: head, options, allowPositionals: true, strict: true });
  const [action, ...pos] = positionals;
  if (action === undefined) throw new Error('a command is needed (see `sovereign lab --help`)');
  const need = (n: number, what: string): void => {
    if (pos.length < n) throw new Error(`lab ${action} needs ${what}`);
  };
  switch (action) {
    case 'up': case 'down': case 'status': break;
    case 'probe': need(1, 'a JSON request'); break;
    case 'query': case 'trace': need(2, 'CLIENT NAME'); break;
    case 'break': case 'repair':
      need(1, `a KIND (${BREAK_KINDS.join(', ')})`);
      if (!(BREAK_KINDS as readonly string[]).includes(pos[0]!)) throw new Error(`unknown fault "${pos[0]}" (${BREAK_KINDS.join(', ')})`);
      break;
    case 'exec':
      need(1, 'a NODE');
      if (rest.length === 0) throw new Error('lab exec needs a command after --');
      break;
    default: throw new Error(`unknown lab command "${action}" (see \`sovereign lab --help\`)`);
  }
  return { action, positionals: pos, prefix: values.prefix ?? DEFAULT_PREFIX, values, rest };
}

async function runLab(a: LabArgs): Promise<number> {
  const io = stdio;
  const json = a.values.json === true;
  switch (a.action) {
    case 'probe':
      io.out(JSON.stringify(await runProbe(JSON.parse(a.positionals[0]!) as ProbeRequest)) + '\n');
      return 0;
    case 'up': {
      const r = await labUp(loadTopology(a.values.topology), a.prefix);
      const ok = r.firstAnswer.source === 'dns';
      io.out(`lab up (${a.prefix}*): ${r.state.processes.map((p) => `${p.node}=${p.software}`).join(' ')}\n`);
      io.out(`first answer ${ok ? 'after' : 'NOT received within'} ${(r.firstAnswerMs / 1000).toFixed(2)} s: ${r.firstAnswer.answers.map((x) => `${x.name} ${x.ttl} ${x.type} ${x.data}`).join(', ') || r.firstAnswer.status}\n`);
      return ok ? 0 : EXIT_FAILED;
    }
    case 'down': {
      const r = await labDown(a.prefix);
      io.out(`lab down: ${r.stopped} process(es) stopped, ${r.namespaces} namespace(s) removed\n`);
      return 0;
    }
    case 'status': {
      const s = labStatus(a.prefix);
      if (json) io.out(JSON.stringify(s, null, 2) + '\n');
      else {
        io.out(`lab ${a.prefix}*: ${s.up ? 'up' : s.namespaces.length > 0 ? 'partly up (leftovers: run lab down)' : 'down'}\n`);
        for (const p of s.processes) io.out(`  ${p.node.padEnd(10)} ${p.software.padEnd(10)} pid ${p.pid} ${p.alive ? 'running' : 'NOT running'}\n`);
        if (s.broken.length > 0) io.out(`  faults: ${s.broken.join(', ')}\n`);
      }
      return s.up ? 0 : EXIT_FAILED;
    }
    case 'query': {
      const [client, name, type] = a.positionals;
      const v = a.values;
      const r = await labQuery(requireState(a.prefix), client!, name!, type ?? 'A', {
        hosts: v['no-hosts'] !== true, cache: v['no-cache'] !== true, dns: v['no-dns'] !== true, llmnr: v['no-llmnr'] !== true, netbios: v['no-netbios'] !== true,
      });
      io.out(json ? JSON.stringify(r, null, 2) + '\n' : renderStub(r));
      return r.answers.length > 0 ? 0 : EXIT_FAILED;
    }
    case 'trace': {
      const [client, name, type] = a.positionals;
      const tr = await labTrace(requireState(a.prefix), client!, name!, type ?? 'A', { cold: a.values.cold === true });
      if (a.values.svg !== undefined) writeFileSync(a.values.svg, renderTraceSvg(tr));
      io.out(json ? JSON.stringify(tr, null, 2) + '\n' : renderTraceText(tr));
      return 0;
    }
    case 'break': case 'repair': {
      const kind = a.positionals[0] as BreakKind;
      const state = requireState(a.prefix);
      const what = a.action === 'break' ? await labBreak(state, kind) : await labRepair(state, kind);
      io.out(`lab ${a.action} ${kind}: ${what}\n`);
      return 0;
    }
    case 'exec': {
      const r = await execInNode(requireState(a.prefix), a.positionals[0]!, a.rest, 24 * 3600_000, true);
      return r.status ?? EXIT_FAILED;
    }
  }
  return EXIT_PARSE;
}

export const command: Command = {
  summary: 'a private Internet in network namespaces: NAT, resolver, root, TLDs; trace, break, repair',
  usage: USAGE,
  async run(argv) {
    let args: LabArgs;
    try {
      args = parseLabArgs(argv);
    } catch (e) {
      stdio.err(`sovereign lab: ${(e as Error).message}\n`);
      return EXIT_PARSE;
    }
    // Everything but the in-namespace probe needs root and the tools: say so before trying.
    const why = args.action === 'probe' ? undefined : labPrerequisites();
    if (why !== undefined) {
      stdio.err(`sovereign lab: ${why}\n`);
      return EXIT_FAILED;
    }
    try {
      return await runLab(args);
    } catch (e) {
      stdio.err(`sovereign lab: ${(e as Error).message}\n`);
      return EXIT_FAILED;
    }
  },
};
