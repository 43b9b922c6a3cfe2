//! The details of a page of conversations (`details::conversation` for each), read with one
//! statement per kind of row rather than a dozen per conversation: the page's contacts,
//! assignees, teams, channels, contact inboxes, labels, latest messages, unread counts, and the
//! messages' attachments and senders.

use std::collections::HashMap;

use crate::db::Conn;

use super::catalog::CatalogView;
use super::contacts::{self, Contact};
use super::conversations::{self, Conversation};
use super::details::{self, ConversationDetails, MessageDetails, Sender};
use super::event_data::AgentBot;
use super::messages::{self, Attachment, Message};
use super::teams::Team;
use super::{agent_bots, agents, StoreError, StoreResult};
use crate::models::Agent;

/// Every conversation's details, in the order given, as `details::conversation` reads them.
pub fn load(
    conn: &Conn,
    catalog: &CatalogView,
    list: Vec<Conversation>,
    viewer: Option<i64>,
) -> StoreResult<Vec<ConversationDetails>> {
    load_showing(conn, catalog, list, viewer, &HashMap::new())
}

/// `load`, where a conversation in `showing` (conversation id to message id: a search's newest
/// match) shows that message as its latest. One deleted since keeps the newest.
pub fn load_showing(
    conn: &Conn,
    catalog: &CatalogView,
    list: Vec<Conversation>,
    viewer: Option<i64>,
    showing: &HashMap<i64, i64>,
) -> StoreResult<Vec<ConversationDetails>> {
    let Some(account_id) = one_account(&list) else {
        // Pages belong to one account; anything else is read one conversation at a time.
        return list
            .into_iter()
            .map(|c| {
                let shown = showing.get(&c.id).copied();
                let mut found = details::conversation(conn, catalog, c, viewer)?;
                if let Some(message_id) = shown {
                    details::show_message(conn, &mut found, message_id)?;
                }
                Ok(found)
            })
            .collect();
    };
    let rows = PageRows::load(conn, catalog, account_id, &list, viewer, showing)?;
    list.into_iter().map(|c| rows.details(c)).collect()
}

/// `details::message` for each, in the order given, reading their senders and attachments
/// once per kind.
pub fn messages(conn: &Conn, list: Vec<Message>) -> StoreResult<Vec<MessageDetails>> {
    let Some(account_id) = list.first().map(|m| m.account_id) else {
        return Ok(Vec::new());
    };
    if list.iter().any(|m| m.account_id != account_id) {
        return list
            .into_iter()
            .map(|m| details::message(conn, m))
            .collect();
    }
    let shown: Vec<&Message> = list.iter().collect();
    let senders = Senders::load(conn, account_id, &shown, std::iter::empty())?;
    Ok(list.into_iter().map(|m| senders.message(m)).collect())
}

/// The account all the conversations belong to (None for an empty or mixed list).
fn one_account(list: &[Conversation]) -> Option<i64> {
    let first = list.first()?.account_id;
    list.iter().all(|c| c.account_id == first).then_some(first)
}

/// What the page's conversations refer to, keyed by id.
struct PageRows {
    assignees: HashMap<i64, Agent>,
    teams: HashMap<i64, Team>,
    channel_types: HashMap<i64, String>,
    contact_inboxes: HashMap<i64, (String, bool)>,
    labels: HashMap<i64, Vec<String>>,
    latest: HashMap<i64, messages::Latest>,
    /// The messages shown in place of the latest, by conversation id.
    shown: HashMap<i64, Message>,
    unread: HashMap<i64, i64>,
    senders: Senders,
}

impl PageRows {
    fn load(
        conn: &Conn,
        catalog: &CatalogView,
        account_id: i64,
        list: &[Conversation],
        viewer: Option<i64>,
        showing: &HashMap<i64, i64>,
    ) -> StoreResult<Self> {
        let ids = || list.iter().map(|c| c.id);
        let latest = messages::latest_of(conn, ids())?;
        let shown: HashMap<i64, Message> = if showing.is_empty() {
            HashMap::new()
        } else {
            let wanted = ids().filter_map(|id| showing.get(&id).copied());
            messages::by_ids(conn, wanted)?
                .into_iter()
                .filter(|m| showing.get(&m.conversation_id) == Some(&m.id))
                .map(|m| (m.conversation_id, m))
                .collect()
        };
        let rendered: Vec<&Message> = latest
            .values()
            .flat_map(|(newest, other)| newest.iter().chain(other.iter()))
            .chain(shown.values())
            .collect();
        let contact_ids = list.iter().map(|c| c.contact_id);
        let senders = Senders::load(conn, account_id, &rendered, contact_ids)?;
        Ok(Self {
            assignees: catalog.agents(
                conn,
                account_id,
                list.iter().filter_map(|c| c.assignee_id),
            )?,
            teams: catalog.teams(
                conn,
                account_id,
                list.iter().filter_map(|c| c.team_id),
                viewer,
            )?,
            channel_types: catalog.channel_types(conn, list.iter().map(|c| c.inbox_id))?,
            contact_inboxes: contacts::inbox_sources(
                conn,
                list.iter().filter_map(|c| c.contact_inbox_id),
            )?,
            labels: conversations::labels_of(conn, ids())?,
            unread: messages::unread_counts(conn, ids())?,
            latest,
            shown,
            senders,
        })
    }

    fn details(&self, conversation: Conversation) -> StoreResult<ConversationDetails> {
        let account_id = conversation.account_id;
        let contact = self
            .senders
            .contacts
            .get(&conversation.contact_id)
            .filter(|c| c.account_id == account_id)
            .cloned()
            .ok_or(StoreError::NotFound)?;
        let team = match conversation.team_id {
            Some(id) => Some(self.teams.get(&id).cloned().ok_or(StoreError::NotFound)?),
            None => None,
        };
        let channel_type = self
            .channel_types
            .get(&conversation.inbox_id)
            .cloned()
            .ok_or(StoreError::NotFound)?;
        let (last, last_non_activity) = self
            .latest
            .get(&conversation.id)
            .cloned()
            .unwrap_or_default();
        Ok(ConversationDetails {
            contact,
            assignee: conversation
                .assignee_id
                .and_then(|id| self.assignees.get(&id).cloned()),
            team,
            channel_type,
            contact_inbox: conversation
                .contact_inbox_id
                .and_then(|id| self.contact_inboxes.get(&id).cloned()),
            labels: self
                .labels
                .get(&conversation.id)
                .cloned()
                .unwrap_or_default(),
            last_message: self
                .shown
                .get(&conversation.id)
                .cloned()
                .or(last)
                .map(|m| self.senders.message(m)),
            last_non_activity_message: last_non_activity.map(|m| self.senders.message(m)),
            unread_count: self.unread.get(&conversation.id).copied().unwrap_or(0),
            conversation,
        })
    }
}

/// The senders and attachments of the page's messages, and the conversations' contacts (read
/// in the same statement as the contacts who sent messages).
struct Senders {
    contacts: HashMap<i64, Contact>,
    users: HashMap<i64, Agent>,
    bots: HashMap<i64, String>,
    attachments: HashMap<i64, Vec<Attachment>>,
}

impl Senders {
    fn load(
        conn: &Conn,
        account_id: i64,
        shown: &[&Message],
        conversation_contacts: impl Iterator<Item = i64>,
    ) -> StoreResult<Self> {
        let of_type = |kind: &'static str| {
            shown
                .iter()
                .filter(move |m| m.sender_type.as_deref() == Some(kind))
                .filter_map(|m| m.sender_id)
        };
        let contact_ids = of_type("Contact").chain(conversation_contacts);
        Ok(Self {
            contacts: contacts::by_ids(conn, contact_ids)?,
            users: agents::users(conn, of_type("User"), account_id)?,
            bots: agent_bots::names(conn, of_type("AgentBot"))?,
            attachments: messages::attachments_of_many(conn, shown.iter().map(|m| m.id))?,
        })
    }

    /// `details::message`, from what was read.
    fn message(&self, message: Message) -> MessageDetails {
        let sender = match (message.sender_type.as_deref(), message.sender_id) {
            (Some("Contact"), Some(id)) => self
                .contacts
                .get(&id)
                .filter(|c| c.account_id == message.account_id)
                .cloned()
                .map(Sender::Contact),
            (Some("User"), Some(id)) => self.users.get(&id).cloned().map(Sender::User),
            (Some("AgentBot"), Some(id)) => self.bots.get(&id).map(|name| {
                Sender::AgentBot(AgentBot {
                    id,
                    name: name.clone(),
                })
            }),
            _ => None,
        };
        let attachments = self
            .attachments
            .get(&message.id)
            .cloned()
            .unwrap_or_default();
        MessageDetails {
            message,
            sender,
            attachments,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::db::{Conn, OptionalExtension};
    use serde_json::{json, Value};

    use super::*;
    use crate::corpus::{self, Spec};
    use crate::db::{Db, PoolSizes};
    use crate::models::{BotType, FileType, MessageType};
    use crate::store::agent_bots::AgentBotFields;
    use crate::store::catalog::Catalog;
    use crate::store::fixtures::{self, ConversationPins};
    use crate::store::messages::{NewAttachment, NewMessage};
    use crate::views::conversations::{self as views, Links};

    const END: i64 = 1_700_000_000_000_000;

    /// A generated account (teams, labels, assignees, activity messages, private notes), with
    /// conversations that have no messages, a contact without an email, bot and user senders,
    /// attachments, an activity message and a private note as the newest message, and agents
    /// who have seen some conversations.
    fn varied_db(dir: &std::path::Path) -> Db {
        let db = Db::open(&dir.join("db.sqlite3"), PoolSizes::SMALL).unwrap();
        corpus::generate(&db, &Spec::new(120, 7, END), &mut |_, _| {}).unwrap();
        for _ in 0..3 {
            corpus::add_conversation(&db, END).unwrap();
        }
        db.write_now(|tx| {
            let bot = agent_bots::create(tx, 1, &bot_fields(), "bot-token", "bot-secret", END)?;
            post(tx, 1, MessageType::Outgoing, false, Some(("AgentBot", bot)))?;
            post(tx, 2, MessageType::Outgoing, false, Some(("User", 3)))?;
            post(tx, 3, MessageType::Activity, false, None)?;
            post(tx, 4, MessageType::Outgoing, true, Some(("User", 2)))?;
            let with_files = post(tx, 5, MessageType::Incoming, false, None)?;
            attach(tx, with_files, 2)?;
            let with_file = post(tx, 6, MessageType::Outgoing, false, Some(("User", 1)))?;
            attach(tx, with_file, 1)?;
            for id in 7..40 {
                let seen = Some(Some(END - (id % 5) * 86_400_000_000 * 30));
                let pins = ConversationPins {
                    agent_last_seen_at: seen,
                    ..Default::default()
                };
                fixtures::pin_conversation(tx, id, &pins)?;
            }
            Ok(())
        })
        .unwrap();
        db
    }

    fn bot_fields() -> AgentBotFields {
        AgentBotFields {
            name: "Helper".into(),
            description: None,
            outgoing_url: None,
            bot_type: BotType::Webhook,
            bot_config: json!({}),
        }
    }

    /// A new newest message in conversation `id`.
    fn post(
        tx: &Conn,
        id: i64,
        kind: MessageType,
        private: bool,
        sender: Option<(&'static str, i64)>,
    ) -> StoreResult<i64> {
        let c = conversations::get_by_id(tx, id)?;
        let mut message = NewMessage::text(kind, "a newest message", sender);
        message.private = private;
        messages::insert(tx, 1, c.inbox_id, id, &message, END + id)
    }

    fn attach(tx: &Conn, message_id: i64, files: usize) -> StoreResult<()> {
        for n in 0..files {
            let file = NewAttachment {
                file_type: FileType::Image,
                file_name: format!("photo{n}.png"),
                mime_type: "image/png".into(),
                extension: Some("png".into()),
                file_size: 100,
                storage_key: format!("{n:032x}/photo{n}.png"),
            };
            messages::insert_attachment(tx, 1, message_id, &file, END)?;
        }
        Ok(())
    }

    fn all_conversations(conn: &Conn) -> Vec<Conversation> {
        let ids: Vec<i64> =
            super::super::column(conn, "SELECT id FROM conversations ORDER BY id", []).unwrap();
        ids.into_iter()
            .map(|id| conversations::get_by_id(conn, id).unwrap())
            .collect()
    }

    /// Every conversation's JSON from a batched page equals its JSON read on its own, for
    /// the administrator and for an agent who is in some teams and not others.
    #[test]
    fn a_batched_page_renders_every_conversation_as_read_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = varied_db(dir.path());
        let links = Links {
            base_url: "http://localhost:3000".into(),
        };
        let render = |d: &ConversationDetails| -> Value {
            serde_json::from_str(views::conversation(d, &links).get()).unwrap()
        };
        // Each side keeps its own catalog: the first viewer's pages read it cold, the later
        // ones from what it kept.
        let batched_catalog = Catalog::new(db.directory()).view();
        let single_catalog = Catalog::new(db.directory()).view();
        db.read_snapshot(|conn| {
            let all = all_conversations(conn);
            assert_eq!(all.len(), 123);
            let showing = shown_messages(conn, &all);
            for (viewer, showing) in [
                (Some(1), HashMap::new()),
                (Some(2), HashMap::new()),
                (None, HashMap::new()),
                (Some(1), showing),
            ] {
                for page in all.chunks(25) {
                    let batched: Vec<Value> = details::conversations_showing(
                        conn,
                        &batched_catalog,
                        page.to_vec(),
                        viewer,
                        &showing,
                    )?
                    .iter()
                    .map(render)
                    .collect();
                    let one_by_one: Vec<Value> = page
                        .iter()
                        .map(|c| {
                            let mut found =
                                details::conversation(conn, &single_catalog, c.clone(), viewer)?;
                            if let Some(&message_id) = showing.get(&c.id) {
                                details::show_message(conn, &mut found, message_id)?;
                            }
                            Ok(render(&found))
                        })
                        .collect::<StoreResult<_>>()?;
                    assert_eq!(batched.len(), page.len());
                    for (found, expected) in batched.iter().zip(&one_by_one) {
                        assert_eq!(found, expected, "conversation {}", expected["id"]);
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    }

    /// A page of messages read with their senders and attachments batched gives the JSON of
    /// each message read on its own.
    #[test]
    fn a_batch_of_messages_renders_as_read_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = varied_db(dir.path());
        let links = Links {
            base_url: "http://localhost:3000".into(),
        };
        let render = |list: Vec<MessageDetails>| -> Vec<Value> {
            list.iter().map(|m| views::message(m, &links)).collect()
        };
        db.read_snapshot(|conn| {
            let mut compared = 0;
            for c in all_conversations(conn) {
                let window = messages::Window::Between(i64::MIN, i64::MAX);
                let all = messages::page(conn, c.id, window, true)?;
                compared += all.len();
                let one_by_one = all
                    .iter()
                    .map(|m| details::message(conn, m.clone()))
                    .collect::<StoreResult<Vec<_>>>()?;
                assert_eq!(
                    render(messages(conn, all)?),
                    render(one_by_one),
                    "conversation {}",
                    c.id
                );
            }
            assert!(compared > 500, "{compared} messages");
            Ok(())
        })
        .unwrap();
    }

    /// What a search could show instead of the newest message: the oldest message of every
    /// other conversation, and for every seventh one a message of another conversation or one
    /// that is gone (both leave the newest shown).
    fn shown_messages(conn: &Conn, all: &[Conversation]) -> HashMap<i64, i64> {
        let first_and_last = |id: i64| -> (Option<i64>, Option<i64>) {
            conn.query_row(
                "SELECT min(id), max(id) FROM messages WHERE conversation_id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap()
        };
        let oldest = |id: i64| first_and_last(id).0;
        let mut showing = HashMap::new();
        for (n, c) in all.iter().enumerate() {
            let message = match n % 7 {
                0 => Some(i64::MAX),
                3 => all.get(n + 1).and_then(|next| oldest(next.id)),
                _ if n % 2 == 0 => oldest(c.id),
                _ => None,
            };
            if let Some(message) = message {
                showing.insert(c.id, message);
            }
        }
        let differs = all
            .iter()
            .filter(|c| {
                let (first, last) = first_and_last(c.id);
                first != last && showing.get(&c.id).copied() == first
            })
            .count();
        assert!(
            differs > 20,
            "{differs} conversations show an older message"
        );
        showing
    }

    /// The dataset the comparison runs on has every case the batch handles.
    #[test]
    fn the_varied_dataset_has_every_case() {
        let dir = tempfile::tempdir().unwrap();
        let db = varied_db(dir.path());
        let found = db
            .read_snapshot(|conn| {
                let catalog = Catalog::new(db.directory()).view();
                details::conversations(conn, &catalog, all_conversations(conn), Some(1))
            })
            .unwrap();
        let any = |test: &dyn Fn(&ConversationDetails) -> bool| found.iter().any(test);
        let sender = |d: &ConversationDetails| {
            d.last_non_activity_message
                .as_ref()
                .and_then(|m| m.sender.clone())
        };
        assert!(any(&|d| d.last_message.is_none()));
        assert!(any(&|d| d.contact.email.is_none()));
        assert!(any(&|d| d.contact.email.is_some()));
        assert!(any(&|d| d.assignee.is_some()));
        assert!(any(&|d| d.conversation.assignee_id.is_none()));
        assert!(any(&|d| d.team.as_ref().is_some_and(|t| t.is_member)));
        assert!(any(&|d| d.team.as_ref().is_some_and(|t| !t.is_member)));
        assert!(any(&|d| d.labels.len() > 1));
        assert!(any(&|d| d.labels.is_empty()));
        assert!(any(&|d| d.contact_inbox.is_some()));
        assert!(any(&|d| d.unread_count > 0 && d.unread_count < 10));
        assert!(any(&|d| d.unread_count == 10));
        assert!(any(&|d| d
            .last_message
            .as_ref()
            .is_some_and(
                |m| m.message.message_type == MessageType::Activity
            )));
        assert!(any(&|d| d
            .last_message
            .as_ref()
            .is_some_and(|m| m.message.private)));
        assert!(any(&|d| d
            .last_message
            .as_ref()
            .is_some_and(|m| m.attachments.len() == 2)));
        assert!(any(&|d| matches!(sender(d), Some(Sender::AgentBot(_)))));
        assert!(any(&|d| matches!(sender(d), Some(Sender::User(_)))));
        assert!(any(&|d| matches!(sender(d), Some(Sender::Contact(_)))));
    }

    /// The latest messages of a page are found from the messages index alone: no scan, no sort,
    /// no message row read but those picked.
    #[test]
    fn latest_messages_are_read_from_the_messages_index() {
        let dir = tempfile::tempdir().unwrap();
        let db = varied_db(dir.path());
        let plan = db
            .read_snapshot(|conn| {
                let sql = format!("EXPLAIN QUERY PLAN {}", messages::LATEST_OF.sqlite);
                let mut stmt = conn.prepare(&sql)?;
                let ids = super::super::id_array([1, 2, 3]);
                let rows = stmt.query_map([&ids], |row| row.get::<String>(3))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?.join("\n"))
            })
            .unwrap();
        assert!(
            plan.contains(
                "USING COVERING INDEX messages_by_conversation_type (conversation_id=? AND message_type=?)"
            ),
            "{plan}"
        );
        assert!(
            plan.contains(
                "SEARCH m USING COVERING INDEX messages_by_conversation_type (conversation_id=? AND message_type=? AND created_at=?)"
            ),
            "{plan}"
        );
        assert!(!plan.contains("SCAN m"), "{plan}");
        assert!(!plan.contains("SCAN messages"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }

    /// What `latest` picks from the index equals sorting each conversation's messages.
    #[test]
    fn the_latest_messages_are_the_newest_by_time_then_id() {
        let dir = tempfile::tempdir().unwrap();
        let db = varied_db(dir.path());
        db.read_snapshot(|conn| {
            let ids: Vec<i64> = conn
                .prepare("SELECT id FROM conversations ORDER BY id")?
                .query_map([], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            let mut newest_sorted = conn.prepare(
                "SELECT id FROM messages WHERE conversation_id = ?1 AND (?2 = 0 OR message_type != 2)
                  ORDER BY created_at DESC, id DESC LIMIT 1",
            )?;
            let mut sorted = |id: i64, skip_activity: bool| -> crate::db::SqlResult<Option<i64>> {
                newest_sorted
                    .query_row(crate::params![id, skip_activity], |row| row.get(0))
                    .optional()
            };
            let mut activity_newest = 0;
            for id in ids {
                let (newest, non_activity) = messages::latest(conn, id)?;
                assert_eq!(newest.as_ref().map(|m| m.id), sorted(id, false)?, "{id}");
                assert_eq!(non_activity.map(|m| m.id), sorted(id, true)?, "{id}");
                if newest.is_some_and(|m| m.message_type == MessageType::Activity) {
                    activity_newest += 1;
                }
            }
            assert!(activity_newest > 0, "no conversation ends with an activity message");
            Ok(())
        })
        .unwrap();
    }
}
