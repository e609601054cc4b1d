/**
 * The web dashboard in headless Chromium (Debian's chromium driven by puppeteer-core; no browser
 * is downloaded): log in with the control token, then every page loads without console errors;
 * the overview shows the traffic this test sent; a cache entry flushed from the cache page is gone
 * from the server (API) and is fetched again upstream (DNS); a record added from the zones page is
 * answered over DNS and one deleted there is gone; the trace page draws root -> sov. -> web.sov.
 * Screenshots of the pages go to test/artifacts/ (not committed) for a reviewer to look at.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { exchange } from '../../src/client/exchange.js';
import { Message } from '../../src/wire/message.js';
import { recordToString } from '../../src/wire/record.js';
import { typeFromString } from '../../src/wire/types.js';
import { type ControlLab, LAB, startControlLab } from '../helpers/control-lab.js';
import { PEER_BINARIES, havePeers } from '../helpers/peers.js';

/** The page's document, as the functions run in the browser see it (this program has no DOM library). */
declare const document: { querySelector(selector: string): { textContent: string | null } | null };

const ROOT = join(import.meta.dirname, '..', '..', '..');
const ARTIFACTS = join(ROOT, 'test', 'artifacts');
/** Generous bounds on waiting for the page (a loaded machine is slow; nothing here is a timing assert). */
const WAIT_MS = 60_000;

let lab: ControlLab | undefined;
let browser: Browser | undefined;
let page: Page;
const consoleErrors: string[] = [];

async function dns(name: string, type: string): Promise<Message> {
  const q = Message.query(name, typeFromString(type)!, { rd: true });
  return (await exchange(q, { address: LAB.ours, port: lab!.port }, { timeoutMs: 3000, tries: 2 })).message;
}

const answers = (m: Message): string[] => m.answer.map((rr) => recordToString({ ...rr, ttl: 0 }).replace(/\s+/g, ' ')).sort();

async function apiGet<T>(path: string): Promise<T> {
  const r = await fetch(lab!.controlUrl + path, { headers: { authorization: `Bearer ${lab!.token}` } });
  assert.equal(r.status, 200, path);
  return await r.json() as T;
}

async function show(hash: string, ready: string): Promise<void> {
  await page.goto(`${lab!.controlUrl}/#/${hash}`);
  await page.waitForSelector(ready, { timeout: WAIT_MS });
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });
}

describe('web dashboard in headless Chromium', () => {
  let skipped = false;

  before(async () => {
    lab = await startControlLab({ seriesStepMs: 1000 });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await lab?.stop();
  });

  test('log in with the control token', async (t) => {
    if (!havePeers(t, 'chromium')) {
      skipped = true;
      return;
    }
    browser = await puppeteer.launch({
      executablePath: PEER_BINARIES.chromium, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      consoleErrors.push(`${m.text()} (${m.location().url ?? ''})`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`page error: ${(e as Error).message}`));
    await page.goto(lab!.controlUrl + '/');
    await page.waitForSelector('#token', { timeout: WAIT_MS });
    await shot('login');
    // A wrong token is refused on the page.
    await page.type('#token', 'wrong-token');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#login-form .error', { timeout: WAIT_MS });
    // 401 is a console error in Chromium too: expected for the wrong token, so drop it.
    consoleErrors.length = 0;
    await page.$eval('#token', (el) => { (el as unknown as { value: string }).value = ''; });
    await page.type('#token', lab!.token);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#nav-overview', { timeout: WAIT_MS });
  });

  test('the overview shows the traffic sent', async (t) => {
    if (skipped) return t.skip('chromium missing');
    const N = 300;
    for (let i = 0; i < N; i++) assert.equal((await dns(`www.static.example.`, 'A')).rcode, 0);
    for (let i = 0; i < 20; i++) assert.equal((await dns(`nx${i}.static.example.`, 'AAAA')).rcode, 3);
    await show('overview', '#chart-qps');
    await page.waitForFunction((n: number) => Number((document.querySelector('#window-queries')?.textContent ?? '0').replace('k', 'e3')) >= n,
      { timeout: WAIT_MS, polling: 500 }, N + 20);
    const windowQueries = await page.$eval('#window-queries', (el) => el.textContent);
    assert.equal(windowQueries, String(N + 20));
    // The QPS chart has drawn its canvas; the RCODE and type lists show what was sent.
    assert.ok(await page.$('#chart-qps canvas') !== null);
    const rcodes = await page.$$eval('#rcodes tr', (rows) => rows.map((r) => r.textContent));
    assert.ok(rcodes.some((r) => r?.startsWith('NOERROR')) && rcodes.some((r) => r === 'NXDOMAIN20'), JSON.stringify(rcodes));
    const qtypes = await page.$$eval('#qtypes tr', (rows) => rows.map((r) => r.textContent));
    assert.ok(qtypes.includes(`A${N}`) && qtypes.includes('AAAA20'), JSON.stringify(qtypes));
    await page.waitForFunction(() => (document.querySelector('#top-names')?.textContent ?? '').includes('www.static.example.'), { timeout: WAIT_MS });
    await shot('overview');
  });

  test('a cache entry flushed from the page is gone and fetched again', async (t) => {
    if (skipped) return t.skip('chromium missing');
    assert.deepEqual(answers(await dns('www.web.sov.', 'A')), ['www.web.sov. 0 IN A 192.0.2.80']);
    await show('cache', '#cache-table');
    const row = 'tr[data-name="www.web.sov."][data-type="A"]';
    await page.waitForSelector(row, { timeout: WAIT_MS });
    await shot('cache');
    const upstreamBefore = (await apiGet<{ resolver: { upstreamQueries: number } }>('/v1/stats')).resolver.upstreamQueries;
    await page.click(`${row} .flush-name`);
    await page.waitForSelector('#cache-note', { timeout: WAIT_MS });
    assert.match(await page.$eval('#cache-note', (el) => el.textContent ?? ''), /flushed www\.web\.sov\.: [1-9]/);
    assert.deepEqual((await apiGet<{ entries: unknown[] }>('/v1/cache?name=www.web.sov&type=A')).entries, []);
    await page.waitForFunction((sel: string) => document.querySelector(sel) === null, { timeout: WAIT_MS }, row);
    assert.deepEqual(answers(await dns('www.web.sov.', 'A')), ['www.web.sov. 0 IN A 192.0.2.80']);
    const upstreamAfter = (await apiGet<{ resolver: { upstreamQueries: number } }>('/v1/stats')).resolver.upstreamQueries;
    assert.ok(upstreamAfter > upstreamBefore, 'the flushed name was asked upstream again');
    assert.equal((await apiGet<{ entries: unknown[] }>('/v1/cache?name=www.web.sov&type=A')).entries.length, 1);
  });

  test('a record added from the zones page is answered over DNS; one deleted is gone', async (t) => {
    if (skipped) return t.skip('chromium missing');
    assert.equal((await dns('fromui.dyn.example.', 'A')).rcode, 3);
    await show('zones', 'tr[data-zone="dyn.example."]');
    await page.click('tr[data-zone="dyn.example."] .zone-open');
    await page.waitForSelector('#record-add', { timeout: WAIT_MS });
    await page.type('#rec-name', 'fromui');
    await page.$eval('#rec-type', (el) => { (el as unknown as { value: string }).value = ''; });
    await page.type('#rec-type', 'A');
    await page.type('#rec-ttl', '600');
    await page.type('#rec-data', '192.0.2.77');
    await page.click('#record-add-button');
    await page.waitForSelector('#record-note', { timeout: WAIT_MS });
    assert.match(await page.$eval('#record-note', (el) => el.textContent ?? ''), /added; serial now 2/);
    const m = await dns('fromui.dyn.example.', 'A');
    assert.deepEqual(answers(m), ['fromui.dyn.example. 0 IN A 192.0.2.77']);
    assert.equal(m.answer[0]!.ttl, 600);
    await page.waitForSelector('#records-table tr[data-name="fromui.dyn.example."]', { timeout: WAIT_MS });
    await shot('zones');
    await page.click('#records-table tr[data-name="old.dyn.example."][data-type="A"] .record-delete');
    await page.waitForFunction(() => /deleted; serial now 3/.test(document.querySelector('#record-note')?.textContent ?? ''), { timeout: WAIT_MS });
    assert.equal((await dns('old.dyn.example.', 'A')).rcode, 3);
    // The static zone has no editor.
    await page.click('tr[data-zone="static.example."] .zone-open');
    await page.waitForFunction(() => document.querySelector('#record-add') === null && (document.querySelector('#zone-records h3')?.textContent ?? '').startsWith('static.example.'), { timeout: WAIT_MS });
  });

  test('the trace page draws root -> sov. -> web.sov.', async (t) => {
    if (skipped) return t.skip('chromium missing');
    await show('trace', '#trace-name');
    await page.type('#trace-name', 'www.web.sov');
    await page.click('#trace-run');
    await page.waitForSelector('#trace-svg g.hop', { timeout: WAIT_MS });
    const hops = await page.$$eval('#trace-svg g.hop', (gs) => gs.map((g) => `${g.getAttribute('data-zone')} ${g.getAttribute('data-kind')}`));
    assert.deepEqual(hops, ['. referral', 'sov. referral', 'web.sov. answer']);
    assert.match(await page.$eval('#trace-outcome', (el) => el.textContent ?? ''), /www\.web\.sov\. A: answer after 3 queries/);
    await shot('trace');
  });

  test('upstreams, query log and config pages load', async (t) => {
    if (skipped) return t.skip('chromium missing');
    assert.deepEqual(answers(await dns('host.fwd.example.', 'A')), ['host.fwd.example. 0 IN A 192.0.2.99']);
    await show('upstreams', '.upstreams-table');
    assert.match(await page.$eval('.upstreams-table', (el) => el.textContent ?? ''), new RegExp(`${LAB.leaf.replace(/\./g, '\\.')}#53up`));
    await shot('upstreams');
    // The query log is on in this set-up: the query just sent is in its table.
    await show('querylog', '#querylog-table');
    await page.waitForFunction(() => (document.querySelector('#querylog-table')?.textContent ?? '').includes('host.fwd.example.'), { timeout: WAIT_MS });
    await shot('querylog');
    await show('config', '#config-json');
    await page.waitForFunction(() => (document.querySelector('#config-json')?.textContent ?? '').includes('(redacted)'), { timeout: WAIT_MS });
    assert.doesNotMatch(await page.$eval('#config-json', (el) => el.textContent ?? ''), /c2VjcmV0/);
    await shot('config');
  });

  test('no console errors on any page', (t) => {
    if (skipped) return t.skip('chromium missing');
    assert.deepEqual(consoleErrors, []);
  });
});
