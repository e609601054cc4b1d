/**
 * Who may transfer a zone: `allowTransfer: ["key xfr", "192.0.2.0/24", "::1"]`, BIND's
 * allow-transfer spirit. An entry matches a query signed (and verified) with that TSIG key, or
 * from that address prefix; any match allows. Default: loopback only.
 */
import { Acl } from '../resolver/acl.js';
import type { Name } from '../wire/name.js';

export const DEFAULT_ALLOW_TRANSFER: readonly string[] = ['127.0.0.0/8', '::1'];

export class TransferAcl {
  private readonly keys = new Set<string>();
  private readonly addresses: Acl | undefined;

  /** Throws Error naming the bad entry. */
  constructor(entries: readonly string[]) {
    const prefixes: string[] = [];
    for (const raw of entries) {
      const e = raw.trim();
      const m = /^key\s+"?([^"\s]+)"?$/i.exec(e);
      if (m !== null) this.keys.add(m[1]!.toLowerCase().replace(/\.$/, ''));
      else prefixes.push(e);
    }
    this.addresses = prefixes.length > 0 ? new Acl(prefixes) : undefined;
  }

  /** True when `keyName` (the verified TSIG key, if any) or `address` is allowed. */
  allows(address: string, keyName: Name | undefined): boolean {
    if (keyName !== undefined && this.keys.size > 0) {
      const k = keyName.toString().toLowerCase();
      if (this.keys.has(k.length > 1 ? k.slice(0, -1) : k)) return true;
    }
    return this.addresses?.allows(address) === true;
  }
}
