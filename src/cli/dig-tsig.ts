/**
 * TSIG for `sovereign dig` (-y and -k): signs each query (RFC 8945 §5.1) and checks the reply
 * (§5.3), or every message of an AXFR/IXFR (§5.3.1), with dig 9.18's wording for failures.
 */
import { readFileSync } from 'node:fs';
import { type TsigKey, makeKey, parseKeyFile } from '../tsig/key.js';
import { TsigErr, TsigStreamVerifier, epochSeconds, findTsig, signMessage, verifyMessage } from '../tsig/tsig.js';
import { type DigOptions, DigUsageError } from './dig-args.js';

export class DigTsig {
  /** MAC of the query last signed (the reply's MAC covers it). */
  private requestMac: Uint8Array = new Uint8Array(0);

  constructor(readonly key: TsigKey, private readonly nowMs: () => number = Date.now) {}

  /** The key of -y or -k, or undefined when neither was given. Throws DigUsageError as dig reports a bad key. */
  static from(o: DigOptions): DigTsig | undefined {
    try {
      if (o.tsig !== undefined) return new DigTsig(makeKey(o.tsig.name, o.tsig.algorithm, o.tsig.secret));
      if (o.keyFile !== undefined) {
        let text: string;
        try {
          text = readFileSync(o.keyFile, 'utf8');
        } catch (e) {
          throw new DigUsageError(`Couldn't read key from ${o.keyFile}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message}`, 10, true);
        }
        return new DigTsig(parseKeyFile(text)[0]!);
      }
    } catch (e) {
      if (e instanceof DigUsageError) throw e;
      throw new DigUsageError(`invalid TSIG key: ${(e as Error).message}`, 10, true);
    }
    return undefined;
  }

  /** Signs an encoded query (its ID final); for ExchangeOptions.sign. */
  readonly sign = (q: Uint8Array): Uint8Array => {
    const { bytes, mac } = signMessage(q, this.key, { timeSigned: epochSeconds(this.nowMs()) });
    this.requestMac = mac;
    return bytes;
  };

  /** Checks a single reply; dig's reason when it fails (`;; Couldn't verify signature: REASON`). */
  check(reply: Uint8Array): string | undefined {
    let rec;
    try {
      rec = findTsig(reply);
    } catch {
      return 'tsig verify failure';
    }
    if (rec === undefined) return 'expected a TSIG or SIG(0)';
    if (rec.error !== 0) return 'tsig indicates error';
    const v = verifyMessage(reply, reply.length, rec, this.key, { now: epochSeconds(this.nowMs()), priorMac: this.requestMac });
    if (v.error === TsigErr.BADTIME) return 'bad time';
    if (v.error !== 0) return 'tsig verify failure';
    return undefined;
  }

  /** A verifier for the messages of a transfer answering the query last signed. */
  stream(): TsigStreamVerifier {
    return new TsigStreamVerifier(this.key, this.requestMac, () => epochSeconds(this.nowMs()));
  }
}
