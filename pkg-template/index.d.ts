// Types of the wxpay-checkout API. Kept by hand next to src/js/ (the Rust exports are marked
// skip_typescript); tests/node checks that every runtime export is declared here and back.
/// <reference lib="dom" />

/** The app whose web view (or the browser) the page runs in. */
export type Client = 'wechat' | 'wecom' | 'miniprogram' | 'alipay' | 'qq' | 'browser';

/** The operating system family. */
export type Platform = 'ios' | 'android' | 'harmonyos' | 'windows' | 'macos' | 'linux' | 'other';

/** Where the buyer is. */
export interface Environment {
  client: Client;
  platform: Platform;
  /** True for phones and tablets. */
  mobile: boolean;
  /** The `MicroMessenger/x.y.z` version inside WeChat, WeCom and mini-programs, else null. */
  wechatVersion: string | null;
}

/** The WeChat Pay product to order: JSAPI, H5 (MWEB), Native (QR) or mini-program. */
export type PayMode = 'jsapi' | 'h5' | 'native' | 'miniprogram';

/** Options of {@link renderQrSvg} and {@link mountQr}. Unknown keys are an error. */
export interface QrOptions {
  /** Quiet zone in modules, 0–64. Default 4. */
  margin?: number;
  /** Error correction level. Default "M". */
  ecLevel?: 'L' | 'M' | 'Q' | 'H';
  /** CSS colour of the dark modules. Default "#000000". */
  dark?: string;
  /** CSS colour of the background. Default "#ffffff". */
  light?: string;
  /** Width and height in pixels (1–10000); without it the SVG fills its container. */
  size?: number;
  /** Text for screen readers (`<title>`, and `aria-label` with mountQr). Default "WeChat Pay QR code". */
  title?: string;
}

/**
 * Detects where the buyer is. With a user-agent string, from that string alone; with none,
 * from the running page (`navigator.userAgent`, plus `window.__wxjs_environment` and touch
 * points for iPads in desktop mode). In Node with no argument: a desktop "browser".
 * @throws {Error} if `userAgent` is given but is not a string.
 */
export function detectEnvironment(userAgent?: string | null): Environment;

/**
 * Chooses the WeChat Pay mode: mini-program web-view → "miniprogram"; WeChat on a phone or
 * tablet → "jsapi"; desktop WeChat → "native"; WeCom and every other phone/tablet browser →
 * "h5"; desktop browsers → "native".
 * `null` and `undefined` mean "no argument": the running page.
 * @throws {Error} if the argument is neither a string, an Environment, nor absent.
 */
export function choosePayMode(userAgentOrEnvironment?: string | Environment | null): PayMode;

/**
 * Renders `text` (a Native `code_url`) as an SVG string with one `<path>`, a `viewBox`,
 * `shape-rendering="crispEdges"` and a `<title>`.
 * @throws {Error} if `text` is empty, too long for a QR code at the chosen level, or an option is invalid.
 */
export function renderQrSvg(text: string, options?: QrOptions | null): string;

/**
 * Draws the QR code for `text` into `element` (replacing its content) and labels the element
 * `role="img"` with `aria-label` = `options.title`. On error the element is left untouched.
 * @throws {Error} as {@link renderQrSvg}, or if `element` is not a DOM Element.
 */
export function mountQr(element: Element, text: string, options?: QrOptions | null): void;

/** How a checkout ended. */
export type CheckoutStatus = 'paid' | 'cancelled' | 'failed' | 'expired';

/**
 * Every state a checkout passes through (`wxpay-state` events and `onState`): the four final
 * ones plus preparing, authorizing (JSAPI OAuth), redirecting (H5), paying (WeChat's pay sheet
 * or the mini-program), scanning (Native QR shown), confirming (the bridge said ok; the backend
 * has not yet), checking (back from H5) and unconfirmed (back from H5, not paid yet).
 */
export type CheckoutState =
  | 'preparing' | 'authorizing' | 'redirecting' | 'paying' | 'scanning'
  | 'confirming' | 'checking' | 'unconfirmed' | CheckoutStatus;

/** What `checkout()` resolves to and the `detail` of wxpay-paid/-cancel/-fail/-expire. */
export interface CheckoutOutcome {
  status: CheckoutStatus;
  orderId: string;
  mode: PayMode;
  detail: {
    /** WeChat's trade_state as the backend reported it (SUCCESS, CLOSED, PAYERROR, …), when it decided. */
    tradeState: string | null;
    transactionId: string | null;
    /** Why, in English, for developers and logs, for anything but a confirmed payment (the
     * panel tells the buyer in their language what to do instead). */
    message: string | null;
    /** "aborted" when the checkout was aborted (or its element removed). */
    reason: 'aborted' | null;
  };
}

/** The `detail` of `wxpay-state` events and the argument of `onState`. */
export interface CheckoutStateDetail {
  state: CheckoutState;
  mode: PayMode;
  orderId: string;
  /** scanning: the code_url shown as a QR code and when it expires. */
  codeUrl?: string;
  expiresAt?: Date;
  /** redirecting: the WeChat cashier URL. authorizing: the OAuth URL. */
  h5Url?: string;
  authorizeUrl?: string;
  /** paying in mini-program mode: the page handed to `wx.miniProgram.navigateTo`. */
  miniprogramPage?: string;
  /** final states other than paid: why. */
  message?: string;
}

/** Polling of `GET {apiBase}/orders/{id}`. Times in milliseconds unless noted. */
export interface PollingOptions {
  /** Delay between checks at first. Default 2000. */
  interval?: number;
  /** Keep the fixed interval this long, then back off. Default 30000. */
  fastFor?: number;
  /** Longest delay (also after errors, unless Retry-After says more). Default 15000. */
  maxInterval?: number;
  /** Backoff factor, 1–10. Default 1.5. */
  backoff?: number;
  /** Random spread of delays, 0–1 (0.2 = ±20 %). Default 0.2. */
  jitter?: number;
  /** Give up (status "expired") after this long. Default 900000 (15 min). */
  maxDuration?: number;
  /** `?wait=` seconds for long-polling backends, 0 to disable, at most 30. Default 20. A
   * long-poll may take `longPoll` + 10 s before it counts as failed. */
  longPoll?: number;
}

/** A backend that does not speak the default `/api` contract. */
export interface CheckoutBackend {
  /**
   * Start paying: resolve to `{ code_url }` (native), `{ jsapi: { appId, timeStamp, nonceStr,
   * package, signType, paySign } }` (jsapi) or `{ h5_url }` (h5), each with optional
   * `expires_at` (RFC 3339). Throw `{ error: "openid_required", authorize_url }` to start OAuth.
   */
  pay(orderId: string, request: { mode: PayMode; code?: string; return_url?: string }, options: { signal: AbortSignal }): Promise<object>;
  /** Resolve to `{ state }` (WeChat's trade_state) plus optional `transaction_id`, `paid_at`
   * (and `order_id`: an answer about another order is ignored). Throwing means "try again later". */
  status(orderId: string, options: { wait?: number; signal?: AbortSignal }): Promise<{ state: string; transaction_id?: string; paid_at?: string }>;
}

export interface CheckoutOptions {
  /** The merchant's order id (`POST /api/orders` answers it). Required. */
  orderId: string;
  /** Where the merchant backend's API lives. Default "/api". */
  apiBase?: string;
  /** Override the automatic choice ({@link choosePayMode}). */
  mode?: PayMode;
  /** Where to draw the checkout panel; without it nothing is drawn (use onState). */
  container?: Element | ShadowRoot;
  /** "zh-CN" (default), "zh-TW" or "en"; other tags fall back leniently. */
  locale?: string;
  polling?: PollingOptions;
  /** Where the H5 cashier / OAuth URL may point to, besides WeChat's own (wx.tenpay.com,
   * open.weixin.qq.com): `host` (https on port 443), `host:port`, or `https://host:port`. Scheme,
   * host and port must match exactly; http only on localhost/127.x. */
  redirectHosts?: string[];
  /** Mini-program page that pays, e.g. "/pages/pay/index" (the default); `?order_id=` is appended. */
  miniprogramPath?: string;
  /** How long to wait for WeixinJSBridgeReady, ms. Default 5000. */
  bridgeTimeout?: number;
  /** Back from H5: how long to show "checking" before offering "I have paid" / "Pay again", ms. Default 6000. */
  h5CheckTime?: number;
  /** How long a request to the backend may take before it is aborted and retried, ms
   * (long-polls: their `wait` plus 10 s). Default 15000, at least 1000. */
  requestTimeout?: number;
  /** Use these functions instead of HTTP to apiBase. */
  backend?: CheckoutBackend;
  /** Called on every state change. */
  onState?: (detail: CheckoutStateDetail) => void;
  /** Aborting it stops the checkout (like the promise's `abort()`). */
  signal?: AbortSignal;
}

/** The promise of the outcome, with `abort()`: stops polling, timers and listeners; resolves "cancelled" with reason "aborted". */
export interface CheckoutHandle extends Promise<CheckoutOutcome> {
  abort(): void;
}

/**
 * Runs a checkout for `options.orderId` in the mode that fits the buyer's environment and
 * resolves when the merchant backend reports a final state (never on the browser's word alone).
 * @throws {Error} if an option is missing or invalid (the message says which).
 */
export function checkout(options: CheckoutOptions): CheckoutHandle;

/**
 * `<wxpay-checkout order-id="…" api-base="/api" mode="…" locale="…" redirect-hosts="host:port …"
 * miniprogram-path="/pages/pay/index" max-duration="900000" poll-interval="2000" long-poll="20">`,
 * registered on import (times in ms, long-poll in s). Open shadow DOM; removing it stops all its
 * work. A finished checkout is final: only a new order-id, mode or api-base starts a new run;
 * locale re-labels the panel; other attributes apply to the next run. Style with --wxpay-accent, --wxpay-text, --wxpay-muted, --wxpay-bg, --wxpay-border,
 * --wxpay-error, --wxpay-radius, --wxpay-font, --wxpay-qr-size, --wxpay-max-width, or ::part(panel|status).
 */
export interface WxpayCheckoutElement extends HTMLElement {}

export interface WxpayCheckoutEventMap {
  'wxpay-paid': CustomEvent<CheckoutOutcome>;
  'wxpay-cancel': CustomEvent<CheckoutOutcome>;
  'wxpay-fail': CustomEvent<CheckoutOutcome>;
  'wxpay-expire': CustomEvent<CheckoutOutcome>;
  'wxpay-state': CustomEvent<CheckoutStateDetail>;
}

declare global {
  interface HTMLElementTagNameMap {
    'wxpay-checkout': WxpayCheckoutElement;
  }
  interface HTMLElementEventMap extends WxpayCheckoutEventMap {}
}
