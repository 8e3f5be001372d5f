// The checkout's driver: everything a checkout does to the page and the network, around the
// wasm state machine that decides it all (`CheckoutRun`, src/js/run.rs over src/flow.rs).
//
// Why hand-written JS: every decision (what to ask the backend, when to poll, what to show, how
// a run ends) stays in Rust, pure and tested natively, and reaches this file as a list of
// effects; the I/O here (fetch, timers, DOM, listeners, navigation, WeixinJSBridge) costs under
// 4 KB gzip as JS but was ~30 KB as async Rust and web-sys glue, and the package has a size
// budget. Also here: the panel (`view`) and the `<wxpay-checkout>` element, which share one
// `start()` with `checkout()`.
//
// Text from the network only ever goes in through textContent; the only innerHTML is the SVG of
// a `qr` effect, which Rust's QR renderer wrote.
import { CheckoutRun } from './wxpay_checkout.js';

const CSS =
  '.wxpay-panel{box-sizing:border-box;font:var(--wxpay-font,15px/1.5 -apple-system,BlinkMacSystemFont,"PingFang SC","Microsoft YaHei","Segoe UI",sans-serif);color:var(--wxpay-text,#1f2329);background:var(--wxpay-bg,#fff);border:1px solid var(--wxpay-border,#e5e6eb);border-radius:var(--wxpay-radius,12px);padding:20px;text-align:center;max-width:var(--wxpay-max-width,360px);margin:0 auto}' +
  '.wxpay-status{margin:0 0 12px;font-weight:600;font-size:1.05em}' +
  '.wxpay-note{margin:8px 0 0;color:var(--wxpay-muted,#86909c);font-size:.85em}' +
  '.wxpay-note:empty,.wxpay-actions:empty{display:none}' +
  '.wxpay-qr{width:var(--wxpay-qr-size,200px);height:var(--wxpay-qr-size,200px);margin:0 auto;padding:8px;background:#fff;border:1px solid var(--wxpay-border,#e5e6eb);border-radius:8px;transition:opacity .2s}' +
  '.wxpay-qr svg{display:block;width:100%;height:100%}' +
  '.wxpay-expired .wxpay-qr{opacity:.15}' +
  '.wxpay-countdown{margin:10px 0 0;color:var(--wxpay-muted,#86909c);font-size:.9em}' +
  '.wxpay-timer{margin-left:.4em;font-variant-numeric:tabular-nums;color:var(--wxpay-text,#1f2329)}' +
  '.wxpay-actions{display:flex;flex-wrap:wrap;gap:8px;justify-content:center;margin-top:14px}' +
  '.wxpay-actions button{font:inherit;cursor:pointer;border-radius:8px;padding:10px 18px;border:1px solid var(--wxpay-accent,#07c160);background:var(--wxpay-accent,#07c160);color:var(--wxpay-on-accent,#fff);min-height:44px}' +
  '.wxpay-actions button+button{background:transparent;color:var(--wxpay-accent,#07c160)}' +
  '.wxpay-spin{width:28px;height:28px;margin:6px auto;border:3px solid var(--wxpay-border,#e5e6eb);border-top-color:var(--wxpay-accent,#07c160);border-radius:50%;animation:wxpay-spin 1s linear infinite}' +
  '@keyframes wxpay-spin{to{transform:rotate(360deg)}}' +
  '@media (prefers-reduced-motion:reduce){.wxpay-spin{animation:none}}' +
  '.wxpay-mark{width:48px;height:48px;margin:4px auto 8px;border-radius:50%;display:flex;align-items:center;justify-content:center;color:#fff;font-size:28px;line-height:1}' +
  '[data-state=paid] .wxpay-mark{background:var(--wxpay-accent,#07c160)}' +
  '[data-state=failed] .wxpay-mark,[data-state=expired] .wxpay-mark{background:var(--wxpay-error,#f53f3f)}' +
  '[data-state=cancelled] .wxpay-mark{background:var(--wxpay-muted,#86909c)}' +
  '[data-state=paid] .wxpay-status{color:var(--wxpay-accent,#07c160)}' +
  '.wxpay-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}';

const TAG = 'wxpay-checkout';
const JSON_TYPE = 'application/json';
const READY = 'WeixinJSBridgeReady';
/** Outcome status → the element's event name (`wxpay-paid`, …). */
const EVENT = { paid: 'paid', cancelled: 'cancel', failed: 'fail', expired: 'expire' };

/** `<tag attr…>text</tag>`; text only ever as textContent. */
function h(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text != null) e.textContent = text;
  return e;
}

const parse = (text) => {
  try {
    return JSON.parse(text);
  } catch {} // not JSON: Rust gets no body and says so
};

/** setTimeout fires at once for delays past 2^31 - 1 ms (a long Retry-After, say): clamp them. */
const clamp = (ms) => Math.min(ms, 2 ** 31 - 1);

const isRoot = (c) => typeof Node == 'function' && (c instanceof Element || c instanceof ShadowRoot);

/** Appends one run's panel to `root`: status line, body (QR, spinner, mark), note, buttons. */
function view(root) {
  const panel = h('div', { class: 'wxpay-panel', part: 'panel' });
  // The status line is what screen readers should hear on every state change.
  const status = h('p', { class: 'wxpay-status', part: 'status', role: 'status', 'aria-live': 'polite' });
  const body = h('div', { class: 'wxpay-body' });
  const note = h('p', { class: 'wxpay-note', 'aria-live': 'polite' });
  const actions = h('div', { class: 'wxpay-actions' });
  panel.append(h('style', {}, CSS), status, body, note, actions);
  root.append(panel);
  return {
    panel,
    status,
    body,
    note,
    /** Replaces the buttons: `[[action, label], …]`, a click calls `click(action)`. */
    buttons(list, click) {
      actions.replaceChildren(
        ...list.map(([action, label]) => {
          const b = h('button', { type: 'button', 'data-action': action }, label);
          b.onclick = () => click(action);
          return b;
        }),
      );
    },
  };
}

/**
 * Runs one checkout: the wasm run decides, this function does. `report('state', detail)` on
 * every state, `report('done', doneEffect, view)` once at the end, `report('error', e)` if the
 * run itself threw. Returns the abort function. Throws what `new CheckoutRun` throws.
 */
function start(options, container, report, strict) {
  const run = new CheckoutRun(options, strict);
  if (container != null && !isRoot(container)) {
    run.free();
    throw new Error('checkout(): option container must be a DOM element or shadow root');
  }
  const orderId = options.orderId; // a string: the run would not exist otherwise
  const hooks = options.backend;
  const panel = container && view(container);
  const timers = new Map();
  const undo = []; // removes listeners
  const queue = [];
  let ctl; // the fetch in flight
  let over; // the run has ended: nothing more is sent
  let busy; // carrying out a step's effects
  let timer; // the countdown's spans
  let live;

  const listen = (target, type, f) => {
    target.addEventListener(type, f);
    undo.push(() => target.removeEventListener(type, f));
  };
  const finish = () => {
    over = true;
    ctl?.abort();
    timers.forEach(clearTimeout);
    undo.forEach((f) => f());
  };
  // An effect can answer at once (a missing SDK, a bridge calling back synchronously, a
  // merchant's onState calling abort()). Such inputs wait until the whole list of effects is
  // carried out, so the page never shows an older state after a newer one, and step() is
  // never re-entered.
  const send = (kind, arg) => {
    if (over) return;
    queue.push([kind, arg]);
    if (busy) return;
    busy = true;
    try {
      while (queue.length && !over) {
        const [k, a] = queue.shift();
        for (const e of JSON.parse(run.step(k, a, Date.now(), Math.random()))) if (!over) act[e.t](e);
      }
    } catch (e) {
      finish();
      report('error', e);
    } finally {
      busy = false;
    }
  };
  const act = {
    state({ state, text, lang, detail }) {
      if (panel) {
        panel.panel.lang = lang;
        panel.panel.setAttribute('data-state', state);
        panel.panel.className = 'wxpay-panel';
        panel.status.textContent = text;
        panel.buttons([]);
        // Scanning: the `qr` effect that follows fills the body.
        if (state != 'scanning') {
          const mark = state == 'paid' ? '✓' : /^(failed|expired|cancelled)$/.test(state) ? '!' : null;
          panel.body.replaceChildren(
            ...(state == 'unconfirmed' ? [] : [h('div', { class: mark ? 'wxpay-mark' : 'wxpay-spin', 'aria-hidden': 'true' }, mark)]),
          );
        }
      }
      if (typeof detail.expiresAt == 'number') detail.expiresAt = new Date(detail.expiresAt);
      report('state', detail);
    },
    note({ text }) {
      if (panel) panel.note.textContent = text;
    },
    qr({ svg, codeUrl, caption, time, say }) {
      if (!panel) return;
      const qr = h('div', { class: 'wxpay-qr', 'data-code-url': codeUrl });
      qr.innerHTML = svg; // Rust's own SVG of the code_url, never markup from the network
      // Labelled like mountQr() does, with the SVG's own <title>.
      const title = qr.querySelector('title');
      if (title) {
        qr.setAttribute('role', 'img');
        qr.setAttribute('aria-label', title.textContent);
      }
      // role=timer is not read out every second; the live region speaks when Rust says so.
      timer = h('span', { class: 'wxpay-timer', role: 'timer', 'aria-label': caption }, time);
      // Inserted empty, filled a moment later: a live region that arrives with its text is
      // often not read out.
      live = h('span', { class: 'wxpay-sr', 'aria-live': 'polite' });
      const region = live;
      setTimeout(() => (region.textContent = say ?? ''), 100);
      const countdown = h('p', { class: 'wxpay-countdown' });
      countdown.append(h('span', {}, caption), timer);
      panel.panel.className = 'wxpay-panel';
      panel.body.replaceChildren(qr, countdown, live);
    },
    tick({ time, say }) {
      if (!timer) return;
      timer.textContent = time;
      if (say) live.textContent = say;
    },
    'qr-expired'({ text }) {
      if (!panel) return;
      // Dimmed: an expired code must not be scanned.
      panel.panel.className = 'wxpay-panel wxpay-expired';
      panel.status.textContent = text;
    },
    buttons({ list }) {
      panel?.buttons(list, (action) => send('action', action));
    },
    fetch({ id, call, url, body, wait }) {
      ctl?.abort();
      const c = (ctl = new AbortController());
      const { signal } = c;
      const pay = call == 'pay';
      (hooks != null
        ? typeof hooks[call] == 'function'
          ? new Promise((ok) => ok(hooks[call](orderId, pay ? body : { wait, signal }, { signal }))).then((value) => ({ status: 200, body: value }))
          : Promise.resolve({ status: -1, error: { message: `the custom backend has no ${call}() function` } })
        : fetch(
            url,
            pay
              ? { method: 'POST', body: JSON.stringify(body), headers: { Accept: JSON_TYPE, 'Content-Type': JSON_TYPE }, signal }
              : { headers: { Accept: JSON_TYPE }, signal },
          ).then(async (r) => ({
            status: r.status,
            statusText: r.statusText,
            body: parse(await r.text()),
            retryAfter: r.headers.get('Retry-After'),
          }))
      )
        .catch((error) => ({ status: 0, error }))
        .then((answer) => {
          // A cancelled or superseded call's answer is never delivered.
          if (ctl == c) {
            ctl = null;
            send('answer', { id, ...answer });
          }
        });
    },
    cancel() {
      ctl?.abort();
      ctl = null;
    },
    timer({ id, ms }) {
      clearTimeout(timers.get(id));
      timers.set(
        id,
        setTimeout(() => {
          timers.delete(id);
          send('timer', id);
        }, clamp(ms)),
      );
    },
    go({ url }) {
      try {
        location.assign(url);
      } catch {
        send('nav-failed');
      }
    },
    replace({ url }) {
      try {
        history.replaceState(null, '', url);
      } catch {} // only tidies the address bar (drops a used OAuth code)
    },
    bridge({ params, timeout }) {
      const invoke = () => {
        try {
          window.WeixinJSBridge.invoke('getBrandWCPayRequest', params, (res) => send('bridge', res));
        } catch {
          send('bridge-threw');
        }
      };
      if (window.WeixinJSBridge) return invoke();
      // WeChat injects the bridge some time after the page loads, then fires WeixinJSBridgeReady.
      const ready = () => {
        off();
        window.WeixinJSBridge ? invoke() : send('bridge-missing');
      };
      const wait = setTimeout(ready, clamp(timeout));
      const off = () => {
        clearTimeout(wait);
        document.removeEventListener(READY, ready);
      };
      document.addEventListener(READY, ready);
      undo.push(off);
    },
    mini({ url }) {
      const mp = window.wx?.miniProgram;
      if (typeof mp?.navigateTo != 'function') return send('mini-missing');
      try {
        mp.navigateTo({ url, fail: () => send('mini-failed') });
      } catch {
        send('mini-failed');
      }
    },
    done(e) {
      finish();
      run.free();
      report('done', e, panel);
    },
  };

  if (typeof document == 'object') {
    listen(document, 'visibilitychange', () => send(document.hidden ? 'hidden' : 'visible'));
    // Back from the H5 cashier, the page may come from the back-forward cache: pageshow, no load.
    listen(window, 'pageshow', (e) => e.persisted && send('visible'));
    if (document.hidden) send('hidden');
  }
  // On a microtask: checkout() returns its handle first, so an abort (or an already aborted
  // signal) comes before anything is asked of the backend.
  queueMicrotask(() => send('start', globalThis.location?.href ?? ''));
  return () => send('abort');
}

/**
 * `checkout(options)` → a Promise of the outcome with `abort()`. Bad options throw at once
 * (the run's own checks, then `container`).
 */
export function checkout(options) {
  let resolve, reject;
  const promise = new Promise((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  const onState = options?.onState;
  const abort = start(
    options,
    options?.container,
    (kind, value) => {
      if (kind == 'done') resolve(value.outcome);
      else if (kind == 'error') reject(value);
      else if (typeof onState == 'function') {
        try {
          onState(value);
        } catch {} // the merchant's callback must not break the checkout
      }
    },
    true,
  );
  promise.abort = abort;
  const signal = options.signal;
  if (signal instanceof AbortSignal) signal.aborted ? abort() : signal.addEventListener('abort', abort, { once: true });
  return promise;
}

/** Each element's running checkout: its stop function. */
const stops = new WeakMap();
const queued = new WeakSet();

/** (Re)starts the element's checkout on the next microtask, once per burst of attribute changes. */
function later(el) {
  if (queued.has(el)) return;
  queued.add(el);
  queueMicrotask(() => {
    queued.delete(el);
    if (el.isConnected) restart(el);
  });
}

/** Stops the element's checkout (timers, listeners, fetch) and takes its panel away. */
function stop(el) {
  stops.get(el)?.();
  stops.delete(el);
  el.shadowRoot?.replaceChildren();
}

function restart(el) {
  stop(el);
  const attr = (name) => el.getAttribute(name)?.trim() || undefined;
  const orderId = attr('order-id');
  if (!orderId) return;
  let live = true; // false once stopped: an aborted element reports nothing
  const fire = (name, detail) => el.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true, detail }));
  const abort = start(
    {
      orderId,
      apiBase: attr('api-base'),
      mode: attr('mode'),
      locale: attr('locale'),
      redirectHosts: attr('redirect-hosts')?.split(/\s+/),
      miniprogramPath: attr('miniprogram-path'),
    },
    el.shadowRoot || el.attachShadow({ mode: 'open' }),
    (kind, value, panel) => {
      if (!live) return;
      if (kind == 'state') return fire('wxpay-state', value);
      if (kind == 'error') throw value;
      const { outcome, retry, message } = value;
      // The message is English for developers; a buyer only needs it when something broke.
      if (message && outcome.status == 'failed') panel.note.textContent = message;
      fire('wxpay-' + EVENT[outcome.status], outcome);
      if (retry) panel.buttons([['retry', retry]], () => later(el));
    },
    false,
  );
  stops.set(el, () => {
    live = false;
    abort();
  });
}

/** Defines `<wxpay-checkout>`; a no-op outside browsers (Node SSR) and when the name is taken. */
export function register() {
  if (typeof customElements == 'undefined' || customElements.get(TAG)) return;
  customElements.define(
    TAG,
    class extends HTMLElement {
      static get observedAttributes() {
        return ['order-id', 'api-base', 'mode', 'locale', 'redirect-hosts', 'miniprogram-path'];
      }
      connectedCallback() {
        later(this);
      }
      disconnectedCallback() {
        stop(this);
      }
      attributeChangedCallback(_, old, value) {
        if (old !== value && this.isConnected) later(this);
      }
    },
  );
}
