/**
 * config.js — the one file a merchant edits: where the merchant backend's API lives (its host
 * must be a "request legal domain" of the mini-program), and optional extra request headers.
 */
'use strict';

module.exports = {
  /** The backend of wxpay-checkout (`wxpay serve`), https in production. */
  apiBase: 'https://shop.example.com/api',
  /** Extra headers for every call, e.g. () => ({ authorization: 'Bearer ' + wx.getStorageSync('token') }). */
  header: function () {
    return {};
  },
  /** Where "back" goes when the payment page was opened with nothing under it, e.g. '/pages/index/index'. */
  home: undefined,
  /** Polling of the order (PollingOptions of the web checkout); undefined = its defaults. */
  polling: undefined,
};
