//! `examples/chat.html` in a real browser: headless Chromium, driven through chromedriver, opens
//! the page as a file and chats with a real server as a customer would, while the test plays the
//! agent through the application API.

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{self, PATIENCE};
use crate::helpers::{eventually, spawn_app, TestApp};

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
    browser::with_browser("the example page's browser test", |browser| async move {
        let app = spawn_app().await;
        chat(&app, &browser).await;
    })
    .await;
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
    // The reloaded page shows its history once its requests answer, which a one-off look
    // right after the reload can miss.
    browser.refresh().await.expect("reload");
    wait_until_connected(browser).await;
    wait_for_bubble(browser, "the message after a reload", message_id, None).await;
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
