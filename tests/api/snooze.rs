//! Snoozed conversations reopen by themselves when their time comes, with the server's clock
//! driven by the test.

use std::time::Duration;

use serde_json::{json, Value};
use wootlite::clock::Clock;

use crate::helpers::{spawn_app_with, TestApp};

/// 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600;

fn seconds(s: i64) -> i64 {
    s * 1_000_000
}

async fn snooze(app: &TestApp, id: i64, until: Option<i64>) {
    let mut body = json!({ "status": "snoozed" });
    if let Some(until) = until {
        body["snoozed_until"] = json!(until);
    }
    app.post(
        &format!("/api/v1/accounts/1/conversations/{id}/toggle_status"),
        body,
    )
    .await
    .expect(200);
}

async fn status(app: &TestApp, id: i64) -> Value {
    app.conversation(id).await["status"].clone()
}

/// Waits (bounded) for the waker, which runs beside the requests, to reopen `id`.
async fn reopened(app: &TestApp, id: i64) -> bool {
    for _ in 0..200 {
        if status(app, id).await == "open" {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

async fn conversation(app: &TestApp) -> i64 {
    app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_snooze_reopens_when_its_time_comes_and_not_before() {
    let clock = Clock::manual(seconds(START));
    let app = spawn_app_with(clock.clone()).await;
    let id = conversation(&app).await;
    let early = conversation(&app).await;
    snooze(&app, id, Some(START + 60)).await;
    snooze(&app, early, Some(START + 30)).await;

    clock.advance_micros(seconds(45));
    // `early` reopening shows the waker has run at this time; `id` is not due yet.
    assert!(reopened(&app, early).await);
    assert_eq!(status(&app, id).await, "snoozed");

    clock.advance_micros(seconds(16));
    assert!(reopened(&app, id).await);
    let conversation = app.conversation(id).await;
    assert_eq!(conversation["snoozed_until"], Value::Null);
    // No user reopened it, so no activity message says so.
    let activity = app.activity(id).await;
    assert!(
        !activity.iter().any(|a| a.contains("reopened")),
        "{activity:?}"
    );
    let meta = app
        .get("/api/v1/accounts/1/conversations/meta")
        .await
        .expect(200);
    assert_eq!(meta["meta"]["all_count"], 2);
}

#[tokio::test]
async fn unsnoozed_and_resnoozed_conversations_follow_their_latest_state() {
    let clock = Clock::manual(seconds(START));
    let app = spawn_app_with(clock.clone()).await;
    let resolved = conversation(&app).await;
    let later = conversation(&app).await;
    let sentinel = conversation(&app).await;
    snooze(&app, resolved, Some(START + 60)).await;
    app.post(
        &format!("/api/v1/accounts/1/conversations/{resolved}/toggle_status"),
        json!({ "status": "resolved" }),
    )
    .await
    .expect(200);
    snooze(&app, later, Some(START + 60)).await;
    snooze(&app, later, Some(START + 600)).await;
    snooze(&app, sentinel, Some(START + 90)).await;

    clock.advance_micros(seconds(100));
    assert!(reopened(&app, sentinel).await);
    assert_eq!(status(&app, resolved).await, "resolved");
    assert_eq!(status(&app, later).await, "snoozed");
    clock.advance_micros(seconds(500));
    assert!(reopened(&app, later).await);
}

#[tokio::test]
async fn snoozes_that_fell_due_while_the_server_was_down_reopen_on_start() {
    let clock = Clock::manual(seconds(START));
    let app = spawn_app_with(clock.clone()).await;
    let id = conversation(&app).await;
    let untimed = conversation(&app).await;
    snooze(&app, id, Some(START + 60)).await;
    snooze(&app, untimed, None).await;
    // Down for a week: far past Chatwoot's 3-day window, which wootlite does not have.
    let app = app
        .restart(Clock::manual(seconds(START + 7 * 86_400)))
        .await;
    assert!(reopened(&app, id).await);
    // Snoozed without a time: it waits for the contact's next message.
    assert_eq!(status(&app, untimed).await, "snoozed");
}
