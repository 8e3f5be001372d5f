//! Native pay on a desktop: the backend's `code_url` drawn as a QR code in the page (never an
//! image from a server, so no third party learns the order), with a countdown to `expires_at`
//! and a fresh code when it runs out.
//!
//! The countdown text and when to announce it to screen readers are pure functions (tested
//! natively). The visible timer has `role="timer"`, whose updates assistive technology does not
//! read every second; instead a separate polite live region speaks at the thresholds below.
//! The DOM part is [`mount`], used by `view`.

use crate::clock::EpochMs;

/// Seconds left at which the live region speaks (plus once when the code appears).
const ANNOUNCE_AT_S: [i64; 8] = [3600, 1800, 600, 300, 120, 60, 30, 10];

/// `H:MM:SS` for an hour or more, `MM:SS` below; zero once expired.
pub fn format_remaining(ms: i64) -> String {
    // Round up: "00:00" should appear only when the code has really expired.
    let s = (ms.max(0) + 999) / 1000;
    let two = |n: i64| -> String {
        [
            ((b'0' + (n / 10) as u8) as char),
            ((b'0' + (n % 10) as u8) as char),
        ]
        .iter()
        .collect()
    };
    if s >= 3600 {
        [
            crate::i18n::decimal((s / 3600) as u64),
            ":".into(),
            two(s / 60 % 60),
            ":".into(),
            two(s % 60),
        ]
        .concat()
    } else {
        [two(s / 60), ":".into(), two(s % 60)].concat()
    }
}

/// Whether a countdown tick from `prev_ms` to `now_ms` left should be announced, and as
/// (minutes, seconds) for [`crate::i18n::time_left`]. `prev_ms = None` is the first tick.
pub fn announcement(prev_ms: Option<i64>, now_ms: i64) -> Option<(u32, u32)> {
    let now_s = (now_ms.max(0) + 999) / 1000;
    if now_s == 0 {
        return None;
    }
    let crossed = match prev_ms {
        None => true,
        Some(prev) => {
            let prev_s = (prev.max(0) + 999) / 1000;
            ANNOUNCE_AT_S.iter().any(|&t| prev_s > t && now_s <= t)
        }
    };
    if !crossed {
        return None;
    }
    Some(if now_s >= 60 {
        ((now_s / 60) as u32, 0)
    } else {
        (0, now_s as u32)
    })
}

/// When the QR code counts as expired: `expires_at` if the backend sent a readable one, else
/// WeChat's documented two hours from `now`.
pub fn expiry(expires_at: Option<&str>, now: EpochMs) -> EpochMs {
    expires_at
        .and_then(crate::clock::parse_rfc3339)
        .unwrap_or(now + 2 * 3600 * 1000)
}

#[cfg(target_arch = "wasm32")]
pub use browser::{flow, mount, Countdown};

#[cfg(target_arch = "wasm32")]
mod browser {
    use std::cell::Cell;
    use std::rc::Rc;

    use wasm_bindgen::prelude::*;
    use web_sys::{Document, Element};

    use super::{announcement, expiry, format_remaining};
    use crate::backend::PayRequest;
    use crate::checkout::{failed, Ctx, End, PollEnd, State};
    use crate::clock::EpochMs;
    use crate::dom::mount_qr;
    use crate::i18n::{text, time_left, Locale, Text};
    use crate::mode::PayMode;
    use crate::qr::QrOptions;
    use crate::session::{now, Action, Event};

    /// Shows QR codes until the backend reports a final state, refreshing expired ones
    /// (by itself `settings.auto_refresh` times in a row, then on the buyer's request).
    pub async fn flow(ctx: &Ctx) -> End {
        let mut poller = ctx.poller();
        let mut refreshes = 0;
        loop {
            ctx.enter(State::Preparing, &[]);
            let req = PayRequest {
                mode: Some(PayMode::Native),
                ..PayRequest::default()
            };
            let payment = match ctx.pay(&req).await {
                Ok(p) => p,
                Err(Err(end)) => return end,
                Err(Ok(e)) => return failed(&e.message()),
            };
            let Some(code_url) = payment.code_url.filter(|c| !c.is_empty()) else {
                return failed("the backend's native payment has no code_url");
            };
            // A backend clock ahead of ours must not make us hand out codes in a tight loop.
            let expires = expiry(payment.expires_at.as_deref(), now()).max(now() + 5_000);
            ctx.enter(
                State::Scanning,
                &[
                    ("codeUrl", code_url.as_str().into()),
                    (
                        "expiresAt",
                        js_sys::Date::new(&(expires as f64).into()).into(),
                    ),
                ],
            );
            match &ctx.view {
                Some(view) => {
                    if let Err(why) = view.show_qr(&code_url, expires, &ctx.session) {
                        return failed(&why);
                    }
                }
                None => ctx.session.push_later(
                    (expires - now()).clamp(0, i32::MAX as i64) as u32,
                    Event::QrExpired,
                ),
            }
            loop {
                match ctx
                    .poll(&mut poller, &|e| {
                        matches!(e, Event::QrExpired | Event::Action(Action::RefreshQr))
                    })
                    .await
                {
                    PollEnd::End(end) => return end,
                    PollEnd::Event(Event::QrExpired) if refreshes >= ctx.settings.auto_refresh => {
                        // Ask the buyer, keep polling meanwhile (a late scan may still be paid).
                        if let Some(view) = &ctx.view {
                            view.qr_expired(&ctx.session);
                        }
                        continue;
                    }
                    PollEnd::Event(Event::QrExpired) => {
                        refreshes += 1;
                        break;
                    }
                    PollEnd::Event(_) => {
                        refreshes = 0;
                        break;
                    }
                }
            }
        }
    }

    /// A running countdown; dropping it stops the timer.
    pub struct Countdown {
        interval: i32,
        _tick: Closure<dyn FnMut()>,
    }

    impl Drop for Countdown {
        fn drop(&mut self) {
            if let Some(w) = web_sys::window() {
                w.clear_interval_with_handle(self.interval);
            }
        }
    }

    /// Draws the QR for `code_url` and a countdown to `expires_at` into `body`; calls
    /// `on_expired` once when the countdown reaches zero.
    pub fn mount(
        doc: &Document,
        body: &Element,
        code_url: &str,
        expires_at: EpochMs,
        locale: Locale,
        on_expired: Box<dyn Fn()>,
    ) -> Result<Countdown, String> {
        let qr = doc.create_element("div").map_err(|_| "cannot create elements")?;
        let _ = qr.set_attribute("class", "wxpay-qr");
        let options = QrOptions { title: text(locale, Text::QrTitle).into(), ..QrOptions::default() };
        mount_qr(&qr, code_url, &options).map_err(|e| e.message())?;
        let _ = qr.set_attribute("data-code-url", code_url);

        let label = doc.create_element("p").map_err(|_| "cannot create elements")?;
        let _ = label.set_attribute("class", "wxpay-countdown");
        let caption = doc.create_element("span").map_err(|_| "cannot create elements")?;
        caption.set_text_content(Some(text(locale, Text::ExpiresIn)));
        let timer = doc
            .create_element("span")
            .map_err(|_| "cannot create elements")?;
        let _ = timer.set_attribute("role", "timer");
        let _ = timer.set_attribute("aria-label", text(locale, Text::ExpiresIn));
        let _ = timer.set_attribute("class", "wxpay-timer");
        let live = doc.create_element("span").map_err(|_| "cannot create elements")?;
        let _ = live.set_attribute("class", "wxpay-sr");
        let _ = live.set_attribute("aria-live", "polite");
        let _ = label.append_child(&caption);
        let _ = label.append_child(&timer);
        let _ = body.append_child(&qr);
        let _ = body.append_child(&label);
        let _ = body.append_child(&live);

        let previous: Rc<Cell<Option<i64>>> = Rc::default();
        let fired = Rc::new(Cell::new(false));
        let update = move || {
            let left = expires_at - js_sys::Date::now() as EpochMs;
            timer.set_text_content(Some(&format_remaining(left)));
            if let Some((m, s)) = announcement(previous.get(), left) {
                live.set_text_content(Some(&time_left(locale, m, s)));
            }
            previous.set(Some(left));
            if left <= 0 && !fired.replace(true) {
                on_expired();
            }
        };
        update();
        let tick = Closure::<dyn FnMut()>::new(update);
        let window = web_sys::window().ok_or("no window")?;
        let interval = window
            .set_interval_with_callback_and_timeout_and_arguments_0(
                tick.as_ref().unchecked_ref(),
                1000,
            )
            .map_err(|_| "cannot start the countdown timer")?;
        Ok(Countdown {
            interval,
            _tick: tick,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_time_formats() {
        assert_eq!(format_remaining(2 * 3600 * 1000), "2:00:00");
        assert_eq!(format_remaining(7_199_001), "2:00:00");
        assert_eq!(format_remaining(7_199_000), "1:59:59");
        assert_eq!(format_remaining(3_600_000), "1:00:00");
        assert_eq!(format_remaining(3_599_000), "59:59");
        assert_eq!(format_remaining(300_000), "05:00");
        assert_eq!(format_remaining(9_500), "00:10");
        assert_eq!(format_remaining(1), "00:01");
        assert_eq!(format_remaining(0), "00:00");
        assert_eq!(format_remaining(-5_000), "00:00");
    }

    #[test]
    fn announces_on_appearance_and_at_thresholds_only() {
        assert_eq!(announcement(None, 7_200_000), Some((120, 0)));
        assert_eq!(announcement(None, 45_000), Some((0, 45)));
        // Every second of a 2-hour code: announcements only when a threshold is crossed.
        let mut said = Vec::new();
        let mut prev = Some(7_200_000);
        for left in (0..7_200_000i64).rev().step_by(1000) {
            if let Some(a) = announcement(prev, left) {
                said.push(a);
            }
            prev = Some(left);
        }
        assert_eq!(
            said,
            [
                (60, 0),
                (30, 0),
                (10, 0),
                (5, 0),
                (2, 0),
                (1, 0),
                (0, 30),
                (0, 10)
            ]
        );
        // A throttled tab that skips several thresholds at once speaks once.
        assert_eq!(announcement(Some(700_000), 50_000), Some((0, 50)));
        assert_eq!(announcement(Some(5_000), 0), None);
    }

    #[test]
    fn expiry_falls_back_to_two_hours() {
        assert_eq!(expiry(Some("2026-11-26T12:37:42Z"), 0), 1_795_696_662_000);
        assert_eq!(expiry(Some("tomorrow"), 1_000), 1_000 + 7_200_000);
        assert_eq!(expiry(None, 0), 7_200_000);
    }
}
