//! `/cable` broadcasts shared by the nodes of one PostgreSQL database (docs/storage.md §8). A
//! write transaction moves what it noted (`cable_outbox`) into `wootlite_cable_feed` just
//! before it commits; every node, the writing one included, follows the feed by snapshot and
//! publishes each row to its own sockets, so all of them see one order.

use crate::db::{Conn, Row, SqlResult};

use super::cable_outbox::Noted;
use super::feed_follow::{self, Position};
use super::StoreResult;

/// Moves what this transaction noted into the shared feed; whether there was anything.
pub fn share_noted(conn: &Conn) -> StoreResult<bool> {
    let moved = super::execute(
        conn,
        "INSERT INTO wootlite_cable_feed (event, data, streams)
         SELECT event, data, streams FROM cable_out ORDER BY seq",
        [],
    )?;
    if moved > 0 {
        super::execute(conn, "DELETE FROM cable_out", [])?;
    }
    Ok(moved > 0)
}

/// Where a follower starts that publishes what is written from now on.
pub fn start(conn: &Conn) -> StoreResult<Position> {
    Ok(Position::Snapshot {
        applied: feed_follow::current_snapshot(conn)?,
        partly: None,
    })
}

/// The next broadcasts for a follower at `at`, in order, and where it stands after them; None
/// when some it had not published were pruned.
pub fn next(
    conn: &Conn,
    at: &Position,
    limit: i64,
) -> StoreResult<Option<feed_follow::Pass<Noted>>> {
    let Position::Snapshot { applied, partly } = at else {
        return Ok(None);
    };
    FEED.pass(conn, (applied, partly), limit, noted_from_row)
}

fn noted_from_row(row: &Row) -> SqlResult<(i64, Noted)> {
    Ok((
        row.get(0)?,
        Noted {
            event: row.get(1)?,
            data: row.get(2)?,
            streams: row.get(3)?,
        },
    ))
}

/// Forgets the broadcasts of transactions below `horizon` and raises the floor to it; one
/// node at a time does it.
pub fn prune_shared(conn: &Conn, horizon: &str) -> StoreResult<usize> {
    FEED.prune_below(conn, horizon)
}

const FEED: feed_follow::Feed = feed_follow::Feed {
    pass: crate::feed_pass_sql!("event, data, streams", "wootlite_cable_feed"),
    chore: super::claims::Chore::PruneCableFeed,
    delete_below: "DELETE FROM wootlite_cable_feed WHERE xact_id < CAST(CAST(?1 AS text) AS xid8)",
    raise_floor: "UPDATE wootlite_cable_floor SET xact_id = CAST(CAST(?1 AS text) AS xid8)
                   WHERE xact_id < CAST(CAST(?1 AS text) AS xid8)",
    pruned_past: "SELECT xact_id > pg_snapshot_xmin(CAST(CAST(?1 AS text) AS pg_snapshot))
                    FROM wootlite_cable_floor",
};
