//! The identifiers the backend mints, from the operating system's generator: order ids (public,
//! in the page's URLs, so unguessable), `out_trade_no` (WeChat's key of a payment attempt) and
//! `out_refund_no` (WeChat's key of a refund).

use crate::timefmt::v2_time;

/// A public order id: `ord_` + 20 random characters (about 119 bits).
pub fn order_id() -> String {
    format!("ord_{}", random_alnum(20))
}

/// The `out_trade_no` of an order's first attempt: 25 characters, leaving room for an attempt
/// suffix within WeChat's 32, with a date prefix that keeps the merchant platform's lists readable.
pub fn out_trade_no(now: i64) -> String {
    format!("WXC{}{}", v2_time(now), random_alnum(8))
}

/// An `out_refund_no` (WeChat: at most 64 characters of `[A-Za-z0-9_-|*@]`).
pub fn out_refund_no(now: i64) -> String {
    format!("RF{}{}", v2_time(now), random_alnum(10))
}

/// `n` random characters from `[0-9A-Za-z]`, from the OS generator (ids, demo secrets, the simulator).
pub fn random_alnum(n: usize) -> String {
    random_from(
        b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        n,
    )
}

/// `n` random decimal digits (transaction ids).
pub fn random_digits(n: usize) -> String {
    random_from(b"0123456789", n)
}

fn random_from(chars: &[u8], n: usize) -> String {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    // Rejection sampling keeps the distribution uniform.
    let limit = (256 / chars.len() * chars.len()) as u8 as usize;
    let limit = if limit == 0 { 256 } else { limit };
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        // The OS generator failing means the machine is broken; there is nothing sane to fall back to.
        aws_lc_rs::rand::SecureRandom::fill(&rng, &mut buf)
            .expect("the operating system's random number generator failed");
        let fresh = buf
            .iter()
            .filter(|&&b| (b as usize) < limit)
            .map(|&b| chars[b as usize % chars.len()] as char);
        out.extend(fresh.take(n - out.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_fit_wechat_and_differ() {
        let no = super::out_trade_no(1_800_000_000);
        assert_eq!(no.len(), 25);
        assert!(no.starts_with("WXC2027"), "{no}");
        assert_ne!(super::order_id(), super::order_id());
        assert!(super::out_refund_no(0).len() <= 64);
        assert!(super::random_digits(30).bytes().all(|b| b.is_ascii_digit()));
    }
}
