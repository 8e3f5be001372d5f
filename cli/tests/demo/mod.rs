//! A `wxpay demo` process for the CLI's tests: on a free port of 127.0.0.1, its data in a
//! directory of the test's, its banner read, killed when dropped (a failing test leaves no
//! demo running).

// Each test binary that includes it uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Demo {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub url: String,
    /// The banner's lines, the URL line first (printed in one write, `data …` last).
    pub banner: Vec<String>,
    child: Child,
}

impl Demo {
    /// Starts `wxpay demo --port 0 --data-dir <dir> <args>` and reads its banner.
    pub fn start(dir: &Path, args: &[&str]) -> Demo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wxpay"))
            .args(["demo", "--port", "0", "--data-dir"])
            .arg(dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = Vec::new();
        loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break;
            }
            banner.push(line.trim_end().to_string());
            if line.trim_start().starts_with("data ") {
                break;
            }
        }
        let first = banner.first().cloned().unwrap_or_default();
        let url = first
            .strip_prefix("wxpay demo: ")
            .unwrap_or_else(|| panic!("the demo's first line: {first:?}"))
            .trim_end_matches('/')
            .to_string();
        Demo { url, banner, child }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
