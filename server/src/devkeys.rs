//! Test and demo key material, made with the `openssl` command.
//!
//! Why a subprocess: the demo needs X.509 certificates as well as keys, and aws-lc-rs (the
//! project's crypto library) generates RSA keys but does not build certificates; the pure-Rust
//! `rsa` crate is ruled out (RUSTSEC-2023-0071, a timing side channel). openssl is on every
//! developer machine and CI image, and generating keys is a one-off at the
//! first demo run or at test start, never on a request path. These keys are for tests and the
//! offline demo only; a real merchant downloads theirs from the WeChat Pay merchant platform.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum DevKeyError {
    #[error("the `openssl` command is needed to generate test keys but could not be run ({0}); install it (Debian: apt-get install openssl) or put it on PATH")]
    OpensslMissing(String),
    #[error("openssl {step} failed: {stderr}")]
    OpensslFailed { step: &'static str, stderr: String },
    #[error("cannot write key files in {dir}: {reason}")]
    Io { dir: String, reason: String },
}

/// An RSA key pair with a self-signed certificate, as files plus their PEM text.
#[derive(Clone)]
pub struct DevKeyPair {
    /// Upper-case hex certificate serial, the way WeChat names certificates.
    pub serial: String,
    pub key_path: PathBuf,
    pub cert_path: PathBuf,
    /// PKCS#8 "PRIVATE KEY" PEM.
    pub key_pem: String,
    /// X.509 certificate PEM.
    pub cert_pem: String,
}

impl std::fmt::Debug for DevKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material, even test keys: logs get copied around.
        f.debug_struct("DevKeyPair")
            .field("serial", &self.serial)
            .field("key_path", &self.key_path)
            .finish()
    }
}

/// Loads `<dir>/<name>_key.pem` + `<name>_cert.pem`, generating them first if absent.
pub fn load_or_generate(
    dir: &Path,
    name: &str,
    common_name: &str,
) -> Result<DevKeyPair, DevKeyError> {
    let io = |e: std::io::Error| DevKeyError::Io {
        dir: dir.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let key_path = dir.join(format!("{name}_key.pem"));
    let cert_path = dir.join(format!("{name}_cert.pem"));
    if !(key_path.exists() && cert_path.exists()) {
        generate(&key_path, &cert_path, common_name)?;
    }
    let key_pem = std::fs::read_to_string(&key_path).map_err(io)?;
    let cert_pem = std::fs::read_to_string(&cert_path).map_err(io)?;
    let serial = openssl(
        &[
            "x509",
            "-noout",
            "-serial",
            "-in",
            &cert_path.to_string_lossy(),
        ],
        "x509 -serial",
    )?;
    let serial = serial
        .trim()
        .trim_start_matches("serial=")
        .to_ascii_uppercase();
    Ok(DevKeyPair {
        serial,
        key_path,
        cert_path,
        key_pem,
        cert_pem,
    })
}

fn generate(key_path: &Path, cert_path: &Path, common_name: &str) -> Result<(), DevKeyError> {
    new_rsa_key(key_path)?;
    let serial_hex = random_serial_hex()?;
    openssl(
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &key_path.to_string_lossy(),
            "-subj",
            &format!("/CN={common_name}"),
            "-days",
            "3650",
            "-set_serial",
            &format!("0x{serial_hex}"),
            "-out",
            &cert_path.to_string_lossy(),
        ],
        "req -x509",
    )?;
    Ok(())
}

fn openssl(args: &[&str], step: &'static str) -> Result<String, DevKeyError> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .map_err(|e| DevKeyError::OpensslMissing(e.to_string()))?;
    if !out.status.success() {
        return Err(DevKeyError::OpensslFailed {
            step,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A throwaway PKI for the mutual TLS of WeChat's `/secapi/…` (TEST KEYS): a CA, the
/// simulator's server certificate for 127.0.0.1 and the merchant's API client certificate
/// (`apiclient_cert.pem` / `apiclient_key.pem`, CN = the mchid, as WeChat issues them), all
/// signed by that CA.
#[derive(Debug, Clone)]
pub struct TestTls {
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

/// Loads the TEST PKI under `dir` (`tls_*.pem`), generating it first if absent.
pub fn load_or_generate_tls(dir: &Path, mchid: &str) -> Result<TestTls, DevKeyError> {
    let io = |e: std::io::Error| DevKeyError::Io {
        dir: dir.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let file = |name: &str| dir.join(format!("tls_{name}.pem"));
    let tls = TestTls {
        ca_cert: file("ca_cert"),
        server_cert: file("server_cert"),
        server_key: file("server_key"),
        client_cert: file("apiclient_cert"),
        client_key: file("apiclient_key"),
    };
    let ca_key = file("ca_key");
    if [
        &tls.ca_cert,
        &tls.server_cert,
        &tls.server_key,
        &tls.client_cert,
        &tls.client_key,
    ]
    .iter()
    .all(|p| p.exists())
    {
        return Ok(tls);
    }
    let s = |p: &Path| p.to_string_lossy().into_owned();
    new_rsa_key(&ca_key)?;
    openssl(
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &s(&ca_key),
            "-subj",
            "/CN=wxpay TEST CA (not WeChat's)",
            "-days",
            "3650",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            &s(&tls.ca_cert),
        ],
        "req -x509 (test CA)",
    )?;
    let leaves = [
        (
            &tls.server_key,
            &tls.server_cert,
            "127.0.0.1".to_string(),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth",
        ),
        (
            &tls.client_key,
            &tls.client_cert,
            mchid.to_string(),
            "extendedKeyUsage=clientAuth",
        ),
    ];
    for (key, cert, cn, ext) in leaves {
        new_rsa_key(key)?;
        let csr = cert.with_extension("csr");
        let extfile = cert.with_extension("ext");
        std::fs::write(
            &extfile,
            format!("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n{ext}\n"),
        )
        .map_err(io)?;
        openssl(
            &[
                "req",
                "-new",
                "-key",
                &s(key),
                "-subj",
                &format!("/CN={cn}/OU=wxpay TEST KEY"),
                "-out",
                &s(&csr),
            ],
            "req -new (test leaf)",
        )?;
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                &s(&csr),
                "-CA",
                &s(&tls.ca_cert),
                "-CAkey",
                &s(&ca_key),
                "-set_serial",
                &format!("0x{}", random_serial_hex()?),
                "-days",
                "3650",
                "-extfile",
                &s(&extfile),
                "-out",
                &s(cert),
            ],
            "x509 -req (test leaf)",
        )?;
        let _ = std::fs::remove_file(&csr);
        let _ = std::fs::remove_file(&extfile);
    }
    Ok(tls)
}

fn new_rsa_key(path: &Path) -> Result<(), DevKeyError> {
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            &path.to_string_lossy(),
        ],
        "genpkey",
    )
    .map(|_| ())
}

/// A random 128-bit serial in 32 hex digits without a leading zero, like WeChat's.
fn random_serial_hex() -> Result<String, DevKeyError> {
    let mut serial = [0u8; 16];
    aws_lc_rs::rand::SecureRandom::fill(&aws_lc_rs::rand::SystemRandom::new(), &mut serial)
        .map_err(|_| DevKeyError::OpensslFailed {
            step: "serial",
            stderr: "OS random generator failed".into(),
        })?;
    // Positive, and 32 hex digits without a leading zero, as WeChat's serials always are (a
    // leading zero is where `BigInteger.toString(16)`-style code and openssl disagree).
    serial[0] = (serial[0] & 0x7f).max(0x10);
    Ok(serial.iter().map(|b| format!("{b:02X}")).collect())
}

// The simulator and the demo's generated secrets draw from the same generator as ids.
pub use crate::ids::{random_alnum, random_digits};
