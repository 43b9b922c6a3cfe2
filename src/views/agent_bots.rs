//! Agent bots as Chatwoot renders them (`_agent_bot.json.jbuilder` and the views that use it).

use serde_json::{json, Map, Value};

use crate::store::agent_bots::AgentBot;

/// One bot. The access token and the signing secret are shown to administrators only, as
/// Chatwoot does; wootlite bots have no avatar (`thumbnail` is `""`) and are never system bots.
pub fn agent_bot(bot: &AgentBot, viewer_is_administrator: bool) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(bot.id));
    out.insert("name".into(), json!(bot.name));
    out.insert("description".into(), json!(bot.description));
    out.insert("thumbnail".into(), json!(""));
    out.insert("outgoing_url".into(), json!(bot.outgoing_url));
    out.insert("bot_type".into(), json!(bot.bot_type.as_str()));
    out.insert("bot_config".into(), bot.bot_config.clone());
    out.insert("account_id".into(), json!(bot.account_id));
    if viewer_is_administrator {
        out.insert("access_token".into(), json!(bot.access_token));
        out.insert("secret".into(), json!(bot.secret));
    }
    out.insert("system_bot".into(), json!(false));
    Value::Object(out)
}

/// `GET /agent_bots`: a bare array.
pub fn index(bots: &[AgentBot], viewer_is_administrator: bool) -> Value {
    Value::Array(
        bots.iter()
            .map(|bot| agent_bot(bot, viewer_is_administrator))
            .collect(),
    )
}

/// `GET /inboxes/{id}/agent_bot`: `{"agent_bot": {...}}`, with `null` when the inbox has none
/// (Chatwoot leaves the key out then; clients read either as no bot).
pub fn of_inbox(bot: Option<&AgentBot>, viewer_is_administrator: bool) -> Value {
    json!({ "agent_bot": bot.map(|bot| agent_bot(bot, viewer_is_administrator)) })
}
