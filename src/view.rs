//! The checkout panel as data: the drawing effects of a run folded into one [`View`], which
//! the driver hands to the JS panel (`pkg-template/checkout.js`) after every step. The panel
//! only puts it on screen; what it shows — which mark, which buttons, whether the code is
//! dimmed — is decided here, natively tested.

use serde::Serialize;

use crate::checkout::State;
use crate::effect::{Button, Effect};

/// Everything the panel shows.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct View {
    /// The `data-state` of the panel (styling hook).
    pub state: Option<State>,
    /// The `lang` of the panel.
    pub lang: &'static str,
    /// The status line.
    pub status: String,
    pub body: Body,
    pub note: Option<String>,
    pub buttons: Vec<Button>,
}

/// What is under the status line.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Body {
    /// Nothing (back from H5, waiting for the buyer's choice).
    #[default]
    Empty,
    /// Something is under way.
    Spinner,
    /// A final state: `✓` paid, `!` otherwise.
    Mark { mark: &'static str },
    /// The Native QR code with its countdown; `say` is for the live region.
    #[serde(rename_all = "camelCase")]
    Qr {
        svg: String,
        code_url: String,
        caption: String,
        time: String,
        say: Option<String>,
        expired: bool,
    },
}

impl View {
    /// Folds one effect in; `true` if the view changed (the panel needs drawing).
    pub fn apply(&mut self, effect: &Effect) -> bool {
        match effect {
            Effect::State {
                state,
                text,
                lang,
                detail,
            } => {
                self.state = Some(*state);
                self.lang = lang;
                self.status = text.clone();
                // A new state starts without buttons; a re-labelled one keeps its body.
                if detail.is_some() {
                    self.buttons.clear();
                    self.body = match state {
                        // The `qr` effect that follows fills the body.
                        State::Scanning => std::mem::take(&mut self.body),
                        State::Unconfirmed => Body::Empty,
                        State::Paid => Body::Mark { mark: "✓" },
                        s if s.is_final() => Body::Mark { mark: "!" },
                        _ => Body::Spinner,
                    };
                }
            }
            Effect::Note { text } => self.note = text.clone(),
            Effect::Qr {
                svg,
                code_url,
                caption,
                time,
                say,
            } => {
                let say = say.clone().or_else(|| match &self.body {
                    Body::Qr { say, .. } => say.clone(),
                    _ => None,
                });
                self.body = Body::Qr {
                    svg: svg.clone(),
                    code_url: code_url.clone(),
                    caption: caption.clone(),
                    time: time.clone(),
                    say,
                    expired: false,
                };
            }
            Effect::Tick { time, say } => {
                if let Body::Qr {
                    time: shown,
                    say: said,
                    ..
                } = &mut self.body
                {
                    *shown = time.clone();
                    if say.is_some() {
                        *said = say.clone();
                    }
                }
            }
            Effect::QrExpired { text } => {
                self.status = text.clone();
                if let Body::Qr { expired, .. } = &mut self.body {
                    *expired = true;
                }
            }
            Effect::Buttons { list } => self.buttons = list.clone(),
            _ => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effect::StateDetail;
    use crate::flow::Action;

    fn state(state: State, detail: bool) -> Effect {
        Effect::State {
            state,
            text: state.as_str().into(),
            lang: "en",
            detail: detail.then(StateDetail::default),
        }
    }

    #[test]
    fn states_choose_the_body_and_clear_the_buttons() {
        let mut v = View::default();
        assert!(v.apply(&state(State::Preparing, true)));
        assert_eq!(v.body, Body::Spinner);
        v.apply(&Effect::Buttons {
            list: vec![Button {
                action: Action::Retry,
                label: "Try again",
            }],
        });
        v.apply(&state(State::Failed, true));
        assert_eq!(
            (v.body.clone(), v.buttons.len()),
            (Body::Mark { mark: "!" }, 0)
        );
        v.apply(&state(State::Paid, true));
        assert_eq!(v.body, Body::Mark { mark: "✓" });
        v.apply(&state(State::Unconfirmed, true));
        assert_eq!(v.body, Body::Empty);
        assert!(!v.apply(&Effect::Cancel), "not a drawing effect");
    }

    #[test]
    fn the_qr_counts_down_keeps_its_last_announcement_and_dims() {
        let mut v = View::default();
        v.apply(&state(State::Scanning, true));
        let qr = Effect::Qr {
            svg: "<svg/>".into(),
            code_url: "weixin://x".into(),
            caption: "c".into(),
            time: "01:00".into(),
            say: Some("1 minute".into()),
        };
        v.apply(&qr);
        v.apply(&Effect::Tick {
            time: "00:59".into(),
            say: None,
        });
        let Body::Qr {
            time, say, expired, ..
        } = &v.body
        else {
            panic!("{v:?}")
        };
        assert_eq!(
            (time.as_str(), say.as_deref(), *expired),
            ("00:59", Some("1 minute"), false)
        );
        // Re-labelled (another language): the code stays.
        v.apply(&Effect::Buttons {
            list: vec![Button {
                action: Action::RefreshQr,
                label: "New code",
            }],
        });
        v.apply(&state(State::Scanning, false));
        assert!(matches!(v.body, Body::Qr { .. }) && v.buttons.len() == 1);
        v.apply(&Effect::QrExpired {
            text: "expired".into(),
        });
        assert!(matches!(v.body, Body::Qr { expired: true, .. }));
        assert_eq!(v.status, "expired");
    }
}
