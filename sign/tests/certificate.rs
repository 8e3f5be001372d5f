//! Reading X.509 certificates ([`Certificate`]) checked against what `openssl` wrote: serial,
//! validity, subject and CN, and the public key handed out as SPKI PEM.

mod common;

use common::*;
use wxpay_sign::{Certificate, Error};

#[test]
fn a_certificate_reads_as_openssl_made_it() {
    let keys = platform();
    let cert = Certificate::from_pem(&read(&keys.cert_pem)).unwrap();
    assert_eq!(cert.serial, CERT_SERIAL);
    assert_eq!(
        cert.common_name.as_deref(),
        Some("wxpay-sign test platform")
    );
    assert!(
        cert.subject.contains("CN=wxpay-sign test platform"),
        "{}",
        cert.subject
    );
    // `-days 2`.
    assert_eq!(
        cert.validity.not_after - cert.validity.not_before,
        2 * 86_400
    );
    // The SPKI PEM is byte for byte what `openssl pkey -pubout` writes, and the same key.
    assert_eq!(cert.public_key_pem(), read(&keys.public_pem));
    let from_cert = wxpay_sign::PublicKey::from_pem(&cert.public_key_pem()).unwrap();
    assert!(from_cert == keys.public_key());
    // What `PublicKey` says about the same certificate agrees.
    assert_eq!(
        keys.certificate().certificate_validity(),
        Some(cert.validity)
    );
}

#[test]
fn only_a_certificate_is_read_as_one() {
    let keys = platform();
    for path in [&keys.public_pem, &keys.private_pem] {
        let err = Certificate::from_pem(&read(path)).unwrap_err();
        assert!(
            matches!(err, Error::Pem { .. }) && err.to_string().contains("not a CERTIFICATE"),
            "{}: {err}",
            path.display()
        );
    }
    let der = openssl(&[
        "x509",
        "-in",
        keys.cert_pem.to_str().unwrap(),
        "-outform",
        "DER",
    ]);
    assert_eq!(Certificate::from_der(&der).unwrap().serial, CERT_SERIAL);
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(Certificate::from_der(&trailing).is_err());
    assert!(Certificate::from_der(&der[..der.len() - 1]).is_err());
}
