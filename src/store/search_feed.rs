//! What the search index reads from the database: the outbox of message and conversation
//! changes, the current searchable state of a message, every searchable message for a rebuild,
//! and the conversation summaries the index keeps beside it.
//!
//! A message is searchable when it is incoming or outgoing (private notes included), has
//! content, and is not deleted.

use crate::db::{Conn, OptionalExtension, Text};

use super::conversation_list::Summary;
use super::StoreResult;

/// The searchable part of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchableMessage {
    pub id: i64,
    pub account_id: i64,
    pub conversation_id: i64,
    pub content: String,
}

const SEARCHABLE: &str = "message_type IN (0, 1) AND deleted = 0 AND content IS NOT NULL";

/// The same rule as a condition on conversations `c`: what an empty query matches.
pub const CONVERSATION_HAS_SEARCHABLE_MESSAGE: &str =
    "EXISTS (SELECT 1 FROM messages sm WHERE sm.conversation_id = c.id
               AND sm.message_type IN (0, 1) AND sm.deleted = 0 AND sm.content IS NOT NULL)";

fn searchable_from_row(row: &crate::db::Row) -> crate::db::SqlResult<SearchableMessage> {
    Ok(SearchableMessage {
        id: row.get(0)?,
        account_id: row.get(1)?,
        conversation_id: row.get(2)?,
        content: row.get(3)?,
    })
}

/// A mark of what is written so far, as `conn`'s snapshot sees it, to wait for: a follower
/// whose `Position::mark` has reached it has applied everything this snapshot holds.
/// - SQLite: the newest outbox sequence number written (0 before the first), since rows commit
///   in sequence order behind its one writer.
/// - PostgreSQL: the snapshot's `xmax`. A follower's mark is the `xmin` of the snapshot it has
///   applied; once that is at or past this `xmax`, every transaction this snapshot could see
///   had ended before the follower's snapshot was taken.
pub fn latest_seq(conn: &Conn) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(&crate::sql!(
            sqlite: "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'search_outbox'), 0)",
            postgres: "SELECT CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint)",
        ))?
        .query_row([], |row| row.get(0))?)
}

use super::feed_follow;
pub use super::feed_follow::Position;

/// Where a follower stands that has read everything `conn`'s snapshot holds (a rebuild reads
/// every message in one snapshot and starts from here).
pub fn position_now(conn: &Conn) -> StoreResult<Position> {
    if !conn.is_postgres() {
        return Ok(Position::Seq(latest_seq(conn)?));
    }
    let applied = feed_follow::current_snapshot(conn)?;
    Ok(Position::Snapshot {
        applied,
        partly: None,
    })
}

/// The next rows a follower at `at` applies, oldest first, and where it stands once it has
/// applied them; None when the rows it needs have been pruned (it rebuilds).
pub fn next_rows(
    conn: &Conn,
    at: &Position,
    limit: i64,
) -> StoreResult<Option<feed_follow::Pass<Change>>> {
    let (applied, partly) = match at {
        Position::Seq(after) => {
            let rows = pending(conn, *after, limit)?;
            let last = rows.last().map_or(*after, |row| row.0);
            return Ok(Some((rows, Position::Seq(last))));
        }
        Position::Snapshot { applied, partly } => (applied, partly),
    };
    FEED.pass(conn, (applied, partly), limit, change_from_row)
}

/// Rows `conn`'s snapshot holds that a follower at `at` has not applied, oldest first; None
/// when some of them have been pruned.
pub fn unapplied(conn: &Conn, at: &Position, limit: i64) -> StoreResult<Option<Changes>> {
    let (applied, partly) = match at {
        Position::Seq(after) => return Ok(Some(pending(conn, *after, limit)?)),
        Position::Snapshot { applied, partly } => (applied, partly),
    };
    if FEED.pruned_past(conn, applied)? {
        return Ok(None);
    }
    let (reading, after) = partly.clone().unzip();
    Ok(Some(changes(
        conn,
        UNAPPLIED,
        crate::params![applied, reading, after, limit],
    )?))
}

/// Rows not visible in snapshot `?1`, nor visible in `?2` with a sequence number up to `?3`.
/// Any row whose transaction is older than `?1`'s `xmin` is visible in it, once committed.
macro_rules! unapplied_where {
    () => {
        "xact_id >= pg_snapshot_xmin(CAST(CAST(?1 AS text) AS pg_snapshot))
    AND NOT pg_visible_in_snapshot(xact_id, CAST(CAST(?1 AS text) AS pg_snapshot))
    AND NOT COALESCE(pg_visible_in_snapshot(xact_id, CAST(CAST(?2 AS text) AS pg_snapshot)) AND seq <= ?3, FALSE)"
    };
}

const UNAPPLIED: &str = concat!(
    "SELECT seq, message_id, conversation_id FROM search_outbox WHERE ",
    unapplied_where!(),
    " ORDER BY seq LIMIT ?4"
);

/// How many rows `conn`'s snapshot holds that a follower at `at` has not applied.
pub fn count_unapplied(conn: &Conn, at: &Position) -> StoreResult<i64> {
    let (applied, partly) = match at {
        Position::Seq(after) => return count_pending(conn, *after),
        Position::Snapshot { applied, partly } => (applied, partly),
    };
    let (reading, after) = partly.clone().unzip();
    Ok(conn
        .prepare_cached(concat!(
            "SELECT COUNT(*) FROM search_outbox WHERE ",
            unapplied_where!()
        ))?
        .query_row(crate::params![applied, reading, after], |row| row.get(0))?)
}

/// The outbox as nodes share it (PostgreSQL).
const FEED: feed_follow::Feed = feed_follow::Feed {
    pass: crate::feed_pass_sql!("message_id, conversation_id", "search_outbox"),
    chore: super::claims::Chore::PruneSearchFeed,
    delete_below: "DELETE FROM search_outbox WHERE xact_id < CAST(CAST(?1 AS text) AS xid8)",
    raise_floor: "UPDATE wootlite_search_floor SET xact_id = CAST(CAST(?1 AS text) AS xid8)
                   WHERE xact_id < CAST(CAST(?1 AS text) AS xid8)",
    pruned_past: "SELECT xact_id > pg_snapshot_xmin(CAST(CAST(?1 AS text) AS pg_snapshot))
                    FROM wootlite_search_floor",
};

/// Whether a follower at `at` can go on from there: the rows after it are all still there.
/// Only a snapshot position is checked here; a sequence number is checked by the caller
/// against `oldest_pending`.
pub fn can_follow_from(conn: &Conn, at: &Position) -> StoreResult<bool> {
    match at {
        Position::Seq(_) => Ok(true),
        Position::Snapshot { applied, .. } => Ok(!FEED.pruned_past(conn, applied)?),
    }
}

/// PostgreSQL: forgets the rows of transactions below `horizon` (an earlier `horizon_now`)
/// and raises the floor to it, where nodes share the outbox and each follows it at its own
/// pace. One node at a time does it; returns how many rows went.
pub fn prune_shared(conn: &Conn, horizon: &str) -> StoreResult<usize> {
    FEED.prune_below(conn, horizon)
}

fn changes(
    conn: &Conn,
    sql: &str,
    params: impl crate::db::Params,
) -> StoreResult<Vec<(i64, Change)>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, change_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn change_from_row(row: &crate::db::Row) -> crate::db::SqlResult<(i64, Change)> {
    let change = match row.get::<Option<i64>>(2)? {
        Some(conversation) => Change::Conversation(conversation),
        None => Change::Message(row.get(1)?),
    };
    Ok((row.get(0)?, change))
}

/// Outbox rows, oldest first: `(seq, change)`.
pub type Changes = Vec<(i64, Change)>;

/// What an outbox row says changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Message(i64),
    /// One of the columns a conversation's summary holds.
    Conversation(i64),
}

/// Outbox rows after `after`, oldest first: `(seq, change)`. (SQLite's order; see `Position`.)
pub fn pending(conn: &Conn, after: i64, limit: i64) -> StoreResult<Vec<(i64, Change)>> {
    changes(
        conn,
        "SELECT seq, message_id, conversation_id FROM search_outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        [after, limit],
    )
}

macro_rules! select_summary {
    ($from:literal) => {
        concat!(
            "SELECT id, account_id, status, inbox_id, team_id, assignee_id,
                    last_activity_at, created_at, priority, waiting_since FROM ",
            $from
        )
    };
}

/// SQLite reads the summary index rather than whole rows; PostgreSQL picks by its statistics.
const SELECT_SUMMARY: crate::db::Sql = crate::sql!(
    sqlite: select_summary!("conversations INDEXED BY conversations_summary"),
    postgres: select_summary!("conversations"),
);

fn summary_from_row(row: &crate::db::Row) -> crate::db::SqlResult<Summary> {
    Ok(Summary {
        id: row.get(0)?,
        account_id: row.get(1)?,
        status: row.get(2)?,
        inbox_id: row.get(3)?,
        team_id: row.get(4)?,
        assignee_id: row.get(5)?,
        last_activity_at: row.get(6)?,
        created_at: row.get(7)?,
        priority: row.get(8)?,
        waiting_since: row.get(9)?,
    })
}

/// The conversation a message belongs to, None once the message is gone.
pub fn conversation_of_message(conn: &Conn, message_id: i64) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT conversation_id FROM messages WHERE id = ?1")?
        .query_row([message_id], |row| row.get(0))
        .optional()?)
}

/// The current summaries of these conversations; a conversation that is gone has none.
pub fn summaries(conn: &Conn, ids: &[i64]) -> StoreResult<Vec<Summary>> {
    let sql = format!(
        "{} WHERE {}",
        SELECT_SUMMARY.text(conn.is_postgres()),
        super::among_ids(conn, "id", 1)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([super::id_array(ids.iter().copied())], summary_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Calls `each` with every conversation's summary, in id order.
pub fn for_each_summary(
    conn: &Conn,
    mut each: impl FnMut(Summary) -> StoreResult<()>,
) -> StoreResult<()> {
    let sql = format!("{} ORDER BY id", SELECT_SUMMARY.text(conn.is_postgres()));
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        each(summary_from_row(&row)?)?;
    }
    Ok(())
}

/// Outbox rows after `after`: the changes the index has still to apply.
pub fn count_pending(conn: &Conn, after: i64) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM search_outbox WHERE seq > ?1")?
        .query_row([after], |row| row.get(0))?)
}

/// Forgets the outbox rows a follower at `applied` has committed, where it is the only one
/// (SQLite). Where nodes share the outbox, rows go by age instead (`prune_shared`).
pub fn prune(conn: &Conn, applied: &Position) -> StoreResult<usize> {
    match applied {
        Position::Seq(up_to) => Ok(conn
            .prepare_cached("DELETE FROM search_outbox WHERE seq <= ?1")?
            .execute([*up_to])?),
        Position::Snapshot { .. } => Ok(0),
    }
}

/// The message as the index should hold it, or None when it is gone or not searchable.
pub fn searchable(conn: &Conn, message_id: i64) -> StoreResult<Option<SearchableMessage>> {
    let sql = format!(
        "SELECT id, account_id, conversation_id, content FROM messages WHERE id = ?1 AND {SEARCHABLE}"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([message_id], searchable_from_row)
        .optional()?)
}

pub fn count_searchable(conn: &Conn) -> StoreResult<i64> {
    let sql = format!("SELECT COUNT(*) FROM messages WHERE {SEARCHABLE}");
    Ok(conn.prepare_cached(&sql)?.query_row([], |row| row.get(0))?)
}

/// Calls `each` with every searchable message, in id order.
pub fn for_each_searchable(
    conn: &Conn,
    mut each: impl FnMut(SearchableMessage) -> StoreResult<()>,
) -> StoreResult<()> {
    let sql = format!(
        "SELECT id, account_id, conversation_id, content FROM messages WHERE {SEARCHABLE} ORDER BY id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        each(searchable_from_row(&row)?)?;
    }
    Ok(())
}

/// The newest searchable message of a conversation: what a search shows for a conversation
/// matched by an empty query.
pub fn latest_searchable(conn: &Conn, conversation_id: i64) -> StoreResult<Option<i64>> {
    let sql = format!("SELECT MAX(id) FROM messages WHERE conversation_id = ?1 AND {SEARCHABLE}");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([conversation_id], |row| row.get(0))?)
}

/// The id of the conversation's newest searchable message whose content `matches`, reading its
/// messages newest first until one does.
pub fn newest_searchable_where(
    conn: &Conn,
    conversation_id: i64,
    matches: impl Fn(&str) -> bool,
) -> StoreResult<Option<i64>> {
    let sql = format!(
        "SELECT id, content FROM messages WHERE conversation_id = ?1 AND {SEARCHABLE}
          ORDER BY id DESC"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([conversation_id])?;
    while let Some(row) = rows.next()? {
        if row.text(1)?.is_some_and(&matches) {
            return Ok(Some(row.get(0)?));
        }
    }
    Ok(None)
}

/// The account's searchable messages whose content `LIKE`s `%needle%`: the plain scan the index
/// replaces, kept for benchmarks to compare against. (SQLite's LIKE folds ASCII case only.)
pub fn like_scan(conn: &Conn, account_id: i64, needle: &str) -> StoreResult<Vec<i64>> {
    let sql = format!(
        "SELECT DISTINCT conversation_id FROM messages
          WHERE account_id = ?1 AND {SEARCHABLE} AND content LIKE '%' || ?2 || '%'"
    );
    super::column(conn, &sql, crate::params![account_id, needle])
}

/// The oldest outbox row not yet pruned.
pub fn oldest_pending(conn: &Conn) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT MIN(seq) FROM search_outbox")?
        .query_row([], |row| row.get(0))?)
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::db::{Db, PoolSizes};
    use crate::models::MessageType;
    use crate::store::messages::{self, NewMessage};
    use crate::store::{contacts, conversations};

    /// A bootstrapped database (and its directory) with one conversation, by id.
    fn db_with_a_conversation() -> (tempfile::TempDir, Db, i64) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite3"), PoolSizes::SMALL).unwrap();
        crate::provision::bootstrap(&db, None, 0).unwrap();
        let conversation = crate::corpus::add_conversation(&db, 0).unwrap();
        (dir, db, conversation)
    }

    fn message(kind: MessageType, content: &str) -> NewMessage {
        NewMessage::text(kind, content, None)
    }

    /// Every path that changes a searchable message leaves an outbox row, cascades included;
    /// activity messages leave none.
    #[test]
    fn the_outbox_sees_inserts_soft_deletes_and_cascading_deletes() {
        let (_dir, db, conversation) = db_with_a_conversation();
        let pending_ids = |after: i64| -> Vec<i64> {
            db.read_now(|c| pending(c, after, 100))
                .unwrap()
                .into_iter()
                .filter_map(|(_, change)| match change {
                    Change::Message(id) => Some(id),
                    Change::Conversation(_) => None,
                })
                .collect()
        };
        let (said, noted) = db
            .write_now(|tx| {
                let said = messages::insert(
                    tx,
                    1,
                    1,
                    conversation,
                    &message(MessageType::Incoming, "hi"),
                    0,
                )?;
                messages::insert(
                    tx,
                    1,
                    1,
                    conversation,
                    &message(MessageType::Activity, "resolved"),
                    0,
                )?;
                let noted = messages::insert(
                    tx,
                    1,
                    1,
                    conversation,
                    &message(MessageType::Outgoing, "note"),
                    0,
                )?;
                Ok((said, noted))
            })
            .unwrap();
        assert_eq!(pending_ids(0), vec![said, noted]);
        let mark = db.read_now(latest_seq).unwrap();
        db.write_now(|tx| messages::soft_delete(tx, said, 1))
            .unwrap();
        assert_eq!(pending_ids(mark), vec![said]);
        assert_eq!(db.read_now(|c| searchable(c, said)).unwrap(), None);

        let mark = db.read_now(latest_seq).unwrap();
        let contact = db
            .read_now(|c| Ok(conversations::get_by_id(c, conversation)?.contact_id))
            .unwrap();
        db.write_now(|tx| contacts::delete(tx, 1, contact)).unwrap();
        assert_eq!(pending_ids(mark), vec![said, noted]);
        assert_eq!(db.read_now(|c| searchable(c, noted)).unwrap(), None);
    }

    /// The newest message that matches, among searchable ones only: activity messages and
    /// deleted messages are passed over even when newer.
    #[test]
    fn the_newest_matching_message_is_the_newest_searchable_one_that_matches() {
        let (_dir, db, conversation) = db_with_a_conversation();
        let said = |kind: MessageType, content: &str| {
            db.write_now(|tx| messages::insert(tx, 1, 1, conversation, &message(kind, content), 0))
                .unwrap()
        };
        let older = said(MessageType::Incoming, "my refund please");
        let newer = said(MessageType::Outgoing, "REFUND sent");
        said(MessageType::Activity, "refund marked");
        let deleted = said(MessageType::Incoming, "refund again?");
        db.write_now(|tx| messages::soft_delete(tx, deleted, 1))
            .unwrap();
        said(MessageType::Incoming, "thanks");
        let newest_with = |word: &'static str| {
            db.read_now(|c| {
                newest_searchable_where(c, conversation, |content| {
                    content.to_lowercase().contains(word)
                })
            })
            .unwrap()
        };
        assert_eq!(newest_with("refund"), Some(newer));
        assert_eq!(newest_with("please"), Some(older));
        assert_eq!(newest_with("marked"), None);
        assert_eq!(newest_with("nowhere"), None);
    }
}
