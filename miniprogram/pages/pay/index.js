/**
 * The ready payment page: `/pages/pay/index?order_id=…`, where the web checkout's `<web-view>`
 * hand-off (`wx.miniProgram.navigateTo`) sends the buyer by default. It pays the order with
 * `payOrder`, shows each state in the buyer's language (zh-CN / zh-TW / en; `&lang=` overrides
 * WeChat's), goes back to the web-view page once the backend says paid (whose own polling then
 * shows paid too) and offers "try again" otherwise. Leaving the page stops everything.
 */
'use strict';

const wxpay = require('../../wxpay.js');
const i18n = require('../../i18n.js');
const config = require('../../config.js');

/** How long "paid" stays on screen before going back to the shop. */
const BACK_AFTER_PAID_MS = 1500;

const ICONS = { paid: 'success', cancelled: 'cancel', failed: 'warn', expired: 'waiting' };

function language(query) {
  if (query.lang) return i18n.pickLocale(query.lang);
  try {
    const info = typeof wx.getAppBaseInfo === 'function' ? wx.getAppBaseInfo() : wx.getSystemInfoSync();
    return i18n.pickLocale(info && info.language);
  } catch (e) {
    return 'zh-CN';
  }
}

function decode(value) {
  try {
    return decodeURIComponent(value);
  } catch (e) {
    return value;
  }
}

/** What the buyer is told when a payment did not go through, by the outcome's reason. */
function reasonText(t, outcome) {
  if (outcome.status === 'expired') return '';
  return t[outcome.detail.reason] || '';
}

Page({
  data: { locale: 'zh-CN', state: 'preparing', status: '', message: '', icon: '', busy: true, actions: [] },

  onLoad(query) {
    query = query || {};
    this.locale = language(query);
    this.t = i18n.texts(this.locale);
    this.orderId = decode(query.order_id || '').trim();
    if (typeof wx.setNavigationBarTitle === 'function') wx.setNavigationBarTitle({ title: this.t.title });
    if (!this.orderId) {
      this.show('failed', this.t.noOrder, ['back']);
      return;
    }
    this.start();
  },

  onUnload() {
    this.unloaded = true;
    clearTimeout(this.backTimer);
    if (this.payment) this.payment.abort();
  },

  start() {
    this.show('preparing', '', []);
    const payment = wxpay.payOrder({
      orderId: this.orderId,
      apiBase: config.apiBase,
      header: typeof config.header === 'function' ? config.header() : config.header,
      polling: config.polling,
      onState: (detail) => {
        if (this.payment === payment && !ICONS[detail.state]) {
          this.show(detail.state, detail.note === 'retrying' ? this.t.retrying : '', []);
        }
      },
    });
    this.payment = payment;
    payment.then((outcome) => {
      if (this.payment === payment) this.finished(outcome);
    });
  },

  finished(outcome) {
    if (this.unloaded || outcome.detail.reason === 'aborted') return;
    if (outcome.status === 'paid') {
      this.show('paid', this.t.backSoon, ['back']);
      this.backTimer = setTimeout(() => this.back(), BACK_AFTER_PAID_MS);
      return;
    }
    // An expired order cannot be paid again from here: the shop must place a new one.
    this.show(outcome.status, reasonText(this.t, outcome), outcome.status === 'expired' ? ['back'] : ['retry', 'back']);
  },

  /** View-ready data: the WXML only prints it. */
  show(state, message, actions) {
    this.setData({
      locale: this.locale,
      state: state,
      status: this.t[state] || '',
      message: message || '',
      icon: ICONS[state] || '',
      busy: !ICONS[state],
      actions: (actions || []).map((name) => ({ name: name, label: this.t[name] })),
    });
  },

  onAction(event) {
    const action = event.currentTarget.dataset.action;
    if (action === 'retry') this.start();
    if (action === 'back') this.back();
  },

  back() {
    clearTimeout(this.backTimer);
    wx.navigateBack({
      delta: 1,
      // Opened as the first page (no web-view page under it): the shop's home, if configured.
      fail: () => {
        if (config.home) wx.reLaunch({ url: config.home });
      },
    });
  },
});
