//! Broadcasts waiting for their transaction to commit. A write transaction notes what `/cable`
//! subscribers must be told in a temporary table on the writer; the commit hook takes them out
//! just before the commit and hands them over once it has succeeded. A write that is rolled
//! back (alone, in its savepoint, or with its whole group) takes its broadcasts with it.

use crate::db::Conn;

use super::StoreResult;

const INSTALL: crate::db::Sql = crate::sql!(
    sqlite: "CREATE TEMP TABLE IF NOT EXISTS cable_out (
        seq     INTEGER PRIMARY KEY,
        event   TEXT NOT NULL,
        data    TEXT NOT NULL,
        streams TEXT NOT NULL
    )",
    postgres: "CREATE TEMP TABLE IF NOT EXISTS cable_out (
        seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event   text NOT NULL,
        data    text NOT NULL,
        streams text NOT NULL
    )"
);

/// A noted broadcast: its event, its `data` and its streams, the latter two as JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Noted {
    pub event: String,
    pub data: String,
    pub streams: String,
}

/// Sets up the table on `conn` (the writer); idempotent.
pub fn install(conn: &Conn) -> StoreResult<()> {
    conn.execute_batch(&INSTALL)?;
    Ok(())
}

pub fn note(conn: &Conn, event: &str, data: &str, streams: &str) -> StoreResult<()> {
    super::execute(
        conn,
        "INSERT INTO cable_out (event, data, streams) VALUES (?1, ?2, ?3)",
        crate::params![event, data, streams],
    )?;
    Ok(())
}

/// Everything noted in this transaction, oldest first, and forgets it.
pub fn take(conn: &Conn) -> StoreResult<Vec<Noted>> {
    let noted = conn
        .prepare_cached("SELECT event, data, streams FROM cable_out ORDER BY seq")?
        .query_map([], |row| {
            Ok(Noted {
                event: row.get(0)?,
                data: row.get(1)?,
                streams: row.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if !noted.is_empty() {
        super::execute(conn, "DELETE FROM cable_out", [])?;
    }
    Ok(noted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_rolled_back_savepoint_noted_is_gone_and_the_rest_comes_out_in_order() {
        let raw = rusqlite::Connection::open_in_memory().unwrap();
        let conn = Conn::Sqlite(&raw);
        install(&conn).unwrap();
        conn.execute_batch("BEGIN").unwrap();
        note(&conn, "message.created", "{\"id\":1}", "[]").unwrap();
        conn.execute_batch("SAVEPOINT request").unwrap();
        note(&conn, "message.created", "{\"id\":2}", "[]").unwrap();
        conn.execute_batch("ROLLBACK TO request; RELEASE request")
            .unwrap();
        note(&conn, "message.updated", "{\"id\":1}", "[]").unwrap();
        let taken = take(&conn).unwrap();
        let events: Vec<_> = taken
            .iter()
            .map(|n| (n.event.as_str(), n.data.as_str()))
            .collect();
        assert_eq!(
            events,
            [
                ("message.created", "{\"id\":1}"),
                ("message.updated", "{\"id\":1}")
            ]
        );
        assert!(take(&conn).unwrap().is_empty());
        conn.execute_batch("COMMIT").unwrap();
    }
}
