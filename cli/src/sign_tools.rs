//! The signing and debugging subcommands: thin wrappers over `wxpay-sign` that print every
//! intermediate value as JSON, so their output can be diffed against another implementation.
//!
//! Clock and nonce default to the real ones but can be pinned (`--timestamp`, `--nonce`) to
//! reproduce a signature exactly. Keys can come from the environment (see `--help`) so they
//! stay out of shell history and `ps`.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use serde_json::json;
use wxpay_sign::v2::{self, SignType};
use wxpay_sign::v3::{self, WechatpayHeaders};
use wxpay_sign::{nonce, KeySet, MerchantKey, MerchantSigner, PublicKey};

use crate::CliResult;

#[derive(Subcommand)]
pub enum SignCommand {
    /// Sign v2 parameters: prints stringA (without the key) and the sign.
    #[command(name = "sign-v2")]
    SignV2(SignV2),
    /// Verify the sign of a v2 XML message (response or notification).
    #[command(name = "verify-v2")]
    VerifyV2(VerifyV2),
    /// Sign a v3 request: prints the message, the signature and the Authorization header.
    #[command(name = "sign-v3")]
    SignV3(SignV3),
    /// Verify a v3 response/notification signature (Wechatpay-* headers) over a body file.
    #[command(name = "verify-v3")]
    VerifyV3(VerifyV3),
    /// Decrypt a v3 AES-256-GCM resource; prints the plaintext.
    Decrypt(Decrypt),
    /// JSAPI / mini-program pay parameters, v3 (--private-key) or v2 (--key).
    #[command(name = "pay-params")]
    PayParams(PayParamsArgs),
    /// Decrypt a v2 refund notification's req_info; prints the XML.
    #[command(name = "decrypt-refund")]
    DecryptRefund(DecryptRefund),
}

#[derive(Args)]
pub struct SignV2 {
    /// v2 API key (32 characters).
    #[arg(long, env = "WXPAY_V2_KEY", hide_env_values = true)]
    key: String,
    #[arg(long, default_value = "MD5", value_name = "MD5|HMAC-SHA256")]
    sign_type: String,
    /// Parameters as NAME=VALUE (the value may contain '=').
    #[arg(value_name = "NAME=VALUE", required = true)]
    params: Vec<String>,
}

#[derive(Args)]
pub struct VerifyV2 {
    #[arg(long, env = "WXPAY_V2_KEY", hide_env_values = true)]
    key: String,
    #[arg(long)]
    xml_file: PathBuf,
    /// Sign type to assume when the message has no sign_type field (WeChat omits it in answers
    /// and notifications for HMAC-SHA256 orders): the one the order was placed with.
    #[arg(long, default_value = "MD5", value_name = "MD5|HMAC-SHA256")]
    sign_type: String,
}

#[derive(Args)]
pub struct SignV3 {
    #[arg(long)]
    mchid: String,
    /// Serial number of the merchant API certificate.
    #[arg(long)]
    serial: String,
    /// Merchant private key, PKCS#8 PEM (apiclient_key.pem).
    #[arg(long, value_name = "PEMFILE")]
    private_key: PathBuf,
    #[arg(long)]
    method: String,
    /// Path and query only, e.g. /v3/pay/transactions/native
    #[arg(long, value_name = "PATH_AND_QUERY")]
    url: String,
    /// Request body (omit for GET).
    #[arg(long)]
    body_file: Option<PathBuf>,
    /// Seconds since the epoch (default: now).
    #[arg(long)]
    timestamp: Option<i64>,
    /// Default: 32 random alphanumerics.
    #[arg(long)]
    nonce: Option<String>,
}

#[derive(Args)]
pub struct VerifyV3 {
    /// Platform certificate or WeChat Pay public key (PEM).
    #[arg(long, value_name = "PEMFILE")]
    public_key: PathBuf,
    /// Wechatpay-Timestamp
    #[arg(long)]
    timestamp: String,
    /// Wechatpay-Nonce
    #[arg(long)]
    nonce: String,
    /// Wechatpay-Signature (base64)
    #[arg(long, allow_hyphen_values = true)]
    signature: String,
    /// The raw body exactly as received.
    #[arg(long)]
    body_file: PathBuf,
    /// Wechatpay-Serial; must match the certificate's serial when PEMFILE is a certificate.
    #[arg(long)]
    serial: Option<String>,
    /// Seconds since the epoch to judge the timestamp against (default: now).
    #[arg(long)]
    now: Option<i64>,
}

#[derive(Args)]
pub struct Decrypt {
    /// The 32-byte APIv3 key.
    #[arg(long, env = "WXPAY_APIV3_KEY", hide_env_values = true)]
    apiv3_key: String,
    #[arg(long)]
    nonce: String,
    #[arg(long, default_value = "")]
    associated_data: String,
    /// base64 ciphertext (with the GCM tag).
    #[arg(long)]
    ciphertext: String,
}

#[derive(Args)]
pub struct PayParamsArgs {
    #[arg(long)]
    appid: String,
    #[arg(long)]
    prepay_id: String,
    /// v3: merchant private key PEM (signType RSA).
    #[arg(long, value_name = "PEMFILE", conflicts_with_all = ["key", "sign_type"], required_unless_present = "key")]
    private_key: Option<PathBuf>,
    /// v2: API key (signType MD5 or HMAC-SHA256).
    #[arg(long, env = "WXPAY_V2_KEY", hide_env_values = true)]
    key: Option<String>,
    /// v2 only; must be the sign_type the order was placed with.
    #[arg(long, value_name = "MD5|HMAC-SHA256")]
    sign_type: Option<String>,
    #[arg(long)]
    timestamp: Option<i64>,
    #[arg(long)]
    nonce: Option<String>,
}

#[derive(Args)]
pub struct DecryptRefund {
    #[arg(long, env = "WXPAY_V2_KEY", hide_env_values = true)]
    key: String,
    #[arg(long, value_name = "B64")]
    req_info: String,
}

/// Run one signing subcommand.
pub fn run(cmd: SignCommand) -> CliResult {
    match cmd {
        SignCommand::SignV2(a) => sign_v2(a),
        SignCommand::VerifyV2(a) => verify_v2(a),
        SignCommand::SignV3(a) => sign_v3(a),
        SignCommand::VerifyV3(a) => verify_v3(a),
        SignCommand::Decrypt(a) => decrypt(a),
        SignCommand::PayParams(a) => pay_params(a),
        SignCommand::DecryptRefund(a) => decrypt_refund(a),
    }
}

fn sign_v2(a: SignV2) -> CliResult {
    let sign_type: SignType = a.sign_type.parse()?;
    let mut params = v2::Params::new();
    for pair in &a.params {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("parameter {pair:?} must be NAME=VALUE"))?;
        if params.insert(k.to_string(), v.to_string()).is_some() {
            return Err(format!("parameter {k} is given twice").into());
        }
    }
    print_json(&json!({
        "string_to_sign": v2::string_to_sign(&params),
        "sign": v2::sign(&params, v2_key(&a.key)?, sign_type),
    }))
}

fn verify_v2(a: VerifyV2) -> CliResult {
    let fallback: SignType = a.sign_type.parse()?;
    let params = v2::parse_xml(&read_file("--xml-file", &a.xml_file)?)?;
    match v2::verify_with_fallback(&params, v2_key(&a.key)?, fallback) {
        Ok(t) => print_json(&json!({ "valid": true, "sign_type": t.as_str() })),
        Err(e) => Err(format!("{e}; string_to_sign was {:?}", v2::string_to_sign(&params)).into()),
    }
}

fn sign_v3(a: SignV3) -> CliResult {
    let key = load_private_key(&a.private_key)?;
    let body = match &a.body_file {
        Some(p) => String::from_utf8(read_file("--body-file", p)?)
            .map_err(|_| "--body-file is not UTF-8; v3 request bodies are JSON")?,
        None => String::new(),
    };
    let signer = MerchantSigner::new(a.mchid, a.serial, key);
    let auth = v3::sign_request(
        &signer,
        &a.method,
        &a.url,
        &body,
        a.timestamp.unwrap_or_else(now),
        &a.nonce.unwrap_or_else(nonce::nonce_str),
    )?;
    print_json(&json!({
        "message": auth.message,
        "signature": auth.signature,
        "authorization": auth.header,
    }))
}

fn verify_v3(a: VerifyV3) -> CliResult {
    let pem = String::from_utf8(read_file("--public-key", &a.public_key)?)
        .map_err(|_| "--public-key is not a PEM text file")?;
    let key = PublicKey::from_pem(&pem)?;
    // The key is filed under its certificate serial when it has one, so a mismatching --serial
    // is reported as the unknown serial it would be in production.
    let key_serial = key.certificate_serial().map(str::to_string);
    let header_serial = a
        .serial
        .or_else(|| key_serial.clone())
        .unwrap_or_else(|| "cli".into());
    let mut keys = KeySet::new();
    keys.insert(key_serial.unwrap_or_else(|| header_serial.clone()), key);
    let body = read_file("--body-file", &a.body_file)?;
    let headers = WechatpayHeaders {
        timestamp: &a.timestamp,
        nonce: &a.nonce,
        signature: &a.signature,
        serial: &header_serial,
    };
    match v3::verify(&headers, &body, a.now.unwrap_or_else(now), &keys) {
        Ok(_) => print_json(&json!({ "valid": true })),
        Err(e @ wxpay_sign::Error::BadSignature { .. }) => {
            let message = v3::response_message(&a.timestamp, &a.nonce, &body);
            Err(format!(
                "{e}; the signed message was {:?}",
                String::from_utf8_lossy(&message)
            )
            .into())
        }
        Err(e) => Err(e.into()),
    }
}

fn decrypt(a: Decrypt) -> CliResult {
    let plain = v3::decrypt_resource(
        a.apiv3_key.as_bytes(),
        &a.nonce,
        &a.associated_data,
        &a.ciphertext,
    )?;
    write_stdout(&plain)
}

fn pay_params(a: PayParamsArgs) -> CliResult {
    let timestamp = a.timestamp.unwrap_or_else(now);
    let nonce = a.nonce.unwrap_or_else(nonce::nonce_str);
    let params = match (&a.private_key, &a.key) {
        (Some(path), _) => v3::pay_params(
            &load_private_key(path)?,
            &a.appid,
            &a.prepay_id,
            timestamp,
            &nonce,
        )?,
        (None, Some(key)) => {
            let sign_type: SignType = a.sign_type.as_deref().unwrap_or("MD5").parse()?;
            if nonce.is_empty() || nonce.len() > 32 {
                return Err("--nonce must be 1 to 32 characters".into());
            }
            v2::pay_params(
                &a.appid,
                &a.prepay_id,
                timestamp,
                &nonce,
                v2_key(key)?,
                sign_type,
            )
        }
        (None, None) => return Err("give --private-key PEMFILE (v3) or --key KEY (v2)".into()),
    };
    print_json(&serde_json::to_value(params)?)
}

fn decrypt_refund(a: DecryptRefund) -> CliResult {
    let xml = v2::decrypt_refund_req_info(v2_key(&a.key)?, &a.req_info)?;
    write_stdout(xml.as_bytes())
}

/// A v2 API key is exactly 32 characters (letters and digits, set by the merchant); anything
/// else cannot be one, and signing with it would only produce signatures WeChat rejects.
fn v2_key(key: &str) -> Result<&str, String> {
    let n = key.chars().count();
    if n != 32 {
        return Err(format!(
            "--key must be the 32-character v2 API key (merchant platform: Account Center → API security → API key), got {n} characters"
        ));
    }
    if !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err("--key must be the v2 API key: 32 letters and digits; this one has other characters (a stray quote or space?)".into());
    }
    Ok(key)
}

fn load_private_key(path: &Path) -> Result<MerchantKey, Box<dyn std::error::Error>> {
    let pem = String::from_utf8(read_file("--private-key", path)?)
        .map_err(|_| "--private-key is not a PEM text file")?;
    Ok(MerchantKey::from_pkcs8_pem(&pem)?)
}

fn read_file(flag: &str, path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {flag} {}: {e}", path.display()))
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub(crate) fn print_json(value: &serde_json::Value) -> CliResult {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn write_stdout(bytes: &[u8]) -> CliResult {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}
