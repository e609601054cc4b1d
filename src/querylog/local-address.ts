/** Where a listener is bound, as the query log and dnstap record it (kept here so the engine imports the log, not the other way round). */
export interface LocalAddress {
  readonly address: string;
  readonly port: number;
}

/** Before a listener says where it is bound. */
export const NO_LOCAL: LocalAddress = { address: '', port: 0 };
