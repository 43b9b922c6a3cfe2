//! Emptying the database for dev mode's reset: every row of every table goes, in one statement
//! list run inside the caller's transaction, and ids start at 1 again. The search outbox is the
//! exception: it keeps counting, and the deletions it is told of take the old messages out of
//! the index, so a search after the reset waits for exactly that and finds only what is new.
//! On PostgreSQL the `/cable` feed keeps counting too: its rows outlive the reset for minutes,
//! and a number taken again would meet them.

use crate::db::{Conn, Sql};

use super::StoreResult;

/// Children before parents, so that no statement leans on a cascade.
macro_rules! wipe_rows {
    () => {
        "    DELETE FROM event_deliveries;
    DELETE FROM outbound_events;
    DELETE FROM mail_outbox;
    DELETE FROM email_counts;
    DELETE FROM invitations;
    DELETE FROM attachments;
    DELETE FROM messages;
    DELETE FROM conversation_labels;
    DELETE FROM conversation_attribute_values;
    DELETE FROM contact_attribute_values;
    DELETE FROM conversations;
    DELETE FROM conversation_counts;
    DELETE FROM contact_inboxes;
    DELETE FROM contacts;
    DELETE FROM labels;
    DELETE FROM custom_attribute_definitions;
    DELETE FROM webhooks;
    DELETE FROM agent_bot_inboxes;
    DELETE FROM agent_bots;
    DELETE FROM team_members;
    DELETE FROM teams;
    DELETE FROM inbox_members;
    DELETE FROM inboxes;
    DELETE FROM access_tokens;
    DELETE FROM sessions;
    DELETE FROM password_tokens;
    DELETE FROM account_users;
    DELETE FROM users;
    DELETE FROM accounts;
"
    };
}

/// Then ids start again: SQLite's tables count on from the largest id left (none), but for
/// those with AUTOINCREMENT; PostgreSQL's identities are set back one by one, through their
/// sequences rather than `ALTER TABLE`, whose exclusive locks would meet the readers of a
/// server that goes on answering. A sequence is set outside the transaction, so this is the
/// last statement.
const WIPE: Sql = crate::sql!(
    sqlite: concat!(wipe_rows!(), "DELETE FROM sqlite_sequence WHERE name <> 'search_outbox';"),
    postgres: concat!(
        wipe_rows!(),
        "DELETE FROM wootlite_presence;
    SELECT setval(pg_get_serial_sequence(format('%I', table_name), column_name), 1, false)
           FROM information_schema.columns
          WHERE table_schema = current_schema() AND is_identity = 'YES'
            AND table_name <> 'search_outbox' AND NOT starts_with(table_name, 'wootlite_');"
    ),
);

/// The tables `WIPE` leaves as they are.
pub const KEPT: [&str; 1] = ["search_outbox"];

pub fn wipe(conn: &Conn) -> StoreResult<()> {
    conn.execute_batch(&WIPE)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, PoolSizes};

    #[test]
    fn every_table_is_emptied_but_the_search_outbox() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite3"), PoolSizes::SMALL).unwrap();
        let tables: Vec<String> = db
            .read_now(|conn| {
                let mut stmt = conn.prepare(
                    "SELECT name FROM sqlite_master WHERE type = 'table'
                      AND name NOT LIKE 'sqlite_%' ORDER BY name",
                )?;
                let names = stmt.query_map([], |row| row.get(0))?;
                Ok(names.collect::<Result<_, _>>()?)
            })
            .unwrap();
        for table in tables {
            let named = WIPE.sqlite.contains(&format!("DELETE FROM {table};"));
            assert!(
                named || KEPT.contains(&table.as_str()),
                "{table} is not emptied by a reset"
            );
        }
        db.write_now(wipe).unwrap();
    }
}
