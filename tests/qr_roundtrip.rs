//! Round trip of the Native QR code: render many random `code_url`s to SVG, rasterise the SVG
//! *string* (so the path data, viewBox and quiet zone are what is tested, not the encoder's
//! matrix), decode the picture with `rqrr`, and require the original text back.
#![cfg(not(target_arch = "wasm32"))]

use wxpay_checkout::{render_svg, EcLevel, QrOptions};

/// Pixels per module when rasterising; enough for rqrr to find the finder patterns.
const SCALE: usize = 3;

#[test]
fn random_code_urls_decode_back_to_themselves() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let levels = [EcLevel::L, EcLevel::M, EcLevel::Q, EcLevel::H];
    for case in 0..100 {
        let text = random_code_url(&mut rng);
        let options = QrOptions {
            margin: 2 + rng.below(5) as u32,
            ec_level: levels[rng.below(4)],
            size: (rng.below(2) == 0).then_some(200),
            ..QrOptions::default()
        };
        let svg = render_svg(&text, &options).unwrap_or_else(|e| panic!("case {case}: {e}"));
        let decoded = decode_svg(&svg, 0).unwrap_or_else(|e| panic!("case {case} {text:?} {options:?}: {e}\n{svg}"));
        assert_eq!(decoded, text, "case {case}");
    }
}

/// Our encoder (`src/qr_symbol.rs`) against the `qrcode` crate: for every version and level the
/// largest byte-mode text that fits version `v` there gets version `v` here too, one byte more
/// gets a bigger one, and the code decodes back (levels rotate so all 40 versions are decoded).
#[test]
fn every_version_and_level_matches_qrcode_capacity_and_decodes() {
    use qrcode::{bits::Bits, EcLevel as Ref, Version};
    let levels = [(EcLevel::L, Ref::L), (EcLevel::M, Ref::M), (EcLevel::Q, Ref::Q), (EcLevel::H, Ref::H)];
    let fits = |n: usize, v: i16, level: Ref| {
        let mut bits = Bits::new(Version::Normal(v));
        bits.push_byte_data(&vec![b'a'; n]).is_ok() && bits.push_terminator(level).is_ok()
    };
    let mut rng = XorShift(0x5eed);
    for v in 1..=40i16 {
        for (i, (ours, reference)) in levels.iter().enumerate() {
            let n = (1..3000).collect::<Vec<usize>>().partition_point(|&n| fits(n, v, *reference));
            let text: String = (0..n).map(|_| (b'!' + rng.below(90) as u8) as char).collect();
            let options = QrOptions { ec_level: *ours, margin: 4, ..QrOptions::default() };
            let svg = render_svg(&text, &options).unwrap();
            assert_eq!(view_box_side(&svg).unwrap(), 4 * v as usize + 17 + 8, "v{v} {ours:?} n={n}");
            let bigger = render_svg(&[text.as_str(), "x"].concat(), &options);
            if let Ok(bigger) = bigger {
                assert_eq!(view_box_side(&bigger).unwrap(), 4 * v as usize + 21 + 8, "v{v} {ours:?} n={n}+1");
            } else {
                assert_eq!(v, 40);
            }
            if i == v as usize % 4 {
                assert_eq!(decode_svg(&svg, 0).unwrap_or_else(|e| panic!("v{v} {ours:?}: {e}")), text);
            }
        }
    }
}

/// Module for module: our symbol equals the one `qrcode` draws from the same data with one of
/// the eight masks (rqrr corrects errors, so a decode alone would miss a wrong module or two).
#[test]
fn symbols_match_qrcode_module_for_module() {
    use qrcode::canvas::{Canvas, MaskPattern};
    use qrcode::{bits::Bits, ec, EcLevel as Ref, Version};
    use wxpay_checkout::qr_symbol::encode;
    const MASKS: [MaskPattern; 8] = [
        MaskPattern::Checkerboard, MaskPattern::HorizontalLines, MaskPattern::VerticalLines, MaskPattern::DiagonalLines,
        MaskPattern::LargeCheckerboard, MaskPattern::Fields, MaskPattern::Diamonds, MaskPattern::Meadow,
    ];
    let levels = [(EcLevel::L, Ref::L), (EcLevel::M, Ref::M), (EcLevel::Q, Ref::Q), (EcLevel::H, Ref::H)];
    let mut rng = XorShift(0x1234_5678);
    for case in 0..200 {
        let data: Vec<u8> = (0..1 + rng.below(1200)).map(|_| rng.below(256) as u8).collect();
        let (ours, reference) = levels[case % 4];
        let Some(symbol) = encode(&data, ours) else { continue };
        let version = Version::Normal(((symbol.size - 17) / 4) as i16);
        let mut bits = Bits::new(version);
        bits.push_byte_data(&data).unwrap();
        bits.push_terminator(reference).unwrap();
        let (data_codewords, ecc) = ec::construct_codewords(&bits.into_bytes(), version, reference).unwrap();
        let mut canvas = Canvas::new(version, reference);
        canvas.draw_all_functional_patterns();
        canvas.draw_data(&data_codewords, &ecc);
        let same = MASKS.iter().any(|&mask| {
            let mut c = canvas.clone();
            c.apply_mask(mask);
            (0..symbol.size).all(|y| (0..symbol.size).all(|x| c.get(x as i16, y as i16).is_dark() == symbol.dark(x, y)))
        });
        assert!(same, "case {case}: {version:?} {reference:?}, {} bytes: no mask of qrcode's draws our symbol", data.len());
    }
}

#[test]
fn margin_zero_decodes_once_the_page_supplies_the_quiet_zone() {
    let text = "weixin://wxpay/bizpayurl?pr=Zx8Qm3a";
    let svg = render_svg(text, &QrOptions { margin: 0, ..QrOptions::default() }).unwrap();
    assert_eq!(decode_svg(&svg, 4).unwrap(), text);
}

#[test]
fn non_ascii_text_survives() {
    let text = "weixin://wxpay/bizpayurl?pr=abc&body=咖啡一杯";
    let svg = render_svg(text, &QrOptions::default()).unwrap();
    assert_eq!(decode_svg(&svg, 0).unwrap(), text);
}

/// Real Native URLs are `weixin://wxpay/bizpayurl?pr=` + 7 characters (APIv3) or the longer
/// v2 form with query parameters; lengths and characters vary beyond both to reach big versions.
fn random_code_url(rng: &mut XorShift) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const URLISH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%&=?/:+";
    let kind = rng.below(3);
    let len = 1 + rng.below(300);
    let mut pick = |set: &[u8], n: usize| (0..n).map(|_| set[rng.below(set.len())] as char).collect::<String>();
    match kind {
        0 => format!("weixin://wxpay/bizpayurl?pr={}", pick(ALNUM, 7)),
        1 => format!(
            "weixin://wxpay/bizpayurl?appid=wx{}&mch_id={}&nonce_str={}&product_id={}&time_stamp=1732600000&sign={}",
            pick(ALNUM, 16),
            pick(b"0123456789", 10),
            pick(ALNUM, 32),
            pick(ALNUM, 12),
            pick(b"0123456789ABCDEF", 32)
        ),
        _ => pick(URLISH, len),
    }
}

/// Rasterises our SVG and decodes it. `pad` adds white modules around the picture.
fn decode_svg(svg: &str, pad: usize) -> Result<String, String> {
    let side = view_box_side(svg)?;
    let d = attribute_after(svg, "<path", "d")?;
    let dark = fill_path(&d, side)?;
    let px = (side + 2 * pad) * SCALE;
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(px, px, |x, y| {
        let (mx, my) = ((x / SCALE) as isize - pad as isize, (y / SCALE) as isize - pad as isize);
        let inside = (0..side as isize).contains(&mx) && (0..side as isize).contains(&my);
        if inside && dark[my as usize * side + mx as usize] { 0 } else { 255 }
    });
    let grids = image.detect_grids();
    if grids.len() != 1 {
        return Err(format!("found {} QR codes in the picture", grids.len()));
    }
    grids[0].decode().map(|(_, text)| text).map_err(|e| format!("rqrr: {e:?}"))
}

fn view_box_side(svg: &str) -> Result<usize, String> {
    let vb = attribute_after(svg, "<svg", "viewBox")?;
    let nums: Vec<usize> = vb.split_whitespace().map(|n| n.parse().map_err(|_| format!("viewBox {vb:?}"))).collect::<Result<_, _>>()?;
    match nums[..] {
        [0, 0, w, h] if w == h => Ok(w),
        _ => Err(format!("viewBox should be \"0 0 n n\", got {vb:?}")),
    }
}

/// The value of `name="…"` in the first `tag` element.
fn attribute_after(svg: &str, tag: &str, name: &str) -> Result<String, String> {
    let start = svg.find(tag).ok_or(format!("no {tag} in SVG"))?;
    let element = &svg[start..svg[start..].find('>').map(|e| start + e).ok_or("unclosed tag")?];
    let key = format!(" {name}=\"");
    let at = element.find(&key).ok_or(format!("{tag} has no {name}"))? + key.len();
    let len = element[at..].find('"').ok_or("unclosed attribute")?;
    Ok(element[at..at + len].to_string())
}

/// Fills an SVG path made of M/m, H/h, V/v, L/l and Z/z with the even-odd rule, sampling
/// the centre of each unit cell; returns `side × side` cells, `true` where filled.
fn fill_path(d: &str, side: usize) -> Result<Vec<bool>, String> {
    let mut edges: Vec<((f64, f64), (f64, f64))> = Vec::new();
    let (mut pen, mut start) = ((0.0, 0.0), (0.0, 0.0));
    let mut tokens = Tokens { s: d.as_bytes(), i: 0 };
    let mut command = b'M';
    while let Some(t) = tokens.next_command_or_number()? {
        if let Token::Command(c) = t {
            command = c;
            if matches!(c, b'Z' | b'z') {
                edges.push((pen, start));
                pen = start;
            }
            continue;
        }
        let Token::Number(a) = t else { unreachable!() };
        let next = match command {
            b'M' | b'm' | b'L' | b'l' => {
                let b = tokens.number()?;
                if command.is_ascii_lowercase() { (pen.0 + a, pen.1 + b) } else { (a, b) }
            }
            b'H' => (a, pen.1),
            b'h' => (pen.0 + a, pen.1),
            b'V' => (pen.0, a),
            b'v' => (pen.0, pen.1 + a),
            other => return Err(format!("unsupported path command {:?}", other as char)),
        };
        if matches!(command, b'M' | b'm') {
            start = next;
            command = if command == b'M' { b'L' } else { b'l' };
        } else {
            edges.push((pen, next));
        }
        pen = next;
    }
    let mut cells = vec![false; side * side];
    for y in 0..side {
        let cy = y as f64 + 0.5;
        let mut xs: Vec<f64> = edges
            .iter()
            .filter(|((_, y0), (_, y1))| (y0 <= &cy) != (y1 <= &cy))
            .map(|((x0, y0), (x1, y1))| x0 + (cy - y0) * (x1 - x0) / (y1 - y0))
            .collect();
        xs.sort_by(f64::total_cmp);
        for pair in xs.chunks(2) {
            if let [from, to] = pair {
                for x in 0..side {
                    let cx = x as f64 + 0.5;
                    if *from <= cx && cx < *to {
                        cells[y * side + x] ^= true;
                    }
                }
            }
        }
    }
    Ok(cells)
}

enum Token {
    Command(u8),
    Number(f64),
}

struct Tokens<'a> {
    s: &'a [u8],
    i: usize,
}

impl Tokens<'_> {
    fn skip_separators(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b',' | b'\n') {
            self.i += 1;
        }
    }

    fn next_command_or_number(&mut self) -> Result<Option<Token>, String> {
        self.skip_separators();
        match self.s.get(self.i) {
            None => Ok(None),
            Some(c) if c.is_ascii_alphabetic() => {
                self.i += 1;
                Ok(Some(Token::Command(*c)))
            }
            Some(_) => self.number().map(|n| Some(Token::Number(n))),
        }
    }

    fn number(&mut self) -> Result<f64, String> {
        self.skip_separators();
        let start = self.i;
        while self.i < self.s.len() && (self.s[self.i].is_ascii_digit() || matches!(self.s[self.i], b'-' | b'.')) {
            if self.i > start && self.s[self.i] == b'-' {
                break;
            }
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
        text.parse().map_err(|_| format!("bad number {text:?} at byte {start} of the path"))
    }
}

/// Deterministic randomness so a failure reproduces; no `rand` dependency for a test.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}
