//! The `/cable` side of each event (docs/actioncable.md §3): which broadcasts a planned event
//! makes, their `data`, and who receives them, resolved inside the transaction of the change and
//! noted with it. They are published once that transaction has committed, in commit order
//! (`realtime::attach`). An account nobody watches, on any node, costs next to nothing here.
//!
//! Audiences: the inbox's members and the account's administrators for everything about a
//! conversation; the contact for its own conversation's events, messages other than private
//! notes and activity, and typing that is not a private note (never its own); the account's
//! agents for contact news.

use std::collections::HashMap;

use crate::db::Conn;
use serde_json::Value;

use super::payloads::{self, Loaded, Loads, Subject, TypingUser};
use super::record::{Place, Planned};
use crate::models::{MessageType, Performer};
use crate::realtime::hub::{Hub, Stream};
use crate::store::{agents, cable_outbox, cable_watch, event_data, realtime, StoreResult};
use crate::views::cable as view;
use crate::views::conversations::Links;

/// Audiences read once per transaction.
#[derive(Default)]
struct Audiences {
    inboxes: HashMap<i64, Vec<Stream>>,
    contacts: HashMap<i64, Vec<Stream>>,
}

impl Audiences {
    fn agents(&mut self, conn: &Conn, place: &Place) -> StoreResult<Vec<Stream>> {
        let Some(inbox_id) = place.inbox_id else {
            return Ok(Vec::new());
        };
        if let Some(known) = self.inboxes.get(&inbox_id) {
            return Ok(known.clone());
        }
        let account_id = place.account_id;
        let streams: Vec<Stream> = realtime::inbox_watchers(conn, account_id, inbox_id)?
            .into_iter()
            .map(|user_id| Stream::Agent {
                account_id,
                user_id,
            })
            .collect();
        self.inboxes.insert(inbox_id, streams.clone());
        Ok(streams)
    }

    fn contact(&mut self, conn: &Conn, conversation_id: i64) -> StoreResult<Vec<Stream>> {
        if let Some(known) = self.contacts.get(&conversation_id) {
            return Ok(known.clone());
        }
        let streams: Vec<Stream> = realtime::conversation_contact_inboxes(conn, conversation_id)?
            .into_iter()
            .map(Stream::Contact)
            .collect();
        self.contacts.insert(conversation_id, streams.clone());
        Ok(streams)
    }
}

/// What one transaction's recording needs to build its broadcasts.
struct Builder<'a> {
    conn: &'a Conn<'a>,
    links: &'a Links,
    actor: Option<Performer>,
    /// The actor's push object, read on first use: `None` not read yet.
    performer: Option<Option<Value>>,
    audiences: Audiences,
}

/// Notes the broadcasts of `planned` (in its order) for publication after the commit.
#[allow(clippy::too_many_arguments)]
pub(super) fn note(
    conn: &Conn,
    hub: &Hub,
    planned: &[Planned],
    places: &[Option<Place>],
    loads: &mut Loads,
    actor: Option<Performer>,
    links: &Links,
) -> StoreResult<()> {
    let mut builder = Builder {
        conn,
        links,
        actor,
        performer: None,
        audiences: Audiences::default(),
    };
    let mut watched = HashMap::new();
    for (event, place) in planned.iter().zip(places) {
        let Some(place) = place else {
            continue;
        };
        if !watched_anywhere(conn, hub, place.account_id, &mut watched)? {
            continue;
        }
        builder.event(loads, event, place)?;
    }
    Ok(())
}

/// Whether some subscriber may hear of a change in the account: one of this node's, or, where
/// nodes share a database, one that another node has said it has (`realtime::watching`).
fn watched_anywhere(
    conn: &Conn,
    hub: &Hub,
    account_id: i64,
    known: &mut HashMap<i64, bool>,
) -> StoreResult<bool> {
    if hub.watches(account_id) {
        return Ok(true);
    }
    if !conn.is_postgres() {
        return Ok(false);
    }
    if let Some(&watched) = known.get(&account_id) {
        return Ok(watched);
    }
    let watched = cable_watch::watched(conn, account_id)?;
    known.insert(account_id, watched);
    Ok(watched)
}

fn send(conn: &Conn, event: &str, data: &Value, streams: &[Stream]) -> StoreResult<()> {
    if streams.is_empty() {
        return Ok(());
    }
    let streams = serde_json::to_string(streams).unwrap_or_else(|_| "[]".into());
    cable_outbox::note(conn, event, &data.to_string(), &streams)
}

/// The names the webhook `conversation_updated` becomes: the agents-only `assignee.changed`
/// and `team.changed` when those columns changed, then `conversation.updated`.
fn conversation_updated_names(changed: Option<&Value>) -> Vec<(&'static str, bool)> {
    let has = |column: &str| {
        changed
            .and_then(Value::as_array)
            .is_some_and(|list| list.iter().any(|c| c.get(column).is_some()))
    };
    let mut names = Vec::new();
    if has("assignee_id") {
        names.push(("assignee.changed", false));
    }
    if has("team_id") {
        names.push(("team.changed", false));
    }
    names.push(("conversation.updated", true));
    names
}

impl Builder<'_> {
    /// The push object of whoever made this change through the API (a contact is no performer).
    fn performer(&mut self, account_id: i64) -> StoreResult<Option<Value>> {
        if let Some(known) = &self.performer {
            return Ok(known.clone());
        }
        let found = match self.actor {
            Some(Performer::User(id)) => {
                agents::find(self.conn, account_id, id)?.map(|user| view::user(&user))
            }
            Some(Performer::Bot(id)) => {
                event_data::agent_bot(self.conn, id).map(|bot| view::agent_bot(&bot))
            }
            Some(Performer::Contact(_)) | None => None,
        };
        self.performer = Some(found.clone());
        Ok(found)
    }

    fn event(&mut self, loads: &mut Loads, event: &Planned, place: &Place) -> StoreResult<()> {
        match (event.subject, event.typing) {
            (Subject::Conversation(id), Some((user, private))) => {
                self.typing(loads, event.name, id, user, private, place)
            }
            (Subject::Conversation(id), None) => {
                let names: Vec<(&str, bool)> = match event.name {
                    "conversation_created" => vec![("conversation.created", true)],
                    "conversation_status_changed" => vec![("conversation.status_changed", true)],
                    "conversation_updated" => conversation_updated_names(event.changed.as_ref()),
                    "conversation_read" => vec![("conversation.read", false)],
                    _ => Vec::new(),
                };
                if names.is_empty() {
                    return Ok(());
                }
                let full = view::conversation(loads.conversation(self.conn, id)?, self.links);
                self.conversation(&names, id, &full, place)
            }
            (Subject::Message(id), _) => {
                let (name, created) = match event.name {
                    "message_created" | "activity_created" => ("message.created", true),
                    "message_updated" => ("message.updated", false),
                    _ => return Ok(()),
                };
                let Loaded::Message(loaded) = loads.get(self.conn, Subject::Message(id))? else {
                    return Ok(());
                };
                let mut data =
                    view::message(&loaded.details, &loaded.conversation, self.links, created);
                if let Some(changed) = &event.changed {
                    data["previous_changes"] = view::previous_changes(changed);
                }
                let m = &loaded.details.message;
                let contact_sees = !m.private && m.message_type != MessageType::Activity;
                let conversation_id = m.conversation_id;
                let performer = self.performer(place.account_id)?;
                let agents = self.audiences.agents(self.conn, place)?;
                send(
                    self.conn,
                    name,
                    &view::with_performer(data.clone(), performer.as_ref()),
                    &agents,
                )?;
                if contact_sees {
                    let contact = self.audiences.contact(self.conn, conversation_id)?;
                    send(self.conn, name, &data, &contact)?;
                }
                Ok(())
            }
            (Subject::Contact(id), _) => {
                let name = match event.name {
                    "contact_created" => "contact.created",
                    "contact_updated" => "contact.updated",
                    _ => return Ok(()),
                };
                let Loaded::Contact(found) = loads.get(self.conn, Subject::Contact(id))? else {
                    return Ok(());
                };
                let data = view::contact(&found.0);
                let performer = self.performer(place.account_id)?;
                let data = view::with_performer(data, performer.as_ref());
                send(self.conn, name, &data, &[Stream::Account(place.account_id)])
            }
            // Inbox changes are not broadcast (Chatwoot's dashboard refetches its lists).
            (Subject::Inbox(_), _) => Ok(()),
        }
    }

    fn conversation(
        &mut self,
        names: &[(&str, bool)],
        conversation_id: i64,
        full: &Value,
        place: &Place,
    ) -> StoreResult<()> {
        let performer = self.performer(place.account_id)?;
        let for_agents = view::with_performer(full.clone(), performer.as_ref());
        let agents = self.audiences.agents(self.conn, place)?;
        for (name, contact_too) in names {
            send(self.conn, name, &for_agents, &agents)?;
            if *contact_too {
                let contact = self.audiences.contact(self.conn, conversation_id)?;
                send(
                    self.conn,
                    name,
                    &view::conversation_for_contact(full),
                    &contact,
                )?;
            }
        }
        Ok(())
    }

    /// Typing goes to the inbox's agents and the conversation's own contact, never back to the
    /// one typing; a private note's typing stays with the agents.
    fn typing(
        &mut self,
        loads: &mut Loads,
        name: &str,
        conversation_id: i64,
        user: TypingUser,
        private: bool,
        place: &Place,
    ) -> StoreResult<()> {
        let name = if name == "conversation_typing_on" {
            "conversation.typing_on"
        } else {
            "conversation.typing_off"
        };
        let data = loads.conversation(self.conn, conversation_id)?;
        let full = view::conversation(data, self.links);
        let actor = match user {
            TypingUser::Agent(id) => {
                agents::find(self.conn, place.account_id, id)?.map(|a| view::user(&a))
            }
            TypingUser::Contact(id) => {
                payloads::typing_contact(self.conn, data, id)?.map(|c| view::contact_actor(&c))
            }
            TypingUser::Bot(id) => {
                event_data::agent_bot(self.conn, id).map(|bot| view::agent_bot(&bot))
            }
        }
        .unwrap_or(Value::Null);
        let mut agents = self.audiences.agents(self.conn, place)?;
        if let TypingUser::Agent(id) = user {
            agents.retain(|s| {
                *s != Stream::Agent {
                    account_id: place.account_id,
                    user_id: id,
                }
            });
        }
        let for_agents = view::typing(full.clone(), actor.clone(), private, place.account_id);
        send(self.conn, name, &for_agents, &agents)?;
        let typed_by_contact = matches!(user, TypingUser::Contact(_));
        if private || typed_by_contact {
            return Ok(());
        }
        let own = realtime::conversation_contact_inbox(self.conn, conversation_id)?;
        let contact: Vec<Stream> = own.into_iter().map(Stream::Contact).collect();
        let for_contact = view::typing(
            view::conversation_for_contact(&full),
            actor,
            private,
            place.account_id,
        );
        send(self.conn, name, &for_contact, &contact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_assignment_is_told_to_agents_as_assignee_changed_before_the_update() {
        let changed = json!([{"assignee_id": {"previous_value": null, "current_value": 3}},
                             {"team_id": {"previous_value": null, "current_value": 1}}]);
        assert_eq!(
            conversation_updated_names(Some(&changed)),
            [
                ("assignee.changed", false),
                ("team.changed", false),
                ("conversation.updated", true)
            ]
        );
        let labels = json!([{"label_list": {"previous_value": [], "current_value": ["a"]}}]);
        assert_eq!(
            conversation_updated_names(Some(&labels)),
            [("conversation.updated", true)]
        );
    }
}
