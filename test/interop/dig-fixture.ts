/**
 * What the dig comparison suites share: the zone holding one record of every type the codec
 * knows (served by BIND and by `sovereign serve`), and the masking that makes two dig outputs
 * comparable (message ID, query time, date, cookie bytes, version banner, TTLs; records sorted
 * within each section because BIND rotates RRsets); and startDigServers(), BIND and
 * `sovereign serve` on that zone for the suites that compare dig, nslookup and their options.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunningPeer, pickPort, startNamed, startPeer, tempDir } from '../helpers/peers.js';

const BIN = new URL('../../../bin/sovereign.js', import.meta.url).pathname;

export const ZONE = `$ORIGIN dig.test.
$TTL 300
@       IN SOA ns1.dig.test. hostmaster.dig.test. 2024010101 3600 900 604800 300
@       IN NS  ns1.dig.test.
@       IN NS  ns2.dig.test.
ns1     IN A   127.24.0.10
ns2     IN A   127.24.0.11
ns2     IN AAAA ::1
a       IN A   192.0.2.1
aaaa    IN AAAA 2001:db8::1
cname   IN CNAME a.dig.test.
mb      IN MB  mad.dig.test.
mg      IN MG  mad.dig.test.
mr      IN MR  mad.dig.test.
wks     IN WKS 192.0.2.1 6 25 80
ptr     IN PTR a.dig.test.
hinfo   IN HINFO "PC" "Linux"
minfo   IN MINFO rm.dig.test. em.dig.test.
mx      IN MX  10 mail.dig.test.
txt     IN TXT "hello world" "second \\"quoted\\"" "semi;colon"
rp      IN RP  mbox.dig.test. txt.dig.test.
afsdb   IN AFSDB 1 afs.dig.test.
x25     IN X25 "311061700956"
rt      IN RT  10 relay.dig.test.
px      IN PX  10 map822.dig.test. mapx400.dig.test.
srv     IN SRV 0 5 5060 sip.dig.test.
naptr   IN NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .
kx      IN KX  10 kx.dig.test.
cert    IN CERT 3 0 0 aGVsbG8gd29ybGQ=
dname   IN DNAME target.example.
ds      IN DS  12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE1B5A5A7A9B9F9A9F49B1A7A1
sshfp   IN SSHFP 1 1 dd465c09cfa51fb45020cc83316fff21b9ec74ac
rrsig   IN RRSIG A 8 3 300 20300101000000 20200101000000 12345 dig.test. aGVsbG8gd29ybGQgc2lnbmF0dXJlIGJ5dGVz
nsec    IN NSEC z.dig.test. A MX RRSIG NSEC TYPE1234
dnskey  IN DNSKEY 257 3 8 AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh36BponcwtkZ4cAgtvd4Qs8PkxUdp6p/DlUmObdk=
dhcid   IN DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=
2vptu5timamqttgl4luu9kg21e0aor3s IN NSEC3 1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG
nsec3param IN NSEC3PARAM 1 0 12 aabbccdd
tlsa    IN TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6
smimea  IN SMIMEA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6
cds     IN CDS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE1B5A5A7A9B9F9A9F49B1A7A1
cdnskey IN CDNSKEY 257 3 8 AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh36BponcwtkZ4cAgtvd4Qs8PkxUdp6p/DlUmObdk=
openpgpkey IN OPENPGPKEY aGVsbG8gd29ybGQ=
csync   IN CSYNC 66 3 A NS AAAA
zonemd  IN ZONEMD 2024010101 1 1 ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12
svcb    IN SVCB 1 svc.dig.test. alpn=h2,h3 port=8443 ipv4hint=192.0.2.1
https   IN HTTPS 1 . alpn=h2
spf     IN SPF "v=spf1 -all"
l32     IN L32 10 10.1.2.0
lp      IN LP  10 l64.dig.test.
eui48   IN EUI48 00-00-5e-00-53-2a
eui64   IN EUI64 00-00-5e-ef-10-00-00-2a
uri     IN URI 10 1 "ftp://ftp1.example.com/public"
caa     IN CAA 0 issue "ca.example.net"
avc     IN AVC "app-name:WOOF|app-class:OAM"
resinfo IN RESINFO "qnamemin" "exterr=15,16,17"
wallet  IN WALLET "BTC" "bc1qx"
ta      IN TA  12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE1B5A5A7A9B9F9A9F49B1A7A1
dlv     IN DLV 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE1B5A5A7A9B9F9A9F49B1A7A1
unknown IN TYPE65280 \\# 4 0A000001
sub     IN NS  ns.sub.dig.test.
ns.sub  IN A   127.24.0.12
signed  IN A 192.0.2.5
xn--bcher-kva IN A 192.0.2.7
signed  IN RRSIG A 8 3 300 20300101000000 20200101000000 12345 dig.test. aGVsbG8gd29ybGQgc2lnbmF0dXJlIGJ5dGVz
signed  IN NSEC z.dig.test. A RRSIG NSEC
`;

/** 30 TXT records of ~85 octets: over 512 octets, so a plain DNS reply is truncated. */
export function bigRRset(): string {
  const lines: string[] = [];
  for (let i = 1; i <= 30; i++) lines.push(`big IN TXT "${'x'.repeat(80)} ${i}"`);
  return lines.join('\n') + '\n';
}

/** Masks what legitimately differs between two runs and sorts records within each section. */
export function normalize(out: string): string {
  const lines = out.split('\n')
    .filter((l) => !l.startsWith('; <<>> '))
    .map((l) => l
      .replace(/id: \d+/, 'id: ID')
      .replace(/^;; Query time: \d+ (msec|usec)$/, ';; Query time: T $1')
      .replace(/^(\s+(?:query|response)_time): !!timestamp .*$/, '$1: T')
      .replace(/^;; WHEN: .*$/, ';; WHEN: W')
      .replace(/^; COOKIE: [0-9a-f]+/, '; COOKIE: C')
      .replace(/^(\s+COOKIE: )[0-9a-f]+/, '$1C'));
  const result: string[] = [];
  let block: string[] = [];
  const flush = (): void => {
    result.push(...block.sort());
    block = [];
  };
  let inRecords = false;
  for (const l of lines) {
    if (/^;; (ANSWER|AUTHORITY|ADDITIONAL) SECTION:$/.test(l)) {
      flush();
      result.push(l);
      inRecords = true;
      continue;
    }
    if (inRecords && (l === '' || l.startsWith(';;'))) {
      flush();
      inRecords = false;
    }
    // +yaml record lists: one quoted record per item.
    if (/^\s+- '/.test(l)) {
      block.push(l);
      continue;
    }
    if (inRecords || /^[^;\s]\S*\s+\d+\s/.test(l)) {
      // A record line: mask its TTL, keep the spacing.
      block.push(l.replace(/^(\S+\s+)\d+(\s)/, '$1TTL$2'));
      inRecords = inRecords || false;
      continue;
    }
    flush();
    result.push(l);
  }
  flush();
  return result.join('\n');
}


/** BIND and `sovereign serve` answering for the fixture zone on one port (see startDigServers). */
export interface DigServers {
  port: number;
  stop(): Promise<void>;
}

export interface DigServerOptions {
  /** Addresses of BIND and of `sovereign serve` (each suite has its own pair). */
  bind: string;
  sov: string;
  /** Temporary folder prefix. */
  prefix: string;
  /** BIND's `server-id` for NSID (the suites that compare +nsid). */
  nsid?: string;
  /** `sovereign serve` also listens on [::1] (the suites that compare -6). */
  ipv6?: boolean;
}

/**
 * Starts BIND (named) and `sovereign serve` on the fixture zone plus bigRRset(), on the same port
 * at their two addresses, so a suite runs each dig command against both. The caller checks the
 * peers first (havePeers: named, dig); stop() ends both and removes the folder.
 */
export async function startDigServers(o: DigServerOptions): Promise<DigServers> {
  const dir = tempDir(o.prefix);
  const port = pickPort();
  let named: RunningPeer | undefined;
  let sov: RunningPeer | undefined;
  const stop = async (): Promise<void> => {
    await named?.stop();
    await sov?.stop();
    dir.cleanup();
  };
  try {
    const zoneFile = join(dir.path, 'dig.test.zone');
    writeFileSync(zoneFile, ZONE + bigRRset());
    const bindDir = join(dir.path, 'bind');
    mkdirSync(bindDir);
    named = await startNamed(bindDir, o.bind, port, [{ name: 'dig.test', file: zoneFile }], o.nsid === undefined ? '' : `server-id "${o.nsid}";`);
    const cfg = join(dir.path, 'sovereign.yaml');
    writeFileSync(cfg, 'control:\n  enabled: false\n');
    const listen = ['--listen', `${o.sov}:${port}`, ...(o.ipv6 === true ? ['--listen', `[::1]:${port}`] : [])];
    sov = await startPeer(process.execPath, [BIN, 'serve', '--config', cfg, '--workers', '1', ...listen, '--zone', `dig.test=${zoneFile}`],
      { address: o.sov, port, zone: 'dig.test' });
    return { port, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
