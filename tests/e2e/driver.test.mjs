// The packaged JS API in a real page, through pkg/checkout.js (the driver) and the wasm run:
// checkout() with a custom backend (Native panel, outcome, abort, option errors), the JSAPI
// bridge with a fake WeixinJSBridge, the mini-program hand-off, and the element over HTTP
// (events, removal, try again, a language change on a paid checkout, polling attributes).
// Also the field bugs of issue 13 that need a browser: answers about another order ignored,
// requests that never answer aborted at their deadline, already_paid confirmed as paid,
// redirects checked with the browser's URL parser. Text from a backend must never become
// markup.
//
// The pages are blank ones on the demo's origin (so /pkg/ is same-origin); nothing here pays
// through the simulator, the other e2e files do that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoAndBrowser, openPage, UA, DESKTOP } from './harness.mjs';

const ctx = demoAndBrowser();

/** The six JSAPI parameters the fake backends hand out (WeChat's documented example values). */
const JSAPI_PARAMS = {
  appId: 'wxd678efh567hg6787',
  timeStamp: '1795696662',
  nonceStr: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
  package: 'prepay_id=wx201410272009395522657a690389285100',
  signType: 'RSA',
  paySign: 'c2lnbmF0dXJl',
};

/** In-page helpers, installed before the package loads. */
function helpers(jsapiParams) {
  /** A custom backend: pay answers `payment` (default a Native code_url), status walks `states`. */
  window.fakeBackend = (states, payment) => {
    const log = { pays: [], polls: [] };
    return {
      log,
      async pay(orderId, request) {
        log.pays.push([orderId, request]);
        return payment ?? { mode: 'native', code_url: 'weixin://wxpay/bizpayurl?pr=abc', expires_at: new Date(Date.now() + 60_000).toISOString() };
      },
      async status(orderId, options) {
        log.polls.push({ orderId, wait: options.wait, signal: options.signal instanceof AbortSignal });
        return { state: states.length > 1 ? states.shift() : states[0], transaction_id: '4200000001' };
      },
    };
  };
  window.container = () => document.body.appendChild(document.createElement('div'));
  window.opts = (backend, container, extra) =>
    Object.assign({ orderId: 'ord_1', mode: 'native', backend, container, locale: 'en', polling: { interval: 100, longPoll: 0, jitter: 0 } }, extra);
  window.sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  /** A fake WeixinJSBridge answering `answer`: there now (later < 0) or injected after `later` ms. */
  window.installBridge = (answer, later) => {
    window.bridgeCalls = [];
    const bridge = {
      invoke(name, params, cb) {
        window.bridgeCalls.push([name, params]);
        setTimeout(() => cb(answer), 0);
      },
    };
    if (later < 0) return void (window.WeixinJSBridge = bridge);
    delete window.WeixinJSBridge;
    setTimeout(() => {
      window.WeixinJSBridge = bridge;
      document.dispatchEvent(new Event('WeixinJSBridgeReady'));
    }, later);
  };
  window.jsapiParams = (extra) => ({ ...jsapiParams, ...extra });
  window.jsapiOpts = (backend, extra) => opts(backend, container(), { mode: 'jsapi', ...extra });
}

/** A blank page on the demo's origin with the package imported as `window.wxpay`. */
async function blankPage() {
  const page = await openPage(ctx.browser, { ua: UA.desktop, viewport: DESKTOP });
  await page.addInitScript(helpers, JSAPI_PARAMS);
  await page.route('**/driver-test.html', (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>driver test</title><body></body>' }),
  );
  await page.goto(ctx.demo.url + '/driver-test.html');
  await page.evaluate(async () => {
    window.wxpay = await import('/pkg/index.js');
  });
  return page;
}

async function done(page) {
  assert.deepEqual(page.errors, []);
  await page.context().close();
}

test('checkout() in Native mode with a custom backend ends paid; markup in its data stays text', async () => {
  const page = await blankPage();
  const r = await page.evaluate(async () => {
    const backend = fakeBackend(['NOTPAY', 'USERPAYING', 'SUCCESS'], {
      code_url: 'weixin://wxpay/bizpayurl?pr=<img src=x onerror="window.__xss=1">',
      expires_at: new Date(Date.now() + 60_000).toISOString(),
    });
    const div = container();
    const seen = [];
    const outcome = await wxpay.checkout(opts(backend, div, { onState: (d) => seen.push(d) }));
    const scanning = seen.find((d) => d.state === 'scanning');
    return {
      outcome,
      states: seen.map((d) => d.state),
      details: seen.map((d) => [d.mode, d.orderId]),
      scanning: { codeUrl: scanning?.codeUrl, expiresAtIsDate: scanning?.expiresAt instanceof Date },
      log: backend.log,
      status: div.querySelector('[data-state=paid] .wxpay-status')?.textContent,
      mark: div.querySelector('[data-state=paid] .wxpay-mark')?.textContent,
      imgs: div.querySelectorAll('img').length,
      xss: window.__xss ?? null,
    };
  });
  assert.equal(r.outcome.status, 'paid');
  assert.equal(r.outcome.orderId, 'ord_1');
  assert.equal(r.outcome.mode, 'native');
  assert.equal(r.outcome.detail.tradeState, 'SUCCESS');
  assert.equal(r.outcome.detail.transactionId, '4200000001');
  assert.deepEqual(r.states, ['preparing', 'scanning', 'paid']);
  assert.ok(r.details.every(([mode, id]) => mode === 'native' && id === 'ord_1'), JSON.stringify(r.details));
  assert.match(r.scanning.codeUrl, /pr=<img/);
  assert.ok(r.scanning.expiresAtIsDate, 'detail.expiresAt is a Date');
  assert.equal(r.log.pays.length, 1);
  assert.equal(r.log.pays[0][0], 'ord_1');
  assert.equal(r.log.pays[0][1].mode, 'native');
  // Three checks (NOTPAY, USERPAYING, SUCCESS), each with a signal and no long-poll (longPoll: 0).
  assert.equal(r.log.polls.length, 3);
  assert.ok(r.log.polls.every((p) => p.orderId === 'ord_1' && p.signal && p.wait === undefined), JSON.stringify(r.log.polls));
  assert.equal(r.status, 'Payment received');
  assert.equal(r.mark, '✓');
  assert.equal(r.imgs, 0, 'nothing from the backend became markup');
  assert.equal(r.xss, null);
  await done(page);
});

test('scanning shows the QR, an accessible timer; abort() stops everything', async () => {
  const page = await blankPage();
  const r = await page.evaluate(async () => {
    const backend = fakeBackend(['NOTPAY']);
    const div = container();
    const handle = wxpay.checkout(opts(backend, div));
    await sleep(400);
    const panel = div.querySelector('[data-state=scanning]');
    const qr = panel?.querySelector('.wxpay-qr');
    const seen = {
      svg: !!qr?.querySelector('svg'),
      role: qr?.getAttribute('role'),
      codeUrl: qr?.getAttribute('data-code-url'),
      timer: panel?.querySelector('.wxpay-timer[role=timer]')?.textContent,
      timerLabel: panel?.querySelector('[role=timer]')?.getAttribute('aria-label'),
      live: !!panel?.querySelector('.wxpay-sr[aria-live=polite]'),
      part: div.querySelector('.wxpay-panel')?.getAttribute('part'),
      statusRole: div.querySelector('[part=status]')?.getAttribute('role'),
    };
    handle.abort();
    const outcome = await handle;
    const polls = backend.log.polls.length;
    await sleep(600);
    return { seen, outcome, polls, pollsLater: backend.log.polls.length };
  });
  assert.ok(r.seen.svg, 'the QR SVG is drawn');
  assert.equal(r.seen.role, 'img');
  assert.equal(r.seen.codeUrl, 'weixin://wxpay/bizpayurl?pr=abc');
  assert.ok(r.seen.timer === '01:00' || r.seen.timer?.startsWith('00:5'), r.seen.timer);
  assert.ok(r.seen.timerLabel, 'the timer has a label');
  assert.ok(r.seen.live, 'a polite live region for announcements');
  assert.equal(r.seen.part, 'panel');
  assert.equal(r.seen.statusRole, 'status');
  assert.equal(r.outcome.status, 'cancelled');
  assert.equal(r.outcome.detail.reason, 'aborted');
  assert.ok(r.polls >= 1, 'it was polling');
  assert.equal(r.pollsLater, r.polls, 'no status call after abort');
  await done(page);
});

test('an AbortSignal stops a checkout, also one aborted before the start', async () => {
  const page = await blankPage();
  const r = await page.evaluate(async () => {
    const backend = fakeBackend(['NOTPAY']);
    const controller = new AbortController();
    const running = wxpay.checkout(opts(backend, undefined, { signal: controller.signal }));
    await sleep(300);
    controller.abort();
    const first = await running;
    const polls = backend.log.polls.length;
    const idle = fakeBackend(['NOTPAY']);
    const states = [];
    const early = await wxpay.checkout(opts(idle, undefined, { signal: AbortSignal.abort(), onState: (d) => states.push(d.state) }));
    await sleep(400);
    return { first, early, polls, pollsLater: backend.log.polls.length, idle: idle.log, states };
  });
  for (const outcome of [r.first, r.early]) {
    assert.equal(outcome.status, 'cancelled');
    assert.equal(outcome.detail.reason, 'aborted');
  }
  assert.equal(r.pollsLater, r.polls, 'no status call after the signal aborted');
  // Aborted before it started: the backend is never asked and no state is entered.
  assert.deepEqual([r.idle.pays, r.idle.polls, r.states], [[], [], []]);
  await done(page);
});

test('abort() reaches a pay hook that is still working, through its signal', async () => {
  const page = await blankPage();
  const r = await page.evaluate(async () => {
    let signal;
    const backend = {
      pay: (orderId, request, options) => {
        signal = options.signal;
        return new Promise(() => {}); // never answers
      },
      status: async () => ({ state: 'NOTPAY' }),
    };
    const handle = wxpay.checkout(opts(backend, undefined));
    await sleep(50);
    const before = signal?.aborted;
    handle.abort();
    const outcome = await handle;
    return { before, after: signal?.aborted, status: outcome.status };
  });
  assert.deepEqual(r, { before: false, after: true, status: 'cancelled' });
  await done(page);
});

test('option errors throw at once and name the option', async () => {
  const page = await blankPage();
  const r = await page.evaluate(() => {
    const message = (options) => {
      try {
        wxpay.checkout(options);
        return 'did not throw';
      } catch (e) {
        return e instanceof Error ? e.message : `threw a non-Error: ${e}`;
      }
    };
    return {
      notObject: message('ord_1'),
      noOrderId: message({}),
      mode: message(opts(undefined, undefined, { mode: 'app' })),
      interval: message(opts(undefined, undefined, { polling: { interval: -1 } })),
      jitter: message(opts(undefined, undefined, { polling: { jitter: '20%' } })),
      polling: message(opts(undefined, undefined, { polling: 2000 })),
      hosts: message(opts(undefined, undefined, { redirectHosts: 'pay.example.com' })),
      container: message(opts(fakeBackend(['NOTPAY']), '#pay')),
      shadowRootOk: (() => {
        const host = container();
        const h = wxpay.checkout(opts(fakeBackend(['NOTPAY']), host.attachShadow({ mode: 'open' })));
        h.abort();
        return typeof h.then === 'function';
      })(),
    };
  });
  assert.match(r.notObject, /^checkout\(\): .*options/);
  assert.match(r.noOrderId, /orderId/);
  assert.match(r.mode, /"app"/);
  assert.match(r.mode, /mode/);
  assert.match(r.interval, /interval/);
  assert.equal(r.jitter, 'checkout(): option jitter must be a non-negative number');
  assert.match(r.polling, /^checkout\(\): option polling must be an object/);
  assert.equal(r.hosts, 'checkout(): option redirectHosts must be an array of host names');
  assert.equal(r.container, 'checkout(): option container must be a DOM element or shadow root');
  assert.ok(r.shadowRootOk, 'a shadow root is a valid container');
  await done(page);
});

test('JSAPI: a WeixinJSBridge that appears late (WeixinJSBridgeReady) gets the six parameters', async () => {
  const page = await blankPage();
  const r = await page.evaluate(async () => {
    installBridge({ err_msg: 'get_brand_wcpay_request:ok' }, 200);
    const backend = fakeBackend(['SUCCESS'], { jsapi: jsapiParams() });
    const seen = [];
    const outcome = await wxpay.checkout(jsapiOpts(backend, { bridgeTimeout: 3000, onState: (d) => seen.push(d.state) }));
    return { outcome, states: seen, calls: window.bridgeCalls, pays: backend.log.pays };
  });
  assert.equal(r.outcome.status, 'paid');
  assert.equal(r.outcome.mode, 'jsapi');
  assert.deepEqual(r.states, ['preparing', 'paying', 'confirming', 'paid']);
  assert.equal(r.pays.length, 1);
  assert.equal(r.pays[0][1].mode, 'jsapi');
  assert.equal(r.calls.length, 1);
  const [name, params] = r.calls[0];
  assert.equal(name, 'getBrandWCPayRequest');
  // Exactly the six, all strings (some WeChat clients reject a numeric timeStamp).
  assert.deepEqual(params, JSAPI_PARAMS);
  await done(page);
});

test('JSAPI: no WeixinJSBridge in time fails clearly, and stops listening for it', async () => {
  const page = await blankPage();
  const r = await page.evaluate(async () => {
    delete window.WeixinJSBridge;
    const started = Date.now();
    const outcome = await wxpay.checkout(jsapiOpts(fakeBackend(['NOTPAY'], { jsapi: jsapiParams() }), { bridgeTimeout: 150 }));
    const waited = Date.now() - started;
    // A bridge arriving after the run ended must not be invoked.
    installBridge({ err_msg: 'get_brand_wcpay_request:ok' }, 0);
    await sleep(100);
    return { outcome, waited, calls: window.bridgeCalls.length };
  });
  assert.equal(r.outcome.status, 'failed');
  assert.match(r.outcome.detail.message, /WeixinJSBridge did not become ready/);
  assert.ok(r.waited >= 140, `waited ${r.waited} ms`);
  assert.equal(r.calls, 0);
  await done(page);
});

test('JSAPI: bad parameters never reach the bridge; the message names the parameter', async () => {
  const page = await blankPage();
  const r = await page.evaluate(async () => {
    installBridge({ err_msg: 'get_brand_wcpay_request:ok' }, -1);
    const backend = fakeBackend(['NOTPAY'], { jsapi: jsapiParams({ package: 'wx2014' }) });
    const outcome = await wxpay.checkout(jsapiOpts(backend, { bridgeTimeout: 1000 }));
    return { outcome, calls: window.bridgeCalls.length };
  });
  assert.equal(r.outcome.status, 'failed');
  assert.match(r.outcome.detail.message, /package/);
  assert.equal(r.calls, 0, 'invoke was not called');
  await done(page);
});

test('mini-program: hands the order to the mini-program page and polls to paid', async () => {
  const page = await blankPage();
  const r = await page.evaluate(async () => {
    const navigations = [];
    window.wx = { miniProgram: { navigateTo: (o) => navigations.push(o.url) } };
    const backend = fakeBackend(['NOTPAY', 'SUCCESS']);
    const outcome = await wxpay.checkout(
      opts(backend, container(), { mode: 'miniprogram', miniprogramPath: '/pages/wxpay/pay', orderId: 'ord 7' }),
    );
    return { outcome, navigations, pays: backend.log.pays.length, polls: backend.log.polls.length };
  });
  assert.equal(r.outcome.status, 'paid');
  assert.equal(r.outcome.mode, 'miniprogram');
  assert.deepEqual(r.navigations, ['/pages/wxpay/pay?order_id=ord%207']);
  // The mini-program pays; the page never asks the backend for a payment itself.
  assert.equal(r.pays, 0);
  assert.equal(r.polls, 2);
  await done(page);
});

test('mini-program: without the JS-SDK it fails clearly and polls nothing', async () => {
  const page = await blankPage();
  const r = await page.evaluate(async () => {
    delete window.wx;
    const backend = fakeBackend(['NOTPAY']);
    const states = [];
    const outcome = await wxpay.checkout(opts(backend, container(), { mode: 'miniprogram', onState: (d) => states.push(d.state) }));
    return { outcome, states, polls: backend.log.polls.length };
  });
  assert.equal(r.outcome.status, 'failed');
  assert.match(r.outcome.detail.message, /JS-SDK/);
  assert.match(r.outcome.detail.message, /jweixin/);
  // Nothing happens for a hand-off that never happened: no "paying", no status call.
  assert.deepEqual(r.states, ['failed']);
  assert.equal(r.polls, 0);
  await done(page);
});

/** Routes `{base}/orders/*` of the page: pay → `pay`, status → NOTPAY; returns the call counts. */
async function routeApi(page, base, pay) {
  const calls = { pay: 0, status: 0 };
  await page.route(`**${base}/orders/**`, (route) => {
    const isPay = route.request().method() === 'POST';
    calls[isPay ? 'pay' : 'status'] += 1;
    const [status, body] = isPay ? pay : [200, { state: 'NOTPAY' }];
    return route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
  });
  return calls;
}

test('element: a backend error message goes to detail, the buyer reads a sentence; events are composed; try again restarts', async () => {
  const page = await blankPage();
  const calls = await routeApi(page, '/xss-api', [400, { error: 'bad_request', message: '<img src=x onerror="window.__xss=1">' }]);
  await page.evaluate(() => {
    window.seen = [];
    for (const type of ['wxpay-state', 'wxpay-fail', 'wxpay-paid', 'wxpay-cancel', 'wxpay-expire'])
      document.addEventListener(type, (e) => seen.push({ type, ...e.detail }));
    // Inside another shadow root: only composed events reach the document.
    const host = container().attachShadow({ mode: 'open' });
    const el = document.createElement('wxpay-checkout');
    for (const [k, v] of Object.entries({ 'order-id': 'ord_x', 'api-base': '/xss-api', mode: 'native', locale: 'en' })) el.setAttribute(k, v);
    host.append(el);
    window.el = el;
  });
  await page.waitForFunction(() => seen.some((e) => e.type === 'wxpay-fail'), null, { timeout: 5000 });
  const r = await page.evaluate(() => ({
    seen: seen.map((e) => e.type + ':' + (e.state ?? e.status)),
    fail: seen.find((e) => e.type === 'wxpay-fail'),
    note: el.shadowRoot.querySelector('.wxpay-note').textContent,
    imgs: el.shadowRoot.querySelectorAll('img').length,
    xss: window.__xss ?? null,
    retry: !!el.shadowRoot.querySelector('button[data-action=retry]'),
    state: el.shadowRoot.querySelector('.wxpay-panel').getAttribute('data-state'),
  }));
  assert.deepEqual(r.seen, ['wxpay-state:preparing', 'wxpay-state:failed', 'wxpay-fail:failed']);
  assert.equal(r.fail.orderId, 'ord_x');
  assert.match(r.fail.detail.message, /400/);
  assert.match(r.fail.detail.message, /<img src=x onerror=/, 'developers get the message of the backend in detail');
  // Buyers read what to do in their language, never the backend's English (or its markup).
  assert.equal(r.note, 'Please try again in a moment. If it keeps failing, contact the shop.');
  assert.equal(r.imgs, 0);
  assert.equal(r.xss, null);
  assert.equal(r.state, 'failed');
  assert.ok(r.retry, 'a try-again button');
  assert.equal(calls.pay, 1);
  await page.evaluate(() => el.shadowRoot.querySelector('button[data-action=retry]').click());
  await page.waitForFunction(() => seen.filter((e) => e.type === 'wxpay-fail').length === 2, null, { timeout: 5000 });
  assert.equal(calls.pay, 2, 'try again asked for a payment again');
  assert.equal(await page.evaluate(() => el.shadowRoot.querySelectorAll('.wxpay-panel').length), 1, 'one panel');
  await done(page);
});

test('element: removing it stops all its work silently', async () => {
  const page = await blankPage();
  const calls = await routeApi(page, '/stop-api', [200, { code_url: 'weixin://wxpay/bizpayurl?pr=stop', expires_at: new Date(Date.now() + 60_000).toISOString() }]);
  await page.evaluate(() => {
    window.seen = [];
    for (const type of ['wxpay-state', 'wxpay-fail', 'wxpay-paid', 'wxpay-cancel', 'wxpay-expire'])
      document.addEventListener(type, (e) => seen.push(e.type + ':' + (e.detail.state ?? e.detail.status)));
    document.body.insertAdjacentHTML('beforeend', '<wxpay-checkout order-id="ord_s" api-base="/stop-api" mode="native" locale="en"></wxpay-checkout>');
    window.el = document.querySelector('wxpay-checkout');
  });
  await page.waitForFunction(() => el.shadowRoot?.querySelector('[data-state=scanning] .wxpay-qr svg'), null, { timeout: 5000 });
  await page.evaluate(() => el.remove());
  const status = calls.status;
  await page.waitForTimeout(2500); // longer than the default poll interval
  assert.equal(calls.status, status, 'no status call after removal');
  assert.equal(calls.pay, 1);
  const r = await page.evaluate(() => ({ seen, children: el.shadowRoot.childNodes.length }));
  assert.deepEqual(r.seen, ['wxpay-state:preparing', 'wxpay-state:scanning'], 'a removed element reports nothing more');
  assert.equal(r.children, 0, 'the panel is gone');
  await done(page);
});

test('element: a blank order-id does nothing; a burst of attribute changes starts once', async () => {
  const page = await blankPage();
  const calls = await routeApi(page, '/burst-api', [200, { code_url: 'weixin://wxpay/bizpayurl?pr=b', expires_at: new Date(Date.now() + 60_000).toISOString() }]);
  const r = await page.evaluate(async () => {
    const seen = [];
    document.addEventListener('wxpay-state', (e) => seen.push(e.detail.state));
    const el = document.createElement('wxpay-checkout');
    el.setAttribute('order-id', '  ');
    document.body.append(el);
    await sleep(200);
    const blank = { seen: seen.length, shadow: el.shadowRoot?.childNodes.length ?? 0 };
    el.setAttribute('api-base', '/burst-api');
    el.setAttribute('mode', 'native');
    el.setAttribute('locale', 'en');
    el.setAttribute('order-id', 'ord_b');
    await sleep(300);
    const started = seen.slice();
    el.remove();
    return { blank, started, panels: el.shadowRoot.querySelectorAll('.wxpay-panel').length };
  });
  assert.deepEqual(r.blank, { seen: 0, shadow: 0 });
  assert.equal(r.started.filter((s) => s === 'preparing').length, 1, JSON.stringify(r.started));
  assert.equal(calls.pay, 1, 'one run for the whole burst');
  await done(page);
});

test('element: a paid checkout stays paid when the page changes its language; only a new order restarts', async () => {
  const page = await blankPage();
  const calls = { pay: 0, status: 0 };
  await page.route('**/lang-api/orders/**', (route) => {
    const isPay = route.request().method() === 'POST';
    calls[isPay ? 'pay' : 'status'] += 1;
    const orderId = decodeURIComponent(new URL(route.request().url()).pathname.split('/')[3]);
    const body = isPay
      ? { order_id: orderId, code_url: 'weixin://wxpay/bizpayurl?pr=lang', expires_at: new Date(Date.now() + 60_000).toISOString() }
      : { order_id: orderId, state: 'SUCCESS', transaction_id: '4200000042' };
    return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
  });
  await page.evaluate(() => {
    window.seen = [];
    for (const type of ['wxpay-state', 'wxpay-fail', 'wxpay-paid', 'wxpay-cancel', 'wxpay-expire'])
      document.addEventListener(type, (e) => seen.push(e.type + ':' + (e.detail.state ?? e.detail.status)));
    document.body.insertAdjacentHTML('beforeend', '<wxpay-checkout order-id="ord_l" api-base="/lang-api" mode="native" locale="en" poll-interval="200" long-poll="0"></wxpay-checkout>');
    window.el = document.querySelector('wxpay-checkout');
  });
  await page.waitForFunction(() => seen.includes('wxpay-paid:paid'), null, { timeout: 5000 });
  const before = { ...calls };
  const status = () => el.shadowRoot.querySelector('.wxpay-status').textContent;
  assert.equal(await page.evaluate(status), 'Payment received');
  await page.evaluate(() => el.setAttribute('locale', 'zh-CN'));
  await page.waitForTimeout(400);
  const r = await page.evaluate(() => ({ seen, status: el.shadowRoot.querySelector('.wxpay-status').textContent, lang: el.shadowRoot.querySelector('.wxpay-panel').lang, panels: el.shadowRoot.querySelectorAll('.wxpay-panel').length }));
  assert.equal(r.status, '支付成功', 're-labelled in the new language');
  assert.equal(r.lang, 'zh-CN');
  assert.equal(r.panels, 1);
  assert.deepEqual(r.seen, ['wxpay-state:preparing', 'wxpay-state:scanning', 'wxpay-state:paid', 'wxpay-paid:paid'], 'no new run, no failure');
  assert.deepEqual(calls, before, 'nothing asked of the backend');
  // Other settings apply to the next run only; a new order starts one.
  await page.evaluate(() => el.setAttribute('poll-interval', '300'));
  await page.waitForTimeout(200);
  assert.deepEqual(calls, before);
  await page.evaluate(() => el.setAttribute('order-id', 'ord_l2'));
  await page.waitForFunction(() => seen.filter((e) => e === 'wxpay-paid:paid').length === 2, null, { timeout: 5000 });
  assert.equal(calls.pay, before.pay + 1);
  await done(page);
});

test('element: a status answer about another order is ignored; max-duration ends the polling', async () => {
  const page = await blankPage();
  let polls = 0;
  await page.route('**/other-api/orders/**', (route) => {
    const isPay = route.request().method() === 'POST';
    if (!isPay) polls += 1;
    const body = isPay
      ? { code_url: 'weixin://wxpay/bizpayurl?pr=other', expires_at: new Date(Date.now() + 60_000).toISOString() }
      : { order_id: 'ord_OTHER', state: 'SUCCESS', transaction_id: '4200000099' };
    return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
  });
  const started = Date.now();
  const r = await page.evaluate(async () => {
    const seen = [];
    for (const type of ['wxpay-paid', 'wxpay-fail', 'wxpay-expire']) document.addEventListener(type, (e) => seen.push(e.detail));
    document.body.insertAdjacentHTML(
      'beforeend',
      '<wxpay-checkout order-id="ord_mine" api-base="/other-api" mode="native" locale="en" max-duration="1500" poll-interval="200" long-poll="0"></wxpay-checkout>',
    );
    while (!seen.length) await sleep(50);
    return seen;
  });
  assert.equal(r.length, 1);
  assert.equal(r[0].status, 'expired', 'never paid by an answer about another order');
  assert.match(r[0].detail.message, /maximum polling time/);
  assert.ok(Date.now() - started < 8000);
  assert.ok(polls >= 3, `kept asking (${polls} checks)`);
  await done(page);
});

test('a request that never answers is aborted at its deadline and retried', async () => {
  const page = await blankPage();
  const r = await page.evaluate(async () => {
    const signals = [];
    const backend = {
      pay(orderId, request, { signal }) {
        signals.push(signal);
        // The first call hangs for ever (a proxy that never ends the response).
        if (signals.length === 1) return new Promise(() => {});
        return { code_url: 'weixin://wxpay/bizpayurl?pr=late', expires_at: new Date(Date.now() + 60_000).toISOString() };
      },
      status: async () => ({ state: 'SUCCESS' }),
    };
    const started = Date.now();
    const outcome = await wxpay.checkout(opts(backend, container(), { requestTimeout: 1000 }));
    return { outcome, took: Date.now() - started, calls: signals.length, firstAborted: signals[0].aborted };
  });
  assert.equal(r.outcome.status, 'paid');
  assert.equal(r.calls, 2, 'asked again after the deadline');
  assert.ok(r.firstAborted, 'the hung request was aborted');
  assert.ok(r.took >= 1000, `took ${r.took} ms`);
  await done(page);
});

test('H5 redirects are checked with the browser URL parser: scheme, host and port exactly, no user-info', async () => {
  const page = await blankPage();
  const r = await page.evaluate(async () => {
    const attempt = async (h5_url, redirectHosts) => {
      const backend = fakeBackend(['NOTPAY'], { h5_url });
      const outcome = await wxpay.checkout(opts(backend, undefined, { mode: 'h5', redirectHosts }));
      return [outcome.status, outcome.detail.message];
    };
    return {
      otherPort: await attempt('http://127.0.0.1:1/sim/checkmweb', ['127.0.0.1']),
      plainHttp: await attempt('http://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb', []),
      userInfo: await attempt('https://wx.tenpay.com@evil.example/x', []),
      lookalike: await attempt('https://wx.tenpay.com.evil.example/x', []),
      url: location.href,
    };
  });
  assert.deepEqual(r.otherPort[0], 'failed');
  assert.match(r.otherPort[1], /http:\/\/127\.0\.0\.1:1, which is not in the allowed redirect hosts/);
  assert.match(r.plainHttp[1], /must use https/);
  assert.match(r.userInfo[1], /user@/);
  assert.match(r.lookalike[1], /https:\/\/wx\.tenpay\.com\.evil\.example, which is not/);
  assert.match(r.url, /driver-test\.html$/, 'the page never left');
  await done(page);
});

test('element: an order paid already (409 already_paid, e.g. after a reload) ends paid after a status check', async () => {
  const page = await blankPage();
  await page.route('**/paid-api/orders/**', (route) => {
    const isPay = route.request().method() === 'POST';
    const [status, body] = isPay
      ? [409, { error: 'already_paid', message: 'this order is already paid; show the buyer the result instead' }]
      : [200, { order_id: 'ord_p', state: 'SUCCESS', transaction_id: '4200000077' }];
    return route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
  });
  const r = await page.evaluate(async () => {
    const seen = [];
    for (const type of ['wxpay-state', 'wxpay-paid', 'wxpay-fail']) document.addEventListener(type, (e) => seen.push(type + ':' + (e.detail.state ?? e.detail.status)));
    document.body.insertAdjacentHTML('beforeend', '<wxpay-checkout order-id="ord_p" api-base="/paid-api" mode="native" locale="en"></wxpay-checkout>');
    while (!seen.some((s) => s.startsWith('wxpay-paid') || s.startsWith('wxpay-fail'))) await sleep(50);
    return seen;
  });
  assert.deepEqual(r, ['wxpay-state:preparing', 'wxpay-state:confirming', 'wxpay-state:paid', 'wxpay-paid:paid']);
  await done(page);
});
