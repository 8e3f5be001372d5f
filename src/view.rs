//! What the buyer sees of a checkout: one panel with a status line, a body (the QR code and
//! its countdown, a spinner) and buttons, drawn into the element's shadow root or the
//! `container` given to `checkout()`.
//!
//! Every string goes in through `textContent` (never `innerHTML`), so nothing from the
//! network can become markup; the only HTML written is our own SVG from `qr`. Styling is
//! open to pages through CSS custom properties (`--wxpay-accent`, `--wxpay-text`, …, listed
//! in the README), and parts carry `part=` names for `::part()`.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Node};

use crate::checkout::State;
use crate::clock::EpochMs;
use crate::i18n::{text, Locale, Text};
use crate::mode::PayMode;
use crate::native::Countdown;
use crate::session::{Action, Session};

const CSS: &str = "\
.wxpay-panel{box-sizing:border-box;font:var(--wxpay-font,15px/1.5 -apple-system,BlinkMacSystemFont,\"PingFang SC\",\"Microsoft YaHei\",\"Segoe UI\",sans-serif);color:var(--wxpay-text,#1f2329);background:var(--wxpay-bg,#fff);border:1px solid var(--wxpay-border,#e5e6eb);border-radius:var(--wxpay-radius,12px);padding:20px;text-align:center;max-width:var(--wxpay-max-width,360px);margin:0 auto}\
.wxpay-status{margin:0 0 12px;font-weight:600;font-size:1.05em}\
.wxpay-note{margin:8px 0 0;color:var(--wxpay-muted,#86909c);font-size:.85em}\
.wxpay-note:empty{display:none}\
.wxpay-qr{width:var(--wxpay-qr-size,200px);height:var(--wxpay-qr-size,200px);margin:0 auto;padding:8px;background:#fff;border:1px solid var(--wxpay-border,#e5e6eb);border-radius:8px;transition:opacity .2s}\
.wxpay-qr svg{display:block;width:100%;height:100%}\
.wxpay-expired .wxpay-qr{opacity:.15}\
.wxpay-countdown{margin:10px 0 0;color:var(--wxpay-muted,#86909c);font-size:.9em}\
.wxpay-timer{margin-left:.4em;font-variant-numeric:tabular-nums;color:var(--wxpay-text,#1f2329)}\
.wxpay-actions{display:flex;flex-wrap:wrap;gap:8px;justify-content:center;margin-top:14px}\
.wxpay-actions:empty{display:none}\
.wxpay-actions button{font:inherit;cursor:pointer;border-radius:8px;padding:10px 18px;border:1px solid var(--wxpay-accent,#07c160);background:var(--wxpay-accent,#07c160);color:var(--wxpay-on-accent,#fff);min-height:44px}\
.wxpay-actions button+button{background:transparent;color:var(--wxpay-accent,#07c160)}\
.wxpay-spin{width:28px;height:28px;margin:6px auto;border:3px solid var(--wxpay-border,#e5e6eb);border-top-color:var(--wxpay-accent,#07c160);border-radius:50%;animation:wxpay-spin 1s linear infinite}\
@keyframes wxpay-spin{to{transform:rotate(360deg)}}\
@media (prefers-reduced-motion:reduce){.wxpay-spin{animation:none}}\
.wxpay-mark{width:48px;height:48px;margin:4px auto 8px;border-radius:50%;display:flex;align-items:center;justify-content:center;color:#fff;font-size:28px;line-height:1}\
[data-state=paid] .wxpay-mark{background:var(--wxpay-accent,#07c160)}\
[data-state=failed] .wxpay-mark,[data-state=expired] .wxpay-mark{background:var(--wxpay-error,#f53f3f)}\
[data-state=cancelled] .wxpay-mark{background:var(--wxpay-muted,#86909c)}\
[data-state=paid] .wxpay-status{color:var(--wxpay-accent,#07c160)}\
.wxpay-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}";

/// The panel of one run. Dropping it does not remove it: [`View::remove`] does.
pub struct View {
    doc: Document,
    panel: Element,
    status: Element,
    body: Element,
    note: Element,
    actions: Element,
    locale: Locale,
    countdown: RefCell<Option<Countdown>>,
    clicks: RefCell<Vec<Closure<dyn FnMut()>>>,
}

impl View {
    /// Appends a styled panel to `container` (an element or a shadow root).
    pub fn new(container: &Node, locale: Locale) -> Option<View> {
        let doc = web_sys::window()?.document()?;
        let el = |tag: &str, class: &str| -> Option<Element> {
            let e = doc.create_element(tag).ok()?;
            let _ = e.set_attribute("class", class);
            Some(e)
        };
        let style = doc.create_element("style").ok()?;
        style.set_text_content(Some(CSS));
        let panel = el("div", "wxpay-panel")?;
        let _ = panel.set_attribute("part", "panel");
        let _ = panel.set_attribute("lang", locale.tag());
        let status = el("p", "wxpay-status")?;
        let _ = status.set_attribute("part", "status");
        // The status line is what screen readers should hear on every state change.
        let _ = status.set_attribute("role", "status");
        let _ = status.set_attribute("aria-live", "polite");
        let body = el("div", "wxpay-body")?;
        let note = el("p", "wxpay-note")?;
        let _ = note.set_attribute("aria-live", "polite");
        let actions = el("div", "wxpay-actions")?;
        for child in [&style, &status, &body, &note, &actions] {
            let _ = panel.append_child(child);
        }
        let _ = container.append_child(&panel);
        Some(View {
            doc,
            panel,
            status,
            body,
            note,
            actions,
            locale,
            countdown: RefCell::default(),
            clicks: RefCell::default(),
        })
    }

    /// Shows `state`: its sentence, a spinner or mark, and clears what belonged to the last one.
    pub fn show(&self, state: State, mode: PayMode) {
        let _ = self.panel.set_attribute("data-state", state.as_str());
        self.status
            .set_text_content(Some(text(self.locale, state.text(mode))));
        self.set_buttons(&[], None);
        if state == State::Scanning {
            return; // show_qr fills the body
        }
        self.countdown.borrow_mut().take();
        self.body.set_text_content(None);
        let _ = self.panel.set_attribute("class", "wxpay-panel");
        let mark = match state {
            State::Paid => Some("✓"),
            State::Failed | State::Expired | State::Cancelled => Some("!"),
            State::Unconfirmed => None,
            _ => {
                if let Ok(spin) = self.doc.create_element("div") {
                    let _ = spin.set_attribute("class", "wxpay-spin");
                    let _ = spin.set_attribute("aria-hidden", "true");
                    let _ = self.body.append_child(&spin);
                }
                None
            }
        };
        if let (Some(mark), Ok(e)) = (mark, self.doc.create_element("div")) {
            let _ = e.set_attribute("class", "wxpay-mark");
            let _ = e.set_attribute("aria-hidden", "true");
            e.set_text_content(Some(mark));
            let _ = self.body.append_child(&e);
        }
    }

    /// A secondary line (connection trouble, an error message); `None` clears it.
    pub fn note(&self, note: Option<Text>) {
        self.note
            .set_text_content(note.map(|t| text(self.locale, t)));
    }

    /// Shows a message that came from elsewhere (an error's text) — as text, never markup.
    pub fn note_text(&self, message: &str) {
        self.note.set_text_content(Some(message));
    }

    /// Draws the QR and its countdown; pushes `QrExpired` into `session` at zero.
    pub fn show_qr(
        &self,
        code_url: &str,
        expires_at: EpochMs,
        session: &Session,
    ) -> Result<(), String> {
        self.countdown.borrow_mut().take();
        self.body.set_text_content(None);
        let _ = self.panel.set_attribute("class", "wxpay-panel");
        let s = session.clone();
        let countdown = crate::native::mount(
            &self.doc,
            &self.body,
            code_url,
            expires_at,
            self.locale,
            Box::new(move || s.push(crate::session::Event::QrExpired)),
        )?;
        *self.countdown.borrow_mut() = Some(countdown);
        Ok(())
    }

    /// Dims an expired QR code (it must not be scanned) and offers a new one.
    pub fn qr_expired(&self, session: &Session) {
        self.countdown.borrow_mut().take();
        // The panel's whole class list is set: it only ever has these two (no classList import).
        let _ = self.panel.set_attribute("class", "wxpay-panel wxpay-expired");
        self.status.set_text_content(Some(text(self.locale, Text::QrExpired)));
        self.set_buttons(&[(Text::RefreshQr, Action::RefreshQr)], Some(session));
    }

    /// Replaces the buttons; each click pushes its action into `session`.
    pub fn set_buttons(&self, buttons: &[(Text, Action)], session: Option<&Session>) {
        self.actions.set_text_content(None);
        let mut clicks = self.clicks.borrow_mut();
        clicks.clear();
        let Some(session) = session else { return };
        for (label, action) in buttons {
            let Ok(button) = self.doc.create_element("button") else {
                continue;
            };
            let _ = button.set_attribute("type", "button");
            let _ = button.set_attribute("data-action", action_name(*action));
            button.set_text_content(Some(text(self.locale, *label)));
            let (s, action) = (session.clone(), *action);
            let click =
                Closure::<dyn FnMut()>::new(move || s.push(crate::session::Event::Action(action)));
            let _ =
                button.add_event_listener_with_callback("click", click.as_ref().unchecked_ref());
            let _ = self.actions.append_child(&button);
            clicks.push(click);
        }
    }

    /// A single button that calls `f` (the element's "try again" after a final state).
    pub fn offer(&self, label: Text, f: Box<dyn FnMut()>) {
        self.set_buttons(&[], None);
        let Ok(button) = self.doc.create_element("button") else {
            return;
        };
        let _ = button.set_attribute("type", "button");
        let _ = button.set_attribute("data-action", "retry");
        button.set_text_content(Some(text(self.locale, label)));
        let click = Closure::<dyn FnMut()>::new(f);
        let _ = button.add_event_listener_with_callback("click", click.as_ref().unchecked_ref());
        let _ = self.actions.append_child(&button);
        self.clicks.borrow_mut().push(click);
    }

    /// Takes the panel out of the page and stops its timer.
    pub fn remove(&self) {
        self.countdown.borrow_mut().take();
        self.panel.remove();
    }
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::IHavePaid => "i-have-paid",
        Action::PayAgain => "pay-again",
        Action::RefreshQr => "refresh-qr",
    }
}
