// Shared by the mini-program kit's tests: a `wxpay demo` (backend + simulator), a loopback proxy
// in front of its API that records every request and can fail some on purpose, a fake `wx`
// whose login, request and requestPayment are real (the simulator's /sim/api/login, HTTP through
// the proxy, the simulator's /sim/api/requestPayment), and the kit's page loaded with `Page()`.
import { before, after } from 'node:test';
import http from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startDemo, root } from '../e2e/harness.mjs';

const require = createRequire(import.meta.url);
export const kitDir = join(root, 'miniprogram');
export const wxpay = require(join(kitDir, 'wxpay.js'));
/** The mini-program appid of `wxpay demo` (server/src/demo.rs DEMO_MP_APPID). */
export const MP_APPID = 'wx8888888888888888';

/** One demo and one proxy for a test file, stopped at the end. */
export function demoAndProxy() {
  const ctx = {};
  before(async () => {
    ctx.demo = await startDemo();
    ctx.proxy = await startProxy(ctx.demo.url);
  });
  after(async () => {
    await ctx.proxy?.stop();
    await ctx.demo?.stop();
  });
  return ctx;
}

async function json(url, body) {
  const r = await fetch(url, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const data = await r.json();
  if (!r.ok) throw new Error(`${url}: ${r.status} ${JSON.stringify(data)}`);
  return data;
}

/** Creates an order on the demo backend: the one place that knows POST /api/orders' body. */
export const createOrder = (base, quantity = 1) =>
  json(`${base}/api/orders`, { items: [{ sku: 'coffee', quantity }] }).then((o) => o.order_id);

export const orderState = (base, orderId) => json(`${base}/api/orders/${encodeURIComponent(orderId)}`).then((o) => o.state);

/** A code from the simulated `wx.login`. */
export const loginCode = (base) => json(`${base}/sim/api/login`, { appid: MP_APPID }).then((r) => r.code);

/**
 * A loopback proxy to `target` that logs each request ({ method, path, at, closedEarly }) and
 * answers the next requests matching `fail(match, status, times)` itself with that status.
 */
export function startProxy(target) {
  const log = [];
  const faults = [];
  let inFlight = 0;
  const server = http.createServer((req, res) => {
    const entry = { method: req.method, path: req.url, at: Date.now(), closedEarly: false, concurrent: 0 };
    log.push(entry);
    const fault = faults.find((f) => f.times > 0 && f.match(req));
    if (fault) {
      fault.times -= 1;
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.headers || {}) });
      res.end(JSON.stringify({ error: 'proxy_fault', message: `injected ${fault.status}` }));
      return;
    }
    inFlight += 1;
    entry.concurrent = inFlight;
    let done = false;
    const finish = () => {
      if (!done) inFlight -= 1;
      done = true;
    };
    const upstream = http.request(new URL(req.url, target), { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
      up.on('end', finish);
    });
    upstream.on('error', () => {
      finish();
      res.destroy();
    });
    // The client gave up before the answer (an aborted wx.request): stop asking upstream too.
    res.on('close', () => {
      if (!done) {
        entry.closedEarly = true;
        upstream.destroy();
        finish();
      }
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({
        url,
        log,
        fail(match, status, times, headers) {
          faults.push({ match, status, times, headers });
        },
        clear() {
          log.length = 0;
          faults.length = 0;
        },
        stop: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(r);
          }),
      });
    });
  });
}

/** The requests of the log to `/api/orders/{id}` (GET) or `/pay` (POST). */
export const polls = (log) => log.filter((e) => e.method === 'GET' && e.path.startsWith('/api/orders/'));
export const pays = (log) => log.filter((e) => e.method === 'POST' && e.path.endsWith('/pay'));

/**
 * A fake `wx` for Node. `sim` is the simulator's base URL. `login(real, n)` may replace codes
 * (it gets the function that asks the simulator); `payAction` is the simulated buyer's choice
 * ("pay" | "cancel" | "fail", or a function of the call number), or
 * `requestPayment(params)` replaces WeChat's sheet altogether. `calls` counts what was used.
 */
export function fakeWx(sim, { payAction = 'pay', login, requestPayment } = {}) {
  const calls = { login: 0, request: 0, requestPayment: 0, navigateBack: 0, title: null, payParams: null };
  const answer = (o, ok, res) => {
    (ok ? o.success : o.fail)?.(res);
    o.complete?.(res);
  };
  const wx = {
    calls,
    login(o) {
      calls.login += 1;
      const real = () => loginCode(sim);
      (login ? login(real, calls.login) : real()).then(
        (code) => answer(o, true, { code, errMsg: 'login:ok' }),
        (e) => answer(o, false, { errMsg: `login:fail ${e.message}` }),
      );
    },
    request(o) {
      calls.request += 1;
      const body = o.data === undefined ? undefined : JSON.stringify(o.data);
      let why = null;
      const req = http.request(o.url, { method: o.method, headers: o.header, timeout: o.timeout }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let data = text;
          try {
            data = JSON.parse(text);
          } catch {
            // not JSON: WeChat hands over the text
          }
          answer(o, true, { statusCode: res.statusCode, data, header: res.headers, errMsg: 'request:ok' });
        });
      });
      req.on('timeout', () => {
        why = 'timeout';
        req.destroy();
      });
      req.on('error', (e) => answer(o, false, { errMsg: `request:fail ${why || e.message}` }));
      req.end(body);
      return {
        abort() {
          why = 'abort';
          req.destroy();
        },
      };
    },
    requestPayment(o) {
      calls.requestPayment += 1;
      const params = { timeStamp: o.timeStamp, nonceStr: o.nonceStr, package: o.package, signType: o.signType, paySign: o.paySign };
      calls.payParams = params;
      const sheet = requestPayment
        ? requestPayment(params)
        : json(`${sim}/sim/api/requestPayment`, { appId: MP_APPID, ...params, action: typeof payAction === 'function' ? payAction(calls.requestPayment) : payAction });
      sheet.then(
        (r) => answer(o, r.errMsg === 'requestPayment:ok', r),
        (e) => answer(o, false, { errMsg: `requestPayment:fail ${e.message}` }),
      );
    },
    navigateBack(o = {}) {
      calls.navigateBack += 1;
      answer(o, true, { errMsg: 'navigateBack:ok' });
    },
    setNavigationBarTitle(o) {
      calls.title = o.title;
    },
    getAppBaseInfo: () => ({ language: 'zh_CN' }),
    getAccountInfoSync: () => ({ miniProgram: { appId: MP_APPID } }),
  };
  return wx;
}

/**
 * Loads the kit's page (`pages/pay/index.js`) as WeChat would: `Page(definition)` gives an
 * instance with `data` and `setData`; `config.js` gets `apiBase`, `polling`, `home`. Returns the instance
 * with `history` (every `data` after a setData).
 */
export function loadPage(wx, { apiBase, polling, home }) {
  const pagePath = require.resolve(join(kitDir, 'pages/pay/index.js'));
  const config = require(join(kitDir, 'config.js'));
  Object.assign(config, { apiBase, polling, home });
  let page = null;
  globalThis.wx = wx;
  globalThis.Page = (definition) => {
    page = Object.create(definition);
    page.data = structuredClone(definition.data);
    page.history = [];
    page.setData = (changes) => {
      Object.assign(page.data, changes);
      page.history.push(structuredClone(page.data));
    };
  };
  delete require.cache[pagePath];
  require(pagePath);
  return page;
}

/** Resolves when `check()` is true (polled every 20 ms), or fails after `ms`. */
export async function until(check, ms = 10_000, what = 'condition') {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
