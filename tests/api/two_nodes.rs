//! Two servers on one PostgreSQL database, as two nodes behind a load balancer: what one node
//! writes, the other answers at once. Only in the PostgreSQL test binary.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const CONVERSATIONS: &str = "/api/v1/accounts/1/conversations";

async fn open_list(app: &TestApp) -> Value {
    app.get(&format!("{CONVERSATIONS}?status=open"))
        .await
        .expect(200)
}

#[tokio::test]
async fn a_conversation_written_on_one_node_is_listed_counted_and_found_on_the_other() {
    let first = spawn_app().await;
    let second = first.another_node().await;
    assert_eq!(open_list(&second).await["data"]["meta"]["all_count"], 0);

    let created = first.create_conversation(json!({})).await;
    let id = created["id"].as_i64().unwrap();
    first
        .message(id, json!({ "content": "the quarterly invoice is wrong" }))
        .await;

    let listed = open_list(&second).await;
    assert_eq!(listed["data"]["meta"]["all_count"], 1);
    assert_eq!(listed["data"]["meta"]["unassigned_count"], 1);
    assert_eq!(listed["data"]["payload"][0]["id"], id);
    let meta = second
        .get(&format!("{CONVERSATIONS}/meta"))
        .await
        .expect(200);
    assert_eq!(meta["meta"]["all_count"], 1);
    // The second node's index has not seen the message yet, or has: either way it is found.
    let found = second
        .get(&format!("{CONVERSATIONS}/search?q=quarterly"))
        .await
        .expect(200);
    assert_eq!(found["meta"]["all_count"], 1, "{found}");
    assert_eq!(found["payload"][0]["id"], id);

    // A change on the second node shows on the first.
    second
        .post(
            &format!("{CONVERSATIONS}/{id}/toggle_status"),
            json!({ "status": "resolved" }),
        )
        .await
        .expect(200);
    assert_eq!(open_list(&first).await["data"]["meta"]["all_count"], 0);
    assert_eq!(first.conversation(id).await["status"], "resolved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_on_both_nodes_take_contiguous_display_ids() {
    let first = spawn_app().await;
    let second = first.another_node().await;
    let contact = first.create_contact("Customer", "shared-source").await;
    let create = |app: &TestApp| {
        let (client, url) = (
            app.client.clone(),
            format!("{}{CONVERSATIONS}", app.address),
        );
        async move {
            let mut ids = Vec::new();
            for _ in 0..25 {
                let reply = client
                    .post(&url)
                    .header("api_access_token", crate::helpers::ADMIN_TOKEN)
                    .json(&json!({ "source_id": "shared-source", "contact_id": contact }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(reply.status(), 200);
                let body: Value = reply.json().await.unwrap();
                ids.push(body["id"].as_i64().unwrap());
            }
            ids
        }
    };
    let (mut ids, more) = tokio::join!(create(&first), create(&second));
    ids.extend(more);
    ids.sort_unstable();
    assert_eq!(ids, (1..=50).collect::<Vec<i64>>());
    let listed = first
        .get(&format!("{CONVERSATIONS}?status=open"))
        .await
        .expect(200);
    assert_eq!(listed["data"]["meta"]["all_count"], 50);
}

#[tokio::test]
async fn an_agent_removed_through_one_node_is_refused_by_the_other() {
    let first = spawn_app().await;
    let second = first.another_node().await;
    let (id, token) = first.create_agent("Carol", "carol@example.com").await;
    // The second node has served the token, and keeps what it learnt of it.
    assert_eq!(second.agents_as(1, &token).await.status, 200);
    assert_eq!(second.agents_as(1, &token).await.status, 200);

    first
        .delete(&format!("/api/v1/accounts/1/agents/{id}"))
        .await
        .expect(200);
    let refused = crate::helpers::eventually(
        "the second node to refuse the removed agent",
        std::time::Duration::from_secs(5),
        || async {
            let status = second.agents_as(1, &token).await.status;
            (status != 200).then_some(status)
        },
    )
    .await;
    assert_eq!(refused, 401);
}

/// A node that dies mid-attempt leaves its delivery to the others: none of them sends it while
/// the first node's claim lasts, and one sends it, with the same delivery id, once the claim
/// has run out.
#[tokio::test]
async fn a_delivery_held_by_a_killed_node_is_sent_once_by_another_after_its_claim() {
    use crate::helpers::ADMIN_TOKEN;
    use crate::receiver::{Answer, Receiver};

    let database = crate::helpers::postgres_database();
    let url = database.url();
    let lease_secs = 15;
    let flags = [
        "--database-url",
        url.as_str(),
        "--webhook-allow-private",
        "--claim-lease-secs",
        &lease_secs.to_string(),
        "--webhook-timeout-secs",
        "12",
    ];
    let dir = tempfile::tempdir().unwrap();
    let first = crate::process::try_start_with(dir.path(), Some(ADMIN_TOKEN), &flags, None)
        .await
        .expect("the first node starts");
    let receiver = Receiver::start().await;
    receiver.answer_next(&[Answer::Hang]);
    first
        .ok(
            reqwest::Method::POST,
            "/api/v1/accounts/1/webhooks",
            ADMIN_TOKEN,
            Some(json!({"url": receiver.url("/held"), "subscriptions": ["message_created"]})),
        )
        .await;
    let id = first.create_conversation(ADMIN_TOKEN, "held-source").await;
    first
        .ok(
            reqwest::Method::POST,
            &format!("{CONVERSATIONS}/{id}/messages"),
            ADMIN_TOKEN,
            Some(json!({"content": "held by the first node"})),
        )
        .await;
    let held = receiver.wait_for("/held", 1).await;
    let claimed_at = std::time::Instant::now();

    // The second node finds the delivery claimed and leaves it alone.
    let second = crate::helpers::spawn_node(database).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(
        claimed_at.elapsed().as_secs() < lease_secs - 2,
        "the check ran within the first node's claim"
    );
    assert_eq!(receiver.at("/held").len(), 1, "sent again during the claim");

    first.kill().await;
    let both = receiver.wait_for("/held", 2).await;
    assert!(
        claimed_at.elapsed().as_secs() >= lease_secs - 1,
        "sent again before the claim ran out"
    );
    assert_eq!(
        both[1].header("x-chatwoot-delivery"),
        held[0].header("x-chatwoot-delivery")
    );
    assert_eq!(both[1].json()["content"], "held by the first node");
    let recorded = crate::helpers::eventually(
        "the second node to record the delivery",
        std::time::Duration::from_secs(10),
        || async {
            let rows = second.rows("SELECT state, attempts FROM event_deliveries", |row| {
                Ok((row.get::<i64>(0)?, row.get::<i64>(1)?))
            });
            (rows.first().is_some_and(|r| r.0 != 0)).then_some(rows)
        },
    )
    .await;
    // Delivered, by one attempt on record: the killed node's never finished.
    assert_eq!(recorded, vec![(1, 1)]);
}

/// PostgreSQL hands out the outbox's sequence numbers before commit, so a change can commit
/// after a later-numbered one has been indexed. The index follows commits, not numbers: the
/// earlier-numbered change is found once it commits.
#[tokio::test]
async fn a_change_committed_after_a_later_numbered_one_is_indexed_and_found() {
    let app = spawn_app().await;
    let id = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    // Another conversation for the later-numbered message, whose row the first one's open
    // transaction does not hold.
    let other = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    let (conversation, inbox) = app.rows(
        &format!("SELECT id, inbox_id FROM conversations WHERE display_id = {id}"),
        |row| Ok((row.get::<i64>(0)?, row.get::<i64>(1)?)),
    )[0];
    let url = app.database_url().expect("on PostgreSQL");

    // A transaction takes its outbox number first and commits last.
    let (inserted_tx, inserted) = std::sync::mpsc::channel();
    let (commit_tx, commit) = std::sync::mpsc::channel::<()>();
    let late = std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut tx = client.transaction().unwrap();
        tx.execute(
            "INSERT INTO messages (account_id, inbox_id, conversation_id, message_type, content, created_at, updated_at)
             VALUES (1, $1, $2, 0, 'a zebra crossing', 1, 1)",
            &[&inbox, &conversation],
        )
        .unwrap();
        inserted_tx.send(()).unwrap();
        commit.recv().unwrap();
        tx.commit().unwrap();
    });
    inserted.recv().unwrap();

    let documents = app.search.document_count();
    app.message(other, json!({ "content": "a giraffe neck" }))
        .await;
    crate::helpers::eventually(
        "the index to take in the later-numbered message",
        std::time::Duration::from_secs(10),
        || async { (app.search.document_count() > documents).then_some(()) },
    )
    .await;
    commit_tx.send(()).unwrap();
    late.join().unwrap();

    let found = crate::helpers::eventually(
        "the earlier-numbered message to be found",
        std::time::Duration::from_secs(10),
        || async {
            let found = app
                .get(&format!("{CONVERSATIONS}/search?q=zebra"))
                .await
                .expect(200);
            (found["meta"]["all_count"] == 1).then_some(found)
        },
    )
    .await;
    assert_eq!(found["payload"][0]["id"], id);
    app.index_caught_up().await;
    assert_eq!(app.search.document_count(), documents + 2);
}

/// `/cable` subscribers on every node hear every change, whichever node wrote it, in one
/// order.
#[tokio::test]
async fn cable_subscribers_on_both_nodes_hear_changes_written_on_either() {
    use crate::cable_client::Subscriber;
    use crate::helpers::ADMIN_TOKEN;

    let first = spawn_app().await;
    let second = first.another_node().await;
    let mut on_first = Subscriber::agent(&first, ADMIN_TOKEN, 1).await;
    let mut on_second = Subscriber::agent(&second, ADMIN_TOKEN, 1).await;

    let id = first.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    for n in 0..5 {
        first
            .message(id, json!({ "content": format!("from the first node {n}") }))
            .await;
    }
    second
        .message(id, json!({ "content": "from the second node" }))
        .await;
    let last = |event: &str, data: &Value| {
        event == "message.created" && data["content"] == "from the second node"
    };
    let heard_first = on_first.until(last).await;
    let heard_second = on_second.until(last).await;
    let created = |heard: &[(String, Value)]| -> Vec<String> {
        heard
            .iter()
            .filter(|(event, _)| event == "message.created")
            .map(|(_, data)| data["content"].as_str().unwrap().to_string())
            .collect()
    };
    let mut expected: Vec<String> = (0..5).map(|n| format!("from the first node {n}")).collect();
    expected.push("from the second node".into());
    assert_eq!(created(&heard_first), expected);
    assert_eq!(
        heard_first, heard_second,
        "both nodes' subscribers hear one order"
    );
    assert!(heard_first
        .iter()
        .any(|(event, data)| event == "conversation.created" && data["id"] == id));
}

/// Dev mode on two nodes: the clock set through one is the other's within moments, and a
/// reset through one empties what the other keeps beside the database (its request journal)
/// and tells its sockets to come back.
#[tokio::test]
async fn the_dev_clock_and_a_reset_made_through_one_node_reach_the_other() {
    use crate::helpers::spawn_configured;
    use wootlite::clock::Clock;

    let dev = |settings: &mut wootlite::config::Settings| settings.dev = true;
    let first = spawn_configured(Clock::adjustable(), dev).await;
    let second = first
        .another_node_configured(Clock::adjustable(), dev)
        .await;

    let set = json!({"set": "2030-01-01T00:00:00Z", "frozen": true});
    first.post("/__wootlite/clock", set).await.expect(200);
    let shared = json!({"now": 1_893_456_000, "frozen": true});
    crate::helpers::eventually(
        "the second node to take the clock",
        std::time::Duration::from_secs(5),
        || async {
            let now = second.get("/__wootlite/clock").await.expect(200);
            (now == shared).then_some(())
        },
    )
    .await;
    let conversation = second.create_conversation(json!({})).await;
    assert_eq!(conversation["created_at"], 1_893_456_000);

    let mut socket = crate::cable_client::open(&second).await;
    assert_eq!(
        crate::cable_client::next(&mut socket).await["type"],
        "welcome"
    );
    second
        .post(
            &format!("{CONVERSATIONS}/{}/messages", conversation["id"]),
            json!({"content": "an okapi"}),
        )
        .await
        .expect(200);
    let mentions_okapi = |journal: &Value| {
        journal
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["body"].as_str().unwrap_or("").contains("okapi"))
    };
    assert!(mentions_okapi(
        &second.get("/__wootlite/requests").await.expect(200)
    ));

    first.post("/__wootlite/reset", json!({})).await.expect(200);
    crate::helpers::eventually(
        "the second node to forget its journal",
        std::time::Duration::from_secs(5),
        || async {
            let journal = second.get("/__wootlite/requests").await.expect(200);
            (!mentions_okapi(&journal)).then_some(())
        },
    )
    .await;
    let goodbye = crate::cable_client::next(&mut socket).await;
    assert_eq!(goodbye["reason"], "server_restart", "{goodbye}");
    let running = second.get("/__wootlite/clock").await.expect(200);
    assert_eq!(running["frozen"], false, "the reset's clock reached it too");
    let fresh = second.create_conversation(json!({})).await;
    assert_eq!(fresh["id"], 1, "ids start at 1 again on every node");
}

/// Presence is one across nodes: a contact seen through one node is among the contacts an
/// agent on the other is told of, and an agent seen through that node is online for the
/// contact on this one.
#[tokio::test]
async fn someone_seen_through_one_node_is_online_on_the_other() {
    use crate::cable_client::{agent_identifier, next, Subscriber};
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    let first = spawn_app().await;
    let second = first.another_node().await;
    let contact_id = first.create_contact("Visitor", "visitor-source").await;
    let contact_token: String = first.read(|c| {
        c.query_row(
            "SELECT pubsub_token FROM contact_inboxes WHERE source_id = 'visitor-source'",
            [],
            |r| r.get(0),
        )
    });
    // Shown offline until seen (Chatwoot's default for a new agent).
    let (ada, ada_token) = first.create_agent("Ada", "ada@example.com").await;
    let presence_data = |frame: &Value| {
        assert_eq!(frame["message"]["event"], "presence.update", "{frame}");
        frame["message"]["data"].clone()
    };

    let mut contact = Subscriber::contact(&second, &contact_token).await;
    let told = presence_data(&next(&mut contact.socket).await);
    assert!(told["users"].get(ada.to_string()).is_none(), "{told}");

    let ada_on_first = Subscriber::on(
        crate::cable_client::open(&first).await,
        agent_identifier(&first, &ada_token, 1).await,
    )
    .await;
    let mut ada_socket = ada_on_first.socket;
    let told = presence_data(&next(&mut ada_socket).await);
    assert_eq!(
        told["contacts"],
        json!({ contact_id.to_string(): "online" }),
        "the contact seen through the second node: {told}"
    );

    let update = json!({"command": "message", "identifier": contact.identifier,
                        "data": {"action": "update_presence"}});
    contact
        .socket
        .send(Message::Text(update.to_string()))
        .await
        .unwrap();
    let told = presence_data(&next(&mut contact.socket).await);
    assert_eq!(
        told["users"][ada.to_string()],
        "online",
        "Ada seen through the first node: {told}"
    );
}

/// A write on one node wakes the followers on the other through a PostgreSQL notification,
/// rather than leaving them to their next poll.
#[tokio::test]
async fn a_write_on_one_node_is_announced_to_the_other() {
    use std::time::Duration;

    let first = spawn_app().await;
    let second = first.another_node().await;
    let mut told = second
        .db
        .others_wrote()
        .expect("notifications on PostgreSQL");
    // The second node listens from shortly after its start: write until it hears.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        first.create_conversation(json!({})).await;
        if tokio::time::timeout(Duration::from_millis(200), told.changed())
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second node never heard of the first node's writes"
        );
    }
}

/// A node with no subscribers of its own still shares what its writes broadcast: an agent
/// listening on the other node hears of them.
#[tokio::test]
async fn a_subscriber_hears_writes_made_through_a_node_nobody_listens_on() {
    use crate::cable_client::Subscriber;
    use crate::helpers::ADMIN_TOKEN;

    let first = spawn_app().await;
    let second = first.another_node().await;
    let mut on_second = Subscriber::agent(&second, ADMIN_TOKEN, 1).await;
    let id = first.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    first
        .message(id, json!({ "content": "through the quiet node" }))
        .await;
    // Pings keep the socket's reads alive, so the wait for the broadcast has a bound of its own.
    let heard = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        on_second.until(|event, data| {
            event == "message.created" && data["content"] == "through the quiet node"
        }),
    )
    .await
    .expect("the subscriber on the second node heard of the write");
    assert!(heard
        .iter()
        .any(|(event, data)| event == "conversation.created" && data["id"] == id));
}

/// Where nobody subscribes on any node, a write shares no broadcasts; once someone subscribes
/// on one node, writes through the other share theirs, and the subscriber hears them.
#[tokio::test]
async fn broadcasts_are_shared_only_for_accounts_someone_watches_on_some_node() {
    use crate::cable_client::Subscriber;
    use crate::helpers::ADMIN_TOKEN;

    let first = spawn_app().await;
    let second = first.another_node().await;
    let id = first.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    first.message(id, json!({ "content": "unheard" })).await;
    assert_eq!(feed_rows(&first), 0, "nobody watches the account");

    let mut on_second = Subscriber::agent(&second, ADMIN_TOKEN, 1).await;
    first.message(id, json!({ "content": "heard" })).await;
    assert!(feed_rows(&first) > 0);
    let heard = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        on_second.until(|event, data| event == "message.created" && data["content"] == "heard"),
    )
    .await
    .expect("the subscriber on the second node heard of the write");
    assert!(heard.iter().all(|(_, data)| data["content"] != "unheard"));
}

/// A commit hook that fails loses its broadcasts, never the write it follows: PostgreSQL
/// aborts the whole transaction on a failed statement, and `COMMIT` would then roll it back
/// without an error. Here the `/cable` feed's numbering is taken back under a row it holds.
#[tokio::test]
async fn a_failing_commit_hook_does_not_lose_the_write() {
    use crate::cable_client::Subscriber;
    use crate::helpers::ADMIN_TOKEN;

    let app = spawn_app().await;
    // Someone listens, so that the write has broadcasts to share.
    let _agent = Subscriber::agent(&app, ADMIN_TOKEN, 1).await;
    app.db()
        .write_now(|tx| {
            tx.execute_batch(
                "INSERT INTO wootlite_cable_feed (seq, event, data, streams)
                 OVERRIDING SYSTEM VALUE VALUES (1000000, 'taken', '{}', '[]');
                 SELECT setval(pg_get_serial_sequence('wootlite_cable_feed', 'seq'), 999999)",
            )?;
            Ok(())
        })
        .unwrap();
    let contact = app.create_contact("Kept", "kept-source").await;
    app.get(&format!("/api/v1/accounts/1/contacts/{contact}"))
        .await
        .expect(200);
    assert_eq!(
        feed_rows(&app),
        1,
        "the broadcasts went, the row in the way stayed"
    );
}

/// How many broadcasts the `/cable` feed holds.
fn feed_rows(app: &TestApp) -> i64 {
    app.db()
        .read_now(|c| {
            Ok(
                c.prepare_cached("SELECT count(*) FROM wootlite_cable_feed")?
                    .query_row([], |row| row.get(0))?,
            )
        })
        .unwrap()
}
