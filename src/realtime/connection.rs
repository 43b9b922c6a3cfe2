//! One `/cable` socket: the welcome, a ping every 3 seconds, subscriptions answered with
//! `confirm_subscription` or `reject_subscription`, and the broadcasts of its queue. Bad frames
//! are ignored, as ActionCable does; the socket ends when the client goes, or when the hub
//! drops it for reading too slowly.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_ws::{Message, MessageStream, Session};

use super::hub::{Broadcast, Hub, Stream};
use super::presence::{Presence, Seen};
use super::protocol::{self, Command, RoomParams};
use super::watching::Watching;
use crate::clock::Clock;
use crate::db::Db;
use crate::store::realtime::{self, Subscriber};
use crate::views::cable as view;

/// Chatwoot's clients count a connection stale after 6 s without a ping.
const PING_EVERY: Duration = Duration::from_secs(3);

/// `update_presence` more often than this is ignored: clients send it every 20 s or more.
const PRESENCE_AT_MOST_EVERY: Duration = Duration::from_secs(1);

/// Most subscriptions one connection may hold; Chatwoot's clients hold one.
const MOST_SUBSCRIPTIONS: usize = 16;

/// A frame the client has not taken in this long means it stopped reading: the socket is
/// closed rather than left holding its buffers.
const WRITE_PATIENCE: Duration = Duration::from_secs(10);

/// Writes one frame; false once the socket cannot be written to, or not in time.
async fn write(session: &mut Session, text: String) -> bool {
    matches!(
        tokio::time::timeout(WRITE_PATIENCE, session.text(text)).await,
        Ok(Ok(()))
    )
}

/// What a connection needs from the server.
#[derive(Clone)]
pub struct Context {
    pub db: Db,
    pub hub: Arc<Hub>,
    pub presence: Arc<Presence>,
    pub watching: Arc<Watching>,
    pub clock: Clock,
}

/// A subscription this connection holds.
struct Held {
    subscriber: Subscriber,
    last_presence: Option<Instant>,
}

/// The stream only this subscriber (in all its tabs) listens on.
fn own_stream(subscriber: &Subscriber) -> Stream {
    match *subscriber {
        Subscriber::Agent {
            user_id,
            account_id,
        } => Stream::Agent {
            account_id,
            user_id,
        },
        Subscriber::Contact {
            contact_inbox_id, ..
        } => Stream::Contact(contact_inbox_id),
    }
}

fn account_of(subscriber: &Subscriber) -> i64 {
    match *subscriber {
        Subscriber::Agent { account_id, .. } | Subscriber::Contact { account_id, .. } => account_id,
    }
}

/// The streams a subscriber listens on: its own, and for an agent the account's contact news.
fn streams(subscriber: &Subscriber) -> Vec<Stream> {
    match subscriber {
        Subscriber::Agent { account_id, .. } => {
            vec![own_stream(subscriber), Stream::Account(*account_id)]
        }
        Subscriber::Contact { .. } => vec![own_stream(subscriber)],
    }
}

/// Marks the subscriber seen and sends `presence.update` to its own stream (every tab of it),
/// as Chatwoot's channel does on subscribe and on each `update_presence`.
async fn announce_presence(context: &Context, subscriber: &Subscriber) {
    let now = context.clock.now_micros().div_euclid(1_000_000);
    let account_id = account_of(subscriber);
    let seen = match *subscriber {
        Subscriber::Agent { user_id, .. } => Seen::User(user_id),
        Subscriber::Contact { contact_id, .. } => Seen::Contact(contact_id),
    };
    let Ok(online) = context
        .presence
        .see(&context.db, account_id, seen, now)
        .await
    else {
        return;
    };
    let Ok(everyone) = context
        .db
        .read(move |conn| realtime::availabilities(conn, account_id))
        .await
    else {
        return;
    };
    // Users shown offline without a heartbeat count only while seen; the others always.
    let users: Vec<(i64, &str)> = everyone
        .iter()
        .filter(|u| !u.auto_offline || online.users.binary_search(&u.user_id).is_ok())
        .map(|u| (u.user_id, u.availability.as_str()))
        .collect();
    let contacts = match subscriber {
        Subscriber::Agent { .. } => Some(online.contacts.as_slice()),
        Subscriber::Contact { .. } => None,
    };
    let data = view::presence(account_id, &users, contacts);
    context.hub.publish(&[Broadcast {
        event: "presence.update".into(),
        data: data.to_string(),
        streams: vec![own_stream(subscriber)],
    }]);
}

async fn who(db: &Db, params: RoomParams) -> Option<Subscriber> {
    let found = db
        .read(move |conn| match (params.user_id, params.account_id) {
            (Some(user), Some(account)) => {
                realtime::agent(conn, &params.pubsub_token, user, account)
            }
            // A `user_id` without an account names no one (Chatwoot's lookup fails too).
            (Some(_), None) => Ok(None),
            (None, _) => realtime::contact(conn, &params.pubsub_token),
        })
        .await;
    found.ok().flatten()
}

/// Answers one client frame; false once the socket cannot be written to.
async fn answer(
    context: &Context,
    id: u64,
    held: &mut HashMap<String, Held>,
    session: &mut Session,
    text: &str,
) -> bool {
    match protocol::command(text) {
        Some(Command::Subscribe(identifier)) => {
            if held.contains_key(&identifier) {
                // Already subscribed with this identifier: ActionCable answers nothing.
                return true;
            }
            let subscriber = match protocol::room_params(&identifier) {
                Some(params) if held.len() < MOST_SUBSCRIPTIONS => who(&context.db, params).await,
                _ => None,
            };
            let Some(subscriber) = subscriber else {
                // Chatwoot raises here and the client waits forever; a rejection tells it.
                return write(session, protocol::reject(&identifier)).await;
            };
            let account_id = account_of(&subscriber);
            if !context
                .hub
                .subscribe(id, &identifier, account_id, streams(&subscriber))
            {
                return true;
            }
            if context
                .watching
                .subscribing(&context.db, account_id)
                .await
                .is_err()
            {
                context.hub.unsubscribe(id, &identifier);
                return write(session, protocol::reject(&identifier)).await;
            }
            if !write(session, protocol::confirm(&identifier)).await {
                return false;
            }
            announce_presence(context, &subscriber).await;
            held.insert(
                identifier,
                Held {
                    subscriber,
                    // The client's own first `update_presence` is always answered.
                    last_presence: None,
                },
            );
            true
        }
        Some(Command::Unsubscribe(identifier)) => {
            context.hub.unsubscribe(id, &identifier);
            held.remove(&identifier);
            true
        }
        Some(Command::Message(identifier, Some(action))) if action == "update_presence" => {
            // A subscription this connection does not hold (or was refused) is ignored quietly.
            if let Some(subscription) = held.get_mut(&identifier) {
                let due = subscription
                    .last_presence
                    .is_none_or(|last| last.elapsed() >= PRESENCE_AT_MOST_EVERY);
                if due {
                    subscription.last_presence = Some(Instant::now());
                    let subscriber = subscription.subscriber.clone();
                    announce_presence(context, &subscriber).await;
                }
            }
            true
        }
        // Unknown actions and frames: nothing to answer.
        Some(Command::Message(..)) | None => true,
    }
}

/// Serves one socket until it ends.
pub async fn serve(context: Context, mut session: Session, mut incoming: MessageStream) {
    let (id, mut queue) = context.hub.connect();
    let mut held: HashMap<String, Held> = HashMap::new();
    let mut beat = tokio::time::interval(PING_EVERY);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut open = write(&mut session, protocol::welcome()).await;
    while open {
        tokio::select! {
            _ = beat.tick() => {
                let now = context.clock.now_micros().div_euclid(1_000_000);
                open = write(&mut session, protocol::ping(now)).await;
            }
            frame = queue.recv() => match frame {
                Some(frame) => open = write(&mut session, frame.text()).await,
                None => {
                    // Let go by the hub, for reading too slowly, or because the server is
                    // stopping or was reset: either way the client comes back.
                    let reason = if context.hub.was_released(id) {
                        "server_restart"
                    } else {
                        "slow_consumer"
                    };
                    write(&mut session, protocol::disconnect(reason)).await;
                    open = false;
                }
            },
            message = incoming.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    open = answer(&context, id, &mut held, &mut session, &text).await;
                }
                Some(Ok(Message::Ping(bytes))) => open = session.pong(&bytes).await.is_ok(),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => open = false,
                Some(Ok(_)) => {}
            },
        }
    }
    context.hub.disconnect(id);
    let _ = session.close(None).await;
}
