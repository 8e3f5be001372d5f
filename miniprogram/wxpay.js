/**
 * wxpay.js — pays one order of the merchant backend from a WeChat mini-program page.
 *
 * The mini-program half of wxpay-checkout's fourth flow: a web page in a `<web-view>` cannot pay,
 * so it hands the order to a mini-program page (`/pages/pay/index?order_id=…`), which calls
 * `payOrder()`: `wx.login` → `POST {apiBase}/orders/{id}/pay` with `{ mode: "miniprogram", code }`
 * (the backend exchanges the code for the openid, orders and signs five parameters) → the five
 * checked → `wx.requestPayment` → polling `GET {apiBase}/orders/{id}` until the backend says.
 * `requestPayment:ok` is not proof of payment: only the backend's `SUCCESS` makes it "paid".
 *
 * Dependency-free CommonJS in ES2015 (no async/await), so it runs in any mini-program base
 * library and in Node for its tests. Time, randomness and `wx` come in through options.
 */
'use strict';

/** WeChat trade states that end a checkout, and how (the web checkout's mapping). */
const FINAL_STATES = { SUCCESS: 'paid', CLOSED: 'expired', REVOKED: 'expired', PAYERROR: 'failed', REFUND: 'failed' };

/** The web checkout's polling defaults (`PollingOptions` in pkg-template/index.d.ts), in ms. */
const DEFAULT_POLLING = { interval: 2000, fastFor: 30000, maxInterval: 15000, backoff: 1.5, jitter: 0.2, maxDuration: 900000, longPoll: 20 };

/** Transient failures of the pay call are retried this many times (delay doubling). */
const PAY_RETRIES = 3;
/** How long a pay call may take before it counts as a network failure. */
const PAY_TIMEOUT_MS = 15000;
/** Between two held long-polls: the server already paced us. */
const LONG_POLL_GAP_MS = 200;

// ---- options --------------------------------------------------------------------------------

function optionError(message) {
  return new TypeError('wxpay payOrder: ' + message);
}

function isLoopback(host) {
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** `apiBase` must be an absolute URL (`wx.request` has no page origin): https, or http on loopback. */
function checkApiBase(apiBase) {
  if (typeof apiBase !== 'string' || !apiBase) {
    throw optionError('apiBase is required: the merchant backend\'s API, e.g. "https://shop.example.com/api"');
  }
  const m = /^(https?):\/\/([^/?#:]+|\[[^\]]+\])(:\d+)?(\/[^?#]*)?$/i.exec(apiBase);
  if (!m) {
    throw optionError('apiBase must be an absolute URL without query, like "https://shop.example.com/api"; got ' + JSON.stringify(apiBase));
  }
  if (m[1].toLowerCase() === 'http' && !isLoopback(m[2].toLowerCase())) {
    throw optionError('apiBase must be https (mini-programs only reach https request domains); http is allowed for localhost and 127.x only');
  }
  return apiBase.replace(/\/+$/, '');
}

function checkPolling(polling) {
  if (polling === undefined || polling === null) return Object.assign({}, DEFAULT_POLLING);
  if (typeof polling !== 'object' || Array.isArray(polling)) throw optionError('polling must be an object');
  const out = Object.assign({}, DEFAULT_POLLING);
  const ranges = {
    interval: [1, 3600000], fastFor: [0, 86400000], maxInterval: [1, 3600000], backoff: [1, 10],
    jitter: [0, 1], maxDuration: [1, 86400000], longPoll: [0, 30],
  };
  Object.keys(polling).forEach((key) => {
    const range = ranges[key];
    if (!range) throw optionError('polling.' + key + ' is not an option; known: ' + Object.keys(ranges).join(', '));
    const v = polling[key];
    if (typeof v !== 'number' || !isFinite(v) || v < range[0] || v > range[1]) {
      throw optionError('polling.' + key + ' must be a number from ' + range[0] + ' to ' + range[1] + ', got ' + JSON.stringify(v));
    }
    out[key] = v;
  });
  return out;
}

function checkOptions(options) {
  if (!options || typeof options !== 'object') throw optionError('pass an options object: { orderId, apiBase }');
  if (typeof options.orderId !== 'string' || !options.orderId.trim()) {
    throw optionError('orderId is required (the id POST /api/orders answered)');
  }
  // The mini-program's global `wx` (by name: older base libraries have no globalThis).
  const api = options.wx || (typeof wx !== 'undefined' ? wx : undefined);
  if (!api || typeof api.login !== 'function' || typeof api.request !== 'function' || typeof api.requestPayment !== 'function') {
    throw optionError('wx (login, request, requestPayment) is missing: call payOrder in a mini-program page, or pass options.wx');
  }
  const header = options.header === undefined ? {} : options.header;
  if (!header || typeof header !== 'object' || Object.keys(header).some((k) => typeof header[k] !== 'string')) {
    throw optionError('header must be an object of string values (e.g. the buyer\'s session token)');
  }
  if (options.onState !== undefined && typeof options.onState !== 'function') throw optionError('onState must be a function');
  const retryDelay = options.retryDelay === undefined ? 1000 : options.retryDelay;
  if (typeof retryDelay !== 'number' || !(retryDelay >= 0 && retryDelay <= 60000)) {
    throw optionError('retryDelay must be a number of ms from 0 to 60000');
  }
  return {
    orderId: options.orderId.trim(),
    apiBase: checkApiBase(options.apiBase),
    polling: checkPolling(options.polling),
    header: header,
    onState: options.onState || function () {},
    retryDelay: retryDelay,
    wx: api,
    now: options.now || Date.now,
    random: options.random || Math.random,
    setTimeout: options.setTimeout || setTimeout,
    clearTimeout: options.clearTimeout || clearTimeout,
  };
}

// ---- what WeChat and the backend answer (pure) --------------------------------------------

/**
 * Checks the five parameters `wx.requestPayment` takes (and the appId when the backend sends
 * one and `appId` of this mini-program is known). Returns what is wrong, or null.
 * WeChat's own answer to bad parameters is a bare `requestPayment:fail` that tells nobody anything.
 */
function checkPayParams(p, appId) {
  if (!p || typeof p !== 'object') return 'the backend\'s answer has no "jsapi" pay parameters';
  const str = (k) => (typeof p[k] === 'string' ? p[k] : null);
  if (!/^\d{1,10}$/.test(str('timeStamp') || '')) return 'timeStamp must be a string of Unix seconds (at most 10 digits)';
  if (!/^[A-Za-z0-9]{1,32}$/.test(str('nonceStr') || '')) return 'nonceStr must be 1 to 32 letters or digits';
  if (!/^prepay_id=[A-Za-z0-9_-]{1,64}$/.test(str('package') || '')) return 'package must be "prepay_id=" followed by the prepay id';
  if (['RSA', 'MD5', 'HMAC-SHA256'].indexOf(str('signType')) < 0) return 'signType must be "RSA" (APIv3), "MD5" or "HMAC-SHA256" (APIv2)';
  const sign = str('paySign');
  if (!sign || sign.length > 1024 || /\s/.test(sign)) return 'paySign must be the non-empty signature over the other fields';
  if (appId && typeof p.appId === 'string' && p.appId !== appId) {
    return 'the backend signed for appId ' + p.appId + ' but this mini-program is ' + appId + ': set the backend\'s mini-program appid (mp_appid)';
  }
  return null;
}

/** `wx.requestPayment`'s errMsg → "ok" | "cancel" | "fail". Anything unrecognised is a failure. */
function payResult(errMsg) {
  const msg = String(errMsg || '').trim().toLowerCase();
  if (msg === 'requestpayment:ok') return 'ok';
  if (msg === 'requestpayment:fail cancel' || msg === 'requestpayment:cancel') return 'cancel';
  return 'fail';
}

/** 408/425/429/5xx and no answer at all are worth asking again; other errors are not. */
function isTransient(e) {
  return e.network || [408, 425, 429].indexOf(e.status) >= 0 || (e.status >= 500 && e.status <= 599);
}

/** `Retry-After` in ms (delta-seconds or an HTTP date), or null. */
function retryAfterMs(headers, now) {
  let value = null;
  Object.keys(headers || {}).forEach((k) => {
    if (k.toLowerCase() === 'retry-after') value = String(headers[k]).trim();
  });
  if (!value) return null;
  if (/^\d+$/.test(value)) return Math.min(Number(value) * 1000, 3600000);
  const at = Date.parse(value);
  return isNaN(at) ? null : Math.max(0, Math.min(at - now, 3600000));
}

/** A `status`/`message` error in English for `detail.message` (for developers, not buyers). */
function describe(e) {
  if (e.network) return 'cannot reach the merchant backend: ' + e.network;
  if (e.status) return 'the merchant backend answered HTTP ' + e.status + (e.code ? ' ' + e.code : '') + (e.message ? ': ' + e.message : '');
  return e.message || String(e);
}

// ---- polling schedule (pure; the web checkout's src/poll.rs, same rules) --------------------

/** When to ask the backend next: a fixed interval, then backing off; errors back off too. */
function Schedule(settings, now) {
  this.s = settings;
  this.startedAt = now;
  this.delay = settings.interval;
  this.failures = 0;
  this.longPoll = settings.longPoll > 0 ? 'unknown' : 'off';
}

Schedule.prototype.deadline = function () {
  return this.startedAt + this.s.maxDuration;
};

/** `?wait=` seconds for the next request, never past the deadline; null for none. */
Schedule.prototype.wait = function (now) {
  if (this.longPoll === 'off' || this.longPoll === 'unsupported') return null;
  const w = Math.min(this.s.longPoll, Math.floor((this.deadline() - now) / 1000));
  return w >= 1 ? w : null;
};

Schedule.prototype.jitter = function (ms, sample) {
  return ms * (1 - this.s.jitter + 2 * this.s.jitter * sample);
};

/** After a pending answer to a request sent at `sentAt` with `wait`: ms to wait, or null (deadline). */
Schedule.prototype.pending = function (now, sentAt, wait, changed, sample) {
  this.failures = 0;
  if (wait) {
    // A backend that ignores `wait` answers at once with nothing new; one that holds it waits.
    if ((now - sentAt) * 2 >= wait * 1000) this.longPoll = 'supported';
    else if (!changed && this.longPoll === 'unknown') this.longPoll = 'unsupported';
  }
  let ms;
  if (this.longPoll === 'supported' && wait) {
    ms = LONG_POLL_GAP_MS;
  } else {
    ms = this.jitter(this.delay, sample);
    if (now - this.startedAt >= this.s.fastFor) this.delay = Math.min(this.delay * this.s.backoff, this.s.maxInterval);
  }
  return this.until(now, ms);
};

/** After a failed request: a growing delay, or the server's Retry-After if longer. */
Schedule.prototype.failed = function (now, retryAfter, sample) {
  this.failures += 1;
  const backoff = Math.min(this.s.interval * Math.pow(this.s.backoff, Math.min(this.failures, 30)), this.s.maxInterval);
  let ms = this.jitter(backoff, sample);
  if (retryAfter !== null && retryAfter >= ms) ms = retryAfter * (1 + (this.s.jitter * sample) / 2);
  return this.until(now, ms);
};

Schedule.prototype.until = function (now, ms) {
  const left = this.deadline() - now;
  if (left <= 0) return null;
  // The last check happens at the deadline, not after it.
  return Math.max(0, Math.min(ms, left));
};

// ---- one payment ------------------------------------------------------------------------------

/** Thrown inside a run to end it with an outcome. */
function Finish(status, fields) {
  this.status = status;
  this.fields = fields || {};
}

/** One `payOrder` call: talks to `wx` and the backend, strictly one thing at a time. */
function Run(o) {
  this.o = o;
  this.stopped = false;
  this.task = null; // the RequestTask in flight
  this.timer = null;
  this.wake = null;
  this.shown = null; // the last state/note reported
}

Run.prototype.state = function (state, extra) {
  if (this.stopped) return;
  const detail = Object.assign({ state: state, mode: 'miniprogram', orderId: this.o.orderId, note: null }, extra || {});
  // Every answer of a poll confirms the same state: tell the listener about changes only.
  const key = state + '/' + detail.note;
  if (key === this.shown) return;
  this.shown = key;
  try {
    this.o.onState(detail);
  } catch (e) {
    // A throwing listener must not break the payment; report it where developers look.
    if (typeof console !== 'undefined') console.error('wxpay onState threw', e);
  }
};

Run.prototype.sleep = function (ms) {
  return new Promise((resolve) => {
    this.wake = resolve;
    this.timer = this.o.setTimeout(() => {
      this.timer = null;
      this.wake = null;
      resolve();
    }, ms);
  }).then(() => this.alive());
};

/** Rejects with a Finish once stopped, so every await point is also a stop point. */
Run.prototype.alive = function () {
  if (this.stopped) throw new Finish('cancelled', { reason: 'aborted' });
};

/** `wx.request` as a promise of `{ status, data, headers }`; failures reject `{ network }`/`{ status, code, message }`. */
Run.prototype.request = function (method, url, data, timeout) {
  return new Promise((resolve, reject) => {
    const header = Object.assign({}, this.o.header);
    if (data !== undefined) header['content-type'] = 'application/json';
    this.task = this.o.wx.request({
      url: url,
      method: method,
      data: data,
      header: header,
      timeout: timeout,
      dataType: 'json',
      success: (res) => {
        const body = res.data && typeof res.data === 'object' ? res.data : {};
        if (res.statusCode >= 200 && res.statusCode < 300) return resolve({ data: body, headers: res.header || {} });
        reject({
          status: res.statusCode,
          code: typeof body.error === 'string' ? body.error : '',
          message: typeof body.message === 'string' ? body.message : '',
          retryAfter: retryAfterMs(res.header, this.o.now()),
        });
      },
      fail: (err) => reject({ network: (err && err.errMsg) || 'request failed' }),
    });
  }).then(
    (r) => {
      this.task = null;
      this.alive();
      return r;
    },
    (e) => {
      this.task = null;
      this.alive();
      throw e;
    },
  );
};

Run.prototype.login = function () {
  return new Promise((resolve, reject) => {
    this.o.wx.login({
      success: (res) => (res && res.code ? resolve(res.code) : reject(new Finish('failed', { message: 'wx.login gave no code', reason: 'wechat' }))),
      fail: (err) => reject(new Finish('failed', { message: 'wx.login failed: ' + ((err && err.errMsg) || 'unknown'), reason: 'wechat' })),
    });
  }).then((code) => {
    this.alive();
    return code;
  });
};

Run.prototype.orderUrl = function () {
  return this.o.apiBase + '/orders/' + encodeURIComponent(this.o.orderId);
};

/** `wx.login` + the pay call, with one fresh login for a rejected code and retries for transient errors. */
Run.prototype.pay = function () {
  const o = this.o;
  let loginRetried = false;
  let retries = 0;
  let delay = o.retryDelay;
  const attempt = () =>
    this.login()
      .then((code) => this.request('POST', this.orderUrl() + '/pay', { mode: 'miniprogram', code: code }, PAY_TIMEOUT_MS))
      .then(
        (r) => r.data,
        (e) => {
          if (e instanceof Finish) throw e;
          if (e.code === 'invalid_code' && !loginRetried) {
            // Spent or expired (codes live 5 minutes and work once): one fresh wx.login.
            loginRetried = true;
            return attempt();
          }
          if (e.code === 'already_paid') return null;
          if (e.code === 'order_closed') throw new Finish('expired', { message: describe(e), tradeState: 'CLOSED' });
          if (isTransient(e) && retries < PAY_RETRIES) {
            retries += 1;
            this.state('preparing', { note: 'retrying' });
            const wait = Math.max(delay, e.retryAfter || 0);
            delay *= 2;
            return this.sleep(wait).then(attempt);
          }
          throw new Finish('failed', { message: describe(e), reason: isTransient(e) ? 'network' : 'merchant' });
        },
      );
  return attempt();
};

/** `wx.requestPayment` with the five; resolves its errMsg. */
Run.prototype.requestPayment = function (p) {
  return new Promise((resolve) => {
    const done = (res) => resolve((res && res.errMsg) || '');
    try {
      this.o.wx.requestPayment({
        timeStamp: p.timeStamp,
        nonceStr: p.nonceStr,
        package: p.package,
        signType: p.signType,
        paySign: p.paySign,
        success: done,
        fail: done,
      });
    } catch (e) {
      resolve('requestPayment:fail ' + ((e && e.message) || e));
    }
  });
};

/** One look at the order: its final outcome, or null while the buyer may still pay. */
Run.prototype.settled = function (order) {
  const status = FINAL_STATES[order.state];
  if (!status) return null;
  return new Finish(status, {
    tradeState: order.state,
    transactionId: typeof order.transaction_id === 'string' ? order.transaction_id : null,
    message: status === 'paid' ? null : 'the backend reports trade_state ' + order.state,
  });
};

/** Polls until the backend reports a final state or the deadline passes; one request at a time. */
Run.prototype.poll = function () {
  const o = this.o;
  const schedule = new Schedule(o.polling, o.now());
  let last = null;
  const ask = () => {
    const wait = schedule.wait(o.now());
    const sentAt = o.now();
    const url = this.orderUrl() + (wait ? '?wait=' + wait : '');
    return this.request('GET', url, undefined, (wait || 0) * 1000 + 10000).then(
      (r) => {
        const order = r.data;
        if (typeof order.state !== 'string') throw new Finish('failed', { message: 'the backend\'s order has no "state"', reason: 'merchant' });
        const end = this.settled(order);
        if (end) throw end;
        this.state('confirming');
        const changed = last !== null && last !== order.state;
        last = order.state;
        return schedule.pending(o.now(), sentAt, wait, changed, o.random());
      },
      (e) => {
        if (e instanceof Finish) throw e;
        if (!isTransient(e)) throw new Finish('failed', { message: describe(e), reason: 'merchant' });
        this.state('confirming', { note: 'retrying' });
        return schedule.failed(o.now(), e.retryAfter === undefined ? null : e.retryAfter, o.random());
      },
    ).then((ms) => {
      if (ms === null) {
        throw new Finish('expired', { message: 'the backend did not confirm a payment within the maximum polling time' });
      }
      return this.sleep(ms).then(ask);
    });
  };
  return ask();
};

/** After cancel/fail: WeChat does not guarantee it, so the backend is asked once. */
Run.prototype.checkOnce = function () {
  return this.request('GET', this.orderUrl(), undefined, 10000).then(
    (r) => this.settled(r.data),
    (e) => {
      if (e instanceof Finish) throw e;
      return null;
    },
  );
};

Run.prototype.go = function () {
  this.state('preparing');
  return this.pay()
    .then((answer) => {
      if (answer === null) return this.poll(); // already paid: the backend says so
      const problem = checkPayParams(answer.jsapi, this.appId());
      if (problem) throw new Finish('failed', { message: 'pay parameters from the backend are invalid: ' + problem, reason: 'merchant' });
      this.state('paying');
      return this.requestPayment(answer.jsapi).then((errMsg) => {
        this.alive();
        const result = payResult(errMsg);
        if (result === 'ok') {
          // Only the backend's SUCCESS counts.
          this.state('confirming');
          return this.poll();
        }
        return this.checkOnce().then((end) => {
          if (end) throw end;
          if (result === 'cancel') throw new Finish('cancelled', { message: 'the buyer closed WeChat\'s pay sheet' });
          throw new Finish('failed', { message: 'WeChat Pay failed: ' + errMsg, reason: 'wechat' });
        });
      });
    })
    .then(
      () => {
        throw new Error('unreachable: polling ends with an outcome');
      },
      (e) => {
        if (e instanceof Finish) return e;
        return new Finish('failed', { message: 'wxpay: ' + ((e && e.message) || e) });
      },
    )
    .then((end) => this.outcome(end));
};

/** This mini-program's appid, when the base library can say. */
Run.prototype.appId = function () {
  try {
    const info = typeof this.o.wx.getAccountInfoSync === 'function' ? this.o.wx.getAccountInfoSync() : null;
    return (info && info.miniProgram && info.miniProgram.appId) || null;
  } catch (e) {
    return null;
  }
};

Run.prototype.outcome = function (end) {
  const f = end.fields;
  const aborted = f.reason === 'aborted';
  if (!aborted) this.state(end.status, f.message ? { message: f.message } : undefined);
  this.stopped = true;
  return {
    status: end.status,
    orderId: this.o.orderId,
    mode: 'miniprogram',
    detail: {
      tradeState: f.tradeState || null,
      transactionId: f.transactionId || null,
      message: f.message || null,
      reason: f.reason || null,
    },
  };
};

/** Stops at once: the request in flight is aborted and no timer fires again. */
Run.prototype.abort = function () {
  if (this.stopped) return;
  this.stopped = true;
  if (this.timer !== null) this.o.clearTimeout(this.timer);
  this.timer = null;
  if (this.task && typeof this.task.abort === 'function') this.task.abort();
  if (this.wake) this.wake();
};

/**
 * Pays `options.orderId`. Resolves (never rejects) to `{ status, orderId, mode: "miniprogram",
 * detail: { tradeState, transactionId, message, reason } }`, status "paid" only on the backend's
 * SUCCESS. `reason`: "aborted" (abort() / page unloaded), "network" (backend unreachable after
 * retries), "merchant" (backend refused or answered wrongly), "wechat" (wx.login or
 * wx.requestPayment failed), else null. The promise has `abort()`: call it from `onUnload`.
 * @throws {TypeError} for a missing or invalid option (the message says which).
 */
function payOrder(options) {
  const run = new Run(checkOptions(options));
  let stop;
  // Aborting settles at once, even while WeChat's pay sheet (which cannot be aborted) is open.
  const aborted = new Promise((resolve) => (stop = resolve));
  // Started on a microtask: the caller holds the handle before the first onState.
  const promise = Promise.race([Promise.resolve().then(() => run.go()), aborted]);
  promise.abort = () => {
    if (run.stopped) return;
    run.abort();
    stop(run.outcome(new Finish('cancelled', { reason: 'aborted' })));
  };
  return promise;
}

module.exports = { payOrder: payOrder, checkPayParams: checkPayParams, payResult: payResult, FINAL_STATES: FINAL_STATES };
