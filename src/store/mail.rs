//! The mail outbox and the per-account daily email counts.

use crate::db::{Conn, OptionalExtension};
use crate::params;

use super::StoreResult;

#[derive(Clone, Debug)]
pub struct Mail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub attempts: i64,
}

pub struct NewMail<'a> {
    pub account_id: i64,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
}

pub fn enqueue(conn: &Conn, mail: &NewMail, now: i64) -> StoreResult<i64> {
    super::insert(
        conn,
        "INSERT INTO mail_outbox (account_id, recipient, subject, text_body, html_body, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id",
        params![
            mail.account_id,
            mail.recipient,
            mail.subject,
            mail.text_body,
            mail.html_body,
            now
        ],
    )
}

/// Counts one more email for the account on the UTC day of `now` unless `limit` is reached;
/// false when it is.
pub fn count_email(
    conn: &Conn,
    account_id: i64,
    now: i64,
    limit: Option<u32>,
) -> StoreResult<bool> {
    let day = chrono::DateTime::from_timestamp_micros(now)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string();
    let sent: i64 = conn
        .prepare_cached("SELECT sent FROM email_counts WHERE account_id = ?1 AND day = ?2")?
        .query_row(params![account_id, day], |row| row.get(0))
        .optional()?
        .unwrap_or(0);
    if limit.is_some_and(|limit| sent >= i64::from(limit)) {
        return Ok(false);
    }
    conn.prepare_cached(
        "INSERT INTO email_counts (account_id, day, sent) VALUES (?1, ?2, 1)
         ON CONFLICT (account_id, day) DO UPDATE SET sent = email_counts.sent + 1",
    )?
    .execute(params![account_id, day])?;
    Ok(true)
}

/// Mails due for an attempt at `now`, oldest first.
pub fn due(conn: &Conn, now: i64, limit: i64) -> StoreResult<Vec<Mail>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, recipient, subject, text_body, html_body, attempts FROM mail_outbox
          WHERE failed_at IS NULL AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit], |row| {
        Ok(Mail {
            id: row.get(0)?,
            recipient: row.get(1)?,
            subject: row.get(2)?,
            text_body: row.get(3)?,
            html_body: row.get(4)?,
            attempts: row.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Claims mail `id` if it is still due at `now`, for this node until `lease_until`
/// (PostgreSQL, where nodes share the outbox); false when another node has it.
pub fn claim(conn: &Conn, id: i64, now: i64, lease_until: i64) -> StoreResult<bool> {
    let claimed = super::execute(
        conn,
        "UPDATE mail_outbox SET next_attempt_at = ?3
          WHERE id = ?1 AND failed_at IS NULL AND next_attempt_at <= ?2",
        params![id, now, lease_until],
    )?;
    Ok(claimed == 1)
}

/// When the next pending mail is due, if any.
pub fn next_due(conn: &Conn) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT MIN(next_attempt_at) FROM mail_outbox WHERE failed_at IS NULL")?
        .query_row([], |row| row.get(0))?)
}

/// Mails still to be delivered: waiting for their first attempt or for a retry (those given up
/// are not counted).
pub fn count_pending(conn: &Conn) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM mail_outbox WHERE failed_at IS NULL")?
        .query_row([], |row| row.get(0))?)
}

pub fn delivered(conn: &Conn, id: i64) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM mail_outbox WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Records a failed attempt: retried at `retry_at`, or given up when that is None.
pub fn attempt_failed(
    conn: &Conn,
    id: i64,
    error: &str,
    retry_at: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE mail_outbox SET attempts = attempts + 1, last_error = ?2,
                next_attempt_at = COALESCE(?3, next_attempt_at),
                failed_at = CASE WHEN ?3 IS NULL THEN CAST(?4 AS bigint) END
          WHERE id = ?1",
    )?
    .execute(params![id, error, retry_at, now])?;
    Ok(())
}
