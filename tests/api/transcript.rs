//! `POST /conversations/{id}/transcript`: delivered over real SMTP to a sink the test runs, or
//! written as `.eml` files by default; 422 without an email, 429 over the daily quota; a mail
//! queued before a restart is delivered after it.

use mail_parser::MessageParser;
use serde_json::json;
use wootlite::clock::Clock;

use crate::helpers::{error_of, spawn_app, spawn_configured, TestApp};
use crate::smtp_sink::SmtpSink;

/// A conversation with an incoming message, a reply, a private note and activity.
async fn conversation(app: &TestApp) -> i64 {
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    app.message(
        id,
        json!({ "content": "Hello, my order <b>#42</b> is late", "message_type": "incoming" }),
    )
    .await;
    app.message(id, json!({ "content": "Sorry! Checking now." }))
        .await;
    app.message(
        id,
        json!({ "content": "internal: customer is VIP", "private": true }),
    )
    .await;
    app.post(
        &format!("/api/v1/accounts/1/conversations/{id}/toggle_status"),
        json!({ "status": "resolved" }),
    )
    .await
    .expect(200);
    id
}

async fn transcript(app: &TestApp, id: i64, body: serde_json::Value) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/accounts/1/conversations/{id}/transcript"),
        body,
    )
    .await
}

fn check_transcript(raw: &[u8], id: i64) {
    let message = MessageParser::default()
        .parse(raw)
        .expect("a parseable mail");
    assert_eq!(
        message.subject(),
        Some(format!("[#{id}] Conversation Transcript").as_str())
    );
    let to = message
        .to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap();
    assert_eq!(to, "customer@example.com");
    let text = message.body_text(0).expect("a text part").to_string();
    let first = text
        .find("Hello, my order <b>#42</b> is late")
        .expect("incoming message");
    let second = text.find("Sorry! Checking now.").expect("reply");
    assert!(first < second, "messages in order: {text}");
    assert!(!text.contains("VIP"), "a private note leaked: {text}");
    assert!(
        !text.contains("resolved"),
        "an activity message leaked: {text}"
    );
    assert!(text.contains("Customer"), "sender names: {text}");
    let html = message.body_html(0).expect("an HTML part").to_string();
    assert!(
        html.contains("&lt;b&gt;#42") && !html.contains("<b>#42"),
        "escaped HTML: {html}"
    );
    assert!(!html.contains("VIP"));
}

#[tokio::test]
async fn a_transcript_is_delivered_over_smtp() {
    let sink = SmtpSink::start().await;
    let url = sink.url.clone();
    let app = spawn_configured(Clock::system(), |s| s.smtp_url = Some(url)).await;
    let id = conversation(&app).await;
    let reply = transcript(&app, id, json!({ "email": "customer@example.com" })).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, serde_json::Value::Null);
    let received = sink.next().await;
    assert_eq!(received.recipients, vec!["customer@example.com"]);
    check_transcript(received.data.as_bytes(), id);
}

#[tokio::test]
async fn without_smtp_the_mail_is_written_as_an_eml_file() {
    let app = spawn_app().await;
    let id = conversation(&app).await;
    transcript(&app, id, json!({ "email": "customer@example.com" }))
        .await
        .expect(200);
    let dir = app.mail_dir();
    let mut file = None;
    for _ in 0..200 {
        // Only finished mails: a mail is written under a hidden temporary name first.
        file = std::fs::read_dir(&dir).ok().and_then(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .find(|path| path.extension().is_some_and(|ext| ext == "eml"))
        });
        if file.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let file = file.expect("an .eml file in mail/");
    check_transcript(&std::fs::read(file).unwrap(), id);
}

#[tokio::test]
async fn a_missing_email_is_422_and_the_daily_quota_429() {
    let app = spawn_configured(Clock::system(), |s| s.emails_per_day = Some(1)).await;
    let id = conversation(&app).await;
    for body in [json!({}), json!({ "email": "  " })] {
        let reply = transcript(&app, id, body).await;
        assert_eq!(reply.status, 422);
        assert_eq!(error_of(&reply.body), "email param missing");
    }
    transcript(&app, 999, json!({ "email": "a@example.com" }))
        .await
        .expect(404);
    transcript(&app, id, json!({ "email": "a@example.com" }))
        .await
        .expect(200);
    let over = transcript(&app, id, json!({ "email": "a@example.com" })).await;
    assert_eq!(over.status, 429);
    assert_eq!(over.body, serde_json::Value::Null);
    // The count survives a restart.
    let app = app
        .restart_configured(Clock::system(), |s| s.emails_per_day = Some(1))
        .await;
    let over = transcript(&app, id, json!({ "email": "a@example.com" })).await;
    assert_eq!(over.status, 429);
}

#[tokio::test]
async fn a_mail_queued_before_a_restart_is_delivered_after_it() {
    // The first server's SMTP server is down: the mail waits in the outbox.
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("smtp://{}", down.local_addr().unwrap());
    drop(down);
    let start = 1_767_225_600_000_000;
    let app = spawn_configured(Clock::manual(start), |s| s.smtp_url = Some(dead_url)).await;
    let id = conversation(&app).await;
    transcript(&app, id, json!({ "email": "customer@example.com" }))
        .await
        .expect(200);
    let sink = SmtpSink::start().await;
    let url = sink.url.clone();
    // An hour later the retry is due, and the SMTP server is back.
    let app = app
        .restart_configured(Clock::manual(start + 3_600_000_000), |s| {
            s.smtp_url = Some(url)
        })
        .await;
    let received = sink.next().await;
    check_transcript(received.data.as_bytes(), id);
    drop(app);
}
