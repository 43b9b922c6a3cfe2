//! What event payloads show beyond what the API's reads load: the account, the whole contact
//! inbox row, the conversation's latest public message, agent bot names. Payloads are built in
//! the writer's transaction for every change that has a subscriber, so every statement is cached
//! and each related row is read once per payload.

use crate::db::{Conn, OptionalExtension};

use super::contacts::{self, Contact};
use super::conversations::{self, Conversation};
use super::details::{self, MessageDetails, Sender};
use super::messages;
use super::teams::{self, Team};
use super::{agents, StoreResult};
use crate::models::Agent;

/// An account as events name it (`Account#webhook_data`).
#[derive(Clone, Debug)]
pub struct Account {
    pub id: i64,
    pub name: String,
}

pub fn account(conn: &Conn, account_id: i64) -> StoreResult<Account> {
    Ok(conn
        .prepare_cached("SELECT id, name FROM accounts WHERE id = ?1")?
        .query_row([account_id], |row| {
            Ok(Account {
                id: row.get(0)?,
                name: row.get(1)?,
            })
        })?)
}

/// The few inbox columns a conversation or message event shows.
#[derive(Clone, Debug)]
pub struct InboxSummary {
    pub id: i64,
    pub name: String,
    pub channel_type: String,
}

pub fn inbox_summary(conn: &Conn, inbox_id: i64) -> StoreResult<InboxSummary> {
    Ok(conn
        .prepare_cached("SELECT id, name, channel_type FROM inboxes WHERE id = ?1")?
        .query_row([inbox_id], |row| {
            Ok(InboxSummary {
                id: row.get(0)?,
                name: row.get(1)?,
                channel_type: row.get(2)?,
            })
        })?)
}

/// A contact inbox row as Chatwoot serialises the record. Its pubsub token is not read: it is
/// the contact's credential for live updates and has no place in an event.
#[derive(Clone, Debug)]
pub struct ContactInboxRow {
    pub id: i64,
    pub contact_id: i64,
    pub inbox_id: i64,
    pub source_id: String,
    pub hmac_verified: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

fn contact_inbox(conn: &Conn, id: i64) -> StoreResult<Option<ContactInboxRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, contact_id, inbox_id, source_id, hmac_verified, created_at, updated_at
               FROM contact_inboxes WHERE id = ?1",
        )?
        .query_row([id], |row| {
            Ok(ContactInboxRow {
                id: row.get(0)?,
                contact_id: row.get(1)?,
                inbox_id: row.get(2)?,
                source_id: row.get(3)?,
                hmac_verified: row.get(4)?,
                created_at: row.get(5)?,
                updated_at: row.get(6)?,
            })
        })
        .optional()?)
}

/// An agent bot as a message sender or typing actor.
#[derive(Clone, Debug)]
pub struct AgentBot {
    pub id: i64,
    pub name: String,
}

/// The agent bot with this id; one that is gone reads as no bot, and the message then renders
/// with a null sender, as Chatwoot's does for a sender that is gone.
pub fn agent_bot(conn: &Conn, bot_id: i64) -> Option<AgentBot> {
    let name = super::agent_bots::name(conn, bot_id).ok()?;
    Some(AgentBot { id: bot_id, name })
}

/// The id of the conversation's newest message in Chatwoot's `chat` scope: no activity messages,
/// no private notes. One index range per message type, each read newest first, so the cost does
/// not grow with the length of the conversation.
fn latest_chat_message_id(conn: &Conn, conversation_id: i64) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM (
                SELECT * FROM (SELECT id, created_at FROM messages
                                WHERE conversation_id = ?1 AND message_type = 0 AND private = 0
                                ORDER BY created_at DESC, id DESC LIMIT 1) AS incoming
                UNION ALL
                SELECT * FROM (SELECT id, created_at FROM messages
                                WHERE conversation_id = ?1 AND message_type = 1 AND private = 0
                                ORDER BY created_at DESC, id DESC LIMIT 1) AS outgoing
                UNION ALL
                SELECT * FROM (SELECT id, created_at FROM messages
                                WHERE conversation_id = ?1 AND message_type = 3 AND private = 0
                                ORDER BY created_at DESC, id DESC LIMIT 1) AS template) AS newest
              ORDER BY created_at DESC, id DESC LIMIT 1",
        )?
        .query_row([conversation_id], |row| row.get(0))
        .optional()?)
}

/// Everything the conversation object of an event shows.
#[derive(Clone, Debug)]
pub struct ConversationData {
    pub conversation: Conversation,
    pub account: Account,
    pub inbox: InboxSummary,
    pub contact: Contact,
    pub contact_inbox: Option<ContactInboxRow>,
    pub assignee: Option<Agent>,
    pub team: Option<Team>,
    pub labels: Vec<String>,
    /// The newest message in the `chat` scope, which is all `messages` ever holds.
    pub last_chat_message: Option<MessageDetails>,
    pub unread_count: i64,
}

/// The conversation (by row id) as an event shows it. `known` is a message the caller has loaded
/// already (the message of a message event): when it is the latest chat message, or its sender
/// is the conversation's contact or assignee, nothing is read twice.
pub fn conversation(
    conn: &Conn,
    conversation_id: i64,
    known: Option<&MessageDetails>,
) -> StoreResult<ConversationData> {
    let conversation = conversations::get_by_id(conn, conversation_id)?;
    let account_id = conversation.account_id;
    let account = account(conn, account_id)?;
    let inbox = inbox_summary(conn, conversation.inbox_id)?;
    let known_sender = known.and_then(|m| m.sender.as_ref());
    let contact = match known_sender {
        Some(Sender::Contact(c)) if c.id == conversation.contact_id => c.clone(),
        _ => contacts::get(conn, account_id, conversation.contact_id)?,
    };
    let contact_inbox = match conversation.contact_inbox_id {
        Some(id) => contact_inbox(conn, id)?,
        None => None,
    };
    let assignee = match (conversation.assignee_id, known_sender) {
        (Some(id), Some(Sender::User(u))) if u.id == id && u.account_id == account_id => {
            Some(u.clone())
        }
        (Some(id), _) => agents::find(conn, account_id, id)?,
        (None, _) => None,
    };
    let team = match conversation.team_id {
        // The viewer only decides the team's `is_member`, which events do not show.
        Some(id) => Some(teams::get(conn, account_id, id, None)?),
        None => None,
    };
    let labels = conversations::labels(conn, conversation.id)?;
    let last_chat_message = match latest_chat_message_id(conn, conversation.id)? {
        Some(id) => match known {
            Some(m) if m.message.id == id => Some(m.clone()),
            _ => {
                let message = messages::get_by_id(conn, id)?;
                Some(details::message_with(
                    conn,
                    message,
                    Some(&contact),
                    assignee.as_ref(),
                )?)
            }
        },
        None => None,
    };
    let unread_count =
        messages::unread_count(conn, conversation.id, conversation.agent_last_seen_at)?;
    Ok(ConversationData {
        conversation,
        account,
        inbox,
        contact,
        contact_inbox,
        assignee,
        team,
        labels,
        last_chat_message,
        unread_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_bot_reads_as_none_until_its_table_and_row_exist() {
        let raw = rusqlite::Connection::open_in_memory().unwrap();
        let conn = Conn::Sqlite(&raw);
        assert!(agent_bot(&conn, 1).is_none(), "no table");
        conn.execute_batch(
            "CREATE TABLE agent_bots (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
             INSERT INTO agent_bots (id, name) VALUES (1, 'Helper');",
        )
        .unwrap();
        let bot = agent_bot(&conn, 1).expect("found");
        assert_eq!((bot.id, bot.name.as_str()), (1, "Helper"));
        assert!(agent_bot(&conn, 2).is_none(), "no row");
    }

    /// The per-type query picks what one plain scan of the conversation would, ties included.
    #[test]
    fn the_latest_chat_message_skips_private_notes_and_activity_and_breaks_ties_by_id() {
        let raw = rusqlite::Connection::open_in_memory().unwrap();
        let conn = Conn::Sqlite(&raw);
        conn.execute_batch(
            "CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id INTEGER, message_type INTEGER,
                                    private INTEGER, created_at INTEGER);
             CREATE INDEX messages_by_conversation_type ON messages (conversation_id, message_type, created_at);",
        )
        .unwrap();
        let plain = |conn: &Conn| -> Option<i64> {
            conn.query_row(
                "SELECT id FROM messages WHERE conversation_id = 1 AND message_type != 2 AND private = 0
                  ORDER BY created_at DESC, id DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()
            .unwrap()
        };
        assert_eq!(latest_chat_message_id(&conn, 1).unwrap(), None);
        // (conversation, type, private, created_at): times repeat and go back, notes and
        // activity come last, another conversation is newer still.
        let rows = [
            (1, 0, 0, 10),
            (1, 1, 0, 30),
            (1, 3, 0, 30),
            (1, 0, 0, 20),
            (1, 1, 1, 40),
            (1, 2, 0, 50),
            (2, 0, 0, 60),
        ];
        for (conversation, kind, private, at) in rows {
            conn.execute(
                "INSERT INTO messages (conversation_id, message_type, private, created_at) VALUES (?1, ?2, ?3, ?4)",
                [conversation, kind, private, at],
            )
            .unwrap();
            assert_eq!(latest_chat_message_id(&conn, 1).unwrap(), plain(&conn));
        }
        assert_eq!(latest_chat_message_id(&conn, 1).unwrap(), Some(3));
    }
}
