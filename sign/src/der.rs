//! A minimal DER reader: just enough to take the RSA key out of an X.509 certificate, an SPKI
//! `PUBLIC KEY`, and (for OAEP decryption) a PKCS#8 private key.
//!
//! ring verifies with the bare PKCS#1 `RSAPublicKey`, and pulling in a full X.509 stack to walk
//! six fields would add far more code than it removes. The reader is strict (definite lengths
//! only, minimal length encodings, no trailing bytes) and never panics: every read is bounds
//! checked, so a hostile certificate yields an error.

/// Tags used by the callers.
pub(crate) mod tag {
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const OID: u8 = 0x06;
    pub const SEQUENCE: u8 = 0x30;
    /// `[0] EXPLICIT`, the X.509 version wrapper.
    pub const CONTEXT_0: u8 = 0xA0;
}

/// DER encoding of the rsaEncryption OID 1.2.840.113549.1.1.1 (contents only).
pub(crate) const RSA_ENCRYPTION_OID: &[u8] =
    &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];

/// A cursor over DER bytes.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Read one element of any tag; returns (tag, contents).
    pub fn read_any(&mut self) -> Result<(u8, &'a [u8]), &'static str> {
        let (&tag, rest) = self.rest.split_first().ok_or("unexpected end of DER")?;
        if tag & 0x1F == 0x1F {
            return Err("multi-byte DER tags are not used in RSA keys");
        }
        let (&first, mut rest) = rest.split_first().ok_or("unexpected end of DER")?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7F);
            if n == 0 || n > 4 {
                return Err("unsupported DER length encoding");
            }
            if rest.len() < n {
                return Err("unexpected end of DER");
            }
            let (len_bytes, after) = rest.split_at(n);
            rest = after;
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 || len_bytes[0] == 0 {
                return Err("non-minimal DER length");
            }
            len
        };
        if rest.len() < len {
            return Err("DER element longer than its container");
        }
        let (contents, after) = rest.split_at(len);
        self.rest = after;
        Ok((tag, contents))
    }

    /// Read one element that must have `expected` tag.
    pub fn read(&mut self, expected: u8) -> Result<&'a [u8], &'static str> {
        match self.read_any()? {
            (t, contents) if t == expected => Ok(contents),
            _ => Err("unexpected DER element"),
        }
    }

    /// Read an INTEGER that must be positive; returns its big-endian magnitude without the
    /// sign-padding zero byte.
    pub fn read_unsigned(&mut self) -> Result<&'a [u8], &'static str> {
        let bytes = self.read(tag::INTEGER)?;
        match bytes {
            [] => Err("empty DER INTEGER"),
            [b, ..] if b & 0x80 != 0 => Err("negative DER INTEGER"),
            [0, rest @ ..] if !rest.is_empty() => Ok(rest),
            _ => Ok(bytes),
        }
    }

    /// Require that nothing is left.
    pub fn finish(&self) -> Result<(), &'static str> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err("trailing bytes after DER structure")
        }
    }
}

/// `SubjectPublicKeyInfo` contents → PKCS#1 `RSAPublicKey` DER (the whole SEQUENCE).
pub(crate) fn spki_to_rsa_public_key(spki: &[u8]) -> Result<&[u8], &'static str> {
    let mut outer = Reader::new(spki);
    let mut info = Reader::new(outer.read(tag::SEQUENCE)?);
    outer.finish()?;
    let mut alg = Reader::new(info.read(tag::SEQUENCE)?);
    if alg.read(tag::OID)? != RSA_ENCRYPTION_OID {
        return Err("the public key is not an RSA key (WeChat Pay uses RSA-2048)");
    }
    let bits = info.read(tag::BIT_STRING)?;
    info.finish()?;
    match bits.split_first() {
        Some((0, key)) => Ok(key),
        _ => Err("malformed public key BIT STRING"),
    }
}

/// What an X.509 certificate gives us: its serial number and its `SubjectPublicKeyInfo`.
pub(crate) struct CertificateParts<'a> {
    pub serial: &'a [u8],
    /// The full SPKI element, tag and length included.
    pub spki: &'a [u8],
}

/// Walk an X.509 certificate to its serial number and SPKI. Nothing else is interpreted:
/// WeChat identifies keys by serial, and trust comes from where the certificate came from.
pub(crate) fn certificate_parts(cert: &[u8]) -> Result<CertificateParts<'_>, &'static str> {
    let mut outer = Reader::new(cert);
    let mut certificate = Reader::new(outer.read(tag::SEQUENCE)?);
    outer.finish()?;
    let mut tbs = Reader::new(certificate.read(tag::SEQUENCE)?);
    if tbs.peek_tag() == Some(tag::CONTEXT_0) {
        tbs.read(tag::CONTEXT_0)?; // version
    }
    let serial = tbs.read(tag::INTEGER)?;
    for _ in 0..4 {
        tbs.read(tag::SEQUENCE)?; // signature algorithm, issuer, validity, subject
    }
    let before = tbs.rest;
    tbs.read(tag::SEQUENCE)?;
    let spki = &before[..before.len() - tbs.rest.len()];
    let serial = match serial {
        [0, rest @ ..] if !rest.is_empty() => rest,
        s => s,
    };
    Ok(CertificateParts { serial, spki })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let mut r = Reader::new(&[0x04, 0x02, 0xAA, 0xBB]);
        assert_eq!(r.read(tag::OCTET_STRING).unwrap(), &[0xAA, 0xBB]);
        assert!(r.finish().is_ok());
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        assert_eq!(
            Reader::new(&long).read(tag::OCTET_STRING).unwrap().len(),
            0x80
        );
    }

    #[test]
    fn rejects_truncation_non_minimal_and_indefinite_lengths() {
        assert!(Reader::new(&[0x04, 0x05, 0x00]).read_any().is_err());
        assert!(Reader::new(&[0x04, 0x81, 0x01, 0x00]).read_any().is_err());
        assert!(Reader::new(&[0x30, 0x80, 0x00, 0x00]).read_any().is_err());
        assert!(Reader::new(&[0x04, 0x85, 1, 1, 1, 1, 1])
            .read_any()
            .is_err());
        assert!(Reader::new(&[]).read_any().is_err());
    }

    #[test]
    fn unsigned_integer_strips_sign_byte_and_rejects_negative() {
        assert_eq!(
            Reader::new(&[0x02, 0x02, 0x00, 0x80])
                .read_unsigned()
                .unwrap(),
            &[0x80]
        );
        assert!(Reader::new(&[0x02, 0x01, 0x80]).read_unsigned().is_err());
        assert_eq!(
            Reader::new(&[0x02, 0x01, 0x00]).read_unsigned().unwrap(),
            &[0x00]
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for len in 0..40u8 {
            let junk: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37) ^ 0x30).collect();
            let _ = certificate_parts(&junk);
            let _ = spki_to_rsa_public_key(&junk);
        }
    }
}
