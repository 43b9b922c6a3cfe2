//! Dev mode's state where nodes share a PostgreSQL database: the clock's setting, versioned,
//! and how many resets there have been, so that a change made through one node reaches all.

use crate::db::Conn;
use crate::params;

use super::StoreResult;

/// The shared row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SharedDevState {
    pub clock_version: i64,
    /// The frozen time, or the offset from the system clock (`Clock::setting`).
    pub clock_at: i64,
    pub clock_frozen: bool,
    pub resets: i64,
}

pub fn read(conn: &Conn) -> StoreResult<SharedDevState> {
    Ok(conn
        .prepare_cached(
            "SELECT clock_version, clock_at, clock_frozen, resets FROM wootlite_dev_state",
        )?
        .query_row([], |row| {
            Ok(SharedDevState {
                clock_version: row.get(0)?,
                clock_at: row.get(1)?,
                clock_frozen: row.get::<i64>(2)? != 0,
                resets: row.get(3)?,
            })
        })?)
}

/// Shares the clock's setting; returns its new version.
pub fn share_clock(conn: &Conn, at: i64, frozen: bool) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(
            "UPDATE wootlite_dev_state
                SET clock_version = clock_version + 1, clock_at = ?1, clock_frozen = ?2
             RETURNING clock_version",
        )?
        .query_row(params![at, i64::from(frozen)], |row| row.get(0))?)
}

/// Counts a reset, in its transaction; returns the new count.
pub fn note_reset(conn: &Conn) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("UPDATE wootlite_dev_state SET resets = resets + 1 RETURNING resets")?
        .query_row([], |row| row.get(0))?)
}
