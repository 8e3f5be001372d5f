//! Whole checkout flows through the sans-IO run (`src/flow.rs`), with an exact clock: each
//! test plays the page (answers, timers, visibility, buttons, the bridge) and checks the
//! effects as the JS driver receives them (parsed from the run's JSON).

use serde_json::{json, Value};
use wxpay_checkout::backend::{BackendError, OrderStatus, Payment};
use wxpay_checkout::bridge::{BridgeError, BridgeResult, JsapiParams};
use wxpay_checkout::checkout::{redirect_hosts, Settings};
use wxpay_checkout::flow::{Action, Answer, Input, Run};
use wxpay_checkout::i18n::Locale;
use wxpay_checkout::PayMode;

const T0: i64 = 1_800_000_000_000;
const PAGE: &str = "https://shop.example/checkout?sku=7";

/// A page playing against one run.
struct Page {
    run: Run,
    now: i64,
    log: Vec<Value>,
}

fn settings() -> Settings {
    let mut s = Settings::default();
    s.poll.jitter = 0.0;
    s.poll.long_poll_s = 0;
    s.poll.interval_ms = 1_000;
    s
}

impl Page {
    fn new(mode: PayMode) -> Page {
        Page::with(mode, settings())
    }

    fn with(mode: PayMode, settings: Settings) -> Page {
        Page {
            run: Run::new("O-1".into(), mode, Locale::En, settings, "/api".into()),
            now: T0,
            log: vec![],
        }
    }

    fn step(&mut self, input: Input) -> Vec<Value> {
        let json = self.run.step(input, self.now, 0.5);
        let fx: Vec<Value> = serde_json::from_str(&json).expect("effects are JSON");
        self.log.extend(fx.iter().cloned());
        fx
    }

    fn start(&mut self, page: &str) -> Vec<Value> {
        self.step(Input::Start { page })
    }

    /// The id of the fetch among `fx` (there must be exactly one).
    fn fetch_id(fx: &[Value]) -> u32 {
        let fetches: Vec<_> = fx.iter().filter(|e| e["t"] == "fetch").collect();
        assert_eq!(fetches.len(), 1, "{fx:?}");
        fetches[0]["id"].as_u64().unwrap() as u32
    }

    fn answer(&mut self, fx: &[Value], answer: Answer) -> Vec<Value> {
        let id = Page::fetch_id(fx);
        self.step(Input::Answer { id, answer })
    }

    fn status(&mut self, fx: &[Value], state: &str) -> Vec<Value> {
        let order = OrderStatus { state: state.into(), transaction_id: Some("4200".into()), paid_at: None };
        self.answer(fx, Answer::Status(Ok(order)))
    }

    /// Advances the clock to the timer among `fx` with the given `ms` and fires it.
    fn fire(&mut self, fx: &[Value], ms: u64) -> Vec<Value> {
        let timer = fx.iter().find(|e| e["t"] == "timer" && e["ms"] == ms).unwrap_or_else(|| panic!("no {ms} ms timer in {fx:?}"));
        self.now += ms as i64;
        self.step(Input::Timer(timer["id"].as_u64().unwrap() as u32))
    }
}

fn kinds(fx: &[Value]) -> Vec<String> {
    fx.iter()
        .map(|e| match e["t"].as_str().unwrap() {
            "state" => ["state:", e["state"].as_str().unwrap()].concat(),
            "fetch" => ["fetch:", e["call"].as_str().unwrap()].concat(),
            t => t.to_owned(),
        })
        .collect()
}

fn find<'a>(fx: &'a [Value], t: &str) -> &'a Value {
    fx.iter().find(|e| e["t"] == t).unwrap_or_else(|| panic!("no {t} in {fx:?}"))
}

fn native_payment(expires_at: Option<&str>) -> Answer {
    Answer::Pay(Ok(Payment {
        code_url: Some("weixin://wxpay/bizpayurl?pr=abc123".into()),
        expires_at: expires_at.map(Into::into),
        ..Payment::default()
    }))
}

fn http(status: u16, retry_after_ms: Option<u32>) -> BackendError {
    BackendError::Http { status, code: "E".into(), message: "m".into(), retry_after_ms }
}

fn params() -> JsapiParams {
    JsapiParams {
        app_id: "wxd678efh567hg6787".into(),
        time_stamp: "1414561699".into(),
        nonce_str: "5K8264ILTKCH16CQ2502SI8ZNMTM67VS".into(),
        package: "prepay_id=wx201410272009395522657a690389285100".into(),
        sign_type: "RSA".into(),
        pay_sign: "c2lnbmF0dXJl".into(),
    }
}

#[test]
fn native_shows_the_qr_polls_and_ends_paid_only_on_success() {
    let mut p = Page::new(PayMode::Native);
    let fx = p.start(PAGE);
    assert_eq!(kinds(&fx), ["state:preparing", "fetch:pay"]);
    assert_eq!(fx[0]["detail"], json!({"state": "preparing", "mode": "native", "orderId": "O-1"}));
    assert_eq!(fx[1]["url"], "/api/orders/O-1/pay");
    assert_eq!(fx[1]["body"], json!({"mode": "native"}));

    // Two minutes left (the backend's clock, RFC 3339).
    let fx = p.answer(&fx, native_payment(Some("2027-01-15T08:02:00Z")));
    assert_eq!(kinds(&fx), ["note", "state:scanning", "qr", "timer", "fetch:status"]);
    let expires = 1_800_000_120_000i64;
    assert_eq!(fx[1]["detail"]["codeUrl"], "weixin://wxpay/bizpayurl?pr=abc123");
    assert_eq!(fx[1]["detail"]["expiresAt"], expires);
    let qr = &fx[2];
    assert!(qr["svg"].as_str().unwrap().starts_with("<svg"), "{qr}");
    assert_eq!((qr["time"].as_str(), qr["say"].as_str()), (Some("02:00"), Some("QR code valid for 2 minutes more")));
    assert_eq!(fx[4]["url"], "/api/orders/O-1");

    // Still payable: wait the interval, ask again; the countdown ticks meanwhile.
    let fx2 = p.status(&fx, "NOTPAY");
    assert_eq!(kinds(&fx2), ["note", "timer"]);
    let tick = p.fire(&fx, 1000);
    assert_eq!(tick[0], json!({"t": "tick", "time": "01:59", "say": null}));
    p.now -= 1000;
    let fx3 = p.fire(&fx2, 1000);
    assert_eq!(kinds(&fx3), ["fetch:status"]);
    // USERPAYING is not paid.
    let fx4 = p.status(&fx3, "USERPAYING");
    assert!(!kinds(&fx4).iter().any(|k| k.starts_with("state:")));
    let fx5 = p.fire(&fx4, 1000);
    let end = p.status(&fx5, "SUCCESS");
    assert_eq!(kinds(&end), ["note", "state:paid", "done"]);
    assert_eq!(
        end[2]["outcome"],
        json!({"status": "paid", "orderId": "O-1", "mode": "native",
               "detail": {"tradeState": "SUCCESS", "transactionId": "4200", "message": null, "reason": null}})
    );
    assert_eq!(end[2]["retry"], Value::Null);
    // Over: nothing more happens.
    assert_eq!(p.run.step(Input::Visible, p.now, 0.5), "[]");
}

#[test]
fn an_expired_qr_refreshes_by_itself_then_asks_the_buyer() {
    let mut s = settings();
    s.auto_refresh = 1;
    s.poll.interval_ms = 60_000;
    s.poll.max_interval_ms = 60_000;
    let mut p = Page::with(PayMode::Native, s);
    let fx = p.start(PAGE);
    // No expires_at: WeChat's two hours. A code the backend says is already over still gets 5 s.
    let fx = p.answer(&fx, native_payment(Some("2020-01-01T00:00:00Z")));
    assert_eq!(fx[1]["detail"]["expiresAt"], T0 + 5_000);
    let mut tick = fx.clone();
    for left in ["00:04", "00:03", "00:02", "00:01"] {
        tick = p.fire(&tick, 1000);
        assert_eq!(tick[0]["time"], left);
    }
    let fx = p.fire(&tick, 1000);
    // Expired: a fresh code by itself (the status check in flight is cancelled).
    assert_eq!(kinds(&fx), ["tick", "cancel", "state:preparing", "fetch:pay"]);
    let fx = p.answer(&fx, native_payment(Some("2020-01-01T00:00:00Z")));
    let mut tick = fx.clone();
    for _ in 0..4 {
        tick = p.fire(&tick, 1000);
    }
    let fx = p.fire(&tick, 1000);
    // The second expiry in a row: dim it, offer a new one, keep polling (a late scan may pay).
    assert_eq!(kinds(&fx), ["tick", "cancel", "qr-expired", "buttons", "fetch:status"]);
    assert_eq!(fx[3]["list"], json!([["refresh-qr", "Get a new QR code"]]));
    let fx = p.step(Input::Action(Action::RefreshQr));
    assert_eq!(kinds(&fx), ["cancel", "state:preparing", "fetch:pay"]);
}

#[test]
fn a_page_back_in_view_while_a_new_code_is_ordered_polls_again() {
    let mut s = settings();
    s.poll.interval_ms = 60_000;
    s.poll.max_interval_ms = 60_000;
    let mut p = Page::with(PayMode::Native, s);
    let fx = p.start(PAGE);
    let fx = p.answer(&fx, native_payment(Some("2020-01-01T00:00:00Z")));
    p.step(Input::Hidden);
    let mut tick = fx.clone();
    for _ in 0..5 {
        tick = p.fire(&tick, 1000);
    }
    // Expired while hidden: a new code is ordered; the buyer comes back meanwhile.
    assert_eq!(kinds(&tick), ["tick", "state:preparing", "fetch:pay"]);
    assert_eq!(kinds(&p.step(Input::Visible)), Vec::<String>::new());
    let fx = p.answer(&tick, native_payment(None));
    assert_eq!(kinds(&fx), ["note", "state:scanning", "qr", "timer", "fetch:status"]);
}

#[test]
fn pay_retries_transient_errors_with_backoff_and_retry_after_then_gives_up() {
    let mut p = Page::new(PayMode::Native);
    let fx = p.start(PAGE);
    let fx = p.answer(&fx, Answer::Pay(Err(http(503, Some(3_000)))));
    assert_eq!(kinds(&fx), ["note", "timer"]);
    assert_eq!(fx[0]["text"], "Connection trouble. Retrying…");
    let fx = p.fire(&fx, 3_000);
    assert_eq!(kinds(&fx), ["fetch:pay"]);
    let fx = p.answer(&fx, Answer::Pay(Err(BackendError::Network("offline".into()))));
    let fx = p.fire(&fx, 2_000);
    let fx = p.answer(&fx, Answer::Pay(Err(http(500, None))));
    let fx = p.fire(&fx, 4_000);
    let end = p.answer(&fx, Answer::Pay(Err(http(502, None))));
    assert_eq!(kinds(&end), ["state:failed", "done"]);
    assert_eq!(end[1]["outcome"]["status"], "failed");
    assert_eq!(end[1]["message"], "the merchant backend answered HTTP 502 E: m");
    assert_eq!(end[1]["retry"], "Try again");
    // A 400 is not retried.
    let mut p = Page::new(PayMode::Native);
    let fx = p.start(PAGE);
    assert_eq!(kinds(&p.answer(&fx, Answer::Pay(Err(http(400, None))))), ["state:failed", "done"]);
}

#[test]
fn jsapi_goes_through_oauth_and_comes_back_with_the_code() {
    let mut p = Page::new(PayMode::Jsapi);
    let fx = p.start(PAGE);
    assert_eq!(fx[1]["body"], json!({"mode": "jsapi", "return_url": "https://shop.example/checkout?sku=7&wxpay_order=O-1"}));
    let oauth = "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx1&scope=snsapi_base";
    let fx = p.answer(&fx, Answer::Pay(Err(BackendError::OpenIdRequired { authorize_url: oauth.into() })));
    assert_eq!(kinds(&fx), ["state:authorizing", "go", "timer"]);
    assert_eq!(fx[0]["detail"]["authorizeUrl"], oauth);
    assert_eq!(fx[1]["url"], oauth);
    // Still on the page 15 s later: the navigation did not happen.
    let end = p.fire(&fx, 15_000);
    assert_eq!(end[1]["message"], "WeChat's OAuth page did not open");

    // Back from OAuth: the code goes to the backend and out of the address bar.
    let mut p = Page::new(PayMode::Jsapi);
    let fx = p.start("https://shop.example/checkout?sku=7&wxpay_order=O-1&code=C0DE&state=s");
    assert_eq!(kinds(&fx), ["replace", "state:preparing", "fetch:pay"]);
    assert_eq!(fx[0]["url"], "https://shop.example/checkout?sku=7&wxpay_order=O-1");
    assert_eq!(fx[2]["body"]["code"], "C0DE");
    // Asking for the openid again after the round trip is a backend misconfiguration.
    let end = p.answer(&fx, Answer::Pay(Err(BackendError::OpenIdRequired { authorize_url: oauth.into() })));
    assert!(end[1]["message"].as_str().unwrap().contains("check its OAuth appid/secret"));
}

#[test]
fn back_from_oauth_without_a_code_fails_instead_of_looping() {
    let mut p = Page::new(PayMode::Jsapi);
    let end = p.start("https://shop.example/checkout?wxpay_order=O-1&state=s1");
    assert_eq!(kinds(&end), ["state:failed", "done"]);
    assert!(end[1]["message"].as_str().unwrap().contains("without a code"), "{end:?}");
    // A reload after a good round trip (code and state already removed) just pays.
    let mut p = Page::new(PayMode::Jsapi);
    assert_eq!(kinds(&p.start("https://shop.example/checkout?wxpay_order=O-1")), ["state:preparing", "fetch:pay"]);
}

#[test]
fn oauth_and_h5_urls_must_be_on_the_allow_list() {
    let mut p = Page::new(PayMode::Jsapi);
    let fx = p.start(PAGE);
    let evil = "https://evil.example/authorize";
    let end = p.answer(&fx, Answer::Pay(Err(BackendError::OpenIdRequired { authorize_url: evil.into() })));
    assert_eq!(kinds(&end), ["state:failed", "done"]);
    assert!(end[1]["message"].as_str().unwrap().contains("evil.example"), "{end:?}");

    let mut p = Page::new(PayMode::H5);
    let fx = p.start(PAGE);
    let end = p.answer(&fx, Answer::Pay(Ok(Payment { h5_url: Some("http://wx.tenpay.com/x".into()), ..Payment::default() })));
    assert!(end.last().unwrap()["message"].as_str().unwrap().contains("https"), "{end:?}");
}

fn jsapi_paying() -> (Page, Vec<Value>) {
    let mut p = Page::new(PayMode::Jsapi);
    let fx = p.start("https://shop.example/?wxpay_order=O-1&code=C");
    let fx = p.answer(&fx, Answer::Pay(Ok(Payment { jsapi: Some(params()), ..Payment::default() })));
    (p, fx)
}

#[test]
fn jsapi_bridge_ok_is_only_a_hint_the_backend_decides() {
    let (mut p, fx) = jsapi_paying();
    assert_eq!(kinds(&fx), ["note", "state:paying", "bridge"]);
    assert_eq!(fx[2]["params"]["package"], "prepay_id=wx201410272009395522657a690389285100");
    assert_eq!(fx[2]["params"].as_object().unwrap().len(), 6);
    assert_eq!(fx[2]["timeout"], 5000);
    let fx = p.step(Input::Bridge(Ok(BridgeResult::Ok)));
    assert_eq!(kinds(&fx), ["state:confirming", "fetch:status"]);
    // The bridge said ok but the order is unpaid: keep confirming, never "paid".
    let mut fx = fx;
    for _ in 0..5 {
        let next = p.status(&fx, "NOTPAY");
        assert!(!p.run.is_over());
        fx = p.fire(&next, 1000);
    }
    assert!(!p.log.iter().any(|e| e["state"] == "paid"));
    let end = p.status(&fx, "SUCCESS");
    assert_eq!(end[2]["outcome"]["status"], "paid");
}

#[test]
fn jsapi_cancel_and_failures_are_checked_once_then_reported() {
    let (mut p, _) = jsapi_paying();
    let fx = p.step(Input::Bridge(Ok(BridgeResult::Cancel)));
    assert_eq!(kinds(&fx), ["fetch:status"]);
    let end = p.status(&fx, "NOTPAY");
    assert_eq!(end.last().unwrap()["outcome"]["status"], "cancelled");
    // Cancel, but the backend already has SUCCESS (WeChat's answer is not guaranteed).
    let (mut p, _) = jsapi_paying();
    let fx = p.step(Input::Bridge(Ok(BridgeResult::Cancel)));
    assert_eq!(p.status(&fx, "SUCCESS").last().unwrap()["outcome"]["status"], "paid");
    let (mut p, _) = jsapi_paying();
    let fx = p.step(Input::Bridge(Ok(BridgeResult::NotSupported)));
    let end = p.answer(&fx, Answer::Status(Err(BackendError::Network("x".into()))));
    assert!(end[1]["message"].as_str().unwrap().contains("fail_nosupport"));
    let (mut p, _) = jsapi_paying();
    let end = p.step(Input::Bridge(Err(BridgeError::NotReady { waited_ms: 0 })));
    assert_eq!(
        end[1]["message"],
        "WeixinJSBridge did not become ready within 5000 ms: JSAPI payments only work inside the WeChat app (use mode \"h5\" or \"native\" elsewhere)"
    );
}

#[test]
fn bad_jsapi_parameters_never_reach_the_bridge() {
    let mut p = Page::new(PayMode::Jsapi);
    let fx = p.start("https://shop.example/?wxpay_order=O-1&code=C");
    let bad = JsapiParams { package: "wx2014".into(), ..params() };
    let end = p.answer(&fx, Answer::Pay(Ok(Payment { jsapi: Some(bad), ..Payment::default() })));
    assert_eq!(kinds(&end), ["note", "state:failed", "done"]);
    assert!(end[2]["message"].as_str().unwrap().contains("package must be"), "{end:?}");
}

#[test]
fn h5_redirects_and_on_return_checks_then_offers_two_choices() {
    let mut s = settings();
    s.redirect_hosts = redirect_hosts(["127.0.0.1:8080"]);
    let mut p = Page::with(PayMode::H5, s.clone());
    let fx = p.start(PAGE);
    assert_eq!(fx[1]["body"]["return_url"], "https://shop.example/checkout?sku=7&wxpay_order=O-1");
    let cashier = "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=1&package=2";
    let fx = p.answer(&fx, Answer::Pay(Ok(Payment { h5_url: Some(cashier.into()), ..Payment::default() })));
    assert_eq!(kinds(&fx), ["note", "state:redirecting", "go", "timer"]);
    assert_eq!(fx[2]["url"], cashier);
    // Restored from the back-forward cache: carry on as a return.
    let fx = p.step(Input::Visible);
    assert_eq!(kinds(&fx), ["state:checking", "timer", "fetch:status"]);

    // A fresh page load after the return.
    let mut p = Page::with(PayMode::H5, s);
    let fx = p.start("https://shop.example/checkout?sku=7&wxpay_order=O-1");
    assert_eq!(kinds(&fx), ["state:checking", "timer", "fetch:status"]);
    p.status(&fx, "NOTPAY");
    let fx = p.fire(&fx, 6_000);
    // The window is over (the wait in progress ends): both choices, and a check at once.
    assert_eq!(kinds(&fx), ["state:unconfirmed", "buttons", "fetch:status"]);
    assert_eq!(fx[1]["list"], json!([["i-have-paid", "I have paid"], ["pay-again", "Pay again"]]));
    // "I have paid": checking again, at once.
    let fx = p.step(Input::Action(Action::IHavePaid));
    assert_eq!(kinds(&fx), ["cancel", "state:checking", "timer", "fetch:status"]);
    // "Pay again": a fresh h5_url (one lives five minutes).
    let fx = p.step(Input::Action(Action::PayAgain));
    assert_eq!(kinds(&fx), ["cancel", "state:preparing", "fetch:pay"]);
    let fx = p.answer(&fx, Answer::Pay(Ok(Payment { h5_url: Some("http://127.0.0.1:8080/sim/checkmweb".into()), ..Payment::default() })));
    assert_eq!(kinds(&fx), ["note", "state:redirecting", "go", "timer"]);
    let fx = p.step(Input::NavigationFailed);
    assert_eq!(fx[1]["message"], "the browser refused to open the WeChat cashier");
}

#[test]
fn mini_program_hands_off_with_the_order_and_polls() {
    let mut p = Page::new(PayMode::MiniProgram);
    let fx = p.start(PAGE);
    assert_eq!(kinds(&fx), ["mini", "timer"]);
    assert_eq!(fx[0]["url"], "/pages/pay/index?order_id=O-1");
    let fx = p.fire(&fx, 0);
    assert_eq!(kinds(&fx), ["state:paying", "fetch:status"]);
    assert_eq!(fx[0]["detail"]["miniprogramPage"], "/pages/pay/index?order_id=O-1");
    assert_eq!(p.status(&fx, "SUCCESS")[2]["outcome"]["status"], "paid");

    let mut p = Page::new(PayMode::MiniProgram);
    p.start(PAGE);
    // A missing SDK answers before the hand-off counts: no "paying", nothing polled.
    let end = p.step(Input::MiniProgramFailed { sdk_missing: true });
    assert_eq!(kinds(&end), ["state:failed", "done"]);
    assert!(end[1]["message"].as_str().unwrap().contains("jweixin"));
}

#[test]
fn a_hidden_page_stops_polling_and_checks_at_once_when_visible() {
    let mut p = Page::new(PayMode::MiniProgram);
    let fx = p.start(PAGE);
    let fx = p.fire(&fx, 0);
    // Hidden while a check is in flight: it is cancelled and nothing else is sent.
    assert_eq!(kinds(&p.step(Input::Hidden)), ["cancel"]);
    // Its late answer is ignored.
    assert_eq!(p.status(&fx, "SUCCESS"), Vec::<Value>::new());
    p.now += 60_000;
    let fx = p.step(Input::Visible);
    assert_eq!(kinds(&fx), ["fetch:status"]);
    // Hidden while waiting: the timer's firing sends nothing.
    let wait = p.status(&fx, "NOTPAY");
    assert_eq!(kinds(&p.step(Input::Hidden)), Vec::<String>::new());
    assert_eq!(kinds(&p.fire(&wait, 1000)), Vec::<String>::new());
    assert_eq!(kinds(&p.step(Input::Visible)), ["fetch:status"]);
}

#[test]
fn polling_backs_off_on_errors_honours_retry_after_and_stops_at_the_maximum() {
    let mut s = settings();
    s.poll.max_duration_ms = 20_000;
    let mut p = Page::with(PayMode::MiniProgram, s);
    let fx = p.start(PAGE);
    let fx = p.fire(&fx, 0);
    let fx = p.answer(&fx, Answer::Status(Err(http(429, Some(7_000)))));
    assert_eq!(kinds(&fx), ["note", "timer"]);
    assert_eq!(fx[1]["ms"], 7_000);
    let fx = p.fire(&fx, 7_000);
    let fx = p.answer(&fx, Answer::Status(Err(http(503, None))));
    // Backoff after the second failure: 1000 × 1.5².
    assert_eq!(fx[1]["ms"], 2_250);
    let mut fx = p.fire(&fx, 2_250);
    // Until the maximum duration: then "expired", with the reason.
    let end = loop {
        let next = p.status(&fx, "NOTPAY");
        let ms = find(&next, "timer")["ms"].as_u64().unwrap();
        fx = p.fire(&next, ms);
        if p.run.is_over() {
            break fx;
        }
    };
    assert_eq!(end.last().unwrap()["outcome"]["status"], "expired");
    assert_eq!(p.now, T0 + 20_000);
    // A backend error that is not transient ends the run.
    let mut p = Page::new(PayMode::MiniProgram);
    let fx = p.start(PAGE);
    let fx = p.fire(&fx, 0);
    let end = p.answer(&fx, Answer::Status(Err(BackendError::BadResponse("the order has no state".into()))));
    assert_eq!(end[1]["message"], "the merchant backend's answer is not what the checkout expects: the order has no state");
}

#[test]
fn abort_cancels_the_request_and_ends_cancelled_with_reason_aborted() {
    let mut p = Page::new(PayMode::Native);
    let fx = p.start(PAGE);
    let end = p.step(Input::Abort);
    assert_eq!(kinds(&end), ["cancel", "done"]);
    assert_eq!(
        end[1]["outcome"],
        json!({"status": "cancelled", "orderId": "O-1", "mode": "native",
               "detail": {"tradeState": null, "transactionId": null, "message": null, "reason": "aborted"}})
    );
    assert_eq!(p.answer(&fx, native_payment(None)), Vec::<Value>::new());
    // A run that must fail at start (a bad mode attribute) says why.
    let run = Run::new("O-2".into(), PayMode::Native, Locale::ZhCn, settings(), "/api".into()).failing("mode \"x\" is bad".into());
    let mut p = Page { run, now: T0, log: vec![] };
    let end = p.start(PAGE);
    assert_eq!(kinds(&end), ["state:failed", "done"]);
    assert_eq!(end[0]["text"], "支付失败");
    assert_eq!(end[0]["detail"]["message"], "mode \"x\" is bad");
}

#[test]
fn network_text_stays_text_in_the_effects() {
    let mut p = Page::new(PayMode::Native);
    let fx = p.start(PAGE);
    let nasty = "<img src=x onerror=alert(1)>";
    let json = p.run.step(
        Input::Answer { id: Page::fetch_id(&fx), answer: Answer::Pay(Err(BackendError::BadResponse(nasty.into()))) },
        T0,
        0.5,
    );
    assert!(!json.contains('<'), "{json}");
    let end: Vec<Value> = serde_json::from_str(&json).unwrap();
    assert!(end[1]["message"].as_str().unwrap().ends_with(nasty));
}
