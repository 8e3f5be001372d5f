// The kit's ready page (miniprogram/pages/pay/index.js) loaded as WeChat loads it, against a real
// `wxpay demo`: what the buyer sees in each language, going back once paid, "try again", and
// leaving the page mid-poll (onUnload) stopping every request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoAndProxy, fakeWx, loadPage, createOrder, polls, until, sleep } from './support.mjs';

const ctx = demoAndProxy();
const FAST = { interval: 100, fastFor: 1000, maxInterval: 500, jitter: 0 };

const open = (wx, query, polling = FAST) => {
  const page = loadPage(wx, { apiBase: `${ctx.proxy.url}/api`, polling });
  page.onLoad(query);
  return page;
};
const tap = (page, action) => page.onAction({ currentTarget: { dataset: { action } } });

test('paid: "支付成功", then back to the web-view page', async () => {
  const orderId = await createOrder(ctx.demo.url);
  const wx = fakeWx(ctx.demo.url);
  const page = open(wx, { order_id: encodeURIComponent(orderId) });
  assert.equal(wx.calls.title, '微信支付');
  await until(() => page.data.state === 'paid', 10_000, 'paid');
  assert.equal(page.data.status, '支付成功');
  assert.equal(page.data.icon, 'success');
  const shown = page.history.map((d) => d.state);
  assert.deepEqual([...new Set(shown)], ['preparing', 'paying', 'confirming', 'paid']);
  assert.equal(page.history.find((d) => d.state === 'confirming').status, '正在确认支付结果…');
  await until(() => wx.calls.navigateBack === 1, 3_000, 'navigateBack');
});

test('cancelled, in English: "Try again" pays the same order', async () => {
  const orderId = await createOrder(ctx.demo.url);
  // The buyer cancels, then pays on the second try.
  const wx = fakeWx(ctx.demo.url, { payAction: (n) => (n === 1 ? 'cancel' : 'pay') });
  wx.getAppBaseInfo = () => ({ language: 'en' });
  const page = open(wx, { order_id: orderId });
  await until(() => page.data.state === 'cancelled', 10_000, 'cancelled');
  assert.equal(page.data.status, 'Payment cancelled');
  assert.deepEqual(page.data.actions, [{ name: 'retry', label: 'Try again' }, { name: 'back', label: 'Back' }]);
  tap(page, 'retry');
  await until(() => page.data.state === 'paid', 10_000, 'paid after retry');
  assert.equal(page.data.status, 'Payment received');
  page.onUnload();
});

test('zh-TW (&lang=zh_HK): a backend that cannot be reached says so in words a buyer understands', async () => {
  const wx = fakeWx(ctx.demo.url);
  const page = loadPage(wx, { apiBase: 'http://127.0.0.1:9/api', polling: FAST });
  page.onLoad({ order_id: 'ord_x', lang: 'zh_HK' });
  await until(() => page.data.state === 'failed', 20_000, 'failed');
  assert.equal(page.data.status, '支付失敗');
  assert.equal(page.data.message, '無法連線商家伺服器，請檢查網路後重試');
  assert.deepEqual(page.data.actions.map((a) => a.name), ['retry', 'back']);
  tap(page, 'back');
  assert.equal(wx.calls.navigateBack, 1);
});

test('no order id: says so and offers only "back"; with no page under it, back is the configured home', () => {
  const wx = fakeWx(ctx.demo.url);
  wx.navigateBack = (o) => o.fail({ errMsg: 'navigateBack:fail cannot navigate back at first page.' });
  wx.reLaunch = (o) => (wx.calls.relaunched = o.url);
  const page = loadPage(wx, { apiBase: `${ctx.proxy.url}/api`, polling: FAST, home: '/pages/index/index' });
  page.onLoad({});
  assert.equal(page.data.state, 'failed');
  assert.equal(page.data.message, '缺少订单号，请返回重新下单');
  assert.deepEqual(page.data.actions.map((a) => a.name), ['back']);
  tap(page, 'back');
  assert.equal(wx.calls.relaunched, '/pages/index/index');
});

test('page unloaded mid-poll: the request in flight is aborted and no more are sent', async () => {
  ctx.proxy.clear();
  const orderId = await createOrder(ctx.demo.url);
  // :ok without paying keeps the page polling (long-polls held by the backend).
  const wx = fakeWx(ctx.demo.url, { requestPayment: async () => ({ errMsg: 'requestPayment:ok' }) });
  const page = open(wx, { order_id: orderId }, { ...FAST, longPoll: 20 });
  await until(() => polls(ctx.proxy.log).length > 0 && page.data.state === 'confirming', 10_000, 'polling');
  await sleep(150);
  const requests = wx.calls.request;
  page.onUnload();
  await sleep(1_000); // ten polling intervals
  assert.equal(wx.calls.request, requests, 'no request after onUnload');
  const sent = polls(ctx.proxy.log);
  assert.equal(sent.length, 1);
  assert.ok(sent[0].closedEarly, 'the held long-poll was aborted');
  assert.equal(page.data.state, 'confirming', 'nothing drawn after unload');
  assert.equal(wx.calls.navigateBack, 0);
});
