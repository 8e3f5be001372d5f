// Mini-program pay end to end in an ordinary browser: the shop with ?mode=miniprogram plays the
// page inside a mini-program <web-view>; the simulator's wx.miniProgram (/sim/miniprogram.js)
// opens the mini-program kit's own payment page (miniprogram/pages/pay/index, run with a
// stand-in wx) over it; the buyer pays in the simulator's sheet; the page goes back and the
// shop's element, which kept polling its backend, shows paid. Only the backend's SUCCESS counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoAndBrowser, openPage, UA, PHONE, shot, waitForState, waitForEvent, orderState, events } from './harness.mjs';

const ctx = demoAndBrowser();

/** The shop in mini-program mode, paying, with the mini-program page open over it. */
async function handedOff() {
  const page = await openPage(ctx.browser, { ua: UA.iphoneSafari, viewport: PHONE, isMobile: true });
  await page.goto(ctx.demo.url + '/?mode=miniprogram');
  await page.click('#pay');
  const paying = await waitForState(page, 'paying', 10_000);
  assert.equal(paying.mode, 'miniprogram');
  assert.match(paying.miniprogramPage, /^\/pages\/pay\/index\?order_id=ord_/);
  const iframe = page.locator('iframe[data-wxpay-sim=miniprogram]');
  await iframe.waitFor({ timeout: 10_000 });
  const src = await iframe.getAttribute('src');
  assert.equal(new URL(src).pathname + new URL(src).search, '/sim/miniprogram' + paying.miniprogramPage);
  const frame = await (await iframe.elementHandle()).contentFrame();
  frame.errors = [];
  page.on('console', (m) => m.type() === 'error' && frame.errors.push(m.text()));
  return { page, frame, orderId: paying.orderId };
}

/** Presses a button of the simulator's pay sheet in the mini-program page. */
async function sheet(frame, action) {
  const button = frame.locator(`[role=dialog] button[data-action=${action}]`);
  await button.waitFor({ timeout: 10_000 });
  await button.click();
}

test('mini-program hand-off: the kit\'s page pays, goes back, the web page shows paid', async () => {
  const { page, frame, orderId } = await handedOff();
  // The sheet is open: nothing is paid yet, whatever any page shows.
  await frame.locator('[role=dialog] button[data-action=pay]').waitFor({ timeout: 10_000 });
  assert.equal(await frame.locator('.wxpay-page').getAttribute('data-state'), 'paying');
  assert.equal(await orderState(ctx.demo.url, orderId), 'NOTPAY');
  assert.ok(!(await events(page)).some((e) => e.type === 'wxpay-paid'));
  await shot(page, 'miniprogram-sheet-phone');
  await sheet(frame, 'pay');
  await frame.locator('.wxpay-page[data-state=paid]').waitFor({ timeout: 10_000 });
  assert.match(await frame.locator('.wxpay-status').textContent(), /支付成功/);
  await shot(page, 'miniprogram-paid-phone');
  // navigateBack after a moment: the mini-program page closes over the web page.
  await page.locator('iframe[data-wxpay-sim=miniprogram]').waitFor({ state: 'detached', timeout: 5_000 });
  const paid = await waitForEvent(page, (e) => e.type === 'wxpay-paid', 15_000);
  assert.equal(paid.mode, 'miniprogram');
  assert.equal(paid.orderId, orderId);
  assert.equal(paid.detail.tradeState, 'SUCCESS');
  assert.equal(await orderState(ctx.demo.url, orderId), 'SUCCESS');
  await shot(page, 'miniprogram-back-paid-phone');
  assert.deepEqual(page.errors, []);
  assert.deepEqual(frame.errors, []);
  await page.context().close();
});

test('cancelled in the mini-program page, then "重新支付" pays the same order', async () => {
  const { page, frame, orderId } = await handedOff();
  await sheet(frame, 'cancel');
  await frame.locator('.wxpay-page[data-state=cancelled]').waitFor({ timeout: 10_000 });
  assert.match(await frame.locator('.wxpay-status').textContent(), /支付已取消/);
  assert.equal(await orderState(ctx.demo.url, orderId), 'NOTPAY');
  // The web page is still waiting for its backend, not cancelled by the mini-program's word.
  assert.ok(!(await events(page)).some((e) => ['wxpay-cancel', 'wxpay-paid', 'wxpay-fail'].includes(e.type)));
  await frame.locator('button[data-action=retry]').click();
  await sheet(frame, 'pay');
  await waitForEvent(page, (e) => e.type === 'wxpay-paid', 15_000);
  assert.equal(await orderState(ctx.demo.url, orderId), 'SUCCESS');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
