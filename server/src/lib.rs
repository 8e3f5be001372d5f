//! wxpay-server: a WeChat Pay merchant backend you can mount as is, and an offline WeChat Pay
//! simulator faithful enough that what passes against it passes against WeChat.
//!
//! - [`backend`]: the merchant HTTP API under `/api` (orders, pay, notifications, long-polling).
//! - [`store`]: the storage layer ([`store::Store`]) and its SQLite implementation.
//! - [`order`]: the order model and `trade_state` machine.
//! - [`refund`]: the refund model and its status machine.
//! - [`config`]: TOML + `WXPAY_*` environment configuration and key loading.
//! - [`sim`]: the WeChat Pay simulator (v3 + v2 APIs, OAuth, cashier pages, notifications, and
//!   stand-ins for `WeixinJSBridge` and the mini-program side).
//! - [`demo`]: backend + simulator + static files on one port, with generated test keys.
//! - [`serve`]: running the backend alone (`wxpay serve`).
//! - [`doctor`]: `wxpay doctor`, a configuration checked against what breaks in the field.
//! - [`catalog`]: the merchant's price list; how an order of catalog items is priced.
//! - [`ids`]: order ids, `out_trade_no`, `out_refund_no` (random, from the OS generator).
//! - [`static_files`]: serving `--www` / the package without following symlinks out of them.
//! - [`devkeys`]: test / demo RSA keys via the `openssl` command.
//! - [`http_client`]: the outbound HTTP client (reqwest + rustls on aws-lc-rs).
//! - [`timefmt`]: WeChat's time formats.

pub mod backend;
pub mod catalog;
pub mod config;
pub mod demo;
pub mod devkeys;
pub mod doctor;
pub mod http_client;
pub mod ids;
pub mod order;
pub mod refund;
pub mod serve;
pub mod sim;
pub mod static_files;
pub mod store;
pub mod timefmt;

pub use backend::{router, Backend};
pub use config::Config;
