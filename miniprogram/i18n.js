/**
 * i18n.js — every word the payment page shows the buyer, in Simplified Chinese (the default),
 * Traditional Chinese and English: the same sentences as the web checkout (src/i18n.rs), plus
 * the buyer-facing reasons a payment did not go through.
 */
'use strict';

const TEXTS = {
  'zh-CN': {
    title: '微信支付',
    preparing: '正在准备支付…',
    paying: '请在微信支付中完成付款',
    confirming: '正在确认支付结果…',
    paid: '支付成功',
    cancelled: '支付已取消',
    failed: '支付失败',
    expired: '支付已超时，请重新下单',
    retrying: '网络不稳定，正在重试…',
    network: '无法连接商家服务器，请检查网络后重试',
    merchant: '商家支付设置有误，请稍后再试或联系商家',
    wechat: '微信支付没有完成，请重试',
    noOrder: '缺少订单号，请返回重新下单',
    backSoon: '即将返回商家页面…',
    retry: '重新支付',
    back: '返回',
  },
  'zh-TW': {
    title: '微信支付',
    preparing: '正在準備支付…',
    paying: '請在微信支付中完成付款',
    confirming: '正在確認支付結果…',
    paid: '支付成功',
    cancelled: '支付已取消',
    failed: '支付失敗',
    expired: '支付已逾時，請重新下單',
    retrying: '網路不穩定，正在重試…',
    network: '無法連線商家伺服器，請檢查網路後重試',
    merchant: '商家支付設定有誤，請稍後再試或聯絡商家',
    wechat: '微信支付沒有完成，請重試',
    noOrder: '缺少訂單號，請返回重新下單',
    backSoon: '即將返回商家頁面…',
    retry: '重新支付',
    back: '返回',
  },
  en: {
    title: 'WeChat Pay',
    preparing: 'Preparing your payment…',
    paying: 'Complete the payment in WeChat Pay',
    confirming: 'Confirming your payment…',
    paid: 'Payment received',
    cancelled: 'Payment cancelled',
    failed: 'Payment failed',
    expired: 'This payment has timed out. Please place the order again.',
    retrying: 'Connection trouble. Retrying…',
    network: 'Cannot reach the shop. Check your connection and try again.',
    merchant: 'The shop\'s payment settings have a problem. Try again later or contact the shop.',
    wechat: 'WeChat Pay did not complete. Please try again.',
    noOrder: 'No order to pay. Go back and place the order again.',
    backSoon: 'Taking you back to the shop…',
    retry: 'Try again',
    back: 'Back',
  },
};

/**
 * A language tag (BCP 47 or WeChat's `zh_CN` / `zh_TW` / `zh_HK` / `en`) → "zh-CN" | "zh-TW" | "en".
 * zh-TW, zh-HK, zh-MO, zh-Hant → Traditional; other zh and anything unknown → Simplified.
 */
function pickLocale(tag) {
  const parts = String(tag || '').trim().toLowerCase().split(/[-_]/);
  if (parts[0] === 'en') return 'en';
  if (parts[0] === 'zh' && parts.slice(1).some((p) => ['tw', 'hk', 'mo', 'hant'].indexOf(p) >= 0)) return 'zh-TW';
  return 'zh-CN';
}

/** The words of `locale` (a value of pickLocale). */
function texts(locale) {
  return TEXTS[locale] || TEXTS['zh-CN'];
}

module.exports = { pickLocale: pickLocale, texts: texts, LOCALES: Object.keys(TEXTS) };
