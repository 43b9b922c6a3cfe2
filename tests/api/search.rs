//! `GET /conversations/search?q=` and `q` on the list and meta: what matches, what is shown,
//! scoping, read-your-writes, and bad queries.

use std::time::Duration;

use serde_json::{json, Value};
use wootlite::search::Fault;

use crate::helpers::{error_of, eventually, serve_fixture, spawn_app, TestApp, ADMIN_TOKEN};
use wootlite::provision::Provisioned;

const SEARCH: &str = "/api/v1/accounts/1/conversations/search";

/// Query-string encoding of a search term.
fn encoded(q: &str) -> String {
    serde_urlencoded::to_string([("q", q)]).unwrap()
}

async fn search(app: &TestApp, q: &str) -> Value {
    app.get(&format!("{SEARCH}?{}", encoded(q)))
        .await
        .expect(200)
}

/// The display ids a search returns on its first page.
fn ids(body: &Value) -> Vec<i64> {
    body["payload"]
        .as_array()
        .unwrap_or_else(|| panic!("no payload in {body}"))
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort();
    v
}

async fn conversation_with(app: &TestApp, content: &str) -> i64 {
    conversation_and_message(app, content).await.0
}

/// A new conversation with one incoming message, and that message.
async fn conversation_and_message(app: &TestApp, content: &str) -> (i64, Value) {
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    let message = app
        .message(
            id,
            json!({ "content": content, "message_type": "incoming" }),
        )
        .await;
    (id, message)
}

/// A conversation of another account, opened with a message saying `content`.
async fn conversation_elsewhere(app: &TestApp, other: &Provisioned, content: &str) -> i64 {
    let contact = app
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/accounts/{}/contacts", other.account_id),
            &other.token,
            Some(json!({ "name": "C", "inbox_id": other.inbox_id, "source_id": "s-other" })),
        )
        .await
        .expect(200);
    let conversation = app
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/accounts/{}/conversations", other.account_id),
            &other.token,
            Some(json!({ "inbox_id": other.inbox_id,
                         "contact_id": contact["payload"]["contact"]["id"],
                         "message": { "content": content } })),
        )
        .await
        .expect(200);
    conversation["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_search_matches_case_insensitive_substrings_of_messages_in_any_status() {
    let app = spawn_app().await;
    let hello = conversation_with(&app, "Hello there, I need HELP with my Ørder").await;
    let other = conversation_with(&app, "Nothing relevant").await;
    // Resolved conversations are searched too.
    app.post(
        &format!("/api/v1/accounts/1/conversations/{hello}/toggle_status"),
        json!({ "status": "resolved" }),
    )
    .await
    .expect(200);

    for q in [
        "help",
        "HeLp",
        "ørder",
        "ØRDER",
        "o there, i",
        "ø",
        "lp",
        "Hello there, I need HELP with my Ørder",
    ] {
        assert_eq!(ids(&search(&app, q).await), vec![hello], "q={q:?}");
    }
    assert_eq!(
        sorted(ids(&search(&app, "e").await)),
        sorted(vec![hello, other])
    );
    for q in ["helpx", "Hello  there", "relevant!", "%", "_"] {
        assert!(ids(&search(&app, q).await).is_empty(), "q={q:?}");
    }
}

#[tokio::test]
async fn outgoing_messages_and_private_notes_match_but_activity_messages_do_not() {
    let app = spawn_app().await;
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    app.message(id, json!({ "content": "outgoing reply alpha" }))
        .await;
    app.message(
        id,
        json!({ "content": "private note beta", "private": true }),
    )
    .await;
    assert_eq!(ids(&search(&app, "alpha").await), vec![id]);
    assert_eq!(ids(&search(&app, "beta").await), vec![id]);
    // The status change writes "Conversation was marked resolved by ..." as an activity message.
    app.post(
        &format!("/api/v1/accounts/1/conversations/{id}/toggle_status"),
        json!({ "status": "resolved" }),
    )
    .await
    .expect(200);
    assert!(app
        .activity(id)
        .await
        .iter()
        .any(|a| a.contains("resolved")));
    assert!(ids(&search(&app, "marked resolved").await).is_empty());
}

#[tokio::test]
async fn the_shown_message_is_the_newest_matching_one_and_the_envelope_is_chatwoots() {
    let app = spawn_app().await;
    let id = conversation_with(&app, "first mention of the invoice").await;
    app.message(
        id,
        json!({ "content": "second invoice question", "message_type": "incoming" }),
    )
    .await;
    app.message(id, json!({ "content": "a later reply without the word" }))
        .await;
    let body = search(&app, "invoice").await;
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, vec!["meta", "payload"]);
    let meta = &body["meta"];
    assert_eq!(meta["all_count"], 1);
    assert_eq!(meta["unassigned_count"], 1);
    assert_eq!(meta["mine_count"], 0);
    assert_eq!(meta["assigned_count"], 0);
    let conversation = &body["payload"][0];
    assert_eq!(conversation["id"], id);
    assert_eq!(
        conversation["messages"][0]["content"],
        "second invoice question"
    );
    // The list shows the newest message, as ever.
    let listed = app.conversation(id).await;
    assert_eq!(
        listed["messages"][0]["content"],
        "a later reply without the word"
    );
}

#[tokio::test]
async fn a_message_is_found_by_the_next_search_after_it_is_written() {
    let app = spawn_app().await;
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    for n in 0..40 {
        let word = format!("fresh{n}word");
        app.message(
            id,
            json!({ "content": format!("say {word} now"), "message_type": "incoming" }),
        )
        .await;
        let body = search(&app, &word).await;
        assert_eq!(
            ids(&body),
            vec![id],
            "message {n} not visible to the next search"
        );
        assert_eq!(
            body["payload"][0]["messages"][0]["content"],
            format!("say {word} now")
        );
    }
}

#[tokio::test]
async fn deleted_messages_and_conversations_are_not_found() {
    let app = spawn_app().await;
    let kept = conversation_with(&app, "keepsake").await;
    let (id, message) = conversation_and_message(&app, "ephemeral text").await;
    assert_eq!(ids(&search(&app, "ephemeral").await), vec![id]);
    app.delete(&format!(
        "/api/v1/accounts/1/conversations/{id}/messages/{}",
        message["id"]
    ))
    .await
    .expect(200);
    assert!(ids(&search(&app, "ephemeral").await).is_empty());
    // Chatwoot's replacement text is not searchable content either.
    assert!(ids(&search(&app, "was deleted").await).is_empty());

    let gone = conversation_with(&app, "doomed keepsake").await;
    assert_eq!(
        sorted(ids(&search(&app, "keepsake").await)),
        sorted(vec![kept, gone])
    );
    app.delete(&format!("/api/v1/accounts/1/conversations/{gone}"))
        .await
        .expect(200);
    assert_eq!(ids(&search(&app, "keepsake").await), vec![kept]);
}

#[tokio::test]
async fn a_search_sees_only_the_callers_account_and_inboxes() {
    let app = spawn_app().await;
    let mine = conversation_with(&app, "shared secret phrase").await;
    // Another account's conversation with the same words.
    let other = app.create_account("Other", "other@example.com");
    let theirs = conversation_elsewhere(&app, &other, "shared secret phrase").await;
    assert_eq!(ids(&search(&app, "secret").await), vec![mine]);
    let body = app
        .send(
            reqwest::Method::GET,
            &format!(
                "/api/v1/accounts/{}/conversations/search?q=secret",
                other.account_id
            ),
            &other.token,
            None,
        )
        .await
        .expect(200);
    assert_eq!(ids(&body), vec![theirs]);

    // An agent outside inbox 1 sees nothing; once a member, the conversation.
    let (agent, token) = app.create_agent("Agent", "agent@example.com").await;
    let as_agent = |token: String| {
        let app = &app;
        async move {
            app.send(
                reqwest::Method::GET,
                &format!("{SEARCH}?q=secret"),
                &token,
                None,
            )
            .await
            .expect(200)
        }
    };
    let body = as_agent(token.clone()).await;
    assert!(ids(&body).is_empty());
    assert_eq!(body["meta"]["all_count"], 0);
    app.post(
        "/api/v1/accounts/1/inbox_members",
        json!({ "inbox_id": 1, "user_ids": [agent] }),
    )
    .await
    .expect(200);
    assert_eq!(ids(&as_agent(token).await), vec![mine]);
}

/// A search counts and orders its matches by their state when it runs: each change before it
/// (assignee, new activity, deletion) is seen by the very next search.
#[tokio::test]
async fn the_next_search_sees_every_change_to_its_matches() {
    let app = spawn_app().await;
    let first = conversation_with(&app, "tracked parcel one").await;
    let second = conversation_with(&app, "tracked parcel two").await;
    let conversation = |id: i64| format!("/api/v1/accounts/1/conversations/{id}");
    let searched = |query: &'static str| {
        let app = &app;
        async move {
            app.get(&format!("{SEARCH}?q=tracked&{query}"))
                .await
                .expect(200)
        }
    };
    app.post(
        &format!("{}/assignments", conversation(first)),
        json!({ "assignee_id": 1 }),
    )
    .await
    .expect(200);
    let mine = searched("assignee_type=me").await;
    assert_eq!(ids(&mine), vec![first]);
    assert_eq!(mine["meta"]["mine_count"], 1);
    assert_eq!(mine["meta"]["unassigned_count"], 1);
    assert_eq!(
        ids(&searched("assignee_type=unassigned").await),
        vec![second]
    );

    for (latest, other) in [(second, first), (first, second)] {
        app.message(
            latest,
            json!({ "content": "an update", "message_type": "outgoing" }),
        )
        .await;
        assert_eq!(ids(&searched("page=1").await), vec![latest, other]);
    }

    app.delete(&conversation(first)).await.expect(200);
    let left = searched("assignee_type=all").await;
    assert_eq!(ids(&left), vec![second]);
    assert_eq!(left["meta"]["all_count"], 1);
    assert_eq!(left["meta"]["mine_count"], 0);
}

/// With the indexer failing every run, the index takes in nothing more: a search reads what
/// came after the index's last commit from the database, and still sees at once each write
/// acknowledged before it (new messages, deleted ones, a deleted conversation, new status and
/// assignee), and no other account's.
#[tokio::test]
async fn a_search_sees_at_once_the_writes_the_index_has_not_taken_in() {
    let app = spawn_app().await;
    let parcel = conversation_with(&app, "tracked parcel").await;
    let doomed = conversation_with(&app, "tracked doomed parcel").await;
    let (noted, note) = conversation_and_message(&app, "tracked note").await;
    assert_eq!(
        sorted(ids(&search(&app, "tracked").await)),
        sorted(vec![parcel, doomed, noted])
    );
    app.search.inject_fault(Fault::Error, u32::MAX);
    eventually(
        "the indexer to be down",
        Duration::from_secs(60),
        || async {
            let health = app.client.get(app.url("/health")).send().await.unwrap();
            let body: Value = health.json().await.unwrap();
            (body["tasks"]["search-indexer"]["up"] == false).then_some(())
        },
    )
    .await;
    let indexed = app.search.visible_seq();

    let newcomer = conversation_with(&app, "tracked newcomer").await;
    app.message(
        newcomer,
        json!({ "content": "a plain reply", "message_type": "outgoing" }),
    )
    .await;
    app.delete(&format!(
        "/api/v1/accounts/1/conversations/{noted}/messages/{}",
        note["id"]
    ))
    .await
    .expect(200);
    app.delete(&format!("/api/v1/accounts/1/conversations/{doomed}"))
        .await
        .expect(200);
    let other = app.create_account("Other", "other@example.com");
    conversation_elsewhere(&app, &other, "tracked elsewhere").await;

    let found = search(&app, "tracked").await;
    assert_eq!(ids(&found), vec![newcomer, parcel]);
    assert_eq!(found["meta"]["all_count"], 2);
    // The newest matching message, not the newest message.
    assert_eq!(
        found["payload"][0]["messages"][0]["content"],
        "tracked newcomer"
    );

    app.post(
        &format!("/api/v1/accounts/1/conversations/{parcel}/assignments"),
        json!({ "assignee_id": 1 }),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/accounts/1/conversations/{parcel}/toggle_status"),
        json!({ "status": "resolved" }),
    )
    .await
    .expect(200);
    let mine = app
        .get(&format!("{SEARCH}?q=tracked&assignee_type=me"))
        .await
        .expect(200);
    assert_eq!(ids(&mine), vec![parcel]);
    assert_eq!(mine["meta"]["mine_count"], 1);
    assert_eq!(mine["meta"]["unassigned_count"], 1);
    let open = app
        .get("/api/v1/accounts/1/conversations?q=tracked&status=open")
        .await
        .expect(200);
    assert_eq!(open["data"]["meta"]["all_count"], 2);
    assert_eq!(open["data"]["payload"][0]["id"], parcel);

    assert_eq!(
        app.search.visible_seq(),
        indexed,
        "the index took in nothing meanwhile"
    );
}

/// A rare text's search runs as a plain read: it answers while every turn of the heavy reads
/// is taken, by work held until the search has answered (or for a minute, should it not).
#[tokio::test]
async fn a_search_for_a_rare_text_needs_no_heavy_turn() {
    let app = spawn_app().await;
    let id = conversation_with(&app, "a quokkaberry pie").await;
    assert_eq!(ids(&search(&app, "quokkaberry").await), vec![id]);

    let (started, mut holding) = tokio::sync::mpsc::unbounded_channel();
    let mut releases = Vec::new();
    let mut holds = Vec::new();
    // The test server's `search_concurrency`.
    for _ in 0..2 {
        let (release, released) = std::sync::mpsc::channel::<()>();
        releases.push(release);
        let (db, started) = (app.db.clone(), started.clone());
        holds.push(tokio::spawn(async move {
            db.read_heavy(move |_| {
                started.send(()).unwrap();
                Ok(released.recv_timeout(Duration::from_secs(60)).is_ok())
            })
            .await
            .unwrap()
        }));
    }
    for _ in 0..2 {
        holding.recv().await.unwrap();
    }
    let found = search(&app, "quokkaberry").await;
    for release in releases {
        let _ = release.send(());
    }
    for hold in holds {
        assert!(
            hold.await.unwrap(),
            "the search answered only once the heavy turns were free"
        );
    }
    assert_eq!(ids(&found), vec![id]);
}

#[tokio::test]
async fn a_search_keeps_the_list_filters_order_and_paging() {
    let app = spawn_app().await;
    let mut all = Vec::new();
    for n in 0..30 {
        all.push(conversation_with(&app, &format!("paging needle {n}")).await);
    }
    // Label one and assign another, to check the label filter and the counts.
    app.post(
        &format!("/api/v1/accounts/1/conversations/{}/labels", all[3]),
        json!({ "labels": ["vip"] }),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/v1/accounts/1/conversations/{}/assignments", all[5]),
        json!({ "assignee_id": 1 }),
    )
    .await
    .expect(200);

    let first = search(&app, "needle").await;
    assert_eq!(first["meta"]["all_count"], 30);
    assert_eq!(first["meta"]["mine_count"], 1);
    assert_eq!(first["meta"]["assigned_count"], 1);
    assert_eq!(first["meta"]["unassigned_count"], 29);
    let page_one = ids(&first);
    assert_eq!(page_one.len(), 25);
    let second = app
        .get(&format!("{SEARCH}?q=needle&page=2"))
        .await
        .expect(200);
    let mut seen = page_one.clone();
    seen.extend(ids(&second));
    assert_eq!(sorted(seen.clone()), sorted(all.clone()));
    // Newest activity first, as the list: the assignment made all[5] the most recent.
    assert_eq!(page_one[0], all[5]);

    let labelled = app
        .get(&format!("{SEARCH}?q=needle&labels=vip"))
        .await
        .expect(200);
    assert_eq!(ids(&labelled), vec![all[3]]);
    let mine = app
        .get(&format!("{SEARCH}?q=needle&assignee_type=me"))
        .await
        .expect(200);
    assert_eq!(ids(&mine), vec![all[5]]);
    assert_eq!(mine["meta"]["all_count"], 30);
    let oldest_first = app
        .get(&format!("{SEARCH}?q=needle&sort_by=created_at_asc"))
        .await
        .expect(200);
    assert_eq!(ids(&oldest_first)[0], all[0]);
    app.get(&format!("{SEARCH}?q=needle&team_id=999"))
        .await
        .expect(404);
}

#[tokio::test]
async fn the_list_and_meta_apply_q_the_same_way() {
    let app = spawn_app().await;
    let open = conversation_with(&app, "listed lemon").await;
    let resolved = conversation_with(&app, "resolved lemon").await;
    conversation_with(&app, "no fruit").await;
    app.post(
        &format!("/api/v1/accounts/1/conversations/{resolved}/toggle_status"),
        json!({ "status": "resolved" }),
    )
    .await
    .expect(200);
    let list = app
        .get("/api/v1/accounts/1/conversations?q=lemon&status=open")
        .await
        .expect(200);
    let listed: Vec<i64> = list["data"]["payload"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(sorted(listed), sorted(vec![open, resolved]));
    assert_eq!(list["data"]["meta"]["all_count"], 2);
    let meta = app
        .get("/api/v1/accounts/1/conversations/meta?q=LEMON")
        .await
        .expect(200);
    assert_eq!(meta["meta"]["all_count"], 2);
}

#[tokio::test]
async fn an_empty_query_matches_every_conversation_with_a_message_and_a_missing_one_lists() {
    let app = spawn_app().await;
    let talked = conversation_with(&app, "anything").await;
    let silent = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    let resolved = conversation_with(&app, "closed topic").await;
    app.post(
        &format!("/api/v1/accounts/1/conversations/{resolved}/toggle_status"),
        json!({ "status": "resolved" }),
    )
    .await
    .expect(200);
    // Present but empty: like Chatwoot's `ILIKE '%%'`, every status, only conversations that
    // have a searchable message.
    let body = app.get(&format!("{SEARCH}?q=")).await.expect(200);
    assert_eq!(sorted(ids(&body)), sorted(vec![talked, resolved]));
    // Missing: the list's own rule (open conversations) in the search envelope.
    let body = app.get(SEARCH).await.expect(200);
    assert_eq!(sorted(ids(&body)), sorted(vec![talked, silent]));
    assert_eq!(body["meta"]["all_count"], 2);
}

#[tokio::test]
async fn hostile_queries_get_clean_answers() {
    let app = spawn_app().await;
    let id = conversation_with(
        &app,
        "quote \" bracket (( emoji 🎉 tab\there AND OR NOT *:~^",
    )
    .await;
    // Within the length cap, brackets are text like any other.
    let nested = "(".repeat(499);
    for q in [
        nested.as_str(),
        "\"",
        "\"unbalanced",
        "field:value",
        "a AND b",
        "*",
        "\u{0}\u{1}\u{7f}",
        "🎉",
        "\\",
        "' OR 1=1 --",
    ] {
        let reply = app.get(&format!("{SEARCH}?{}", encoded(q))).await;
        assert_eq!(reply.status, 200, "q={q:?}: {}", reply.body);
    }
    assert_eq!(ids(&search(&app, "🎉").await), vec![id]);
    assert_eq!(ids(&search(&app, "\" bracket ((").await), vec![id]);
    assert_eq!(ids(&search(&app, "tab\there").await), vec![id]);
    assert_eq!(ids(&search(&app, "*:~^").await), vec![id]);

    let reply = app
        .get(&format!("{SEARCH}?{}", encoded(&"(".repeat(800))))
        .await;
    assert_eq!(reply.status, 422);
    let long = "x".repeat(10 * 1024);
    let reply = app.get(&format!("{SEARCH}?q={long}")).await;
    assert_eq!(reply.status, 422);
    assert!(error_of(&reply.body).contains("too long"));
    // Bytes that are not UTF-8 decode to replacement characters, which no message contains.
    let reply = app.get(&format!("{SEARCH}?q=%FF%FE")).await;
    assert!(ids(&reply.expect(200)).is_empty());
}

/// Pages far past the end are empty, however far: the page window is computed without overflow.
#[tokio::test]
async fn a_page_far_past_the_end_is_empty() {
    let app = spawn_app().await;
    conversation_with(&app, "needle in a haystack").await;
    for page in ["2", "9223372036854775807"] {
        let found = app
            .get(&format!("{SEARCH}?q=needle&page={page}"))
            .await
            .expect(200);
        assert_eq!(found["meta"]["all_count"], 1, "page {page}");
        assert_eq!(found["payload"], json!([]), "page {page}");
    }
    let filtered = app
        .post(
            "/api/v1/accounts/1/conversations/filter?page=9223372036854775807",
            json!({ "payload": [
                { "attribute_key": "status", "filter_operator": "equal_to", "values": ["open"] }
            ]}),
        )
        .await
        .expect(200);
    assert_eq!(filtered["payload"], json!([]));
}

/// A search that matches more messages than it records the ids of (lowered here from half a
/// million) still shows each conversation's newest matching message, looked up for the page,
/// and not its newest message.
#[tokio::test]
async fn past_the_recorded_matches_each_conversation_still_shows_its_newest_match() {
    let mut busy: Vec<Value> = (0..300)
        .map(|n| json!({ "content": format!("ticket {n}") }))
        .collect();
    busy.push(json!({ "type": "outgoing", "content": "closing now" }));
    let fixture = json!({
        "users": [{ "key": "ana", "name": "Ana", "email": "ana@example.com", "tokens": [ADMIN_TOKEN] }],
        "accounts": [{
            "key": "acme",
            "name": "Acme",
            "agents": [{ "user": "ana", "role": "administrator" }],
            "inboxes": [{ "key": "web", "name": "Web", "members": ["ana"] }],
            "contacts": [{ "key": "zoe", "name": "Zoe" }],
            "conversations": [
                { "inbox": "web", "contact": "zoe", "messages": busy },
                { "inbox": "web", "contact": "zoe", "messages": [
                    { "content": "an old TICKET" },
                    { "type": "outgoing", "private": true, "content": "Ticket answered" },
                    { "content": "thanks" }
                ] }
            ]
        }]
    });
    let (app, _files) = serve_fixture(&fixture).await;
    app.search.record_matches_up_to(100);
    let shown = |body: &Value| -> Vec<(i64, String)> {
        let mut shown: Vec<(i64, String)> = body["payload"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let content = c["messages"][0]["content"].as_str().unwrap();
                (c["id"].as_i64().unwrap(), content.to_owned())
            })
            .collect();
        shown.sort();
        shown
    };
    assert_eq!(
        shown(&search(&app, "ticket").await),
        [(1, "ticket 299".into()), (2, "Ticket answered".into())]
    );
    assert_eq!(
        shown(&search(&app, "ticket 2").await),
        [(1, "ticket 299".into())]
    );
    assert_eq!(
        shown(&search(&app, "ticket 1").await),
        [(1, "ticket 199".into())]
    );
}

/// The indexer goes on taking in changes while its copy of the conversation summaries loads
/// (seconds for a large database), and once that copy is used it holds what was taken in
/// meanwhile, though the load read the database before.
#[tokio::test]
async fn the_index_follows_writes_while_the_summaries_load_and_the_copy_holds_them() {
    let app = spawn_app().await;
    let walrus = conversation_with(&app, "a plain walrus").await;
    let loaded = || async { app.search.summaries_loaded().then_some(()) };
    eventually(
        "the first copy of the summaries",
        Duration::from_secs(60),
        loaded,
    )
    .await;

    // The next run loads its own copy, and holds it once read until told.
    let release = app.search.hold_next_summaries_load();
    app.search.inject_fault(Fault::Error, 1);
    eventually(
        "the next run's load to begin",
        Duration::from_secs(60),
        || async { app.search.held_summaries_load_begun().then_some(()) },
    )
    .await;
    assert!(!app.search.summaries_loaded());

    app.post(
        &format!("/api/v1/accounts/1/conversations/{walrus}/assignments"),
        json!({ "assignee_id": 1 }),
    )
    .await
    .expect(200);
    // Only while the load is held.
    app.index_caught_up().await;
    assert!(!app.search.summaries_loaded());

    drop(release);
    eventually("the copy to be used", Duration::from_secs(60), loaded).await;
    let found = search(&app, "walrus").await;
    assert_eq!(ids(&found), vec![walrus]);
    assert_eq!(found["meta"]["mine_count"], 1, "{}", found["meta"]);
    assert_eq!(found["meta"]["unassigned_count"], 0, "{}", found["meta"]);
}
