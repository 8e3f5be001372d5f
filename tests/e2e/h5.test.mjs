// H5 (MWEB) pay end to end in a phone browser outside WeChat: the page goes to the
// simulator's cashier with a correctly encoded redirect_url, the buyer pays (or not), WeChat
// sends them back, and the page learns the truth from the backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoAndBrowser, openPage, UA, PHONE, shot, waitForState, waitForEvent, simPay, panelText, clickAction, events } from './harness.mjs';

const ctx = demoAndBrowser();

async function toCashier() {
  const page = await openPage(ctx.browser, { ua: UA.iphoneSafari, viewport: PHONE, isMobile: true });
  await page.goto(ctx.demo.url + '/');
  await page.click('#pay');
  await page.waitForURL(/\/sim\/checkmweb\?/, { timeout: 10_000 });
  return page;
}

test('phone browser: cashier with an encoded redirect_url, pays, returns, ends paid', async () => {
  const page = await toCashier();
  const cashier = page.url();
  // The raw query carries redirect_url percent-encoded (no bare "://" or "?" inside it)…
  const raw = cashier.split('redirect_url=')[1];
  assert.ok(raw, cashier);
  assert.match(raw, /^http%3A%2F%2F127\.0\.0\.1%3A\d+%2F%3Fwxpay_order%3Dord_/);
  // …and decodes to this shop page marked with the order.
  const back = new URL(new URL(cashier).searchParams.get('redirect_url'));
  assert.equal(back.origin, ctx.demo.url);
  const orderId = back.searchParams.get('wxpay_order');
  assert.match(orderId, /^ord_/);
  await shot(page, 'h5-1-cashier-phone');

  await page.click('button.pay');
  await page.waitForURL((u) => u.searchParams.get('wxpay_order') === orderId && u.pathname === '/', { timeout: 10_000 });
  const paid = await waitForEvent(page, (e) => e.type === 'wxpay-paid', 10_000);
  assert.equal(paid.mode, 'h5');
  assert.equal(paid.orderId, orderId);
  const states = (await events(page)).filter((e) => e.type === 'wxpay-state').map((e) => e.state);
  assert.equal(states[0], 'checking', 'back from the cashier the page checks first');
  await shot(page, 'h5-2-paid-phone');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('back without paying: checking, then "I have paid" / "Pay again"; a later payment is found', async () => {
  const page = await toCashier();
  const prepayId = new URL(page.url()).searchParams.get('prepay_id');
  // Until the buyer taps "I have paid", the backend has not heard from WeChat (every check
  // answers NOTPAY), as when the notification is late.
  await page.route('**/api/orders/*', (route) =>
    route.request().method() === 'GET' ? route.fulfill({ json: { order_id: 'x', state: 'NOTPAY' } }) : route.continue(),
  );
  await page.click('button.cancel');
  await page.waitForURL(/[?&]wxpay_order=/, { timeout: 10_000 });
  await waitForState(page, 'checking');
  await shot(page, 'h5-3-checking-phone');
  await waitForState(page, 'unconfirmed', 15_000);
  const text = await panelText(page);
  assert.match(text, /我已完成支付/);
  assert.match(text, /重新支付/);
  await shot(page, 'h5-4-unconfirmed-phone');

  // The buyer pays in WeChat after all; the backend learns it; the buyer taps "I have paid".
  await simPay(ctx.demo.url, { prepay_id: prepayId });
  await page.waitForTimeout(3_000);
  assert.ok(!(await events(page)).some((e) => e.type === 'wxpay-paid'), 'not known yet');
  await page.unroute('**/api/orders/*');
  const clicked = Date.now();
  await clickAction(page, 'i-have-paid');
  await waitForEvent(page, (e) => e.type === 'wxpay-paid', 10_000);
  assert.ok(Date.now() - clicked < 3_000, '"I have paid" checks at once');
  await page.context().close();
});

test('"Pay again" asks for a fresh h5_url and goes back to the cashier', async () => {
  const page = await toCashier();
  await page.click('button.cancel');
  await page.waitForURL(/[?&]wxpay_order=/, { timeout: 10_000 });
  await waitForState(page, 'unconfirmed', 15_000);
  const payAgain = page.waitForRequest((r) => r.url().endsWith('/pay') && r.method() === 'POST');
  await clickAction(page, 'pay-again');
  const body = JSON.parse((await payAgain).postData());
  assert.equal(body.mode, 'h5');
  assert.match(body.return_url, /[?&]wxpay_order=ord_/);
  assert.doesNotMatch(body.return_url, /wxpay_order=.*wxpay_order=/, 'one marker, not two');
  await page.waitForURL(/\/sim\/checkmweb\?/, { timeout: 10_000 });
  await page.context().close();
});
