// The checkout's presentation, around the wasm that does the checkout (src/driver.rs over the
// state machine in src/flow.rs): the panel, drawn from the view model Rust hands it after every
// step (src/view.rs), and the <wxpay-checkout> element class, which forwards its lifecycle to
// Rust (`CheckoutElement`, src/js/element.rs). Nothing here talks to the network, sets a
// polling timer, navigates or calls WeChat: Rust does all of that and decides everything.
//
// Text only ever goes in through textContent; the only innerHTML is the QR code's SVG, which
// Rust's QR renderer wrote.
import { CheckoutElement } from './wxpay_checkout.js';

const CSS =
  '.wxpay-panel{box-sizing:border-box;font:var(--wxpay-font,15px/1.5 -apple-system,BlinkMacSystemFont,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","Segoe UI",sans-serif);color:var(--wxpay-text,#1f2329);background:var(--wxpay-bg,#fff);border:1px solid var(--wxpay-border,#e5e6eb);border-radius:var(--wxpay-radius,12px);padding:20px;text-align:center;max-width:var(--wxpay-max-width,360px);margin:0 auto}' +
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

/** `<tag attr…>text</tag>`; text only ever as textContent. */
function h(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text != null) e.textContent = text;
  return e;
}

/**
 * One checkout's panel in `root`: status line, body (QR, spinner, mark), note, buttons.
 * `draw(view)` shows a view model; a button click calls `onAction(action)`.
 */
export class Panel {
  constructor(root, onAction) {
    this.onAction = onAction;
    this.panel = h('div', { class: 'wxpay-panel', part: 'panel' });
    // The status line is what screen readers should hear on every state change.
    this.status = h('p', { class: 'wxpay-status', part: 'status', role: 'status', 'aria-live': 'polite' });
    this.body = h('div', { class: 'wxpay-body' });
    this.note = h('p', { class: 'wxpay-note', 'aria-live': 'polite' });
    this.actions = h('div', { class: 'wxpay-actions' });
    this.panel.append(h('style', {}, CSS), this.status, this.body, this.note, this.actions);
    root.append(this.panel);
  }

  draw(view) {
    const { panel, status, note } = this;
    panel.lang = view.lang;
    panel.setAttribute('data-state', view.state);
    // Dimmed: an expired code must not be scanned.
    panel.className = view.body.expired ? 'wxpay-panel wxpay-expired' : 'wxpay-panel';
    status.textContent = view.status;
    note.textContent = view.note ?? '';
    this.drawBody(view.body);
    const buttons = JSON.stringify(view.buttons);
    if (buttons != this.buttons) {
      this.buttons = buttons;
      this.actions.replaceChildren(
        ...view.buttons.map(({ action, label }) => {
          const b = h('button', { type: 'button', 'data-action': action }, label);
          b.onclick = () => this.onAction(action);
          return b;
        }),
      );
    }
  }

  drawBody(body) {
    if (body.kind != 'qr') {
      const key = body.kind + (body.mark ?? '');
      if (key != this.shown) {
        this.shown = key;
        const mark = body.kind == 'mark';
        this.body.replaceChildren(
          ...(body.kind == 'empty' ? [] : [h('div', { class: mark ? 'wxpay-mark' : 'wxpay-spin', 'aria-hidden': 'true' }, mark ? body.mark : null)]),
        );
      }
      return;
    }
    if (this.shown != body.svg) {
      this.shown = body.svg;
      const qr = h('div', { class: 'wxpay-qr', 'data-code-url': body.codeUrl });
      qr.innerHTML = body.svg; // Rust's own SVG of the code_url, never markup from the network
      // Labelled like mountQr() does, with the SVG's own <title>.
      const title = qr.querySelector('title');
      if (title) {
        qr.setAttribute('role', 'img');
        qr.setAttribute('aria-label', title.textContent);
      }
      // role=timer is not read out every second; the live region speaks when Rust says so.
      this.timer = h('span', { class: 'wxpay-timer', role: 'timer', 'aria-label': body.caption });
      this.live = h('span', { class: 'wxpay-sr', 'aria-live': 'polite' });
      this.said = null;
      const countdown = h('p', { class: 'wxpay-countdown' });
      countdown.append(h('span', {}, body.caption), this.timer);
      this.body.replaceChildren(qr, countdown, this.live);
      // A live region that arrives with its text is often not read out: it is inserted empty
      // and filled a moment later (presentation only; Rust's timers run the countdown).
      const live = this.live;
      if (body.say != null) setTimeout(() => (live.textContent = body.say), 100);
      this.said = body.say;
    }
    this.timer.textContent = body.time;
    if (body.say != null && body.say !== this.said) this.live.textContent = this.said = body.say;
  }
}

/** Defines `<wxpay-checkout>`; a no-op outside browsers (Node SSR) and when the name is taken. */
export function register() {
  if (typeof customElements == 'undefined' || customElements.get(TAG)) return;
  const observed = CheckoutElement.attributes();
  customElements.define(
    TAG,
    class extends HTMLElement {
      static get observedAttributes() {
        return observed;
      }
      #checkout = new CheckoutElement(this);
      connectedCallback() {
        this.#checkout.connected();
      }
      disconnectedCallback() {
        this.#checkout.disconnected();
      }
      attributeChangedCallback(name, old, value) {
        this.#checkout.attributeChanged(name, old, value);
      }
    },
  );
}
