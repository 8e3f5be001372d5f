//! `wxpay doctor`'s look at the database a PostgreSQL configuration names (a network check, like
//! the clock's): connected the way the store connects (TLS, session settings), it reports what
//! would make `wxpay serve` fail or misbehave — unreachable, a standby that cannot take writes, a
//! schema newer than this program, a plain connection across a network, too few connections
//! for two instances. Nothing is written: the schema is migrated by `wxpay serve`, not here.

use super::{finding, ok, Finding, Level};
use crate::config::Config;
use crate::store::postgres::{self, PostgresOptions};
use crate::store::postgres_tls::DbTls;

/// Connections PostgreSQL keeps for superusers (`superuser_reserved_connections`' default).
const RESERVED: i64 = 3;

/// The findings about `cfg.database_url`; none when the store is SQLite.
pub async fn database(cfg: &Config) -> Vec<Finding> {
    let Some(url) = cfg.database_url.as_ref() else {
        return Vec::new();
    };
    let options = PostgresOptions {
        pool_size: cfg.database_pool_size,
        ca_file: cfg.database_ca_file.clone(),
        ..PostgresOptions::default()
    };
    let (config, tls) = match postgres::prepare(&url.0, &options) {
        Ok(x) => x,
        Err(e) => {
            return vec![finding(
                Level::Error,
                "database_url",
                e.to_string(),
                "fix database_url / database_ca_file / database_pool_size as the message says",
            )]
        }
    };
    let client = match postgres::connect_once(&config, &tls).await {
        Ok(c) => c,
        Err(e) => {
            return vec![finding(
                Level::Error,
                "database_url",
                format!("cannot connect to PostgreSQL: {e}"),
                "check that PostgreSQL runs and that host, port, user, password, database and sslmode (and database_ca_file for TLS) are right",
            )]
        }
    };
    match inspect(&client).await {
        Ok(facts) => judge(&facts, &config, &tls, cfg.database_pool_size),
        Err(e) => vec![finding(
            Level::Error,
            "database_url",
            format!("connected, but cannot inspect the database: {e}"),
            "give the configured user the right to read pg_settings and the wxpay tables",
        )],
    }
}

/// What the database says about itself.
struct Facts {
    version: String,
    standby: bool,
    max_connections: i64,
    tls: bool,
    /// The schema version of the wxpay tables (0: none yet).
    schema: i64,
}

async fn inspect(client: &tokio_postgres::Client) -> Result<Facts, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), pg_is_in_recovery(), \
             current_setting('max_connections')::BIGINT, \
             COALESCE((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false), \
             to_regclass('wxpay_schema') IS NOT NULL",
            &[],
        )
        .await?;
    let has_schema: bool = row.get(4);
    let schema = if has_schema {
        client
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM wxpay_schema",
                &[],
            )
            .await?
            .get(0)
    } else {
        0
    };
    Ok(Facts {
        version: row.get(0),
        standby: row.get(1),
        max_connections: row.get(2),
        tls: row.get(3),
        schema,
    })
}

/// Whether every host of `config` is this machine (loopback or a Unix socket).
fn local_only(config: &tokio_postgres::Config) -> bool {
    config.get_hosts().iter().all(|h| match h {
        tokio_postgres::config::Host::Tcp(name) => {
            name == "localhost"
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        tokio_postgres::config::Host::Unix(_) => true,
    })
}

fn judge(f: &Facts, config: &tokio_postgres::Config, tls: &DbTls, pool: usize) -> Vec<Finding> {
    let mut out = Vec::new();
    let how = if f.tls {
        "verified TLS"
    } else {
        "a plain connection"
    };
    out.push(ok(
        "database_url",
        format!("PostgreSQL {} reached over {how}", f.version),
    ));
    if f.standby {
        out.push(finding(
            Level::Error,
            "database_url",
            "the server is a standby (in recovery): it cannot take the writes every payment needs",
            "point database_url at the primary; with standbys, list every host and add target_session_attrs=read-write",
        ));
    }
    if matches!(tls, DbTls::Plain) && !local_only(config) {
        out.push(finding(
            Level::Warning,
            "database_url",
            "the connection to a database on another machine is not encrypted",
            "add sslmode=require to database_url (and database_ca_file if its CA is private), unless the network between them is trusted",
        ));
    }
    let known = postgres::schema_version() as i64;
    if f.schema > known {
        out.push(finding(
            Level::Error,
            "database_url",
            format!(
                "the wxpay tables have schema version {}, newer than this program knows ({known})",
                f.schema
            ),
            "run the newer wxpay that migrated them (an older one must not write to them)",
        ));
    } else if f.schema < known {
        out.push(ok(
            "database_url",
            format!(
                "schema version {} of {known}: `wxpay serve` migrates it at start",
                f.schema
            ),
        ));
    } else {
        out.push(ok(
            "database_url",
            format!("schema version {known}, current"),
        ));
    }
    let per_instance = pool as i64 + 1;
    let instances = (f.max_connections - RESERVED) / per_instance;
    if instances < 2 {
        out.push(finding(
            Level::Warning,
            "database_pool_size",
            format!(
                "max_connections {} leaves room for {instances} instance(s) of {per_instance} connections (database_pool_size + 1 listening)",
                f.max_connections
            ),
            "lower database_pool_size, or raise max_connections on the server, so that at least two instances (a rolling deploy) fit",
        ));
    } else {
        out.push(ok(
            "database_pool_size",
            format!(
                "max_connections {} leaves room for {instances} instances of {per_instance} connections",
                f.max_connections
            ),
        ));
    }
    out
}
