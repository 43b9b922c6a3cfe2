//! Chores that several nodes sharing one PostgreSQL database would otherwise all do at once:
//! one node's transaction takes the chore's turn and the others skip it until the next round.
//! On SQLite there is one node, and its turn is always free.

use crate::db::Conn;

use super::StoreResult;

/// A chore done by one node at a time. Each has its own advisory lock key.
#[derive(Clone, Copy, Debug)]
pub enum Chore {
    PruneEvents,
    PruneSearchFeed,
    PruneCableFeed,
}

impl Chore {
    /// The advisory lock key: distinct per chore, and far from the hashes other locks take.
    fn key(self) -> i64 {
        const BASE: i64 = 0x776f_6f74_0000;
        BASE + match self {
            Self::PruneEvents => 1,
            Self::PruneSearchFeed => 2,
            Self::PruneCableFeed => 3,
        }
    }
}

/// Whether this transaction has the chore's turn. On PostgreSQL the turn is a
/// transaction-level advisory lock, released at commit or rollback, and by the server when a
/// node's connection dies; a node that does not get it leaves the chore to the holder.
pub fn turn_for(conn: &Conn, chore: Chore) -> StoreResult<bool> {
    if !conn.is_postgres() {
        return Ok(true);
    }
    Ok(conn
        .prepare_cached("SELECT pg_try_advisory_xact_lock(?1)")?
        .query_row([chore.key()], |row| row.get(0))?)
}
