/**
 * Server counters. Plain numbers and typed arrays: incrementing must cost nothing on the hot path.
 */
export class ServerStats {
  /** Packets/messages received, by transport. */
  udpQueries = 0;
  tcpQueries = 0;
  /** Replies sent. */
  responses = 0;
  /** Replies by RCODE (0..4095). */
  readonly rcodes = new Float64Array(4096);
  /** Queries by QTYPE. */
  readonly qtypes = new Float64Array(65536);
  /** Dropped without reply: undecodable header, QR set, ... */
  dropped = 0;
  /** Replies that did not fit and went out with TC. */
  truncated = 0;
  /** Handler failures turned into SERVFAIL. */
  internalErrors = 0;
  tcpConnections = 0;
  tcpRefused = 0;
  tcpTimeouts = 0;

  /** Non-zero counters as a plain object (for logs, `sovereign stats`, tests). */
  snapshot(): Record<string, unknown> {
    const nz = (a: Float64Array): Record<number, number> => {
      const o: Record<number, number> = {};
      for (let i = 0; i < a.length; i++) if (a[i] !== 0) o[i] = a[i]!;
      return o;
    };
    return {
      udpQueries: this.udpQueries, tcpQueries: this.tcpQueries, responses: this.responses, dropped: this.dropped,
      truncated: this.truncated, internalErrors: this.internalErrors, tcpConnections: this.tcpConnections,
      tcpRefused: this.tcpRefused, tcpTimeouts: this.tcpTimeouts, rcodes: nz(this.rcodes), qtypes: nz(this.qtypes),
    };
  }
}
