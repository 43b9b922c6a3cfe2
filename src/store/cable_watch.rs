//! Which accounts some node has `/cable` subscribers for, where nodes share one PostgreSQL
//! database (`realtime::watching`): a row per account and node, with when that node last said
//! so by the database's clock. A write notes its broadcasts only for accounts with a row.

use crate::db::Conn;
use crate::params;

use super::StoreResult;

/// Notes that `node` has subscribers for `account_id`, now.
pub fn watch(conn: &Conn, node: &str, account_id: i64) -> StoreResult<()> {
    super::execute(
        conn,
        "INSERT INTO wootlite_cable_watch (account_id, node, seen_at)
         VALUES (?1, ?2, CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS bigint))
         ON CONFLICT (account_id, node) DO UPDATE SET seen_at = EXCLUDED.seen_at",
        params![account_id, node],
    )?;
    Ok(())
}

/// Notes that `node` has no subscribers for `account_id` any more.
pub fn unwatch(conn: &Conn, node: &str, account_id: i64) -> StoreResult<()> {
    super::execute(
        conn,
        "DELETE FROM wootlite_cable_watch WHERE account_id = ?1 AND node = ?2",
        params![account_id, node],
    )?;
    Ok(())
}

/// Forgets what nodes said more than `secs` seconds ago: a node that is up says it again well
/// before, so these are the rows of nodes that are gone.
pub fn forget_stale(conn: &Conn, secs: i64) -> StoreResult<usize> {
    Ok(super::execute(
        conn,
        "DELETE FROM wootlite_cable_watch
          WHERE seen_at < CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS bigint) - ?1",
        [secs],
    )?)
}

/// Whether any node has said it has subscribers for `account_id`.
pub fn watched(conn: &Conn, account_id: i64) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM wootlite_cable_watch WHERE account_id = ?1)")?
        .query_row([account_id], |row| row.get(0))?)
}

/// A transaction id of this (write) transaction's own, as text for `settled`: every
/// transaction that had an id when it was taken has a smaller one. A snapshot would not do: a
/// transaction in progress whose id is past every ended one's is in no snapshot's list.
pub fn transaction_id(conn: &Conn) -> StoreResult<String> {
    Ok(conn
        .prepare_cached("SELECT CAST(pg_current_xact_id() AS text)")?
        .query_row([], |row| row.get(0))?)
}

/// Whether every transaction with an id below `id` has ended.
pub fn settled(conn: &Conn, id: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT pg_snapshot_xmin(pg_current_snapshot()) >= CAST(CAST(?1 AS text) AS xid8)",
        )?
        .query_row([id], |row| row.get(0))?)
}
