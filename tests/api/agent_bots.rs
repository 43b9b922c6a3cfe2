use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{error_of, invalid_attributes, spawn_app, TestApp, ADMIN_TOKEN};
use wootlite::store::{agent_bots, changes, inboxes};

const BOTS: &str = "/api/v1/accounts/1/agent_bots";
const BOT_REFUSED: &str = "Access to this endpoint is not authorized for bots";

/// Creates a bot in account 1 and returns its JSON (as an administrator sees it).
async fn create_bot(app: &TestApp, body: Value) -> Value {
    app.post(BOTS, body).await.expect(200)
}

/// Makes `bot` the active bot of inbox `inbox` of account 1.
async fn attach(app: &TestApp, inbox: i64, bot: &Value) {
    let reply = app
        .post(
            &format!("/api/v1/accounts/1/inboxes/{inbox}/set_agent_bot"),
            json!({ "agent_bot": bot["id"] }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// A bot attached to inbox 1, and its token.
async fn bot_on_inbox_1(app: &TestApp, name: &str) -> (Value, String) {
    let bot = create_bot(
        app,
        json!({ "name": name, "outgoing_url": "https://bot.example.com/hook" }),
    )
    .await;
    attach(app, 1, &bot).await;
    let token = bot["access_token"].as_str().expect("token").to_string();
    (bot, token)
}

/// An agent of account 1 who is a member of inbox 1: (id, token).
async fn agent_in_inbox_1(app: &TestApp) -> (i64, String) {
    let (id, token) = app.create_agent("Agnes", "agnes@example.com").await;
    app.post(
        "/api/v1/accounts/1/inbox_members",
        json!({ "inbox_id": 1, "user_ids": [id] }),
    )
    .await
    .expect(200);
    (id, token)
}

#[tokio::test]
async fn agent_bots_are_created_shown_listed_updated_and_deleted_in_chatwoots_shape() {
    let app = spawn_app().await;
    assert_eq!(app.get(BOTS).await.expect(200), json!([]));

    // Keys at the top level, as Chatwoot's controller reads them.
    let flat = create_bot(
        &app,
        json!({
            "name": "Triage",
            "description": "Answers first",
            "outgoing_url": "https://bot.example.com/hook",
            "bot_config": { "lang": "en" }
        }),
    )
    .await;
    let token = flat["access_token"].as_str().expect("access token");
    let secret = flat["secret"].as_str().expect("secret");
    assert!(token.len() >= 24 && secret.len() >= 24, "{flat}");
    assert_ne!(token, secret);
    assert_eq!(
        flat,
        json!({
            "id": 1,
            "name": "Triage",
            "description": "Answers first",
            "thumbnail": "",
            "outgoing_url": "https://bot.example.com/hook",
            "bot_type": "webhook",
            "bot_config": { "lang": "en" },
            "account_id": 1,
            "access_token": token,
            "secret": secret,
            "system_bot": false
        })
    );
    let keys: Vec<&String> = flat.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "description",
            "thumbnail",
            "outgoing_url",
            "bot_type",
            "bot_config",
            "account_id",
            "access_token",
            "secret",
            "system_bot"
        ]
    );

    // Keys under `agent_bot`; what is not sent takes Chatwoot's defaults.
    let nested = create_bot(&app, json!({ "agent_bot": { "name": "Second" } })).await;
    assert_eq!(nested["id"], 2);
    assert_eq!(nested["description"], Value::Null);
    assert_eq!(nested["outgoing_url"], Value::Null);
    assert_eq!(nested["bot_type"], "webhook");
    assert_eq!(nested["bot_config"], json!({}));
    assert_ne!(nested["access_token"], flat["access_token"]);

    assert_eq!(app.get(BOTS).await.expect(200), json!([flat, nested]));
    assert_eq!(app.get(&format!("{BOTS}/1")).await.expect(200), flat);

    // PATCH with nested keys, PUT with top-level ones: only what is sent changes, and never the
    // token or the secret.
    let patched = app
        .patch(
            &format!("{BOTS}/1"),
            json!({ "agent_bot": { "name": "Renamed", "description": null } }),
        )
        .await
        .expect(200);
    assert_eq!(patched["name"], "Renamed");
    assert_eq!(patched["description"], Value::Null);
    assert_eq!(patched["outgoing_url"], flat["outgoing_url"]);
    assert_eq!(patched["access_token"], flat["access_token"]);
    assert_eq!(patched["secret"], flat["secret"]);
    let put = app
        .send(
            Method::PUT,
            &format!("{BOTS}/1"),
            ADMIN_TOKEN,
            Some(
                json!({ "outgoing_url": "http://other.example.com/b", "bot_config": "{\"x\": 1}" }),
            ),
        )
        .await
        .expect(200);
    assert_eq!(put["name"], "Renamed");
    assert_eq!(put["outgoing_url"], "http://other.example.com/b");
    assert_eq!(put["bot_config"], json!({ "x": 1 }));

    let deleted = app.delete(&format!("{BOTS}/1")).await;
    assert_eq!((deleted.status, deleted.body), (200, Value::Null));
    let gone = app.get(&format!("{BOTS}/1")).await.expect(404);
    assert_eq!(error_of(&gone), "Resource could not be found");
    assert_eq!(app.get(BOTS).await.expect(200), json!([nested]));
    app.delete(&format!("{BOTS}/1")).await.expect(404);
}

#[tokio::test]
async fn invalid_bots_are_422s_naming_each_attribute() {
    let app = spawn_app().await;
    let missing = app.post(BOTS, json!({})).await.expect(422);
    assert_eq!(invalid_attributes(&missing), ["name"]);
    assert_eq!(missing["message"], "Name can't be blank");
    let blank = app
        .post(
            BOTS,
            json!({ "name": "  ", "outgoing_url": "ftp://example.com/x" }),
        )
        .await
        .expect(422);
    assert_eq!(invalid_attributes(&blank), ["name", "outgoing_url"]);
    assert_eq!(
        blank["message"],
        "Name can't be blank, Outgoing url is invalid"
    );
    for url in [
        json!("javascript:alert(1)"),
        json!("not a url"),
        json!("http://"),
        json!(42),
        json!(["https://example.com"]),
        json!(format!("https://example.com/{}", "a".repeat(2100))),
    ] {
        let body = app
            .post(BOTS, json!({ "name": "Bot", "outgoing_url": url }))
            .await
            .expect(422);
        assert_eq!(invalid_attributes(&body), ["outgoing_url"], "{url}");
    }
    let config = app
        .post(BOTS, json!({ "name": "Bot", "bot_config": [1, 2] }))
        .await
        .expect(422);
    assert_eq!(invalid_attributes(&config), ["bot_config"]);
    let long = app
        .post(BOTS, json!({ "name": "x".repeat(256) }))
        .await
        .expect(422);
    assert_eq!(invalid_attributes(&long), ["name"]);
    // An unknown bot type names the field and the allowed values.
    let kind = app
        .post(BOTS, json!({ "name": "Bot", "bot_type": "csml" }))
        .await
        .expect(422);
    assert!(error_of(&kind).contains("bot_type"), "{kind}");
    assert!(error_of(&kind).contains("webhook"), "{kind}");
    // An update is checked the same way and changes nothing when refused.
    let bot = create_bot(&app, json!({ "name": "Bot" })).await;
    let refused = app
        .patch(&format!("{BOTS}/{}", bot["id"]), json!({ "name": "" }))
        .await
        .expect(422);
    assert_eq!(invalid_attributes(&refused), ["name"]);
    assert_eq!(
        app.get(&format!("{BOTS}/{}", bot["id"])).await.expect(200),
        bot
    );
    assert_eq!(app.get(BOTS).await.expect(200).as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn agents_read_bots_without_their_credentials_and_may_not_change_them() {
    let app = spawn_app().await;
    let bot = create_bot(&app, json!({ "name": "Triage" })).await;
    let id = bot["id"].as_i64().unwrap();
    let (_, agent) = app.create_agent("Agnes", "agnes@example.com").await;

    let listed = app.send(Method::GET, BOTS, &agent, None).await.expect(200);
    let shown = app
        .send(Method::GET, &format!("{BOTS}/{id}"), &agent, None)
        .await
        .expect(200);
    for seen in [&listed[0], &shown] {
        assert_eq!(seen["name"], "Triage");
        assert!(seen.get("access_token").is_none(), "token shown: {seen}");
        assert!(seen.get("secret").is_none(), "secret shown: {seen}");
    }

    let attempts = [
        (
            Method::POST,
            BOTS.to_string(),
            Some(json!({ "name": "Mine" })),
        ),
        (
            Method::PATCH,
            format!("{BOTS}/{id}"),
            Some(json!({ "name": "X" })),
        ),
        (
            Method::PUT,
            format!("{BOTS}/{id}"),
            Some(json!({ "name": "X" })),
        ),
        (Method::DELETE, format!("{BOTS}/{id}"), None),
        (
            Method::POST,
            format!("{BOTS}/{id}/reset_access_token"),
            None,
        ),
        (Method::POST, format!("{BOTS}/{id}/reset_secret"), None),
        (
            Method::POST,
            "/api/v1/accounts/1/inboxes/1/set_agent_bot".to_string(),
            Some(json!({ "agent_bot": id })),
        ),
        (
            Method::POST,
            "/api/v1/accounts/1/inboxes/1/reset_secret".to_string(),
            None,
        ),
    ];
    for (method, path, body) in attempts {
        let reply = app.send(method.clone(), &path, &agent, body).await;
        assert_eq!(reply.status, 401, "{method} {path}: {}", reply.body);
        assert_eq!(
            error_of(&reply.body),
            "You are not authorized to do this action"
        );
    }
    // Nothing changed.
    assert_eq!(app.get(&format!("{BOTS}/{id}")).await.expect(200), bot);
    assert_eq!(app.get(BOTS).await.expect(200).as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn another_accounts_bot_is_a_404_like_a_missing_one() {
    let app = spawn_app().await;
    let bot = create_bot(&app, json!({ "name": "Ours" })).await;
    let id = bot["id"].as_i64().unwrap();
    let other = app.create_account("Other", "other@example.com");
    let theirs = format!("/api/v1/accounts/{}/agent_bots", other.account_id);
    let token = other.token.as_str();

    assert_eq!(
        app.send(Method::GET, &theirs, token, None)
            .await
            .expect(200),
        json!([])
    );
    let attempts = [
        (Method::GET, format!("{theirs}/{id}"), None),
        (
            Method::PATCH,
            format!("{theirs}/{id}"),
            Some(json!({ "name": "Stolen" })),
        ),
        (Method::DELETE, format!("{theirs}/{id}"), None),
        (
            Method::POST,
            format!("{theirs}/{id}/reset_access_token"),
            None,
        ),
        (Method::POST, format!("{theirs}/{id}/reset_secret"), None),
        (
            Method::POST,
            format!(
                "/api/v1/accounts/{}/inboxes/{}/set_agent_bot",
                other.account_id, other.inbox_id
            ),
            Some(json!({ "agent_bot": id })),
        ),
        (Method::GET, format!("{theirs}/999"), None),
    ];
    for (method, path, body) in attempts {
        let reply = app.send(method.clone(), &path, token, body).await;
        assert_eq!(reply.status, 404, "{method} {path}: {}", reply.body);
        assert_eq!(error_of(&reply.body), "Resource could not be found");
    }
    // An administrator of account 1 cannot put a bot on account 2's inbox either.
    let foreign_inbox = format!(
        "/api/v1/accounts/1/inboxes/{}/set_agent_bot",
        other.inbox_id
    );
    app.post(&foreign_inbox, json!({ "agent_bot": id }))
        .await
        .expect(404);
    assert_eq!(app.get(&format!("{BOTS}/{id}")).await.expect(200), bot);
}

#[tokio::test]
async fn reset_access_token_and_reset_secret_give_new_values() {
    let app = spawn_app().await;
    let (bot, old_token) = bot_on_inbox_1(&app, "Triage").await;
    let id = bot["id"].as_i64().unwrap();
    let conversation = app.create_conversation(json!({})).await;
    let show = format!("/api/v1/accounts/1/conversations/{}", conversation["id"]);
    app.send(Method::GET, &show, &old_token, None)
        .await
        .expect(200);

    let reset = app
        .post(&format!("{BOTS}/{id}/reset_access_token"), json!({}))
        .await
        .expect(200);
    let new_token = reset["access_token"].as_str().unwrap().to_string();
    assert_ne!(new_token, old_token);
    assert_eq!(reset["secret"], bot["secret"]);
    assert_eq!(reset["name"], "Triage");
    let refused = app.send(Method::GET, &show, &old_token, None).await;
    assert_eq!(refused.status, 401);
    assert_eq!(error_of(&refused.body), "Invalid Access Token");
    app.send(Method::GET, &show, &new_token, None)
        .await
        .expect(200);

    let reset = app
        .post(&format!("{BOTS}/{id}/reset_secret"), json!({}))
        .await
        .expect(200);
    assert_ne!(reset["secret"], bot["secret"]);
    assert!(reset["secret"].as_str().unwrap().len() >= 24);
    assert_eq!(reset["access_token"], new_token.as_str());
    let shown = app.get(&format!("{BOTS}/{id}")).await.expect(200);
    assert_eq!(shown["secret"], reset["secret"]);

    // What the senders read at send time follows the reset.
    let target = app
        .db()
        .read_now(|conn| agent_bots::delivery_target(conn, id))
        .unwrap();
    assert_eq!(
        target,
        Some((
            "https://bot.example.com/hook".to_string(),
            reset["secret"].as_str().unwrap().to_string()
        ))
    );
}

#[tokio::test]
async fn set_agent_bot_attaches_replaces_and_removes_the_inboxs_bot() {
    let app = spawn_app().await;
    let (_, agent) = agent_in_inbox_1(&app).await;
    let path = "/api/v1/accounts/1/inboxes/1/agent_bot";
    assert_eq!(
        app.get(path).await.expect(200),
        json!({ "agent_bot": null })
    );
    let first = create_bot(&app, json!({ "name": "First" })).await;
    let second = create_bot(&app, json!({ "name": "Second" })).await;
    attach(&app, 1, &first).await;
    assert_eq!(
        app.get(path).await.expect(200),
        json!({ "agent_bot": first })
    );
    // An agent of the inbox sees which bot answers it, without its credentials.
    let seen = app.send(Method::GET, path, &agent, None).await.expect(200);
    assert_eq!(seen["agent_bot"]["id"], first["id"]);
    assert!(seen["agent_bot"].get("access_token").is_none());
    assert!(seen["agent_bot"].get("secret").is_none());

    // One active bot per inbox: setting another replaces it (ids may be strings).
    app.post(
        "/api/v1/accounts/1/inboxes/1/set_agent_bot",
        json!({ "agent_bot": second["id"].to_string() }),
    )
    .await
    .expect(200);
    assert_eq!(app.get(path).await.expect(200)["agent_bot"], second);
    let active = app
        .db()
        .read_now(|conn| agent_bots::active_for_inbox(conn, 1))
        .unwrap();
    assert_eq!(active, second["id"].as_i64());

    // null removes it, and so does a body without the key.
    app.post(
        "/api/v1/accounts/1/inboxes/1/set_agent_bot",
        json!({ "agent_bot": null }),
    )
    .await
    .expect(200);
    assert_eq!(app.get(path).await.expect(200)["agent_bot"], Value::Null);
    attach(&app, 1, &first).await;
    app.post("/api/v1/accounts/1/inboxes/1/set_agent_bot", json!({}))
        .await
        .expect(200);
    assert_eq!(app.get(path).await.expect(200)["agent_bot"], Value::Null);

    // Unknown bots and inboxes are 404s; deleting the bot detaches it.
    app.post(
        "/api/v1/accounts/1/inboxes/1/set_agent_bot",
        json!({ "agent_bot": 999 }),
    )
    .await
    .expect(404);
    app.post(
        "/api/v1/accounts/1/inboxes/999/set_agent_bot",
        json!({ "agent_bot": first["id"] }),
    )
    .await
    .expect(404);
    app.get("/api/v1/accounts/1/inboxes/999/agent_bot")
        .await
        .expect(404);
    attach(&app, 1, &first).await;
    app.delete(&format!("{BOTS}/{}", first["id"]))
        .await
        .expect(200);
    assert_eq!(app.get(path).await.expect(200)["agent_bot"], Value::Null);
}

#[tokio::test]
async fn a_bot_token_posts_messages_as_the_bot_and_works_the_conversation() {
    let app = spawn_app().await;
    let (bot, token) = bot_on_inbox_1(&app, "Triage Bot").await;
    let bot_id = bot["id"].as_i64().unwrap();
    let conversation = app.create_conversation(json!({})).await;
    let id = conversation["id"].as_i64().unwrap();
    assert_eq!(conversation["status"], "pending");
    let base = format!("/api/v1/accounts/1/conversations/{id}");

    let message = app
        .send(
            Method::POST,
            &format!("{base}/messages"),
            &token,
            Some(json!({ "content": "Hello, how can I help?" })),
        )
        .await
        .expect(200);
    assert_eq!(message["message_type"], 1);
    assert_eq!(
        message["sender"],
        json!({ "id": bot_id, "name": "Triage Bot", "avatar_url": "", "type": "agent_bot" })
    );
    let message_id = message["id"].as_i64().unwrap();
    let (sender_type, sender_id): (String, i64) = app.read(|c| {
        c.query_row(
            "SELECT sender_type, sender_id FROM messages WHERE id = ?1",
            [message_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
    });
    assert_eq!((sender_type.as_str(), sender_id), ("AgentBot", bot_id));
    // The conversation and the message list show the bot as the sender too.
    let shown = app.send(Method::GET, &base, &token, None).await.expect(200);
    assert_eq!(shown["messages"][0]["sender"]["type"], "agent_bot");
    assert_eq!(shown["messages"][0]["sender_type"], "AgentBot");
    let listed = app.messages(id).await;
    let last = listed.last().unwrap();
    assert_eq!(last["sender"]["type"], "agent_bot");
    // A bot's reply is not a human's first reply (Chatwoot's `human_response?`).
    assert_eq!(shown["first_reply_created_at"], 0);

    // Handing off: the bot opens the pending conversation; the activity names the bot and
    // nobody is assigned (a bot never self-assigns).
    let toggled = app
        .send(
            Method::POST,
            &format!("{base}/toggle_status"),
            &token,
            Some(json!({ "status": "open" })),
        )
        .await
        .expect(200);
    assert_eq!(toggled["payload"]["current_status"], "open");
    let after = app.conversation(id).await;
    assert_eq!(after["status"], "open");
    assert_eq!(after["meta"].get("assignee"), None);
    assert_eq!(after["assignee"], Value::Null);

    // The other endpoints bots may call, with activity naming the bot.
    app.send(
        Method::POST,
        &format!("{base}/toggle_priority"),
        &token,
        Some(json!({ "priority": "high" })),
    )
    .await
    .expect(200);
    let labels = app
        .send(
            Method::POST,
            &format!("{base}/labels"),
            &token,
            Some(json!({ "labels": ["billing"] })),
        )
        .await
        .expect(200);
    assert_eq!(labels["payload"], json!(["billing"]));
    app.send(Method::GET, &format!("{base}/labels"), &token, None)
        .await
        .expect(200);
    app.send(
        Method::POST,
        &format!("{base}/custom_attributes"),
        &token,
        Some(json!({ "custom_attributes": { "plan": "pro" } })),
    )
    .await
    .expect(200);
    app.send(
        Method::POST,
        &format!("{base}/toggle_typing_status"),
        &token,
        Some(json!({ "typing_status": "on" })),
    )
    .await
    .expect(200);
    app.send(
        Method::PATCH,
        &base,
        &token,
        Some(json!({ "priority": "low" })),
    )
    .await
    .expect(200);
    let assignee = app.create_agent("Agnes", "agnes@example.com").await.0;
    let assigned = app
        .send(
            Method::POST,
            &format!("{base}/assignments"),
            &token,
            Some(json!({ "assignee_id": assignee })),
        )
        .await
        .expect(200);
    assert_eq!(assigned["id"], assignee);
    assert_eq!(
        app.activity(id).await,
        [
            "Conversation was reopened by Triage Bot",
            "Triage Bot set the priority to high",
            "Triage Bot added billing",
            "Triage Bot changed the priority from high to low",
            "Assigned to Agnes by Triage Bot",
        ]
    );

    // A conversation the bot creates, with its first message from the bot.
    let created = app
        .send(
            Method::POST,
            "/api/v1/accounts/1/conversations",
            &token,
            Some(json!({
                "inbox_id": 1,
                "contact_id": after["meta"]["sender"]["id"],
                "message": { "content": "Following up" }
            })),
        )
        .await
        .expect(200);
    assert_eq!(created["status"], "pending");
    assert_eq!(created["messages"][0]["sender"]["type"], "agent_bot");
}

#[tokio::test]
async fn a_bot_token_is_refused_outside_chatwoots_bot_endpoints() {
    let app = spawn_app().await;
    let (bot, token) = bot_on_inbox_1(&app, "Triage").await;
    let conversation = app.create_conversation(json!({})).await;
    let base = format!("/api/v1/accounts/1/conversations/{}", conversation["id"]);
    let refused = [
        (Method::GET, "/api/v1/accounts/1/agents".to_string()),
        (Method::GET, "/api/v1/accounts/1/webhooks".to_string()),
        (Method::GET, "/api/v1/accounts/1/agent_bots".to_string()),
        (Method::GET, "/api/v1/accounts/1/inboxes".to_string()),
        (
            Method::GET,
            "/api/v1/accounts/1/inboxes/1/agent_bot".to_string(),
        ),
        (Method::GET, "/api/v1/accounts/1/contacts".to_string()),
        (Method::GET, "/api/v1/accounts/1/conversations".to_string()),
        (
            Method::GET,
            "/api/v1/accounts/1/conversations/meta".to_string(),
        ),
        (Method::DELETE, base.clone()),
        (Method::GET, format!("{base}/messages")),
        (Method::POST, format!("{base}/mute")),
        (Method::POST, format!("{base}/update_last_seen")),
        (Method::GET, "/api/v1/profile".to_string()),
        // Checked before the account, as in Chatwoot.
        (Method::GET, "/api/v1/accounts/999/agents".to_string()),
    ];
    for (method, path) in refused {
        let reply = app.send(method.clone(), &path, &token, None).await;
        assert_eq!(reply.status, 401, "{method} {path}: {}", reply.body);
        assert_eq!(error_of(&reply.body), BOT_REFUSED, "{method} {path}");
    }
    // The conversation was not deleted.
    app.conversation(conversation["id"].as_i64().unwrap()).await;

    // Another account is closed to the bot, even on its endpoints.
    let other = app.create_account("Other", "other@example.com");
    let reply = app
        .send(
            Method::GET,
            &format!("/api/v1/accounts/{}/conversations/1", other.account_id),
            &token,
            None,
        )
        .await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(
        error_of(&reply.body),
        "You are not authorized to access this account"
    );
    app.send(
        Method::GET,
        "/api/v1/accounts/999/conversations/1",
        &token,
        None,
    )
    .await
    .expect(404);

    // As in Chatwoot, a bot acts only in an account where it answers an inbox.
    app.post(
        "/api/v1/accounts/1/inboxes/1/set_agent_bot",
        json!({ "agent_bot": null }),
    )
    .await
    .expect(200);
    let reply = app.send(Method::GET, &base, &token, None).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(
        error_of(&reply.body),
        "You are not authorized to access this account"
    );
    attach(&app, 1, &bot).await;
    app.send(Method::GET, &base, &token, None).await.expect(200);
}

#[tokio::test]
async fn conversations_in_a_bot_inbox_start_pending() {
    let app = spawn_app().await;
    let without = app.create_conversation(json!({})).await;
    assert_eq!(without["status"], "open");
    let (_, _) = bot_on_inbox_1(&app, "Triage").await;

    // Whatever status was asked for, as Chatwoot's model callback decides.
    let asked_open = app.create_conversation(json!({ "status": "open" })).await;
    assert_eq!(asked_open["status"], "pending");
    let plain = app.create_conversation(json!({})).await;
    assert_eq!(plain["status"], "pending");
    let counts = app
        .get("/api/v1/accounts/1/conversations/meta?status=pending")
        .await
        .expect(200);
    assert_eq!(counts["meta"]["all_count"], 2);

    // Another inbox, without a bot, is unaffected.
    let inbox = app
        .post(
            "/api/v1/accounts/1/inboxes",
            json!({ "name": "Sales", "channel": { "type": "api" } }),
        )
        .await
        .expect(200);
    let contact = app.create_contact("Other", "other-source").await;
    let elsewhere = app
        .post(
            "/api/v1/accounts/1/conversations",
            json!({ "inbox_id": inbox["id"], "contact_id": contact }),
        )
        .await
        .expect(200);
    assert_eq!(elsewhere["status"], "open");

    // A blocked contact's conversation starts resolved, bot or not.
    let muted = app.create_conversation(json!({})).await;
    let muted_id = muted["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/accounts/1/conversations/{muted_id}/mute"),
        json!({}),
    )
    .await
    .expect(200);
    let contact_id = muted["meta"]["sender"]["id"].as_i64().unwrap();
    let again = app
        .post(
            "/api/v1/accounts/1/conversations",
            json!({ "inbox_id": 1, "contact_id": contact_id }),
        )
        .await
        .expect(200);
    assert_eq!(again["status"], "resolved");

    // Removing the bot: conversations start as asked again.
    app.post(
        "/api/v1/accounts/1/inboxes/1/set_agent_bot",
        json!({ "agent_bot": null }),
    )
    .await
    .expect(200);
    assert_eq!(app.create_conversation(json!({})).await["status"], "open");
}

#[tokio::test]
async fn a_failed_bot_delivery_opens_a_pending_conversation_with_chatwoots_activity() {
    let app = spawn_app().await;
    bot_on_inbox_1(&app, "Triage").await;
    let pending = app.create_conversation(json!({})).await;
    let display_id = pending["id"].as_i64().unwrap();
    assert_eq!(pending["status"], "pending");
    let id: i64 = app.read(|c| {
        c.query_row(
            "SELECT id FROM conversations WHERE account_id = 1 AND display_id = ?1",
            [display_id],
            |row| row.get(0),
        )
    });

    let db = app.db();
    let opened = db
        .write_now(|tx| changes::open_after_bot_failure(tx, id, 1_000))
        .unwrap();
    assert!(opened);
    let after = app.conversation(display_id).await;
    assert_eq!(after["status"], "open");
    assert_eq!(after["meta"].get("assignee"), None);
    assert_eq!(
        app.activity(display_id).await,
        ["Conversation was marked open by system due to an error with the agent bot."]
    );
    let activity = app.messages(display_id).await.pop().unwrap();
    assert_eq!(activity.get("sender"), None);

    // Not pending any more: nothing happens.
    let again = db
        .write_now(|tx| changes::open_after_bot_failure(tx, id, 2_000))
        .unwrap();
    assert!(!again);
    assert_eq!(app.activity(display_id).await.len(), 1);
}

#[tokio::test]
async fn a_deleted_bots_messages_stay_without_a_sender() {
    let app = spawn_app().await;
    let (bot, token) = bot_on_inbox_1(&app, "Triage").await;
    let conversation = app.create_conversation(json!({})).await;
    let id = conversation["id"].as_i64().unwrap();
    app.send(
        Method::POST,
        &format!("/api/v1/accounts/1/conversations/{id}/messages"),
        &token,
        Some(json!({ "content": "Hi from the bot" })),
    )
    .await
    .expect(200);
    app.delete(&format!("{BOTS}/{}", bot["id"]))
        .await
        .expect(200);
    let messages = app.messages(id).await;
    // Found by its content: a failed delivery to the bot may add an activity message after it.
    let bots = messages
        .iter()
        .find(|m| m["content"] == "Hi from the bot")
        .expect("the bot's message is kept");
    assert_eq!(bots.get("sender"), None);
    let refused = app
        .send(
            Method::GET,
            &format!("/api/v1/accounts/1/conversations/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(refused.status, 401);
    assert_eq!(error_of(&refused.body), "Invalid Access Token");
}

#[tokio::test]
async fn the_inbox_secret_is_shown_to_administrators_and_can_be_reset() {
    let app = spawn_app().await;
    let (_, agent) = agent_in_inbox_1(&app).await;
    let inbox = app.get("/api/v1/accounts/1/inboxes/1").await.expect(200);
    let secret = inbox["secret"].as_str().expect("secret").to_string();
    assert!(secret.len() >= 24, "{secret}");
    assert_ne!(inbox["secret"], inbox["hmac_token"]);
    let listed = app.get("/api/v1/accounts/1/inboxes").await.expect(200);
    assert_eq!(listed["payload"][0]["secret"], secret.as_str());

    for seen in [
        app.send(Method::GET, "/api/v1/accounts/1/inboxes/1", &agent, None)
            .await
            .expect(200),
        app.send(Method::GET, "/api/v1/accounts/1/inboxes", &agent, None)
            .await
            .expect(200)["payload"][0]
            .clone(),
    ] {
        assert!(seen.get("secret").is_none(), "secret shown: {seen}");
        assert!(seen.get("hmac_token").is_none());
    }

    let reset = app
        .post("/api/v1/accounts/1/inboxes/1/reset_secret", json!({}))
        .await
        .expect(200);
    assert_eq!(reset["id"], 1);
    let new_secret = reset["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    assert_eq!(reset["hmac_token"], inbox["hmac_token"]);
    assert_eq!(
        app.get("/api/v1/accounts/1/inboxes/1").await.expect(200)["secret"],
        new_secret.as_str()
    );
    app.post("/api/v1/accounts/1/inboxes/999/reset_secret", json!({}))
        .await
        .expect(404);

    // Each new inbox has its own secret.
    let created = app
        .post(
            "/api/v1/accounts/1/inboxes",
            json!({ "name": "Sales", "channel": { "type": "api", "webhook_url": "https://example.com/in" } }),
        )
        .await
        .expect(200);
    assert!(created["secret"].as_str().unwrap().len() >= 24);
    assert_ne!(created["secret"], reset["secret"]);

    // What the senders read: the URL and the current secret; nothing without a URL.
    let created_id = created["id"].as_i64().unwrap();
    let db = app.db();
    let targets = db
        .read_now(|conn| {
            Ok((
                inboxes::delivery_target(conn, created_id)?,
                inboxes::delivery_target(conn, 1)?,
            ))
        })
        .unwrap();
    assert_eq!(
        targets,
        (
            Some((
                "https://example.com/in".to_string(),
                created["secret"].as_str().unwrap().to_string()
            )),
            None
        )
    );
}

#[tokio::test]
async fn an_inbox_webhook_url_must_be_http_or_https() {
    let app = spawn_app().await;
    for url in ["ftp://example.com/x", "javascript:alert(1)", "example.com"] {
        let body = app
            .patch(
                "/api/v1/accounts/1/inboxes/1",
                json!({ "channel": { "webhook_url": url } }),
            )
            .await
            .expect(422);
        assert_eq!(invalid_attributes(&body), ["webhook_url"], "{url}");
        assert_eq!(body["message"], "Webhook url is invalid");
        let created = app
            .post(
                "/api/v1/accounts/1/inboxes",
                json!({ "name": "Sales", "channel": { "type": "api", "webhook_url": url } }),
            )
            .await
            .expect(422);
        assert_eq!(invalid_attributes(&created), ["webhook_url"]);
    }
    let set = app
        .patch(
            "/api/v1/accounts/1/inboxes/1",
            json!({ "channel": { "webhook_url": " https://example.com/hook " } }),
        )
        .await
        .expect(200);
    assert_eq!(set["webhook_url"], "https://example.com/hook");
    // Blank or null clears it.
    let cleared = app
        .patch(
            "/api/v1/accounts/1/inboxes/1",
            json!({ "channel": { "webhook_url": "" } }),
        )
        .await
        .expect(200);
    assert_eq!(cleared["webhook_url"], Value::Null);
}
