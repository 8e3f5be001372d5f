//! The QR symbol's modules, built with the `qrcode` crate's lower-level API.
//!
//! `QrCode::with_error_correction_level` spends ~90 % of its time choosing the mask: its penalty
//! code boxes a closure for every module of every row and column it scans for finder-like
//! patterns (~11 000 allocations per mask for a `code_url`, eight masks), which a simple
//! allocator such as the wasm's makes slower still. So the steps are taken one by one here:
//! the crate picks the segments and the version (`bits::encode_auto`), computes the
//! Reed–Solomon codewords (`ec::construct_codewords`), draws the function patterns and the data
//! and applies each mask with its format information (`Canvas`); only the scoring of the eight
//! masked symbols is ours, on a plain grid, with the crate's own penalty rules (ISO/IEC 18004
//! N1–N4 as the crate reads them), so the symbol is the one the crate would have drawn. The
//! unit tests below compare both module for module.

use qrcode::{
    bits::encode_auto,
    canvas::{Canvas, MaskPattern},
    ec::construct_codewords,
    types::Color,
};

use super::{EcLevel, QrError};

/// A QR symbol without its quiet zone: `width` × `width` modules, row by row, `true` = dark.
pub(super) struct Symbol {
    pub width: usize,
    pub dark: Vec<bool>,
}

impl Symbol {
    /// The dark/light modules of row `y`.
    pub fn row(&self, y: usize) -> &[bool] {
        &self.dark[y * self.width..(y + 1) * self.width]
    }
}

/// The eight masks of a (non-Micro) QR code, in the order the crate tries them: on equal
/// penalties the first one wins, as in the crate.
const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// The smallest symbol holding `text` at `level`, masked with the lowest-penalty mask.
pub(super) fn encode(text: &str, level: EcLevel) -> Result<Symbol, QrError> {
    if text.is_empty() {
        return Err(QrError::EmptyText);
    }
    // Any other encoder error can only come from options we never set (Kanji mode, a fixed
    // version, Micro QR); "too long" is the one outside input can trigger, so it is reported.
    let too_long = |_| QrError::TooLong {
        bytes: text.len(),
        level,
    };
    let bits = encode_auto(text.as_bytes(), level.qrcode()).map_err(too_long)?;
    let version = bits.version();
    let (data, ec) =
        construct_codewords(&bits.into_bytes(), version, level.qrcode()).map_err(too_long)?;
    let mut canvas = Canvas::new(version, level.qrcode());
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &ec);

    let width = version.width() as usize;
    let mut best: Option<(u32, Vec<bool>)> = None;
    let mut columns = Vec::with_capacity(width * width);
    for mask in MASKS {
        let mut masked = canvas.clone();
        masked.apply_mask(mask);
        let dark: Vec<bool> = masked
            .into_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        let score = penalty(&dark, width, &mut columns);
        if best.as_ref().is_none_or(|(lowest, _)| score < *lowest) {
            best = Some((score, dark));
        }
    }
    let (_, dark) = best.expect("eight masks were scored");
    Ok(Symbol { width, dark })
}

/// The penalty of a masked symbol (lower is better), as the `qrcode` crate scores it: runs of
/// five or more same-colour modules in a row or column (N1: length − 2), 2×2 same-colour blocks
/// (N2: 3 each), finder-like 1:1:3:1:1 patterns with four light modules on one side, outside the
/// symbol counting as light (N3: 40 each), and the dark share's distance from 50 % in half
/// percent steps (N4). The crate then subtracts the 2 × 360 that the three finder patterns
/// always score; a constant does not change which mask is lowest, so it is left in here.
///
/// `dark` holds the rows; `columns` is scratch space for the same grid column by column, so that
/// every line is scanned as a contiguous slice.
fn penalty(dark: &[bool], width: usize, columns: &mut Vec<bool>) -> u32 {
    columns.clear();
    columns.resize(dark.len(), false);
    for (y, row) in dark.chunks_exact(width).enumerate() {
        for (x, &d) in row.iter().enumerate() {
            columns[x * width + y] = d;
        }
    }
    let rows = || dark.chunks_exact(width);
    let lines = rows().chain(columns.chunks_exact(width));
    let mut score: u32 = lines.map(runs_and_finders).sum();
    for (upper, lower) in rows().zip(rows().skip(1)) {
        let blocks = upper
            .iter()
            .zip(&upper[1..])
            .zip(lower.iter().zip(&lower[1..]));
        for ((&a, &b), (&c, &d)) in blocks {
            if a == b && a == c && a == d {
                score += 3;
            }
        }
    }
    let dark_count = dark.iter().filter(|&&d| d).count();
    let ratio = dark_count * 200 / dark.len();
    score + ratio.abs_diff(100) as u32
}

/// N1 and N3 of one row or column.
fn runs_and_finders(line: &[bool]) -> u32 {
    const FINDER: u32 = 0b101_1101;
    // Whether any module of `line[from..to]` is dark; outside the symbol is light.
    let any_dark = |from: usize, to: usize| line[from..to.min(line.len())].contains(&true);
    let mut score = 0;
    let mut run = 0;
    let mut last = line[0];
    // The last seven modules, newest in the lowest bit.
    let mut window = 0u32;
    for (j, &c) in line.iter().enumerate() {
        if c == last {
            run += 1;
        } else {
            if run >= 5 {
                score += run - 2;
            }
            run = 1;
            last = c;
        }
        window = (window << 1 | u32::from(c)) & 0x7f;
        if window == FINDER && j >= 6 {
            let start = j - 6;
            if !any_dark(start.saturating_sub(4), start) || !any_dark(j + 1, j + 5) {
                score += 40;
            }
        }
    }
    if run >= 5 {
        score += run - 2;
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::QrCode;

    /// The crate's own symbol for `text`, as dark/light modules.
    fn reference(text: &str, level: EcLevel) -> Vec<bool> {
        QrCode::with_error_correction_level(text, level.qrcode())
            .unwrap()
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect()
    }

    /// Deterministic numbers below `n` (Knuth's MMIX LCG, high bits), so failures reproduce.
    fn numbers(mut state: u64) -> impl FnMut(usize) -> usize {
        move |n| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize % n
        }
    }

    const LEVELS: [EcLevel; 4] = [EcLevel::L, EcLevel::M, EcLevel::Q, EcLevel::H];

    #[test]
    fn code_urls_get_the_crates_own_symbol_and_mask() {
        let mut below = numbers(0x2545_f491_4f6c_dd1d);
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        for case in 0..400 {
            let code: String = (0..7 + below(20))
                .map(|_| alphabet[below(alphabet.len())] as char)
                .collect();
            let text = ["weixin://wxpay/bizpayurl?pr=", &code].concat();
            let level = LEVELS[case % 4];
            let ours = encode(&text, level).unwrap();
            assert_eq!(ours.dark, reference(&text, level), "{text} {level:?}");
        }
    }

    /// Every version (the largest ones need the version information blocks and many alignment
    /// patterns), and texts that switch between numeric, alphanumeric and byte segments.
    #[test]
    fn every_version_and_mixed_segments_match_the_crate() {
        let mut below = numbers(0x9e37_79b9_7f4a_7c15);
        let pieces = [
            "0123456789",
            "HTTPS://PAY.",
            "wxpay/",
            "€ 9,99",
            "%20+",
            "42",
        ];
        for case in 0..120 {
            let mut text = String::new();
            // Up to ~1 200 bytes: versions 1 to 40 at level L, over 30 at H.
            let target = 1 + below(1200);
            while text.len() < target {
                text.push_str(pieces[below(pieces.len())]);
            }
            let level = LEVELS[case % 4];
            let Ok(ours) = encode(&text, level) else {
                assert!(QrCode::with_error_correction_level(&text, level.qrcode()).is_err());
                continue;
            };
            assert_eq!(ours.dark, reference(&text, level), "case {case} {level:?}");
        }
    }

    #[test]
    fn penalty_counts_runs_blocks_finders_and_balance() {
        // A 7×7 all-light grid: 7 rows + 7 columns with a run of 7 (5 each), 36 blocks (3 each),
        // no finder-like pattern, 0 % dark (100).
        assert_eq!(
            penalty(&[false; 49], 7, &mut Vec::new()),
            14 * 5 + 36 * 3 + 100
        );
        // One finder-like row in an 11-wide line: light on both sides, counted once.
        let row = [
            false, false, true, false, true, true, true, false, true, false, false,
        ];
        assert_eq!(runs_and_finders(&row), 40);
        // Dark within four modules on both sides: not a finder pattern.
        let row = [
            true, false, true, false, true, true, true, false, true, false, true,
        ];
        assert_eq!(runs_and_finders(&row), 0);
    }
}
