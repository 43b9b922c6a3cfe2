//! The event outbox: events written with the change that caused them, one delivery row per
//! target, and what each delivery attempt leaves behind (see the version 11 migration).

use crate::db::{Conn, OptionalExtension, Sql};
use crate::params;

use super::StoreResult;

/// Where a delivery goes. The code is stored in `event_deliveries.target_kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TargetKind {
    /// An account webhook (`webhooks.id`).
    Webhook,
    /// An API inbox's `webhook_url` (`inboxes.id`).
    ApiInbox,
    /// An agent bot (`agent_bots.id`).
    AgentBot,
}

impl TargetKind {
    pub fn code(self) -> i64 {
        match self {
            Self::Webhook => 0,
            Self::ApiInbox => 1,
            Self::AgentBot => 2,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::Webhook),
            1 => Some(Self::ApiInbox),
            2 => Some(Self::AgentBot),
            _ => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::ApiInbox => "API inbox",
            Self::AgentBot => "agent bot",
        }
    }
}

/// An event to write, with its payload already frozen as JSON text.
pub struct NewEvent<'a> {
    pub account_id: i64,
    pub name: &'a str,
    pub payload: &'a str,
    pub message_id: Option<i64>,
    pub conversation_id: Option<i64>,
}

pub fn insert_event(conn: &Conn, event: &NewEvent, now: i64) -> StoreResult<i64> {
    super::insert(
        conn,
        "INSERT INTO outbound_events (account_id, name, payload, message_id, conversation_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        params![
            event.account_id,
            event.name,
            event.payload,
            event.message_id,
            event.conversation_id,
            now
        ],
    )
}

/// `next_attempt_at` of a delivery that waits behind an earlier pending one with its target and
/// ordering key: never due by itself. It is made due (`promote_next`) when the one before it
/// finishes, so that finding due deliveries never walks past the ones waiting in line.
const WAITING: i64 = i64::MAX;

/// Queues a delivery: due now when it heads its target's line for `ordering_key`, waiting
/// otherwise. On PostgreSQL, where writers run side by side, the line is locked for the rest
/// of the transaction (as `finish` locks it), so that a delivery never waits behind one that
/// finished without seeing it.
pub fn insert_delivery(
    conn: &Conn,
    event_id: i64,
    target: (TargetKind, i64),
    ordering_key: &str,
    delivery_id: &str,
    now: i64,
) -> StoreResult<()> {
    let (kind, target_id) = (target.0.code(), target.1);
    if conn.is_postgres() {
        super::execute(
            conn,
            "SELECT pg_advisory_xact_lock(hashtextextended(
                 concat_ws(':', CAST(?1 AS bigint), CAST(?2 AS bigint), CAST(?3 AS text)), 0))",
            params![kind, target_id, ordering_key],
        )?;
    }
    let behind_another = super::exists(
        conn,
        "SELECT 1 FROM event_deliveries
          WHERE state = 0 AND target_kind = ?1 AND target_id = ?2 AND ordering_key = ?3",
        params![kind, target_id, ordering_key],
    )?;
    let due_at = if behind_another { WAITING } else { now };
    super::execute(
        conn,
        "INSERT INTO event_deliveries
             (event_id, target_kind, target_id, ordering_key, delivery_id, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![event_id, kind, target_id, ordering_key, delivery_id, due_at, now],
    )?;
    Ok(())
}

/// Makes the next delivery in the finished one's line (`?1`) due at `?2`, if it is waiting
/// (`?3`). The finished row first, then its line from `event_deliveries_in_order`, whose first
/// entry is the next: SQLite left to choose scanned every pending delivery instead, once the
/// table's statistics had been taken while it was empty, and each delivery then cost as much as
/// the whole backlog.
/// PostgreSQL plans by its own statistics, which it keeps up to date.
const PROMOTE_NEXT: Sql = crate::sql!(
    sqlite: "
UPDATE event_deliveries SET next_attempt_at = ?2
 WHERE id = (SELECT n.id
               FROM event_deliveries f
              CROSS JOIN event_deliveries n INDEXED BY event_deliveries_in_order
              WHERE f.id = ?1 AND n.state = 0 AND n.target_kind = f.target_kind
                AND n.target_id = f.target_id AND n.ordering_key = f.ordering_key
              ORDER BY n.id LIMIT 1)
   AND next_attempt_at = ?3",
    postgres: "
UPDATE event_deliveries SET next_attempt_at = ?2
 WHERE id = (SELECT n.id
               FROM event_deliveries f
              CROSS JOIN event_deliveries n
              WHERE f.id = ?1 AND n.state = 0 AND n.target_kind = f.target_kind
                AND n.target_id = f.target_id AND n.ordering_key = f.ordering_key
              ORDER BY n.id LIMIT 1)
   AND next_attempt_at = ?3",
);

/// Makes the next delivery in the finished one's line due now.
fn promote_next(conn: &Conn, finished_id: i64, now: i64) -> StoreResult<()> {
    super::execute(conn, &PROMOTE_NEXT, params![finished_id, now, WAITING])?;
    Ok(())
}

/// An account webhook as events are routed to it.
#[derive(Clone, Debug)]
pub struct Subscriber {
    pub id: i64,
    pub inbox_id: Option<i64>,
    pub subscriptions: Vec<String>,
}

pub fn subscribers(conn: &Conn, account_id: i64) -> StoreResult<Vec<Subscriber>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, inbox_id, subscriptions FROM webhooks WHERE account_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([account_id], |row| {
        let subscriptions: String = row.get(2)?;
        Ok(Subscriber {
            id: row.get(0)?,
            inbox_id: row.get(1)?,
            subscriptions: serde_json::from_str(&subscriptions).unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether the inbox is an API inbox with a `webhook_url` to deliver to.
pub fn inbox_has_webhook(conn: &Conn, inbox_id: i64) -> StoreResult<bool> {
    super::exists(
        conn,
        "SELECT 1 FROM inboxes WHERE id = ?1 AND channel_type = 'Channel::Api'
            AND webhook_url IS NOT NULL AND webhook_url <> ''",
        [inbox_id],
    )
}

/// `(account_id, inbox_id)` of a conversation.
pub fn conversation_place(conn: &Conn, conversation_id: i64) -> StoreResult<Option<(i64, i64)>> {
    Ok(conn
        .prepare_cached("SELECT account_id, inbox_id FROM conversations WHERE id = ?1")?
        .query_row([conversation_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}

/// `(account_id, inbox_id, conversation_id)` of a message.
pub fn message_place(conn: &Conn, message_id: i64) -> StoreResult<Option<(i64, i64, i64)>> {
    Ok(conn
        .prepare_cached("SELECT account_id, inbox_id, conversation_id FROM messages WHERE id = ?1")?
        .query_row([message_id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?)
}

pub fn contact_account(conn: &Conn, contact_id: i64) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT account_id FROM contacts WHERE id = ?1")?
        .query_row([contact_id], |row| row.get(0))
        .optional()?)
}

pub fn inbox_account(conn: &Conn, inbox_id: i64) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT account_id FROM inboxes WHERE id = ?1")?
        .query_row([inbox_id], |row| row.get(0))
        .optional()?)
}

/// A delivery ready for an attempt, with what the attempt sends.
#[derive(Clone, Debug)]
pub struct DueDelivery {
    pub id: i64,
    pub target: TargetKind,
    pub target_id: i64,
    pub delivery_id: String,
    pub attempts: i64,
    pub created_at: i64,
    pub event_name: String,
    pub payload: String,
    pub message_id: Option<i64>,
    pub conversation_id: Option<i64>,
}

/// Pending deliveries due at `now`, soonest first. Only the head of each line can be due.
pub fn due(conn: &Conn, now: i64, limit: i64) -> StoreResult<Vec<DueDelivery>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, d.target_kind, d.target_id, d.delivery_id, d.attempts, d.created_at,
                e.name, e.payload, e.message_id, e.conversation_id
           FROM event_deliveries d JOIN outbound_events e ON e.id = d.event_id
          WHERE d.state = 0 AND d.next_attempt_at <= ?1
          ORDER BY d.next_attempt_at, d.id
          LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit], |row| {
        let kind: i64 = row.get(1)?;
        Ok(DueDelivery {
            id: row.get(0)?,
            target: TargetKind::from_code(kind).unwrap_or(TargetKind::Webhook),
            target_id: row.get(2)?,
            delivery_id: row.get(3)?,
            attempts: row.get(4)?,
            created_at: row.get(5)?,
            event_name: row.get(6)?,
            payload: row.get(7)?,
            message_id: row.get(8)?,
            conversation_id: row.get(9)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Claims the deliveries among `ids` that are still due at `now` for this node until
/// `lease_until`, and returns the ones it got (PostgreSQL, where nodes share the outbox).
/// The update re-reads each row after any concurrent claim has committed, so a delivery goes
/// to one node; one whose node dies mid-attempt falls due again when its lease runs out.
pub fn claim(conn: &Conn, ids: &[i64], now: i64, lease_until: i64) -> StoreResult<Vec<i64>> {
    super::ids(
        conn,
        "UPDATE event_deliveries SET next_attempt_at = ?3
          WHERE id = ANY(?1) AND state = 0 AND next_attempt_at <= ?2
          RETURNING id",
        params![super::id_array(ids.iter().copied()), now, lease_until],
    )
}

/// When the next pending delivery falls due, if any.
pub fn next_due_at(conn: &Conn) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT MIN(next_attempt_at) FROM event_deliveries
              WHERE state = 0 AND next_attempt_at < ?1",
        )?
        .query_row([WAITING], |row| row.get(0))?)
}

/// Where a target is and the secret that signs what it receives, read at send time.
pub fn target(conn: &Conn, kind: TargetKind, id: i64) -> StoreResult<Option<(String, String)>> {
    match kind {
        TargetKind::Webhook => Ok(conn
            .prepare_cached("SELECT url, secret FROM webhooks WHERE id = ?1")?
            .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?),
        TargetKind::ApiInbox => super::inboxes::delivery_target(conn, id),
        TargetKind::AgentBot => super::agent_bots::delivery_target(conn, id),
    }
}

/// The outcome of an attempt, as recorded.
pub struct Outcome<'a> {
    pub status: Option<u16>,
    pub error: Option<&'a str>,
}

pub fn delivered(conn: &Conn, id: i64, outcome: &Outcome, now: i64) -> StoreResult<()> {
    finish(conn, id, 1, outcome, now)
}

pub fn given_up(conn: &Conn, id: i64, outcome: &Outcome, now: i64) -> StoreResult<()> {
    finish(conn, id, 2, outcome, now)
}

fn finish(conn: &Conn, id: i64, state: i64, outcome: &Outcome, now: i64) -> StoreResult<()> {
    if conn.is_postgres() {
        super::execute(
            conn,
            "SELECT pg_advisory_xact_lock(hashtextextended(
                 concat_ws(':', target_kind, target_id, ordering_key), 0))
               FROM event_deliveries WHERE id = ?1",
            [id],
        )?;
    }
    super::execute(
        conn,
        "UPDATE event_deliveries
            SET state = ?2, attempts = attempts + 1, last_status = ?3, last_error = ?4,
                finished_at = ?5
          WHERE id = ?1",
        params![id, state, outcome.status, outcome.error, now],
    )?;
    promote_next(conn, id, now)
}

pub fn retry_at(conn: &Conn, id: i64, outcome: &Outcome, at: i64) -> StoreResult<()> {
    super::execute(
        conn,
        "UPDATE event_deliveries
            SET attempts = attempts + 1, last_status = ?2, last_error = ?3, next_attempt_at = ?4
          WHERE id = ?1",
        params![id, outcome.status, outcome.error, at],
    )?;
    Ok(())
}

/// Pending deliveries and the creation time of the oldest.
pub fn backlog(conn: &Conn) -> StoreResult<(i64, Option<i64>)> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*), MIN(created_at) FROM event_deliveries WHERE state = 0")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?)
}

/// Forgets up to `limit` finished deliveries older than `before`, then the events left with no
/// delivery; returns how many deliveries went.
pub fn prune(conn: &Conn, before: i64, limit: i64) -> StoreResult<usize> {
    if !super::claims::turn_for(conn, super::claims::Chore::PruneEvents)? {
        return Ok(0);
    }
    let gone = super::execute(
        conn,
        "DELETE FROM event_deliveries WHERE id IN (
             SELECT id FROM event_deliveries WHERE state <> 0 AND finished_at < ?1 LIMIT ?2)",
        params![before, limit],
    )?;
    super::execute(
        conn,
        "DELETE FROM outbound_events WHERE id IN (
             SELECT e.id FROM outbound_events e
              WHERE e.created_at < ?1
                AND NOT EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = e.id)
              LIMIT ?2)",
        params![before, limit],
    )?;
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Db, PoolSizes};

    fn outbox() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite3"), PoolSizes::SMALL).unwrap();
        db.write_now(|tx| {
            tx.execute(
                "INSERT INTO accounts (id, name, created_at, updated_at) VALUES (1, 'A', 0, 0)",
                [],
            )?;
            Ok(())
        })
        .unwrap();
        (dir, db)
    }

    fn event(conn: &Conn, at: i64, key: &str) -> StoreResult<i64> {
        let new = NewEvent {
            account_id: 1,
            name: "message_created",
            payload: "{}",
            message_id: None,
            conversation_id: None,
        };
        let id = insert_event(conn, &new, at)?;
        insert_delivery(conn, id, (TargetKind::Webhook, 1), key, "d", at)?;
        Ok(id)
    }

    fn count(db: &Db, sql: &str) -> i64 {
        db.read_now(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
            .unwrap()
    }

    #[test]
    fn a_delivery_waits_behind_an_earlier_pending_one_with_its_key_and_others_do_not() {
        let (_dir, db) = outbox();
        db.write_now(|tx| {
            event(tx, 10, "conversation:1")?;
            event(tx, 11, "conversation:1")?;
            event(tx, 12, "conversation:2")?;
            Ok(())
        })
        .unwrap();
        let ready = db.read_now(|c| due(c, 100, 10)).unwrap();
        assert_eq!(ready.iter().map(|d| d.id).collect::<Vec<_>>(), [1, 3]);
        let failed = Outcome {
            status: Some(500),
            error: None,
        };
        db.write_now(|tx| retry_at(tx, 1, &failed, 200)).unwrap();
        // The first is not due again yet, and the second still waits behind it.
        let ready = db.read_now(|c| due(c, 100, 10)).unwrap();
        assert_eq!(ready.iter().map(|d| d.id).collect::<Vec<_>>(), [3]);
        assert_eq!(db.read_now(next_due_at).unwrap(), Some(12));
        db.write_now(|tx| {
            delivered(
                tx,
                1,
                &Outcome {
                    status: Some(200),
                    error: None,
                },
                150,
            )
        })
        .unwrap();
        // Its finish made the next in its line due.
        let ready = db.read_now(|c| due(c, 160, 10)).unwrap();
        assert_eq!(ready.iter().map(|d| d.id).collect::<Vec<_>>(), [3, 2]);
        assert_eq!(db.read_now(backlog).unwrap(), (2, Some(11)));
    }

    /// Statistics taken while the outbox was empty (a fresh data dir analysed at start-up) say
    /// its indexes are empty; finishing a delivery still looks at its own line alone.
    #[test]
    fn finishing_a_delivery_reads_only_its_line_whatever_the_statistics_say() {
        let (_dir, db) = outbox();
        db.write_now(|tx| {
            tx.execute_batch(
                "ANALYZE sqlite_schema;
                 DELETE FROM sqlite_stat1 WHERE tbl = 'event_deliveries';
                 INSERT INTO sqlite_stat1 VALUES
                   ('event_deliveries', 'event_deliveries_in_order', '0 0 0 0 0'),
                   ('event_deliveries', 'event_deliveries_due', '0 0 0'),
                   ('event_deliveries', 'event_deliveries_by_event', '19336 2'),
                   ('event_deliveries', 'event_deliveries_finished', '19336 1');
                 ANALYZE sqlite_schema;",
            )?;
            Ok(())
        })
        .unwrap();
        let plan = db
            .write_now(|tx| {
                let mut stmt =
                    tx.prepare(&format!("EXPLAIN QUERY PLAN {}", PROMOTE_NEXT.sqlite))?;
                let rows = stmt.query_map(params![0, 0, 0], |row| row.get::<String>(3))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?.join("; "))
            })
            .unwrap();
        assert!(
            plan.contains("SEARCH n USING COVERING INDEX event_deliveries_in_order"),
            "{plan}"
        );
        assert!(!plan.contains("SCAN"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }

    #[test]
    fn pruning_forgets_finished_deliveries_past_retention_and_keeps_the_rest() {
        let (_dir, db) = outbox();
        let done = Outcome {
            status: Some(200),
            error: None,
        };
        db.write_now(|tx| {
            for at in [10, 20, 30] {
                event(tx, at, "k")?;
            }
            delivered(tx, 1, &done, 15)?;
            given_up(tx, 2, &done, 25)?;
            Ok(())
        })
        .unwrap();
        let gone = db.write_now(|tx| prune(tx, 22, 100)).unwrap();
        assert_eq!(gone, 1);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM event_deliveries"), 2);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM outbound_events"), 2);
        // A pending delivery is never pruned, however old.
        db.write_now(|tx| prune(tx, 1_000, 100)).unwrap();
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM event_deliveries WHERE state = 0"),
            1
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM outbound_events"), 1);
    }
}
