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
