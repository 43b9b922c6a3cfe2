//! The hot paths without HTTP, each beside its raw baseline in the same run, on the generated
//! dataset (1,000,000 conversations by default; WOOTLITE_BENCH_CONVERSATIONS to change):
//!
//! - `list/*`, `get`: what the endpoint does (rows, details, JSON) vs the bare SQL statement
//!   reading the same conversation rows on a plain connection;
//! - `counts`: the four counts from the count table vs `COUNT(*)` by status on the list index;
//! - `filter_compile/*`: parse + compile a payload vs parsing its JSON text;
//! - `filter_execute/*`: the compiled statement (counts + first page) vs a hand-written query
//!   selecting the same conversations;
//! - `search/*`: index lookup + counts + first page vs tantivy counting the matching messages
//!   for one term (the bare engine);
//! - `render/*`: building the JSON of a loaded conversation / message vs serialising an already
//!   built value of the same shape;
//! - `create_message`: a message posted as the endpoint does (insert, conversation update,
//!   counts, outbox, read back) vs one INSERT + UPDATE on a plain connection.
//!
//! `cargo bench --bench hot_paths`.

mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use criterion::{criterion_group, Criterion};
use rusqlite::Connection;
use serde_json::{json, Value};

use support::{
    counts_and_first_page, dataset, dataset_size, filter_shapes, raw, search_cases, spread,
    FollowingIndex, ADMIN,
};
use wootlite::api::as_list_filter;
use wootlite::clock::Clock;
use wootlite::corpus;
use wootlite::db::Db;
use wootlite::filter::{compile, parse, Dialect};
use wootlite::models::{MessageType, Status};
use wootlite::store::catalog::{Catalog, CatalogView};
use wootlite::store::conversation_list::{self, AssigneeTab, Filter, Sort, TextMatch};
use wootlite::store::messages::NewMessage;
use wootlite::store::{changes, conversations, custom_attributes, details, messages};
use wootlite::views::conversations::{self as views, Links};

struct Fixture {
    db: Db,
    /// Kept across iterations, as the server keeps it across requests.
    catalog: Arc<Catalog>,
    raw: Connection,
    dir: std::path::PathBuf,
    conversations: i64,
    links: Links,
}

fn fixture() -> Fixture {
    let conversations = dataset_size();
    let dir = dataset(conversations);
    let db = support::open(&dir);
    let raw = raw::connect(&dir);
    Fixture {
        catalog: Catalog::new(db.directory()),
        db,
        raw,
        dir,
        conversations: conversations as i64,
        links: Links {
            base_url: "http://127.0.0.1:3000".into(),
        },
    }
}

/// The endpoint's list work: counts, one page, every conversation's details, the JSON body.
fn list_page(f: &Fixture, status: Status, page: i64) -> usize {
    let (catalog, links) = (f.catalog.view(), &f.links);
    f.db.read_snapshot(|conn| {
        let filter = Filter {
            status: Some(status),
            ..Filter::default()
        };
        let (counts, rows) = conversation_list::counts_and_page(
            conn,
            &ADMIN,
            &filter,
            AssigneeTab::All,
            Sort::LastActivityAtDesc,
            Some((page, 25)),
        )?;
        let payload: Vec<_> = details::conversations(conn, &catalog, rows, ADMIN.user_id())?
            .iter()
            .map(|d| views::conversation(d, links))
            .collect();
        let body = views::ListEnvelope {
            data: views::MetaAndPayload {
                meta: json!({ "all_count": counts.all }),
                payload: &payload,
            },
        };
        Ok(serde_json::to_vec(&body).unwrap().len())
    })
    .expect("list")
}

fn bench_list(c: &mut Criterion, f: &Fixture) {
    for (name, status, page) in [
        ("open_page_1", Status::Open, 1),
        ("resolved_page_400", Status::Resolved, 400),
    ] {
        let mut group = c.benchmark_group(format!("list/{name}"));
        group.bench_function("wootlite", |b| b.iter(|| list_page(f, status, page)));
        group.bench_function("raw", |b| {
            b.iter(|| raw::list_page(&f.raw, status.code(), page))
        });
        group.finish();
    }
    let mut group = c.benchmark_group("counts");
    let open = Filter {
        status: Some(Status::Open),
        ..Filter::default()
    };
    group.bench_function("wootlite", |b| {
        b.iter(|| {
            f.db.read_snapshot(|conn| conversation_list::counts(conn, &ADMIN, &open))
                .unwrap()
                .all
        })
    });
    group.bench_function("raw", |b| {
        b.iter(|| raw::counts(&f.raw, Status::Open.code()))
    });
    group.finish();
}

fn bench_get(c: &mut Criterion, f: &Fixture) {
    let mut group = c.benchmark_group("get");
    let id = |n: &mut u64| {
        *n += 1;
        spread(*n, f.conversations)
    };
    group.bench_function("wootlite", |b| {
        let mut n = 0;
        b.iter(|| {
            let display_id = id(&mut n);
            let (catalog, links) = (f.catalog.view(), &f.links);
            f.db.read_snapshot(|conn| {
                let conversation = conversations::get(conn, 1, display_id)?;
                let details = details::conversation(conn, &catalog, conversation, ADMIN.user_id())?;
                Ok(serde_json::to_vec(&views::conversation(&details, links))
                    .unwrap()
                    .len())
            })
            .unwrap()
        })
    });
    group.bench_function("raw", |b| {
        let mut n = 0;
        b.iter(|| raw::get(&f.raw, id(&mut n)))
    });
    group.finish();
}

fn bench_filters(c: &mut Criterion, f: &Fixture) {
    let definitions =
        f.db.read_snapshot(|conn| custom_attributes::list(conn, 1, None))
            .unwrap();
    let today = Utc::now().date_naive();
    for (shape, (name, payload)) in filter_shapes().into_iter().enumerate() {
        let text = payload.to_string();
        let mut group = c.benchmark_group(format!("filter_compile/{name}"));
        group.bench_function("wootlite", |b| {
            b.iter(|| {
                compile(
                    &parse(&payload, &definitions).unwrap(),
                    today,
                    Dialect::Sqlite,
                )
            })
        });
        group.bench_function("raw", |b| {
            b.iter(|| serde_json::from_str::<Value>(&text).unwrap())
        });
        group.finish();
        // As the endpoint chooses: the list's own filters where they say it all.
        let conditions = parse(&payload, &definitions).unwrap();
        let filter = as_list_filter(&conditions, today, Dialect::Sqlite);
        let mut group = c.benchmark_group(format!("filter_execute/{name}"));
        group.bench_function("wootlite", |b| {
            b.iter(|| counts_and_first_page(&f.db, &filter))
        });
        if filter.condition.is_none() {
            // The compiled statement the same payload would otherwise run.
            let compiled = Filter {
                condition: Some(Arc::new(compile(&conditions, today, Dialect::Sqlite))),
                ..Filter::default()
            };
            group.bench_function("compiled", |b| {
                b.iter(|| counts_and_first_page(&f.db, &compiled))
            });
        }
        group.bench_function("raw", |b| b.iter(|| raw::filter(&f.raw, shape)));
        group.finish();
    }
}

fn bench_search(c: &mut Criterion, f: &Fixture) {
    let following = FollowingIndex::start(&f.dir, &f.db);
    let index = &following.index;
    let engine = tantivy::Index::open_in_dir(f.dir.join("search")).unwrap();
    let searcher = engine.reader().unwrap().searcher();
    for (name, q) in search_cases() {
        let mut group = c.benchmark_group(format!("search/{name}"));
        group.bench_function("wootlite", |b| {
            b.iter(|| {
                let hits = index.find(1, q).unwrap();
                let filter = Filter {
                    text: Some(TextMatch::Conversations(Arc::new(
                        hits.conversation_ids().to_vec(),
                    ))),
                    ..Filter::default()
                };
                counts_and_first_page(&f.db, &filter)
            })
        });
        group.bench_function("raw", |b| b.iter(|| raw::search(&searcher, q)));
        group.finish();
    }
}

fn bench_render(c: &mut Criterion, f: &Fixture) {
    let (conversation, message) =
        f.db.read_snapshot(|conn| {
            let conversation = details::conversation(
                conn,
                &CatalogView::direct(),
                conversations::get(conn, 1, 1)?,
                ADMIN.user_id(),
            )?;
            let (latest, _) = messages::latest(conn, conversation.conversation.id)?;
            let message = details::message(conn, latest.expect("a message"))?;
            Ok((conversation, message))
        })
        .unwrap();
    let built_conversation: Value =
        serde_json::from_str(views::conversation(&conversation, &f.links).get()).unwrap();
    let built_message = views::message(&message, &f.links);
    let mut group = c.benchmark_group("render/conversation");
    group.bench_function("wootlite", |b| {
        b.iter(|| serde_json::to_vec(&views::conversation(&conversation, &f.links)).unwrap())
    });
    group.bench_function("raw", |b| {
        b.iter(|| serde_json::to_vec(&built_conversation).unwrap())
    });
    group.finish();
    let mut group = c.benchmark_group("render/message");
    group.bench_function("wootlite", |b| {
        b.iter(|| serde_json::to_vec(&views::message(&message, &f.links)).unwrap())
    });
    group.bench_function("raw", |b| {
        b.iter(|| serde_json::to_vec(&built_message).unwrap())
    });
    group.finish();
}

fn bench_create(c: &mut Criterion, f: &Fixture) {
    let probe = corpus::add_conversation(&f.db, Clock::system().now_micros()).unwrap();
    let conversation =
        f.db.read_snapshot(|conn| conversations::get_by_id(conn, probe))
            .unwrap();
    let mut group = c.benchmark_group("create_message");
    group.bench_function("wootlite", |b| {
        let links = &f.links;
        b.iter(|| {
            f.db.write_now(|tx| {
                let message = NewMessage::text(
                    MessageType::Outgoing,
                    "Thanks, the refund is on its way.",
                    Some(("User", 1)),
                );
                let id = changes::post_message(
                    tx,
                    &conversation,
                    &message,
                    Clock::system().now_micros(),
                )?;
                let created = details::message(tx, messages::get(tx, probe, id)?)?;
                Ok(serde_json::to_vec(&views::message(&created, links))
                    .unwrap()
                    .len())
            })
            .unwrap()
        })
    });
    group.bench_function("raw", |b| {
        b.iter(|| raw::create_message(&f.raw, probe, Clock::system().now_micros()))
    });
    group.finish();
    // The probe goes, so that the dataset stays as generated.
    f.db.write_now(|tx| conversations::delete(tx, probe))
        .unwrap();
}

fn benches(c: &mut Criterion) {
    let f = fixture();
    bench_list(c, &f);
    bench_get(c, &f);
    bench_filters(c, &f);
    bench_search(c, &f);
    bench_render(c, &f);
    bench_create(c, &f);
}

criterion_group! {
    name = hot_paths;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}

fn main() {
    // `cargo bench` passes `--bench`; a plain `cargo test` run of benches passes nothing.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    hot_paths();
    Criterion::default().configure_from_args().final_summary();
}
