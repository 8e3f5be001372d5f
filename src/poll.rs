//! When to ask the merchant backend about an order next: the polling schedule as pure logic.
//!
//! The page never trusts what the browser side says about a payment, so every flow ends by
//! polling `GET /api/orders/{id}`. Doing that politely is the whole point of this module:
//! at most one request in flight, a fixed interval at first and then backing off, longer
//! waits after errors (honouring `Retry-After`), jitter so a thousand tabs do not poll in
//! lockstep, `?wait=` long-polling when the backend holds requests, no requests while the
//! page is hidden, and a hard end after a maximum duration.
//!
//! Time and randomness come in as arguments (`now`, `jitter_sample`), so tests drive the
//! schedule with a fake clock instead of sleeping (`tests/poll_schedule.rs`). The browser
//! driver lives in `checkout`.

use crate::clock::{parse_http_date, EpochMs};

/// Tunables; `checkout()` takes them from the `polling` option.
#[derive(Debug, Clone, PartialEq)]
pub struct PollSettings {
    /// Delay between checks while the schedule is still "fast".
    pub interval_ms: u32,
    /// How long the fixed interval lasts before backing off.
    pub fast_for_ms: u32,
    /// The longest delay between two checks (errors included, unless `Retry-After` says more).
    pub max_interval_ms: u32,
    /// Each backed-off delay is the previous one times this.
    pub backoff_factor: f64,
    /// Delays vary by up to this fraction either way (0.2 = ±20 %).
    pub jitter: f64,
    /// Give up after this long (wall clock, hidden time included).
    pub max_duration_ms: u32,
    /// `?wait=` seconds to ask for; 0 disables long-polling.
    pub long_poll_s: u32,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            interval_ms: 2_000,
            fast_for_ms: 30_000,
            max_interval_ms: 15_000,
            backoff_factor: 1.5,
            jitter: 0.2,
            max_duration_ms: 15 * 60 * 1000,
            long_poll_s: 20,
        }
    }
}

/// What one check of the backend produced (final states never reach the schedule: the
/// caller stops there).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The order is not final yet; `changed` says whether its state differs from the last
    /// answer (a long-poll may return early for that reason).
    Pending { changed: bool },
    /// Network failure, timeout, 429 or 5xx: try again later.
    Failed { retry_after_ms: Option<u32> },
}

/// What the caller should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Send a request now, with `?wait=` if `Some`.
    Request { wait_s: Option<u32> },
    /// Sleep this long, then call [`Poller::due`].
    Wait { ms: u32 },
    /// Hidden page: send nothing until [`Poller::visible`].
    Paused,
    /// The maximum duration is over.
    TimedOut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LongPoll {
    Unknown,
    Supported,
    Unsupported,
}

/// The schedule for one order; see the module comment.
#[derive(Debug, Clone)]
pub struct Poller {
    settings: PollSettings,
    started_at: EpochMs,
    /// Set while a request is out, with the `wait` it asked for.
    in_flight: Option<(EpochMs, Option<u32>)>,
    hidden: bool,
    long_poll: LongPoll,
    /// Consecutive failures, for the error backoff.
    failures: u32,
    /// The last delay after a pending answer, grown by the backoff factor once past `fast_for_ms`.
    pending_delay_ms: f64,
}

/// Gap between held long-polls: the server already paced us.
const LONG_POLL_GAP_MS: u32 = 200;

impl Poller {
    pub fn new(settings: PollSettings, now: EpochMs) -> Poller {
        let pending_delay_ms = f64::from(settings.interval_ms);
        Poller {
            settings,
            started_at: now,
            in_flight: None,
            hidden: false,
            long_poll: LongPoll::Unknown,
            failures: 0,
            pending_delay_ms,
        }
    }

    pub fn settings(&self) -> &PollSettings {
        &self.settings
    }

    fn deadline(&self) -> EpochMs {
        self.started_at + EpochMs::from(self.settings.max_duration_ms)
    }

    /// Whether the maximum duration is over.
    pub fn timed_out(&self, now: EpochMs) -> bool {
        now >= self.deadline()
    }

    /// Is a check due now? Call it at start and whenever a `Wait` ends. Returns `Request`
    /// only if no other request is in flight; the caller then calls [`Poller::sent`].
    pub fn due(&self, now: EpochMs) -> Step {
        if self.timed_out(now) {
            return Step::TimedOut;
        }
        if self.hidden {
            return Step::Paused;
        }
        if let Some((sent_at, wait)) = self.in_flight {
            // Already asking: wait for that answer rather than stacking a second request.
            let budget = EpochMs::from(wait.unwrap_or(0)) * 1000 + 30_000;
            return Step::Wait {
                ms: clamp_ms(sent_at + budget - now),
            };
        }
        Step::Request {
            wait_s: self.wait_param(now),
        }
    }

    fn wait_param(&self, now: EpochMs) -> Option<u32> {
        if self.settings.long_poll_s == 0 || self.long_poll == LongPoll::Unsupported {
            return None;
        }
        // Never hold a request past the deadline.
        let left_s = (self.deadline() - now) / 1000;
        let wait = EpochMs::from(self.settings.long_poll_s).min(left_s);
        (wait >= 1).then_some(wait as u32)
    }

    /// Records that a request went out at `now` with the given `?wait=`.
    pub fn sent(&mut self, now: EpochMs, wait_s: Option<u32>) {
        self.in_flight = Some((now, wait_s));
    }

    /// Records an answer (or a failure) and says what to do next. `jitter_sample` is a
    /// uniformly random number in `[0, 1)`.
    pub fn answered(&mut self, now: EpochMs, reply: Reply, jitter_sample: f64) -> Step {
        let Some((sent_at, wait)) = self.in_flight.take() else {
            // An answer to a request we abandoned (page hidden): only the schedule matters.
            return self.due(now);
        };
        let delay = match reply {
            Reply::Pending { changed } => {
                self.failures = 0;
                if let Some(wait_s) = wait {
                    let held = now - sent_at;
                    // A backend that ignores `wait` answers at once with nothing new; one
                    // that supports it holds the request about `wait` seconds.
                    if held * 2 >= EpochMs::from(wait_s) * 1000 {
                        self.long_poll = LongPoll::Supported;
                    } else if !changed && self.long_poll == LongPoll::Unknown {
                        self.long_poll = LongPoll::Unsupported;
                    }
                }
                if self.long_poll == LongPoll::Supported && wait.is_some() {
                    f64::from(LONG_POLL_GAP_MS)
                } else {
                    let delay = self.pending_delay_ms;
                    if now - self.started_at >= EpochMs::from(self.settings.fast_for_ms) {
                        self.pending_delay_ms = (delay * self.settings.backoff_factor)
                            .min(f64::from(self.settings.max_interval_ms));
                    }
                    jittered(delay, self.settings.jitter, jitter_sample)
                }
            }
            Reply::Failed { retry_after_ms } => {
                self.failures = self.failures.saturating_add(1);
                let backoff = f64::from(self.settings.interval_ms)
                    * self
                        .settings
                        .backoff_factor
                        .powi(self.failures.min(30) as i32);
                let delay = jittered(
                    backoff.min(f64::from(self.settings.max_interval_ms)),
                    self.settings.jitter,
                    jitter_sample,
                );
                match retry_after_ms {
                    // The server said when; jitter only ever adds to that.
                    Some(after) if f64::from(after) >= delay => {
                        f64::from(after)
                            * (1.0 + self.settings.jitter * jitter_sample.clamp(0.0, 1.0) / 2.0)
                    }
                    _ => delay,
                }
            }
        };
        self.wait_or_stop(now, delay)
    }

    /// The request in flight was abandoned (aborted because the page was hidden).
    pub fn abandoned(&mut self) {
        self.in_flight = None;
    }

    fn wait_or_stop(&self, now: EpochMs, delay: f64) -> Step {
        if self.timed_out(now) {
            return Step::TimedOut;
        }
        // The last check happens at the deadline, not after it.
        let left = self.deadline() - now;
        Step::Wait {
            ms: clamp_ms((delay.max(0.0) as EpochMs).min(left)),
        }
    }

    /// The page became hidden: stop sending until it is visible again.
    pub fn hide(&mut self) {
        self.hidden = true;
    }

    /// The page became visible: check at once (the buyer may be back from paying).
    pub fn visible(&mut self, now: EpochMs) -> Step {
        self.hidden = false;
        self.due(now)
    }

    /// Ask again right away (the buyer pressed "I have paid").
    pub fn hurry(&mut self) {
        self.pending_delay_ms = f64::from(self.settings.interval_ms);
        self.failures = 0;
    }
}

fn jittered(delay: f64, jitter: f64, sample: f64) -> f64 {
    let jitter = jitter.clamp(0.0, 1.0);
    delay * (1.0 - jitter + 2.0 * jitter * sample.clamp(0.0, 1.0))
}

fn clamp_ms(ms: EpochMs) -> u32 {
    ms.clamp(0, EpochMs::from(u32::MAX)) as u32
}

/// Reads a `Retry-After` header: delta-seconds or an HTTP date (relative to `now`).
/// Unreadable values are ignored, as RFC 9110 allows.
pub fn parse_retry_after(value: &str, now: EpochMs) -> Option<u32> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Saturating fold instead of `str::parse` (smaller in the wasm); huge values clamp below.
        let seconds = value.bytes().fold(0u64, |n, b| n.saturating_mul(10).saturating_add(u64::from(b - b'0')));
        return Some(seconds.saturating_mul(1000).min(u64::from(u32::MAX)) as u32);
    }
    parse_http_date(value).map(|at| clamp_ms(at - now))
}
