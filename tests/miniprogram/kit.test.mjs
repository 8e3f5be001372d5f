// payOrder() of miniprogram/wxpay.js against a real `wxpay demo`: wx.login through the
// simulator, the backend's mini-program mode (jscode2session, JSAPI order, five signed
// parameters) over real HTTP through a loopback proxy, wx.requestPayment through the
// simulator's sheet. "paid" must come from the backend only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoAndProxy, startProxy, wxpay, fakeWx, createOrder, orderState, loginCode, polls, pays, sleep } from './support.mjs';

const ctx = demoAndProxy();
const FAST = { interval: 100, fastFor: 1000, maxInterval: 500, jitter: 0 };

/** payOrder through the proxy, recording every state the kit reports. */
function pay(orderId, wx, extra = {}) {
  const states = [];
  const handle = wxpay.payOrder({
    orderId,
    apiBase: `${ctx.proxy.url}/api`,
    wx,
    polling: FAST,
    retryDelay: 50,
    onState: (d) => states.push(d.note ? `${d.state}:${d.note}` : d.state),
    ...extra,
  });
  return { handle, states };
}

function maxConcurrentPolls() {
  return Math.max(0, ...polls(ctx.proxy.log).map((e) => e.concurrent));
}

test('paid: login, order, the five checked and paid, confirmed by the backend', async () => {
  ctx.proxy.clear();
  const orderId = await createOrder(ctx.demo.url, 2);
  const wx = fakeWx(ctx.demo.url);
  const { handle, states } = pay(orderId, wx);
  const outcome = await handle;
  assert.equal(outcome.status, 'paid', JSON.stringify(outcome));
  assert.equal(outcome.orderId, orderId);
  assert.equal(outcome.mode, 'miniprogram');
  assert.equal(outcome.detail.tradeState, 'SUCCESS');
  assert.match(outcome.detail.transactionId, /^4200\d+$/);
  assert.deepEqual(states, ['preparing', 'paying', 'confirming', 'paid']);
  assert.equal(await orderState(ctx.demo.url, orderId), 'SUCCESS');
  assert.equal(wx.calls.login, 1);
  assert.equal(wx.calls.requestPayment, 1);
  assert.deepEqual(Object.keys(wx.calls.payParams).sort(), ['nonceStr', 'package', 'paySign', 'signType', 'timeStamp']);
  assert.ok(polls(ctx.proxy.log).length >= 1, 'asked the backend');
  assert.equal(maxConcurrentPolls(), 1, 'one request in flight');
});

test('cancelled: requestPayment:fail cancel, the backend asked once, still NOTPAY', async () => {
  ctx.proxy.clear();
  const orderId = await createOrder(ctx.demo.url);
  const { handle, states } = pay(orderId, fakeWx(ctx.demo.url, { payAction: 'cancel' }));
  const outcome = await handle;
  assert.equal(outcome.status, 'cancelled');
  assert.equal(outcome.detail.tradeState, null);
  assert.match(outcome.detail.message, /closed WeChat's pay sheet/);
  assert.deepEqual(states, ['preparing', 'paying', 'cancelled']);
  assert.equal(polls(ctx.proxy.log).length, 1, 'one check of the backend');
  assert.equal(await orderState(ctx.demo.url, orderId), 'NOTPAY');
});

test('failed: requestPayment:fail from the sheet is a failure the buyer can retry', async () => {
  ctx.proxy.clear();
  const orderId = await createOrder(ctx.demo.url);
  const { handle } = pay(orderId, fakeWx(ctx.demo.url, { payAction: 'fail' }));
  const outcome = await handle;
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.detail.reason, 'wechat');
  assert.match(outcome.detail.message, /WeChat Pay failed: requestPayment:fail/);
  assert.notEqual(await orderState(ctx.demo.url, orderId), 'SUCCESS');
});

test(':ok while the backend still says NOTPAY is never paid: confirming, backing off, expired at the deadline', async () => {
  ctx.proxy.clear();
  const orderId = await createOrder(ctx.demo.url);
  // A sheet that says ok without paying: WeChat's :ok is a hint, not proof.
  const wx = fakeWx(ctx.demo.url, { requestPayment: async () => ({ errMsg: 'requestPayment:ok' }) });
  const { handle, states } = pay(orderId, wx, {
    polling: { interval: 100, fastFor: 300, backoff: 2, maxInterval: 400, jitter: 0, longPoll: 0, maxDuration: 2500 },
  });
  const outcome = await handle;
  assert.equal(outcome.status, 'expired');
  assert.match(outcome.detail.message, /did not confirm a payment/);
  assert.deepEqual(states, ['preparing', 'paying', 'confirming', 'expired']);
  const asked = polls(ctx.proxy.log);
  assert.ok(asked.length >= 5, `polled ${asked.length} times`);
  const gaps = asked.slice(1).map((e, i) => e.at - asked[i].at);
  assert.ok(gaps[0] < 250, `fast at first: ${gaps}`);
  assert.ok(gaps.at(-2) >= 350, `backed off to maxInterval: ${gaps}`);
  assert.ok(gaps.every((g) => g < 650), `never past maxInterval: ${gaps}`);
  assert.equal(maxConcurrentPolls(), 1);
  assert.equal(await orderState(ctx.demo.url, orderId), 'NOTPAY');
});

test('a spent login code gets one fresh wx.login', async () => {
  ctx.proxy.clear();
  // Spend a code on another order, then hand it to the kit first.
  const spent = await loginCode(ctx.demo.url);
  const other = await createOrder(ctx.demo.url);
  const r = await fetch(`${ctx.demo.url}/api/orders/${other}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode: 'miniprogram', code: spent }),
  });
  assert.equal(r.status, 200);
  const orderId = await createOrder(ctx.demo.url);
  const wx = fakeWx(ctx.demo.url, { login: (real, n) => (n === 1 ? Promise.resolve(spent) : real()) });
  const outcome = await pay(orderId, wx).handle;
  assert.equal(outcome.status, 'paid', JSON.stringify(outcome));
  assert.equal(wx.calls.login, 2);
  assert.equal(pays(ctx.proxy.log).length, 2);
});

test('a login code rejected twice fails instead of looping', async () => {
  ctx.proxy.clear();
  const orderId = await createOrder(ctx.demo.url);
  const wx = fakeWx(ctx.demo.url, { login: () => Promise.resolve('bogus-code') });
  const outcome = await pay(orderId, wx).handle;
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.detail.reason, 'merchant');
  assert.match(outcome.detail.message, /invalid_code/);
  assert.equal(wx.calls.login, 2);
  assert.equal(wx.calls.requestPayment, 0);
});

test('backend 5xx, then recovery: the pay call and the polling retry and it is paid', async () => {
  ctx.proxy.clear();
  const orderId = await createOrder(ctx.demo.url);
  ctx.proxy.fail((req) => req.method === 'POST', 503, 2);
  ctx.proxy.fail((req) => req.method === 'GET', 502, 2);
  const wx = fakeWx(ctx.demo.url);
  const { handle, states } = pay(orderId, wx);
  const outcome = await handle;
  assert.equal(outcome.status, 'paid', JSON.stringify(outcome));
  assert.equal(pays(ctx.proxy.log).length, 3, 'two 503s, then the real answer');
  assert.ok(polls(ctx.proxy.log).length >= 3, 'two 502s, then the real answer');
  assert.ok(states.includes('preparing:retrying'), states.join());
  assert.ok(states.includes('confirming:retrying'), states.join());
  assert.equal(wx.calls.requestPayment, 1, 'one payment');
});

test('a backend that stays unreachable: three retries, then failed with reason "network"', async () => {
  const orderId = await createOrder(ctx.demo.url);
  const wx = fakeWx(ctx.demo.url);
  // A port nothing listens on.
  const closed = await startProxy(ctx.demo.url);
  const dead = closed.url;
  await closed.stop();
  const outcome = await wxpay.payOrder({ orderId, apiBase: `${dead}/api`, wx, retryDelay: 20 });
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.detail.reason, 'network');
  assert.match(outcome.detail.message, /cannot reach the merchant backend/);
  assert.equal(wx.calls.request, 4);
  assert.equal(wx.calls.requestPayment, 0);
});

test('pay parameters are checked before wx.requestPayment', async () => {
  const orderId = await createOrder(ctx.demo.url);
  const wx = fakeWx(ctx.demo.url);
  // This mini-program is another appid than the backend signs for.
  wx.getAccountInfoSync = () => ({ miniProgram: { appId: 'wx0000000000000000' } });
  const outcome = await pay(orderId, wx).handle;
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.detail.reason, 'merchant');
  assert.match(outcome.detail.message, /signed for appId wx8888888888888888 but this mini-program is wx0000000000000000/);
  assert.equal(wx.calls.requestPayment, 0);

  const good = { timeStamp: '1700000000', nonceStr: 'abc123', package: 'prepay_id=wx123', signType: 'RSA', paySign: 'c2ln' };
  assert.equal(wxpay.checkPayParams(good), null);
  for (const [field, value, says] of [
    ['timeStamp', 1700000000, /timeStamp/],
    ['timeStamp', '17000000001', /timeStamp/],
    ['nonceStr', '', /nonceStr/],
    ['nonceStr', 'a-b', /nonceStr/],
    ['package', 'wx123', /package/],
    ['package', 'prepay_id=', /package/],
    ['signType', 'SHA1', /signType/],
    ['paySign', undefined, /paySign/],
    ['paySign', 'a b', /paySign/],
  ]) {
    assert.match(wxpay.checkPayParams({ ...good, [field]: value }) ?? 'accepted', says, `${field}=${JSON.stringify(value)}`);
  }
  assert.match(wxpay.checkPayParams(undefined), /no "jsapi"/);
});

test('abort() mid-poll: the request in flight is dropped, nothing more is sent', async () => {
  ctx.proxy.clear();
  const orderId = await createOrder(ctx.demo.url);
  const wx = fakeWx(ctx.demo.url, { requestPayment: async () => ({ errMsg: 'requestPayment:ok' }) });
  const { handle, states } = pay(orderId, wx, { polling: { ...FAST, longPoll: 20 } });
  while (polls(ctx.proxy.log).length === 0) await sleep(20);
  await sleep(100); // the long-poll is held by the backend
  handle.abort();
  const outcome = await handle;
  assert.equal(outcome.status, 'cancelled');
  assert.equal(outcome.detail.reason, 'aborted');
  await sleep(300);
  const sent = polls(ctx.proxy.log);
  assert.equal(sent.length, 1);
  assert.ok(sent[0].closedEarly, 'the held request was aborted');
  assert.ok(!states.includes('cancelled'), 'an abort is not shown as a state');
});

test('options are checked with messages that say what to fix', () => {
  const wx = fakeWx(ctx.demo.url);
  const bad = [
    [{ apiBase: 'https://a.example/api', wx }, /orderId is required/],
    [{ orderId: 'o', wx }, /apiBase is required/],
    [{ orderId: 'o', apiBase: '/api', wx }, /absolute URL/],
    [{ orderId: 'o', apiBase: 'http://shop.example/api', wx }, /must be https/],
    [{ orderId: 'o', apiBase: 'https://a.example/api', wx: {} }, /wx \(login, request, requestPayment\) is missing/],
    [{ orderId: 'o', apiBase: 'https://a.example/api', wx, polling: { interval: -1 } }, /polling.interval must be a number from 1/],
    [{ orderId: 'o', apiBase: 'https://a.example/api', wx, polling: { every: 1 } }, /polling.every is not an option/],
    [{ orderId: 'o', apiBase: 'https://a.example/api', wx, header: { a: 1 } }, /header must be an object of string values/],
  ];
  for (const [options, message] of bad) assert.throws(() => wxpay.payOrder(options), message);
  assert.equal(wxpay.payResult('requestPayment:ok'), 'ok');
  assert.equal(wxpay.payResult('requestPayment:fail cancel'), 'cancel');
  assert.equal(wxpay.payResult('requestPayment:fail (detail message)'), 'fail');
  assert.equal(wxpay.payResult(undefined), 'fail');
});
