//! The JSON of dev mode's `/__wootlite/` endpoints.

use serde_json::{json, Value};

use crate::fixtures::Loaded;
use crate::provision::Provisioned;

/// `{"now": <unix seconds>, "frozen": <bool>}`.
pub fn clock(now_micros: i64, frozen: bool) -> Value {
    json!({ "now": now_micros.div_euclid(1_000_000), "frozen": frozen })
}

/// A reset that loaded fixtures: how much, and the first administrator's token.
pub fn reset_loaded(loaded: &Loaded, token: Option<&str>) -> Value {
    json!({
        "account_id": 1,
        "token": token,
        "loaded": {
            "accounts": loaded.accounts,
            "users": loaded.users,
            "conversations": loaded.conversations,
            "messages": loaded.messages,
        },
    })
}

/// A reset that made the default account.
pub fn reset_made(made: &Provisioned) -> Value {
    json!({
        "account_id": made.account_id,
        "user_id": made.user_id,
        "inbox_id": made.inbox_id,
        "token": made.token,
    })
}

/// `GET /__wootlite/info`.
pub fn info(schema_version: i64, settings: &Value, clock: Value) -> Value {
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "schema_version": schema_version,
        "settings": settings,
        "data_dir": settings["data_dir"],
        "clock": clock,
    })
}

/// A caught mail, as read from its file.
pub struct CaughtMail<'a> {
    pub id: &'a str,
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub subject: Option<&'a str>,
    pub date: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
}

pub fn mail(mail: &CaughtMail) -> Value {
    json!({
        "id": mail.id,
        "from": mail.from,
        "to": mail.to,
        "subject": mail.subject,
        "date": mail.date,
        "text": mail.text,
        "html": mail.html,
    })
}

/// A file in the mail folder that does not read as a mail.
pub fn unreadable_mail(id: &str) -> Value {
    json!({ "id": id, "error": "not a readable mail" })
}
