/**
 * Text and SVG views of the lab's results: a stub lookup (the sources tried in order), and a
 * trace (the seed's story line by line; an SVG sequence diagram with one lifeline per node).
 */
import type { StubResult } from './stub.js';
import { type LabTraceResult, type NatMapping, hopLabel } from './trace.js';

export function renderStub(r: StubResult): string {
  const lines = [`;; ${r.name} ${r.type}: ${r.source === 'none' ? `not found (${r.status})` : `from ${r.source}`}`];
  for (const s of r.steps) lines.push(`;;   ${s.source.padEnd(8)} ${s.outcome} (${s.ms} ms)`);
  for (const a of r.answers) lines.push(`${a.name}\t${a.ttl}\tIN\t${a.type}\t${a.data}`);
  return lines.join('\n') + '\n';
}

function natLine(m: NatMapping): string {
  const pub = m.public === undefined ? 'no conntrack entry' : `${m.public.address}:${m.public.port}`;
  const kept = m.public !== undefined && m.public.port === m.original.port ? ' (port preserved)' : m.public !== undefined ? ' (port rewritten)' : '';
  return `${m.client} ${m.original.address}:${m.original.port} -> ${pub}${kept}`;
}

export function renderTraceText(tr: LabTraceResult): string {
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  const out = [`;; lab trace ${tr.name} ${tr.type} from ${tr.client}, resolver ${tr.resolver}`];
  out.push('1. stub -> gateway: the query leaves the LAN');
  out.push(`2. gateway NAT (masquerade to ${tr.gatewayPublic}); conntrack before: ${tr.conntrackBefore.length} DNS flow(s), after: ${tr.conntrackAfter.length}`);
  out.push(`     ${natLine(tr.mapping)}`);
  if (tr.mapping.entry !== undefined) out.push(`     ${tr.mapping.entry}`);
  if (tr.collision !== undefined) {
    out.push(`     same source port from another client: ${natLine(tr.collision)}`);
    if (tr.collision.entry !== undefined) out.push(`     ${tr.collision.entry}`);
  }
  out.push(`3. resolver cache before: ${tr.cacheBefore.length === 0 ? 'nothing for the name (miss)' : ''}`);
  for (const l of tr.cacheBefore) out.push(`     ${l}`);
  out.push(`4. resolver's upstream queries (its conntrack): ${tr.resolverFlows.map((f) => `${f.node} ${f.server}`).join(', ') || 'none (answered from cache)'}`);
  out.push(`5. what the resolver did (its own trace): ${tr.hops.length} upstream quer${tr.hops.length === 1 ? 'y' : 'ies'}`);
  for (const h of tr.hops) {
    const sent = `${h.qname} ${h.qtype}${h.udpSize === 0 ? '' : ` EDNS ${h.udpSize}${h.dnssecOk ? ' DO' : ''}`}`;
    out.push(`     +${String(h.atMs).padStart(4)} ms ${h.node.padEnd(9)} ${h.server.padEnd(15)} zone ${h.zone.padEnd(14)} ${sent.padEnd(34)} -> ${hopLabel(h)} in ${ms(h.rttMs)}`);
    for (const r of h.records ?? []) out.push(`         ${r.replace(/\t/g, ' ')}`);
  }
  out.push(`6. back through the NAT to the client: ${tr.first.status} in ${ms(tr.first.rttMs)}`);
  for (const a of tr.first.answers) out.push(`     ${a}`);
  out.push('   resolver cache after:');
  for (const l of tr.cacheAfter) out.push(`     ${l}`);
  out.push(`7. second query: ${tr.cacheHit ? 'answered from the resolver cache' : 'NOT a cache hit'} (${tr.secondUpstreamFlows} upstream queries) in ${ms(tr.second.rttMs)}, TTL ${tr.second.ttl ?? '-'}`);
  return out.join('\n') + '\n';
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A sequence diagram: lifelines left to right in order of appearance, one arrow per step. */
export function renderTraceSvg(tr: LabTraceResult): string {
  const actors: string[] = [];
  for (const s of tr.steps) for (const a of [s.from, s.to]) if (!actors.includes(a)) actors.push(a);
  const colW = 170;
  const rowH = 34;
  const top = 60;
  const width = colW * actors.length + 40;
  const height = top + rowH * (tr.steps.length + 1) + 20;
  const x = (a: string): number => 20 + colW * actors.indexOf(a) + colW / 2;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="11">`,
    '<defs><marker id="arr" markerWidth="8" markerHeight="8" refX="8" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs>',
    `<text x="20" y="18" font-size="13">${esc(`lab trace ${tr.name} ${tr.type} from ${tr.client}`)}</text>`,
  ];
  for (const a of actors) {
    parts.push(`<rect x="${x(a) - 60}" y="28" width="120" height="22" fill="#eef" stroke="#335"/>`,
      `<text x="${x(a)}" y="43" text-anchor="middle">${esc(a)}</text>`,
      `<line x1="${x(a)}" y1="50" x2="${x(a)}" y2="${height - 10}" stroke="#aaa" stroke-dasharray="4 3"/>`);
  }
  tr.steps.forEach((s, i) => {
    const y = top + rowH * (i + 1);
    const label = s.ms === undefined ? s.label : `${s.label} [${s.ms.toFixed(1)} ms]`;
    if (s.from === s.to) {
      parts.push(`<text x="${x(s.from) + 6}" y="${y}">${esc(label)}</text>`);
      return;
    }
    parts.push(`<line x1="${x(s.from)}" y1="${y}" x2="${x(s.to)}" y2="${y}" stroke="#226" marker-end="url(#arr)"/>`,
      `<text x="${(x(s.from) + x(s.to)) / 2}" y="${y - 5}" text-anchor="middle">${esc(label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
