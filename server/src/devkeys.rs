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
    let key = key_path.to_string_lossy();
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            &key,
        ],
        "genpkey",
    )?;
    // A random 128-bit serial, like the 40-hex-digit serials of real WeChat certificates.
    let mut serial = [0u8; 16];
    aws_lc_rs::rand::SecureRandom::fill(&aws_lc_rs::rand::SystemRandom::new(), &mut serial)
        .map_err(|_| DevKeyError::OpensslFailed {
            step: "serial",
            stderr: "OS random generator failed".into(),
        })?;
    // Positive, and 32 hex digits without a leading zero, as WeChat's serials always are (a
    // leading zero is where `BigInteger.toString(16)`-style code and openssl disagree).
    serial[0] = (serial[0] & 0x7f).max(0x10);
    let serial_hex: String = serial.iter().map(|b| format!("{b:02X}")).collect();
    openssl(
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &key,
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

// The simulator and the demo's generated secrets draw from the same generator as ids.
pub use crate::ids::{random_alnum, random_digits};
