//! `examples/chat.html` in a real browser: headless Chromium, driven through chromedriver, opens
//! the page as a file and chats with a real server as a customer would, while the test plays the
//! agent through the application API.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::helpers::{eventually, spawn_app, TestApp};
use crate::tools;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long the page may take for anything: generous, as the machine may be busy.
const PATIENCE: Duration = Duration::from_secs(15);

/// chromedriver on a free loopback port, with a fresh browser profile; killed when dropped.
struct Chromedriver {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Chromedriver {
    async fn start(program: &Path) -> Chromedriver {
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
    async fn browser(&self, chromium: &Path) -> Client {
        let profile = self.dir.path().join("profile");
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

/// The page as a file URL, pointed at the server and inbox.
fn page_url(app: &TestApp, inbox_identifier: &str) -> String {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/chat.html");
    let mut url = url::Url::from_file_path(&file).expect("absolute path");
    url.query_pairs_mut()
        .append_pair("server", &app.address)
        .append_pair("inbox", inbox_identifier);
    url.to_string()
}

/// One bubble of `#messages`, as the page shows it.
#[derive(Debug)]
struct Bubble {
    id: Option<i64>,
    class: String,
    text: String,
}

/// Every bubble in `#messages`, read in one go so that none changes halfway through.
async fn bubbles(browser: &Client) -> Vec<Bubble> {
    let script = "return [...document.getElementById('messages').children]\
                  .map(e => [e.dataset.messageId || null, e.className, e.textContent]);";
    let shown = browser.execute(script, vec![]).await.expect("script runs");
    shown
        .as_array()
        .expect("a list")
        .iter()
        .map(|b| Bubble {
            id: b[0].as_str().map(|id| id.parse().expect("numeric id")),
            class: b[1].as_str().unwrap_or_default().to_string(),
            text: b[2].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

async fn text_of(browser: &Client, css: &str) -> String {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} on the page: {e}"))
        .text()
        .await
        .expect("element text")
}

async fn wait_until_connected(browser: &Client) {
    let started = std::time::Instant::now();
    loop {
        let status = text_of(browser, "#status").await;
        if status == "connected" {
            return;
        }
        if started.elapsed() > PATIENCE {
            let error = text_of(browser, "#error").await;
            panic!("the page never connected: status {status:?}, error {error:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls the page until it shows message `id`, failing (with what the page shows) after
/// `PATIENCE`, or at once if a bubble holds the text `never`.
async fn wait_for_bubble(browser: &Client, what: &str, id: i64, never: Option<&str>) -> Bubble {
    let started = std::time::Instant::now();
    loop {
        let shown = bubbles(browser).await;
        if let Some(text) = never {
            assert!(
                shown.iter().all(|b| !b.text.contains(text)),
                "{text:?} is on the page: {shown:?}"
            );
        }
        if let Some(found) = shown.into_iter().find(|b| b.id == Some(id)) {
            return found;
        }
        if started.elapsed() > PATIENCE {
            let status = text_of(browser, "#status").await;
            let shown = bubbles(browser).await;
            panic!("{what} (message {id}) never showed; status {status:?}, page: {shown:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_example_page_chats_with_an_agent_in_a_real_browser() {
    let Some(programs) = tools::find_or_skip(
        "the example page's browser test",
        &[CHROMIUM, CHROMEDRIVER],
        "chromium chromium-driver",
    ) else {
        return;
    };
    let app = spawn_app().await;
    let driver = Chromedriver::start(&programs[1]).await;
    let browser = driver.browser(&programs[0]).await;
    // Whatever happens in the chat, end the browser session before failing.
    let outcome = AssertUnwindSafe(chat(&app, &browser)).catch_unwind().await;
    let _ = browser.close().await;
    drop(driver);
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure);
    }
}

async fn chat(app: &TestApp, browser: &Client) {
    // The README's way: an API inbox made by the administrator, its identifier in the page URL.
    let inbox = app
        .post(
            "/api/v1/accounts/1/inboxes",
            json!({"name": "Website", "channel": {"type": "api"}}),
        )
        .await
        .expect(200);
    let inbox_id = inbox["id"].as_i64().unwrap();
    let identifier = inbox["inbox_identifier"].as_str().unwrap().to_string();
    browser
        .goto(&page_url(app, &identifier))
        .await
        .expect("page opens");
    wait_until_connected(browser).await;

    let question = "Hello from the example page <b>not bold</b>";
    browser
        .find(Locator::Css("#message-input"))
        .await
        .expect("message input")
        .send_keys(question)
        .await
        .expect("typed");
    browser
        .find(Locator::Css("#send"))
        .await
        .expect("send button")
        .click()
        .await
        .expect("clicked");

    // The server holds it as the contact's message, in the one conversation the page opened.
    let conversations = format!("/api/v1/accounts/1/conversations?inbox_id={inbox_id}");
    let (conversation_id, message_id) =
        eventually("the message on the server", PATIENCE, || async {
            let list = app.get(&conversations).await.expect(200);
            let conversation = list["data"]["payload"].as_array()?.first()?["id"].as_i64()?;
            let found = app.messages(conversation).await.into_iter().find(|m| {
                m["content"] == question && m["message_type"] == 0 && m["private"] == false
            })?;
            Some((conversation, found["id"].as_i64()?))
        })
        .await;

    // The page shows it as sent, as text: the markup in it is not markup.
    let sent = wait_for_bubble(browser, "the sent message", message_id, None).await;
    assert!(sent.class.split(' ').any(|c| c == "incoming"), "{sent:?}");
    assert!(sent.text.contains(question), "{sent:?}");
    let bold: Vec<_> = browser
        .find_all(Locator::Css("#messages b"))
        .await
        .expect("query");
    assert!(bold.is_empty(), "message content became markup");

    // A reload keeps the contact and its conversation: the message is still there, and no
    // second conversation was opened.
    browser.refresh().await.expect("reload");
    wait_until_connected(browser).await;
    let shown = bubbles(browser).await;
    assert!(
        shown.iter().any(|b| b.id == Some(message_id)),
        "after a reload: {shown:?}"
    );
    let list = app.get(&conversations).await.expect(200);
    assert_eq!(
        list["data"]["payload"].as_array().unwrap().len(),
        1,
        "{list}"
    );

    // The agent writes a private note, then answers. The answer arrives live over /cable; the
    // note is never the customer's to see.
    let note = "Private note: check the customer's plan";
    let reply = "Hello from the agent";
    app.message(conversation_id, json!({"content": note, "private": true}))
        .await;
    let answer = app
        .message(conversation_id, json!({"content": reply}))
        .await;
    let answer_id = answer["id"].as_i64().unwrap();
    let live = wait_for_bubble(browser, "the agent's reply", answer_id, Some(note)).await;
    assert!(live.class.split(' ').any(|c| c == "outgoing"), "{live:?}");
    assert!(live.text.contains(reply), "{live:?}");
    let page = text_of(browser, "#messages").await;
    assert!(!page.contains(note), "the private note is on the page");
}
