//! The agent app on the benchmark dataset (figures in BENCHMARKS.md, "The agent app"): the
//! release server on a scratch copy of the generated data dir, headless Chromium through
//! chromedriver, and the browser's own timing (`performance` marks the app sets when a screen is
//! usable, and Resource Timing for what crossed the wire).
//!
//!     cargo bench --bench app
//!
//! For each screen (the inbox, and a conversation opened by its address), with an empty cache
//! (a new browser profile per run) and with a warm one (the same page loaded again):
//! - time from navigation start to the screen being usable (median of the runs);
//! - bytes transferred (compressed, as the browser counts them) and by whom;
//! - the API calls the screen made.
//!
//! Knobs: WOOTLITE_BENCH_CONVERSATIONS (dataset size, default 1,000,000), APP_RUNS (default 7),
//! WOOTLITE_BENCH_SERVER (another server binary, for a before/after pair).
//! Needs chromium and chromedriver (Debian's `chromium chromium-driver`).

mod support;

#[allow(dead_code)]
#[path = "../tests/api/tools.rs"]
mod tools;

#[allow(dead_code)]
#[path = "../tests/api/browser.rs"]
mod browser;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::Client;
use serde_json::{json, Value};

use support::{dataset, dataset_size, env_u64, median, ServerProcess};

const EMAIL: &str = "admin@wootlite.local";
const PASSWORD: &str = "benchmark password";

/// A browser session cookie, signed in through the API as the app would be.
async fn session_cookie(server: &ServerProcess) -> String {
    let reply = reqwest::Client::new()
        .post(format!("{}/auth/session", server.url))
        .json(&json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await
        .expect("sign-in");
    assert!(reply.status().is_success(), "sign-in: {}", reply.status());
    let cookie = reply
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie")
        .to_string();
    let pair = cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_string()
}

/// What one page load showed, read from the browser's own timing.
#[derive(Debug)]
struct Load {
    ready_ms: f64,
    bytes: f64,
    asset_bytes: f64,
    /// Every request before the mark: address, start and end (ms after navigation), bytes.
    requests: Vec<String>,
    api_calls: usize,
    /// When the page itself had arrived.
    page_ms: f64,
}

/// Navigates to `address` (or reloads the page, which is at `address` already, when `None`) and
/// waits until the app sets the mark `ready`.
async fn load(browser: &Client, address: Option<&str>, ready: &str) -> Load {
    match address {
        Some(address) => browser.goto(address).await.expect("navigate"),
        None => browser.refresh().await.expect("reload"),
    }
    let script = format!(
        "const mark = performance.getEntriesByName('{ready}')[0];\
         if (!mark) return null;\
         const nav = performance.getEntriesByType('navigation')[0];\
         const res = performance.getEntriesByType('resource').filter(r => r.startTime <= mark.startTime);\
         const api = res.filter(r => r.name.includes('/api/') || r.name.includes('/auth/'));\
         const assets = res.filter(r => r.name.includes('/app/'));\
         const sum = (list) => list.reduce((n, r) => n + r.transferSize, 0);\
         return [mark.startTime, nav.transferSize + sum(res), nav.transferSize + sum(assets),\
                 res.map(r => new URL(r.name).pathname + new URL(r.name).search + ' ' + r.startTime.toFixed(0) + '-' + r.responseEnd.toFixed(0) + ' ms ' + r.transferSize + ' B'),\
                 api.length, nav.responseEnd];"
    );
    let started = Instant::now();
    loop {
        let value = browser.execute(&script, vec![]).await.expect("timing");
        if let Some(parts) = value.as_array() {
            return Load {
                ready_ms: parts[0].as_f64().unwrap(),
                bytes: parts[1].as_f64().unwrap(),
                asset_bytes: parts[2].as_f64().unwrap(),
                requests: parts[3]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_string())
                    .collect(),
                api_calls: parts[4].as_u64().unwrap() as usize,
                page_ms: parts[5].as_f64().unwrap(),
            };
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{ready} never came"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A fresh browser profile (an empty cache) holding the session cookie.
async fn fresh_browser(
    driver: &browser::Chromedriver,
    chromium: &Path,
    server: &ServerProcess,
    cookie: &str,
) -> Client {
    let browser = driver.browser(chromium).await;
    browser.set_window_size(1400, 900).await.expect("size");
    browser
        .goto(&format!("{}/health", server.url))
        .await
        .expect("health");
    // Set from script, as WebDriver's cookie command refuses an IP address as domain; the
    // server reads the value alone.
    browser
        .execute(
            "document.cookie = 'wootlite_session=' + arguments[0] + '; path=/; SameSite=Strict'; return true",
            vec![json!(cookie)],
        )
        .await
        .expect("cookie");
    browser
}

fn summary(name: &str, loads: &[Load]) -> Value {
    let ready: Vec<f64> = loads.iter().map(|l| l.ready_ms).collect();
    let bytes: Vec<f64> = loads.iter().map(|l| l.bytes).collect();
    let assets: Vec<f64> = loads.iter().map(|l| l.asset_bytes).collect();
    let row = json!({
        "screen": name,
        "ready_ms_median": median(ready.clone()),
        "ready_ms_min": ready.iter().cloned().fold(f64::MAX, f64::min),
        "ready_ms_max": ready.iter().cloned().fold(0.0, f64::max),
        "bytes_median": median(bytes),
        "page_and_asset_bytes_median": median(assets),
        "api_calls": loads[0].api_calls,
        "page_ms_median": median(loads.iter().map(|l| l.page_ms).collect()),
        "requests_of_first_run": loads[0].requests,
    });
    println!(
        "| {name} | {:.0} ms ({:.0}-{:.0}) | {:.1} KB | {:.1} KB | {} |",
        row["ready_ms_median"].as_f64().unwrap(),
        row["ready_ms_min"].as_f64().unwrap(),
        row["ready_ms_max"].as_f64().unwrap(),
        row["bytes_median"].as_f64().unwrap() / 1024.0,
        row["page_and_asset_bytes_median"].as_f64().unwrap() / 1024.0,
        loads[0].api_calls,
    );
    row
}

#[tokio::main]
async fn main() {
    let Some(programs) = tools::find_or_skip(
        "the agent app benchmark",
        &["/usr/bin/chromium", "/usr/bin/chromedriver"],
        "chromium chromium-driver",
    ) else {
        return;
    };
    let runs = env_u64("APP_RUNS", 7) as usize;
    let source = dataset(dataset_size());
    // The app writes (its session, what the agent has seen): it gets a copy of the dataset.
    let scratch = Path::new("target/bench-data/app-work");
    // A copy left by an interrupted run is used again: the app's writes do not change what the
    // screens show.
    if !scratch.join("generated").exists() {
        let _ = std::fs::remove_dir_all(scratch);
        let copied = Command::new("cp")
            .arg("-r")
            .arg(&source)
            .arg(scratch)
            .status()
            .expect("cp");
        assert!(copied.success(), "copying the dataset");
    }
    let set = Command::new(env!("CARGO_BIN_EXE_wootlite"))
        .args(["user", "password", "--email", EMAIL, "--password", PASSWORD])
        .arg("--data-dir")
        .arg(scratch)
        .stdout(Stdio::null())
        .status()
        .expect("wootlite user password");
    assert!(set.success(), "setting the password");
    let server = ServerProcess::start(&["--data-dir".as_ref(), scratch.as_os_str()]).await;
    let cookie = session_cookie(&server).await;
    let driver = browser::Chromedriver::start(&programs[1]).await;

    // A conversation of the admin's Mine tab, as the one to open.
    let first: Value = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/accounts/1/conversations?assignee_type=all",
            server.url
        ))
        .header("cookie", format!("wootlite_session={cookie}"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let open_id = first["data"]["payload"][0]["id"].as_i64().expect("an id");

    let inbox = format!("{}/app/#/conversations?tab=all", server.url);
    let conversation = format!("{}/app/#/conversations/{open_id}?tab=all", server.url);
    let mut rows = Vec::new();
    println!("\n{} conversations, {runs} runs each\n", dataset_size());
    println!(
        "| screen | usable after (median, min-max) | bytes in all | page + assets | API calls |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for (name, address, mark) in [
        ("inbox", &inbox, "inbox-ready"),
        ("conversation", &conversation, "conversation-ready"),
    ] {
        let (mut cold, mut warm) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let browser = fresh_browser(&driver, &programs[0], &server, &cookie).await;
            cold.push(load(&browser, Some(address), mark).await);
            warm.push(load(&browser, None, mark).await);
            browser.close().await.expect("close");
        }
        rows.push(summary(&format!("{name}, empty cache"), &cold));
        rows.push(summary(&format!("{name}, warm cache"), &warm));
        for (kind, runs) in [("empty cache", &cold), ("warm cache", &warm)] {
            println!(
                "   {name}, {kind}, first run; the page came at {:.0} ms:",
                runs[0].page_ms
            );
            for request in &runs[0].requests {
                println!("     {request}");
            }
        }
    }
    let out = Path::new("target/app-bench");
    std::fs::create_dir_all(out).expect("out dir");
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(
            &json!({"conversations": dataset_size(), "runs": runs, "rows": rows}),
        )
        .unwrap(),
    )
    .expect("results written");
    drop(server);
    let _ = std::fs::remove_dir_all(scratch);
}
