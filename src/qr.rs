//! Native pay's QR code: turns a `code_url` (`weixin://wxpay/bizpayurl?pr=…`) into an SVG.
//!
//! The symbol comes from [`crate::qr_symbol`]; the SVG is written here: each row's dark modules
//! merged into runs — one compact `<path>` — with the quiet zone in the `viewBox` so the
//! picture scales crisply to any size, and a `<title>` for screen readers. Pure Rust, so it is
//! tested natively by decoding the rendered SVG back (`tests/qr_roundtrip.rs`).

use std::fmt;

use crate::i18n::decimal;

use crate::qr_symbol;

/// How much damage the code survives; higher levels hold less text. The order is that of
/// `qr_symbol`'s tables, which it indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcLevel {
    L,
    M,
    Q,
    H,
}

impl EcLevel {
    /// `"L"`, `"M"`, `"Q"` or `"H"`, as the JS option is spelled.
    pub fn from_name(name: &str) -> Option<EcLevel> {
        match name {
            "L" => Some(EcLevel::L),
            "M" => Some(EcLevel::M),
            "Q" => Some(EcLevel::Q),
            "H" => Some(EcLevel::H),
            _ => None,
        }
    }

    /// Byte-mode capacity of the largest QR code (version 40) at this level; used to say by how
    /// much a text is too long.
    fn max_bytes(self) -> usize {
        match self {
            EcLevel::L => 2953,
            EcLevel::M => 2331,
            EcLevel::Q => 1663,
            EcLevel::H => 1273,
        }
    }

    /// The level's letter, as in messages and the JS option.
    pub fn name(self) -> &'static str {
        match self {
            EcLevel::L => "L",
            EcLevel::M => "M",
            EcLevel::Q => "Q",
            EcLevel::H => "H",
        }
    }
}

/// Options of `renderQrSvg` (in JS: `margin`, `ecLevel`, `dark`, `light`, `size`, `title`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrOptions {
    /// Quiet zone around the code, in modules. Scanners need 4; less saves space on a white page.
    pub margin: u32,
    pub ec_level: EcLevel,
    /// CSS colour of the dark modules.
    pub dark: String,
    /// CSS colour of the background (quiet zone included).
    pub light: String,
    /// Width and height in pixels; without it the SVG fills its container.
    pub size: Option<u32>,
    /// Text for screen readers, in the SVG's `<title>`.
    pub title: String,
}

impl Default for QrOptions {
    fn default() -> Self {
        QrOptions {
            margin: 4,
            ec_level: EcLevel::M,
            dark: "#000000".into(),
            light: "#ffffff".into(),
            size: None,
            title: "WeChat Pay QR code".into(),
        }
    }
}

/// Largest quiet zone accepted: far beyond what any scanner needs, small enough that a typo
/// (say 400 for a pixel size) is caught.
const MAX_MARGIN: u32 = 64;
/// Largest pixel size accepted, for the same reason.
const MAX_SIZE: u32 = 10_000;

/// Why a QR code could not be drawn; each message says what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrError {
    EmptyText,
    TooLong { bytes: usize, level: EcLevel },
    BadColour { option: &'static str, value: String },
    BadMargin(u32),
    BadSize(u32),
    BadEcLevel(String),
    /// An option of the wrong JS type.
    BadOption { option: String, expected: &'static str },
    /// An option name the API does not have (likely a typo).
    UnknownOption(String),
}

impl QrError {
    /// What is wrong and what to change. Built by concatenation, not `write!`: core's
    /// formatter would otherwise be linked into the wasm for these messages alone.
    pub fn message(&self) -> String {
        let n = |v: u64| decimal(v);
        match self {
            QrError::EmptyText => "QR text is empty: pass the code_url returned by the Native order".into(),
            QrError::TooLong { bytes, level } => [
                "QR text is ",
                &n(*bytes as u64),
                " bytes, more than a QR code holds at error correction level ",
                level.name(),
                " (at most ",
                &n(level.max_bytes() as u64),
                " bytes): shorten it or choose a lower ecLevel",
            ]
            .concat(),
            QrError::BadColour { option, value } => {
                ["QR option ", option, " must be a CSS colour such as \"#000\" or \"rgb(0 0 0)\", got \"", value, "\""].concat()
            }
            QrError::BadMargin(m) => ["QR option margin must be 0..=", &n(MAX_MARGIN.into()), " modules, got ", &n((*m).into())].concat(),
            QrError::BadSize(s) => ["QR option size must be 1..=", &n(MAX_SIZE.into()), " pixels, got ", &n((*s).into())].concat(),
            QrError::BadEcLevel(got) => ["QR option ecLevel must be \"L\", \"M\", \"Q\" or \"H\", got \"", got, "\""].concat(),
            QrError::BadOption { option, expected } => ["QR option ", option, " must be ", expected].concat(),
            QrError::UnknownOption(name) => {
                ["unknown QR option \"", name, "\": the options are margin, ecLevel, dark, light, size and title"].concat()
            }
        }
    }
}

impl fmt::Display for QrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for QrError {}

/// Renders `text` as an SVG document string (no XML prolog, ready for `innerHTML` or a file).
pub fn render_svg(text: &str, options: &QrOptions) -> Result<String, QrError> {
    check_options(options)?;
    let modules = encode(text, options.ec_level)?;
    let width = modules.size;
    let side = width as u32 + 2 * options.margin;

    let mut svg = String::with_capacity(256 + width * width * 2);
    let side = decimal(side.into());
    svg.push_str(r#"<svg xmlns="http://www.w3.org/2000/svg""#);
    if let Some(px) = options.size {
        let px = decimal(px.into());
        svg.push_str(&[r#" width=""#, &px, r#"" height=""#, &px, "\""].concat());
    }
    svg.push_str(&[r#" viewBox="0 0 "#, &side, " ", &side, r#"" shape-rendering="crispEdges"><title>"#].concat());
    escape_xml_text(&options.title, &mut svg);
    svg.push_str(&[r#"</title><rect width=""#, &side, r#"" height=""#, &side, r#"" fill=""#, &options.light, r#""/><path fill=""#, &options.dark, r#"" d=""#].concat());
    let margin = i64::from(options.margin);
    let mut pen: Option<(i64, i64)> = None;
    for y in 0..width {
        let mut x = 0;
        while x < width {
            if !modules.dark(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < width && modules.dark(x, y) {
                x += 1;
            }
            let run = decimal((x - start) as u64);
            let at = (start as i64 + margin, y as i64 + margin);
            // `z` puts the pen back at the run's start, so the next run is a short relative move.
            let (command, dx, dy) = match pen {
                None => ("M", at.0, at.1),
                Some(last) => ("m", at.0 - last.0, at.1 - last.1),
            };
            svg.push_str(command);
            push_signed(&mut svg, dx);
            svg.push(' ');
            push_signed(&mut svg, dy);
            svg.push_str(&["h", &run, "v1h-", &run, "z"].concat());
            pen = Some(at);
        }
    }
    svg.push_str(r#""/></svg>"#);
    Ok(svg)
}

/// Appends `n` in decimal, with a `-` if negative (relative moves go up and left).
fn push_signed(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    out.push_str(&decimal(n.unsigned_abs()));
}

fn encode(text: &str, level: EcLevel) -> Result<qr_symbol::Symbol, QrError> {
    if text.is_empty() {
        return Err(QrError::EmptyText);
    }
    // Any other encoder error can only come from options we never set (Kanji mode, a fixed
    // version); "too long" is the one outside input can trigger, so it is what we report.
    qr_symbol::encode(text.as_bytes(), level).ok_or(QrError::TooLong { bytes: text.len(), level })
}

fn check_options(options: &QrOptions) -> Result<(), QrError> {
    if options.margin > MAX_MARGIN {
        return Err(QrError::BadMargin(options.margin));
    }
    if let Some(size) = options.size {
        if size == 0 || size > MAX_SIZE {
            return Err(QrError::BadSize(size));
        }
    }
    check_colour("dark", &options.dark)?;
    check_colour("light", &options.light)
}

/// Colours go into an attribute unescaped, so only characters that CSS colour syntax uses are
/// allowed: this keeps `"`, `<` and `&` (markup injection through `innerHTML`) out.
fn check_colour(option: &'static str, value: &str) -> Result<(), QrError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'#' | b'(' | b')' | b',' | b'.' | b'%' | b'/' | b' ' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(QrError::BadColour { option, value: value.to_string() })
    }
}

fn escape_xml_text(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "weixin://wxpay/bizpayurl?pr=AbCdEf1";

    #[test]
    fn svg_has_viewbox_title_one_path_and_crisp_edges() {
        let svg = render_svg(URL, &QrOptions::default()).unwrap();
        // "AbCdEf…" at level M needs version 3 (29 modules) + 2×4 quiet zone.
        assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 37 37""#), "{svg}");
        assert!(svg.contains(r#"shape-rendering="crispEdges""#));
        assert!(svg.contains("<title>WeChat Pay QR code</title>"));
        assert_eq!(svg.matches("<path").count(), 1);
        let svg_tag = &svg[..svg.find('>').unwrap()];
        assert!(!svg_tag.contains("width="), "no pixel size unless asked: {svg_tag}");
    }

    #[test]
    fn size_sets_pixel_dimensions_and_margin_the_viewbox() {
        let opts = QrOptions { size: Some(256), margin: 0, ..Default::default() };
        let svg = render_svg(URL, &opts).unwrap();
        assert!(svg.contains(r#" width="256" height="256" viewBox="0 0 29 29""#), "{svg}");
    }

    #[test]
    fn finder_pattern_top_row_is_one_run_of_seven() {
        let svg = render_svg(URL, &QrOptions::default()).unwrap();
        let d = svg.split(" d=\"").nth(1).unwrap();
        // Absolute start, then moves relative to the previous run's start.
        assert!(d.starts_with("M4 4h7v1h-7zm"), "{d}");
        // The last row starts with the bottom-left finder pattern's bottom edge: a run of 7.
        assert!(d.contains("h7v1h-7zm"), "{d}");
    }

    #[test]
    fn title_is_escaped() {
        let opts = QrOptions { title: "Pay <5 & go>".into(), ..Default::default() };
        let svg = render_svg(URL, &opts).unwrap();
        assert!(svg.contains("<title>Pay &lt;5 &amp; go&gt;</title>"));
    }

    #[test]
    fn bad_input_says_what_to_fix() {
        let d = QrOptions::default();
        assert_eq!(render_svg("", &d), Err(QrError::EmptyText));
        let long = "x".repeat(2332);
        let err = render_svg(&long, &d).unwrap_err();
        assert_eq!(err, QrError::TooLong { bytes: 2332, level: EcLevel::M });
        assert!(err.to_string().contains("at most 2331 bytes"), "{err}");
        assert!(render_svg(&long, &QrOptions { ec_level: EcLevel::L, ..d.clone() }).is_ok());
        let inject = QrOptions { dark: "red\" onload=\"x".into(), ..d.clone() };
        assert!(matches!(render_svg(URL, &inject), Err(QrError::BadColour { option: "dark", .. })));
        assert!(render_svg(URL, &QrOptions { light: "rgb(255 255 255 / 50%)".into(), ..d.clone() }).is_ok());
        assert_eq!(render_svg(URL, &QrOptions { margin: 65, ..d.clone() }), Err(QrError::BadMargin(65)));
        assert_eq!(render_svg(URL, &QrOptions { size: Some(0), ..d.clone() }), Err(QrError::BadSize(0)));
    }
}
