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
//! - [`qr`] — a Native `code_url` → an accessible, compact SVG QR code.
//! - [`clock`] — RFC 3339 / HTTP dates from the network → epoch milliseconds.
//! - [`poll`] — when to ask the backend next: interval, backoff, jitter, Retry-After,
//!   `?wait=` long-polling, hidden-page pause, maximum duration (injectable clock).
//! - [`backend`] — the merchant backend's answers: trade states, retryable errors.
//! - [`bridge`] — `WeixinJSBridge`: the six JSAPI parameters checked, pay-sheet answers mapped.
//! - [`url`] — page-URL query rewriting and the allow-listed redirect check.
//! - [`h5`] — the H5 return marker and return handling.
//! - [`native`] — QR countdown text and screen-reader announcements.
//! - [`miniprogram`] — the hand-off page path.
//! - [`i18n`] — every buyer-facing sentence in zh-CN, zh-TW and en.
//! - [`checkout`] — the states of a checkout, its settings and outcome.
//! - [`flow`] — one checkout run as a sans-IO state machine: inputs (backend answers, timers,
//!   visibility, buttons, the bridge's answer) in, [`effect`]s out. Every decision of the four
//!   flows and the polling lives here.
//! - [`effect`] — what a run asks the page to do, as one JSON array per step.
//!
//! Browser modules (wasm32 only; tested in headless Chromium, `tests/browser/`):
//! - `navigator` — reads the UA and hints from the live runtime (browser or Node).
//! - `dom` — mounting the QR code into an element.
//! - `js` — the JavaScript API (`detectEnvironment`, `choosePayMode`, `renderQrSvg`,
//!   `mountQr`, and the `CheckoutRun` class behind `checkout()`): a thin layer of
//!   `#[wasm_bindgen]` exports, one submodule per concept.
//!
//! The I/O of a checkout — fetch, timers, DOM, listeners, navigation, `WeixinJSBridge` — is
//! the small hand-written driver `pkg-template/checkout.js`, which also defines
//! `checkout()` and the `<wxpay-checkout>` element. It carries out the effects of a run and
//! feeds back what happened; it decides nothing (like rustls: the caller moves the bytes).
//!
//! Size: the package has a 45 000-byte gzip budget (`cargo xtask size`). Async Rust in the
//! wasm (state machines, closures, web-sys glue) cost ~30 KB gzip, hence the sans-IO run; the
//! `qrcode` crate cost 11.9 KB, hence [`qr_symbol`]. Measured, not guessed: a change that
//! "should" shrink often grows the gzip (a table-driven options loop, a hand-written UTF-8
//! check and a `Vec<String>` answer format all did), so check `cargo xtask size`. On the wasm
//! side, `str::contains` with a `char`/`&str` pattern, `{:?}`, panicking `&s[a..b]` slicing
//! and serde error messages each drag kilobytes of core's formatting, Unicode and
//! float-printing code in; byte-level matching and plain messages avoid it; so do
//! `str::parse`, `split(char)` and `join` (use byte positions, digit folds, `concat`).

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
pub mod flow;
pub mod h5;
pub mod i18n;
pub mod miniprogram;
pub mod mode;
pub mod native;
pub mod poll;
pub mod qr;
pub mod url;

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
