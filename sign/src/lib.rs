//! Sans-IO WeChat Pay signing: API v2 (MD5 / HMAC-SHA256, XML) and API v3 (RSA, JSON).
//!
//! Bytes and values in, bytes and values out: no HTTP, no clock, no hidden randomness. Every
//! function that needs a time or a nonce takes it as a parameter ([`nonce::nonce_str`] makes
//! one), so results are exact and testable.
//!
//! # Map
//!
//! - [`v2`] — `stringA` and MD5/HMAC-SHA256 signs, constant-time verify, hardened XML, result
//!   checks, notification replies, JSAPI pay parameters, refund `req_info` decryption.
//! - [`v3`] — `Authorization` request signing (and its verification, for simulators),
//!   `Wechatpay-*` response/notification verification, AES-256-GCM resources, typed
//!   notifications, RSA pay parameters, RSA-OAEP for sensitive fields.
//! - [`keys`] — merchant private key (PKCS#8), WeChat public keys (certificate, SPKI or
//!   PKCS#1), the key set keyed by serial, the merchant signer. Keys are parsed once, at load.
//! - [`Certificate`] — what an X.509 certificate says: serial, validity ([`CertificateValidity`],
//!   also on [`PublicKey::certificate_validity`]), subject and CN, public key.
//! - [`nonce`] — random nonces from the OS RNG.
//! - [`PayParams`] — the six parameters a page passes to `getBrandWCPayRequest`.
//! - [`Error`] — the one error enum; messages say what to fix.
//!
//! Internal: `pem` (rustls-pki-types' PEM decoder, with our error messages; the PEM writer),
//! `certificate` (where [`Certificate`] is read, via x509-parser), `encoding`.
//!
//! # What the caller still owns
//!
//! - **Trust in keys.** Certificates are read for their key, serial and validity; the chain is
//!   not checked, and neither is the validity unless you check it
//!   ([`CertificateValidity::contains`]). Load platform certificates / public keys from the
//!   merchant platform or the (verified) certificate download, never from the message being
//!   verified.
//! - **Replays.** [`v3::verify()`] bounds the timestamp (±300 s); remembering nonces or
//!   notification ids within that window, and updating an order only once, is the backend's job.
//! - **Business checks.** A verified notification is authentic, not necessarily about the order
//!   you think: compare `out_trade_no`, `amount.total` and `mchid` with your records.
//!
//! # Dependencies, and why
//!
//! No cryptography, big-integer arithmetic, DER or PEM parsing is written here.
//!
//! - `aws-lc-rs` (AWS-LC, the provider rustls defaults to) for every primitive: RSA PKCS#1 v1.5
//!   SHA-256 sign/verify, RSA-OAEP with SHA-1 (WeChat's choice for sensitive fields),
//!   AES-256-GCM, AES-256-ECB (WeChat's choice for v2 refunds), HMAC-SHA256, SHA-1/256, OS
//!   randomness, and the PKCS#8 / PKCS#1 / SPKI key formats. On x86-64 it has an AVX-512 IFMA
//!   path for RSA private-key operations, which is why it signs at OpenSSL's speed
//!   (`BENCHMARKS.md`).
//! - `md-5` for v2 MD5 only (aws-lc-rs rightly does not expose MD5).
//! - `rustls-pki-types` for PEM, `x509-parser` (parsing only) for certificates.
//! - `quick-xml`, `serde_json`, `base64`, `subtle` (constant-time v2 sign comparison),
//!   `thiserror`.

//! # Worked examples, one per flow
//!
//! The examples load `tests/fixtures/test_merchant_key.pem`, a throwaway **test** key; in
//! production the merchant key is `apiclient_key.pem` from the merchant platform, and WeChat's
//! platform key is a different key (here the test key plays both parts to stay self-contained).
//!
//! ## Native (PC: QR code)
//!
//! The backend orders with `trade_type` NATIVE, gets `code_url` (`weixin://wxpay/bizpayurl?pr=…`,
//! valid 2 h) and the page draws it as a QR code. Every v3 request carries an `Authorization`
//! header; every response must be verified over its raw bytes before `code_url` is trusted.
//!
//! ```
//! use wxpay_sign::{v3, KeySet, MerchantKey, MerchantSigner};
//! # fn main() -> Result<(), wxpay_sign::Error> {
//! let key = MerchantKey::from_pkcs8_pem(include_str!("../tests/fixtures/test_merchant_key.pem"))?;
//! let signer = MerchantSigner::new("1900009191", "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB", key);
//!
//! let body = r#"{"appid":"wxd678efh567hg6787","mchid":"1900009191","description":"Cup",
//!   "out_trade_no":"ORDER-1","notify_url":"https://shop.example/notify","amount":{"total":100}}"#;
//! let (now, nonce) = (1_700_000_000, "593BEC0C930BF1AFEB40B4A08C8FB242"); // clock + nonce_str()
//! let auth = v3::sign_request(&signer, "POST", "/v3/pay/transactions/native", body, now, nonce)?;
//! assert!(auth.message.starts_with("POST\n/v3/pay/transactions/native\n1700000000\n"));
//! assert!(auth.header.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\","));
//! // → send `Authorization: {auth.header}` with `body`.
//!
//! // The response, exactly as received, and its Wechatpay-* headers.
//! let response = br#"{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}"#;
//! # let platform = signer.key(); // stands in for WeChat's platform key
//! # let signature = v3::sign_response(platform, now, "resp-nonce", response)?;
//! let mut keys = KeySet::new(); // loaded once at start-up, by serial
//! keys.insert("PUB_KEY_ID_0114232134912410000000000000", signer.key().public_key());
//! let headers = v3::WechatpayHeaders {
//!     timestamp: "1700000000", nonce: "resp-nonce", signature: &signature,
//!     serial: "PUB_KEY_ID_0114232134912410000000000000",
//! };
//! v3::verify(&headers, response, now + 1, &keys)?;
//! // Only now parse `response` and hand code_url to the page.
//! # Ok(()) }
//! ```
//!
//! ## JSAPI (inside WeChat's browser)
//!
//! After the order (`/v3/pay/transactions/jsapi` with the payer's `openid`) returns a
//! `prepay_id`, the backend signs the six parameters the page passes to
//! `WeixinJSBridge.invoke('getBrandWCPayRequest', params, cb)`. The callback's `ok` does not
//! mean paid: the page polls the backend, which trusts only the notification or a query.
//!
//! ```
//! use wxpay_sign::{v2, v3, MerchantKey};
//! # fn main() -> Result<(), wxpay_sign::Error> {
//! let key = MerchantKey::from_pkcs8_pem(include_str!("../tests/fixtures/test_merchant_key.pem"))?;
//! let params = v3::pay_params(&key, "wxd678efh567hg6787", "wx201410272009395522657a690389285100",
//!                             1_700_000_000, "5K8264ILTKCH16CQ2502SI8ZNMTM67VS")?;
//! let json = serde_json::to_string(&params).unwrap(); // appId, timeStamp, nonceStr, package, signType, paySign
//! assert!(json.contains(r#""signType":"RSA""#) && json.contains(r#""timeStamp":"1700000000""#));
//!
//! // API v2 merchants sign with the API key and the order's sign_type instead.
//! let v2_params = v2::pay_params("wxd678efh567hg6787", "wx2014", 1_700_000_000, "nonce",
//!                                "192006250b4c09247ec02edce69f6a2d", v2::SignType::HmacSha256);
//! assert_eq!(v2_params.sign_type, "HMAC-SHA256");
//! # Ok(()) }
//! ```
//!
//! ## H5 (phone browsers outside WeChat)
//!
//! The order (`/v3/pay/transactions/h5`, with `scene_info.h5_info`) returns `h5_url`, valid
//! 5 minutes. The page navigates to it with `&redirect_url=` + the URL-encoded return page;
//! coming back to that page does **not** mean the user paid, so it polls the backend.
//!
//! ```
//! use wxpay_sign::{v3, MerchantKey, MerchantSigner};
//! # fn main() -> Result<(), wxpay_sign::Error> {
//! # let key = MerchantKey::from_pkcs8_pem(include_str!("../tests/fixtures/test_merchant_key.pem"))?;
//! let signer = MerchantSigner::new("1900009191", "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB", key);
//! let body = r#"{"appid":"wxd678efh567hg6787","mchid":"1900009191","description":"Cup",
//!   "out_trade_no":"ORDER-2","notify_url":"https://shop.example/notify","amount":{"total":100},
//!   "scene_info":{"payer_client_ip":"203.0.113.7","h5_info":{"type":"Wap"}}}"#;
//! let auth = v3::sign_request(&signer, "POST", "/v3/pay/transactions/h5", body, 1_700_000_000, "n1")?;
//! assert_eq!(auth.message.lines().nth(1), Some("/v3/pay/transactions/h5"));
//! // Later, the page is polled; the backend may also query WeChat, and that GET is signed too
//! // (path and query, empty body):
//! let query = v3::sign_request(&signer, "GET",
//!     "/v3/pay/transactions/out-trade-no/ORDER-2?mchid=1900009191", "", 1_700_000_060, "n2")?;
//! assert!(query.message.ends_with("\nn2\n\n"));
//! # Ok(()) }
//! ```
//!
//! ## Mini-program
//!
//! A web page inside a mini-program's `web-view` cannot pay itself; it hands off to a
//! mini-program page, which calls `wx.requestPayment` with the same five signed fields as JSAPI
//! (`timeStamp`, `nonceStr`, `package`, `signType`, `paySign`). The `appid` is the
//! mini-program's, and the order's `payer.openid` must be an openid under that appid.
//!
//! ```
//! use wxpay_sign::{v3, MerchantKey};
//! # fn main() -> Result<(), wxpay_sign::Error> {
//! # let key = MerchantKey::from_pkcs8_pem(include_str!("../tests/fixtures/test_merchant_key.pem"))?;
//! let p = v3::pay_params(&key, "wxminiprogram00001", "wx2024prepay", 1_700_000_000, "n")?;
//! // The signed message is appId\ntimeStamp\nnonceStr\npackage\n, so a different appid
//! // (the official account's) would not verify.
//! let message = "wxminiprogram00001\n1700000000\nn\nprepay_id=wx2024prepay\n";
//! let sig = base64_decode(&p.pay_sign);
//! assert!(key.public_key().verify_sha256(message.as_bytes(), &sig));
//! # Ok(()) }
//! # fn base64_decode(s: &str) -> Vec<u8> { use base64::Engine; base64::engine::general_purpose::STANDARD.decode(s).unwrap() }
//! ```
//!
//! ## Notification (WeChat → merchant backend)
//!
//! WeChat POSTs a signed notification. Verify over the raw body, decrypt, then update the
//! order **once** (the same notification is retried until answered), and answer 200/204 (v3)
//! or `reply_success()` (v2). This is the only place, besides a verified query, where an order
//! may become paid.
//!
//! ```
//! use wxpay_sign::{v2, v3, KeySet, MerchantKey};
//! # fn main() -> Result<(), wxpay_sign::Error> {
//! # let platform = MerchantKey::from_pkcs8_pem(include_str!("../tests/fixtures/test_merchant_key.pem"))?;
//! let apiv3_key = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
//! # let plain = br#"{"mchid":"1900009191","appid":"wxd678efh567hg6787","out_trade_no":"ORDER-1",
//! #  "transaction_id":"4200000001","trade_state":"SUCCESS","payer":{"openid":"o1"},
//! #  "amount":{"total":100,"payer_total":100,"currency":"CNY","payer_currency":"CNY"}}"#;
//! # let ct = v3::encrypt_resource(apiv3_key, "rnd123456789", "transaction", plain)?;
//! # let body = format!(r#"{{"id":"EV-1","create_time":"2024-01-01T00:00:00+08:00",
//! #  "event_type":"TRANSACTION.SUCCESS","resource_type":"encrypt-resource","summary":"ok",
//! #  "resource":{{"algorithm":"AEAD_AES_256_GCM","ciphertext":"{ct}",
//! #  "associated_data":"transaction","original_type":"transaction","nonce":"rnd123456789"}}}}"#);
//! # let signature = v3::sign_response(&platform, 1_700_000_000, "hdr", body.as_bytes())?;
//! # let mut keys = KeySet::new();
//! # keys.insert("PUB_KEY_ID_01", platform.public_key());
//! // `body`: the raw request bytes; the four headers as received; `keys` from start-up.
//! let headers = v3::WechatpayHeaders {
//!     timestamp: "1700000000", nonce: "hdr", signature: &signature, serial: "PUB_KEY_ID_01",
//! };
//! let (envelope, payment) =
//!     v3::open_payment_notification(&headers, body.as_bytes(), 1_700_000_030, &keys, apiv3_key)?;
//! assert_eq!((envelope.event_type.as_str(), payment.trade_state.as_str()), ("TRANSACTION.SUCCESS", "SUCCESS"));
//! assert_eq!((payment.out_trade_no.as_str(), payment.amount.total), ("ORDER-1", 100));
//! // → check amount against the order, mark paid idempotently by transaction_id, answer 204.
//!
//! // API v2: XML in, the sign checked with the message's own sign_type, XML out.
//! let key = "192006250b4c09247ec02edce69f6a2d";
//! # let mut p = v2::Params::new();
//! # for (k, v) in [("return_code", "SUCCESS"), ("result_code", "SUCCESS"), ("out_trade_no", "ORDER-1"),
//! #                ("transaction_id", "4200000001"), ("total_fee", "100")] { p.insert(k.into(), v.into()); }
//! # p.insert("sign".into(), v2::sign(&p, key, v2::SignType::Md5));
//! # let xml_body = v2::to_xml(&p);
//! let fields = v2::parse_xml(xml_body.as_bytes())?; // size limit, no DOCTYPE, no duplicates
//! v2::verify(&fields, key)?;
//! v2::check_result(&fields)?;
//! assert_eq!(fields["total_fee"], "100");
//! let reply = v2::reply_success();
//! # assert!(reply.contains("SUCCESS"));
//! # Ok(()) }
//! ```

mod certificate;
mod encoding;
mod error;
pub mod keys;
pub mod nonce;
mod pay_params;
mod pem;
pub mod v2;
pub mod v3;

pub use certificate::{Certificate, CertificateValidity};
pub use error::{Error, Result};
pub use keys::{KeySet, MerchantKey, MerchantSigner, PublicKey};
pub use pay_params::{AppPayParams, PayParams};
