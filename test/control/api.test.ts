/**
 * The control API against docs/openapi.yaml: every route the file describes is called on a
 * running server (a real hierarchy of our own authoritative servers behind it, see
 * test/helpers/control-lab.ts), and every answer's status and body must be one the file
 * allows for that route (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses). Beyond the shapes, the
 * contents are checked: record edits go through dynamic update (serial steps, the name is
 * answered over DNS), the trace walks root -> sov. -> web.sov., config secrets are redacted.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { exchange } from '../../src/client/exchange.js';
import { Message } from '../../src/wire/message.js';
import { recordToString } from '../../src/wire/record.js';
import { typeFromString } from '../../src/wire/types.js';
import { type ControlLab, LAB, startControlLab } from '../helpers/control-lab.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const doc = parse(readFileSync(join(ROOT, 'docs', 'openapi.yaml'), 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }> }>>;
  components: { responses: Record<string, { content: Record<string, { schema: unknown }> }> };
};
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema(doc, 'openapi');

const METHODS = ['get', 'post', 'delete', 'put', 'patch'];

/** The pointer to the JSON schema of `status` for an operation (following a components/responses $ref). */
function schemaPointer(template: string, method: string, status: number): { pointer: string; type: string } | undefined {
  const op = doc.paths[template]?.[method];
  assert.ok(op !== undefined, `${method.toUpperCase()} ${template} is not in docs/openapi.yaml`);
  const r = op.responses[String(status)];
  assert.ok(r !== undefined, `${method.toUpperCase()} ${template}: status ${status} is not documented`);
  const esc = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');
  let base = `/paths/${esc(template)}/${method}/responses/${status}`;
  let resp = r;
  if (r.$ref !== undefined) {
    base = r.$ref.slice(1);
    resp = doc.components.responses[r.$ref.split('/').pop()!]! as typeof r;
  }
  const type = Object.keys(resp.content ?? {})[0];
  if (type === undefined) return undefined;
  return { pointer: `${base}/content/${esc(type)}/schema`, type };
}

const exercised = new Set<string>();

interface Reply {
  status: number;
  type: string;
  text: string;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

let lab: ControlLab;

function call(method: string, path: string, opts: { body?: unknown; token?: string | null } = {}): Promise<Reply> {
  const u = new URL(lab.controlUrl);
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? lab.token : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const type = String(res.headers['content-type'] ?? '');
        let body: unknown;
        if (type.startsWith('application/json')) body = JSON.parse(text);
        resolve({ status: res.statusCode ?? 0, type, text, body, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Calls the route and checks status and body against the OpenAPI file; returns the body. */
async function check<T = Record<string, unknown>>(method: string, template: string, path: string, status: number | number[],
  opts: { body?: unknown; token?: string | null } = {}): Promise<T> {
  const r = await call(method, path, opts);
  const allowed = Array.isArray(status) ? status : [status];
  assert.ok(allowed.includes(r.status), `${method} ${path}: status ${r.status}, wanted ${allowed.join(' or ')}: ${r.text.slice(0, 300)}`);
  const s = schemaPointer(template, method.toLowerCase(), r.status);
  if (s !== undefined) {
    assert.ok(r.type.startsWith(s.type), `${method} ${path}: content-type ${r.type}, documented ${s.type}`);
    if (s.type === 'application/json') {
      const validate = ajv.getSchema(`openapi#${s.pointer}`) ?? ajv.compile({ $ref: `openapi#${s.pointer}` });
      assert.ok(validate(r.body), `${method} ${path} (${r.status}) does not match the OpenAPI schema: ${ajv.errorsText(validate.errors)}\n${r.text.slice(0, 500)}`);
    }
  }
  exercised.add(`${method.toLowerCase()} ${template}`);
  return r.body as T;
}

async function dns(name: string, type: string): Promise<Message> {
  const q = Message.query(name, typeFromString(type)!, { rd: true });
  return (await exchange(q, { address: LAB.ours, port: lab.port }, { timeoutMs: 3000, tries: 2 })).message;
}

const answers = (m: Message): string[] => m.answer.map((rr) => recordToString({ ...rr, ttl: 0 }).replace(/\s+/g, ' ')).sort();

describe('control API matches docs/openapi.yaml', () => {
  before(async () => {
    lab = await startControlLab({ seriesStepMs: 500 });
  });
  after(async () => {
    await lab?.stop();
  });

  test('health, metrics, dashboard page', async () => {
    await check('GET', '/health', '/health', 200, { token: null });
    await check('GET', '/health/live', '/health/live', 200, { token: null });
    await check('GET', '/health/ready', '/health/ready', 200, { token: null });
    await check('GET', '/metrics', '/metrics', 200);
    const e = await check<{ error: { code: string } }>('GET', '/metrics', '/metrics', 401, { token: null });
    assert.equal(e.error.code, 'ERR_UNAUTHORIZED');
    await check('GET', '/', '/', 200, { token: null });
    const page = await call('GET', '/', { token: null });
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.match(page.text, /\/assets\/app\.js/);
    const js = await call('GET', '/assets/app.js', { token: null });
    assert.equal(js.status, 200);
    assert.match(js.type, /^text\/javascript/);
    const none = await call('GET', '/v1/nothing-here');
    assert.equal(none.status, 404);
    assert.equal((none.body as { error: { code: string } }).error.code, 'ERR_NO_ROUTE');
  });

  test('stats, series and top reflect the queries sent', async () => {
    for (let i = 0; i < 40; i++) assert.equal((await dns('www.static.example.', 'A')).rcode, 0);
    for (let i = 0; i < 8; i++) assert.equal((await dns(`nx${i}.static.example.`, 'A')).rcode, 3);
    const stats = await check<{ queries: { udp: number }; rcodes: Record<string, number> }>('GET', '/v1/stats', '/v1/stats', 200);
    assert.ok(stats.queries.udp >= 48);
    assert.ok((stats.rcodes.NXDOMAIN ?? 0) >= 8);
    // Sampling every 500 ms: wait until a point holds the traffic (no timing assert, just a bound on waiting).
    let points: { queries: number; rcodes: Record<string, number>; qtypes: Record<string, number> }[] = [];
    for (let i = 0; i < 60; i++) {
      points = (await check<{ points: typeof points }>('GET', '/v1/stats/series', '/v1/stats/series?window=hour', 200)).points;
      if (points.reduce((a, p) => a + p.queries, 0) >= 48) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(points.reduce((a, p) => a + p.queries, 0), stats.queries.udp);
    assert.equal(points.reduce((a, p) => a + (p.rcodes.NXDOMAIN ?? 0), 0), 8);
    assert.ok(points.reduce((a, p) => a + (p.qtypes.A ?? 0), 0) >= 48);
    await check('GET', '/v1/stats/series', '/v1/stats/series?window=day', 200);
    const bad = await check<{ error: { code: string } }>('GET', '/v1/stats/series', '/v1/stats/series?window=week', 400);
    assert.equal(bad.error.code, 'ERR_BAD_PARAMETER');
    const top = await check<{ every: number; names: { key: string; count: number }[]; clients: { key: string }[] }>('GET', '/v1/top', '/v1/top?limit=5', 200);
    // One query in 16 is sampled: 48 queries give 3 samples, most of them www.static.example.
    assert.ok(top.names.length > 0 && top.names.length <= 5);
    assert.equal(top.names[0]!.key, 'www.static.example.');
    assert.equal(top.clients.length, 1);
    await check('GET', '/v1/top', '/v1/top?limit=0', 400);
  });

  test('query log: the queries sent are found by name and RCODE', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await dns('www.static.example.', 'A')).rcode, 0);
    const q = await check<{ entries: { name: string; rcode: string; handler: string | null }[]; total: number }>('GET', '/v1/querylog', '/v1/querylog?name=www.static.example&rcode=NOERROR', 200);
    assert.ok(q.total >= 3 && q.entries.length >= 3, JSON.stringify(q).slice(0, 400));
    for (const e of q.entries) assert.equal(e.name, 'www.static.example.');
    await check('GET', '/v1/querylog', '/v1/querylog?rcode=NOPE', 400);
  });

  test('health checks: an empty list without balance:', async () => {
    const h = await check<{ checks: unknown[] }>('GET', '/v1/health-checks', '/v1/health-checks', 200);
    assert.deepEqual(h.checks, []);
  });

  test('cache list and flush; the flushed name is fetched again', async () => {
    assert.deepEqual(answers(await dns('www.web.sov.', 'A')), ['www.web.sov. 0 IN A 192.0.2.80']);
    const rows = await check<{ entries: { name: string; type: string }[] }>('GET', '/v1/cache', '/v1/cache?name=www.web.sov', 200);
    assert.ok(rows.entries.some((e) => e.name === 'www.web.sov.' && e.type === 'A'), JSON.stringify(rows.entries));
    await check('GET', '/v1/cache', '/v1/cache?type=NOPE', 400);
    const f = await check<{ removed: number }>('POST', '/v1/cache/flush', '/v1/cache/flush?name=www.web.sov', 200);
    assert.ok(f.removed >= 1);
    const after1 = await check<{ entries: { name: string }[] }>('GET', '/v1/cache', '/v1/cache?name=www.web.sov', 200);
    assert.deepEqual(after1.entries, []);
    const before = (await check<{ resolver: { upstreamQueries: number } }>('GET', '/v1/stats', '/v1/stats', 200)).resolver.upstreamQueries;
    assert.deepEqual(answers(await dns('www.web.sov.', 'A')), ['www.web.sov. 0 IN A 192.0.2.80']);
    const after2 = (await check<{ resolver: { upstreamQueries: number } }>('GET', '/v1/stats', '/v1/stats', 200)).resolver.upstreamQueries;
    assert.ok(after2 > before, 'the flushed name was resolved again upstream');
  });

  test('zones: list with kinds and transfer state, records, add and delete through dynamic update', async () => {
    // The secondary transfers at start; wait for it (bounded).
    let zones: { name: string; kind: string; serial: number | null; records: number; editable: boolean; transfer: unknown }[] = [];
    for (let i = 0; i < 40; i++) {
      zones = (await check<{ zones: typeof zones }>('GET', '/v1/zones', '/v1/zones', 200)).zones;
      if (zones.find((z) => z.name === 'sec.example.')?.serial === 1) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const by = Object.fromEntries(zones.map((z) => [z.name, z]));
    assert.equal(by['static.example.']!.kind, 'primary');
    assert.equal(by['static.example.']!.records, 6);
    assert.equal(by['static.example.']!.editable, false);
    assert.equal(by['dyn.example.']!.kind, 'dynamic');
    assert.equal(by['dyn.example.']!.editable, true);
    assert.equal(by['sec.example.']!.kind, 'secondary');
    assert.equal(by['sec.example.']!.serial, 1);
    assert.notEqual(by['sec.example.']!.transfer, null);

    const recs = await check<{ records: { name: string; type: string; data: string }[] }>('GET', '/v1/zones/{zone}/records', '/v1/zones/static.example/records?name=www', 200);
    assert.deepEqual(recs.records.map((r) => `${r.name} ${r.type} ${r.data}`), ['www.static.example. A 192.0.2.1']);
    const mx = await check<{ records: { data: string }[] }>('GET', '/v1/zones/{zone}/records', '/v1/zones/static.example./records?type=MX', 200);
    assert.deepEqual(mx.records.map((r) => r.data), ['10 mail.static.example.']);
    await check('GET', '/v1/zones/{zone}/records', '/v1/zones/nope.example/records', 404);
    await check('GET', '/v1/zones/{zone}/records', '/v1/zones/static.example/records?type=BOGUS', 400);

    const added = await check<{ serial: number; changed: boolean; applied: boolean }>('POST', '/v1/zones/{zone}/records', '/v1/zones/dyn.example/records', 200,
      { body: { name: 'new', type: 'A', ttl: 120, data: '192.0.2.55' } });
    assert.deepEqual([added.serial, added.changed, added.applied], [2, true, true]);
    assert.deepEqual(answers(await dns('new.dyn.example.', 'A')), ['new.dyn.example. 0 IN A 192.0.2.55']);
    const again = await check<{ serial: number; changed: boolean }>('POST', '/v1/zones/{zone}/records', '/v1/zones/dyn.example/records', 200,
      { body: { name: 'new.dyn.example.', type: 'A', ttl: 120, data: '192.0.2.55' } });
    assert.deepEqual([again.serial, again.changed], [2, false]);
    const notDyn = await check<{ error: { code: string; message: string } }>('POST', '/v1/zones/{zone}/records', '/v1/zones/static.example/records', 409,
      { body: { name: 'x', type: 'A', data: '192.0.2.9' } });
    assert.equal(notDyn.error.code, 'ERR_ZONE_NOT_DYNAMIC');
    assert.match(notDyn.error.message, /allowUpdate/);
    const badData = await check<{ error: { code: string } }>('POST', '/v1/zones/{zone}/records', '/v1/zones/dyn.example/records', 400,
      { body: { name: 'x', type: 'A', data: 'not-an-address' } });
    assert.equal(badData.error.code, 'ERR_BAD_RDATA');
    await check('POST', '/v1/zones/{zone}/records', '/v1/zones/dyn.example/records', 400, { body: { name: 'x', type: 'A' } });
    const big = await check<{ error: { code: string } }>('POST', '/v1/zones/{zone}/records', '/v1/zones/dyn.example/records', 413,
      { body: { name: 'x', type: 'TXT', data: 'x'.repeat(20_000) } });
    assert.equal(big.error.code, 'ERR_BODY_TOO_LARGE');
    const notJson = await call('POST', '/v1/zones/dyn.example/records');
    assert.equal(notJson.status, 415);
    assert.equal((notJson.body as { error: { code: string } }).error.code, 'ERR_UNSUPPORTED_MEDIA_TYPE');
    await check('POST', '/v1/zones/{zone}/records', '/v1/zones/nope.example/records', 404, { body: { name: 'x', type: 'A', data: '192.0.2.9' } });

    const del = await check<{ serial: number; changed: boolean }>('DELETE', '/v1/zones/{zone}/records', '/v1/zones/dyn.example/records?name=old&type=A', 200);
    assert.deepEqual([del.serial, del.changed], [3, true]);
    assert.equal((await dns('old.dyn.example.', 'A')).rcode, 3);
    const delOne = await check<{ serial: number; changed: boolean }>('DELETE', '/v1/zones/{zone}/records',
      `/v1/zones/dyn.example/records?name=new&type=A&data=${encodeURIComponent('192.0.2.55')}`, 200);
    assert.deepEqual([delOne.serial, delOne.changed], [4, true]);
    await check('DELETE', '/v1/zones/{zone}/records', '/v1/zones/static.example/records?name=www&type=A', 409);
    await check('DELETE', '/v1/zones/{zone}/records', '/v1/zones/nope.example/records?name=www', 404);
    await check('DELETE', '/v1/zones/{zone}/records', '/v1/zones/dyn.example/records', 400);
    // The journal holds the changes: sync writes them to the zone file.
    const sync = await check<{ ok: boolean; zones: { zone: string; serial: number }[] }>('POST', '/v1/zone/sync', '/v1/zone/sync?name=dyn.example', 200);
    assert.deepEqual(sync.zones.map((z) => `${z.zone} ${z.serial}`), ['dyn.example. 4']);
    await check('POST', '/v1/zone/sync', '/v1/zone/sync?name=static.example', 404);

    await check('POST', '/v1/zone/refresh', '/v1/zone/refresh?name=sec.example', 200);
    await check('POST', '/v1/zone/retransfer', '/v1/zone/retransfer?name=sec.example', 200);
    await check('POST', '/v1/zone/notify', '/v1/zone/notify?name=static.example', 200);
    await check('POST', '/v1/zone/refresh', '/v1/zone/refresh', 400);
    await check('POST', '/v1/zone/retransfer', '/v1/zone/retransfer?name=static.example', 400);
    await check('POST', '/v1/zone/notify', '/v1/zone/notify?name=nope.example', 404);
    await check('POST', '/v1/zone/refresh', '/v1/zone/refresh?name=nope.example', 404);
    await check('POST', '/v1/zone/retransfer', '/v1/zone/retransfer?name=nope.example', 404);
  });

  test('upstreams, config (redacted), reload', async () => {
    assert.deepEqual(answers(await dns('host.fwd.example.', 'A')), ['host.fwd.example. 0 IN A 192.0.2.99']);
    const u = await check<{ routes: { zone: string; upstreams: { upstream: string; up: boolean; answers: number }[] }[] }>('GET', '/v1/upstreams', '/v1/upstreams', 200);
    const route = u.routes.find((r) => r.zone === 'fwd.example.');
    assert.ok(route !== undefined, JSON.stringify(u));
    assert.equal(route.upstreams[0]!.upstream, `${LAB.leaf}#53`);
    assert.equal(route.upstreams[0]!.up, true);
    assert.ok(route.upstreams[0]!.answers >= 1);
    const c = await check<{ config: { keys: Record<string, { secret: string; algorithm: string }>; zones: unknown[] } }>('GET', '/v1/config', '/v1/config', 200);
    assert.deepEqual(c.config.keys['api-test-key'], { algorithm: 'hmac-sha256', secret: '(redacted)' });
    assert.equal(c.config.zones.length, 3);
    const cr = await call('GET', '/v1/config');
    assert.doesNotMatch(cr.text, /c2VjcmV0/);
    await check('POST', '/v1/reload', '/v1/reload?what=zones', 200);
    await check('POST', '/v1/reload', '/v1/reload?what=nope', 400);
  });

  test('trace walks root -> sov. -> web.sov.', async () => {
    const t = await check<{ hops: { zone: string; kind: string; referral: string | null; server: string; records: string[] }[]; outcome: string }>(
      'GET', '/v1/trace', '/v1/trace?name=www.web.sov&type=A', 200);
    assert.deepEqual(t.hops.map((h) => `${h.zone} ${h.kind} ${h.referral ?? '-'} ${h.server}`), [
      `. referral sov. ${LAB.root}#53`, `sov. referral web.sov. ${LAB.tld}#53`, `web.sov. answer - ${LAB.leaf}#53`,
    ]);
    assert.deepEqual(t.hops[2]!.records.map((r) => r.replace(/\s+/g, ' ')), ['www.web.sov. 300 IN A 192.0.2.80']);
    assert.equal(t.outcome, 'answer');
    const nx = await check<{ hops: { kind: string }[]; outcome: string }>('GET', '/v1/trace', '/v1/trace?name=nope.web.sov&type=A', 200);
    assert.equal(nx.outcome, 'nxdomain');
    await check('GET', '/v1/trace', '/v1/trace', 400);
    await check('GET', '/v1/trace', '/v1/trace?name=www.web.sov&type=NOPE', 400);
  });

  test('negative trust anchors and DNSSEC status', async () => {
    await check('GET', '/v1/nta', '/v1/nta', 200);
    const a = await check<{ ntas: { name: string }[] }>('POST', '/v1/nta/add', '/v1/nta/add?name=bad.sov&lifetime=60', 200);
    assert.deepEqual(a.ntas.map((n) => n.name), ['bad.sov.']);
    await check('POST', '/v1/nta/add', '/v1/nta/add?name=bad.sov&lifetime=-1', 400);
    const r = await check<{ ntas: unknown[] }>('POST', '/v1/nta/remove', '/v1/nta/remove?name=bad.sov', 200);
    assert.deepEqual(r.ntas, []);
    await check('POST', '/v1/nta/remove', '/v1/nta/remove', 400);
    await check('GET', '/v1/dnssec/status', '/v1/dnssec/status?zone=static.example', 404);
    await check('GET', '/v1/dnssec/status', '/v1/dnssec/status?zone=bad..name', 400);
    await check('POST', '/v1/dnssec/checkds', '/v1/dnssec/checkds?zone=static.example&what=published', 404);
    await check('POST', '/v1/dnssec/checkds', '/v1/dnssec/checkds?zone=static.example&what=maybe', 400);
  });

  test('every operation in docs/openapi.yaml was called', () => {
    const documented: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) for (const m of Object.keys(ops)) if (METHODS.includes(m)) documented.push(`${m} ${path}`);
    assert.deepEqual(documented.filter((d) => !exercised.has(d)), []);
  });
});
