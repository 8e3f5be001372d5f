//! The polling schedule (`src/poll.rs`) driven by a fake clock: every delay it picks is
//! checked exactly, with no sleeping.

use wxpay_checkout::clock::EpochMs;
use wxpay_checkout::poll::{parse_retry_after, PollSettings, Poller, Reply, Step};

const T0: EpochMs = 1_800_000_000_000;

fn no_long_poll() -> PollSettings {
    PollSettings {
        long_poll_s: 0,
        jitter: 0.0,
        ..PollSettings::default()
    }
}

/// Runs the schedule with instant pending answers and returns the delays it chose.
fn delays(poller: &mut Poller, mut now: EpochMs, n: usize) -> (Vec<u32>, EpochMs) {
    let mut out = Vec::new();
    for _ in 0..n {
        let Step::Request { wait_s } = poller.due(now) else {
            panic!("expected a request")
        };
        poller.sent(now, wait_s);
        match poller.answered(now, Reply::Pending { changed: false }, 0.5) {
            Step::Wait { ms } => {
                out.push(ms);
                now += EpochMs::from(ms);
            }
            other => panic!("{other:?}"),
        }
    }
    (out, now)
}

#[test]
fn fixed_interval_first_then_backs_off_to_the_cap() {
    let mut p = Poller::new(no_long_poll(), T0);
    let (d, _) = delays(&mut p, T0, 25);
    // 30 s of 2 s steps (15 checks up to t=30 s), then ×1.5 each time, capped at 15 s.
    assert!(d[..15].iter().all(|&ms| ms == 2_000), "{d:?}");
    assert_eq!(&d[15..21], &[2_000, 3_000, 4_500, 6_750, 10_125, 15_000]);
    assert!(d[21..].iter().all(|&ms| ms == 15_000));
}

#[test]
fn jitter_spreads_delays_within_bounds() {
    let settings = PollSettings {
        long_poll_s: 0,
        ..PollSettings::default()
    };
    for (sample, expected) in [(0.0, 1_600), (0.5, 2_000), (0.999_999, 2_399)] {
        let mut p = Poller::new(settings.clone(), T0);
        p.sent(T0, None);
        assert_eq!(
            p.answered(T0, Reply::Pending { changed: false }, sample),
            Step::Wait { ms: expected }
        );
    }
}

#[test]
fn only_one_request_in_flight() {
    let mut p = Poller::new(no_long_poll(), T0);
    assert_eq!(p.due(T0), Step::Request { wait_s: None });
    p.sent(T0, None);
    assert!(matches!(p.due(T0 + 5_000), Step::Wait { .. }));
    assert!(matches!(p.due(T0 + 29_000), Step::Wait { .. }));
    p.answered(T0 + 29_500, Reply::Pending { changed: false }, 0.5);
    assert_eq!(p.due(T0 + 31_500), Step::Request { wait_s: None });
}

#[test]
fn errors_back_off_exponentially_and_recover() {
    let mut p = Poller::new(no_long_poll(), T0);
    let mut seen = Vec::new();
    for _ in 0..6 {
        p.sent(T0, None);
        let Step::Wait { ms } = p.answered(
            T0,
            Reply::Failed {
                retry_after_ms: None,
            },
            0.5,
        ) else {
            panic!()
        };
        seen.push(ms);
    }
    assert_eq!(seen, [3_000, 4_500, 6_750, 10_125, 15_000, 15_000]);
    p.sent(T0, None);
    assert_eq!(
        p.answered(T0, Reply::Pending { changed: false }, 0.5),
        Step::Wait { ms: 2_000 }
    );
}

#[test]
fn retry_after_is_honoured_and_never_shortened_by_jitter() {
    let settings = PollSettings {
        long_poll_s: 0,
        ..PollSettings::default()
    };
    let mut p = Poller::new(settings, T0);
    p.sent(T0, None);
    assert_eq!(
        p.answered(
            T0,
            Reply::Failed {
                retry_after_ms: Some(60_000)
            },
            0.0
        ),
        Step::Wait { ms: 60_000 }
    );
    p.sent(T0, None);
    let Step::Wait { ms } = p.answered(
        T0,
        Reply::Failed {
            retry_after_ms: Some(60_000),
        },
        0.99,
    ) else {
        panic!()
    };
    assert!((60_000..=66_000).contains(&ms), "{ms}");
    // A Retry-After shorter than our own backoff does not make us hurry.
    p.sent(T0, None);
    let Step::Wait { ms } = p.answered(
        T0,
        Reply::Failed {
            retry_after_ms: Some(1),
        },
        0.5,
    ) else {
        panic!()
    };
    assert_eq!(ms, 6_750);
}

#[test]
fn retry_after_header_forms() {
    // At most a minute: a huge Retry-After must not stop polling until the deadline.
    assert_eq!(parse_retry_after("120", T0), Some(60_000));
    assert_eq!(parse_retry_after("45", T0), Some(45_000));
    assert_eq!(parse_retry_after("99999999999", T0), Some(60_000));
    assert_eq!(
        parse_retry_after("Thu, 26 Nov 2026 12:37:42 GMT", 0),
        Some(60_000)
    );
    assert_eq!(parse_retry_after(" 0 ", T0), Some(0));
    let date = "Thu, 26 Nov 2026 12:37:42 GMT";
    assert_eq!(
        parse_retry_after(date, 1_795_696_662_000 - 5_000),
        Some(5_000)
    );
    assert_eq!(parse_retry_after(date, 1_795_696_662_000 + 5_000), Some(0));
    assert_eq!(parse_retry_after("soon", T0), None);
    assert_eq!(parse_retry_after("-5", T0), None);
    assert_eq!(parse_retry_after("99999999999999999999", T0), Some(60_000));
}

#[test]
fn long_poll_used_when_backend_holds_requests() {
    let settings = PollSettings {
        jitter: 0.0,
        ..PollSettings::default()
    };
    let mut p = Poller::new(settings, T0);
    assert_eq!(p.due(T0), Step::Request { wait_s: Some(20) });
    p.sent(T0, Some(20));
    // Held 20 s: supported, so ask again almost at once.
    assert_eq!(
        p.answered(T0 + 20_000, Reply::Pending { changed: false }, 0.5),
        Step::Wait { ms: 200 }
    );
    assert_eq!(p.due(T0 + 20_200), Step::Request { wait_s: Some(20) });
    // An early answer because the state changed keeps long-polling on.
    p.sent(T0 + 20_200, Some(20));
    assert_eq!(
        p.answered(T0 + 21_000, Reply::Pending { changed: true }, 0.5),
        Step::Wait { ms: 200 }
    );
    assert_eq!(p.due(T0 + 21_200), Step::Request { wait_s: Some(20) });
}

#[test]
fn long_poll_dropped_when_backend_ignores_wait() {
    let settings = PollSettings {
        jitter: 0.0,
        ..PollSettings::default()
    };
    let mut p = Poller::new(settings, T0);
    p.sent(T0, Some(20));
    assert_eq!(
        p.answered(T0 + 30, Reply::Pending { changed: false }, 0.5),
        Step::Wait { ms: 2_000 }
    );
    assert_eq!(p.due(T0 + 2_030), Step::Request { wait_s: None });
}

#[test]
fn long_poll_wait_never_passes_the_deadline() {
    let settings = PollSettings {
        max_duration_ms: 30_000,
        ..PollSettings::default()
    };
    let p = Poller::new(settings, T0);
    assert_eq!(p.due(T0 + 25_000), Step::Request { wait_s: Some(5) });
    assert_eq!(p.due(T0 + 29_500), Step::Request { wait_s: None });
}

#[test]
fn hidden_page_pauses_and_visible_checks_at_once() {
    let mut p = Poller::new(no_long_poll(), T0);
    p.sent(T0, None);
    p.hide();
    p.abandoned();
    assert_eq!(p.due(T0 + 10_000), Step::Paused);
    assert_eq!(p.due(T0 + 600_000), Step::Paused);
    assert_eq!(p.visible(T0 + 600_001), Step::Request { wait_s: None });
    // A late answer to the abandoned request does not count as in flight.
    let mut p = Poller::new(no_long_poll(), T0);
    p.sent(T0, None);
    p.abandoned();
    assert_eq!(
        p.answered(T0 + 1, Reply::Pending { changed: false }, 0.5),
        Step::Request { wait_s: None }
    );
}

#[test]
fn stops_after_the_maximum_duration() {
    let settings = PollSettings {
        max_duration_ms: 10_000,
        ..no_long_poll()
    };
    let mut p = Poller::new(settings, T0);
    p.sent(T0 + 9_000, None);
    // The last wait is cut so the final check lands on the deadline…
    assert_eq!(
        p.answered(T0 + 9_000, Reply::Pending { changed: false }, 0.5),
        Step::Wait { ms: 1_000 }
    );
    // …and after it nothing is sent, hidden or not.
    assert_eq!(p.due(T0 + 10_000), Step::TimedOut);
    p.hide();
    assert_eq!(p.visible(T0 + 20_000), Step::TimedOut);
}

#[test]
fn hurry_resets_the_backoff() {
    let mut p = Poller::new(no_long_poll(), T0);
    let (_, now) = delays(&mut p, T0, 22);
    p.hurry();
    p.sent(now, None);
    assert_eq!(
        p.answered(now, Reply::Pending { changed: false }, 0.5),
        Step::Wait { ms: 2_000 }
    );
}
