//! The agent app at `/app/` in a real browser (headless Chromium through chromedriver), against
//! a real server: the test seeds data through the API, works the app as an agent would, and
//! checks through the API that the app did what it showed. Screenshots of the main screens are
//! saved under `target/tmp/screenshots/`.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use crate::browser::{self, screenshot, PATIENCE};
use crate::helpers::{eventually, spawn_app, TestApp};
use crate::smtp_sink::{app_with_sink, SmtpSink};
use wootlite::clock::Clock;
use wootlite::store::agents;

const ADMIN_EMAIL: &str = "admin@wootlite.local";
const PASSWORD: &str = "correct horse battery";
/// Message content that would run script if it were ever treated as markup.
const XSS: &str =
    "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script><b>bold?</b>";

/// A 1x1 PNG.
const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

fn set_password(app: &TestApp, email: &str, password: &str) {
    let hash = wootlite::passwords::hash(password).expect("hash");
    let set = app
        .db()
        .write_now(|tx| agents::set_password_hash(tx, email, &hash, 0))
        .expect("password stored");
    assert!(set, "no user {email}");
}

// ------------------------------------------------------------------ driving the page

/// Polls `script` (a function body) until it returns something truthy, and returns that.
async fn wait_js(browser: &Client, what: &str, script: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        let value = browser.execute(script, vec![]).await.expect("script runs");
        let truthy = !matches!(&value, Value::Null | Value::Bool(false))
            && value != json!("")
            && value != json!(0);
        if truthy {
            return value;
        }
        if started.elapsed() > PATIENCE {
            let page = browser
                .execute("return document.body.innerText.slice(0, 2000)", vec![])
                .await
                .unwrap_or_default();
            panic!("{what}: never happened; the page shows {page}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn element(browser: &Client, css: &str) -> fantoccini::elements::Element {
    browser
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} on the page: {e}"))
}

/// Clicks `css`, finding it again if the app redrew it between the finding and the click (a
/// live update can do that at any moment).
/// Runs `op` on the element `css`, finding it again when the app redrew it between the finding
/// and the action (a live update can do that at any moment).
async fn on_element<T, F, Fut>(browser: &Client, css: &str, what: &str, op: F) -> T
where
    F: Fn(fantoccini::elements::Element) -> Fut,
    Fut: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
{
    let started = std::time::Instant::now();
    loop {
        match op(element(browser, css).await).await {
            Ok(value) => return value,
            Err(e) if e.is_stale_element_reference() && started.elapsed() < PATIENCE => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("{what} {css}: {e}"),
        }
    }
}

async fn click(browser: &Client, css: &str) {
    on_element(browser, css, "click", |e| async move { e.click().await }).await
}

async fn type_into(browser: &Client, css: &str, text: &str) {
    on_element(browser, css, "type into", |e| async move {
        e.clear().await?;
        e.send_keys(text).await
    })
    .await
}

async fn choose(browser: &Client, css: &str, value: &str) {
    on_element(browser, css, "choose", |e| async move {
        e.select_by_value(value).await
    })
    .await
}

async fn text(browser: &Client, css: &str) -> String {
    on_element(browser, css, "text of", |e| async move { e.text().await }).await
}

async fn press(browser: &Client, css: &str, key: &str) {
    on_element(
        browser,
        css,
        "press",
        |e| async move { e.send_keys(key).await },
    )
    .await
}

async fn wait_for_rows(browser: &Client, what: &str, expected: &[i64]) {
    let want = json!(expected);
    let script = format!(
        "const ids = [...document.querySelectorAll('#conversation-list li[data-id]')]\
           .map(li => Number(li.dataset.id)).sort((a, b) => a - b);\
         return JSON.stringify(ids) === '{want}' ? ids : null;"
    );
    let started = std::time::Instant::now();
    loop {
        let value = browser.execute(&script, vec![]).await.expect("script");
        if !value.is_null() {
            return;
        }
        if started.elapsed() > PATIENCE {
            let shown = browser
                .execute(
                    "return [...document.querySelectorAll('#conversation-list li[data-id]')].map(li => li.dataset.id)",
                    vec![],
                )
                .await
                .unwrap_or_default();
            panic!("{what}: the list shows {shown}, expected {want}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sign_in(browser: &Client, app: &TestApp, email: &str, password: &str) {
    browser
        .goto(&format!("{}/app/", app.address))
        .await
        .expect("app opens");
    type_into(browser, "#login-email", email).await;
    type_into(browser, "#login-password", password).await;
    click(browser, "#login-submit").await;
}

async fn signed_in(browser: &Client, app: &TestApp, email: &str) {
    sign_in(browser, app, email, PASSWORD).await;
    wait_js(
        browser,
        "the inbox after signing in",
        "return document.body.dataset.list === 'ready'",
    )
    .await;
}

/// Opens conversation `id` from the list as a person does, and waits for its thread.
async fn open(browser: &Client, id: i64) {
    click(browser, &format!("#conversation-list li[data-id='{id}'] a")).await;
    wait_js(
        browser,
        "the conversation opened",
        &format!(
            "return document.body.dataset.conversation === '{id}' && document.getElementById('messages')"
        ),
    )
    .await;
}

/// How many pixels the page is wider than the window.
async fn overflow(browser: &Client) -> i64 {
    browser
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth",
            vec![],
        )
        .await
        .expect("widths")
        .as_i64()
        .expect("a number")
}

// ------------------------------------------------------------------ seeding through the API

/// A new API inbox of account 1; returns its id.
async fn api_inbox(app: &TestApp, name: &str) -> i64 {
    app.post(
        "/api/v1/accounts/1/inboxes",
        json!({"name": name, "channel": {"type": "api"}}),
    )
    .await
    .expect(200)["id"]
        .as_i64()
        .unwrap()
}

/// A conversation in inbox `inbox` of account 1 for a new contact called `name`.
async fn conversation(app: &TestApp, inbox: i64, name: &str, first: &str) -> i64 {
    let source = format!("src-{}", name.to_lowercase().replace(' ', "-"));
    app.post(
        "/api/v1/accounts/1/contacts",
        json!({"name": name, "inbox_id": inbox, "source_id": source}),
    )
    .await
    .expect(200);
    let created = app
        .post(
            "/api/v1/accounts/1/conversations",
            json!({"source_id": source, "inbox_id": inbox}),
        )
        .await
        .expect(200);
    let id = created["id"].as_i64().unwrap();
    app.message(id, json!({"content": first, "message_type": "incoming"}))
        .await;
    id
}

async fn call(app: &TestApp, id: i64, action: &str, body: Value) {
    app.post(
        &format!("/api/v1/accounts/1/conversations/{id}/{action}"),
        body,
    )
    .await
    .expect(200);
}

struct Seeded {
    /// Unassigned, open, label `billing`, priority high, the XSS message.
    unassigned: i64,
    /// Assigned to the administrator, holds the searchable word.
    mine: i64,
    resolved: i64,
}

async fn seed(app: &TestApp) -> Seeded {
    for label in ["billing", "vip"] {
        app.post("/api/v1/accounts/1/labels", json!({"title": label}))
            .await
            .expect(200);
    }
    app.post("/api/v1/accounts/1/teams", json!({"name": "Tier two"}))
        .await
        .expect(200);
    app.post(
        "/api/v1/accounts/1/custom_attribute_definitions",
        json!({"attribute_display_name": "Order number", "attribute_key": "order_number",
               "attribute_display_type": "text", "attribute_model": "conversation_attribute"}),
    )
    .await
    .expect(200);
    let unassigned = conversation(app, 1, "Uma Unassigned", XSS).await;
    call(app, unassigned, "labels", json!({"labels": ["billing"]})).await;
    call(
        app,
        unassigned,
        "toggle_priority",
        json!({"priority": "high"}),
    )
    .await;
    let mine = conversation(app, 1, "Mia Mine", "Where is my zebrafish order?").await;
    // The team first: a team change drops an assignee who is not in the team (Chatwoot's rule).
    call(app, mine, "assignments", json!({"team_id": 1})).await;
    call(app, mine, "assignments", json!({"assignee_id": 1})).await;
    let resolved = conversation(app, 1, "Rex Resolved", "Thanks, all good").await;
    call(
        app,
        resolved,
        "toggle_status",
        json!({"status": "resolved"}),
    )
    .await;
    Seeded {
        unassigned,
        mine,
        resolved,
    }
}

// ------------------------------------------------------------------ the tests

#[tokio::test]
async fn an_agent_signs_in_and_works_the_inbox_list() {
    browser::with_browser("the agent app's inbox test", |browser| async move {
        let app = spawn_app().await;
        let seeded = seed(&app).await;
        set_password(&app, ADMIN_EMAIL, PASSWORD);
        browser.set_window_size(1280, 900).await.expect("size");

        // A wrong password is told, and nothing opens.
        sign_in(&browser, &app, ADMIN_EMAIL, "not the password").await;
        wait_js(
            &browser,
            "the sign-in error",
            "return document.getElementById('login-error').textContent",
        )
        .await;
        assert!(browser
            .find(Locator::Css("#conversation-list"))
            .await
            .is_err());
        screenshot(&browser, "sign-in-failed").await;

        signed_in(&browser, &app, ADMIN_EMAIL).await;
        // Mine is the first tab, as in Chatwoot; the counts are the API's.
        wait_for_rows(&browser, "the Mine tab", &[seeded.mine]).await;
        let meta = app
            .get("/api/v1/accounts/1/conversations/meta")
            .await
            .expect(200)["meta"]
            .clone();
        for (tab, key) in [
            ("mine", "mine_count"),
            ("unassigned", "unassigned_count"),
            ("all", "all_count"),
        ] {
            let shown = text(&browser, &format!("[data-count='{tab}']")).await;
            assert_eq!(shown, meta[key].to_string(), "{tab} count");
        }
        screenshot(&browser, "inbox-mine").await;

        click(&browser, "[data-tab='unassigned']").await;
        wait_for_rows(&browser, "the Unassigned tab", &[seeded.unassigned]).await;
        click(&browser, "[data-tab='all']").await;
        wait_for_rows(
            &browser,
            "the All tab",
            &[seeded.unassigned, seeded.mine],
        )
        .await;

        // The row tells contact, priority, labels and unread count.
        let row = text(
            &browser,
            &format!("#conversation-list li[data-id='{}']", seeded.unassigned),
        )
        .await;
        for part in ["Uma Unassigned", "high", "billing"] {
            assert!(row.contains(part), "row lacks {part}: {row}");
        }

        choose(&browser, "#filter-status", "resolved").await;
        wait_for_rows(&browser, "resolved", &[seeded.resolved]).await;
        choose(&browser, "#filter-status", "open").await;
        choose(&browser, "#filter-label", "billing").await;
        wait_for_rows(&browser, "label billing", &[seeded.unassigned]).await;
        choose(&browser, "#filter-label", "").await;
        choose(&browser, "#filter-team", "1").await;
        wait_for_rows(&browser, "team Tier two", &[seeded.mine]).await;
        choose(&browser, "#filter-team", "").await;
        choose(&browser, "#filter-sort", "sort_on_created_at").await;
        // Both sorts show the same two rows: wait for the order itself, oldest first.
        wait_js(
            &browser,
            "sorted by creation",
            &format!(
                "return JSON.stringify([...document.querySelectorAll('#conversation-list li[data-id]')]\
                 .map(li => Number(li.dataset.id))) === '[{},{}]'",
                seeded.unassigned, seeded.mine
            ),
        )
        .await;

        // A second inbox appears in the inbox filter and narrows the list.
        let other = api_inbox(&app, "Shop").await;
        let in_shop = conversation(&app, other, "Sam Shop", "Hello shop").await;
        browser.refresh().await.expect("reload");
        choose(&browser, "#filter-inbox", &other.to_string()).await;
        wait_for_rows(&browser, "inbox Shop", &[in_shop]).await;
        choose(&browser, "#filter-inbox", "").await;

        // Search over message content.
        type_into(&browser, "#search", "zebrafish\n").await;
        wait_for_rows(&browser, "search zebrafish", &[seeded.mine]).await;
        type_into(&browser, "#search", "\n").await;
        wait_for_rows(
            &browser,
            "search cleared",
            &[seeded.unassigned, seeded.mine, in_shop],
        )
        .await;

        // The advanced filter sends Chatwoot's payload: priority is high.
        click(&browser, "#open-filter").await;
        choose(&browser, "#filter-dialog .filter-key", "priority").await;
        choose(&browser, "#filter-dialog .filter-value", "high").await;
        screenshot(&browser, "filter-builder").await;
        click(&browser, "#filter-apply").await;
        wait_for_rows(&browser, "filter priority high", &[seeded.unassigned]).await;
        click(&browser, "#clear-filter").await;
        wait_for_rows(
            &browser,
            "filter cleared",
            &[seeded.unassigned, seeded.mine, in_shop],
        )
        .await;

        // A conversation created elsewhere appears without a reload, and the count follows.
        let live = conversation(&app, 1, "Lee Live", "I just arrived").await;
        wait_for_rows(
            &browser,
            "the new conversation, live",
            &[seeded.unassigned, seeded.mine, in_shop, live],
        )
        .await;
        wait_js(
            &browser,
            "the All count after the new conversation",
            "return document.querySelector(\"[data-count='all']\").textContent === '4'",
        )
        .await;

        // Sign-out ends the session: a reload asks to sign in again.
        click(&browser, "#sign-out").await;
        element(&browser, "#login-email").await;
        browser.refresh().await.expect("reload");
        element(&browser, "#login-email").await;
    })
    .await;
}

#[tokio::test]
async fn an_agent_handles_a_conversation_with_every_action() {
    browser::with_browser("the agent app's conversation test", |browser| async move {
        let (app, sink) = app_with_sink(Clock::system(), None).await;
        let seeded = seed(&app).await;
        set_password(&app, ADMIN_EMAIL, PASSWORD);
        let (agent_id, _) = app.create_agent("Bea Agent", "bea@example.com").await;
        browser.set_window_size(1400, 900).await.expect("size");
        signed_in(&browser, &app, ADMIN_EMAIL).await;
        click(&browser, "[data-tab='all']").await;
        wait_for_rows(&browser, "All", &[seeded.unassigned, seeded.mine]).await;
        let id = seeded.unassigned;
        open(&browser, id).await;

        // The attacker's message is shown as its text, and none of it ran or became markup.
        let shown = text(&browser, "#messages .message.incoming .content").await;
        assert_eq!(shown, XSS);
        let ran = browser
            .execute(
                "return [window.__xss === undefined, document.querySelectorAll('#messages img, #messages script, #messages b').length]",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(ran, json!([true, 0]), "the payload became markup or ran");

        // A reply and a private note, as the API then sees them.
        type_into(&browser, "#composer-text", "We are on it").await;
        click(&browser, "#composer-send").await;
        click(&browser, "#composer-private").await;
        type_into(&browser, "#composer-text", "Check the invoice first").await;
        click(&browser, "#composer-send").await;
        let messages = eventually("the reply and the note", PATIENCE, || async {
            let all = app.messages(id).await;
            let reply = all.iter().any(|m| {
                m["content"] == "We are on it" && m["message_type"] == 1 && m["private"] == false
            });
            let note = all.iter().any(|m| {
                m["content"] == "Check the invoice first"
                    && m["message_type"] == 1
                    && m["private"] == true
            });
            (reply && note).then_some(all)
        })
        .await;
        assert!(messages.len() >= 3);
        // An image sent from the composer, previewed in the thread.
        let dir = tempfile::tempdir().expect("temp dir");
        let image = dir.path().join("pixel.png");
        std::fs::write(&image, PIXEL_PNG).expect("image written");
        press(&browser, "#composer-files", image.to_str().unwrap()).await;
        click(&browser, "#composer-private").await;
        type_into(&browser, "#composer-text", "Here is the screenshot").await;
        click(&browser, "#composer-send").await;
        wait_js(
            &browser,
            "the image's preview",
            "const img = document.querySelector('#messages .message.outgoing .attachment.image img');\
             return img && img.complete && img.naturalWidth === 1",
        )
        .await;
        let sent = app.messages(id).await;
        let with_file = sent
            .iter()
            .find(|m| m["content"] == "Here is the screenshot")
            .expect("the message with the image");
        assert_eq!(with_file["private"], false);
        assert_eq!(with_file["attachments"][0]["file_type"], "image");
        wait_js(
            &browser,
            "the note shown as a note",
            "return [...document.querySelectorAll('#messages .message.private .content')].some(e => e.textContent === 'Check the invoice first')",
        )
        .await;

        // A message created through the API appears live in the open thread.
        let incoming = app
            .message(
                id,
                json!({"content": "Any news? <i>please</i>", "message_type": "incoming"}),
            )
            .await;
        wait_js(
            &browser,
            "the contact's new message, live",
            &format!(
                "const li = document.querySelector(\"#messages li[data-id='{}']\");\
                 return li && li.classList.contains('incoming') && !li.querySelector('i')",
                incoming["id"]
            ),
        )
        .await;
        screenshot(&browser, "conversation").await;

        // Every action, each checked through the API.
        click(&browser, "#action-resolve").await;
        until(&app, id, "resolved", |c| c["status"] == "resolved").await;
        wait_js(
            &browser,
            "the Reopen button",
            "return document.getElementById('action-resolve').textContent === 'Reopen'",
        )
        .await;
        click(&browser, "#action-resolve").await;
        until(&app, id, "reopened", |c| c["status"] == "open").await;

        choose(&browser, "#action-snooze", "hour").await;
        until(&app, id, "snoozed for an hour", |c| {
            c["status"] == "snoozed" && c["snoozed_until"].is_string()
        })
        .await;
        click(&browser, "#action-resolve").await;
        until(&app, id, "resolved from snoozed", |c| c["status"] == "resolved").await;
        click(&browser, "#action-resolve").await;
        until(&app, id, "open again", |c| c["status"] == "open").await;
        choose(&browser, "#action-snooze", "next_reply").await;
        until(&app, id, "snoozed until the next reply", |c| {
            c["status"] == "snoozed" && c["snoozed_until"].is_null()
        })
        .await;
        // The incoming message wakes it (Chatwoot's rule), and the app shows it.
        app.message(id, json!({"content": "hello?", "message_type": "incoming"}))
            .await;
        wait_js(
            &browser,
            "open after the contact wrote",
            "return document.getElementById('conversation-status').textContent === 'open'",
        )
        .await;

        // A date of one's choosing (the picker's value set as a person's choice would set it).
        choose(&browser, "#action-snooze", "date").await;
        element(&browser, "#snooze-date").await;
        browser
            .execute(
                "const input = document.getElementById('snooze-date');\
                 input.value = '2030-01-02T10:00';\
                 input.dispatchEvent(new Event('change'));\
                 return true",
                vec![],
            )
            .await
            .expect("date chosen");
        until(&app, id, "snoozed until 2030", |c| {
            c["status"] == "snoozed"
                && c["snoozed_until"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("2030-01-02"))
        })
        .await;
        click(&browser, "#action-resolve").await;
        until(&app, id, "resolved from the date", |c| c["status"] == "resolved").await;
        click(&browser, "#action-resolve").await;
        until(&app, id, "open after the date", |c| c["status"] == "open").await;

        choose(&browser, "#action-priority", "urgent").await;
        until(&app, id, "urgent", |c| c["priority"] == "urgent").await;
        choose(&browser, "#action-assignee", &agent_id.to_string()).await;
        until(&app, id, "assigned to Bea", |c| {
            c["meta"]["assignee"]["id"] == agent_id
        })
        .await;
        choose(&browser, "#action-team", "1").await;
        until(&app, id, "team Tier two", |c| c["meta"]["team"]["id"] == 1).await;

        click(&browser, "#action-labels summary").await;
        click(&browser, "#action-labels input[value='vip']").await;
        until(&app, id, "labels billing and vip", |c| {
            let mut labels: Vec<&str> = c["labels"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            labels.sort();
            labels == ["billing", "vip"]
        })
        .await;

        // Mute resolves the conversation and blocks the contact, as in Chatwoot.
        click(&browser, "#action-mute").await;
        until(&app, id, "muted and resolved", |c| {
            c["muted"] == true && c["status"] == "resolved"
        })
        .await;
        wait_js(
            &browser,
            "the Unmute button",
            "return document.getElementById('action-mute').textContent === 'Unmute'",
        )
        .await;
        click(&browser, "#action-mute").await;
        until(&app, id, "unmuted", |c| c["muted"] == false).await;
        wait_js(
            &browser,
            "the Reopen button after muting",
            "return document.getElementById('action-resolve').textContent === 'Reopen'",
        )
        .await;
        click(&browser, "#action-resolve").await;
        until(&app, id, "open", |c| c["status"] == "open").await;

        type_into(&browser, "#attributes-form input[data-key='order_number']", "A-1001").await;
        click(&browser, "#attributes-save").await;
        until(&app, id, "custom attribute", |c| {
            c["custom_attributes"]["order_number"] == "A-1001"
        })
        .await;

        click(&browser, "#action-transcript summary").await;
        type_into(&browser, "#transcript-email", "customer@example.com").await;
        click(&browser, "#transcript-send").await;
        // Bea's welcome went out through the same sink; the transcript is the customer's.
        let body = mail_to(&sink, "customer@example.com").await;
        assert!(body.contains("We are on it"), "{body}");
        assert!(!body.contains("Check the invoice first"), "a note leaked: {body}");

        // The contact's panel: details and the earlier conversation.
        let panel = text(&browser, "#contact-panel").await;
        assert!(panel.contains("Uma Unassigned"), "{panel}");

        // Keyboard: `j` opens the next conversation in the list, `e` resolves it.
        press(&browser, "#messages", "j").await;
        let next = wait_js(
            &browser,
            "the next conversation by keyboard",
            &format!(
                "const id = document.body.dataset.conversation; return id !== '{id}' && document.getElementById('messages') ? Number(id) : null"
            ),
        )
        .await
        .as_i64()
        .unwrap();
        press(&browser, "#messages", "e").await;
        until(&app, next, "resolved by keyboard", |c| c["status"] == "resolved").await;

        // Mark unread leaves the conversation with an unread count again.
        open(&browser, id).await;
        click(&browser, "#action-unread").await;
        until(&app, id, "unread again", |c| {
            c["unread_count"].as_i64().unwrap_or(0) > 0
        })
        .await;
    })
    .await;
}

/// Waits until conversation `id`, read through the API, satisfies `check`.
async fn until(app: &TestApp, id: i64, what: &str, check: impl Fn(&Value) -> bool) {
    let started = std::time::Instant::now();
    loop {
        let c = app.conversation(id).await;
        if check(&c) {
            return;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{what}: the conversation is {c}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_agent_sees_only_the_inboxes_he_is_a_member_of_even_on_a_phone() {
    browser::with_browser("the agent app's membership test", |browser| async move {
        let app = spawn_app().await;
        let (agent_id, _) = app.create_agent("Bea Agent", "bea@example.com").await;
        set_password(&app, "bea@example.com", PASSWORD);
        let other = api_inbox(&app, "Secret inbox").await;
        app.post(
            "/api/v1/accounts/1/inbox_members",
            json!({"inbox_id": 1, "user_ids": [agent_id]}),
        )
        .await
        .expect(200);
        let visible = conversation(&app, 1, "Vic Visible", "Hello").await;
        let hidden = conversation(&app, other, "Hal Hidden", "Secret stuff").await;

        browser.set_window_size(375, 812).await.expect("phone size");
        signed_in(&browser, &app, "bea@example.com").await;
        click(&browser, "[data-tab='all']").await;
        wait_for_rows(&browser, "the agent's All tab", &[visible]).await;
        let inboxes = browser
            .execute(
                "return [...document.querySelectorAll('#filter-inbox option')].map(o => o.textContent)",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            !inboxes.to_string().contains("Secret inbox"),
            "the agent sees the inbox filter {inboxes}"
        );
        // No administration for an agent.
        assert!(browser.find(Locator::Css("#nav-admin")).await.is_err());

        // Nothing is wider than the phone.
        let wider = overflow(&browser).await;
        assert!(wider <= 0, "wider than the phone by {wider} px");
        screenshot(&browser, "phone-inbox").await;

        // On a phone the conversation takes the whole screen, with a way back.
        open(&browser, visible).await;
        let list_shown = browser
            .execute(
                "return getComputedStyle(document.querySelector('.list-pane')).display !== 'none'",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(list_shown, json!(false));
        let wider = overflow(&browser).await;
        assert!(wider <= 0, "wider than the phone by {wider} px");
        screenshot(&browser, "phone-conversation").await;
        click(&browser, ".back").await;
        element(&browser, "#conversation-list").await;

        // The hidden inbox's conversation, asked for by address, is not shown.
        browser
            .goto(&format!("{}/app/#/conversations/{hidden}?tab=all", app.address))
            .await
            .expect("navigate");
        wait_js(
            &browser,
            "the refusal",
            "return document.getElementById('toast').textContent",
        )
        .await;
        let page = browser
            .execute("return document.body.innerText", vec![])
            .await
            .unwrap();
        assert!(!page.to_string().contains("Secret stuff"), "{page}");
    })
    .await;
}

#[tokio::test]
async fn an_administrator_manages_the_account_in_the_app() {
    browser::with_browser("the agent app's administration test", |browser| async move {
        let (app, sink) = app_with_sink(Clock::system(), None).await;
        set_password(&app, ADMIN_EMAIL, PASSWORD);
        browser.set_window_size(1280, 900).await.expect("size");
        signed_in(&browser, &app, ADMIN_EMAIL).await;
        click(&browser, "#nav-admin").await;
        element(&browser, "#admin-table").await;

        // Labels: create, edit, delete.
        open_section(&browser, "labels").await;
        fill_and_save(&browser, &[("title", "refund"), ("description", "Money back")]).await;
        let label = created(&app, "/labels", "title", "refund").await;
        assert_eq!(label["description"], "Money back");
        let label_id = label["id"].as_i64().unwrap();
        click(&browser, &format!("#admin-table tr[data-id='{label_id}'] .edit")).await;
        type_into(&browser, "#admin-form input[name='description']", "Refunds <b>only</b>").await;
        click(&browser, "#admin-save").await;
        eventually("the label edited", PATIENCE, || async {
            let l = app
                .get(&format!("/api/v1/accounts/1/labels/{label_id}"))
                .await
                .expect(200);
            (l["description"] == "Refunds <b>only</b>").then_some(())
        })
        .await;
        wait_js(&browser, "the edited label listed as text", "return [...document.querySelectorAll('#admin-table td')].some(td => td.textContent === 'Refunds <b>only</b>')").await;
        browser
            .execute("window.confirm = () => true; return true", vec![])
            .await
            .unwrap();
        click(&browser, &format!("#admin-table tr[data-id='{label_id}'] .delete")).await;
        eventually("the label deleted", PATIENCE, || async {
            let reply = app
                .get(&format!("/api/v1/accounts/1/labels/{label_id}"))
                .await;
            (reply.status == 404).then_some(())
        })
        .await;

        // An inbox with its webhook URL, then its identifier and secrets on its edit screen.
        open_section(&browser, "inboxes").await;
        fill_and_save(
            &browser,
            &[("name", "Website"), ("webhook_url", "https://example.com/hook")],
        )
        .await;
        let inbox = created(&app, "/inboxes", "name", "Website").await;
        assert_eq!(inbox["webhook_url"], "https://example.com/hook");
        click(&browser, &format!("#admin-table tr[data-id='{}'] .edit", inbox["id"])).await;
        let details = text(&browser, "#admin-details").await;
        assert!(
            details.contains(inbox["inbox_identifier"].as_str().unwrap()),
            "{details}"
        );
        screenshot(&browser, "admin-inbox").await;

        // An agent, a team, an attribute, a webhook and a bot, each as the API then has it.
        let creations: [Creation; 5] = [
            ("agents", &[("name", "Cy Agent"), ("email", "cy@example.com")], "/agents", ("email", "cy@example.com")),
            // Chatwoot keeps team names in lower case.
            ("teams", &[("name", "Night shift")], "/teams", ("name", "night shift")),
            (
                "custom_attribute_definitions",
                &[("attribute_display_name", "Plan"), ("attribute_key", "plan")],
                "/custom_attribute_definitions",
                ("attribute_key", "plan"),
            ),
            ("webhooks", &[("url", "https://example.com/events")], "/webhooks", ("url", "https://example.com/events")),
            ("agent_bots", &[("name", "Helper bot")], "/agent_bots", ("name", "Helper bot")),
        ];
        for (section, fields, path, (key, expected)) in creations {
            open_section(&browser, section).await;
            if section == "webhooks" {
                click(&browser, "#admin-form fieldset input[value='message_created']").await;
            }
            fill_and_save(&browser, fields).await;
            created(&app, path, key, expected).await;
            wait_js(
                &browser,
                "listed",
                &format!("return document.getElementById('admin-table').textContent.includes('{expected}')"),
            )
            .await;
        }
        screenshot(&browser, "admin-webhooks").await;

        // Cy was mailed a welcome with a link. The administrator can also set Cy's password, or
        // mail a fresh link, from Cy's edit screen.
        let welcome = set_password_link(&mail_to(&sink, "cy@example.com").await);
        assert!(welcome.contains("/app/#/password?token="), "{welcome}");
        let agents = app.get("/api/v1/accounts/1/agents").await.expect(200);
        let cy = agents
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["email"] == "cy@example.com")
            .expect("Cy listed")["id"]
            .as_i64()
            .unwrap();
        click(&browser, "#admin-nav a[data-section='agents']").await;
        click(&browser, &format!("#admin-table tr[data-id='{cy}'] .edit")).await;
        type_into(&browser, "#admin-extra .set-password", "chosen by the admin").await;
        click(&browser, "#admin-extra form.inline button").await;
        eventually("the password the administrator set", PATIENCE, || async {
            let reply = app
                .client
                .post(app.url("/auth/sign_in"))
                .json(&json!({"email": "cy@example.com", "password": "chosen by the admin"}))
                .send()
                .await
                .ok()?;
            reply.status().is_success().then_some(())
        })
        .await;
        click(&browser, "#admin-extra .reset-password").await;
        let link = set_password_link(&mail_to(&sink, "cy@example.com").await);

        // Cy is made an agent of inbox 1 on the inbox's edit screen.
        click(&browser, "#admin-nav a[data-section='inboxes']").await;
        click(&browser, "#admin-table tr[data-id='1'] .edit").await;
        click(&browser, &format!("#members input[value='{cy}']")).await;
        click(&browser, "#members-save").await;
        eventually("Cy in inbox 1", PATIENCE, || async {
            let members = app
                .get("/api/v1/accounts/1/inbox_members/1")
                .await
                .expect(200);
            members["payload"]
                .as_array()?
                .iter()
                .any(|a| a["id"] == cy)
                .then_some(())
        })
        .await;

        // Cy follows the link, chooses a password and signs in: an agent, without settings.
        click(&browser, "#sign-out").await;
        element(&browser, "#login-email").await;
        browser.goto(&link).await.expect("the link opens");
        type_into(&browser, "#password-new", PASSWORD).await;
        type_into(&browser, "#password-again", PASSWORD).await;
        screenshot(&browser, "set-password").await;
        click(&browser, "#password-submit").await;
        wait_js(
            &browser,
            "the password set",
            "return document.getElementById('password-note').textContent.includes('set')",
        )
        .await;
        click(&browser, "#password-note a").await;
        signed_in(&browser, &app, "cy@example.com").await;
        assert!(browser.find(Locator::Css("#nav-admin")).await.is_err());
    })
    .await;
}

/// A settings section, the form fields to fill in it, the API list to check, and the key and
/// value of the item that must be in that list afterwards.
type Creation = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    (&'static str, &'static str),
);

/// Opens a settings section from the settings menu.
async fn open_section(browser: &Client, section: &str) {
    click(browser, &format!("#admin-nav a[data-section='{section}']")).await;
    wait_js(
        browser,
        "the section",
        &format!(
            "return document.querySelector(\"#admin-nav a[data-section='{section}']\")\
             .getAttribute('aria-current') === 'page' && document.getElementById('admin-form')"
        ),
    )
    .await;
}

/// Fills the settings form's inputs by name and saves it.
async fn fill_and_save(browser: &Client, fields: &[(&str, &str)]) {
    for (name, value) in fields {
        type_into(browser, &format!("#admin-form input[name='{name}']"), value).await;
    }
    click(browser, "#admin-save").await;
}

/// The item of the account's list at `path` whose `key` is `value`, once the API lists it.
async fn created(app: &TestApp, path: &str, key: &str, value: &str) -> Value {
    eventually(path, PATIENCE, || async {
        let answer = app
            .get(&format!("/api/v1/accounts/1{path}"))
            .await
            .expect(200);
        // The lists come bare, under `payload`, or (webhooks) under `payload.webhooks`.
        let items = [&answer, &answer["payload"], &answer["payload"]["webhooks"]]
            .into_iter()
            .find_map(Value::as_array)?
            .clone();
        items.into_iter().find(|item| item[key] == value)
    })
    .await
}

/// The next mail for `recipient`, skipping others.
async fn mail_to(sink: &SmtpSink, recipient: &str) -> String {
    loop {
        let mail = sink.next().await;
        if mail.recipients == [recipient] {
            let parsed = mail_parser::MessageParser::default()
                .parse(mail.data.as_bytes())
                .expect("a parseable mail");
            return parsed.body_text(0).expect("a text part").to_string();
        }
    }
}

/// The set-password link in a mail's text.
fn set_password_link(text: &str) -> String {
    let start = text.find("http").expect("a link in the mail");
    text[start..].split_whitespace().next().unwrap().to_string()
}
