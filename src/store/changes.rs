//! What each change to a conversation implies, done in the caller's write transaction: the row,
//! Chatwoot's side effects (reopening, self-assignment, waiting times, muting the contact) and
//! the activity messages it writes for people to read.

use crate::db::Conn;
use crate::params;

use super::conversations::{self, Conversation};
use super::messages::{self, NewMessage};
use super::{agent_bots, agents, teams, StoreResult};
use crate::models::{Actor, MessageType, Principal, Priority, Status};

/// The acting user's (or bot's) name, as activity messages show it: Chatwoot's
/// `Current.user.name`, which is the bot for a request made with a bot's token.
fn actor_name(conn: &Conn, principal: &Principal) -> StoreResult<String> {
    match principal.actor {
        Actor::User(user_id) => Ok(agents::get(conn, principal.account_id, user_id)?.name),
        Actor::Bot(bot_id) => agent_bots::name(conn, bot_id),
    }
}

/// Chatwoot's activity text when a failed delivery to an agent bot hands a pending conversation
/// to people (`conversations.activity.agent_bot.error_moved_to_open`).
pub const BOT_ERROR_MOVED_TO_OPEN: &str =
    "Conversation was marked open by system due to an error with the agent bot.";

/// Writes an activity message (message_type 2, no sender).
pub fn activity(
    conn: &Conn,
    conversation: &Conversation,
    text: String,
    now: i64,
) -> StoreResult<i64> {
    let message = NewMessage::text(MessageType::Activity, text, None);
    let id = messages::insert(
        conn,
        conversation.account_id,
        conversation.inbox_id,
        conversation.id,
        &message,
        now,
    )?;
    touch_activity(conn, conversation.id, now)?;
    Ok(id)
}

/// Every new message moves the conversation's last activity (and `updated_at`).
fn touch_activity(conn: &Conn, conversation_id: i64, now: i64) -> StoreResult<()> {
    super::execute(
        conn,
        "UPDATE conversations SET last_activity_at = ?2, updated_at = ?2 WHERE id = ?1",
        params![conversation_id, now],
    )?;
    Ok(())
}

fn status_text(status: Status, user: &str) -> String {
    match status {
        Status::Resolved => format!("Conversation was marked resolved by {user}"),
        Status::Open => format!("Conversation was reopened by {user}"),
        Status::Pending => format!("Conversation was marked as pending by {user}"),
        Status::Snoozed => format!("Conversation was snoozed by {user}"),
    }
}

/// Chatwoot's toggle: without a status, open becomes resolved and anything else opens.
pub fn toggled(current: Status, requested: Option<Status>) -> Status {
    match requested {
        Some(status) => status,
        None if current == Status::Open => Status::Resolved,
        None => Status::Open,
    }
}

/// Sets the status (and snooze time), with the activity message; an agent who opens a
/// conversation becomes its assignee, replacing any other. A bot never assigns itself (Chatwoot
/// assigns only when `Current.user` is a User); its opening a pending conversation is the
/// handoff to people.
pub fn change_status(
    conn: &Conn,
    principal: &Principal,
    conversation: &Conversation,
    status: Status,
    snoozed_until: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    // Chatwoot only writes snoozed_until when one is sent: re-snoozing keeps the old time.
    let snoozed_until = snoozed_until.or(conversation.snoozed_until);
    conversations::set_status(conn, conversation.id, status, snoozed_until, now)?;
    let user = actor_name(conn, principal)?;
    if status != conversation.status {
        activity(conn, conversation, status_text(status, &user), now)?;
    }
    let self_assigning = principal.user_id().filter(|&agent| {
        status == Status::Open
            && !principal.is_administrator()
            && conversation.assignee_id != Some(agent)
    });
    if let Some(agent) = self_assigning {
        conversations::set_assignee(conn, conversation.id, Some(agent), now)?;
        activity(
            conn,
            conversation,
            format!("{user} self-assigned this conversation"),
            now,
        )?;
    }
    Ok(())
}

pub fn change_priority(
    conn: &Conn,
    principal: &Principal,
    conversation: &Conversation,
    priority: Option<Priority>,
    now: i64,
) -> StoreResult<()> {
    if priority == conversation.priority {
        return Ok(());
    }
    conversations::set_priority(conn, conversation.id, priority, now)?;
    let user = actor_name(conn, principal)?;
    let text = match (conversation.priority, priority) {
        (None, Some(new)) => format!("{user} set the priority to {}", new.as_str()),
        (Some(old), Some(new)) => format!(
            "{user} changed the priority from {} to {}",
            old.as_str(),
            new.as_str()
        ),
        (_, None) => format!("{user} removed the priority"),
    };
    activity(conn, conversation, text, now)?;
    Ok(())
}

/// Assigns (or, with `None`, unassigns) an agent.
pub fn change_assignee(
    conn: &Conn,
    principal: &Principal,
    conversation: &Conversation,
    assignee_id: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    if assignee_id == conversation.assignee_id {
        return Ok(());
    }
    conversations::set_assignee(conn, conversation.id, assignee_id, now)?;
    let user = actor_name(conn, principal)?;
    let text = match assignee_id {
        Some(id) if principal.is_user(id) => format!("{user} self-assigned this conversation"),
        Some(id) => {
            let assignee = agents::get(conn, principal.account_id, id)?;
            format!("Assigned to {} by {user}", assignee.name)
        }
        None => format!("Conversation unassigned by {user}"),
    };
    activity(conn, conversation, text, now)?;
    Ok(())
}

/// Sets (or, with `None`, clears) the team.
pub fn change_team(
    conn: &Conn,
    principal: &Principal,
    conversation: &Conversation,
    team_id: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    if team_id == conversation.team_id {
        return Ok(());
    }
    conversations::set_team(conn, conversation.id, team_id, now)?;
    // An assignee outside the new team is dropped (Chatwoot's assignment handler); only the team
    // change gets an activity message.
    if let (Some(team), Some(assignee)) = (team_id, conversation.assignee_id) {
        if !teams::has_member(conn, team, assignee)? {
            conversations::set_assignee(conn, conversation.id, None, now)?;
        }
    }
    let user = actor_name(conn, principal)?;
    let team_name =
        |id| teams::get(conn, principal.account_id, id, principal.user_id()).map(|t| t.name);
    let text = match (team_id, conversation.team_id) {
        (Some(id), _) => format!("Assigned to {} by {user}", team_name(id)?),
        (None, Some(old)) => format!("Unassigned from {} by {user}", team_name(old)?),
        (None, None) => return Ok(()),
    };
    activity(conn, conversation, text, now)?;
    Ok(())
}

/// Replaces the label set, with "added" / "removed" activity messages.
pub fn replace_labels(
    conn: &Conn,
    principal: &Principal,
    conversation: &Conversation,
    labels: &[String],
    now: i64,
) -> StoreResult<()> {
    let current = conversations::labels(conn, conversation.id)?;
    let added: Vec<&String> = labels.iter().filter(|l| !current.contains(l)).collect();
    let removed: Vec<&String> = current.iter().filter(|l| !labels.contains(l)).collect();
    if added.is_empty() && removed.is_empty() {
        return Ok(());
    }
    for title in &removed {
        super::execute(
            conn,
            "DELETE FROM conversation_labels WHERE conversation_id = ?1 AND title = ?2",
            params![conversation.id, title],
        )?;
    }
    for title in &added {
        conversations::attach_label(conn, conversation.id, conversation.account_id, title)?;
    }
    super::execute(
        conn,
        "UPDATE conversations SET updated_at = ?2 WHERE id = ?1",
        params![conversation.id, now],
    )?;
    let user = actor_name(conn, principal)?;
    let join = |list: &[&String]| {
        list.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !added.is_empty() {
        activity(
            conn,
            conversation,
            format!("{user} added {}", join(&added)),
            now,
        )?;
    }
    if !removed.is_empty() {
        activity(
            conn,
            conversation,
            format!("{user} removed {}", join(&removed)),
            now,
        )?;
    }
    Ok(())
}

/// Mute resolves the conversation and blocks the contact (for all their conversations).
pub fn mute(
    conn: &Conn,
    principal: &Principal,
    conversation: &Conversation,
    now: i64,
) -> StoreResult<()> {
    if conversation.status != Status::Resolved {
        conversations::set_status(conn, conversation.id, Status::Resolved, None, now)?;
        let user = actor_name(conn, principal)?;
        activity(
            conn,
            conversation,
            status_text(Status::Resolved, &user),
            now,
        )?;
    }
    set_blocked(conn, conversation.contact_id, true, now)?;
    let user = actor_name(conn, principal)?;
    activity(
        conn,
        conversation,
        format!("{user} has muted the conversation"),
        now,
    )?;
    Ok(())
}

/// Unmute unblocks the contact; the status stays as it is.
pub fn unmute(
    conn: &Conn,
    principal: &Principal,
    conversation: &Conversation,
    now: i64,
) -> StoreResult<()> {
    set_blocked(conn, conversation.contact_id, false, now)?;
    let user = actor_name(conn, principal)?;
    activity(
        conn,
        conversation,
        format!("{user} has unmuted the conversation"),
        now,
    )?;
    Ok(())
}

fn set_blocked(conn: &Conn, contact_id: i64, blocked: bool, now: i64) -> StoreResult<()> {
    super::execute(
        conn,
        "UPDATE contacts SET blocked = ?2, updated_at = ?3 WHERE id = ?1",
        params![contact_id, blocked, now],
    )?;
    Ok(())
}

/// A message from a person (not an activity message), with what it does to the conversation:
/// last activity, reopening on the contact's reply unless muted, the first reply time and the
/// waiting time.
pub fn post_message(
    conn: &Conn,
    conversation: &Conversation,
    message: &NewMessage,
    now: i64,
) -> StoreResult<i64> {
    let id = messages::insert(
        conn,
        conversation.account_id,
        conversation.inbox_id,
        conversation.id,
        message,
        now,
    )?;
    let incoming = message.message_type == MessageType::Incoming;
    let human_reply = message.message_type == MessageType::Outgoing
        && !message.private
        && matches!(message.sender, Some(("User", _)));
    let muted: bool = conn
        .prepare_cached("SELECT blocked FROM contacts WHERE id = ?1")?
        .query_row([conversation.contact_id], |row| row.get(0))?;
    let reopen = incoming && !muted;
    super::execute(
        conn,
        "UPDATE conversations
            SET last_activity_at = ?2, updated_at = ?2,
                status = CASE WHEN ?3 AND status IN (1, 3) THEN 0 ELSE status END,
                snoozed_until = CASE WHEN ?3 AND status IN (1, 3) THEN NULL ELSE snoozed_until END,
                first_reply_created_at = CASE WHEN ?4 AND first_reply_created_at IS NULL THEN ?2
                                              ELSE first_reply_created_at END,
                waiting_since = CASE WHEN ?4 THEN NULL
                                     WHEN ?5 THEN COALESCE(waiting_since, ?2)
                                     ELSE waiting_since END
          WHERE id = ?1",
        params![conversation.id, now, reopen, human_reply, incoming],
    )?;
    if incoming {
        super::execute(
            conn,
            "UPDATE contacts SET last_activity_at = ?2 WHERE id = ?1",
            params![conversation.contact_id, now],
        )?;
    }
    Ok(id)
}

/// What Chatwoot does when delivery to an agent bot finally fails: a conversation still pending
/// (waiting on the bot) is opened for people, with an activity message naming no one. True when
/// it was pending and is now open.
pub fn open_after_bot_failure(conn: &Conn, conversation_id: i64, now: i64) -> StoreResult<bool> {
    let conversation = conversations::get_by_id(conn, conversation_id)?;
    if conversation.status != Status::Pending {
        return Ok(false);
    }
    conversations::set_status(conn, conversation.id, Status::Open, None, now)?;
    activity(
        conn,
        &conversation,
        BOT_ERROR_MOVED_TO_OPEN.to_string(),
        now,
    )?;
    Ok(true)
}
