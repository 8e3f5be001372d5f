// Polling the merchant backend end to end: it survives the backend failing (requests aborted,
// 503 with Retry-After) and resumes; a hidden page sends nothing until it is visible again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoAndBrowser, openPage, UA, DESKTOP, shot, waitForState, waitForEvent, simPay, panelText } from './harness.mjs';

const ctx = demoAndBrowser();

const isStatusPoll = (url) => /\/api\/orders\/[^/?]+(\?|$)/.test(url);

test('polling survives aborted requests and 503s, then resumes and finds the payment', async () => {
  const page = await openPage(ctx.browser, { ua: UA.desktop, viewport: DESKTOP });
  const seen = [];
  let mode = 'ok';
  await page.route('**/api/orders/**', async (route) => {
    const url = route.request().url();
    if (!isStatusPoll(url) || route.request().method() !== 'GET') return route.continue();
    seen.push({ at: Date.now(), mode });
    if (mode === 'abort') return route.abort('connectionreset');
    if (mode === '503') return route.fulfill({ status: 503, headers: { 'retry-after': '1' }, json: { error: 'unavailable', message: 'try later' } });
    return route.continue();
  });
  await page.goto(ctx.demo.url + '/');
  // Failing from the first check on (a held long-poll would otherwise span the whole test).
  mode = 'abort';
  await page.click('#pay');
  const scanning = await waitForState(page, 'scanning');
  await page.waitForTimeout(5_000);
  mode = '503';
  await page.waitForTimeout(8_000);
  const failing = seen.filter((s) => s.mode !== 'ok');
  assert.ok(failing.some((s) => s.mode === 'abort') && failing.some((s) => s.mode === '503'), JSON.stringify(seen));
  assert.match(await panelText(page), /网络不稳定/, 'the buyer sees that we are retrying');
  await shot(page, 'polling-retrying-desktop');
  // Retry-After: 1 and backoff: never a burst of requests.
  for (let i = 1; i < failing.length; i++) assert.ok(failing[i].at - failing[i - 1].at >= 900, 'spaced out');

  // The buyer pays while the backend is down; once it is back the page finds out.
  await simPay(ctx.demo.url, { code_url: scanning.codeUrl });
  mode = 'ok';
  const paid = await waitForEvent(page, (e) => e.type === 'wxpay-paid', 25_000);
  assert.equal(paid.detail.tradeState, 'SUCCESS');
  await page.context().close();
});

/** A desktop Native checkout showing its QR code, with the times of its status requests. */
async function scanningWithPollLog() {
  const page = await openPage(ctx.browser, { ua: UA.desktop, viewport: DESKTOP });
  const polls = [];
  page.on('request', (r) => r.method() === 'GET' && isStatusPoll(r.url()) && polls.push(Date.now()));
  await page.goto(ctx.demo.url + '/');
  await page.click('#pay');
  const scanning = await waitForState(page, 'scanning');
  await page.waitForTimeout(500);
  return { page, polls, scanning };
}

test('a hidden page stops polling and checks at once when visible again', async () => {
  const { page, polls, scanning } = await scanningWithPollLog();
  assert.ok(polls.length >= 1, 'polling while visible');

  const setHidden = (hidden) =>
    page.evaluate((h) => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
  await setHidden(true);
  const hiddenAt = Date.now();
  // Paying now must not be noticed while hidden: nothing is sent.
  await simPay(ctx.demo.url, { code_url: scanning.codeUrl });
  await page.waitForTimeout(6_000);
  assert.deepEqual(polls.filter((t) => t > hiddenAt + 100), [], 'no requests while hidden');
  const states = await page.evaluate(() => window.wxpayEvents.map((e) => e.detail.state ?? e.type));
  assert.ok(!states.includes('paid'), 'nothing learned while hidden');

  const visibleAt = Date.now();
  await setHidden(false);
  await waitForEvent(page, (e) => e.type === 'wxpay-paid', 5_000);
  const first = polls.find((t) => t >= visibleAt);
  assert.ok(first !== undefined && first - visibleAt < 1_000, 'checked at once when visible');
  await page.context().close();
});

test('polling stops when the element is removed', async () => {
  const { page, polls } = await scanningWithPollLog();
  await page.evaluate(() => document.querySelector('wxpay-checkout').remove());
  const removedAt = Date.now();
  await page.waitForTimeout(5_000);
  assert.deepEqual(polls.filter((t) => t > removedAt + 100), [], 'no requests after removal');
  // And its timers are gone too: no errors from a countdown ticking into a removed panel.
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
