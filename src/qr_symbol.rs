//! The QR code symbol itself (ISO/IEC 18004, Model 2): text bytes → the grid of dark and light
//! modules that `qr` draws as SVG.
//!
//! Why not the `qrcode` crate: it was 11.9 KB of the package's 45 KB gzip budget (general
//! segment modes, Micro QR, its tables as `usize`, panics that format). A checkout only ever
//! encodes one byte-mode segment, and that is this file: the version and block tables as
//! bytes, Reed–Solomon over GF(256), the function patterns, the zigzag data placement and the
//! eight masks scored by the standard's four penalty rules. It is checked against `qrcode`
//! (capacities) and decoded back with `rqrr` for every version and level
//! (`tests/qr_roundtrip.rs`).

use crate::qr::EcLevel;

/// Error correction codewords per block, by level then version 1–40.
const ECC_PER_BLOCK: [[u8; 40]; 4] = [
    [7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
    [10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
    [13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
    [17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
];

/// Error correction blocks, by level then version 1–40.
const BLOCKS: [[u8; 40]; 4] = [
    [1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
    [1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
    [1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
    [1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
];

/// A finished symbol: `size` × `size` modules, row-major, `true` for dark.
pub struct Symbol {
    pub size: usize,
    dark: Vec<bool>,
    /// Modules the data must not touch (finders, timing, alignment, format and version info).
    reserved: Vec<bool>,
}

impl Symbol {
    pub fn dark(&self, x: usize, y: usize) -> bool {
        self.dark.get(y * self.size + x).copied().unwrap_or(false)
    }

    fn set(&mut self, x: usize, y: usize, dark: bool) {
        let i = y * self.size + x;
        if let (Some(d), Some(r)) = (self.dark.get_mut(i), self.reserved.get_mut(i)) {
            *d = dark;
            *r = true;
        }
    }
}

/// The smallest symbol that holds `data` as one byte-mode segment at `level`, or `None` if
/// even version 40 cannot.
pub fn encode(data: &[u8], level: EcLevel) -> Option<Symbol> {
    let (version, capacity) = (1..=40).map(|v| (v, data_codewords(v, level))).find(|&(v, cap)| {
        let count_bits = if v < 10 { 8 } else { 16 };
        4 + count_bits + 8 * data.len() <= cap * 8
    })?;
    let codewords = with_ecc(&data_bits(data, version, capacity), version, level);
    let mut symbol = function_patterns(version);
    place(&mut symbol, &codewords);
    // Keep the mask with the lowest penalty (the first on ties).
    let mut best: Option<(u32, u8)> = None;
    for mask in 0..8 {
        apply_mask(&mut symbol, mask);
        draw_format(&mut symbol, level, mask);
        let score = penalty(&symbol);
        match best {
            Some((lowest, _)) if lowest <= score => {}
            _ => best = Some((score, mask)),
        }
        apply_mask(&mut symbol, mask); // XOR again: undone
    }
    let mask = best.map_or(0, |b| b.1);
    apply_mask(&mut symbol, mask);
    draw_format(&mut symbol, level, mask);
    Some(symbol)
}

/// Data codewords of a version and level (all modules minus function patterns, minus ECC).
fn data_codewords(version: usize, level: EcLevel) -> usize {
    raw_modules(version) / 8 - usize::from(ECC_PER_BLOCK[level as usize][version - 1]) * usize::from(BLOCKS[level as usize][version - 1])
}

/// Modules left for data and ECC once the function patterns are drawn (incl. remainder bits).
fn raw_modules(version: usize) -> usize {
    let mut n = (16 * version + 128) * version + 64;
    if version >= 2 {
        let align = version / 7 + 2;
        n -= (25 * align - 10) * align - 55;
        if version >= 7 {
            n -= 36; // two version information blocks
        }
    }
    n
}

/// Mode indicator, character count, the bytes, terminator and padding: `capacity` codewords.
fn data_bits(data: &[u8], version: usize, capacity: usize) -> Vec<u8> {
    let mut bits = Bits { out: Vec::with_capacity(capacity), len: 0 };
    bits.push(0b0100, 4);
    bits.push(data.len() as u32, if version < 10 { 8 } else { 16 });
    for &b in data {
        bits.push(b.into(), 8);
    }
    // Terminator (up to four zero bits), then zeros to the byte boundary.
    bits.push(0, (capacity * 8).saturating_sub(bits.len).min(4) as u32);
    bits.push(0, ((8 - bits.len % 8) % 8) as u32);
    let mut out = bits.out;
    for pad in [0xEC, 0x11].into_iter().cycle() {
        if out.len() >= capacity {
            break;
        }
        out.push(pad);
    }
    out
}

/// A bit stream filled most significant bit first.
struct Bits {
    out: Vec<u8>,
    len: usize,
}

impl Bits {
    fn push(&mut self, value: u32, count: u32) {
        for i in (0..count).rev() {
            if self.len & 7 == 0 {
                self.out.push(0);
            }
            if let (true, Some(last)) = (value >> i & 1 != 0, self.out.last_mut()) {
                *last |= 0x80 >> (self.len % 8);
            }
            self.len += 1;
        }
    }
}

/// Splits the data into blocks, appends each block's Reed–Solomon ECC, and interleaves.
fn with_ecc(data: &[u8], version: usize, level: EcLevel) -> Vec<u8> {
    let blocks = usize::from(BLOCKS[level as usize][version - 1]);
    let ecc_len = usize::from(ECC_PER_BLOCK[level as usize][version - 1]);
    let raw = raw_modules(version) / 8;
    // The first `short` blocks hold one data codeword less than the rest.
    let short = blocks - raw % blocks;
    let short_data = raw / blocks - ecc_len;
    let divisor = generator(ecc_len);
    let mut parts: Vec<(&[u8], Vec<u8>)> = Vec::with_capacity(blocks);
    let mut at = 0;
    for b in 0..blocks {
        let len = short_data + usize::from(b >= short);
        let block = data.get(at..at + len).unwrap_or_default();
        at += len;
        parts.push((block, remainder(block, &divisor)));
    }
    let mut out = Vec::with_capacity(raw);
    for i in 0..=short_data {
        out.extend(parts.iter().filter_map(|(d, _)| d.get(i)));
    }
    for i in 0..ecc_len {
        out.extend(parts.iter().filter_map(|(_, e)| e.get(i)));
    }
    out
}

/// GF(256) multiplication modulo x^8 + x^4 + x^3 + x^2 + 1.
fn gf_mul(a: u8, b: u8) -> u8 {
    let mut product: u8 = 0;
    for i in (0..8).rev() {
        product = (product << 1) ^ if product & 0x80 != 0 { 0x1D } else { 0 };
        if b >> i & 1 != 0 {
            product ^= a;
        }
    }
    product
}

/// The generator polynomial of degree `n` (highest coefficient, always 1, left out):
/// (x − α⁰)(x − α¹)…(x − αⁿ⁻¹).
fn generator(n: usize) -> Vec<u8> {
    let mut poly = vec![0u8; n];
    if let Some(last) = poly.last_mut() {
        *last = 1;
    }
    let mut root: u8 = 1;
    for _ in 0..n {
        for j in 0..n {
            poly[j] = gf_mul(poly[j], root) ^ poly.get(j + 1).copied().unwrap_or(0);
        }
        root = gf_mul(root, 2);
    }
    poly
}

/// The ECC of one block: the remainder of data·xⁿ divided by the generator.
fn remainder(data: &[u8], divisor: &[u8]) -> Vec<u8> {
    let mut rem = vec![0u8; divisor.len()];
    for &b in data {
        let factor = b ^ rem.first().copied().unwrap_or(0);
        rem.rotate_left(1);
        if let Some(last) = rem.last_mut() {
            *last = 0;
        }
        for (r, &d) in rem.iter_mut().zip(divisor) {
            *r ^= gf_mul(d, factor);
        }
    }
    rem
}

/// A blank symbol with finders, separators, timing, alignment patterns, the dark module and
/// version information drawn, and the format areas reserved.
fn function_patterns(version: usize) -> Symbol {
    let size = version * 4 + 17;
    let mut s = Symbol { size, dark: vec![false; size * size], reserved: vec![false; size * size] };
    for i in 0..size {
        s.set(6, i, i % 2 == 0);
        s.set(i, 6, i % 2 == 0);
    }
    for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
        // 9×9 around each finder centre: the 7×7 pattern plus its light separator.
        for dy in -4i32..=4 {
            for dx in -4i32..=4 {
                let (x, y) = (cx as i32 + dx, cy as i32 + dy);
                if (0..size as i32).contains(&x) && (0..size as i32).contains(&y) {
                    let ring = dx.abs().max(dy.abs());
                    s.set(x as usize, y as usize, ring != 2 && ring != 4);
                }
            }
        }
    }
    let centres = alignment_centres(version);
    let last = centres.len().saturating_sub(1);
    for (i, &cx) in centres.iter().enumerate() {
        for (j, &cy) in centres.iter().enumerate() {
            // Not where the finders are.
            if (i == 0 && (j == 0 || j == last)) || (i == last && j == 0) {
                continue;
            }
            for dy in -2i32..=2 {
                for dx in -2i32..=2 {
                    let ring = dx.abs().max(dy.abs());
                    s.set((cx as i32 + dx) as usize, (cy as i32 + dy) as usize, ring != 1);
                }
            }
        }
    }
    draw_format(&mut s, EcLevel::L, 0); // reserves the areas; the real bits come after masking
    if version >= 7 {
        let mut rem = version as u32;
        for _ in 0..12 {
            rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
        }
        let bits = (version as u32) << 12 | rem;
        for i in 0..18 {
            let (a, b) = (size - 11 + i % 3, i / 3);
            let dark = bits >> i & 1 != 0;
            s.set(a, b, dark);
            s.set(b, a, dark);
        }
    }
    s
}

/// Centre coordinates of the alignment patterns (rows and columns alike).
fn alignment_centres(version: usize) -> Vec<usize> {
    if version == 1 {
        return vec![];
    }
    let count = version / 7 + 2;
    let size = version * 4 + 17;
    let step = if version == 32 { 26 } else { (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2 };
    let mut centres: Vec<usize> = (0..count - 1).map(|i| size - 7 - i * step).collect();
    centres.push(6);
    centres.reverse();
    centres
}

/// The 15 format bits (level and mask, BCH-protected) in both copies, plus the dark module.
fn draw_format(s: &mut Symbol, level: EcLevel, mask: u8) {
    let level_bits = [1u32, 0, 3, 2][level as usize];
    let data = level_bits << 3 | u32::from(mask);
    let mut rem = data;
    for _ in 0..10 {
        rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    }
    let bits = (data << 10 | rem) ^ 0x5412;
    let bit = |i: usize| bits >> i & 1 != 0;
    let size = s.size;
    for i in 0..6 {
        s.set(8, i, bit(i));
    }
    s.set(8, 7, bit(6));
    s.set(8, 8, bit(7));
    s.set(7, 8, bit(8));
    for i in 9..15 {
        s.set(14 - i, 8, bit(i));
    }
    for i in 0..8 {
        s.set(size - 1 - i, 8, bit(i));
    }
    for i in 8..15 {
        s.set(8, size - 15 + i, bit(i));
    }
    s.set(8, size - 8, true);
}

/// Lays the codewords out in the two-column zigzag, right to left, skipping the timing column.
fn place(s: &mut Symbol, codewords: &[u8]) {
    let size = s.size;
    let mut i = 0;
    let mut right = size - 1;
    loop {
        if right == 6 {
            right = 5;
        }
        let upward = (right + 1) & 2 == 0;
        for step in 0..size {
            let y = if upward { size - 1 - step } else { step };
            for x in [right, right - 1] {
                let at = y * size + x;
                if !s.reserved[at] {
                    // Remainder bits past the last codeword stay light.
                    s.dark[at] = codewords.get(i / 8).is_some_and(|c| c >> (7 - i % 8) & 1 != 0);
                    i += 1;
                }
            }
        }
        if right < 2 {
            break;
        }
        right -= 2;
    }
}

/// XORs mask pattern `mask` over every data module.
fn apply_mask(s: &mut Symbol, mask: u8) {
    let size = s.size;
    for y in 0..size {
        for x in 0..size {
            let flip = match mask {
                0 => (x + y) % 2 == 0,
                1 => y % 2 == 0,
                2 => x % 3 == 0,
                3 => (x + y) % 3 == 0,
                4 => (x / 3 + y / 2) % 2 == 0,
                5 => x * y % 2 + x * y % 3 == 0,
                6 => (x * y % 2 + x * y % 3) % 2 == 0,
                _ => ((x + y) % 2 + x * y % 3) % 2 == 0,
            };
            let at = y * size + x;
            if flip && !s.reserved[at] {
                s.dark[at] ^= true;
            }
        }
    }
}

/// The standard's penalty: long runs, 2×2 blocks, finder-like patterns, dark/light imbalance.
fn penalty(s: &Symbol) -> u32 {
    let size = s.size;
    let mut score = 0;
    // Rows, then columns (transposed reads).
    for transpose in [false, true] {
        let at = |a: usize, b: usize| if transpose { s.dark(b, a) } else { s.dark(a, b) };
        for line in 0..size {
            let mut run = 0;
            let mut window: u32 = 0; // the last 11 modules, newest in bit 0
            for i in 0..size {
                let dark = at(i, line);
                run = if i > 0 && dark == at(i - 1, line) { run + 1 } else { 1 };
                if run == 5 {
                    score += 3;
                } else if run > 5 {
                    score += 1;
                }
                window = (window << 1 | u32::from(dark)) & 0x7FF;
                // 1:1:3:1:1 finder look-alikes with four light modules on one side, inside the
                // symbol only (some encoders count the quiet zone as light too; this only
                // changes which mask wins, every mask decodes).
                if i >= 10 && (window == 0b101_1101_0000 || window == 0b000_0101_1101) {
                    score += 40;
                }
            }
        }
    }
    let mut dark = 0;
    for y in 0..size {
        for x in 0..size {
            let d = s.dark(x, y);
            dark += usize::from(d);
            if x + 1 < size && y + 1 < size && d == s.dark(x + 1, y) && d == s.dark(x, y + 1) && d == s.dark(x + 1, y + 1) {
                score += 3;
            }
        }
    }
    let total = size * size;
    // 10 points for every full 5 % away from half dark.
    let off = (dark * 20).abs_diff(total * 10) / total;
    score + off as u32 * 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reed_solomon_matches_the_standards_example() {
        // ISO/IEC 18004 Annex I: "01234567" at version 1-M.
        let data = [0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11];
        assert_eq!(remainder(&data, &generator(10)), [0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55]);
    }

    #[test]
    fn capacities_of_the_corner_versions() {
        // Byte-mode capacities from the standard's table 7.
        let bytes = |v: usize, l: EcLevel| data_codewords(v, l) - if v < 10 { 2 } else { 3 };
        assert_eq!([bytes(1, EcLevel::L), bytes(1, EcLevel::H), bytes(40, EcLevel::L), bytes(40, EcLevel::H)], [17, 7, 2953, 1273]);
        assert_eq!(raw_modules(1), 208);
        assert_eq!(raw_modules(40), 29648);
    }

    #[test]
    fn alignment_centres_follow_the_table() {
        assert_eq!(alignment_centres(2), [6, 18]);
        assert_eq!(alignment_centres(7), [6, 22, 38]);
        assert_eq!(alignment_centres(32), [6, 34, 60, 86, 112, 138]);
        assert_eq!(alignment_centres(40), [6, 30, 58, 86, 114, 142, 170]);
    }
}
