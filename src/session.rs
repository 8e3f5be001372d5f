//! The browser side of one checkout run: an inbox of events (timers, abort, page visibility,
//! the buyer's clicks) that the flows `await`, so each flow reads as straight-line async code
//! while still reacting to everything the page does.
//!
//! Owning all listeners and timers here means one `abort()` stops everything: the element
//! calls it when it is removed, `checkout()` when its handle is aborted.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

use wasm_bindgen::prelude::*;

/// Something that happened while a flow was waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The wait's own timeout.
    Timer(u32),
    /// Stop everything now.
    Abort,
    Hidden,
    Visible,
    /// The QR countdown reached zero.
    QrExpired,
    /// A flow's own timer set with [`Session::push_later`] (e.g. the H5 check window).
    Deadline,
    /// A button in the view.
    Action(Action),
}

/// The buttons the view offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// "I have paid": check again now.
    IHavePaid,
    /// "Pay again": a fresh payment URL.
    PayAgain,
    /// "Get a new QR code".
    RefreshQr,
}

#[derive(Default)]
struct Inner {
    queue: RefCell<Vec<Event>>,
    waker: RefCell<Option<Waker>>,
    aborted: Cell<bool>,
    timer_seq: Cell<u32>,
    /// The fetch in flight, aborted on `abort()` and when the page hides.
    request: RefCell<Option<web_sys::AbortController>>,
    listeners: RefCell<Vec<(web_sys::EventTarget, &'static str, Closure<dyn FnMut()>)>>,
}

/// A cheap handle; clones share the same inbox.
#[derive(Clone)]
pub struct Session(Rc<Inner>);

impl Session {
    /// Starts listening to page visibility (and `pageshow`, which fires when the buyer comes
    /// back from the H5 cashier to a page restored from the back-forward cache).
    pub fn new() -> Session {
        let session = Session(Rc::default());
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            let s = session.clone();
            let d = doc.clone();
            session.listen(doc.into(), "visibilitychange", move || {
                s.push(if d.hidden() {
                    Event::Hidden
                } else {
                    Event::Visible
                })
            });
            if let Some(w) = web_sys::window() {
                let s = session.clone();
                session.listen(w.into(), "pageshow", move || s.push(Event::Visible));
            }
        }
        session
    }

    fn listen(&self, target: web_sys::EventTarget, kind: &'static str, f: impl FnMut() + 'static) {
        let closure = Closure::<dyn FnMut()>::new(f);
        let _ = target.add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref());
        self.0.listeners.borrow_mut().push((target, kind, closure));
    }

    /// Whether the page is hidden right now.
    pub fn page_hidden(&self) -> bool {
        web_sys::window()
            .and_then(|w| w.document())
            .is_some_and(|d| d.hidden())
    }

    pub fn push(&self, event: Event) {
        if self.0.aborted.get() && event != Event::Abort {
            return;
        }
        self.0.queue.borrow_mut().push(event);
        if let Some(w) = self.0.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Stops the run: the pending wait ends with `Abort`, the fetch in flight is cancelled,
    /// listeners are removed. Safe to call twice.
    pub fn abort(&self) {
        if self.0.aborted.replace(true) {
            return;
        }
        self.cancel_request();
        for (target, kind, closure) in self.0.listeners.borrow_mut().drain(..) {
            let _ =
                target.remove_event_listener_with_callback(kind, closure.as_ref().unchecked_ref());
        }
        self.0.queue.borrow_mut().clear();
        self.push(Event::Abort);
    }

    pub fn aborted(&self) -> bool {
        self.0.aborted.get()
    }

    /// A fresh `AbortSignal` for the next request (cancelling any previous one).
    pub fn request_signal(&self) -> Option<web_sys::AbortSignal> {
        let controller = web_sys::AbortController::new().ok()?;
        let signal = controller.signal();
        if let Some(old) = self.0.request.borrow_mut().replace(controller) {
            old.abort();
        }
        Some(signal)
    }

    pub fn cancel_request(&self) {
        if let Some(c) = self.0.request.borrow_mut().take() {
            c.abort();
        }
    }

    /// The next event for which `wanted` holds (`Abort` always counts), waiting at most
    /// `timeout_ms` (then `Timer`). Events not wanted stay queued for a later wait.
    pub async fn next(&self, timeout_ms: Option<u32>, wanted: &dyn Fn(Event) -> bool) -> Event {
        let seq = self.0.timer_seq.get().wrapping_add(1);
        self.0.timer_seq.set(seq);
        let _timer = timeout_ms.map(|ms| {
            let s = self.clone();
            Timeout::start(ms, Closure::new(move || s.push(Event::Timer(seq))))
        });
        poll_fn(|cx| {
            self.take(cx.waker(), &|e| {
                e == Event::Abort || e == Event::Timer(seq) || wanted(e)
            })
        })
        .await
    }

    fn take(&self, waker: &Waker, wanted: &dyn Fn(Event) -> bool) -> Poll<Event> {
        let mut queue = self.0.queue.borrow_mut();
        // Stale timers of earlier waits are dropped rather than left to clog the queue.
        let seq = self.0.timer_seq.get();
        queue.retain(|e| !matches!(e, Event::Timer(s) if *s != seq));
        if let Some(i) = queue.iter().position(|e| wanted(*e)) {
            return Poll::Ready(queue.remove(i));
        }
        *self.0.waker.borrow_mut() = Some(waker.clone());
        Poll::Pending
    }

    /// Runs `work` until it finishes or an event for which `interrupts` holds (or `Abort`)
    /// arrives first; then `Err(event)` and `work` is dropped.
    pub async fn race<T>(
        &self,
        work: impl Future<Output = T>,
        interrupts: &dyn Fn(Event) -> bool,
    ) -> Result<T, Event> {
        let mut work = pin!(work);
        poll_fn(|cx| {
            if let Poll::Ready(v) = work.as_mut().poll(cx) {
                return Poll::Ready(Ok(v));
            }
            self.take(cx.waker(), &|e| e == Event::Abort || interrupts(e))
                .map(Err)
        })
        .await
    }

    /// Pushes `event` after `ms`, unless the run is over by then.
    pub fn push_later(&self, ms: u32, event: Event) {
        let s = self.clone();
        // A plain FnMut closure (freed with the JS function) rather than `once_into_js`, whose
        // FnOnce kind would add its own JS shim.
        let f = Closure::<dyn FnMut()>::new(move || s.push(event)).into_js_value();
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                f.unchecked_ref(),
                ms as i32,
            );
        }
    }
}

/// A `setTimeout` that is cleared, and its closure freed, when dropped (unlike
/// `Closure::once_into_js`, which leaks when the timer never fires).
pub struct Timeout {
    handle: Option<i32>,
    _callback: Closure<dyn FnMut()>,
}

impl Timeout {
    pub fn start(ms: u32, callback: Closure<dyn FnMut()>) -> Timeout {
        let handle = web_sys::window().and_then(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(
                callback.as_ref().unchecked_ref(),
                ms.min(i32::MAX as u32) as i32,
            )
            .ok()
        });
        Timeout {
            handle,
            _callback: callback,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        if let (Some(handle), Some(w)) = (self.handle, web_sys::window()) {
            w.clear_timeout_with_handle(handle);
        }
    }
}

/// Milliseconds since the epoch from the browser clock.
pub fn now() -> i64 {
    js_sys::Date::now() as i64
}
