import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatStats } from '../../src/cli/stats.js';
import { newResolverStats } from '../../src/resolver/iterator.js';

test('sovereign stats: counts by qtype, RCODE and transport, cache hit ratio, upstream latency and failures', () => {
  const text = formatStats({
    processes: 1, uptimeSeconds: 9, queries: { udp: 10, tcp: 2 }, responses: 12, dropped: 0, truncated: 0, internalErrors: 0,
    tcpConnections: 1, qtypes: { A: 7, AAAA: 5 }, rcodes: { NOERROR: 11, NXDOMAIN: 1 },
    cache: { size: 3, hits: 3, misses: 1, staleHits: 0, inserts: 1, refused: 0, evictions: 0, prefetches: 0 },
    forwarder: {
      cacheAnswers: 3, upstreamAnswers: 1, failures: 0,
      routes: [{ zone: '.', kind: 'forward', upstreams: [{ upstream: '192.0.2.53#53', up: true, srttMs: 2.5, queries: 2, answers: 2, failures: 1, timeouts: 1, errorReplies: 0, rttSumMs: 5, rttCount: 2, rttBuckets: [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], probes: 0, ignored: 0 }] }],
    },
    resolver: {
      ...newResolverStats(), cacheHits: 30, cacheMisses: 10, resolutions: 10, resolutionMsSum: 125, upstreamQueries: 24,
      upstreamReplies: 20, upstreamRttMsSum: 30, upstreamTimeouts: 4, failures: 1,
      stubZones: [{ zone: 'lab.example.', servers: [{ server: '10.0.0.2', srttMs: 1.5, queries: 6, timeouts: 0 }] }],
    },
    hosts: { path: '/etc/hosts', names: 4, loads: 1 }, localData: null,
  });
  assert.match(text, /^queries\.udp\s+10$/m);
  assert.match(text, /^queries\.tcp\s+2$/m);
  assert.match(text, /^qtype\.A\s+7\nqtype\.AAAA\s+5$/m);
  assert.match(text, /^rcode\.NXDOMAIN\s+1$/m);
  assert.match(text, /^cache\.hit-ratio\s+75\.0%$/m);
  assert.match(text, /^upstream 192\.0\.2\.53#53 \(forward \.\): up, queries 2, answers 2, avg-rtt 2\.50ms, srtt 2\.5ms, failures 1 \(timeouts 1\), error-replies 0, ignored 0$/m);
  assert.match(text, /^resolver\.cache-hits\s+30$/m);
  assert.match(text, /^resolver\.cache-hit-ratio\s+75\.0%$/m);
  assert.match(text, /^resolver\.resolution-avg\s+12\.50ms$/m);
  assert.match(text, /^resolver\.upstream-queries\s+24$/m);
  assert.match(text, /^resolver\.upstream-avg-rtt\s+1\.50ms$/m);
  assert.match(text, /^resolver\.upstream-timeouts\s+4$/m);
  assert.match(text, /^resolver\.failures\s+1$/m);
  assert.match(text, /^stub 10\.0\.0\.2 \(lab\.example\.\): queries 6, timeouts 0, srtt 1\.5ms$/m);
  assert.match(text, /^hosts\.names\s+4 \(\/etc\/hosts, loaded 1x\)$/m);
});
