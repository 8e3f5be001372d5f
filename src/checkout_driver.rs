//! The wasm-only half of `checkout`: the context every flow gets, the polling loop and the
//! top-level `run`. Lives apart from the pure states so both files stay readable.

use std::rc::Rc;

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

use super::{mode_name, Outcome, Settings, State};
use crate::backend::{Backend, BackendError, PayRequest, Payment, Status};
use crate::i18n::{Locale, Text};
use crate::mode::PayMode;
use crate::poll::{Poller, Reply, Step};
use crate::session::{now, Action, Event, Session};
use crate::view::View;

/// Futures are boxed where they are awaited from several places, so the async state machine
/// of each is compiled once instead of being inlined into every caller (it halves the wasm).
pub type Boxed<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;

/// Called with the `detail` object of every state change.
pub type Report = Rc<dyn Fn(&JsValue)>;

/// How a flow ended: an outcome, or stopped from outside (nobody is listening any more).
pub enum End {
    Done(Outcome),
    Aborted,
}

/// A failed end with `message` (what went wrong, for developers). Not inlined: every flow
/// has several of these and each inlined copy costs wasm bytes.
#[inline(never)]
pub fn failed(message: &str) -> End {
    End::Done(Outcome::new(Status::Failed, Some(message.to_owned())))
}

impl From<Outcome> for End {
    fn from(o: Outcome) -> End {
        End::Done(o)
    }
}

/// What one run knows; flows borrow it.
pub struct Ctx {
    pub order_id: String,
    pub mode: PayMode,
    pub backend: Backend,
    pub session: Session,
    pub view: Option<Rc<View>>,
    pub locale: Locale,
    pub settings: Settings,
    pub report: Report,
}

/// What stopped a poll that has not reached a final state.
pub enum PollEnd {
    End(End),
    /// An event the flow asked to hear about.
    Event(Event),
}

impl Ctx {
    /// Enters `state` (not inlined, see [`failed`]): updates the view and reports `detail` = `{state, mode, orderId, …extra}`.
    #[inline(never)]
    pub fn enter(&self, state: State, extra: &[(&str, JsValue)]) {
        if let Some(view) = &self.view {
            view.show(state, self.mode);
        }
        let detail = Object::new();
        let set = |k: &str, v: &JsValue| {
            let _ = Reflect::set(&detail, &k.into(), v);
        };
        set("state", &state.as_str().into());
        set("mode", &mode_name(self.mode).into());
        set("orderId", &self.order_id.as_str().into());
        for (k, v) in extra {
            set(k, v);
        }
        (self.report)(&detail);
    }

    /// Asks the backend for a payment, retrying transient failures a few times.
    pub fn pay<'a>(
        &'a self,
        req: &'a PayRequest,
    ) -> Boxed<'a, Result<Payment, Result<BackendError, End>>> {
        Box::pin(self.pay_inner(req))
    }

    async fn pay_inner(&self, req: &PayRequest) -> Result<Payment, Result<BackendError, End>> {
        let mut delay = 1_000;
        for attempt in 0..4 {
            let signal = self.session.request_signal();
            let answer = self
                .session
                .race(self.backend.pay(&self.order_id, req, signal), &|_| false)
                .await;
            match answer {
                Err(_) => return Err(Err(End::Aborted)),
                Ok(Ok(payment)) => {
                    self.note(None);
                    return Ok(payment);
                }
                Ok(Err(e)) if e.is_transient() && attempt < 3 => {
                    self.note(Some(Text::Retrying));
                    let wait = e.retry_after_ms().unwrap_or(delay).max(delay);
                    if self.session.next(Some(wait), &|_| false).await == Event::Abort {
                        return Err(Err(End::Aborted));
                    }
                    delay *= 2;
                }
                Ok(Err(e)) => return Err(Ok(e)),
            }
        }
        Err(Ok(BackendError::Network("gave up".into())))
    }

    fn note(&self, text: Option<Text>) {
        if let Some(view) = &self.view {
            view.note(text);
        }
    }

    /// Polls the order until a final trade state, abort, the maximum duration, or an event
    /// for which `stop_on` holds. `poller` carries over between calls so the schedule (and
    /// the maximum duration) spans the whole run.
    pub fn poll<'a>(
        &'a self,
        poller: &'a mut Poller,
        stop_on: &'a dyn Fn(Event) -> bool,
    ) -> Boxed<'a, PollEnd> {
        Box::pin(self.poll_inner(poller, stop_on))
    }

    async fn poll_inner(&self, poller: &mut Poller, stop_on: &dyn Fn(Event) -> bool) -> PollEnd {
        let mut last_state: Option<String> = None;
        if self.session.page_hidden() {
            poller.hide();
        }
        let mut step = poller.due(now());
        loop {
            step = match step {
                Step::TimedOut => {
                    let message =
                        "the backend did not confirm a payment within the maximum polling time";
                    return PollEnd::End(
                        Outcome::new(Status::Expired, Some(message.into())).into(),
                    );
                }
                Step::Paused => match self
                    .session
                    .next(None, &|e| e == Event::Visible || stop_on(e))
                    .await
                {
                    Event::Abort => return PollEnd::End(End::Aborted),
                    Event::Visible => poller.visible(now()),
                    e => return PollEnd::Event(e),
                },
                Step::Wait { ms } => {
                    let wanted = &|e| {
                        matches!(
                            e,
                            Event::Hidden | Event::Visible | Event::Action(Action::IHavePaid)
                        ) || stop_on(e)
                    };
                    match self.session.next(Some(ms), wanted).await {
                        Event::Abort => return PollEnd::End(End::Aborted),
                        Event::Timer(_) | Event::Visible => poller.visible(now()),
                        Event::Hidden => {
                            poller.hide();
                            Step::Paused
                        }
                        Event::Action(Action::IHavePaid)
                            if !stop_on(Event::Action(Action::IHavePaid)) =>
                        {
                            poller.hurry();
                            poller.due(now())
                        }
                        e => return PollEnd::Event(e),
                    }
                }
                Step::Request { wait_s } => {
                    poller.sent(now(), wait_s);
                    let signal = self.session.request_signal();
                    let answer = self
                        .session
                        .race(self.backend.status(&self.order_id, wait_s, signal), &|e| {
                            e == Event::Hidden || stop_on(e)
                        })
                        .await;
                    match answer {
                        Err(Event::Abort) => return PollEnd::End(End::Aborted),
                        Err(Event::Hidden) => {
                            // Stop at once: a hidden page sends nothing, not even the answer's follow-up.
                            self.session.cancel_request();
                            poller.abandoned();
                            poller.hide();
                            Step::Paused
                        }
                        Err(e) => {
                            self.session.cancel_request();
                            poller.abandoned();
                            return PollEnd::Event(e);
                        }
                        Ok(Ok(order)) => {
                            self.note(None);
                            let state = order.state.clone();
                            if let Some(outcome) = Outcome::settled_by(order) {
                                return PollEnd::End(End::Done(outcome));
                            }
                            let changed = last_state.as_deref().is_some_and(|s| s != state);
                            last_state = Some(state);
                            poller.answered(
                                now(),
                                Reply::Pending { changed },
                                js_sys::Math::random(),
                            )
                        }
                        Ok(Err(e)) if e.is_transient() => {
                            self.note(Some(Text::Retrying));
                            poller.answered(
                                now(),
                                Reply::Failed {
                                    retry_after_ms: e.retry_after_ms(),
                                },
                                js_sys::Math::random(),
                            )
                        }
                        Ok(Err(e)) => return PollEnd::End(failed(&e.message())),
                    }
                }
            };
        }
    }

    /// One status check (after the pay sheet says cancel/fail, which WeChat does not
    /// guarantee): `Some` if the backend already has a final state.
    pub async fn check_once(&self) -> Option<End> {
        let signal = self.session.request_signal();
        match self
            .session
            .race(self.backend.status(&self.order_id, None, signal), &|_| {
                false
            })
            .await
        {
            Err(_) => Some(End::Aborted),
            Ok(Ok(order)) => Outcome::settled_by(order).map(End::Done),
            Ok(Err(_)) => None,
        }
    }

    pub fn poller(&self) -> Poller {
        Poller::new(self.settings.poll.clone(), now())
    }
}

/// The outcome as JS sees it: `{ status, orderId, mode, detail: { tradeState, transactionId,
/// message, reason } }`; an aborted run is `cancelled` with `reason: "aborted"`.
pub fn outcome_js(end: &End, order_id: &str, mode: PayMode) -> JsValue {
    let (status, outcome) = match end {
        End::Done(o) => (o.status.as_str(), Some(o)),
        End::Aborted => ("cancelled", None),
    };
    let obj = Object::new();
    let detail = Object::new();
    let set = |o: &Object, k: &str, v: JsValue| {
        let _ = Reflect::set(o, &k.into(), &v);
    };
    let opt = |v: Option<&String>| v.map_or(JsValue::NULL, |s| s.as_str().into());
    set(&obj, "status", status.into());
    set(&obj, "orderId", order_id.into());
    set(&obj, "mode", mode_name(mode).into());
    set(
        &detail,
        "tradeState",
        opt(outcome.and_then(|o| o.trade_state.as_ref())),
    );
    set(
        &detail,
        "transactionId",
        opt(outcome.and_then(|o| o.transaction_id.as_ref())),
    );
    set(
        &detail,
        "message",
        opt(outcome.and_then(|o| o.message.as_ref())),
    );
    set(
        &detail,
        "reason",
        if outcome.is_none() {
            "aborted".into()
        } else {
            JsValue::NULL
        },
    );
    set(&obj, "detail", detail.into());
    obj.into()
}

/// Runs the flow for `ctx.mode` to its end and reports the final state.
pub async fn run(ctx: &Ctx) -> End {
    let flow: Boxed<'_, End> = match ctx.mode {
        PayMode::Native => Box::pin(crate::native::flow(ctx)),
        PayMode::Jsapi => Box::pin(crate::jsapi::flow(ctx)),
        PayMode::H5 => Box::pin(crate::h5::flow(ctx)),
        PayMode::MiniProgram => Box::pin(crate::miniprogram::flow(ctx)),
    };
    let end = flow.await;
    if let End::Done(outcome) = &end {
        let mut extra = vec![];
        if let Some(m) = &outcome.message {
            extra.push(("message", JsValue::from_str(m)));
        }
        ctx.enter(State::of_status(outcome.status), &extra);
    }
    // Release listeners and timers whatever happened.
    ctx.session.abort();
    end
}
