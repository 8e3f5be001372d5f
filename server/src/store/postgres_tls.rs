//! TLS to PostgreSQL, for a database across a network (a managed PostgreSQL, another machine).
//!
//! Used when the connection string asks for it with `sslmode=require`: rustls with aws-lc-rs (the
//! project's one crypto library), verifying the server's certificate chain *and* host name — what
//! libpq calls `verify-full`; a TLS connection to whoever answers is not offered. The chain is
//! checked against the operating system's roots, or only against `database_ca_file` when it is
//! set (the provider's CA bundle, a private CA). Without `sslmode=require` the connection is
//! plain (`sslmode=prefer`, the default, does not try TLS), for a database on the same machine,
//! a Unix socket or a trusted network.

use super::StoreError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use rustls_platform_verifier::BuilderVerifierExt;
use std::path::Path;
use std::sync::Arc;
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How connections to the database are made.
#[derive(Clone)]
pub enum DbTls {
    Plain,
    Verified(MakeRustlsConnect),
}

impl DbTls {
    /// What `config` (its `sslmode`) and `ca_file` ask for.
    pub fn for_config(
        config: &tokio_postgres::Config,
        ca_file: Option<&Path>,
    ) -> Result<DbTls, StoreError> {
        if config.get_ssl_mode() != SslMode::Require {
            return match ca_file {
                Some(ca) => Err(StoreError::Database(format!(
                    "database_ca_file ({}) is set but the connection string does not ask for TLS: add sslmode=require to it",
                    ca.display()
                ))),
                None => Ok(DbTls::Plain),
            };
        }
        // Installing twice is harmless (the second call reports the first provider).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let tls = match ca_file {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                let certs = CertificateDer::pem_file_iter(ca)
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| {
                        StoreError::Database(format!(
                            "database_ca_file {}: {e}; give the PEM file of the CA that signed the database's certificate",
                            ca.display()
                        ))
                    })?;
                if certs.is_empty() {
                    return Err(StoreError::Database(format!(
                        "database_ca_file {} holds no CERTIFICATE",
                        ca.display()
                    )));
                }
                for cert in certs {
                    roots.add(cert).map_err(|e| {
                        StoreError::Database(format!("database_ca_file {}: {e}", ca.display()))
                    })?;
                }
                ClientConfig::builder()
                    .with_root_certificates(Arc::new(roots))
                    .with_no_client_auth()
            }
            None => ClientConfig::builder()
                .with_platform_verifier()
                .map_err(|e| {
                    StoreError::Database(format!(
                        "cannot load the operating system's CA roots for TLS to PostgreSQL: {e}; set database_ca_file"
                    ))
                })?
                .with_no_client_auth(),
        };
        Ok(DbTls::Verified(MakeRustlsConnect::new(tls)))
    }
}
