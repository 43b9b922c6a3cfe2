//! The account's webhooks: where events go, which ones, and the secret that signs them.

use crate::db::{Conn, Row};
use crate::params;

use super::{execute_unique, exists, insert_unique, one_row, StoreError, StoreResult};

#[derive(Clone, Debug)]
pub struct Webhook {
    pub id: i64,
    pub account_id: i64,
    pub name: Option<String>,
    pub url: String,
    pub subscriptions: Vec<String>,
    pub secret: String,
    /// The inbox it names, as (id, name).
    pub inbox: Option<(i64, String)>,
}

/// What a webhook is made of, as an administrator sets it.
#[derive(Clone, Debug)]
pub struct WebhookFields {
    pub name: Option<String>,
    pub url: String,
    pub subscriptions: Vec<String>,
    pub inbox_id: Option<i64>,
}

impl Webhook {
    pub fn fields(&self) -> WebhookFields {
        WebhookFields {
            name: self.name.clone(),
            url: self.url.clone(),
            subscriptions: self.subscriptions.clone(),
            inbox_id: self.inbox.as_ref().map(|(id, _)| *id),
        }
    }
}

const SELECT_WEBHOOK: &str = "SELECT w.id, w.account_id, w.name, w.url, w.subscriptions, w.secret,
        w.inbox_id, i.name
   FROM webhooks w LEFT JOIN inboxes i ON i.id = w.inbox_id";

fn webhook_from_row(row: &Row) -> crate::db::SqlResult<Webhook> {
    let subscriptions: String = row.get(4)?;
    let inbox_id: Option<i64> = row.get(6)?;
    let inbox_name: Option<String> = row.get(7)?;
    Ok(Webhook {
        id: row.get(0)?,
        account_id: row.get(1)?,
        name: row.get(2)?,
        url: row.get(3)?,
        // Written only by `create`/`update` from a list of names; anything unreadable is none.
        subscriptions: serde_json::from_str(&subscriptions).unwrap_or_default(),
        secret: row.get(5)?,
        inbox: inbox_id.map(|id| (id, inbox_name.unwrap_or_default())),
    })
}

pub fn list(conn: &Conn, account_id: i64) -> StoreResult<Vec<Webhook>> {
    let sql = format!("{SELECT_WEBHOOK} WHERE w.account_id = ?1 ORDER BY w.id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([account_id], webhook_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The account's webhook; another account's is NotFound, as a missing one.
pub fn get(conn: &Conn, account_id: i64, webhook_id: i64) -> StoreResult<Webhook> {
    let sql = format!("{SELECT_WEBHOOK} WHERE w.account_id = ?1 AND w.id = ?2");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([account_id, webhook_id], webhook_from_row)?)
}

fn duplicate_url() -> StoreError {
    StoreError::invalid("url", "Url has already been taken")
}

/// The foreign key alone would accept another account's inbox.
fn check_inbox(conn: &Conn, account_id: i64, inbox_id: Option<i64>) -> StoreResult<()> {
    let Some(inbox_id) = inbox_id else {
        return Ok(());
    };
    if exists(
        conn,
        "SELECT 1 FROM inboxes WHERE account_id = ?1 AND id = ?2",
        [account_id, inbox_id],
    )? {
        Ok(())
    } else {
        Err(StoreError::invalid("inbox_id", "Inbox must exist"))
    }
}

fn subscriptions_json(webhook: &WebhookFields) -> String {
    serde_json::Value::from(webhook.subscriptions.clone()).to_string()
}

/// Stores a new webhook with its signing `secret`; returns its id.
pub fn create(
    conn: &Conn,
    account_id: i64,
    webhook: &WebhookFields,
    secret: &str,
    now: i64,
) -> StoreResult<i64> {
    check_inbox(conn, account_id, webhook.inbox_id)?;
    insert_unique(
        conn,
        "INSERT INTO webhooks (account_id, inbox_id, name, url, subscriptions, secret, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING id",
        params![account_id, webhook.inbox_id, webhook.name, webhook.url, subscriptions_json(webhook), secret, now],
        duplicate_url,
    )
}

/// Replaces the webhook's fields; the secret stays.
pub fn update(
    conn: &Conn,
    account_id: i64,
    webhook_id: i64,
    webhook: &WebhookFields,
    now: i64,
) -> StoreResult<()> {
    check_inbox(conn, account_id, webhook.inbox_id)?;
    one_row(execute_unique(
        conn,
        "UPDATE webhooks SET inbox_id = ?3, name = ?4, url = ?5, subscriptions = ?6, updated_at = ?7
          WHERE account_id = ?1 AND id = ?2",
        params![account_id, webhook_id, webhook.inbox_id, webhook.name, webhook.url, subscriptions_json(webhook), now],
        duplicate_url,
    )?)
}

pub fn delete(conn: &Conn, account_id: i64, webhook_id: i64) -> StoreResult<()> {
    one_row(super::execute(
        conn,
        "DELETE FROM webhooks WHERE account_id = ?1 AND id = ?2",
        [account_id, webhook_id],
    )?)
}
