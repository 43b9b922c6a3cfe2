//! Headless Chromium driven through chromedriver, for the tests of pages: the example chat page
//! and the agent app. Skipped with a notice where the programs are missing (see `tools`).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use futures_util::FutureExt;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::tools;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a page may take for anything: generous, as the machine may be busy.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Runs `test` with a fresh browser, unless the programs are missing (then it is skipped, or
/// fails under `WOOTLITE_REQUIRE_TEST_TOOLS=1`). The browser session is ended before a failure
/// is passed on, so no Chromium outlives the test.
pub async fn with_browser<F, Fut>(name: &str, test: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(programs) =
        tools::find_or_skip(name, &[CHROMIUM, CHROMEDRIVER], "chromium chromium-driver")
    else {
        return;
    };
    let driver = Chromedriver::start(&programs[1]).await;
    let browser = driver.browser(&programs[0]).await;
    let outcome = AssertUnwindSafe(test(browser.clone())).catch_unwind().await;
    if outcome.is_err() {
        // What the page showed when the test failed, to look at beside the failure.
        if let Ok(png) = browser.screenshot().await {
            let _ = std::fs::create_dir_all(screenshots());
            let file: String = name
                .chars()
                .map(|c| if c.is_alphanumeric() { c } else { '-' })
                .collect();
            let _ = std::fs::write(screenshots().join(format!("failed-{file}.png")), png);
        }
    }
    let _ = browser.close().await;
    drop(driver);
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure);
    }
}

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
}

/// Saves what the browser shows as `target/tmp/screenshots/{name}.png`, for a person to look at.
pub async fn screenshot(browser: &Client, name: &str) {
    let dir = screenshots();
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    let png = browser.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot written");
}

/// chromedriver on a free loopback port, with a fresh browser profile; killed when dropped.
pub struct Chromedriver {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Chromedriver {
    pub async fn start(program: &Path) -> Chromedriver {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("chromedriver.log")).expect("log file");
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("chromedriver starts");
        let mut driver = Chromedriver { child, port, dir };
        driver.wait_until_ready().await;
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default()
    }

    async fn wait_until_ready(&mut self) {
        let status = format!("{}/status", self.url());
        let client = reqwest::Client::new();
        let started = std::time::Instant::now();
        loop {
            if let Some(exit) = self.child.try_wait().expect("chromedriver state") {
                panic!("chromedriver exited ({exit}): {}", self.log());
            }
            if let Ok(reply) = client.get(&status).send().await {
                let body: Value = reply.json().await.unwrap_or_default();
                if body["value"]["ready"] == true {
                    return;
                }
            }
            assert!(
                started.elapsed() < PATIENCE,
                "chromedriver did not answer on {status}: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A browser session: headless Chromium with a profile of its own. The networking flags keep
    /// it from calling home, which on a closed network only stalls it.
    pub async fn browser(&self, chromium: &Path) -> Client {
        // Each session its own profile, so that none starts with another's cache or cookies.
        let profile = tempfile::tempdir_in(self.dir.path())
            .expect("profile dir")
            .keep();
        let options = json!({
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                format!("--user-data-dir={}", profile.display()),
            ],
        });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&self.url())
            .await
            .unwrap_or_else(|e| panic!("browser session: {e}; chromedriver: {}", self.log()))
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on now: the system picks it, the listener is closed at once.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}
