// Native pay end to end: a desktop browser gets a QR code whose content is the order's
// code_url, the simulator pays it, and the element reports `wxpay-paid` within seconds; an
// expired QR code is replaced by a fresh one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoAndBrowser, openPage, UA, DESKTOP, PHONE, shot, waitForState, waitForEvent, decodeQr, simPay, events } from './harness.mjs';

const ctx = demoAndBrowser();

test('desktop: QR decodes to the code_url, the simulator pays, wxpay-paid fires', async () => {
  const page = await openPage(ctx.browser, { ua: UA.desktop, viewport: DESKTOP });
  await page.goto(ctx.demo.url + '/');
  await shot(page, 'native-1-shop-desktop');
  const payResponse = page.waitForResponse((r) => r.url().endsWith('/pay') && r.request().method() === 'POST');
  await page.click('#pay');
  const { code_url: codeUrl, mode } = await (await payResponse).json();
  assert.equal(mode, 'native');
  assert.match(codeUrl, /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
  const scanning = await waitForState(page, 'scanning');
  assert.equal(scanning.codeUrl, codeUrl);
  assert.equal(await decodeQr(page), codeUrl, 'the QR drawn in the page encodes the order code_url');
  // Accessible countdown.
  const timer = await page.evaluate(() => {
    const t = document.querySelector('wxpay-checkout').shadowRoot.querySelector('[role=timer]');
    return t && t.textContent;
  });
  assert.match(timer, /^1:5\d:\d\d$/);
  await shot(page, 'native-2-qr-desktop');

  const paidAt = Date.now();
  await simPay(ctx.demo.url, { code_url: codeUrl });
  const paid = await waitForEvent(page, (e) => e.type === 'wxpay-paid', 5_000);
  assert.ok(Date.now() - paidAt < 5_000, 'paid within seconds');
  assert.equal(paid.status, 'paid');
  assert.equal(paid.mode, 'native');
  assert.match(paid.detail.transactionId, /^\d+$/);
  assert.equal(paid.detail.tradeState, 'SUCCESS');
  await page.waitForSelector('#done:not([hidden])');
  await shot(page, 'native-3-paid-desktop');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('phone-sized shop page renders (screenshot for review)', async () => {
  const page = await openPage(ctx.browser, { ua: UA.desktop, viewport: PHONE });
  await page.goto(ctx.demo.url + '/?mode=native');
  await shot(page, 'shop-phone');
  await page.click('#pay');
  await waitForState(page, 'scanning');
  await shot(page, 'native-qr-phone');
  await page.context().close();
});

test('an expired QR code is refreshed with a fresh one', async () => {
  const page = await openPage(ctx.browser, { ua: UA.desktop, viewport: DESKTOP });
  let payCalls = 0;
  // The simulator's codes live 2 h; make the first answer expire in 3 s.
  await page.route('**/api/orders/*/pay', async (route) => {
    payCalls += 1;
    const response = await route.fetch();
    const body = await response.json();
    if (payCalls === 1) body.expires_at = new Date(Date.now() + 3_000).toISOString();
    await route.fulfill({ response, json: body });
  });
  await page.goto(ctx.demo.url + '/');
  await page.click('#pay');
  const first = await waitForState(page, 'scanning');
  await shot(page, 'native-expiring-qr');
  // Within the countdown, the timer shows seconds.
  const later = await waitForEvent(page, (e) => e.type === 'wxpay-state' && e.state === 'scanning' && e.expiresAt > first.expiresAt, 25_000);
  assert.equal(payCalls, 2, 'a second payment was asked for');
  assert.equal(await decodeQr(page), later.codeUrl);
  await shot(page, 'native-refreshed-qr');
  const states = (await events(page)).filter((e) => e.type === 'wxpay-state').map((e) => e.state);
  assert.deepEqual(states, ['preparing', 'scanning', 'preparing', 'scanning']);
  await simPay(ctx.demo.url, { code_url: later.codeUrl });
  await waitForEvent(page, (e) => e.type === 'wxpay-paid', 5_000);
  await page.context().close();
});

test('an unknown mode attribute fails at once with a message that says what to fix', async () => {
  const page = await openPage(ctx.browser, { ua: UA.desktop, viewport: DESKTOP });
  await page.goto(ctx.demo.url + '/?mode=app');
  await page.click('#pay');
  const failed = await waitForEvent(page, (e) => e.type === 'wxpay-fail', 5_000);
  assert.equal(failed.status, 'failed');
  assert.match(failed.detail.message, /mode="app" is not one of jsapi, h5, native, miniprogram/);
  await page.context().close();
});
