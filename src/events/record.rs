//! Turns the changes a write transaction made into events in the outbox, inside that
//! transaction: the payload is built from the state the change committed and frozen there, and
//! every target that must receive the event gets a delivery row. An event nobody receives is
//! not built at all.
//!
//! Routing (reference §1.2): account webhooks get the events they subscribe to (only their
//! inbox's, when they name one); an API inbox's `webhook_url` gets every conversation, message
//! and typing event of its inbox; the inbox's active agent bot gets message and conversation
//! events, including the bot-only `conversation_opened` / `conversation_resolved`.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use crate::db::Conn;
use serde_json::{json, Map, Value};

use super::broadcasts;
use super::payloads::{self, Loads, Subject, TypingUser};
use crate::models::{MessageStatus, Performer, Priority, Status};
use crate::realtime::hub::Hub;
use crate::store::event_capture::{self, Change};
use crate::store::event_outbox::{self, NewEvent, Subscriber, TargetKind};
use crate::store::{agent_bots, conversations, StoreResult};
use crate::views::conversations::Links;
use crate::views::iso_millis;

/// An event to write, before its targets are known. Its name is a webhook event's, or one that
/// only `/cable` tells: `activity_created` (an activity message) and `conversation_read` (the
/// contact read the conversation).
#[derive(Debug)]
pub(super) struct Planned {
    pub name: &'static str,
    pub subject: Subject,
    pub changed: Option<Value>,
    pub typing: Option<(TypingUser, bool)>,
}

/// Records the events of every change noted so far in this transaction: in the outbox for
/// their webhooks, and, when `live` has subscribers in their account, as broadcasts for it.
pub fn record(
    conn: &Conn,
    actor: Option<Performer>,
    links: &Links,
    live: Option<&Hub>,
    now: i64,
) -> StoreResult<()> {
    let changes = event_capture::take(conn)?;
    if changes.is_empty() {
        return Ok(());
    }
    let mut routes = Routes::default();
    let mut loads = Loads::default();
    let mut built: HashMap<Subject, Value> = HashMap::new();
    let planned = plan(conn, changes)?;
    // Where each event happened, read once for both its webhooks and its broadcasts; a row
    // deleted later in the same transaction has nothing left to tell.
    let places = planned
        .iter()
        .map(|event| place(conn, event.subject))
        .collect::<StoreResult<Vec<_>>>()?;
    for (event, place) in planned.iter().zip(&places) {
        let Some(place) = place else {
            continue;
        };
        write_event(
            conn,
            &mut routes,
            &mut loads,
            &mut built,
            event,
            place,
            actor,
            links,
            now,
        )?;
    }
    if let Some(hub) = live {
        broadcasts::note(conn, hub, &planned, &places, &mut loads, actor, links)?;
    }
    Ok(())
}

/// The event a typing client causes, recorded like any change.
pub fn typing(
    conn: &Conn,
    conversation_id: i64,
    user: Performer,
    on: bool,
    is_private: bool,
) -> StoreResult<()> {
    let kind = if on {
        "conversation_typing_on"
    } else {
        "conversation_typing_off"
    };
    let detail = json!({"user": {"type": user.kind(), "id": user.id()}, "is_private": is_private});
    event_capture::note(conn, kind, conversation_id, &detail)
}

fn typing_user(detail: &Value) -> Option<(TypingUser, bool)> {
    let id = detail["user"]["id"].as_i64()?;
    let user = match detail["user"]["type"].as_str()? {
        "user" => TypingUser::Agent(id),
        "contact" => TypingUser::Contact(id),
        "agent_bot" => TypingUser::Bot(id),
        _ => return None,
    };
    Some((user, detail["is_private"].as_bool().unwrap_or(false)))
}

/// An event's place in the order of a transaction's changes.
enum Slot {
    Created(Subject, &'static str),
    /// The contact read the conversation (once per transaction).
    Read(Subject),
    /// Where the first update of a row happened; all its updates make one event there.
    Updated(Subject),
    Typing {
        subject: Subject,
        user: TypingUser,
        private: bool,
        on: bool,
    },
}

/// The first `before` and the last `after` of a row's updates in one transaction: one event
/// per row and transaction, however many statements touched it.
#[derive(Default)]
struct Update {
    before: Map<String, Value>,
    after: Map<String, Value>,
    /// Labels added (true) and removed (false), in the order it happened.
    labels: Vec<(bool, String)>,
}

fn object(value: Option<Value>) -> Map<String, Value> {
    match value {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Folds the noted changes into events, in the order they happened. A row created in the
/// transaction gets its created event only (Rails runs only the create callbacks for it).
fn plan(conn: &Conn, changes: Vec<Change>) -> StoreResult<Vec<Planned>> {
    let mut created: HashSet<Subject> = HashSet::new();
    let mut read: HashSet<Subject> = HashSet::new();
    let mut updates: HashMap<Subject, Update> = HashMap::new();
    let mut order: Vec<Slot> = Vec::new();
    for change in changes {
        let id = change.subject_id;
        let (subject, is_update) = match change.kind.as_str() {
            "conversation_created" => (Subject::Conversation(id), false),
            "message_created" | "activity_created" => (Subject::Message(id), false),
            "contact_created" => (Subject::Contact(id), false),
            "inbox_created" => (Subject::Inbox(id), false),
            "conversation_read" => {
                let subject = Subject::Conversation(id);
                if read.insert(subject) {
                    order.push(Slot::Read(subject));
                }
                continue;
            }
            "conversation_updated" | "label_added" | "label_removed" => {
                (Subject::Conversation(id), true)
            }
            "message_updated" => (Subject::Message(id), true),
            "contact_updated" => (Subject::Contact(id), true),
            "inbox_updated" => (Subject::Inbox(id), true),
            "conversation_typing_on" | "conversation_typing_off" => {
                let on = change.kind == "conversation_typing_on";
                if let Some((user, private)) = change.after.as_ref().and_then(typing_user) {
                    let subject = Subject::Conversation(id);
                    order.push(Slot::Typing {
                        subject,
                        user,
                        private,
                        on,
                    });
                }
                continue;
            }
            _ => continue,
        };
        if !is_update {
            created.insert(subject);
            let name = if change.kind == "activity_created" {
                "activity_created"
            } else {
                created_name(subject)
            };
            order.push(Slot::Created(subject, name));
            continue;
        }
        let update = updates.entry(subject).or_insert_with(|| {
            order.push(Slot::Updated(subject));
            Update::default()
        });
        match change.kind.as_str() {
            "label_added" => update.labels.extend(
                change
                    .after
                    .and_then(|v| v.as_str().map(|title| (true, title.to_owned()))),
            ),
            "label_removed" => update.labels.extend(
                change
                    .before
                    .and_then(|v| v.as_str().map(|title| (false, title.to_owned()))),
            ),
            _ => {
                let before = object(change.before);
                for (key, value) in before {
                    update.before.entry(key).or_insert(value);
                }
                update.after.extend(object(change.after));
            }
        }
    }
    let mut planned = Vec::new();
    for slot in order {
        match slot {
            Slot::Typing {
                subject,
                user,
                private,
                on,
            } => {
                let name = if on {
                    "conversation_typing_on"
                } else {
                    "conversation_typing_off"
                };
                let typing = Some((user, private));
                planned.push(Planned {
                    name,
                    subject,
                    changed: None,
                    typing,
                });
            }
            Slot::Read(subject) if created.contains(&subject) => {}
            Slot::Read(subject) => planned.push(Planned {
                name: "conversation_read",
                subject,
                changed: None,
                typing: None,
            }),
            Slot::Created(subject, name) => {
                planned.push(Planned {
                    name,
                    subject,
                    changed: None,
                    typing: None,
                });
            }
            // A row created in this transaction has told everything in its created event.
            Slot::Updated(subject) if created.contains(&subject) => {}
            Slot::Updated(subject) => {
                if let Some(update) = updates.remove(&subject) {
                    planned.extend(updated_events(conn, subject, update)?);
                }
            }
        }
    }
    Ok(planned)
}

fn created_name(subject: Subject) -> &'static str {
    match subject {
        Subject::Conversation(_) => "conversation_created",
        Subject::Message(_) => "message_created",
        Subject::Contact(_) => "contact_created",
        Subject::Inbox(_) => "inbox_created",
    }
}

/// Chatwoot's `changed_attributes`: one single-key map per changed column, in column order.
fn changed_attributes(subject: Subject, update: &Update) -> Vec<(String, Value, Value)> {
    let mut changed = Vec::new();
    for (key, after) in &update.after {
        let before = update.before.get(key).unwrap_or(&Value::Null);
        if before != after {
            changed.push((
                key.clone(),
                wire_value(subject, key, before),
                wire_value(subject, key, after),
            ));
        }
    }
    changed
}

/// A stored column value as Chatwoot's `previous_changes` serialises it: enums by name, times
/// as ISO strings, JSON columns as objects, flags as booleans.
fn wire_value(subject: Subject, key: &str, raw: &Value) -> Value {
    if raw.is_null() {
        return Value::Null;
    }
    let code = raw.as_i64();
    match (subject, key) {
        (Subject::Conversation(_), "status") => code
            .and_then(Status::from_code)
            .map_or(Value::Null, |s| json!(s.as_str())),
        (Subject::Conversation(_), "priority") => code
            .and_then(Priority::from_code)
            .map_or(Value::Null, |p| json!(p.as_str())),
        (Subject::Message(_), "status") => code
            .and_then(MessageStatus::from_code)
            .map_or(Value::Null, |s| json!(s.as_str())),
        (_, "snoozed_until" | "waiting_since" | "first_reply_created_at" | "updated_at") => {
            code.map_or(Value::Null, iso_millis)
        }
        (_, "custom_attributes" | "additional_attributes" | "content_attributes") => raw
            .as_str()
            .map(crate::store::json_object)
            .unwrap_or_else(|| raw.clone()),
        (
            _,
            "private"
            | "blocked"
            | "greeting_enabled"
            | "enable_email_collect"
            | "csat_survey_enabled"
            | "enable_auto_assignment"
            | "working_hours_enabled"
            | "allow_messages_after_resolved"
            | "lock_to_single_conversation",
        ) => json!(code.unwrap_or(0) != 0),
        _ => raw.clone(),
    }
}

fn as_list(changed: &[(String, Value, Value)]) -> Value {
    Value::Array(
        changed
            .iter()
            .map(|(key, before, after)| {
                json!({ key.as_str(): {"previous_value": before, "current_value": after} })
            })
            .collect(),
    )
}

fn language(value: Option<&Value>) -> Value {
    value
        .and_then(Value::as_str)
        .map(crate::store::json_object)
        .map_or(Value::Null, |attrs| attrs["conversation_language"].clone())
}

/// The events one row's updates make, if any of the columns that matter changed for good.
fn updated_events(conn: &Conn, subject: Subject, update: Update) -> StoreResult<Vec<Planned>> {
    let mut changed = changed_attributes(subject, &update);
    let mut events = Vec::new();
    match subject {
        Subject::Conversation(id) => {
            if !update.labels.is_empty() {
                let after = conversations::labels(conn, id)?;
                // Undone from the last change back: what the list was before the transaction.
                let mut before = after.clone();
                for (added, title) in update.labels.iter().rev() {
                    if *added {
                        before.retain(|l| l != title);
                    } else if !before.contains(title) {
                        before.push(title.clone());
                    }
                }
                let (mut was, mut is) = (before.clone(), after.clone());
                was.sort();
                is.sort();
                if was != is {
                    changed.push(("label_list".into(), json!(before), json!(after)));
                }
            }
            let language_changed = language(update.before.get("additional_attributes"))
                != language(update.after.get("additional_attributes"));
            let matters = language_changed
                || changed
                    .iter()
                    .any(|(key, _, _)| key != "updated_at" && key != "additional_attributes");
            if !matters {
                return Ok(events);
            }
            if let Some((_, before, after)) = changed.iter().find(|(key, _, _)| key == "status") {
                let status_change =
                    json!([{"status": {"previous_value": before, "current_value": after}}]);
                events.push(Planned {
                    name: "conversation_status_changed",
                    subject,
                    changed: Some(status_change.clone()),
                    typing: None,
                });
                // The older names Chatwoot still sends to agent bots.
                let legacy = match after.as_str() {
                    Some("open") => Some("conversation_opened"),
                    Some("resolved") => Some("conversation_resolved"),
                    _ => None,
                };
                if let Some(name) = legacy {
                    events.push(Planned {
                        name,
                        subject,
                        changed: None,
                        typing: None,
                    });
                }
            }
            events.push(Planned {
                name: "conversation_updated",
                subject,
                changed: Some(as_list(&changed)),
                typing: None,
            });
        }
        Subject::Message(_) | Subject::Contact(_) | Subject::Inbox(_) => {
            if changed.iter().all(|(key, _, _)| key == "updated_at") {
                return Ok(events);
            }
            let name = match subject {
                Subject::Message(_) => "message_updated",
                Subject::Contact(_) => "contact_updated",
                _ => "inbox_updated",
            };
            events.push(Planned {
                name,
                subject,
                changed: Some(as_list(&changed)),
                typing: None,
            });
        }
    }
    Ok(events)
}

/// Where an event happened: its account, inbox and conversation, for routing and ordering.
pub(super) struct Place {
    pub account_id: i64,
    pub inbox_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub message_id: Option<i64>,
}

pub(super) fn place(conn: &Conn, subject: Subject) -> StoreResult<Option<Place>> {
    Ok(match subject {
        Subject::Conversation(id) => {
            event_outbox::conversation_place(conn, id)?.map(|(account_id, inbox_id)| Place {
                account_id,
                inbox_id: Some(inbox_id),
                conversation_id: Some(id),
                message_id: None,
            })
        }
        Subject::Message(id) => {
            event_outbox::message_place(conn, id)?.map(|(account_id, inbox_id, conversation_id)| {
                Place {
                    account_id,
                    inbox_id: Some(inbox_id),
                    conversation_id: Some(conversation_id),
                    message_id: Some(id),
                }
            })
        }
        Subject::Contact(id) => event_outbox::contact_account(conn, id)?.map(|account_id| Place {
            account_id,
            inbox_id: None,
            conversation_id: None,
            message_id: None,
        }),
        Subject::Inbox(id) => event_outbox::inbox_account(conn, id)?.map(|account_id| Place {
            account_id,
            inbox_id: Some(id),
            conversation_id: None,
            message_id: None,
        }),
    })
}

/// Each account's webhooks, read once per transaction.
#[derive(Default)]
struct Routes {
    subscribers: HashMap<i64, Vec<Subscriber>>,
}

/// Events an API inbox's `webhook_url` receives: every webhook event about its conversations.
fn inbox_receives(name: &str) -> bool {
    super::is_webhook_event(name)
        && (name.starts_with("conversation_") || name.starts_with("message_"))
}

/// Events an agent bot receives (reference §7).
fn bot_receives(name: &str) -> bool {
    matches!(
        name,
        "message_created"
            | "message_updated"
            | "conversation_opened"
            | "conversation_resolved"
            | "conversation_status_changed"
            | "conversation_updated"
    )
}

fn targets(
    conn: &Conn,
    routes: &mut Routes,
    name: &str,
    place: &Place,
) -> StoreResult<Vec<(TargetKind, i64)>> {
    let mut targets = Vec::new();
    if super::is_webhook_event(name) {
        let subscribers = match routes.subscribers.entry(place.account_id) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(unknown) => {
                unknown.insert(event_outbox::subscribers(conn, place.account_id)?)
            }
        };
        for webhook in subscribers.iter() {
            let in_scope = match (webhook.inbox_id, place.inbox_id, place.conversation_id) {
                // A webhook that names an inbox hears about that inbox's conversations only;
                // contacts and inboxes belong to the whole account.
                (Some(only), Some(inbox), Some(_)) => only == inbox,
                _ => true,
            };
            if in_scope && webhook.subscriptions.iter().any(|s| s == name) {
                targets.push((TargetKind::Webhook, webhook.id));
            }
        }
    }
    if let (Some(inbox_id), Some(_)) = (place.inbox_id, place.conversation_id) {
        if inbox_receives(name) && event_outbox::inbox_has_webhook(conn, inbox_id)? {
            targets.push((TargetKind::ApiInbox, inbox_id));
        }
        if bot_receives(name) {
            if let Some(bot) = agent_bots::active_for_inbox(conn, inbox_id)? {
                targets.push((TargetKind::AgentBot, bot));
            }
        }
    }
    Ok(targets)
}

fn payload(conn: &Conn, loads: &mut Loads, planned: &Planned, links: &Links) -> StoreResult<Value> {
    match (planned.subject, planned.typing) {
        (Subject::Conversation(id), Some((user, private))) => {
            let data = loads.conversation(conn, id)?;
            payloads::typing(conn, links, data, user, private)
        }
        (subject, _) => Ok(payloads::webhook(loads.get(conn, subject)?, links)),
    }
}

fn ordering_key(planned: &Planned, place: &Place) -> String {
    match (place.conversation_id, planned.subject) {
        (Some(conversation), _) => format!("conversation:{conversation}"),
        (None, Subject::Contact(id)) => format!("contact:{id}"),
        (None, Subject::Inbox(id)) => format!("inbox:{id}"),
        (None, _) => "account".to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
fn write_event(
    conn: &Conn,
    routes: &mut Routes,
    loads: &mut Loads,
    built: &mut HashMap<Subject, Value>,
    planned: &Planned,
    place: &Place,
    actor: Option<Performer>,
    links: &Links,
    now: i64,
) -> StoreResult<()> {
    let targets = targets(conn, routes, planned.name, place)?;
    if targets.is_empty() {
        return Ok(());
    }
    // A status change makes up to three events of one conversation: its payload is built once.
    let mut body = match (planned.typing, built.get(&planned.subject)) {
        (None, Some(known)) => known.clone(),
        _ => {
            let fresh = payload(conn, loads, planned, links)?;
            if planned.typing.is_none() {
                built.insert(planned.subject, fresh.clone());
            }
            fresh
        }
    };
    if let Value::Object(map) = &mut body {
        if let Some(changed) = &planned.changed {
            map.insert("changed_attributes".into(), changed.clone());
        }
        map.insert("event".into(), json!(planned.name));
        map.insert(
            "performed_by".into(),
            actor.map_or(Value::Null, |a| json!({"type": a.kind(), "id": a.id()})),
        );
    }
    let text = body.to_string();
    let event_id = event_outbox::insert_event(
        conn,
        &NewEvent {
            account_id: place.account_id,
            name: planned.name,
            payload: &text,
            message_id: place.message_id,
            conversation_id: place.conversation_id,
        },
        now,
    )?;
    let key = ordering_key(planned, place);
    for target in targets {
        let delivery_id = uuid::Uuid::new_v4().to_string();
        event_outbox::insert_delivery(conn, event_id, target, &key, &delivery_id, now)?;
    }
    Ok(())
}
