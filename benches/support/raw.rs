//! The raw baselines: each query the server answers, written as the bare SQL statement or
//! tantivy query on a plain connection / searcher, with nothing of wootlite in between.

use rusqlite::Connection;
use tantivy::collector::Count;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;

/// Hand-written SQL selecting what each filter shape of `super::filter_shapes` selects, ids in
/// list order.
pub const FILTERS: [&str; 5] = [
    "SELECT c.id FROM conversations c
       JOIN conversation_attribute_values v ON v.conversation_id = c.id AND v.key = 'region'
      WHERE c.account_id = 1 AND c.status = 0 AND c.inbox_id = 1 AND v.folded = 'north'
      ORDER BY c.last_activity_at DESC",
    "SELECT c.id FROM conversations c
       JOIN conversation_attribute_values v ON v.conversation_id = c.id AND v.key = 'escalated'
      WHERE c.account_id = 1 AND c.status = 0 AND v.type = 'true'
      ORDER BY c.last_activity_at DESC",
    "SELECT c.id FROM conversations c
       JOIN conversation_labels l ON l.conversation_id = c.id AND l.title = 'billing'
       JOIN conversation_attribute_values v ON v.conversation_id = c.id AND v.key = 'seats'
      WHERE c.account_id = 1 AND c.assignee_id = 2 AND v.value > 100
      ORDER BY c.last_activity_at DESC",
    "SELECT c.id FROM conversations c
      WHERE c.account_id = 1 AND c.status = 0 AND c.inbox_id = 1
      ORDER BY c.last_activity_at DESC",
    "SELECT c.id FROM conversations c
      WHERE c.account_id = 1 AND c.status = 0 AND c.inbox_id = 1 AND c.assignee_id = 27
      ORDER BY c.last_activity_at DESC",
];

/// A plain connection to the data dir's database, with the durability wootlite's own connections
/// have (no sync per commit in WAL mode) and nothing else of theirs.
pub fn connect(data_dir: &std::path::Path) -> Connection {
    let conn = Connection::open(data_dir.join("wootlite.sqlite3")).expect("database opens");
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .expect("busy timeout");
    conn.pragma_update(None, "synchronous", "NORMAL")
        .expect("synchronous");
    conn
}

/// Reads every column of every row; returns the row count.
fn read_rows(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> usize {
    let mut stmt = conn.prepare_cached(sql).expect("statement");
    let columns = stmt.column_count();
    let mut rows = stmt.query(params).expect("query");
    let mut n = 0;
    while let Some(row) = rows.next().expect("row") {
        for i in 0..columns {
            let _ = row.get_ref(i).expect("column");
        }
        n += 1;
    }
    n
}

/// One list page of conversation rows by status (a Chatwoot status code), newest activity first.
pub fn list_page(conn: &Connection, status: i64, page: i64) -> usize {
    read_rows(
        conn,
        "SELECT * FROM conversations WHERE account_id = 1 AND status = ?1
          ORDER BY last_activity_at DESC LIMIT 25 OFFSET ?2",
        (status, (page - 1) * 25),
    )
}

/// The list's counts for one status, counted from the rows.
pub fn counts(conn: &Connection, status: i64) -> usize {
    read_rows(
        conn,
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE assignee_id IS NULL),
                COUNT(*) FILTER (WHERE assignee_id = 1)
           FROM conversations WHERE account_id = 1 AND status = ?1",
        [status],
    )
}

/// One conversation row by display id.
pub fn get(conn: &Connection, display_id: i64) -> usize {
    read_rows(
        conn,
        "SELECT * FROM conversations WHERE account_id = 1 AND display_id = ?1",
        [display_id],
    )
}

/// The ids of the conversations filter shape `shape` (0, 1, 2) selects.
pub fn filter(conn: &Connection, shape: usize) -> usize {
    read_rows(conn, FILTERS[shape], [])
}

/// Messages containing `q` as one term: a word, or two characters.
pub fn search(searcher: &tantivy::Searcher, q: &str) -> usize {
    let schema = searcher.schema();
    let field = schema
        .get_field(if q.chars().count() == 2 {
            "bigrams"
        } else {
            "words"
        })
        .expect("field");
    let term = TermQuery::new(
        tantivy::Term::from_field_text(field, q),
        IndexRecordOption::Basic,
    );
    searcher.search(&term, &Count).expect("search")
}

/// A message row and its conversation's activity time, in one transaction.
pub fn create_message(conn: &Connection, conversation_id: i64, now: i64) {
    let tx = conn.unchecked_transaction().expect("transaction");
    tx.prepare_cached(
        "INSERT INTO messages (account_id, inbox_id, conversation_id, message_type, content,
                               sender_type, sender_id, created_at, updated_at)
         VALUES (1, 1, ?1, 1, 'Thanks, the refund is on its way.', 'User', 1, ?2, ?2)",
    )
    .expect("statement")
    .execute((conversation_id, now))
    .expect("insert");
    tx.prepare_cached(
        "UPDATE conversations SET last_activity_at = ?2, updated_at = ?2 WHERE id = ?1",
    )
    .expect("statement")
    .execute((conversation_id, now))
    .expect("update");
    tx.commit().expect("commit");
}

/// A conversation's status set, in one transaction.
pub fn set_status(conn: &Connection, conversation_id: i64, status: i64, now: i64) {
    conn.prepare_cached("UPDATE conversations SET status = ?2, updated_at = ?3 WHERE id = ?1")
        .expect("statement")
        .execute((conversation_id, status, now))
        .expect("update");
}
