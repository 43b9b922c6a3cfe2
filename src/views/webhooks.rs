//! Account webhooks as Chatwoot renders them (`_webhook.json.jbuilder` and its envelopes).

use serde_json::{json, Map, Value};

use crate::store::webhooks::Webhook;

/// One webhook. The signing secret is shown: Chatwoot shows it to administrators, the only
/// ones who may read webhooks. `inbox` appears only when the webhook names one.
pub fn webhook(webhook: &Webhook) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(webhook.id));
    out.insert("name".into(), json!(webhook.name));
    out.insert("url".into(), json!(webhook.url));
    out.insert("account_id".into(), json!(webhook.account_id));
    out.insert("subscriptions".into(), json!(webhook.subscriptions));
    out.insert("secret".into(), json!(webhook.secret));
    if let Some((id, name)) = &webhook.inbox {
        out.insert("inbox".into(), json!({ "id": id, "name": name }));
    }
    Value::Object(out)
}

/// `GET /webhooks`: `{"payload": {"webhooks": [...]}}`.
pub fn index(webhooks: &[Webhook]) -> Value {
    let list: Vec<Value> = webhooks.iter().map(webhook).collect();
    json!({ "payload": { "webhooks": list } })
}

/// Create and update: `{"payload": {"webhook": {...}}}`.
pub fn one(one: &Webhook) -> Value {
    json!({ "payload": { "webhook": webhook(one) } })
}
