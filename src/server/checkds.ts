/**
 * BIND's checkds against `parentalAgents`: each agent is asked for the zone's DS RRset (RD=1, so
 * a parental agent may be the parent's authoritative server or a resolver), and a KSK counts as
 * published when every agent's DS RRset has a DS matching it (key tag, algorithm and digest), and
 * as withdrawn when no agent's has one (RFC 7344 §4.1, RFC 7583 §3.3.2: the KSK roll goes on only
 * when the parent's DS RRset is what the child asked for). An agent that does not answer, or
 * answers with an error, counts as not seen either way: the roll waits rather than guesses.
 */
import { exchange, type ServerAddress } from '../client/exchange.js';
import { dnskeyRdata } from '../dnssec/signer/cds.js';
import { dsDigest } from '../dnssec/digest.js';
import type { DnssecKey } from '../dnssec/key-file.js';
import { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import { RRType, type DSData } from '../wire/types.js';

export interface CheckDsResult {
  published: number[];
  withdrawn: number[];
  problems: string[];
}

const TIMEOUT_MS = 2000;

function matches(origin: Name, key: DnssecKey, ds: DSData): boolean {
  if (ds.keyTag !== key.keyTag || ds.algorithm !== key.algorithm) return false;
  try {
    return Buffer.compare(Buffer.from(dsDigest(origin, dnskeyRdata(key), ds.digestType)), Buffer.from(ds.digest)) === 0;
  } catch {
    return false; // a digest type we cannot compute says nothing about this key
  }
}

/** Asks every agent (see the module comment). */
export async function checkDs(origin: Name, agents: readonly ServerAddress[],
  pending: { published: readonly DnssecKey[]; withdrawn: readonly DnssecKey[] }): Promise<CheckDsResult> {
  const problems: string[] = [];
  const sets = await Promise.all(agents.map(async (agent): Promise<DSData[] | undefined> => {
    try {
      const q = Message.query(origin, RRType.DS);
      q.rd = true;
      const { message } = await exchange(q, agent, { timeoutMs: TIMEOUT_MS, tries: 2 });
      // NOERROR with or without DS records (NODATA: none at the parent) is an answer; anything else is not.
      if (message.rcode !== 0) {
        problems.push(`${agent.address}#${agent.port}: rcode ${message.rcode}`);
        return undefined;
      }
      return message.answer.filter((rr) => rr.type === RRType.DS && rr.name.equals(origin)).map((rr) => rr.data as DSData);
    } catch (err) {
      problems.push(`${agent.address}#${agent.port}: ${(err as Error).message}`);
      return undefined;
    }
  }));
  const answered = sets.every((s) => s !== undefined);
  const out: CheckDsResult = { published: [], withdrawn: [], problems };
  if (!answered || sets.length === 0) return out;
  for (const k of pending.published) if (sets.every((s) => s!.some((ds) => matches(origin, k, ds)))) out.published.push(k.keyTag);
  for (const k of pending.withdrawn) if (sets.every((s) => !s!.some((ds) => matches(origin, k, ds)))) out.withdrawn.push(k.keyTag);
  return out;
}
