/**
 * The replies the forwarder and resolver elements build alike (one copy for both): an answer with
 * RA set and an optional Extended DNS Error, and the SERVFAIL for a failed resolution, whose EDE
 * comes from the ResolutionError (RFC 8914).
 */
import { ResolutionError } from '../errors.js';
import { type QueryContext, replyTo } from '../server/query-context.js';
import { EdeCode, Rcode } from '../wire/constants.js';
import { option } from '../wire/edns.js';
import type { Message } from '../wire/message.js';
import type { ResourceRecord } from '../wire/record.js';

/** What a recursive answer carries (a Resolution or a ForwardResult). */
export interface RecursiveAnswer {
  rcode: number;
  answer: readonly ResourceRecord[];
  authority: readonly ResourceRecord[];
  ede?: { code: number; text: string } | undefined;
}

/** The reply for an answer: RA set (RFC 1035 §4.1.1: recursion is offered to this client), EDE when given. */
export function answerReply(ctx: QueryContext, r: RecursiveAnswer, maxUdpSize: number): Message {
  const reply = replyTo(ctx.request, r.rcode, maxUdpSize);
  reply.ra = true;
  reply.answer = r.answer as Message['answer'];
  reply.authority = r.authority as Message['authority'];
  if (r.ede !== undefined && reply.edns !== undefined) reply.edns.options.push(option.extendedError(r.ede.code, r.ede.text));
  return reply;
}

/**
 * SERVFAIL with the EDE of a ResolutionError. Anything else is a bug: rethrown, so the outermost
 * guard logs it once and answers SERVFAIL itself.
 */
export function failureReply(ctx: QueryContext, err: unknown, maxUdpSize: number): Message {
  if (!(err instanceof ResolutionError)) throw err;
  const reply = replyTo(ctx.request, Rcode.SERVFAIL, maxUdpSize);
  reply.ra = true;
  reply.edns?.options.push(option.extendedError(err.ede ?? EdeCode.OTHER, err.message.slice(0, 200)));
  return reply;
}
