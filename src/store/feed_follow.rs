//! Following a feed table in commit order (docs/storage.md §6): the position a follower has
//! reached, and a pass over what became visible since, on PostgreSQL, where sequence numbers
//! are taken before commit and become visible out of order.

use crate::db::{Conn, Row, SqlResult};

use super::claims::{self, Chore};
use super::StoreResult;

/// One pass's rows, `(seq, item)` in order, and where the follower stands after them.
pub type Pass<T> = (Vec<(i64, T)>, Position);

/// A pass's statement on `$table`: the rows visible in snapshot `?2` and not in `?1`, with a
/// sequence number past `?3`, in sequence order, at most `?4`; `seq` first, then `$columns`.
/// Any row whose transaction is older than `?1`'s `xmin` is visible in it once committed, so
/// only newer ones are looked at (through the table's index on `xact_id`).
#[macro_export]
macro_rules! feed_pass_sql {
    ($columns:literal, $table:literal) => {
        concat!(
            "SELECT seq, ",
            $columns,
            " FROM ",
            $table,
            " WHERE xact_id >= pg_snapshot_xmin(CAST(CAST(?1 AS text) AS pg_snapshot))
                AND NOT pg_visible_in_snapshot(xact_id, CAST(CAST(?1 AS text) AS pg_snapshot))
                AND pg_visible_in_snapshot(xact_id, CAST(CAST(?2 AS text) AS pg_snapshot))
                AND seq > ?3
              ORDER BY seq LIMIT ?4"
        )
    };
}

/// A feed followed by snapshot on PostgreSQL, by its statements (each names the feed's
/// tables): a pass (`feed_pass_sql!`); rows below a horizon (`?1`) deleted, the floor raised to
/// it, and a follower's applied snapshot (`?1`) checked against the floor.
pub struct Feed {
    pub pass: &'static str,
    pub chore: Chore,
    pub delete_below: &'static str,
    pub raise_floor: &'static str,
    pub pruned_past: &'static str,
}

impl Feed {
    /// One pass's rows from a follower at snapshot `applied`, with perhaps a pass `partly`
    /// under way, and where it stands after them; None when rows it needed were pruned.
    pub fn pass<T>(
        &self,
        conn: &Conn,
        (applied, partly): (&String, &Option<(String, i64)>),
        limit: i64,
        row: fn(&Row) -> SqlResult<(i64, T)>,
    ) -> StoreResult<Option<Pass<T>>> {
        if self.pruned_past(conn, applied)? {
            return Ok(None);
        }
        snapshot_pass(conn, (applied, partly), limit, self.pass, row).map(Some)
    }

    /// Forgets the rows of transactions below `horizon` and raises the floor to it; one node
    /// at a time does it (others skip). Returns how many rows went.
    pub fn prune_below(&self, conn: &Conn, horizon: &str) -> StoreResult<usize> {
        if !claims::turn_for(conn, self.chore)? {
            return Ok(0);
        }
        let gone = super::execute(conn, self.delete_below, [horizon])?;
        super::execute(conn, self.raise_floor, [horizon])?;
        Ok(gone)
    }

    /// Whether rows a follower that applied snapshot `applied` still needs have been pruned.
    pub fn pruned_past(&self, conn: &Conn, applied: &str) -> StoreResult<bool> {
        Ok(conn
            .prepare_cached(self.pruned_past)?
            .query_row([applied], |row| row.get(0))?)
    }
}

/// How much of a feed (the search outbox, the `/cable` feed) a follower has applied.
///
/// On SQLite rows commit in sequence order, so a number says it. On PostgreSQL a sequence
/// number is taken before commit, and a lower one can become visible after a higher one has
/// been read; there the position is a snapshot: every row visible in it has been applied
/// (docs/storage.md §6).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Position {
    /// Every row up to this sequence number.
    Seq(i64),
    Snapshot {
        /// Every row visible in this snapshot (`pg_snapshot` text).
        applied: String,
        /// A pass under way: of the rows visible in this later snapshot and not in `applied`,
        /// those up to this sequence number.
        partly: Option<(String, i64)>,
    },
}

impl Position {
    /// What `latest_seq` is compared with: the sequence number, or the `xmin` of the snapshot
    /// fully applied.
    pub fn mark(&self) -> i64 {
        match self {
            Self::Seq(seq) => *seq,
            Self::Snapshot { applied, .. } => applied
                .split(':')
                .next()
                .and_then(|xmin| xmin.parse().ok())
                .unwrap_or(0),
        }
    }
}

/// One pass's rows on PostgreSQL (see `Feed::pass`); `sql` is a `feed_pass_sql!` and `row`
/// maps one of its rows to `(seq, item)`.
fn snapshot_pass<T>(
    conn: &Conn,
    (applied, partly): (&String, &Option<(String, i64)>),
    limit: i64,
    sql: &str,
    row: fn(&Row) -> SqlResult<(i64, T)>,
) -> StoreResult<Pass<T>> {
    // A new pass reads what became visible since the snapshot applied; one under way goes on
    // with the snapshot it began with.
    let (reading, after) = match partly {
        Some((reading, after)) => (reading.clone(), *after),
        None => (current_snapshot(conn)?, 0),
    };
    let rows = conn
        .prepare_cached(sql)?
        .query_map(crate::params![applied, reading, after, limit], row)?
        .collect::<Result<Vec<_>, _>>()?;
    let next = match rows.last() {
        Some((last, _)) if rows.len() as i64 == limit => Position::Snapshot {
            applied: applied.clone(),
            partly: Some((reading, *last)),
        },
        _ => Position::Snapshot {
            applied: reading,
            partly: None,
        },
    };
    Ok((rows, next))
}

/// The snapshot a statement of `conn` sees now, as text.
pub fn current_snapshot(conn: &Conn) -> StoreResult<String> {
    Ok(conn
        .prepare_cached("SELECT CAST(pg_current_snapshot() AS text)")?
        .query_row([], |row| row.get(0))?)
}

/// The current transaction-id horizon (`xmin` of a snapshot taken now), as text, to prune a
/// feed below later: no transaction below it can still commit.
pub fn horizon_now(conn: &Conn) -> StoreResult<String> {
    Ok(conn
        .prepare_cached("SELECT CAST(pg_snapshot_xmin(pg_current_snapshot()) AS text)")?
        .query_row([], |row| row.get(0))?)
}
