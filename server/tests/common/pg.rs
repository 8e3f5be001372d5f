//! A throwaway PostgreSQL cluster for tests: Debian's `postgresql` package, `initdb` in a temp
//! dir (as the `postgres` user when the tests run as root: PostgreSQL refuses root), started on a
//! free loopback port with its socket in the temp dir, stopped and deleted on drop.
//!
//! The server binaries are looked up in `WXPAY_PG_BIN`, else the newest
//! `/usr/lib/postgresql/<version>/bin`.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
    as_postgres: bool,
    /// `-c ssl=on …` when started with TLS.
    tls_options: String,
}

fn pg_bin() -> PathBuf {
    if let Ok(dir) = std::env::var("WXPAY_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server not installed: apt-get install postgresql (or set WXPAY_PG_BIN)")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no /usr/lib/postgresql/<version>/bin/initdb: apt-get install postgresql")
        .1
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A loopback port nothing listens on (at the moment of asking).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PgCluster {
    /// initdb + start. Panics with the server's log when it cannot.
    pub fn start() -> PgCluster {
        Self::start_with(None)
    }

    /// Like [`PgCluster::start`], serving TLS (besides plain connections) with this certificate
    /// chain and key (PEM files; copied into the cluster's directory, readable by the server only).
    pub fn start_with_tls(cert: &Path, key: &Path) -> PgCluster {
        Self::start_with(Some((cert, key)))
    }

    fn start_with(tls: Option<(&Path, &Path)>) -> PgCluster {
        let bin = pg_bin();
        let dir = tempfile::Builder::new()
            .prefix("wxpay-pg-")
            .tempdir_in("/tmp")
            .unwrap();
        let as_postgres = is_root();
        if as_postgres {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown of the cluster dir to postgres failed");
        }
        let mut tls_options = String::new();
        if let Some((cert, key)) = tls {
            let (cert_copy, key_copy) =
                (dir.path().join("server.crt"), dir.path().join("server.key"));
            std::fs::copy(cert, &cert_copy).unwrap();
            std::fs::copy(key, &key_copy).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key_copy, std::fs::Permissions::from_mode(0o600)).unwrap();
            if as_postgres {
                let ok = Command::new("chown")
                    .args(["postgres:postgres"])
                    .args([&cert_copy, &key_copy])
                    .status()
                    .unwrap()
                    .success();
                assert!(ok, "chown of the TLS files to postgres failed");
            }
            tls_options = format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                cert_copy.display(),
                key_copy.display()
            );
        }
        let cluster = PgCluster {
            dir,
            bin,
            port: free_port(),
            as_postgres,
            tls_options,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster.pg_ctl_start();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}\nlog: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
        );
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300{}",
            self.port,
            self.dir.path().display(),
            self.tls_options
        );
        let data = self.data();
        let log = self.dir.path().join("log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server (fast: open connections are cut).
    pub fn stop(&self) {
        let data = self.data();
        self.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
    }

    /// Starts it again on the same port.
    pub fn restart(&self) {
        self.pg_ctl_start();
    }

    /// The URL of database `name` (which [`PgCluster::create_database`] made).
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs `sql` in database `db` with psql (as the superuser, over the socket); its output,
    /// one row per line, columns separated by `|`.
    pub fn sql(&self, db: &str, sql: &str) -> String {
        let port = self.port.to_string();
        let host = self.dir.path().to_str().unwrap().to_string();
        let out = self
            .command("psql")
            .args([
                "-h", &host, "-p", &port, "-U", "postgres", "-d", db, "-At", "-c", sql,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A new empty database.
    pub fn create_database(&self, name: &str) -> String {
        let port = self.port.to_string();
        let host = self.dir.path().to_str().unwrap().to_string();
        self.run(
            "createdb",
            &["-h", &host, "-p", &port, "-U", "postgres", name],
        );
        self.url(name)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args([
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }
}
