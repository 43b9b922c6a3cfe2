//! The schema on PostgreSQL, against a real server: the URL of one that may create databases
//! comes from `WOOTLITE_TEST_DATABASE_URL` (`.ci/run` starts a private cluster and sets it).
//! Each test works in a database of its own, dropped at the end.

use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng, SeedableRng};
use wootlite::db::{pg_schema, Db, Param, PoolSizes, SCHEMA_VERSION};

use crate::test_database::TestDatabase;

/// Columns PostgreSQL has that SQLite does not, or lacks that SQLite has, by design
/// (docs/storage.md): typed attribute values, and the transaction id of each change followed.
fn differs_by_design(table: &str, column: &str) -> bool {
    matches!(
        (table, column),
        (
            "conversation_attribute_values" | "contact_attribute_values",
            "value" | "text_value" | "number_value" | "bool_value"
        ) | (_, "xact_id")
    )
}

fn sqlite_columns() -> BTreeMap<String, BTreeSet<String>> {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("wootlite.sqlite3"), PoolSizes::SMALL).unwrap();
    let pairs: Vec<(String, String)> = db
        .read_now(|conn| {
            let mut stmt = conn.prepare(
                "SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p
                  WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
            )?;
            let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .unwrap();
    group(pairs)
}

/// PostgreSQL's tables but the engine's own bookkeeping, all named `wootlite_...`: its schema
/// version, and what nodes share that SQLite's one node keeps in memory (the directory version,
/// the `/cable` feed, dev mode's state, how far the shared feeds have been pruned).
fn postgres_columns(client: &mut postgres::Client) -> BTreeMap<String, BTreeSet<String>> {
    let pairs = client
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
              WHERE table_schema = 'public'
                AND table_name NOT LIKE 'wootlite\\_%'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    group(pairs)
}

fn group(pairs: Vec<(String, String)>) -> BTreeMap<String, BTreeSet<String>> {
    let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (table, column) in pairs {
        if !differs_by_design(&table, &column) {
            tables.entry(table).or_default().insert(column);
        }
    }
    tables
}

/// Two nodes starting together on an empty database: both come up, the steps ran once, and
/// every table and column SQLite has is there, named alike.
#[test]
fn two_nodes_migrating_at_once_make_the_tables_sqlite_has() {
    let Some(database) = TestDatabase::create_or_skip("postgres_engine::two_nodes") else {
        return;
    };
    let nodes: Vec<_> = (0..2)
        .map(|_| {
            let mut client = database.connect();
            std::thread::spawn(move || pg_schema::migrate(&mut client).unwrap())
        })
        .collect();
    let found: Vec<i64> = nodes.into_iter().map(|n| n.join().unwrap()).collect();
    assert!(
        found.contains(&0),
        "one of them found an empty database: {found:?}"
    );

    let mut client = database.connect();
    assert_eq!(pg_schema::version(&mut client).unwrap(), SCHEMA_VERSION);
    assert_eq!(
        pg_schema::migrate(&mut client).unwrap(),
        SCHEMA_VERSION,
        "a third start finds it current and changes nothing"
    );
    assert_eq!(postgres_columns(&mut client), sqlite_columns());
}

/// The count table stays exact through inserts, moves between buckets (from many connections at
/// once, in opposite directions, none of them meeting a deadlock) and deletes.
#[test]
fn the_count_table_matches_a_recount_after_concurrent_moves() {
    let Some(database) = TestDatabase::create_or_skip("postgres_engine::counts") else {
        return;
    };
    let mut client = database.connect();
    pg_schema::migrate(&mut client).unwrap();
    client
        .batch_execute(
            "INSERT INTO accounts (id, name, created_at, updated_at) VALUES (1, 'a', 0, 0);
             INSERT INTO users (id, name, email, pubsub_token, created_at, updated_at)
                 VALUES (1, 'u1', 'u1@example.com', 't1', 0, 0), (2, 'u2', 'u2@example.com', 't2', 0, 0);
             INSERT INTO inboxes (id, account_id, name, hmac_token, identifier, created_at, updated_at)
                 VALUES (1, 1, 'i1', 'h1', 'id1', 0, 0), (2, 1, 'i2', 'h2', 'id2', 0, 0);
             INSERT INTO contacts (id, account_id, created_at, updated_at) VALUES (1, 1, 0, 0);
             INSERT INTO conversations (account_id, display_id, uuid, inbox_id, contact_id, status,
                                        created_at, updated_at, last_activity_at)
                 SELECT 1, g, 'u' || g, 1 + g % 2, 1, g % 3, 0, 0, 0 FROM generate_series(1, 60) g;",
        )
        .unwrap();
    // Few buckets, so that moves in opposite directions between two of them are frequent.
    let movers: Vec<_> = (0..6u64)
        .map(|seed| {
            let mut client = database.connect();
            std::thread::spawn(move || {
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
                for _ in 0..400 {
                    let id: i64 = rng.gen_range(1..=60);
                    let status: i64 = rng.gen_range(0..2);
                    let inbox: i64 = rng.gen_range(1..=2);
                    let assignee: Option<i64> = [None, Some(1)][rng.gen_range(0..2)];
                    // One conversation per transaction, as one change through the API makes:
                    // its two buckets are locked in key order, so movers never deadlock.
                    client
                        .execute(
                            "UPDATE conversations SET status = $2::bigint, inbox_id = $3::bigint, assignee_id = $4::bigint
                              WHERE id = $1::bigint",
                            &[&id, &status, &inbox, &assignee],
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for mover in movers {
        mover
            .join()
            .expect("no mover met a deadlock or any other error");
    }
    client
        .batch_execute("DELETE FROM conversations WHERE id % 7 = 0")
        .unwrap();
    let counted = |client: &mut postgres::Client, sql: &str| -> BTreeMap<String, i64> {
        client
            .query(sql, &[])
            .unwrap()
            .iter()
            .map(|row| (row.get::<_, String>(0), row.get::<_, i64>(1)))
            .collect()
    };
    let kept = counted(
        &mut client,
        "SELECT concat_ws('/', account_id, status, inbox_id, team_id, assignee_id), n::bigint
           FROM conversation_counts",
    );
    let recounted = counted(
        &mut client,
        "SELECT concat_ws('/', account_id, status, inbox_id, COALESCE(team_id, 0), COALESCE(assignee_id, 0)),
                COUNT(*) FROM conversations GROUP BY 1",
    );
    assert_eq!(kept, recounted);
    assert_eq!(recounted.values().sum::<i64>(), 60 - 8);
}

/// The store binds every integer as `i64`, as on SQLite: each reaches a `smallint`, `integer` or
/// `bigint` column as that column's width, and one too wide for its column is an error, never a
/// wrapped number.
#[test]
fn params_reach_each_column_type_as_that_type() {
    let Some(database) = TestDatabase::create_or_skip("postgres_engine::params") else {
        return;
    };
    let mut client = database.connect();
    client
        .batch_execute(
            "CREATE TABLE kinds (flag smallint, small integer, big bigint, real double precision, words text)",
        )
        .unwrap();
    let insert = "INSERT INTO kinds VALUES ($1, $2, $3, $4, $5)";
    client
        .execute(
            insert,
            &[
                &Param::Integer(1),
                &Param::Integer(-2_000_000_000),
                &Param::Integer(9_000_000_000_000),
                &Param::Integer(3),
                &Param::Text("é'; --".into()),
            ],
        )
        .unwrap();
    client
        .execute(
            insert,
            &[
                &Param::Null,
                &Param::Null,
                &Param::Null,
                &Param::Real(2.5),
                &Param::Null,
            ],
        )
        .unwrap();
    type Kinds = (Option<i16>, Option<i32>, Option<i64>, f64, Option<String>);
    let rows: Vec<Kinds> = client
        .query("SELECT * FROM kinds ORDER BY real DESC", &[])
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)))
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                Some(1),
                Some(-2_000_000_000),
                Some(9_000_000_000_000),
                3.0,
                Some("é'; --".into())
            ),
            (None, None, None, 2.5, None),
        ]
    );
    let too_wide = client.execute(
        insert,
        &[
            &Param::Integer(70_000),
            &Param::Null,
            &Param::Null,
            &Param::Null,
            &Param::Null,
        ],
    );
    assert!(too_wide.is_err());
    let text_as_number = client.execute(
        insert,
        &[
            &Param::Null,
            &Param::Text("1".into()),
            &Param::Null,
            &Param::Null,
            &Param::Null,
        ],
    );
    assert!(text_as_number.is_err());
}

/// A generated data dir of 200 conversations whose first message has a file attached; the
/// file's folder.
fn generated_with_attachment() -> (tempfile::TempDir, &'static str) {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let generated = run(&["generate", "--data-dir", data_dir, "--conversations", "200"]);
    assert!(generated.status.success(), "{generated:?}");
    let folder = "0123456789abcdef0123456789abcdef";
    rusqlite::Connection::open(data.path().join("wootlite.sqlite3"))
        .unwrap()
        .execute(
            "INSERT INTO attachments (account_id, message_id, file_type, file_name, mime_type, extension,
                                      file_size, storage_key, created_at)
             SELECT account_id, id, 0, 'note.txt', 'text/plain', 'txt', 5, ?1, created_at
               FROM messages ORDER BY id LIMIT 1",
            [format!("{folder}/note.txt")],
        )
        .unwrap();
    std::fs::create_dir_all(data.path().join("files").join(folder)).unwrap();
    std::fs::write(
        data.path().join("files").join(folder).join("note.txt"),
        "hello",
    )
    .unwrap();
    (data, folder)
}

fn run(args: &[&str]) -> std::process::Output {
    std::process::Command::new(crate::process::BINARY)
        .args(args)
        .output()
        .unwrap()
}

/// A generated data dir with an attachment, copied into an empty database: every row arrives
/// (the command checks counts and a sample itself), attribute values land in their typed
/// columns, new rows continue past the copied ids, the file reaches the shared directory; a
/// second copy into the now filled database is refused, and so is a data dir of an older schema.
#[test]
fn migrate_copies_a_data_dir_into_an_empty_database_and_refuses_a_filled_one() {
    let Some(database) = TestDatabase::create_or_skip("postgres_engine::migrate") else {
        return;
    };
    let (data, folder) = generated_with_attachment();
    let data_dir = data.path().to_str().unwrap();
    let source = rusqlite::Connection::open(data.path().join("wootlite.sqlite3")).unwrap();
    let conversations: i64 = source
        .query_row("SELECT COUNT(*) FROM conversations", [], |row| row.get(0))
        .unwrap();
    let largest_message: i64 = source
        .query_row("SELECT MAX(id) FROM messages", [], |row| row.get(0))
        .unwrap();
    drop(source);

    let files = tempfile::tempdir().unwrap();
    let url = database.url();
    let args = [
        "migrate",
        "--from-data-dir",
        data_dir,
        "--to-database-url",
        &url,
        "--files-dir",
        files.path().to_str().unwrap(),
    ];
    let copied = run(&args);
    let said = String::from_utf8_lossy(&copied.stdout);
    assert!(copied.status.success(), "{copied:?}");
    assert!(said.contains("1 attachment files"), "{said}");

    let mut client = database.connect();
    let one = |client: &mut postgres::Client, sql: &str| -> i64 {
        client.query_one(sql, &[]).unwrap().get(0)
    };
    assert_eq!(
        one(&mut client, "SELECT COUNT(*) FROM conversations"),
        conversations
    );
    assert_eq!(
        one(
            &mut client,
            "SELECT SUM(n)::bigint FROM conversation_counts"
        ),
        conversations
    );
    assert_eq!(one(&mut client, "SELECT COUNT(*) FROM search_outbox"), 0);
    assert!(
        one(
            &mut client,
            "SELECT COUNT(*) FROM conversation_attribute_values"
        ) > 0
    );
    assert_eq!(
        one(
            &mut client,
            "SELECT COUNT(*) FROM conversation_attribute_values
              WHERE (type IN ('true', 'false') AND bool_value IS NULL)
                 OR (type IN ('integer', 'real') AND number_value IS NULL)
                 OR (type = 'text' AND text_value IS NULL)"
        ),
        0,
        "every value is in the column its type names"
    );
    let next: i64 = client
        .query_one(
            "INSERT INTO messages (account_id, inbox_id, conversation_id, message_type, content, created_at, updated_at)
             SELECT account_id, inbox_id, id, 0, 'after the move', 0, 0 FROM conversations ORDER BY id LIMIT 1
             RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(next, largest_message + 1);
    assert_eq!(
        one(&mut client, "SELECT COUNT(*) FROM search_outbox"),
        1,
        "the triggers are on again after the copy"
    );
    assert_eq!(
        std::fs::read_to_string(files.path().join(folder).join("note.txt")).unwrap(),
        "hello"
    );

    let again = run(&args);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not empty"),
        "{again:?}"
    );

    // A data dir an older wootlite left is refused before anything is read from it.
    let older = SCHEMA_VERSION - 1;
    rusqlite::Connection::open(data.path().join("wootlite.sqlite3"))
        .unwrap()
        .pragma_update(None, "user_version", older)
        .unwrap();
    let old = run(&args);
    assert!(!old.status.success());
    assert!(
        String::from_utf8_lossy(&old.stderr).contains(&format!("schema version {older}")),
        "{old:?}"
    );
}

/// The store's own functions, through the same `Conn` as on SQLite: values bound at each
/// column's width, booleans as smallint, NULLs, `?N` placeholders used twice, a unique
/// violation told apart by its SQLSTATE, a list of ids bound as an array.
#[test]
fn the_store_runs_on_postgresql_through_the_same_conn() {
    use wootlite::db::{Conn, IdList, OptionalExtension, PgSession};
    use wootlite::store::labels::{self, LabelFields};
    use wootlite::store::{accounts, StoreError};

    let Some(database) = TestDatabase::create_or_skip("postgres_engine::store") else {
        return;
    };
    let mut client = database.connect();
    pg_schema::migrate(&mut client).unwrap();
    let session = PgSession::new(client);
    let conn = Conn::Postgres(&session);
    conn.execute_batch("BEGIN").unwrap();
    let account = accounts::create(&conn, "Acme", 1_000).unwrap();
    let fields = |title: &str, sidebar: Option<bool>| LabelFields {
        title: title.to_string(),
        description: None,
        color: "#ff0000".to_string(),
        show_on_sidebar: sidebar,
    };
    let billing = labels::create(&conn, account, &fields("billing", Some(true)), 2_000).unwrap();
    let refunds = labels::create(&conn, account, &fields("refunds", None), 2_000).unwrap();
    assert!(refunds > billing);
    let listed: Vec<(i64, String, Option<String>, Option<bool>)> = labels::list(&conn, account)
        .unwrap()
        .into_iter()
        .map(|l| (l.id, l.title, l.description, l.show_on_sidebar))
        .collect();
    assert_eq!(
        listed,
        vec![
            (billing, "billing".into(), None, Some(true)),
            (refunds, "refunds".into(), None, None),
        ]
    );

    // A failed statement aborts a PostgreSQL transaction: the duplicate runs in a savepoint.
    conn.execute_batch("SAVEPOINT duplicate").unwrap();
    let duplicate = labels::create(&conn, account, &fields("billing", Some(false)), 3_000);
    assert!(
        matches!(&duplicate, Err(StoreError::Invalid { attributes, .. }) if attributes == &["title"]),
        "{duplicate:?}"
    );
    conn.execute_batch("ROLLBACK TO duplicate").unwrap();

    labels::delete(&conn, account, billing).unwrap();
    assert!(matches!(
        labels::get(&conn, account, billing),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        labels::delete(&conn, account, billing),
        Err(StoreError::NotFound)
    ));

    let ids = IdList::new([refunds, billing, refunds, 999]);
    let found: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM labels WHERE id = ANY(?1)")
        .unwrap()
        .query_row(wootlite::params![ids], |row| row.get(0))
        .unwrap();
    assert_eq!(found, 1);
    let none: Option<i64> = conn
        .query_row("SELECT id FROM labels WHERE id = ?1", [billing], |row| {
            row.get(0)
        })
        .optional()
        .unwrap();
    assert_eq!(none, None);
    conn.execute_batch("COMMIT").unwrap();
    let mut client = session.into_client();
    let kept: i64 = client
        .query_one("SELECT COUNT(*) FROM labels", &[])
        .unwrap()
        .get(0);
    assert_eq!(kept, 1);
}

/// Every row of every table but the search outbox (which each copy leaves to its search index),
/// as text, sorted: two data dirs that hold the same data give the same map.
fn every_row(database: &std::path::Path) -> BTreeMap<String, Vec<String>> {
    let conn = rusqlite::Connection::open(database).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'search_outbox'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables
        .into_iter()
        .map(|table| {
            let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
            let width = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |row| {
                    (0..width)
                        .map(|i| {
                            row.get::<_, rusqlite::types::Value>(i)
                                .map(|v| format!("{v:?}"))
                        })
                        .collect::<Result<Vec<_>, _>>()
                        .map(|values| values.join(" | "))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            rows.sort();
            (table, rows)
        })
        .collect()
}

/// `serve` on a data dir that came back from PostgreSQL builds its search index from the
/// tables: a search for the start of a message finds that message's conversation.
fn serves_and_finds_a_message(data_dir: &std::path::Path) {
    let (display_id, content): (i64, String) = rusqlite::Connection::open(data_dir.join("wootlite.sqlite3"))
        .unwrap()
        .query_row(
            "SELECT c.display_id, m.content FROM messages m JOIN conversations c ON c.id = m.conversation_id
              WHERE c.account_id = 1 AND m.deleted = 0 AND m.message_type IN (0, 1)
                AND length(m.content) >= 12
              ORDER BY m.id LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    let made = run(&[
        "token",
        "create",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--user",
        "1",
    ]);
    assert!(made.status.success(), "{made:?}");
    let token = String::from_utf8_lossy(&made.stdout).trim().to_string();
    let words: String = content.chars().take(12).collect();
    let query: String = url::form_urlencoded::byte_serialize(words.as_bytes()).collect();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let server = crate::process::start(data_dir, None).await;
        let (status, found) = server
            .get(
                &format!("/api/v1/accounts/1/conversations/search?q={query}"),
                &token,
            )
            .await;
        assert_eq!(status, 200, "{found}");
        let ids: Vec<i64> = found["payload"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["id"].as_i64())
            .collect();
        assert!(ids.contains(&display_id), "{words:?} found {ids:?}");
        server.stop().await;
    });
}

/// A generated data dir into PostgreSQL and back into a new data dir: every table's rows come
/// back as they were (the counts and attribute values derived again by SQLite's triggers), a
/// row written on PostgreSQL meanwhile comes back with them, the attachment file reaches the new
/// data dir, and a copy into a data dir that holds a database is refused.
#[test]
fn migrate_round_trips_a_generated_data_dir() {
    let Some(database) = TestDatabase::create_or_skip("postgres_engine::round_trip") else {
        return;
    };
    let (data, folder) = generated_with_attachment();
    let files = tempfile::tempdir().unwrap();
    let url = database.url();
    let there = run(&[
        "migrate",
        "--from-data-dir",
        data.path().to_str().unwrap(),
        "--to-database-url",
        &url,
        "--files-dir",
        files.path().to_str().unwrap(),
    ]);
    assert!(there.status.success(), "{there:?}");

    let back = tempfile::tempdir().unwrap();
    let back_dir = back.path().join("laptop");
    let args = [
        "migrate",
        "--from-database-url",
        &url,
        "--to-data-dir",
        back_dir.to_str().unwrap(),
        "--files-dir",
        files.path().to_str().unwrap(),
    ];
    let copied = run(&args);
    assert!(copied.status.success(), "{copied:?}");
    let said = String::from_utf8_lossy(&copied.stdout);
    assert!(said.contains("1 attachment files"), "{said}");
    assert_eq!(
        every_row(&data.path().join("wootlite.sqlite3")),
        every_row(&back_dir.join("wootlite.sqlite3"))
    );
    assert_eq!(
        std::fs::read_to_string(back_dir.join("files").join(folder).join("note.txt")).unwrap(),
        "hello"
    );
    serves_and_finds_a_message(&back_dir);

    // A label written on PostgreSQL comes back in a second copy; the first one's data dir is
    // refused as a target.
    database
        .connect()
        .batch_execute(
            "INSERT INTO labels (account_id, title, created_at, updated_at)
             SELECT id, 'written-on-postgres', 0, 0 FROM accounts ORDER BY id LIMIT 1",
        )
        .unwrap();
    let again = run(&args);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("holds a wootlite database already"),
        "{again:?}"
    );
    let second = back.path().join("second");
    let copied = run(&[
        "migrate",
        "--from-database-url",
        &url,
        "--to-data-dir",
        second.to_str().unwrap(),
    ]);
    assert!(copied.status.success(), "{copied:?}");
    let labels = &every_row(&second.join("wootlite.sqlite3"))["labels"];
    assert!(
        labels.iter().any(|row| row.contains("written-on-postgres")),
        "{labels:?}"
    );
}

/// A conversation to create, with nothing but its inbox, contact and status.
fn new_conversation(
    inbox_id: i64,
    contact_id: i64,
    contact_inbox_id: i64,
    status: wootlite::models::Status,
) -> wootlite::store::conversations::NewConversation {
    wootlite::store::conversations::NewConversation {
        inbox_id,
        contact_id,
        contact_inbox_id,
        status,
        assignee_id: None,
        team_id: None,
        snoozed_until: None,
        additional_attributes: Default::default(),
        custom_attributes: Default::default(),
    }
}

/// Two nodes, each with its own pool on one database, create conversations in one account at
/// once: the display ids come out 1..=N without a gap or a repeat, and the count table matches
/// a recount.
#[test]
fn concurrent_creates_on_two_nodes_take_contiguous_display_ids() {
    use wootlite::db::PgDb;
    use wootlite::models::Status;
    use wootlite::store::conversations;

    let Some(database) = TestDatabase::create_or_skip("postgres_engine::display_ids") else {
        return;
    };
    let nodes = [
        PgDb::open(&database.url(), 4).unwrap(),
        PgDb::open(&database.url(), 4).unwrap(),
    ];
    database
        .connect()
        .batch_execute(
            "INSERT INTO accounts (id, name, created_at, updated_at) VALUES (1, 'Acme', 0, 0);
             INSERT INTO inboxes (id, account_id, name, hmac_token, identifier, created_at, updated_at)
                  VALUES (1, 1, 'Web', 'h', 'i', 0, 0);
             INSERT INTO contacts (id, account_id, name, created_at, updated_at)
                  VALUES (1, 1, 'Ana', 0, 0);
             INSERT INTO contact_inboxes (id, contact_id, inbox_id, source_id, pubsub_token, created_at, updated_at)
                  VALUES (1, 1, 1, 'ana', 'p', 0, 0);",
        )
        .unwrap();
    const PER_THREAD: usize = 25;
    let threads = 4;
    let created: Vec<i64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let node = &nodes[t % 2];
                scope.spawn(move || {
                    (0..PER_THREAD)
                        .map(|n| {
                            let status = if n % 2 == 0 {
                                Status::Open
                            } else {
                                Status::Pending
                            };
                            let new = new_conversation(1, 1, 1, status);
                            node.write(|conn| conversations::create(conn, 1, &new, 1_000))
                                .unwrap()
                                .display_id
                        })
                        .collect::<Vec<i64>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let mut ids = created;
    ids.sort_unstable();
    let expected: Vec<i64> = (1..=(threads * PER_THREAD) as i64).collect();
    assert_eq!(ids, expected);
    let mut client = database.connect();
    let counted: Vec<(i64, i64)> = client
        .query(
            "SELECT status::bigint, n::bigint FROM conversation_counts WHERE n > 0 ORDER BY status",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(counted, vec![(0, 52), (2, 48)]);
}

/// Two writes that lock two rows in opposite orders deadlock; PostgreSQL aborts one, and the
/// write runs again and succeeds, so both land.
#[test]
fn a_write_aborted_as_a_deadlock_runs_again() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use wootlite::db::PgDb;

    let Some(database) = TestDatabase::create_or_skip("postgres_engine::retry") else {
        return;
    };
    let db = PgDb::open(&database.url(), 2).unwrap();
    database
        .connect()
        .batch_execute(
            "CREATE TABLE tally (id bigint PRIMARY KEY, n bigint NOT NULL);
             INSERT INTO tally VALUES (1, 0), (2, 0);",
        )
        .unwrap();
    let tries = AtomicU32::new(0);
    let both_hold_one = std::sync::Barrier::new(2);
    std::thread::scope(|scope| {
        for (first, second) in [(1_i64, 2_i64), (2, 1)] {
            let (tries, both_hold_one, db) = (&tries, &both_hold_one, &db);
            scope.spawn(move || {
                db.write(|conn| {
                    let this_try = tries.fetch_add(1, Ordering::SeqCst);
                    conn.execute("UPDATE tally SET n = n + 1 WHERE id = ?1", [first])?;
                    if this_try < 2 {
                        both_hold_one.wait();
                    }
                    conn.execute("UPDATE tally SET n = n + 1 WHERE id = ?1", [second])?;
                    Ok(())
                })
                .unwrap();
            });
        }
    });
    assert_eq!(tries.load(Ordering::SeqCst), 3, "one of the two ran again");
    let tallies: Vec<i64> = database
        .connect()
        .query("SELECT n FROM tally ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(tallies, vec![2, 2]);
}

/// `generate --database-url` fills an empty database with the dataset `generate --data-dir`
/// makes from the same seed and end: every table has as many rows, and each status as many
/// conversations.
#[test]
fn generate_fills_an_empty_database_as_it_fills_a_data_dir() {
    let Some(database) = TestDatabase::create_or_skip("postgres_engine::generate") else {
        return;
    };
    let shape = [
        "--conversations",
        "150",
        "--seed",
        "3",
        "--end",
        "2026-06-01T00:00:00Z",
    ];
    let url = database.url();
    let made = run(&[&["generate", "--database-url", url.as_str()], &shape[..]].concat());
    assert!(made.status.success(), "{made:?}");
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let made = run(&[&["generate", "--data-dir", data_dir], &shape[..]].concat());
    assert!(made.status.success(), "{made:?}");

    let sqlite = rusqlite::Connection::open(data.path().join("wootlite.sqlite3")).unwrap();
    let mut client = database.connect();
    let tables: Vec<String> = sqlite
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'search_outbox'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for table in &tables {
        let sql = format!("SELECT COUNT(*) FROM \"{table}\"");
        let here: i64 = sqlite.query_row(&sql, [], |row| row.get(0)).unwrap();
        let there: i64 = client.query_one(sql.as_str(), &[]).unwrap().get(0);
        assert_eq!(here, there, "{table}");
    }
    let by_status = "SELECT CAST(status AS bigint), CAST(COUNT(*) AS bigint) FROM conversations GROUP BY status ORDER BY status";
    let here: Vec<(i64, i64)> = sqlite
        .prepare(by_status)
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let there: Vec<(i64, i64)> = client
        .query(by_status, &[])
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(here, there);
    assert_eq!(here.iter().map(|(_, n)| n).sum::<i64>(), 150);
}

/// Store reads of lists of ids, whose texts differ per engine (`rarray` on SQLite, `= ANY` on
/// PostgreSQL), run on PostgreSQL and leave out ids that are not there.
#[test]
fn reads_of_id_lists_run_on_postgresql() {
    use wootlite::db::PgDb;
    use wootlite::models::Status;
    use wootlite::store::conversations;
    use wootlite::store::{agent_bots, agents, contacts, inboxes, messages};

    let Some(database) = TestDatabase::create_or_skip("postgres_engine::id_lists") else {
        return;
    };
    let db = PgDb::open(&database.url(), 2).unwrap();
    database
        .connect()
        .batch_execute(
            "INSERT INTO accounts (id, name, created_at, updated_at) VALUES (1, 'Acme', 0, 0);
             INSERT INTO users (id, name, email, pubsub_token, created_at, updated_at)
                  VALUES (7, 'Ravi', 'ravi@example.com', 'p7', 0, 0);
             INSERT INTO account_users (account_id, user_id, role, created_at) VALUES (1, 7, 1, 0);
             INSERT INTO inboxes (id, account_id, name, hmac_token, identifier, created_at, updated_at)
                  VALUES (3, 1, 'Web', 'h', 'i', 0, 0);
             INSERT INTO contacts (id, account_id, name, created_at, updated_at) VALUES (4, 1, 'Ana', 0, 0);
             INSERT INTO contact_inboxes (id, contact_id, inbox_id, source_id, hmac_verified, pubsub_token, created_at, updated_at)
                  VALUES (5, 4, 3, 'ana-source', 1, 'p5', 0, 0);
             INSERT INTO agent_bots (id, account_id, name, access_token, access_token_sha256, secret, created_at, updated_at)
                  VALUES (6, 1, 'Helper', 't', 'd', 's', 0, 0);",
        )
        .unwrap();
    let new = new_conversation(3, 4, 5, Status::Open);
    let conversation = db
        .write(|conn| conversations::create(conn, 1, &new, 1_000))
        .unwrap();
    database
        .connect()
        .execute(
            "INSERT INTO conversation_labels (conversation_id, account_id, title)
             VALUES ($1, 1, 'billing'), ($1, 1, 'vip')",
            &[&conversation.id],
        )
        .unwrap();
    let message: i64 = database
        .connect()
        .query_one(
            "INSERT INTO messages (account_id, inbox_id, conversation_id, message_type, content, created_at, updated_at)
             VALUES (1, 3, $1, 0, 'hello', 2000, 2000) RETURNING id",
            &[&conversation.id],
        )
        .unwrap()
        .get(0);

    db.read(|conn| {
        let bots = agent_bots::names(conn, [6, 99])?;
        assert_eq!(
            bots.into_iter().collect::<Vec<_>>(),
            vec![(6, "Helper".to_string())]
        );
        let users = agents::users(conn, [7, 99], 1)?;
        assert_eq!(users.len(), 1);
        assert_eq!(users[&7].name, "Ravi");
        let sources = contacts::inbox_sources(conn, [5, 99])?;
        assert_eq!(sources[&5], ("ana-source".to_string(), true));
        let labels = conversations::labels_of(conn, [conversation.id, 99])?;
        assert_eq!(labels[&conversation.id], vec!["billing", "vip"]);
        let channels = inboxes::channel_types(conn, [3, 99])?;
        assert_eq!(channels[&3], "Channel::Api");
        let found = messages::by_ids(conn, [message, 999])?;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].content.as_deref(), Some("hello"));
        assert_eq!(found[0].conversation_display_id, conversation.display_id);
        Ok(())
    })
    .unwrap();
}

/// Two nodes claiming the same due deliveries and mails at once: each goes to exactly one of
/// them, neither takes it again while the claim lasts, and either may once it has run out.
/// Only one node at a time gets the turn to prune the event outbox.
#[test]
fn due_work_is_claimed_by_one_node_until_its_lease_runs_out() {
    use wootlite::db::PgDb;
    use wootlite::store::event_outbox::{self, NewEvent, TargetKind};
    use wootlite::store::{claims, mail};

    let Some(database) = TestDatabase::create_or_skip("postgres_engine::claims") else {
        return;
    };
    let nodes = [
        PgDb::open(&database.url(), 2).unwrap(),
        PgDb::open(&database.url(), 2).unwrap(),
    ];
    database
        .connect()
        .batch_execute(
            "INSERT INTO accounts (id, name, created_at, updated_at) VALUES (1, 'Acme', 0, 0)",
        )
        .unwrap();
    let (deliveries, mails): (Vec<i64>, Vec<i64>) = nodes[0]
        .write(|tx| {
            let mut deliveries = Vec::new();
            let mut mails = Vec::new();
            for n in 0..20 {
                let event = NewEvent {
                    account_id: 1,
                    name: "message_created",
                    payload: "{}",
                    message_id: None,
                    conversation_id: None,
                };
                let event_id = event_outbox::insert_event(tx, &event, 10)?;
                let key = format!("conversation:{n}");
                event_outbox::insert_delivery(
                    tx,
                    event_id,
                    (TargetKind::Webhook, 1),
                    &key,
                    "d",
                    10,
                )?;
                deliveries.push(event_id);
                let new = mail::NewMail {
                    account_id: 1,
                    recipient: "a@example.com",
                    subject: "s",
                    text_body: "t",
                    html_body: "h",
                };
                mails.push(mail::enqueue(tx, &new, 10)?);
            }
            Ok((deliveries, mails))
        })
        .unwrap();
    let due: Vec<i64> = nodes[0]
        .read(|conn| {
            Ok(event_outbox::due(conn, 100, 100)?
                .iter()
                .map(|d| d.id)
                .collect())
        })
        .unwrap();
    assert_eq!(due.len(), deliveries.len());

    let start = std::sync::Barrier::new(2);
    let taken: Vec<(Vec<i64>, Vec<i64>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = nodes
            .iter()
            .map(|node| {
                let (start, due, mails) = (&start, &due, &mails);
                scope.spawn(move || {
                    start.wait();
                    let deliveries = node
                        .write(|tx| event_outbox::claim(tx, due, 100, 1_000))
                        .unwrap();
                    let mails = mails
                        .iter()
                        .copied()
                        .filter(|&id| node.write(|tx| mail::claim(tx, id, 100, 1_000)).unwrap())
                        .collect();
                    (deliveries, mails)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut all_deliveries: Vec<i64> = taken.iter().flat_map(|t| t.0.clone()).collect();
    all_deliveries.sort_unstable();
    assert_eq!(all_deliveries, due, "each delivery claimed exactly once");
    let mut all_mails: Vec<i64> = taken.iter().flat_map(|t| t.1.clone()).collect();
    all_mails.sort_unstable();
    assert_eq!(all_mails, mails, "each mail claimed exactly once");

    // While the claims last, nothing is due; once they have run out, all of it is again.
    let due_during = nodes[1]
        .read(|conn| Ok(event_outbox::due(conn, 999, 100)?.len()))
        .unwrap();
    assert_eq!(due_during, 0);
    let again = nodes[1]
        .write(|tx| event_outbox::claim(tx, &due, 999, 2_000))
        .unwrap();
    assert!(again.is_empty());
    let after = nodes[1]
        .write(|tx| event_outbox::claim(tx, &due, 1_000, 2_000))
        .unwrap();
    assert_eq!(after.len(), due.len());
    assert!(nodes[1]
        .write(|tx| mail::claim(tx, mails[0], 1_000, 2_000))
        .unwrap());

    let holding = std::sync::Barrier::new(2);
    let turns: Vec<bool> = std::thread::scope(|scope| {
        let holder = scope.spawn(|| {
            nodes[0]
                .write(|tx| {
                    let got = claims::turn_for(tx, claims::Chore::PruneEvents)?;
                    holding.wait();
                    holding.wait();
                    Ok(got)
                })
                .unwrap()
        });
        holding.wait();
        let other = nodes[1]
            .write(|tx| claims::turn_for(tx, claims::Chore::PruneEvents))
            .unwrap();
        holding.wait();
        vec![holder.join().unwrap(), other]
    });
    assert_eq!(turns, vec![true, false]);
    let later = nodes[1]
        .write(|tx| claims::turn_for(tx, claims::Chore::PruneEvents))
        .unwrap();
    assert!(later, "the turn is free again after the holder's commit");
}

/// The search outbox followed by snapshot: a pass applies what became visible since the last,
/// in parts when there is more than a batch, and a follower whose rows were pruned before it
/// took them in is told so (it rebuilds its index).
#[test]
fn the_search_outbox_is_followed_by_snapshot_and_pruned_by_horizon() {
    use wootlite::db::PgDb;
    use wootlite::store::search_feed::{self, Change, Position};

    let Some(database) = TestDatabase::create_or_skip("postgres_engine::search_feed") else {
        return;
    };
    let db = PgDb::open(&database.url(), 2).unwrap();
    let add = |ids: &[i64]| {
        let mut client = database.connect();
        for id in ids {
            client
                .execute("INSERT INTO search_outbox (message_id) VALUES ($1)", &[id])
                .unwrap();
        }
    };
    let messages = |rows: &[(i64, Change)]| -> Vec<i64> {
        rows.iter()
            .map(|(_, change)| match change {
                Change::Message(id) => *id,
                Change::Conversation(id) => -id,
            })
            .collect()
    };
    add(&[1, 2]);
    let start = db.read(search_feed::position_now).unwrap();
    assert_eq!(
        db.read(|c| search_feed::unapplied(c, &start, 10)).unwrap(),
        Some(vec![])
    );
    add(&[3, 4, 5]);
    let unapplied = db
        .read(|c| search_feed::unapplied(c, &start, 10))
        .unwrap()
        .unwrap();
    assert_eq!(messages(&unapplied), vec![3, 4, 5]);

    // Two rows per batch: the pass goes on with the snapshot it began with.
    let (rows, partly) = db
        .read(|c| search_feed::next_rows(c, &start, 2))
        .unwrap()
        .unwrap();
    assert_eq!(messages(&rows), vec![3, 4]);
    assert!(matches!(
        &partly,
        Position::Snapshot {
            partly: Some(_),
            ..
        }
    ));
    add(&[6]);
    let left = db
        .read(|c| search_feed::unapplied(c, &partly, 10))
        .unwrap()
        .unwrap();
    assert_eq!(messages(&left), vec![5, 6]);
    let (rows, done) = db
        .read(|c| search_feed::next_rows(c, &partly, 2))
        .unwrap()
        .unwrap();
    assert_eq!(messages(&rows), vec![5]);
    assert!(matches!(&done, Position::Snapshot { partly: None, .. }));

    // Pruned below a horizon taken now: the follower that had applied only `start` has lost
    // rows, one that caught up after the horizon was taken has not. (A follower counts as
    // pruned past once the floor passes its snapshot's `xmin`; transactions are numbered
    // across the cluster, so other tests' transactions move a horizon taken after it. Nodes
    // prune by a horizon ten minutes old.)
    // One open in another test's database holds the horizon back for a moment.
    let written = db.read(search_feed::latest_seq).unwrap();
    let started = std::time::Instant::now();
    let horizon = loop {
        let horizon = db.read(wootlite::store::feed_follow::horizon_now).unwrap();
        if horizon.parse::<i64>().unwrap() >= written {
            break horizon;
        }
        assert!(started.elapsed().as_secs() < 30, "the horizon never passed");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let (rows, caught_up) = db
        .read(|c| search_feed::next_rows(c, &done, 2))
        .unwrap()
        .unwrap();
    assert_eq!(messages(&rows), vec![6]);
    assert!(caught_up.mark() >= done.mark());
    assert!(caught_up.mark() <= db.read(search_feed::latest_seq).unwrap());
    let gone = db
        .write(|tx| search_feed::prune_shared(tx, &horizon))
        .unwrap();
    assert_eq!(gone, 6);
    assert!(!db
        .read(|c| search_feed::can_follow_from(c, &start))
        .unwrap());
    assert_eq!(
        db.read(|c| search_feed::next_rows(c, &start, 10)).unwrap(),
        None
    );
    assert_eq!(
        db.read(|c| search_feed::unapplied(c, &start, 10)).unwrap(),
        None
    );
    assert!(db
        .read(|c| search_feed::can_follow_from(c, &caught_up))
        .unwrap());
    add(&[7]);
    let (rows, _) = db
        .read(|c| search_feed::next_rows(c, &caught_up, 10))
        .unwrap()
        .unwrap();
    assert_eq!(messages(&rows), vec![7]);
}

/// A node's first `/cable` subscription to an account waits for the transactions that had begun
/// writing when its row was in: one of them may be a write that read no row and is about to
/// commit. This one's id is past every ended transaction's, so no snapshot lists it.
#[test]
fn a_transaction_that_began_writing_before_a_mark_is_waited_for_until_it_ends() {
    use wootlite::db::PgDb;
    use wootlite::store::cable_watch;

    let Some(database) = TestDatabase::create_or_skip("postgres_engine::cable_watch") else {
        return;
    };
    let db = PgDb::open(&database.url(), 2).unwrap();
    let mut writer = database.connect();
    let mut open = writer.transaction().unwrap();
    open.execute(
        "INSERT INTO wootlite_cable_watch (account_id, node, seen_at) VALUES (1, 'other', 0)",
        &[],
    )
    .unwrap();
    let after = db.write(cable_watch::transaction_id).unwrap();
    assert!(!db.read(|c| cable_watch::settled(c, &after)).unwrap());
    assert!(!db.read(|c| cable_watch::watched(c, 1)).unwrap());
    open.commit().unwrap();
    // Other tests' transactions in the same cluster count too; they end soon.
    let began = std::time::Instant::now();
    while !db.read(|c| cable_watch::settled(c, &after)).unwrap() {
        assert!(began.elapsed() < std::time::Duration::from_secs(30));
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(db.read(|c| cable_watch::watched(c, 1)).unwrap());
}

/// A node keeps a row per account it has subscribers for, says it again while they stay, drops
/// it once the last has gone, and forgets the rows of nodes that went quiet long ago.
#[tokio::test]
async fn a_node_keeps_its_row_while_it_has_subscribers_and_forgets_stale_ones() {
    use std::sync::Arc;
    use wootlite::realtime::hub::{Hub, Stream};
    use wootlite::realtime::watching::Watching;
    use wootlite::store::cable_watch;

    let Some(database) = TestDatabase::create_or_skip("postgres_engine::watching") else {
        return;
    };
    let db = Db::open_postgres(&database.url(), PoolSizes::SMALL).unwrap();
    let hub = Arc::new(Hub::default());
    let watching = Watching::for_database(&db);
    let watched = |account_id: i64| {
        let db = db.clone();
        async move {
            db.read(move |c| cable_watch::watched(c, account_id))
                .await
                .unwrap()
        }
    };
    let subscribe = |account_id: i64| {
        let (connection, queue) = hub.connect();
        assert!(hub.subscribe(
            connection,
            "room",
            account_id,
            vec![Stream::Account(account_id)]
        ));
        (connection, queue)
    };

    let (connection, _queue) = subscribe(7);
    watching.subscribing(&db, 7).await.unwrap();
    assert!(watched(7).await);
    db.write(|tx| {
        tx.execute_batch(
            "INSERT INTO wootlite_cable_watch (account_id, node, seen_at) VALUES (8, 'gone', 0)",
        )?;
        Ok(())
    })
    .await
    .unwrap();
    assert!(watched(8).await);

    watching.refresh_now(&db, &hub).await.unwrap();
    assert!(watched(7).await, "still subscribed");
    assert!(!watched(8).await, "a gone node's row");

    hub.disconnect(connection);
    assert!(watched(7).await, "kept until the next refresh");
    watching.refresh_now(&db, &hub).await.unwrap();
    assert!(!watched(7).await, "nobody subscribed any more");

    let (_again, _queue) = subscribe(7);
    watching.subscribing(&db, 7).await.unwrap();
    assert!(watched(7).await, "a new first subscriber writes it anew");
}
