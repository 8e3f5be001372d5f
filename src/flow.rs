//! One checkout run as a sans-IO state machine: environment → pay mode → that mode's flow →
//! polling the backend → an outcome.
//!
//! Like rustls, it never does I/O. [`Run::step`] takes one [`Input`] (an answer from the
//! backend, a timer, the page hiding, a button, the bridge's answer…) and the current time, and
//! returns the [`Effect`]s the page must carry out (fetch, set a timer, draw, navigate…). The
//! driver (`src/driver.rs`) moves those bytes; every decision is here — deadlines of requests
//! included — so whole flows are tested natively with an exact clock (`tests/flows.rs`).
//!
//! Only the backend knows whether the buyer paid: every flow ends by polling it, and the
//! browser's side (the bridge's `:ok`, coming back from H5) only changes what is shown.

use serde::Serialize;

use crate::backend::{order_url, BackendError, OrderStatus, Payment, Status};
use crate::bridge::{BridgeError, BridgeResult};
use crate::checkout::{Outcome, Settings, State};
use crate::clock::EpochMs;
pub use crate::effect::Call;
use crate::effect::{
    Button, Effect, OutcomeDetail, OutcomeObject, PayRequest, Request, StateDetail,
};
use crate::h5::{return_url, returned_for};
use crate::i18n::{text, time_left, Locale, Text};
use crate::mode::PayMode;
use crate::native::{announcement, expiry, format_remaining};
use crate::poll::{Poller, Reply, Step};
use crate::qr::{render_svg, QrOptions};
use crate::url::{check_redirect, query_param, rewrite_query};

/// Something that happened, fed to [`Run::step`].
// A backend answer is the large variant; an input is moved once per step, so boxing it would
// buy nothing but an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Input {
    /// The run begins on the page at this URL.
    Start {
        page: String,
    },
    /// The backend answered request `id` (see [`Run::awaiting`] for which call it was).
    Answer {
        id: u32,
        answer: Answer,
    },
    /// Timer `id` of a `timer` effect fired.
    Timer(u32),
    Hidden,
    Visible,
    /// The buyer pressed a button of a `buttons` effect.
    Action(Action),
    /// What `WeixinJSBridge` answered, or why it could not be asked.
    Bridge(Result<BridgeResult, BridgeError>),
    /// `wx.miniProgram.navigateTo` is missing (`sdk_missing`), or threw or reported `fail`.
    MiniProgramFailed {
        sdk_missing: bool,
    },
    /// `location.assign` threw.
    NavigationFailed,
    /// Show everything in another language (the element's `locale` changed). Also on a
    /// finished run, which it never restarts.
    Locale(Locale),
    /// Stop now (the promise's `abort()`, the element removed).
    Abort,
}

/// A backend answer, read as what the request asked for.
#[derive(Debug, Clone)]
pub enum Answer {
    Pay(Result<Payment, BackendError>),
    Status(Result<OrderStatus, BackendError>),
}

/// The buttons the view offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// "I have paid": check again now.
    IHavePaid,
    /// "Pay again": a fresh H5 payment URL.
    PayAgain,
    /// "Get a new QR code".
    RefreshQr,
    /// "Try again" after a run that did not end paid: a new run (the element's; the run
    /// itself is over and ignores it).
    Retry,
}

const ACTIONS: [(Action, &str, Text); 4] = [
    (Action::IHavePaid, "i-have-paid", Text::IHavePaid),
    (Action::PayAgain, "pay-again", Text::PayAgain),
    (Action::RefreshQr, "refresh-qr", Text::RefreshQr),
    (Action::Retry, "retry", Text::TryAgain),
];

/// How much longer than its `?wait=` a long-poll may take before it counts as failed.
const LONG_POLL_MARGIN_MS: u32 = 10_000;

impl Action {
    /// The `data-action` name of its button.
    pub fn name(self) -> &'static str {
        ACTIONS.iter().find(|a| a.0 == self).map_or("", |a| a.1)
    }

    pub fn from_name(name: &str) -> Option<Action> {
        ACTIONS.iter().find(|a| a.1 == name).map(|a| a.0)
    }
}

const NO_MINI_SDK: &str = "the mini-program JS-SDK is not on this page: add <script src=\"https://res.wx.qq.com/open/js/jweixin-1.6.0.js\"> (wx.miniProgram.navigateTo is missing)";

/// Where the run is. Polling has no sub-phase of its own: the request and timer slots of
/// [`Run`] say whether it is asking, waiting or paused (hidden page).
#[derive(Debug)]
enum Phase {
    Idle,
    /// Mini-program: `navigateTo` was asked; if it does not fail at once, the buyer is there.
    HandOff,
    /// Asking for a payment: attempt number and the next retry delay.
    Paying {
        attempt: u8,
        delay_ms: u32,
    },
    /// Left for WeChat's OAuth page (JSAPI needs the openid).
    Authorizing,
    /// Left for the H5 cashier; a return (or the page still here later) carries on.
    Redirecting,
    /// WeChat's pay sheet is open.
    Bridge,
    /// The pay sheet said cancel/fail, which WeChat does not guarantee: one check first.
    CheckOnce(BridgeResult),
    Polling,
    Over,
}

/// One checkout run.
pub struct Run {
    order_id: String,
    mode: PayMode,
    locale: Locale,
    settings: Settings,
    api_base: String,
    /// Set for a run that must fail at start (a bad `mode` attribute on the element).
    start_error: Option<String>,
    page: String,
    phase: Phase,
    poller: Option<Poller>,
    hidden: bool,
    /// The request in flight.
    request: Option<(u32, Call)>,
    next_id: u32,
    /// Timer slots: a fired id that is in no slot is stale and ignored.
    poll_timer: Option<u32>,
    /// Pay retry delay, or how long a navigation may take before it counts as failed.
    wait_timer: Option<u32>,
    tick_timer: Option<u32>,
    /// H5: how long to show "checking" after a return before offering the two choices.
    check_timer: Option<u32>,
    /// The deadline of the request in flight.
    request_timer: Option<(u32, u32)>,
    /// What is on screen, to show it again in another language: the state, the note, the
    /// buttons, and whether the QR code has expired.
    shown: Option<State>,
    note: Option<Text>,
    offered: &'static [(Action, &'static str, Text)],
    qr_expired: bool,
    code_url: String,
    last_state: Option<String>,
    /// JSAPI: the OAuth `code` the page came back with.
    code: Option<String>,
    /// Native: when the QR code expires, the last countdown value, refreshes in a row.
    expires_at: EpochMs,
    last_left: Option<EpochMs>,
    refreshes: u32,
    now: EpochMs,
    random: f64,
    fx: Vec<Effect>,
}

impl Run {
    pub fn new(
        order_id: String,
        mode: PayMode,
        locale: Locale,
        settings: Settings,
        api_base: String,
    ) -> Run {
        Run {
            order_id,
            mode,
            locale,
            settings,
            api_base,
            start_error: None,
            page: String::new(),
            phase: Phase::Idle,
            poller: None,
            hidden: false,
            request: None,
            next_id: 0,
            poll_timer: None,
            wait_timer: None,
            tick_timer: None,
            check_timer: None,
            request_timer: None,
            shown: None,
            note: None,
            offered: &[],
            qr_expired: false,
            code_url: String::new(),
            last_state: None,
            code: None,
            expires_at: 0,
            last_left: None,
            refreshes: 0,
            now: 0,
            random: 0.5,
            fx: Vec::new(),
        }
    }

    /// A run that fails with `message` as soon as it starts.
    pub fn failing(mut self, message: String) -> Run {
        self.start_error = Some(message);
        self
    }

    /// Which call request `id` was, if it is the one in flight (else its answer is stale).
    pub fn awaiting(&self, id: u32) -> Option<Call> {
        self.request.filter(|r| r.0 == id).map(|r| r.1)
    }

    pub fn is_over(&self) -> bool {
        matches!(self.phase, Phase::Over)
    }

    /// Feeds one input at `now` (`random` in `[0, 1)` spreads polling delays) and returns the
    /// effects, in order.
    pub fn step(&mut self, input: Input, now: EpochMs, random: f64) -> Vec<Effect> {
        self.now = now;
        self.random = random;
        match input {
            Input::Locale(locale) => self.relabel(locale),
            _ if matches!(self.phase, Phase::Over) => {}
            input => self.handle(input),
        }
        std::mem::take(&mut self.fx)
    }

    fn handle(&mut self, input: Input) {
        match input {
            Input::Start { page } if matches!(self.phase, Phase::Idle) => {
                self.page = page;
                self.start();
            }
            Input::Start { .. } => {}
            Input::Abort => self.finish(None),
            Input::Answer { id, answer } if self.awaiting(id).is_some() => {
                self.request = None;
                self.request_timer = None;
                self.answered(answer);
            }
            Input::Answer { .. } => {}
            Input::Timer(id) => self.timer(id),
            Input::Hidden => {
                self.hidden = true;
                if matches!(self.phase, Phase::Polling) {
                    self.poll_stop();
                    self.poller().hide();
                }
            }
            Input::Visible => {
                self.hidden = false;
                match self.phase {
                    Phase::Redirecting => self.back_from_cashier(),
                    // Waiting or paused: the buyer may be back from paying, check at once.
                    Phase::Polling if self.request.is_none() => {
                        self.poll_timer = None;
                        let now = self.now;
                        let step = self.poller().visible(now);
                        self.poll_step(step);
                    }
                    _ => {}
                }
            }
            Input::Action(action) => self.action(action),
            Input::Bridge(answer) if matches!(self.phase, Phase::Bridge) => {
                self.bridge_answered(answer)
            }
            Input::Bridge(_) => {}
            Input::MiniProgramFailed { sdk_missing } => self.fail(if sdk_missing {
                NO_MINI_SDK
            } else {
                "wx.miniProgram.navigateTo failed: is miniprogramPath a page of the mini-program?"
            }),
            Input::NavigationFailed => match self.phase {
                Phase::Authorizing => self.fail("WeChat's OAuth page did not open"),
                Phase::Redirecting => self.fail("the browser refused to open the WeChat cashier"),
                _ => {}
            },
            Input::Locale(_) => {}
        }
    }

    /// Shows what is on screen again in `locale`: text only, no new state, nothing asked.
    fn relabel(&mut self, locale: Locale) {
        if locale == self.locale {
            return;
        }
        self.locale = locale;
        let Some(state) = self.shown else { return };
        self.fx.push(Effect::State {
            state,
            text: text(locale, state.text(self.mode)).into(),
            lang: locale.tag(),
            detail: None,
        });
        if state == State::Scanning {
            let left = self.expires_at - self.now;
            if let Ok(svg) = self.qr_svg() {
                let caption = text(locale, Text::ExpiresIn).into();
                self.fx.push(Effect::Qr {
                    svg,
                    code_url: self.code_url.clone(),
                    caption,
                    time: format_remaining(left),
                    say: None,
                });
            }
            if self.qr_expired {
                self.fx.push(Effect::QrExpired {
                    text: text(locale, Text::QrExpired).into(),
                });
            }
        }
        let note = self.note.map(|n| text(locale, n).to_owned());
        self.fx.push(Effect::Note { text: note });
        let offered = self.offered;
        self.offer(offered);
    }

    fn start(&mut self) {
        if let Some(message) = self.start_error.take() {
            return self.fail(&message);
        }
        match self.mode {
            PayMode::Native => self.order_payment(),
            PayMode::H5 if returned_for(&self.page, &self.order_id) => self.back_from_cashier(),
            PayMode::H5 => self.order_payment(),
            PayMode::Jsapi => {
                if returned_for(&self.page, &self.order_id) {
                    self.code = query_param(&self.page, "code").filter(|c| !c.is_empty());
                    // Back from OAuth (`state` is ours) without a code: going again would loop.
                    if self.code.is_none() && query_param(&self.page, "state").is_some() {
                        return self.fail("WeChat's OAuth page came back without a code: the buyer did not authorise, or the backend's OAuth appid or redirect is wrong");
                    }
                }
                if self.code.is_some() {
                    // The code is single-use: keep it out of history, bookmarks and reloads.
                    let url = rewrite_query(&self.page, &["code", "state"], &[]);
                    self.fx.push(Effect::Replace { url });
                }
                self.order_payment();
            }
            PayMode::MiniProgram => {
                match crate::miniprogram::target_page(
                    &self.settings.miniprogram_path,
                    &self.order_id,
                ) {
                    Err(why) => self.fail(why),
                    Ok(page) => {
                        // A missing SDK answers at once; only without that answer is it "paying".
                        self.phase = Phase::HandOff;
                        self.fx.push(Effect::Mini { url: page });
                        self.wait_timer = self.set_timer(0);
                    }
                }
            }
        }
    }

    // ---- talking to the backend -------------------------------------------------------------

    fn order_payment(&mut self) {
        self.enter(State::Preparing, StateDetail::default());
        self.phase = Phase::Paying {
            attempt: 0,
            delay_ms: 1_000,
        };
        self.send_pay();
    }

    fn send_pay(&mut self) {
        let id = self.next_request(Call::Pay);
        let url = [&order_url(&self.api_base, &self.order_id), "/pay"].concat();
        let return_url = matches!(self.mode, PayMode::Jsapi | PayMode::H5)
            .then(|| return_url(&self.page, &self.order_id));
        let body = PayRequest {
            mode: self.mode,
            code: self.code.clone(),
            return_url,
        };
        self.fx.push(Effect::Fetch(Request {
            id,
            call: Call::Pay,
            url,
            body: Some(body),
            wait: None,
        }));
        self.request_deadline(self.settings.request_timeout_ms);
    }

    fn send_status(&mut self, wait_s: Option<u32>) {
        let id = self.next_request(Call::Status);
        let mut url = order_url(&self.api_base, &self.order_id);
        if let Some(w) = wait_s {
            url.push_str("?wait=");
            url.push_str(&crate::i18n::decimal(w.into()));
        }
        self.fx.push(Effect::Fetch(Request {
            id,
            call: Call::Status,
            url,
            body: None,
            wait: wait_s,
        }));
        // A long-poll is held `wait` seconds by design: its deadline is that plus a margin.
        let deadline = match wait_s {
            Some(w) => w.saturating_mul(1000).saturating_add(LONG_POLL_MARGIN_MS),
            None => self.settings.request_timeout_ms,
        };
        self.request_deadline(deadline);
    }

    /// Every request gets a deadline: an answer that never ends must not leave the buyer
    /// waiting forever. When it passes, the request is aborted and counts as a timeout.
    fn request_deadline(&mut self, ms: u32) {
        self.request_timer = self.set_timer(ms).map(|id| (id, ms));
    }

    fn next_request(&mut self, call: Call) -> u32 {
        self.next_id += 1;
        self.request = Some((self.next_id, call));
        self.next_id
    }

    fn set_timer(&mut self, ms: u32) -> Option<u32> {
        self.next_id += 1;
        self.fx.push(Effect::Timer {
            id: self.next_id,
            ms,
        });
        Some(self.next_id)
    }

    fn answered(&mut self, answer: Answer) {
        // Taken, not cloned (less wasm): each arm puts back or moves on.
        match (answer, std::mem::replace(&mut self.phase, Phase::Idle)) {
            (Answer::Pay(answer), Phase::Paying { attempt, delay_ms }) => {
                self.phase = Phase::Paying { attempt, delay_ms };
                match answer {
                    Ok(payment) => {
                        self.set_note(None);
                        self.paid(payment);
                    }
                    // Paid already (a second tab, a reload after paying): the backend confirms it.
                    Err(BackendError::Http {
                        status: 409, code, ..
                    }) if code == "already_paid" => {
                        self.enter(State::Confirming, StateDetail::default());
                        self.poll_start();
                    }
                    Err(e) if e.is_transient() && attempt < 3 => {
                        self.set_note(Some(Text::Retrying));
                        let wait = e.retry_after_ms().unwrap_or(delay_ms).max(delay_ms);
                        self.wait_timer = self.set_timer(wait);
                    }
                    Err(e) => self.pay_refused(e),
                }
            }
            (Answer::Status(answer), Phase::Polling) => {
                self.phase = Phase::Polling;
                self.polled(answer);
            }
            (Answer::Status(answer), Phase::CheckOnce(result)) => {
                if let Ok(order) = answer {
                    if let Some(outcome) = Outcome::settled_by(order) {
                        return self.finish(Some(outcome));
                    }
                }
                match result {
                    BridgeResult::Cancel => self.finish(Some(Outcome::new(
                        Status::Cancelled,
                        Some("the buyer closed WeChat's pay sheet".into()),
                    ))),
                    BridgeResult::NotSupported => self.fail(
                        "this WeChat version cannot pay here (fail_nosupport): ask the buyer to update WeChat",
                    ),
                    BridgeResult::Fail(msg) => self.fail(&["WeChat Pay failed: ", &msg].concat()),
                    BridgeResult::Ok => self.finish(None),
                }
            }
            (_, phase) => self.phase = phase,
        }
    }

    /// The backend gave a payment handle: use it as the mode says.
    fn paid(&mut self, payment: Payment) {
        match self.mode {
            PayMode::Native => match payment.code_url.filter(|c| !c.is_empty()) {
                None => self.fail("the backend's native payment has no code_url"),
                Some(code_url) => {
                    self.show_qr(code_url, payment.expires_at.as_deref(), payment.server_now)
                }
            },
            PayMode::H5 => match payment.h5_url {
                None => self.fail("the backend's H5 payment has no h5_url"),
                // If the page is still here 10 s later (restored from the back-forward cache,
                // or navigation blocked) it carries on as a return.
                Some(url) => {
                    let detail = StateDetail {
                        h5_url: Some(url.clone()),
                        ..StateDetail::default()
                    };
                    self.leave_for(
                        url,
                        (State::Redirecting, detail),
                        Phase::Redirecting,
                        10_000,
                    );
                }
            },
            PayMode::Jsapi => match payment.jsapi {
                None => self.fail("the backend's JSAPI payment has no jsapi parameters"),
                Some(params) => {
                    if let Err(e) = params.validate() {
                        return self.fail(&e.message());
                    }
                    self.enter(State::Paying, StateDetail::default());
                    self.phase = Phase::Bridge;
                    self.fx.push(Effect::Bridge {
                        params,
                        timeout: self.settings.bridge_timeout_ms,
                    });
                }
            },
            PayMode::MiniProgram => {}
        }
    }

    /// Sends the buyer to `url` (only if the allow-list has its host), reporting it in `state`
    /// under `key`; `wait_ms` later the timer says the page is still here.
    fn leave_for(
        &mut self,
        url: String,
        (state, detail): (State, StateDetail),
        phase: Phase,
        wait_ms: u32,
    ) {
        if let Err(e) = check_redirect(&url, &self.settings.redirect_hosts) {
            return self.fail(&e.message());
        }
        self.enter(state, detail);
        self.phase = phase;
        self.fx.push(Effect::Go { url });
        self.wait_timer = self.set_timer(wait_ms);
    }

    fn pay_refused(&mut self, e: BackendError) {
        match e {
            BackendError::OpenIdRequired { authorize_url } if self.mode == PayMode::Jsapi => {
                if self.code.is_some() {
                    return self.fail("the backend still asks for the buyer's openid after the OAuth round trip: check its OAuth appid/secret");
                }
                // Still here 15 s later: the navigation did not happen.
                let detail = StateDetail {
                    authorize_url: Some(authorize_url.clone()),
                    ..StateDetail::default()
                };
                self.leave_for(
                    authorize_url,
                    (State::Authorizing, detail),
                    Phase::Authorizing,
                    15_000,
                );
            }
            e => self.fail(&e.message()),
        }
    }

    fn bridge_answered(&mut self, answer: Result<BridgeResult, BridgeError>) {
        match answer {
            Err(BridgeError::NotReady { .. }) => {
                let waited_ms = self.settings.bridge_timeout_ms;
                self.fail(&BridgeError::NotReady { waited_ms }.message())
            }
            Err(e) => self.fail(&e.message()),
            Ok(BridgeResult::Ok) => {
                // Only the backend's SUCCESS counts.
                self.enter(State::Confirming, StateDetail::default());
                self.poll_start();
            }
            Ok(other) => {
                self.phase = Phase::CheckOnce(other);
                self.send_status(None);
            }
        }
    }

    // ---- polling ---------------------------------------------------------------------------

    fn poller(&mut self) -> &mut Poller {
        let (settings, now) = (&self.settings.poll, self.now);
        self.poller
            .get_or_insert_with(|| Poller::new(settings.clone(), now))
    }

    /// (Re)starts polling with the schedule so far: checks at once unless one is pending.
    fn poll_start(&mut self) {
        self.phase = Phase::Polling;
        self.last_state = None;
        let (hidden, now) = (self.hidden, self.now);
        let poller = self.poller();
        // The page may have turned visible (or hidden) while no poll was running.
        let step = if hidden {
            poller.hide();
            poller.due(now)
        } else {
            poller.visible(now)
        };
        self.poll_step(step);
    }

    /// Stops the check in flight and the wait, keeping the schedule.
    fn poll_stop(&mut self) {
        self.poll_timer = None;
        self.request_timer = None;
        if self.request.take().is_some() {
            self.fx.push(Effect::Cancel);
            self.poller().abandoned();
        }
    }

    fn poll_step(&mut self, step: Step) {
        match step {
            Step::TimedOut => {
                let message =
                    "the backend did not confirm a payment within the maximum polling time";
                self.finish(Some(Outcome::new(Status::Expired, Some(message.into()))));
            }
            Step::Paused => {}
            Step::Wait { ms } => self.poll_timer = self.set_timer(ms),
            Step::Request { wait_s } => {
                let now = self.now;
                self.poller().sent(now, wait_s);
                self.send_status(wait_s);
            }
        }
    }

    fn polled(&mut self, answer: Result<OrderStatus, BackendError>) {
        let (now, random) = (self.now, self.random);
        let step = match answer {
            Ok(order) => {
                self.set_note(None);
                let state = order.state.clone();
                if let Some(outcome) = Outcome::settled_by(order) {
                    return self.finish(Some(outcome));
                }
                let changed = self.last_state.as_deref().is_some_and(|s| s != state);
                self.last_state = Some(state);
                self.poller()
                    .answered(now, Reply::Pending { changed }, random)
            }
            // A bad answer to a check (a proxy's error page, an answer about another order)
            // proves nothing either way: ignored like a failed check, asked again later.
            Err(e) if e.is_transient() || matches!(e, BackendError::BadResponse(_)) => {
                self.set_note(Some(Text::Retrying));
                let reply = Reply::Failed {
                    retry_after_ms: e.retry_after_ms(),
                };
                self.poller().answered(now, reply, random)
            }
            Err(e) => return self.fail(&e.message()),
        };
        self.poll_step(step);
    }

    // ---- timers and buttons ----------------------------------------------------------------

    fn timer(&mut self, id: u32) {
        if let Some((_, ms)) = self.request_timer.filter(|t| t.0 == id) {
            self.request_timer = None;
            let Some((_, call)) = self.request.take() else {
                return;
            };
            // Aborted: its answer never comes back; the run goes on as if it had failed.
            self.fx.push(Effect::Cancel);
            let error = BackendError::Timeout { ms };
            return self.answered(match call {
                Call::Pay => Answer::Pay(Err(error)),
                Call::Status => Answer::Status(Err(error)),
            });
        }
        let id = Some(id);
        if id == self.poll_timer {
            self.poll_timer = None;
            let now = self.now;
            let step = self.poller().visible(now);
            self.poll_step(step);
        } else if id == self.tick_timer {
            self.tick_timer = None;
            self.tick();
        } else if id == self.check_timer {
            self.check_timer = None;
            self.enter(State::Unconfirmed, StateDetail::default());
            self.offer(&ACTIONS[..2]); // "I have paid", "Pay again"
            self.poll_stop();
            self.poll_start();
        } else if id == self.wait_timer {
            self.wait_timer = None;
            match self.phase {
                Phase::Paying { attempt, delay_ms } => {
                    self.phase = Phase::Paying {
                        attempt: attempt + 1,
                        delay_ms: delay_ms.saturating_mul(2),
                    };
                    self.send_pay();
                }
                Phase::Authorizing => self.fail("WeChat's OAuth page did not open"),
                Phase::Redirecting => self.back_from_cashier(),
                Phase::HandOff => {
                    let page = crate::miniprogram::target_page(
                        &self.settings.miniprogram_path,
                        &self.order_id,
                    )
                    .unwrap_or_default();
                    self.enter(
                        State::Paying,
                        StateDetail {
                            miniprogram_page: Some(page),
                            ..StateDetail::default()
                        },
                    );
                    // The buyer comes back with navigateBack; the page turns visible and polls.
                    self.poll_start();
                }
                _ => {}
            }
        }
    }

    fn action(&mut self, action: Action) {
        if !matches!(self.phase, Phase::Polling) {
            return;
        }
        match (self.mode, action) {
            (PayMode::Native, Action::RefreshQr) => {
                self.refreshes = 0;
                self.poll_stop();
                self.order_payment();
            }
            (PayMode::H5, Action::PayAgain) => {
                self.poll_stop();
                self.check_timer = None;
                self.order_payment();
            }
            (PayMode::H5, Action::IHavePaid) => {
                self.poll_stop();
                self.poller().hurry();
                self.checking();
            }
            _ => {}
        }
    }

    /// Buttons for `actions` (entries of [`ACTIONS`]), labelled in the run's language.
    fn offer(&mut self, actions: &'static [(Action, &'static str, Text)]) {
        self.offered = actions;
        let locale = self.locale;
        let list = actions
            .iter()
            .map(|a| Button {
                action: a.0,
                label: text(locale, a.2),
            })
            .collect();
        self.fx.push(Effect::Buttons { list });
    }

    // ---- H5 --------------------------------------------------------------------------------

    fn back_from_cashier(&mut self) {
        self.wait_timer = None;
        self.checking();
    }

    /// "Checking" for a while, polling, before offering "I have paid" / "Pay again".
    fn checking(&mut self) {
        self.enter(State::Checking, StateDetail::default());
        self.check_timer = self.set_timer(self.settings.h5_check_ms);
        self.poll_start();
    }

    // ---- Native ----------------------------------------------------------------------------

    fn show_qr(&mut self, code_url: String, expires_at: Option<&str>, server_now: Option<EpochMs>) {
        let now = self.now;
        // The countdown is the backend's: time left by its clock (its `Date`), counted down
        // on ours, so a wrong phone clock does not show a wrong time.
        let left = expiry(expires_at, server_now.unwrap_or(now)) - server_now.unwrap_or(now);
        // A backend clock ahead of ours must not make us hand out codes in a tight loop.
        self.expires_at = now + left.max(5_000);
        self.code_url = code_url;
        self.qr_expired = false;
        let svg = match self.qr_svg() {
            Ok(svg) => svg,
            Err(e) => return self.fail(&e.message()),
        };
        let detail = StateDetail {
            code_url: Some(self.code_url.clone()),
            expires_at: Some(self.expires_at),
            ..StateDetail::default()
        };
        self.enter(State::Scanning, detail);
        let left = self.expires_at - now;
        let say = self.say(None, left);
        self.last_left = Some(left);
        let caption = text(self.locale, Text::ExpiresIn).into();
        self.fx.push(Effect::Qr {
            svg,
            code_url: self.code_url.clone(),
            caption,
            time: format_remaining(left),
            say,
        });
        self.tick_timer = self.set_timer(next_second(left));
        self.poll_start();
    }

    fn qr_svg(&self) -> Result<String, crate::qr::QrError> {
        let options = QrOptions {
            title: text(self.locale, Text::QrTitle).into(),
            ..QrOptions::default()
        };
        render_svg(&self.code_url, &options)
    }

    fn say(&self, previous: Option<EpochMs>, left: EpochMs) -> Option<String> {
        announcement(previous, left).map(|(m, s)| time_left(self.locale, m, s))
    }

    fn tick(&mut self) {
        let left = self.expires_at - self.now;
        let say = self.say(self.last_left, left);
        self.last_left = Some(left);
        self.fx.push(Effect::Tick {
            time: format_remaining(left),
            say,
        });
        if left > 0 {
            self.tick_timer = self.set_timer(next_second(left));
            return;
        }
        self.poll_stop();
        if self.refreshes >= self.settings.auto_refresh {
            // Ask the buyer; keep polling meanwhile (a late scan may still be paid).
            self.qr_expired = true;
            self.fx.push(Effect::QrExpired {
                text: text(self.locale, Text::QrExpired).into(),
            });
            self.offer(&ACTIONS[2..3]); // "Get a new QR code"
            self.poll_start();
        } else {
            self.refreshes += 1;
            self.order_payment();
        }
    }

    // ---- states and the end ----------------------------------------------------------------

    /// The secondary line (`None` clears it).
    fn set_note(&mut self, note: Option<Text>) {
        self.note = note;
        self.fx.push(Effect::Note {
            text: note.map(|n| text(self.locale, n).to_owned()),
        });
    }

    /// Enters `state`: the view's sentence, and `detail` (with state, mode and order id
    /// filled in) for `onState` / `wxpay-state`.
    fn enter(&mut self, state: State, detail: StateDetail) {
        self.shown = Some(state);
        self.offered = &[];
        let detail = StateDetail {
            state: Some(state),
            mode: Some(self.mode),
            order_id: self.order_id.clone(),
            ..detail
        };
        let text = text(self.locale, state.text(self.mode)).into();
        self.fx.push(Effect::State {
            state,
            text,
            lang: self.locale.tag(),
            detail: Some(detail),
        });
    }

    fn fail(&mut self, message: &str) {
        self.finish(Some(Outcome::new(Status::Failed, Some(message.to_owned()))));
    }

    /// Ends the run: `None` is an abort (reported as cancelled with reason "aborted").
    fn finish(&mut self, outcome: Option<Outcome>) {
        if self.request.take().is_some() {
            self.fx.push(Effect::Cancel);
        }
        self.phase = Phase::Over;
        let (order_id, mode) = (self.order_id.clone(), self.mode);
        let Some(o) = outcome else {
            let detail = OutcomeDetail {
                reason: Some("aborted"),
                ..OutcomeDetail::default()
            };
            return self.fx.push(Effect::Done {
                outcome: OutcomeObject {
                    status: Status::Cancelled,
                    order_id,
                    mode,
                    detail,
                },
            });
        };
        let state = State::of_status(o.status);
        let detail = StateDetail {
            message: o.message.clone(),
            ..StateDetail::default()
        };
        self.enter(state, detail);
        // The English `message` is for developers (`detail.message`); the buyer is told in
        // their language what they can do.
        if o.status == Status::Failed {
            self.set_note(Some(Text::FailedHint));
        }
        if o.status != Status::Paid && self.settings.offer_retry {
            self.offer(&ACTIONS[3..]); // "Try again"
        }
        let detail = OutcomeDetail {
            trade_state: o.trade_state,
            transaction_id: o.transaction_id,
            message: o.message,
            reason: None,
        };
        self.fx.push(Effect::Done {
            outcome: OutcomeObject {
                status: o.status,
                order_id,
                mode,
                detail,
            },
        });
    }
}

/// Milliseconds until the countdown's displayed second changes (it rounds up).
fn next_second(left: EpochMs) -> u32 {
    ((left - 1).rem_euclid(1000) + 1) as u32
}
