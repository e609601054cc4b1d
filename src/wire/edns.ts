/**
 * EDNS(0) (RFC 6891): the OPT pseudo-record as a structure on the message, and typed views of
 * the options Sovereign understands. Unknown options are kept as bytes.
 *
 * Invariant: `Edns.options` always holds raw `{ code, data }`; typed forms are made on demand
 * by `decodeOption` (which validates and throws WireFormatError -> FORMERR) and turned back
 * into raw options by the `option.*` builders.
 */
import { WireFormatError } from '../errors.js';
import { EdnsOptionCode } from './constants.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './rdata/addresses.js';

export interface EdnsOption {
  code: number;
  data: Uint8Array;
}

export interface Edns {
  /** EDNS version (RFC 6891 §6.1.3); only 0 is defined. */
  version: number;
  /** Requestor's UDP payload size (values below 512 are treated as 512 by receivers). */
  udpSize: number;
  /** DO bit (RFC 3225). */
  dnssecOk: boolean;
  /** The other 15 bits of the EDNS flags (must be zero today, kept for fidelity). */
  zFlags: number;
  options: EdnsOption[];
}

export function newEdns(init: Partial<Edns> = {}): Edns {
  return {
    version: init.version ?? 0,
    udpSize: init.udpSize ?? 1232,
    dnssecOk: init.dnssecOk ?? false,
    zFlags: init.zFlags ?? 0,
    options: init.options ?? [],
  };
}

/** Wire size of the OPT record for `edns` (root owner, fixed fields, options). */
export function optRecordSize(edns: Edns): number {
  let n = 11;
  for (const o of edns.options) n += 4 + o.data.length;
  return n;
}

// ---- typed options -----------------------------------------------------------------------------

/** RFC 7871 EDNS Client Subnet. */
export interface ClientSubnetOption {
  code: 8;
  /** 1 = IPv4, 2 = IPv6 (IANA address family numbers). */
  family: number;
  sourcePrefixLength: number;
  scopePrefixLength: number;
  /** The address, with bits past the source prefix zero. */
  address: string;
}

/** RFC 7873 DNS Cookie: 8-octet client cookie, optional 8..32-octet server cookie. */
export interface CookieOption {
  code: 10;
  client: Uint8Array;
  server: Uint8Array | undefined;
}

/** RFC 8914 Extended DNS Error. */
export interface ExtendedErrorOption {
  code: 15;
  infoCode: number;
  extraText: string;
}

/** RFC 7828 edns-tcp-keepalive; `timeout` in units of 100 ms, absent in queries. */
export interface TcpKeepaliveOption {
  code: 11;
  timeout: number | undefined;
}

/** RFC 7830 Padding: only the length matters. */
export interface PaddingOption {
  code: 12;
  length: number;
}

/** RFC 5001 Name Server Identifier. */
export interface NsidOption {
  code: 3;
  nsid: Uint8Array;
}

export interface UnknownOption {
  code: number;
  data: Uint8Array;
}

export type TypedOption =
  | ClientSubnetOption | CookieOption | ExtendedErrorOption | TcpKeepaliveOption | PaddingOption | NsidOption;

function fail(code: number, reason: string): never {
  throw new WireFormatError(0, `EDNS option ${code}`, reason);
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

/** Typed view of an option; validates it (RFC rules) and throws WireFormatError when malformed. */
export function decodeOption(o: EdnsOption): TypedOption | UnknownOption {
  const d = o.data;
  switch (o.code) {
    case EdnsOptionCode.NSID:
      return { code: 3, nsid: d };
    case EdnsOptionCode.CLIENT_SUBNET: {
      if (d.length < 4) fail(o.code, 'shorter than 4 octets');
      const family = (d[0]! << 8) | d[1]!;
      const source = d[2]!;
      const scope = d[3]!;
      const addrLen = family === 1 ? 4 : family === 2 ? 16 : fail(o.code, `unknown family ${family}`);
      if (source > addrLen * 8 || scope > addrLen * 8) fail(o.code, 'prefix length exceeds address length');
      const want = Math.ceil(source / 8);
      // RFC 7871 §6: ADDRESS must be exactly the source prefix, extra bits zero.
      if (d.length - 4 !== want) fail(o.code, `address is ${d.length - 4} octets, prefix needs ${want}`);
      const full = new Uint8Array(addrLen);
      full.set(d.subarray(4));
      if (source % 8 !== 0 && want > 0 && (full[want - 1]! & (0xff >> (source % 8))) !== 0) {
        fail(o.code, 'address has bits set beyond the source prefix');
      }
      return {
        code: 8, family, sourcePrefixLength: source, scopePrefixLength: scope,
        address: family === 1 ? formatIPv4(full) : formatIPv6(full),
      };
    }
    case EdnsOptionCode.COOKIE: {
      if (d.length !== 8 && (d.length < 16 || d.length > 40)) fail(o.code, `length ${d.length} is not 8 or 16..40`);
      return { code: 10, client: d.slice(0, 8), server: d.length > 8 ? d.slice(8) : undefined };
    }
    case EdnsOptionCode.TCP_KEEPALIVE: {
      if (d.length === 0) return { code: 11, timeout: undefined };
      if (d.length !== 2) fail(o.code, `length ${d.length} is not 0 or 2`);
      return { code: 11, timeout: (d[0]! << 8) | d[1]! };
    }
    case EdnsOptionCode.PADDING:
      return { code: 12, length: d.length };
    case EdnsOptionCode.EDE: {
      if (d.length < 2) fail(o.code, 'shorter than 2 octets');
      return { code: 15, infoCode: (d[0]! << 8) | d[1]!, extraText: utf8Decoder.decode(d.subarray(2)) };
    }
    default:
      return { code: o.code, data: d };
  }
}

/** Builders for raw options. */
export const option = {
  nsid(nsid: Uint8Array = new Uint8Array(0)): EdnsOption {
    return { code: EdnsOptionCode.NSID, data: nsid };
  },
  /** ECS for `address/sourcePrefixLength`; host bits are cleared as RFC 7871 §6 requires. */
  clientSubnet(address: string, sourcePrefixLength: number, scopePrefixLength = 0): EdnsOption {
    const v6 = address.includes(':');
    const full = v6 ? parseIPv6(address, 'ECS address') : parseIPv4(address, 'ECS address');
    const max = full.length * 8;
    if (sourcePrefixLength > max || scopePrefixLength > max) throw new RangeError('ECS prefix exceeds address length');
    const want = Math.ceil(sourcePrefixLength / 8);
    const data = new Uint8Array(4 + want);
    data[1] = v6 ? 2 : 1;
    data[2] = sourcePrefixLength;
    data[3] = scopePrefixLength;
    data.set(full.subarray(0, want), 4);
    if (sourcePrefixLength % 8 !== 0) data[4 + want - 1]! &= 0xff << (8 - (sourcePrefixLength % 8));
    return { code: EdnsOptionCode.CLIENT_SUBNET, data };
  },
  cookie(client: Uint8Array, server?: Uint8Array): EdnsOption {
    if (client.length !== 8) throw new RangeError('client cookie must be 8 octets');
    if (server !== undefined && (server.length < 8 || server.length > 32)) throw new RangeError('server cookie must be 8..32 octets');
    const data = new Uint8Array(8 + (server?.length ?? 0));
    data.set(client);
    if (server !== undefined) data.set(server, 8);
    return { code: EdnsOptionCode.COOKIE, data };
  },
  /** Timeout in units of 100 ms; omit in queries (RFC 7828 §3.2.1). */
  tcpKeepalive(timeout?: number): EdnsOption {
    if (timeout === undefined) return { code: EdnsOptionCode.TCP_KEEPALIVE, data: new Uint8Array(0) };
    return { code: EdnsOptionCode.TCP_KEEPALIVE, data: new Uint8Array([timeout >>> 8, timeout & 0xff]) };
  },
  padding(length: number): EdnsOption {
    return { code: EdnsOptionCode.PADDING, data: new Uint8Array(length) };
  },
  extendedError(infoCode: number, extraText = ''): EdnsOption {
    const text = utf8Encoder.encode(extraText);
    const data = new Uint8Array(2 + text.length);
    data[0] = infoCode >>> 8;
    data[1] = infoCode & 0xff;
    data.set(text, 2);
    return { code: EdnsOptionCode.EDE, data };
  },
};

/**
 * Padding length for RFC 8467 block-length padding: bring `unpaddedSize` (message size
 * including an empty padding option's 4 octets) up to a multiple of `block`.
 */
export function paddingFor(unpaddedSize: number, block: number): number {
  const rem = unpaddedSize % block;
  return rem === 0 ? 0 : block - rem;
}

/** EDE info-code names as dig prints them (RFC 8914 §4 and the IANA registry). */
export const EDE_NAMES: readonly string[] = [
  'Other', 'Unsupported DNSKEY Algorithm', 'Unsupported DS Digest Type', 'Stale Answer', 'Forged Answer',
  'DNSSEC Indeterminate', 'DNSSEC Bogus', 'Signature Expired', 'Signature Not Yet Valid', 'DNSKEY Missing',
  'RRSIGs Missing', 'No Zone Key Bit Set', 'NSEC Missing', 'Cached Error', 'Not Ready', 'Blocked', 'Censored',
  'Filtered', 'Prohibited', 'Stale NXDOMAIN Answer', 'Not Authoritative', 'Not Supported', 'No Reachable Authority',
  'Network Error', 'Invalid Data', 'Signature Expired before Valid', 'Too Early', 'Unsupported NSEC3 Iterations Value',
  'Unable to conform to policy', 'Synthesized', 'Invalid Query Type',
];

function hexSpaced(d: Uint8Array): string {
  let s = '';
  for (let i = 0; i < d.length; i++) s += (i === 0 ? '' : ' ') + (d[i]! < 16 ? '0' : '') + d[i]!.toString(16);
  return s;
}

function asciiView(d: Uint8Array): string {
  let s = '';
  for (let i = 0; i < d.length; i++) s += d[i]! >= 0x20 && d[i]! < 0x7f ? String.fromCharCode(d[i]!) : '.';
  return s;
}

/**
 * One option as dig prints it in the OPT pseudosection, without the leading `; `
 * (`COOKIE: 0102030405060708`, `CLIENT-SUBNET: 192.0.2.0/24/0`, `EDE: 18 (Prohibited)`).
 * A malformed known option is printed as raw bytes rather than throwing.
 */
export function ednsOptionToString(o: EdnsOption): string {
  const d = o.data;
  let typed: TypedOption | UnknownOption;
  try {
    typed = decodeOption(o);
  } catch {
    typed = { code: -1, data: d };
  }
  switch (typed.code) {
    case 3:
      return d.length === 0 ? 'NSID:' : `NSID: ${hexSpaced(d)} ("${asciiView(d)}")`;
    case 8: {
      const t = typed as ClientSubnetOption;
      return `CLIENT-SUBNET: ${t.address}/${t.sourcePrefixLength}/${t.scopePrefixLength}`;
    }
    case 10: {
      let s = '';
      for (let i = 0; i < d.length; i++) s += (d[i]! < 16 ? '0' : '') + d[i]!.toString(16);
      return `COOKIE: ${s}`;
    }
    case 11: {
      const t = typed as TcpKeepaliveOption;
      return t.timeout === undefined ? 'TCP KEEPALIVE:' : `TCP KEEPALIVE: ${(t.timeout / 10).toFixed(1)} secs`;
    }
    case 12:
      return d.length === 0 ? 'PAD:' : `PAD: (${d.length} bytes)`;
    case 15: {
      const t = typed as ExtendedErrorOption;
      const name = EDE_NAMES[t.infoCode];
      return `EDE: ${t.infoCode}${name === undefined ? '' : ` (${name})`}${t.extraText.length > 0 ? `: (${t.extraText})` : ''}`;
    }
    default:
      return d.length === 0 ? `OPT=${o.code}:` : `OPT=${o.code}: ${hexSpaced(d)} ("${asciiView(d)}")`;
  }
}
