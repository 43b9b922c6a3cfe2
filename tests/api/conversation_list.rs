use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const BASE: &str = "/api/v1/accounts/1/conversations";

fn ids(list: &Value) -> Vec<i64> {
    list["data"]["payload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

async fn list(app: &TestApp, query: &str) -> Value {
    app.get(&format!("{BASE}?{query}")).await.expect(200)
}

#[tokio::test]
async fn the_list_envelope_has_chatwoots_counts_and_the_docs_extras() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    app.create_conversation(json!({ "assignee_id": 1 })).await;
    let body = list(&app, "").await;
    assert_eq!(
        body["data"]["meta"],
        json!({ "mine_count": 1, "assigned_count": 1, "unassigned_count": 1, "all_count": 2, "count": 2, "current_page": 1 })
    );
    // assignee_type changes the rows and `count`, never the four counts.
    let mine = list(&app, "assignee_type=me").await;
    assert_eq!(ids(&mine), vec![2]);
    assert_eq!(mine["data"]["meta"]["count"], 1);
    assert_eq!(mine["data"]["meta"]["all_count"], 2);
    assert_eq!(ids(&list(&app, "assignee_type=unassigned").await), vec![1]);
    assert_eq!(ids(&list(&app, "assignee_type=assigned").await), vec![2]);
    let meta = app.get(&format!("{BASE}/meta")).await.expect(200);
    assert_eq!(
        meta,
        json!({ "meta": { "mine_count": 1, "assigned_count": 1, "unassigned_count": 1, "all_count": 2 } })
    );
}

#[tokio::test]
async fn status_defaults_to_open_and_all_lifts_it() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    app.create_conversation(json!({ "status": "resolved" }))
        .await;
    app.create_conversation(json!({ "status": "pending" }))
        .await;
    assert_eq!(ids(&list(&app, "").await), vec![1]);
    assert_eq!(ids(&list(&app, "status=resolved").await), vec![2]);
    assert_eq!(ids(&list(&app, "status=all").await), vec![3, 2, 1]);
    let meta = app
        .get(&format!("{BASE}/meta?status=pending"))
        .await
        .expect(200);
    assert_eq!(meta["meta"]["all_count"], 1);
    app.get(&format!("{BASE}?status=closed")).await.expect(422);
}

#[tokio::test]
async fn pages_hold_25_conversations_newest_activity_first() {
    let app = spawn_app().await;
    app.create_contact("Busy", "busy").await;
    for _ in 0..27 {
        app.post(BASE, json!({ "source_id": "busy" }))
            .await
            .expect(200);
    }
    let first = list(&app, "").await;
    assert_eq!(ids(&first).len(), 25);
    assert_eq!(ids(&first)[0], 27);
    let second = list(&app, "page=2").await;
    assert_eq!(ids(&second), vec![2, 1]);
    assert_eq!(second["data"]["meta"]["current_page"], 2);
    assert_eq!(second["data"]["meta"]["all_count"], 27);
    assert_eq!(
        ids(&list(&app, "page=99999999999999").await),
        Vec::<i64>::new()
    );
    assert_eq!(ids(&list(&app, "page=-4").await).len(), 25);
    // A message moves its conversation to the top.
    app.message(5, json!({ "content": "ping" })).await;
    assert_eq!(ids(&list(&app, "").await)[0], 5);
}

#[tokio::test]
async fn sort_by_follows_chatwoots_whitelist_and_aliases() {
    let app = spawn_app().await;
    app.create_contact("S", "s").await;
    for priority in ["low", "urgent", "medium"] {
        app.post(BASE, json!({ "source_id": "s" }))
            .await
            .expect(200);
        let id = app.get(&format!("{BASE}/meta")).await.expect(200)["meta"]["all_count"]
            .as_i64()
            .unwrap();
        app.patch(&format!("{BASE}/{id}"), json!({ "priority": priority }))
            .await
            .expect(200);
    }
    app.post(BASE, json!({ "source_id": "s" }))
        .await
        .expect(200);
    assert_eq!(
        ids(&list(&app, "sort_by=priority_desc").await),
        vec![2, 3, 1, 4]
    );
    assert_eq!(
        ids(&list(&app, "sort_by=sort_on_priority").await),
        vec![2, 3, 1, 4]
    );
    assert_eq!(
        ids(&list(&app, "sort_by=priority_asc").await),
        vec![1, 3, 2, 4]
    );
    assert_eq!(
        ids(&list(&app, "sort_by=created_at_asc").await),
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        ids(&list(&app, "sort_by=sort_on_created_at").await),
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        ids(&list(&app, "sort_by=created_at_desc").await),
        vec![4, 3, 2, 1]
    );
    // An unknown name falls back to the default order, as Chatwoot.
    assert_eq!(
        ids(&list(&app, "sort_by=bogus").await),
        ids(&list(&app, "").await)
    );
}

#[tokio::test]
async fn inbox_team_label_source_and_unattended_filters() {
    let app = spawn_app().await;
    app.post("/api/v1/accounts/1/inboxes", json!({ "name": "Second" }))
        .await
        .expect(200);
    app.post("/api/v1/accounts/1/teams", json!({ "name": "sales" }))
        .await
        .expect(200);
    app.create_conversation(json!({ "team_id": 1 })).await;
    let contact = app.create_contact("In two", "two").await;
    app.post(
        BASE,
        json!({ "inbox_id": 2, "contact_id": contact, "source_id": "second-inbox" }),
    )
    .await
    .expect(200);
    app.create_conversation(json!({})).await;
    app.post(
        &format!("{BASE}/3/labels"),
        json!({ "labels": ["vip", "billing"] }),
    )
    .await
    .expect(200);
    app.post(&format!("{BASE}/1/labels"), json!({ "labels": ["bug"] }))
        .await
        .expect(200);

    assert_eq!(ids(&list(&app, "inbox_id=2").await), vec![2]);
    assert_eq!(ids(&list(&app, "team_id=1").await), vec![1]);
    app.get(&format!("{BASE}?team_id=99")).await.expect(404);
    assert_eq!(ids(&list(&app, "labels=vip").await), vec![3]);
    // Label changes write activity messages, which move conversation 1 to the top.
    assert_eq!(ids(&list(&app, "labels=vip,bug").await), vec![1, 3]);
    assert_eq!(
        ids(&list(&app, "labels[]=bug&labels[]=nothing").await),
        vec![1]
    );
    assert_eq!(
        ids(&list(&app, "labels=bug&labels=billing").await),
        vec![1, 3]
    );
    assert_eq!(ids(&list(&app, "source_id=second-inbox").await), vec![2]);
    // Unattended: never replied to, or waiting for a reply.
    app.message(1, json!({ "content": "answer" })).await;
    assert_eq!(
        ids(&list(&app, "conversation_type=unattended").await),
        vec![3, 2]
    );
    assert_eq!(
        ids(&list(&app, "conversation_type=participating").await),
        vec![1],
        "the administrator replied in 1"
    );
    assert_eq!(
        ids(&list(&app, "conversation_type=mention").await),
        Vec::<i64>::new()
    );
    let counts = list(&app, "labels=vip,bug").await["data"]["meta"].clone();
    assert_eq!(counts["all_count"], 2);
    assert_eq!(ids(&list(&app, "updated_within=3600").await).len(), 3);
}

#[tokio::test]
async fn agents_count_and_see_only_their_inboxes() {
    let app = spawn_app().await;
    app.post("/api/v1/accounts/1/inboxes", json!({ "name": "Second" }))
        .await
        .expect(200);
    let (agent, token) = app.create_agent("Agent", "agent@example.com").await;
    app.post(
        "/api/v1/accounts/1/inbox_members",
        json!({ "inbox_id": 2, "user_ids": [agent] }),
    )
    .await
    .expect(200);
    app.create_conversation(json!({})).await;
    let contact = app.create_contact("Two", "two").await;
    app.post(
        BASE,
        json!({ "inbox_id": 2, "contact_id": contact, "assignee_id": agent }),
    )
    .await
    .expect(200);
    let theirs = app.send(Method::GET, BASE, &token, None).await.expect(200);
    assert_eq!(ids(&theirs), vec![2]);
    assert_eq!(
        theirs["data"]["meta"],
        json!({ "mine_count": 1, "assigned_count": 1, "unassigned_count": 0, "all_count": 1, "count": 1, "current_page": 1 })
    );
    let filtered = app
        .send(Method::GET, &format!("{BASE}?inbox_id=1"), &token, None)
        .await
        .expect(200);
    assert_eq!(ids(&filtered), Vec::<i64>::new());
}
