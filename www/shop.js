// The demo shop's behaviour: quantity and total, creating the order on the merchant backend,
// mounting <wxpay-checkout> for it, and resuming a checkout when WeChat sends the buyer back
// (?wxpay_order=…). Everything about paying is the package's job; this file is what a
// merchant would write.
import '/pkg/index.js'; // registers <wxpay-checkout>

// Shown to the buyer only: the server prices the order from its catalog (sku "coffee").
const UNIT_FEN = 5800;
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

const TEXT = {
  'zh-CN': {
    brand: '山行咖啡', stepsLabel: '结算步骤', step1: '购物车', step2: '结算', step3: '完成', tag: '新产季 · 中度烘焙',
    name: '云南保山小粒咖啡豆', desc: '海拔 1600 米日晒处理，坚果与红糖的甜感，尾韵干净。250 克，下单后 48 小时内烘焙发货。',
    qty: '数量', summary: '订单信息', subtotal: '商品金额', shipping: '运费', free: '包邮', total: '应付',
    pay: '微信支付', thanks: '感谢您的购买！', orderNo: '订单号', txn: '微信支付单号',
    fine: '本页为演示：支付由本地 WeChat Pay 模拟器完成，不会产生真实扣款。', detect: '这个浏览器会用哪种支付方式？',
    title: '山行咖啡 · 结算', orderFailed: '下单失败：', lang: 'EN',
  },
  en: {
    brand: 'Shanxing Coffee', stepsLabel: 'Checkout steps', step1: 'Cart', step2: 'Checkout', step3: 'Done', tag: 'New harvest · medium roast',
    name: 'Baoshan Yunnan Arabica beans', desc: 'Sun-dried at 1600 m: nutty, brown-sugar sweet, clean finish. 250 g, roasted and shipped within 48 hours of your order.',
    qty: 'Quantity', summary: 'Order summary', subtotal: 'Subtotal', shipping: 'Shipping', free: 'Free', total: 'Total',
    pay: 'Pay with WeChat Pay', thanks: 'Thank you for your order!', orderNo: 'Order', txn: 'WeChat Pay transaction',
    fine: 'Demo only: payments go to a local WeChat Pay simulator; no money moves.', detect: 'Which pay mode does this browser get?',
    title: 'Shanxing Coffee · Checkout', orderFailed: 'Could not place the order: ', lang: '中文',
  },
};

let locale = params.get('lang') === 'en' ? 'en' : 'zh-CN';
let count = 1;
// Every wxpay-* event, for people (and tests) who want to see what happened.
window.wxpayEvents = [];

const yuan = (fen) => `¥${(fen / 100).toFixed(2)}`;

function render() {
  const t = TEXT[locale];
  document.documentElement.lang = locale;
  document.title = t.title;
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t[el.dataset.t];
  for (const el of document.querySelectorAll('[data-t-label]')) el.setAttribute('aria-label', t[el.dataset.tLabel]);
  $('lang').textContent = t.lang;
  $('count').textContent = String(count);
  $('minus').disabled = count <= 1 || !!document.querySelector('wxpay-checkout');
  $('subtotal').textContent = yuan(UNIT_FEN * count);
  $('total').textContent = yuan(UNIT_FEN * count);
  const element = document.querySelector('wxpay-checkout');
  if (element) element.setAttribute('locale', locale);
}

/** Moves the step indicator to `step` (cart, checkout, done); the steps before it are past. */
function showStep(step) {
  let past = true;
  for (const li of document.querySelectorAll('#steps li')) {
    const current = li.dataset.step === step;
    if (current) past = false;
    li.toggleAttribute('data-past', past);
    if (current) li.setAttribute('aria-current', 'step');
    else li.removeAttribute('aria-current');
  }
}

/** In an ordinary browser pretending to be WeChat, the simulator stands in for WeixinJSBridge. */
function loadSimBridge() {
  if (!/MicroMessenger/i.test(navigator.userAgent) || window.WeixinJSBridge) return;
  const script = document.createElement('script');
  script.src = '/sim/bridge.js';
  document.head.append(script);
}

/** Asked for mode=miniprogram in an ordinary browser, the simulator stands in for the
 * mini-program around the <web-view> (wx.miniProgram): its navigateTo opens the mini-program
 * kit's payment page over this one. Loaded before mounting: the hand-off looks for it at once. */
function loadSimMiniProgram() {
  if (params.get('mode') !== 'miniprogram' || window.wx?.miniProgram) return Promise.resolve();
  return new Promise((resolve) => {
    const script = document.createElement('script');
    script.src = '/sim/miniprogram.js';
    script.onload = script.onerror = resolve;
    document.head.append(script);
  });
}

async function mount(orderId) {
  loadSimBridge();
  await loadSimMiniProgram();
  const element = document.createElement('wxpay-checkout');
  element.setAttribute('order-id', orderId);
  element.setAttribute('api-base', '/api');
  element.setAttribute('locale', locale);
  // The demo's simulator cashier is on this very host.
  element.setAttribute('redirect-hosts', location.host);
  if (params.get('mode')) element.setAttribute('mode', params.get('mode'));
  for (const name of ['wxpay-state', 'wxpay-paid', 'wxpay-cancel', 'wxpay-fail', 'wxpay-expire']) {
    element.addEventListener(name, (e) => {
      window.wxpayEvents.push({ type: name, at: Date.now(), detail: e.detail });
      document.body.dataset.checkout = name === 'wxpay-state' ? e.detail.state : name;
    });
  }
  element.addEventListener('wxpay-paid', (e) => {
    $('order-no').textContent = e.detail.orderId;
    $('txn').textContent = e.detail.detail.transactionId ?? '—';
    $('done').hidden = false;
    showStep('done');
    // On a phone the receipt is below the product: bring it on screen.
    $('done').scrollIntoView({ block: 'nearest' });
  });
  $('pay').hidden = true;
  // The order is placed: its amount no longer follows the quantity buttons.
  $('minus').disabled = $('plus').disabled = true;
  $('checkout').replaceChildren(element);
  // The panel at the top of the screen (below the header), where it will grow.
  $('checkout').scrollIntoView({ block: 'start' });
}

async function placeOrder() {
  const button = $('pay');
  button.disabled = true;
  $('error').textContent = '';
  try {
    const response = await fetch('/api/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ sku: 'coffee', quantity: count }] }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || response.statusText);
    await mount(body.order_id);
  } catch (e) {
    $('error').textContent = TEXT[locale].orderFailed + e.message;
  } finally {
    button.disabled = false;
  }
}

$('minus').addEventListener('click', () => { count = Math.max(1, count - 1); render(); });
$('plus').addEventListener('click', () => { count = Math.min(99, count + 1); render(); });
$('pay').addEventListener('click', placeOrder);
// The button is disabled in the HTML until the package (and its wasm) has loaded and the
// handler above exists, so an early tap is not silently lost.
$('pay').disabled = false;
$('lang').addEventListener('click', () => { locale = locale === 'en' ? 'zh-CN' : 'en'; render(); });

render();
// Back from WeChat's H5 cashier or OAuth page: resume that order.
const returning = params.get('wxpay_order');
if (returning) mount(returning);
