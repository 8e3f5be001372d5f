//! One checkout run as a sans-IO state machine: environment → pay mode → that mode's flow →
//! polling the backend → an outcome.
//!
//! Like rustls, it never does I/O. [`Run::step`] takes one [`Input`] (an answer from the
//! backend, a timer, the page hiding, a button, the bridge's answer…) and the current time, and
//! returns the [`Effects`] the page must carry out (fetch, set a timer, draw, navigate…). The JS
//! driver (`pkg-template/checkout.js`) moves those bytes; every decision is here, so whole
//! flows are tested natively with an exact clock (`tests/flows.rs`).
//!
//! Only the backend knows whether the buyer paid: every flow ends by polling it, and the
//! browser's side (the bridge's `:ok`, coming back from H5) only changes what is shown.

use crate::backend::{order_url, BackendError, OrderStatus, Payment, Status};
use crate::bridge::{BridgeError, BridgeResult};
use crate::checkout::{mode_name, Outcome, Settings, State};
use crate::clock::EpochMs;
use crate::effect::{outcome_json, Effects, Value};
use crate::h5::{return_url, returned_for};
use crate::i18n::{text, time_left, Locale, Text};
use crate::mode::PayMode;
use crate::native::{announcement, expiry, format_remaining};
use crate::poll::{Poller, Reply, Step};
use crate::qr::{render_svg, QrOptions};
use crate::url::{check_redirect, query_param, rewrite_query};

/// Something that happened, fed to [`Run::step`].
#[derive(Debug, Clone)]
pub enum Input<'a> {
    /// The run begins on the page at this URL.
    Start { page: &'a str },
    /// The backend answered request `id` (see [`Run::awaiting`] for which call it was).
    Answer { id: u32, answer: Answer },
    /// Timer `id` of a `timer` effect fired.
    Timer(u32),
    Hidden,
    Visible,
    /// The buyer pressed a button of a `buttons` effect.
    Action(Action),
    /// What `WeixinJSBridge` answered, or why it could not be asked.
    Bridge(Result<BridgeResult, BridgeError>),
    /// `wx.miniProgram.navigateTo` is missing (`sdk_missing`), or threw or reported `fail`.
    MiniProgramFailed { sdk_missing: bool },
    /// `location.assign` threw.
    NavigationFailed,
    /// Stop now (the promise's `abort()`, the element removed).
    Abort,
}

/// A backend answer, read as what the request asked for.
#[derive(Debug, Clone)]
pub enum Answer {
    Pay(Result<Payment, BackendError>),
    Status(Result<OrderStatus, BackendError>),
}

/// Which backend call a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Pay,
    Status,
}

/// The buttons the view offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// "I have paid": check again now.
    IHavePaid,
    /// "Pay again": a fresh H5 payment URL.
    PayAgain,
    /// "Get a new QR code".
    RefreshQr,
}

const ACTIONS: [(Action, &str, Text); 3] = [
    (Action::IHavePaid, "i-have-paid", Text::IHavePaid),
    (Action::PayAgain, "pay-again", Text::PayAgain),
    (Action::RefreshQr, "refresh-qr", Text::RefreshQr),
];

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
    Paying { attempt: u8, delay_ms: u32 },
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
    last_state: Option<String>,
    /// JSAPI: the OAuth `code` the page came back with.
    code: Option<String>,
    /// Native: when the QR code expires, the last countdown value, refreshes in a row.
    expires_at: EpochMs,
    last_left: Option<EpochMs>,
    refreshes: u32,
    now: EpochMs,
    random: f64,
    fx: Effects,
}

impl Run {
    pub fn new(order_id: String, mode: PayMode, locale: Locale, settings: Settings, api_base: String) -> Run {
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
            last_state: None,
            code: None,
            expires_at: 0,
            last_left: None,
            refreshes: 0,
            now: 0,
            random: 0.5,
            fx: Effects::default(),
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
    /// effects as a JSON array.
    pub fn step(&mut self, input: Input, now: EpochMs, random: f64) -> String {
        self.now = now;
        self.random = random;
        if !matches!(self.phase, Phase::Over) {
            self.handle(input);
        }
        self.fx.take()
    }

    fn handle(&mut self, input: Input) {
        match input {
            Input::Start { page } if matches!(self.phase, Phase::Idle) => {
                self.page = page.to_owned();
                self.start();
            }
            Input::Start { .. } => {}
            Input::Abort => self.finish(None),
            Input::Answer { id, answer } if self.awaiting(id).is_some() => {
                self.request = None;
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
            Input::Bridge(answer) if matches!(self.phase, Phase::Bridge) => self.bridge_answered(answer),
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
        }
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
                    let clean = rewrite_query(&self.page, &["code", "state"], &[]);
                    self.fx.replace(&clean);
                }
                self.order_payment();
            }
            PayMode::MiniProgram => {
                match crate::miniprogram::target_page(&self.settings.miniprogram_path, &self.order_id) {
                    Err(why) => self.fail(why),
                    Ok(page) => {
                        // A missing SDK answers at once; only without that answer is it "paying".
                        self.phase = Phase::HandOff;
                        self.fx.mini(&page);
                        self.wait_timer = self.set_timer(0);
                    }
                }
            }
        }
    }

    // ---- talking to the backend -------------------------------------------------------------

    fn order_payment(&mut self) {
        self.enter(State::Preparing, &[]);
        self.phase = Phase::Paying { attempt: 0, delay_ms: 1_000 };
        self.send_pay();
    }

    fn send_pay(&mut self) {
        let id = self.next_request(Call::Pay);
        let url = [&order_url(&self.api_base, &self.order_id), "/pay"].concat();
        let back = matches!(self.mode, PayMode::Jsapi | PayMode::H5)
            .then(|| return_url(&self.page, &self.order_id));
        self.fx.fetch_pay(
            id,
            &url,
            &[
                ("mode", Some(mode_name(self.mode))),
                ("code", self.code.as_deref()),
                ("return_url", back.as_deref()),
            ],
        );
    }

    fn send_status(&mut self, wait_s: Option<u32>) {
        let id = self.next_request(Call::Status);
        let mut url = order_url(&self.api_base, &self.order_id);
        if let Some(w) = wait_s {
            url.push_str("?wait=");
            url.push_str(&crate::i18n::decimal(w.into()));
        }
        self.fx.fetch_status(id, &url, wait_s);
    }

    fn next_request(&mut self, call: Call) -> u32 {
        self.next_id += 1;
        self.request = Some((self.next_id, call));
        self.next_id
    }

    fn set_timer(&mut self, ms: u32) -> Option<u32> {
        self.next_id += 1;
        self.fx.timer(self.next_id, ms);
        Some(self.next_id)
    }

    fn answered(&mut self, answer: Answer) {
        // Taken, not cloned (less wasm): each arm puts back or moves on.
        match (answer, std::mem::replace(&mut self.phase, Phase::Idle)) {
            (Answer::Pay(answer), Phase::Paying { attempt, delay_ms }) => {
                self.phase = Phase::Paying { attempt, delay_ms };
                match answer {
                Ok(payment) => {
                    self.fx.note(None);
                    self.paid(payment);
                }
                Err(e) if e.is_transient() && attempt < 3 => {
                    self.note(Text::Retrying);
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
                Some(code_url) => self.show_qr(&code_url, payment.expires_at.as_deref()),
            },
            PayMode::H5 => match payment.h5_url {
                None => self.fail("the backend's H5 payment has no h5_url"),
                // If the page is still here 10 s later (restored from the back-forward cache,
                // or navigation blocked) it carries on as a return.
                Some(url) => self.leave_for(&url, (State::Redirecting, "h5Url"), Phase::Redirecting, 10_000),
            },
            PayMode::Jsapi => match payment.jsapi {
                None => self.fail("the backend's JSAPI payment has no jsapi parameters"),
                Some(params) => {
                    if let Err(e) = params.validate() {
                        return self.fail(&e.message());
                    }
                    self.enter(State::Paying, &[]);
                    self.phase = Phase::Bridge;
                    self.fx.bridge(&params, self.settings.bridge_timeout_ms);
                }
            },
            PayMode::MiniProgram => {}
        }
    }

    /// Sends the buyer to `url` (only if the allow-list has its host), reporting it in `state`
    /// under `key`; `wait_ms` later the timer says the page is still here.
    fn leave_for(&mut self, url: &str, (state, key): (State, &str), phase: Phase, wait_ms: u32) {
        if let Err(e) = check_redirect(url, &self.settings.redirect_hosts) {
            return self.fail(&e.message());
        }
        self.enter(state, &[(key, Value::Str(url))]);
        self.phase = phase;
        self.fx.go(url);
        self.wait_timer = self.set_timer(wait_ms);
    }

    fn pay_refused(&mut self, e: BackendError) {
        match e {
            BackendError::OpenIdRequired { authorize_url } if self.mode == PayMode::Jsapi => {
                if self.code.is_some() {
                    return self.fail("the backend still asks for the buyer's openid after the OAuth round trip: check its OAuth appid/secret");
                }
                // Still here 15 s later: the navigation did not happen.
                self.leave_for(&authorize_url, (State::Authorizing, "authorizeUrl"), Phase::Authorizing, 15_000);
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
                self.enter(State::Confirming, &[]);
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
        self.poller.get_or_insert_with(|| Poller::new(settings.clone(), now))
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
        if self.request.take().is_some() {
            self.fx.cancel();
            self.poller().abandoned();
        }
    }

    fn poll_step(&mut self, step: Step) {
        match step {
            Step::TimedOut => {
                let message = "the backend did not confirm a payment within the maximum polling time";
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
                self.fx.note(None);
                let state = order.state.clone();
                if let Some(outcome) = Outcome::settled_by(order) {
                    return self.finish(Some(outcome));
                }
                let changed = self.last_state.as_deref().is_some_and(|s| s != state);
                self.last_state = Some(state);
                self.poller().answered(now, Reply::Pending { changed }, random)
            }
            Err(e) if e.is_transient() => {
                self.note(Text::Retrying);
                let reply = Reply::Failed { retry_after_ms: e.retry_after_ms() };
                self.poller().answered(now, reply, random)
            }
            Err(e) => return self.fail(&e.message()),
        };
        self.poll_step(step);
    }

    // ---- timers and buttons ----------------------------------------------------------------

    fn timer(&mut self, id: u32) {
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
            self.enter(State::Unconfirmed, &[]);
            self.offer(&ACTIONS[..2]); // "I have paid", "Pay again"
            self.poll_stop();
            self.poll_start();
        } else if id == self.wait_timer {
            self.wait_timer = None;
            match self.phase {
                Phase::Paying { attempt, delay_ms } => {
                    self.phase = Phase::Paying { attempt: attempt + 1, delay_ms: delay_ms.saturating_mul(2) };
                    self.send_pay();
                }
                Phase::Authorizing => self.fail("WeChat's OAuth page did not open"),
                Phase::Redirecting => self.back_from_cashier(),
                Phase::HandOff => {
                    let page = crate::miniprogram::target_page(&self.settings.miniprogram_path, &self.order_id).unwrap_or_default();
                    self.enter(State::Paying, &[("miniprogramPage", Value::Str(&page))]);
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
    fn offer(&mut self, actions: &[(Action, &'static str, Text)]) {
        let locale = self.locale;
        self.fx.buttons(actions.iter().map(|a| (a.1, text(locale, a.2))));
    }

    // ---- H5 --------------------------------------------------------------------------------

    fn back_from_cashier(&mut self) {
        self.wait_timer = None;
        self.checking();
    }

    /// "Checking" for a while, polling, before offering "I have paid" / "Pay again".
    fn checking(&mut self) {
        self.enter(State::Checking, &[]);
        self.check_timer = self.set_timer(self.settings.h5_check_ms);
        self.poll_start();
    }

    // ---- Native ----------------------------------------------------------------------------

    fn show_qr(&mut self, code_url: &str, expires_at: Option<&str>) {
        let now = self.now;
        // A backend clock ahead of ours must not make us hand out codes in a tight loop.
        self.expires_at = expiry(expires_at, now).max(now + 5_000);
        let options = QrOptions { title: text(self.locale, Text::QrTitle).into(), ..QrOptions::default() };
        let svg = match render_svg(code_url, &options) {
            Ok(svg) => svg,
            Err(e) => return self.fail(&e.message()),
        };
        self.enter(State::Scanning, &[("codeUrl", Value::Str(code_url)), ("expiresAt", Value::Ms(self.expires_at))]);
        let left = self.expires_at - now;
        let say = self.say(None, left);
        self.last_left = Some(left);
        let caption = text(self.locale, Text::ExpiresIn);
        self.fx.qr(&svg, code_url, caption, &format_remaining(left), say.as_deref());
        self.tick_timer = self.set_timer(next_second(left));
        self.poll_start();
    }

    fn say(&self, previous: Option<EpochMs>, left: EpochMs) -> Option<String> {
        announcement(previous, left).map(|(m, s)| time_left(self.locale, m, s))
    }

    fn tick(&mut self) {
        let left = self.expires_at - self.now;
        let say = self.say(self.last_left, left);
        self.last_left = Some(left);
        self.fx.tick(&format_remaining(left), say.as_deref());
        if left > 0 {
            self.tick_timer = self.set_timer(next_second(left));
            return;
        }
        self.poll_stop();
        if self.refreshes >= self.settings.auto_refresh {
            // Ask the buyer; keep polling meanwhile (a late scan may still be paid).
            self.fx.qr_expired(text(self.locale, Text::QrExpired));
            self.offer(&ACTIONS[2..]); // "Get a new QR code"
            self.poll_start();
        } else {
            self.refreshes += 1;
            self.order_payment();
        }
    }

    // ---- states and the end ----------------------------------------------------------------

    fn note(&mut self, note: Text) {
        self.fx.note(Some(text(self.locale, note)));
    }

    /// Enters `state`: the view's sentence and `detail` = `{state, mode, orderId, …extra}`.
    fn enter(&mut self, state: State, extra: &[(&str, Value)]) {
        let text = text(self.locale, state.text(self.mode));
        self.fx.state(state.as_str(), text, self.locale.tag(), [mode_name(self.mode), &self.order_id], extra);
    }

    fn fail(&mut self, message: &str) {
        self.finish(Some(Outcome::new(Status::Failed, Some(message.to_owned()))));
    }

    /// Ends the run: `None` is an abort (reported as cancelled with reason "aborted").
    fn finish(&mut self, outcome: Option<Outcome>) {
        if self.request.take().is_some() {
            self.fx.cancel();
        }
        self.phase = Phase::Over;
        let mode = mode_name(self.mode);
        let Some(o) = outcome else {
            let json = outcome_json("cancelled", &self.order_id, mode, detail(None, None, None, Some("aborted")));
            return self.fx.done(&json, None, None);
        };
        let message = o.message.as_deref();
        let state = State::of_status(o.status);
        match message {
            Some(m) => self.enter(state, &[("message", Value::Str(m))]),
            None => self.enter(state, &[]),
        }
        let json = outcome_json(
            o.status.as_str(),
            &self.order_id,
            mode,
            detail(o.trade_state.as_deref(), o.transaction_id.as_deref(), message, None),
        );
        let retry = (o.status != Status::Paid).then(|| text(self.locale, Text::TryAgain));
        self.fx.done(&json, retry, message);
    }
}

fn detail<'a>(
    trade_state: Option<&'a str>,
    transaction_id: Option<&'a str>,
    message: Option<&'a str>,
    reason: Option<&'a str>,
) -> [(&'static str, Option<&'a str>); 4] {
    [("tradeState", trade_state), ("transactionId", transaction_id), ("message", message), ("reason", reason)]
}

/// Milliseconds until the countdown's displayed second changes (it rounds up).
fn next_second(left: EpochMs) -> u32 {
    ((left - 1).rem_euclid(1000) + 1) as u32
}
