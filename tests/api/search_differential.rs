//! The search index against a plain scan: random messages (mixed case, non-ASCII, punctuation,
//! deletions, activity messages) and random queries, compared conversation by conversation.

use std::collections::{BTreeSet, HashMap};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

/// Pieces that collide often and fold in interesting ways.
const PIECES: &[&str] = &[
    "a", "b", "A", "B", "ab", "Ab", "é", "É", "ß", "SS", "İ", "i", "I", "ı", "Σ", "σ", "ς", " ",
    "-", ".", "!", "%", "_", "(", "\"", "日本", "🎉", "ΑΣ", "x", "y",
];

/// The rule, written out independently of the server: each character lowercased on its own,
/// then a substring test.
fn matches(content: &str, q: &str) -> bool {
    let fold = |s: &str| s.chars().flat_map(char::to_lowercase).collect::<String>();
    fold(content).contains(&fold(q))
}

fn random_text(rng: &mut StdRng, pieces: usize) -> String {
    (0..pieces)
        .map(|_| PIECES[rng.gen_range(0..PIECES.len())])
        .collect()
}

/// Message content: random text that is not blank (blank content is refused).
fn random_content(rng: &mut StdRng, pieces: usize) -> String {
    let text = random_text(rng, pieces);
    if text.trim().is_empty() {
        format!("{text}x")
    } else {
        text
    }
}

/// A query: usually a slice of an existing message with some letters' case flipped, otherwise
/// random pieces.
fn random_query(rng: &mut StdRng, contents: &[String]) -> String {
    if rng.gen_bool(0.65) && !contents.is_empty() {
        let chars: Vec<char> = contents[rng.gen_range(0..contents.len())].chars().collect();
        let len = rng.gen_range(1..=chars.len().min(8));
        let start = rng.gen_range(0..=chars.len() - len);
        chars[start..start + len]
            .iter()
            .flat_map(|c| {
                if rng.gen_bool(0.3) {
                    c.to_uppercase().collect::<Vec<_>>()
                } else {
                    vec![*c]
                }
            })
            .collect()
    } else {
        let pieces = rng.gen_range(1..=3);
        random_text(rng, pieces)
    }
}

/// Every conversation a search returns, over all its pages, with the message each shows.
async fn search_all(app: &TestApp, q: &str) -> (BTreeSet<i64>, Vec<String>) {
    let mut ids = BTreeSet::new();
    let mut shown = Vec::new();
    for page in 1.. {
        let query = serde_urlencoded::to_string([("q", q), ("page", &page.to_string())]).unwrap();
        let body = app
            .get(&format!("/api/v1/accounts/1/conversations/search?{query}"))
            .await
            .expect(200);
        let payload = body["payload"].as_array().unwrap();
        if payload.is_empty() {
            break;
        }
        for conversation in payload {
            ids.insert(conversation["id"].as_i64().unwrap());
            shown.push(
                conversation["messages"][0]["content"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
    }
    (ids, shown)
}

#[tokio::test]
async fn search_results_equal_a_plain_scan_of_random_messages() {
    let seed: u64 = std::env::var("SEARCH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    let app = spawn_app().await;

    // conversation -> searchable contents
    let mut live: HashMap<i64, Vec<String>> = HashMap::new();
    let mut conversations = Vec::new();
    for _ in 0..30 {
        let id = app.create_conversation(json!({})).await["id"]
            .as_i64()
            .unwrap();
        conversations.push(id);
        live.insert(id, Vec::new());
    }
    for _ in 0..260 {
        let id = conversations[rng.gen_range(0..conversations.len())];
        let pieces = rng.gen_range(1..=12);
        let content = random_content(&mut rng, pieces);
        let body = match rng.gen_range(0..3) {
            0 => json!({ "content": content, "message_type": "incoming" }),
            1 => json!({ "content": content, "message_type": "outgoing" }),
            _ => json!({ "content": content, "private": true }),
        };
        let message = app.message(id, body).await;
        if rng.gen_bool(0.1) {
            app.delete(&format!(
                "/api/v1/accounts/1/conversations/{id}/messages/{}",
                message["id"]
            ))
            .await
            .expect(200);
        } else {
            live.get_mut(&id).unwrap().push(content);
        }
        if rng.gen_bool(0.05) {
            // Activity messages ("... marked resolved by ...") must never match.
            app.post(
                &format!("/api/v1/accounts/1/conversations/{id}/toggle_status"),
                json!({}),
            )
            .await
            .expect(200);
        }
    }
    for &gone in &conversations[..2] {
        app.delete(&format!("/api/v1/accounts/1/conversations/{gone}"))
            .await
            .expect(200);
        live.remove(&gone);
    }

    let contents: Vec<String> = live.values().flatten().cloned().collect();
    let mut queries: Vec<String> = (0..160)
        .map(|_| random_query(&mut rng, &contents))
        .collect();
    queries.extend(["resolved", "marked", "deleted", "Conversation"].map(String::from));
    let mut nonempty = 0;
    for q in &queries {
        let expected: BTreeSet<i64> = live
            .iter()
            .filter(|(_, messages)| messages.iter().any(|m| matches(m, q)))
            .map(|(&id, _)| id)
            .collect();
        let (found, shown) = search_all(&app, q).await;
        assert_eq!(found, expected, "seed {seed}, q={q:?}");
        for content in shown {
            assert!(
                matches(&content, q),
                "seed {seed}, q={q:?} shows {content:?}"
            );
        }
        nonempty += usize::from(!expected.is_empty());
    }
    // The comparison is only as good as its positive cases.
    assert!(
        nonempty > queries.len() / 2,
        "seed {seed}: only {nonempty} queries matched"
    );
}

#[tokio::test]
async fn the_list_counts_under_q_equal_the_scan_too() {
    let app = spawn_app().await;
    let mut rng = StdRng::seed_from_u64(7);
    let mut contents: Vec<(i64, String)> = Vec::new();
    for _ in 0..12 {
        let id = app.create_conversation(json!({})).await["id"]
            .as_i64()
            .unwrap();
        for _ in 0..4 {
            let pieces = rng.gen_range(1..=6);
            let content = random_content(&mut rng, pieces);
            app.message(
                id,
                json!({ "content": content.clone(), "message_type": "incoming" }),
            )
            .await;
            contents.push((id, content));
        }
    }
    let all: Vec<String> = contents.iter().map(|(_, c)| c.clone()).collect();
    for _ in 0..40 {
        let q = random_query(&mut rng, &all);
        let expected: BTreeSet<i64> = contents
            .iter()
            .filter(|(_, c)| matches(c, &q))
            .map(|(id, _)| *id)
            .collect();
        let query = serde_urlencoded::to_string([("q", q.as_str())]).unwrap();
        let meta: Value = app
            .get(&format!("/api/v1/accounts/1/conversations/meta?{query}"))
            .await
            .expect(200);
        assert_eq!(meta["meta"]["all_count"], expected.len(), "q={q:?}");
    }
}
