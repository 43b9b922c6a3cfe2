//! The lookup every authenticated request makes (token digest -> user, account, role), beside
//! the raw SQLite primary-key read it is built on, on a data dir with 1,000 users and tokens.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use wootlite::params;

use wootlite::db::{Db, PoolSizes};
use wootlite::models::Role;
use wootlite::store::{accounts, agents, tokens};

const USERS: i64 = 1_000;

fn seeded() -> (tempfile::TempDir, Db, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        &dir.path().join("bench.sqlite3"),
        PoolSizes { read: 2, heavy: 1 },
    )
    .unwrap();
    let tokens = db
        .write_now(|tx| {
            let account = accounts::create(tx, "bench", 0)?;
            let mut issued = Vec::new();
            for i in 0..USERS {
                let user =
                    agents::create_user(tx, "agent", &format!("agent{i}@bench.test"), true, 0)?;
                accounts::add_member(tx, account, user, Role::Agent, 0)?;
                let token = tokens::generate();
                tokens::insert(tx, user, &token, 0)?;
                issued.push(token);
            }
            Ok(issued)
        })
        .unwrap();
    (dir, db, tokens)
}

fn token_lookup(c: &mut Criterion) {
    let (_dir, db, issued) = seeded();
    let mut group = c.benchmark_group("auth");
    let mut i = 0;
    group.bench_function("token_to_principal", |b| {
        b.iter(|| {
            i = (i + 1) % issued.len();
            db.read_now(|conn| tokens::access(conn, black_box(&issued[i]), Some(1), false))
                .unwrap()
        })
    });
    let mut id = 0;
    group.bench_function("raw_user_by_primary_key", |b| {
        b.iter(|| {
            id = id % USERS + 1;
            db.read_now(|conn| {
                Ok(conn
                    .prepare_cached("SELECT name FROM users WHERE id = ?1")?
                    .query_row(params![black_box(id)], |row| row.get::<String>(0))?)
            })
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, token_lookup);
criterion_main!(benches);
