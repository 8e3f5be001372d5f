//! Test helpers: keys made by the `openssl` command at test time, and running openssl / python3
//! as the independent implementation we cross-check against.
//!
//! When a tool is missing, `require` panics with the install command: a silently skipped
//! cross-check would look like a passing one. `.ci/run` installs both.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use wxpay_sign::{MerchantKey, PublicKey};

/// A key pair and its derived files, all in one temp dir that lives for the test binary.
pub struct TestKeys {
    pub dir: PathBuf,
    /// PKCS#8 private key.
    pub private_pem: PathBuf,
    /// The same key as PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    pub pkcs1_pem: PathBuf,
    /// SPKI public key (`BEGIN PUBLIC KEY`).
    pub public_pem: PathBuf,
    /// Self-signed certificate with serial [`CERT_SERIAL`].
    pub cert_pem: PathBuf,
}

/// The certificate serial used for generated certificates (hex, as WeChat prints them).
pub const CERT_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";

impl TestKeys {
    pub fn merchant_key(&self) -> MerchantKey {
        MerchantKey::from_pkcs8_pem(&read(&self.private_pem)).unwrap()
    }
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_pem(&read(&self.public_pem)).unwrap()
    }
    pub fn certificate(&self) -> PublicKey {
        PublicKey::from_pem(&read(&self.cert_pem)).unwrap()
    }
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Fail loudly, with the fix, when a cross-check tool is missing.
pub fn require(tool: &str, probe: &[&str], install: &str) {
    let ok = Command::new(tool)
        .args(probe)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{tool} is needed for this cross-check test; install it with: {install}"
    );
}

/// Run a command, panic with its stderr on failure, return stdout.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn openssl(args: &[&str]) -> Vec<u8> {
    require("openssl", &["version"], "apt-get install -y openssl");
    run(Command::new("openssl").args(args))
}

fn generate(dir: &Path, name: &str) -> TestKeys {
    let p = |suffix: &str| dir.join(format!("{name}_{suffix}"));
    let s = |path: &Path| path.to_str().unwrap().to_string();
    let keys = TestKeys {
        dir: dir.to_path_buf(),
        private_pem: p("key.pem"),
        pkcs1_pem: p("pkcs1.pem"),
        public_pem: p("pub.pem"),
        cert_pem: p("cert.pem"),
    };
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        &s(&keys.private_pem),
    ]);
    openssl(&[
        "rsa",
        "-in",
        &s(&keys.private_pem),
        "-traditional",
        "-out",
        &s(&keys.pkcs1_pem),
    ]);
    openssl(&[
        "pkey",
        "-in",
        &s(&keys.private_pem),
        "-pubout",
        "-out",
        &s(&keys.public_pem),
    ]);
    openssl(&[
        "req",
        "-x509",
        "-new",
        "-key",
        &s(&keys.private_pem),
        "-subj",
        "/CN=wxpay-sign test platform",
        "-days",
        "2",
        "-set_serial",
        &format!("0x{CERT_SERIAL}"),
        "-out",
        &s(&keys.cert_pem),
    ]);
    keys
}

struct Keys {
    _dir: tempfile::TempDir,
    merchant: TestKeys,
    platform: TestKeys,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let merchant = generate(dir.path(), "merchant");
        let platform = generate(dir.path(), "platform");
        Keys {
            _dir: dir,
            merchant,
            platform,
        }
    })
}

/// The merchant's key pair (generated once per test binary).
pub fn merchant() -> &'static TestKeys {
    &keys().merchant
}

/// WeChat's platform key pair, as the simulator would hold it.
pub fn platform() -> &'static TestKeys {
    &keys().platform
}

/// A fresh file in the key dir (names are made unique, tests run in parallel).
pub fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = merchant().dir.join(format!("{n}_{name}"));
    std::fs::write(&path, contents).unwrap();
    path
}

/// Run a python3 snippet (which may import `cryptography`) with arguments; returns stdout.
pub fn python(script: &str, args: &[&str]) -> Vec<u8> {
    require(
        "python3",
        &["-c", "import cryptography"],
        "apt-get install -y python3 python3-cryptography",
    );
    run(Command::new("python3").arg("-c").arg(script).args(args))
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}
