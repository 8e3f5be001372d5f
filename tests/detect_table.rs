//! Environment detection and pay-mode choice over the table of real user agents in
//! `tests/data/user-agents.tsv` (the Node test holds the built package to the same table).
#![cfg(not(target_arch = "wasm32"))]

use wxpay_checkout::{choose_pay_mode, detect, Client, Environment, PayMode, Platform};

struct Row {
    line: usize,
    note: String,
    ua: String,
    expected: Environment,
    mode: PayMode,
}

fn table() -> Vec<Row> {
    let text = include_str!("data/user-agents.tsv");
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 7, "user-agents.tsv:{}: want 7 tab-separated columns", i + 1);
        let expected = Environment {
            client: Client::from_name(cols[0]).unwrap_or_else(|| panic!("line {}: client {:?}", i + 1, cols[0])),
            platform: Platform::from_name(cols[1]).unwrap_or_else(|| panic!("line {}: platform {:?}", i + 1, cols[1])),
            mobile: cols[2].parse().unwrap_or_else(|_| panic!("line {}: mobile {:?}", i + 1, cols[2])),
            wechat_version: (cols[3] != "-").then(|| cols[3].to_string()),
        };
        let mode = PayMode::from_name(cols[4]).unwrap_or_else(|| panic!("line {}: mode {:?}", i + 1, cols[4]));
        rows.push(Row { line: i + 1, note: cols[5].into(), ua: cols[6].into(), expected, mode });
    }
    rows
}

#[test]
fn table_is_big_and_covers_every_client_platform_and_mode() {
    let rows = table();
    assert!(rows.len() >= 30, "only {} user agents", rows.len());
    for client in Client::ALL {
        assert!(rows.iter().any(|r| r.expected.client == client), "no UA for {client:?}");
    }
    for platform in Platform::ALL.into_iter().filter(|p| *p != Platform::Other) {
        assert!(rows.iter().any(|r| r.expected.platform == platform), "no UA for {platform:?}");
    }
    for mode in PayMode::ALL {
        assert!(rows.iter().any(|r| r.mode == mode), "no UA for {mode:?}");
    }
}

#[test]
fn every_user_agent_is_detected_as_the_table_says() {
    let mut failures = Vec::new();
    for row in table() {
        let got = detect(&row.ua);
        if got != row.expected {
            failures.push(format!("line {} ({}): got {got:?}, want {:?}", row.line, row.note, row.expected));
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_user_agent_gets_the_pay_mode_the_table_says() {
    let mut failures = Vec::new();
    for row in table() {
        let got = choose_pay_mode(&detect(&row.ua));
        if got != row.mode {
            failures.push(format!("line {} ({}): got {got:?}, want {:?}", row.line, row.note, row.mode));
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn detection_ignores_case_and_survives_garbage() {
    for row in table() {
        assert_eq!(detect(&row.ua.to_uppercase()).client, row.expected.client, "line {}", row.line);
    }
    // Outside input: never a panic, always some environment.
    for junk in ["", " ", "MicroMessenger/", "micromessenger/..(", "\u{0}\u{ffff}é中文", "QQ/", "(PC;"] {
        let _ = choose_pay_mode(&detect(junk));
    }
    assert_eq!(detect("MicroMessenger/").wechat_version, None);
}
