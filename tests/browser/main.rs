//! Browser tests: run by `cargo xtask test browser` in headless Chromium through
//! wasm-bindgen-test-runner and chromedriver (flags in `webdriver.json`). One module per
//! browser concept, mirroring `src/`.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod hints;
mod qr_mount;
