//! The schema on PostgreSQL: the twins of SQLite's steps (`src/migrations/postgres/`), numbered
//! alike so that version N means the same tables on both engines, applied in order. The version
//! lives in the one-row table `wootlite_schema`. Nodes that start together migrate once: each
//! step runs under a transaction-scoped advisory lock and re-reads the version first.

use super::{DbError, SCHEMA_VERSION};

/// Schema steps, applied in order; step `i` brings the database to version `i + 1`. Steps are
/// never edited once released: a change is a new step at the end, on both engines.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_schema.sql"),
    include_str!("../migrations/postgres/0002_counts_and_label_order.sql"),
    include_str!("../migrations/postgres/0003_search_outbox.sql"),
    include_str!("../migrations/postgres/0004_custom_attribute_values.sql"),
    include_str!("../migrations/postgres/0005_mail_outbox.sql"),
    include_str!("../migrations/postgres/0006_list_index_order.sql"),
    include_str!("../migrations/postgres/0007_conversation_summary.sql"),
    include_str!("../migrations/postgres/0008_invitations.sql"),
    include_str!("../migrations/postgres/0009_webhooks.sql"),
    include_str!("../migrations/postgres/0010_agent_bots.sql"),
    include_str!("../migrations/postgres/0011_event_outbox.sql"),
    include_str!("../migrations/postgres/0012_user_passwords.sql"),
    include_str!("../migrations/postgres/0013_sessions_and_password_tokens.sql"),
    include_str!("../migrations/postgres/0014_conversation_feed.sql"),
    include_str!("../migrations/postgres/0015_snoozed_index_without_status.sql"),
];

/// What the running wootlite notes of each change (see the file); applied at every start.
const CAPTURE: &str = include_str!("../migrations/postgres/capture.sql");

// A step added on one engine only would give version N two meanings.
const _: () = assert!(MIGRATIONS.len() as i64 == SCHEMA_VERSION);

/// The advisory lock key every node migrating a database takes ("wootlite" in ASCII).
const MIGRATION_LOCK: i64 = 0x776f_6f74_6c69_7465;

/// Brings the database to the current schema version and returns the version it found.
/// Refuses a database newer than this build.
pub fn migrate(client: &mut postgres::Client) -> Result<i64, DbError> {
    let found = {
        let mut tx = locked(client)?;
        // Two nodes creating it at once would collide, so it is created under the lock too.
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS wootlite_schema (
                 one     boolean PRIMARY KEY DEFAULT TRUE CHECK (one),
                 version bigint  NOT NULL
             )",
        )?;
        let found = current(&mut tx)?;
        tx.commit()?;
        found
    };
    if found > SCHEMA_VERSION {
        return Err(DbError::TooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (step, sql) in MIGRATIONS.iter().enumerate() {
        let target = step as i64 + 1;
        let mut tx = locked(client)?;
        // Another node may have applied this step while this one waited for the lock.
        if current(&mut tx)? >= target {
            tx.commit()?;
            continue;
        }
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO wootlite_schema (version) VALUES ($1)
             ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version",
            &[&target],
        )?;
        tx.commit()?;
        log::info!("database migrated to schema version {target}");
    }
    let mut tx = locked(client)?;
    tx.batch_execute(CAPTURE)?;
    tx.commit()?;
    Ok(found)
}

/// The database's schema version; 0 when it has none yet.
pub fn version(client: &mut postgres::Client) -> Result<i64, DbError> {
    let mut tx = client.transaction()?;
    let found = current(&mut tx)?;
    tx.commit()?;
    Ok(found)
}

/// A transaction holding the migration lock until it ends.
fn locked(client: &mut postgres::Client) -> Result<postgres::Transaction<'_>, DbError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    Ok(tx)
}

fn current(tx: &mut postgres::Transaction<'_>) -> Result<i64, DbError> {
    let exists: bool = tx
        .query_one("SELECT to_regclass('wootlite_schema') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = tx.query_opt("SELECT version FROM wootlite_schema", &[])?;
    Ok(row.map_or(0, |row| row.get(0)))
}
