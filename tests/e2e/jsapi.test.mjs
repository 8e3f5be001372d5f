// JSAPI pay end to end in a browser that says it is WeChat: the backend first asks for the
// buyer's openid, so the page goes through the simulator's OAuth page and comes back with a
// `code`; then WeixinJSBridge (the simulator's, or one injected by the test) shows the pay
// sheet. The bridge's word is never enough: only the backend's SUCCESS makes `paid`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoAndBrowser, openPage, UA, PHONE, shot, waitForState, waitForEvent, orderState, events } from './harness.mjs';

const ctx = demoAndBrowser();

/** Opens the shop as WeChat on an iPhone; `init` runs before any page script. */
async function wechatPage(init, arg) {
  const page = await openPage(ctx.browser, { ua: UA.wechatIos, viewport: PHONE, isMobile: true });
  if (init) await page.addInitScript(init, arg);
  page.visited = [];
  page.on('request', (r) => r.isNavigationRequest() && page.visited.push(r.url()));
  return page;
}

test('WeChat UA pays through the OAuth round trip and the simulator bridge', async () => {
  const page = await wechatPage(() => {
    window.__wxpaySimAction = 'pay';
  });
  await page.goto(ctx.demo.url + '/');
  await page.click('#pay');
  // OAuth: to the simulator's authorize page and back with a code for this order.
  await page.waitForURL(/[?&]wxpay_order=/, { timeout: 10_000 });
  const authorize = page.visited.find((u) => u.includes('/connect/oauth2/authorize'));
  assert.ok(authorize, `went through OAuth: ${page.visited.join(' ')}`);
  const redirectUri = new URL(authorize).searchParams.get('redirect_uri');
  assert.match(redirectUri, /[?&]wxpay_order=ord_/);
  assert.ok(page.visited.some((u) => /[?&]code=/.test(u)), 'came back with a code');
  const paid = await waitForEvent(page, (e) => e.type === 'wxpay-paid', 10_000);
  assert.equal(paid.mode, 'jsapi');
  assert.equal(paid.detail.tradeState, 'SUCCESS');
  const states = (await events(page)).filter((e) => e.type === 'wxpay-state').map((e) => e.state);
  assert.deepEqual(states.slice(0, 3), ['preparing', 'paying', 'confirming']);
  // The one-time code is gone from the address bar.
  assert.doesNotMatch(page.url(), /[?&]code=/);
  await shot(page, 'jsapi-paid-phone');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a bridge that answers :ok for an unpaid order does not produce paid', async () => {
  const page = await wechatPage(() => {
    window.WeixinJSBridge = {
      invoke(name, params, cb) {
        window.__invoked = { name, params };
        setTimeout(() => cb({ err_msg: 'get_brand_wcpay_request:ok' }), 50);
      },
    };
  });
  await page.goto(ctx.demo.url + '/');
  await page.click('#pay');
  await page.waitForURL(/[?&]wxpay_order=/, { timeout: 10_000 });
  await waitForState(page, 'confirming', 10_000);
  const invoked = await page.evaluate(() => window.__invoked);
  assert.equal(invoked.name, 'getBrandWCPayRequest');
  assert.deepEqual(Object.keys(invoked.params).sort(), ['appId', 'nonceStr', 'package', 'paySign', 'signType', 'timeStamp']);
  assert.match(invoked.params.package, /^prepay_id=/);
  await page.waitForTimeout(5_000);
  const seen = await events(page);
  assert.ok(!seen.some((e) => e.type === 'wxpay-paid' || e.state === 'paid'), 'no paid without the backend');
  const orderId = new URL(page.url()).searchParams.get('wxpay_order');
  assert.equal(await orderState(ctx.demo.url, orderId), 'NOTPAY');
  await shot(page, 'jsapi-confirming-phone');
  await page.context().close();
});

test('cancelling in the pay sheet ends cancelled, with a way to try again', async () => {
  const page = await wechatPage(() => {
    window.__wxpaySimAction = 'cancel';
  });
  await page.goto(ctx.demo.url + '/');
  await page.click('#pay');
  const cancelled = await waitForEvent(page, (e) => e.type === 'wxpay-cancel', 15_000);
  assert.equal(cancelled.status, 'cancelled');
  const retry = await page.evaluate(() => !!document.querySelector('wxpay-checkout').shadowRoot.querySelector('button[data-action=retry]'));
  assert.ok(retry, 'offers to try again');
  await shot(page, 'jsapi-cancelled-phone');
  // The bridge wait's listener and timer are gone: nothing fires into freed closures later.
  await page.waitForTimeout(5_500);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('no WeixinJSBridge: a clear failure after the timeout', async () => {
  // A WeChat UA on a page that never gets a bridge (the demo loads the simulator's only when
  // none exists, so block that script).
  const page = await wechatPage();
  await page.route('**/sim/bridge.js', (route) => route.fulfill({ contentType: 'application/javascript', body: '' }));
  await page.goto(ctx.demo.url + '/');
  await page.click('#pay');
  const failed = await waitForEvent(page, (e) => e.type === 'wxpay-fail', 20_000);
  assert.match(failed.detail.message, /WeixinJSBridge did not become ready/);
  await page.context().close();
});
