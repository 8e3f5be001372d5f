//! wxpay-checkout: the browser side of a WeChat Pay checkout, in Rust compiled to Wasm and
//! shipped as the npm package `wxpay-checkout` (built by `cargo xtask build` from
//! `pkg-template/`).
//!
//! Data flows one way, down this list: where the buyer is → which pay mode → the flow.
//!
//! Pure modules (no browser; tested natively with `cargo test`):
//! - [`detect`] — user agent (+ browser hints) → [`Environment`]: WeChat, WeCom, mini-program,
//!   Alipay, QQ or a browser; platform; phone/tablet or desktop; WeChat version.
//! - [`mode`] — [`Environment`] → [`PayMode`]: `jsapi`, `h5`, `native` or `miniprogram`.
//! - [`qr`] — a Native `code_url` → an accessible, compact SVG QR code.
//!
//! Browser modules (wasm32 only; tested in headless Chromium, `tests/browser/`):
//! - `navigator` — reads the UA and hints from the live runtime (browser or Node).
//! - `dom` — DOM writes the flows share: mounting the QR code.
//! - `js` — the JavaScript API (`detectEnvironment`, `choosePayMode`, `renderQrSvg`,
//!   `mountQr`): a thin layer of `#[wasm_bindgen]` exports, one submodule per concept.

pub mod detect;
pub mod mode;
pub mod qr;

#[cfg(target_arch = "wasm32")]
pub mod dom;
// Public only so the browser tests (tests/browser/) can call the exports as JS would.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod js;
#[cfg(target_arch = "wasm32")]
pub mod navigator;

pub use detect::{detect, detect_with_hints, BrowserHints, Client, Environment, Platform};
pub use mode::{choose_pay_mode, PayMode};
pub use qr::{render_svg, EcLevel, QrError, QrOptions};
