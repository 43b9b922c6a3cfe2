//! The four counts come from a table kept by triggers; after random sequences of changes they
//! must equal a plain COUNT(*) over the conversations.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const BASE: &str = "/api/v1/accounts/1/conversations";

/// (all, mine, unassigned) recomputed with COUNT(*) for one filter.
fn recount(
    app: &TestApp,
    status: Option<i64>,
    inbox: Option<i64>,
    team: Option<i64>,
    me: i64,
    only_inboxes_of: Option<i64>,
) -> (i64, i64, i64) {
    // Written for both engines: no sums of comparisons, parameters typed where only compared
    // with NULL.
    app.read(|c| {
        c.query_row(
            "SELECT COUNT(*), COUNT(CASE WHEN assignee_id = ?4 THEN 1 END),
                    COUNT(CASE WHEN assignee_id IS NULL THEN 1 END)
               FROM conversations
              WHERE account_id = 1
                AND (CAST(?1 AS integer) IS NULL OR status = ?1)
                AND (CAST(?2 AS bigint) IS NULL OR inbox_id = ?2)
                AND (CAST(?3 AS bigint) IS NULL OR team_id = ?3)
                AND (CAST(?5 AS bigint) IS NULL
                     OR inbox_id IN (SELECT inbox_id FROM inbox_members WHERE user_id = ?5))",
            wootlite::params![status, inbox, team, me, only_inboxes_of],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
    })
}

/// The count table must hold exactly the grouped COUNT(*), row for row.
fn assert_table_exact(app: &TestApp) {
    let grouped = |sql: &str| -> Vec<(i64, i64, i64, i64, i64, i64)> {
        app.rows(sql, |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
    };
    let expected = grouped(
        "SELECT account_id, status, inbox_id, COALESCE(team_id, 0), COALESCE(assignee_id, 0), COUNT(*)
           FROM conversations GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
    );
    let kept = grouped(
        "SELECT account_id, status, inbox_id, team_id, assignee_id, n FROM conversation_counts ORDER BY 1, 2, 3, 4, 5",
    );
    assert_eq!(kept, expected);
}

async fn meta(app: &TestApp, token: &str, query: &str) -> Value {
    app.send(Method::GET, &format!("{BASE}/meta?{query}"), token, None)
        .await
        .expect(200)["meta"]
        .clone()
}

#[tokio::test]
async fn counts_equal_count_star_after_random_operations() {
    let app = spawn_app().await;
    let mut rng = StdRng::seed_from_u64(20261124);
    app.post("/api/v1/accounts/1/inboxes", json!({ "name": "Second" }))
        .await
        .expect(200);
    for name in ["alpha", "beta"] {
        app.post("/api/v1/accounts/1/teams", json!({ "name": name }))
            .await
            .expect(200);
    }
    let (agent, agent_token) = app.create_agent("Agent", "agent@example.com").await;
    let (other_agent, _) = app.create_agent("Other", "other@example.com").await;
    app.post(
        "/api/v1/accounts/1/inbox_members",
        json!({ "inbox_id": 2, "user_ids": [agent, other_agent] }),
    )
    .await
    .expect(200);
    let mut contacts = Vec::new();
    for i in 0..6 {
        contacts.push(app.create_contact(&format!("C{i}"), &format!("c{i}")).await);
    }
    let statuses = ["open", "resolved", "pending", "snoozed"];
    let mut next_display = 1;
    let mut alive: Vec<i64> = Vec::new();
    for round in 0..120 {
        let pick = rng.gen_range(0..10);
        if alive.is_empty() || pick < 3 {
            let contact = contacts[rng.gen_range(0..contacts.len())];
            let mut body = json!({ "inbox_id": rng.gen_range(1..=2), "contact_id": contact,
                                   "status": statuses[rng.gen_range(0..4)] });
            if rng.gen_bool(0.5) {
                body["assignee_id"] = json!([1, agent, other_agent][rng.gen_range(0..3)]);
            }
            if rng.gen_bool(0.4) {
                body["team_id"] = json!(rng.gen_range(1..=2));
            }
            // A contact deleted earlier makes this a 404; only successes take a display id.
            let reply = app.post(BASE, body).await;
            if reply.status == 200 {
                alive.push(reply.body["id"].as_i64().unwrap());
                next_display += 1;
            }
            continue;
        }
        let id = alive[rng.gen_range(0..alive.len())];
        let path = format!("{BASE}/{id}");
        let status = match pick {
            3 => {
                app.post(
                    &format!("{path}/toggle_status"),
                    json!({ "status": statuses[rng.gen_range(0..4)] }),
                )
                .await
                .status
            }
            4 => {
                app.post(&format!("{path}/toggle_status"), json!({}))
                    .await
                    .status
            }
            5 => {
                let assignee = [json!(1), json!(agent), json!(other_agent), Value::Null]
                    [rng.gen_range(0..4)]
                .clone();
                app.post(
                    &format!("{path}/assignments"),
                    json!({ "assignee_id": assignee }),
                )
                .await
                .status
            }
            6 => {
                let team = [json!(1), json!(2), Value::Null][rng.gen_range(0..3)].clone();
                app.post(&format!("{path}/assignments"), json!({ "team_id": team }))
                    .await
                    .status
            }
            7 => app
                .message(id, json!({ "content": "hi", "message_type": "incoming" }))
                .await["id"]
                .as_i64()
                .map_or(500, |_| 200),
            8 => {
                alive.retain(|x| *x != id);
                app.delete(&path).await.status
            }
            _ => app.post(&format!("{path}/mute"), json!({})).await.status,
        };
        assert_eq!(status, 200, "operation {pick} on {id} in round {round}");
        if round == 60 {
            // Cascades and SET NULLs count too: a contact, a team and an agent leave.
            let contact = contacts.remove(0);
            app.delete(&format!("/api/v1/accounts/1/contacts/{contact}"))
                .await;
            app.delete("/api/v1/accounts/1/teams/2").await;
            app.delete(&format!("/api/v1/accounts/1/agents/{other_agent}"))
                .await;
            let existing: Vec<i64> = app.rows(
                "SELECT display_id FROM conversations WHERE account_id = 1",
                |r| r.get(0),
            );
            alive.retain(|id| existing.contains(id));
        }
        if round % 20 == 19 {
            assert_table_exact(&app);
        }
    }
    assert!(next_display > 10, "the sequence created conversations");
    assert_table_exact(&app);
    for (query, status, inbox, team) in [
        ("status=all", None, None, None),
        ("", Some(0), None, None),
        ("status=resolved", Some(1), None, None),
        ("status=pending&inbox_id=2", Some(2), Some(2), None),
        ("status=all&team_id=1", None, None, Some(1)),
        (
            "status=snoozed&inbox_id=1&team_id=1",
            Some(3),
            Some(1),
            Some(1),
        ),
    ] {
        let (all, mine, unassigned) = recount(&app, status, inbox, team, 1, None);
        let expected = json!({ "mine_count": mine, "assigned_count": all - unassigned, "unassigned_count": unassigned, "all_count": all });
        assert_eq!(
            meta(&app, crate::helpers::ADMIN_TOKEN, query).await,
            expected,
            "{query}"
        );
        let (all, mine, unassigned) = recount(&app, status, inbox, team, agent, Some(agent));
        let expected = json!({ "mine_count": mine, "assigned_count": all - unassigned, "unassigned_count": unassigned, "all_count": all });
        assert_eq!(
            meta(&app, &agent_token, query).await,
            expected,
            "agent: {query}"
        );
    }
}
