//! Who was seen lately, where several nodes share one PostgreSQL database: one row per account
//! and user or contact with the time they were last seen through any node, so that every node
//! tells the same `presence.update`. On SQLite there is one node and it keeps this in memory
//! (`realtime::presence`).

use crate::db::Conn;
use crate::params;

use super::StoreResult;

/// Someone who can be present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    User(i64),
    Contact(i64),
}

impl Seen {
    fn key(self) -> (i64, i64) {
        match self {
            Self::User(id) => (USER, id),
            Self::Contact(id) => (CONTACT, id),
        }
    }
}

const USER: i64 = 0;
const CONTACT: i64 = 1;

/// Who is present in an account now, in id order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Online {
    pub users: Vec<i64>,
    pub contacts: Vec<i64>,
}

/// Notes that `seen` was seen at `now` (seconds), forgets the account's entries seen before
/// `since`, and tells who of the account was seen since then.
///
/// The note comes first and the forgetting skips rows another transaction holds, so two
/// nodes noting and forgetting at once never wait on each other in a circle.
pub fn see(conn: &Conn, account_id: i64, seen: Seen, now: i64, since: i64) -> StoreResult<Online> {
    let (kind, subject_id) = seen.key();
    super::execute(
        conn,
        "INSERT INTO wootlite_presence (account_id, kind, subject_id, seen_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (account_id, kind, subject_id)
         DO UPDATE SET seen_at = GREATEST(wootlite_presence.seen_at, EXCLUDED.seen_at)",
        params![account_id, kind, subject_id, now],
    )?;
    super::execute(
        conn,
        "DELETE FROM wootlite_presence
          WHERE (account_id, kind, subject_id) IN (
                SELECT account_id, kind, subject_id FROM wootlite_presence
                 WHERE account_id = ?1 AND seen_at < ?2
                   FOR UPDATE SKIP LOCKED)",
        params![account_id, since],
    )?;
    let mut online = Online::default();
    let mut stmt = conn.prepare_cached(
        "SELECT kind, subject_id FROM wootlite_presence
          WHERE account_id = ?1 AND seen_at >= ?2
          ORDER BY kind, subject_id",
    )?;
    for row in stmt.query_map(params![account_id, since], |row| {
        Ok((row.get::<i64>(0)?, row.get::<i64>(1)?))
    })? {
        let (kind, id) = row?;
        if kind == USER {
            online.users.push(id);
        } else {
            online.contacts.push(id);
        }
    }
    Ok(online)
}
