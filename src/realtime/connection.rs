//! One `/cable` socket: the welcome, a ping every 3 seconds, subscriptions answered with
//! `confirm_subscription` or `reject_subscription`, and the broadcasts of its queue. Bad frames
//! are ignored, as ActionCable does; the socket ends when the client goes, or when the hub
//! drops it for reading too slowly.

use std::sync::Arc;
use std::time::Duration;

use actix_ws::{Message, MessageStream, Session};

use super::hub::Hub;
use super::protocol::{self, Command, RoomParams};
use crate::clock::Clock;
use crate::db::Db;
use crate::store::realtime::{self, Subscriber};

/// Chatwoot's clients count a connection stale after 6 s without a ping.
const PING_EVERY: Duration = Duration::from_secs(3);

/// What a connection needs from the server.
#[derive(Clone)]
pub struct Context {
    pub db: Db,
    pub hub: Arc<Hub>,
    pub clock: Clock,
}

/// The streams a subscriber listens on: its own token's, and for an agent the account's.
fn streams(subscriber: &Subscriber, token: &str) -> Vec<String> {
    match subscriber {
        Subscriber::Agent { account_id, .. } => {
            vec![token.to_string(), format!("account_{account_id}")]
        }
        Subscriber::Contact { .. } => vec![token.to_string()],
    }
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
async fn answer(context: &Context, id: u64, session: &mut Session, text: &str) -> bool {
    let reply = match protocol::command(text) {
        Some(Command::Subscribe(identifier)) => {
            let subscriber = match protocol::room_params(&identifier) {
                Some(params) => {
                    let token = params.pubsub_token.clone();
                    who(&context.db, params).await.map(|s| streams(&s, &token))
                }
                None => None,
            };
            match subscriber {
                Some(streams) if context.hub.subscribe(id, &identifier, &streams) => {
                    Some(protocol::confirm(&identifier))
                }
                // Already subscribed with this identifier: ActionCable answers nothing.
                Some(_) => None,
                // Chatwoot raises here and the client waits forever; a rejection tells it.
                None => Some(protocol::reject(&identifier)),
            }
        }
        Some(Command::Unsubscribe(identifier)) => {
            context.hub.unsubscribe(id, &identifier);
            None
        }
        // `update_presence` and unknown actions: nothing to answer.
        Some(Command::Message(..)) | None => None,
    };
    match reply {
        Some(frame) => session.text(frame).await.is_ok(),
        None => true,
    }
}

/// Serves one socket until it ends.
pub async fn serve(context: Context, mut session: Session, mut incoming: MessageStream) {
    let (id, mut queue) = context.hub.connect();
    let mut beat = tokio::time::interval(PING_EVERY);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut open = session.text(protocol::welcome()).await.is_ok();
    while open {
        tokio::select! {
            _ = beat.tick() => {
                let now = context.clock.now_micros().div_euclid(1_000_000);
                open = session.text(protocol::ping(now)).await.is_ok();
            }
            frame = queue.recv() => match frame {
                Some(frame) => open = session.text(frame).await.is_ok(),
                None => {
                    // Dropped by the hub for reading too slowly: the client reconnects.
                    let _ = session.text(protocol::disconnect("slow_consumer")).await;
                    open = false;
                }
            },
            message = incoming.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    open = answer(&context, id, &mut session, &text).await;
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
