//! Adding the email of a user who belongs to another account invites them by mail instead of
//! adding them, and reveals nothing about them; they join on accepting with the mailed token.

use mail_parser::MessageParser;
use reqwest::Method;
use serde_json::{json, Value};
use wootlite::clock::Clock;
use wootlite::provision::Provisioned;

use crate::helpers::{error_of, Reply, TestApp};
use crate::smtp_sink::{app_with_sink, SmtpSink};

const DAY_MICROS: i64 = 24 * 3600 * 1_000_000;

/// A server that sends its mail to a sink, and a second account whose administrator is the user
/// `shared@example.com`, named "Other".
async fn app_with_other_account(
    clock: Clock,
    emails_per_day: Option<u32>,
) -> (TestApp, SmtpSink, Provisioned) {
    let (app, sink) = app_with_sink(clock, emails_per_day).await;
    let other = app.create_account("Other", "shared@example.com");
    (app, sink, other)
}

async fn add_agent(app: &TestApp, body: Value) -> Reply {
    app.post("/api/v1/accounts/1/agents", body).await
}

/// The acceptance URL in the next mail the sink receives, which must be addressed to `to`.
async fn invitation_url(sink: &SmtpSink, to: &str) -> String {
    let received = sink.next().await;
    assert_eq!(received.recipients, vec![to]);
    let message = MessageParser::default()
        .parse(received.data.as_bytes())
        .expect("a parseable mail");
    assert!(message
        .subject()
        .unwrap()
        .starts_with("Invitation to join "));
    let text = message.body_text(0).expect("a text part").to_string();
    let start = text.find("http://").expect("a link in the mail");
    let url: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '\'')
        .collect();
    assert!(url.ends_with("/accept"), "{url}");
    url
}

/// Accepts without any access token: the token in the URL is the credential.
async fn accept(app: &TestApp, url: &str) -> Reply {
    Reply::from(app.client.post(url).send().await.expect("request sent")).await
}

async fn agent_ids(app: &TestApp) -> Vec<i64> {
    let agents = app.get("/api/v1/accounts/1/agents").await.expect(200);
    agents
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn adding_the_email_of_another_accounts_user_invites_them_and_reveals_nothing_about_them() {
    let (app, sink, other) = app_with_other_account(Clock::system(), None).await;
    // Their own account knows them as busy.
    app.send(
        Method::PATCH,
        &format!(
            "/api/v1/accounts/{}/agents/{}",
            other.account_id, other.user_id
        ),
        &other.token,
        Some(json!({ "availability": "busy" })),
    )
    .await
    .expect(200);
    let body = add_agent(
        &app,
        json!({ "email": "Shared@Example.com", "role": "administrator" }),
    )
    .await
    .expect(200);
    // Only what was sent, and the defaults any new agent gets.
    assert_eq!(
        body,
        json!({
            "id": null, "account_id": 1, "availability_status": "online", "auto_offline": true,
            "confirmed": false, "email": "shared@example.com", "provider": "email",
            "available_name": "shared", "name": "shared", "role": "administrator",
            "thumbnail": "", "invitation_pending": true,
        })
    );
    invitation_url(&sink, "shared@example.com").await;
    // Not a member until they accept.
    assert_eq!(agent_ids(&app).await, vec![1]);
    app.agents_as(1, &other.token).await.expect(401);
    assert_eq!(app.account_count(&other.token).await, 1);
}

#[tokio::test]
async fn an_invited_user_joins_with_the_chosen_role_when_accepting() {
    let (app, sink, other) = app_with_other_account(Clock::system(), None).await;
    add_agent(
        &app,
        json!({ "email": "shared@example.com", "role": "administrator" }),
    )
    .await
    .expect(200);
    let url = invitation_url(&sink, "shared@example.com").await;
    let body = accept(&app, &url).await.expect(200);
    assert_eq!(body["accepted"], true);
    assert_eq!(body["account_id"], 1);
    assert_eq!(body["role"], "administrator");
    assert!(body["account_name"].is_string());
    let agents = app.get("/api/v1/accounts/1/agents").await.expect(200);
    let joined = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == other.user_id)
        .expect("the user is an agent now");
    assert_eq!(joined["role"], "administrator");
    assert_eq!(
        joined["name"], "Other",
        "their own name, not one given by the inviter"
    );
    // Their token opens the account, and their first account is as it was.
    app.agents_as(1, &other.token).await.expect(200);
    assert_eq!(app.account_count(&other.token).await, 2);
}

#[tokio::test]
async fn an_invitation_token_works_once_and_an_unknown_one_is_404() {
    let (app, sink, _) = app_with_other_account(Clock::system(), None).await;
    add_agent(&app, json!({ "email": "shared@example.com" }))
        .await
        .expect(200);
    let url = invitation_url(&sink, "shared@example.com").await;
    // Opening the link (a GET, as a link checker would) neither accepts nor uses it up.
    let opened = Reply::from(app.client.get(&url).send().await.unwrap()).await;
    assert_eq!(opened.status, 404);
    accept(&app, &url).await.expect(200);
    let again = accept(&app, &url).await.expect(404);
    assert_eq!(again, json!({ "error": "Resource could not be found" }));
    let long = "x".repeat(4096);
    for token in ["not-a-token", "%00%F0%9F%98%80", long.as_str()] {
        let path = format!("/api/v1/invitations/{token}/accept");
        let unknown = accept(&app, &app.url(&path)).await;
        assert_eq!(unknown.expect(404), again, "{token}");
    }
    // Adding them again now is adding an existing member.
    let body = add_agent(&app, json!({ "email": "shared@example.com" }))
        .await
        .expect(422);
    assert_eq!(body["attributes"], json!(["user_id"]));
}

#[tokio::test]
async fn an_invitation_expires_after_seven_days() {
    let clock = Clock::manual(1_767_225_600_000_000);
    let (app, sink, other) = app_with_other_account(clock.clone(), None).await;
    add_agent(&app, json!({ "email": "shared@example.com" }))
        .await
        .expect(200);
    let url = invitation_url(&sink, "shared@example.com").await;
    clock.advance_micros(7 * DAY_MICROS);
    let body = accept(&app, &url).await.expect(404);
    assert_eq!(error_of(&body), "Resource could not be found");
    assert!(!agent_ids(&app).await.contains(&other.user_id));
    // A new invitation can be accepted for seven days from when it was sent.
    add_agent(&app, json!({ "email": "shared@example.com" }))
        .await
        .expect(200);
    let url = invitation_url(&sink, "shared@example.com").await;
    clock.advance_micros(7 * DAY_MICROS - 1_000_000);
    accept(&app, &url).await.expect(200);
    assert!(agent_ids(&app).await.contains(&other.user_id));
}

#[tokio::test]
async fn inviting_again_replaces_the_earlier_invitation() {
    let (app, sink, other) = app_with_other_account(Clock::system(), None).await;
    add_agent(
        &app,
        json!({ "email": "shared@example.com", "role": "administrator" }),
    )
    .await
    .expect(200);
    let first = invitation_url(&sink, "shared@example.com").await;
    add_agent(
        &app,
        json!({ "email": "shared@example.com", "role": "agent" }),
    )
    .await
    .expect(200);
    let second = invitation_url(&sink, "shared@example.com").await;
    assert_ne!(first, second);
    accept(&app, &first).await.expect(404);
    assert_eq!(accept(&app, &second).await.expect(200)["role"], "agent");
    assert!(agent_ids(&app).await.contains(&other.user_id));
}

#[tokio::test]
async fn invitation_mails_count_toward_the_daily_email_quota() {
    let (app, sink, _) = app_with_other_account(Clock::system(), Some(1)).await;
    let third = app.create_account("Third", "third@example.com");
    add_agent(&app, json!({ "email": "shared@example.com" }))
        .await
        .expect(200);
    let url = invitation_url(&sink, "shared@example.com").await;
    let body = add_agent(&app, json!({ "email": "third@example.com" }))
        .await
        .expect(429);
    assert!(error_of(&body).contains("daily email limit"), "{body}");
    // A new email is mailed a set-password link, so it counts too: refused, and not added.
    let body = add_agent(&app, json!({ "email": "new@example.com" }))
        .await
        .expect(429);
    assert!(error_of(&body).contains("daily email limit"), "{body}");
    // The refused ones left nothing behind; the first invitation still works.
    let ids = agent_ids(&app).await;
    assert!(!ids.contains(&third.user_id));
    assert_eq!(ids, vec![1]);
    accept(&app, &url).await.expect(200);
}
