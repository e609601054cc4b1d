/**
 * Root priming (RFC 8109): the hints (`root-hints.ts`) go into the cache at GLUE rank, then the
 * hinted servers are asked for the root NS set, whose authoritative answer (and the addresses in
 * its additional section) replaces them.
 *
 * Invariants: one priming at a time, shared by every caller that needs the root meanwhile
 * (RFC 8109 §3: no storm of priming queries); a primed root (NS cached above GLUE rank) is not
 * primed again until it leaves the cache; the hints can be swapped on reload.
 */
import { ResolutionError } from '../errors.js';
import { EdeCode } from '../wire/constants.js';
import { Name } from '../wire/name.js';
import { RRClass, RRType } from '../wire/types.js';
import { Credibility, type RRCache } from './cache.js';
import { cacheAnswerExtras, cacheFinal, cacheHints } from './cache-policy.js';
import type { RootHints } from './root-hints.js';
import type { Reply, Request, ZoneCut } from './server-choice.js';

/** Sends one query to a cut's servers (the server choice's `ask`, bound by the resolver). */
export type AskFn = (cut: ZoneCut, qn: Name, qt: number, qclass: number, req: Request) => Promise<Reply>;

export class RootPrimer {
  private running: Promise<void> | undefined = undefined;

  constructor(
    private readonly cache: RRCache,
    /** Replaced on reload; the next priming uses the new hints. */
    public hints: RootHints,
    private readonly ipv6: boolean,
    private readonly ask: AskFn,
  ) {}

  /** The hints as a cut, put in the cache at GLUE rank first (their addresses are its glue). */
  hintsCut(): ZoneCut {
    cacheHints(this.cache, this.hints, this.ipv6);
    return { zone: Name.ROOT, ns: [...this.hints.ns] };
  }

  /** Primes unless the root NS set is already cached above GLUE rank; concurrent callers share it. */
  ensure(req: Request): Promise<void> {
    if (this.cache.peek(Name.ROOT, RRType.NS, RRClass.IN, Credibility.AUTH_AUTHORITY) !== undefined) return Promise.resolve();
    if (this.running !== undefined) return this.running;
    const run = async (): Promise<void> => {
      const reply = await this.ask(this.hintsCut(), Name.ROOT, RRType.NS, RRClass.IN, req);
      if (reply.c.kind !== 'answer') throw new ResolutionError('root priming got no NS answer', EdeCode.NO_REACHABLE_AUTHORITY);
      cacheFinal(this.cache, reply.c, reply.aa);
      cacheAnswerExtras(this.cache, reply.message, Name.ROOT, Name.ROOT);
    };
    this.running = run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
