//! Putting a Native QR code on the page accessibly (`mountQr`).
//!
//! Kept apart from `qr.rs` so the renderer stays pure (tested natively) while this file is
//! tested in headless Chromium (`tests/browser/`).

use web_sys::Element;

use crate::qr::{render_svg, QrError, QrOptions};

/// Replaces the content of `target` with the QR code for `text` and labels it for assistive
/// technology (`role="img"`, `aria-label` = the options' title).
///
/// The SVG is rendered before anything is touched, so on error the element keeps what it
/// showed (for example a "loading" placeholder the caller can replace with a message).
pub fn mount_qr(target: &Element, text: &str, options: &QrOptions) -> Result<(), QrError> {
    let svg = render_svg(text, options)?;
    target.set_inner_html(&svg);
    // set_attribute fails only for invalid attribute names; these are constants.
    let _ = target.set_attribute("role", "img");
    let _ = target.set_attribute("aria-label", &options.title);
    Ok(())
}
