//! wxpay-checkout: the browser side of a WeChat Pay checkout, in Rust compiled to Wasm and
//! shipped as the npm package `wxpay-checkout` (built by `cargo xtask build` from
//! `pkg-template/`).
//!
//! Data flows one way, down this list: where the buyer is → which pay mode → the flow.
//!
//! Pure modules (no browser; tested natively with `cargo test`):
//! - [`detect`](mod@detect) — user agent (+ browser hints) → [`Environment`]: WeChat, WeCom, mini-program,
//!   Alipay, QQ or a browser; platform; phone/tablet or desktop; WeChat version.
//! - [`mode`] — [`Environment`] → [`PayMode`]: `jsapi`, `h5`, `native` or `miniprogram`.
//! - [`qr`] — a Native `code_url` → an accessible, compact SVG QR code (symbol from `qrcode`).
//! - [`clock`] — RFC 3339 / HTTP dates from the network → epoch milliseconds.
//! - [`poll`] — when to ask the backend next: interval, backoff, jitter, Retry-After (at most
//!   a minute), `?wait=` long-polling, hidden-page pause, maximum duration (injectable clock).
//! - [`backend`] — the merchant backend's answers: HTTP status, JSON body and headers → what
//!   the run sees (payments, trade states, retryable errors).
//! - [`bridge`] — `WeixinJSBridge`: the six JSAPI parameters checked, pay-sheet answers mapped.
//! - [`url`] — page-URL query rewriting and the allow-listed redirect decision.
//! - [`h5`] — the H5 return marker and return handling.
//! - [`native`] — QR countdown text and screen-reader announcements.
//! - [`miniprogram`] — the hand-off page path.
//! - [`i18n`] — every buyer-facing sentence in zh-CN, zh-TW and en.
//! - [`checkout`] — the states of a checkout, its settings and outcome.
//! - [`flow`] — one checkout run as a sans-IO state machine: inputs (backend answers, timers,
//!   visibility, buttons, the bridge's answer, a new language) in, [`effect`]s out. Every
//!   decision of the four flows, the polling and the request deadlines lives here.
//! - [`effect`] — what a run asks the page to do, as Rust values (serde for JS and tests).
//! - [`view`] — the panel's view model, folded from a run's drawing effects.
//! - [`element`] — `<wxpay-checkout>`'s attributes and what a change of each one does.
//!
//! Browser modules (wasm32 only; tested in headless Chromium, `tests/browser/`, and end to end):
//! - `driver` — carries out a run's effects: gloo-net requests (with deadlines and
//!   `AbortSignal`s), gloo timers, visibility, `WeixinJSBridge`, `wx.miniProgram`,
//!   `location`/`history`, and hands the view model to the JS panel.
//! - `navigator` — reads the UA and hints from the live runtime (browser or Node).
//! - `dom` — mounting the QR code into an element.
//! - `js` — the JavaScript API (`detectEnvironment`, `choosePayMode`, `renderQrSvg`,
//!   `mountQr`, `checkout`, and `CheckoutElement` behind `<wxpay-checkout>`): a thin layer
//!   of `#[wasm_bindgen]` exports, one submodule per concept.
//!
//! What stays hand-written JS (`pkg-template/checkout.js`) is presentation only: the panel,
//! drawn from the view model, and the custom element class (a custom element needs a JS
//! class), which forwards its lifecycle to Rust. No fetch, timer, navigation or bridge call.
//!
//! Size: `cargo xtask size` guards the gzip size of the package (see `xtask/src/size.rs` for
//! the figure and where the bytes go). Spend bytes on the given crates, not on duplicated
//! work; check with `cargo xtask size` (and twiggy) rather than guessing.

// Smaller than std's dlmalloc (see Cargo.toml); wasm32 without threads has one thread, which is
// what AssumeSingleThreaded requires.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: this crate is built for wasm32-unknown-unknown without the atomics feature, so there is
// exactly one thread and the allocator is never entered concurrently.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

pub mod backend;
pub mod bridge;
pub mod checkout;
pub mod clock;
pub mod detect;
pub mod effect;
pub mod element;
pub mod flow;
pub mod h5;
pub mod i18n;
pub mod miniprogram;
pub mod mode;
pub mod native;
pub mod poll;
pub mod qr;
pub mod url;
pub mod view;

#[cfg(target_arch = "wasm32")]
pub mod dom;
#[cfg(target_arch = "wasm32")]
pub mod driver;
// Public only so the browser tests (tests/browser/) can call the exports as JS would.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod js;
#[cfg(target_arch = "wasm32")]
pub mod navigator;

pub use detect::{detect, detect_with_hints, BrowserHints, Client, Environment, Platform};
pub use mode::{choose_pay_mode, PayMode};
pub use qr::{render_svg, EcLevel, QrError, QrOptions};
