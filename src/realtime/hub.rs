//! Who listens to what: each connection has a bounded queue of frames, and each of its
//! subscriptions listens on typed streams (an agent in one account, a contact inbox, an
//! account's contact news). Publishing never waits: a connection whose queue is full is dropped
//! (its client reconnects and catches up over the API), so a slow reader can neither hold memory
//! without bound nor slow down whoever publishes. A broadcast's text is built once and shared by
//! every queue it is put in.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// Frames a connection may have waiting before it counts as too slow.
pub const QUEUE: usize = 256;

/// Where a broadcast goes (docs/actioncable.md §5.9): typed keys, so that no token can name
/// another stream, and an agent's stream is per account (§5.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Stream {
    /// One user, as subscribed for one account.
    Agent { account_id: i64, user_id: i64 },
    /// One contact inbox: a contact as seen through one inbox.
    Contact(i64),
    /// Everyone subscribed as an agent of the account: contact news.
    Account(i64),
}

/// One broadcast in a connection's queue: the subscription's identifier and the message, both
/// as JSON text, joined when the frame is written.
#[derive(Clone, Debug)]
pub struct Frame {
    identifier: Arc<str>,
    message: Arc<str>,
}

impl Frame {
    /// `{"identifier": "<id>", "message": {"event", "data"}}`.
    pub fn text(&self) -> String {
        format!(
            "{{\"identifier\":{},\"message\":{}}}",
            self.identifier, self.message
        )
    }
}

/// A broadcast to publish: its event, its `data` as JSON text, and the streams it goes to.
#[derive(Clone, Debug, PartialEq)]
pub struct Broadcast {
    pub event: String,
    pub data: String,
    pub streams: Vec<Stream>,
}

impl Broadcast {
    fn message(&self) -> Arc<str> {
        // `event` is one of the catalogue's names; it is quoted like any string all the same.
        let event = serde_json::Value::String(self.event.clone());
        format!("{{\"event\":{event},\"data\":{}}}", self.data).into()
    }
}

#[derive(Default)]
pub struct Hub {
    next: AtomicU64,
    inner: Mutex<Inner>,
    /// Set once the server is stopping: connections are let go, and told why.
    stopping: AtomicBool,
    /// Connections let go on purpose (a stop or a reset), not for reading too slowly.
    released: Mutex<std::collections::HashSet<u64>>,
}

/// A subscription as a stream knows it.
#[derive(Clone)]
struct Listener {
    connection: u64,
    identifier: Arc<str>,
    /// The identifier as a JSON string, ready for the frame.
    quoted: Arc<str>,
}

struct Subscription {
    account_id: i64,
    streams: Vec<Stream>,
}

#[derive(Default)]
struct Inner {
    queues: HashMap<u64, mpsc::Sender<Frame>>,
    subscriptions: HashMap<(u64, String), Subscription>,
    /// stream -> the subscriptions on it.
    streams: HashMap<Stream, Vec<Listener>>,
    /// Subscriptions per account, so that a change nobody watches builds no broadcast.
    accounts: HashMap<i64, usize>,
}

impl Hub {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new connection: its id and the queue its broadcasts arrive on. The queue ends when the
    /// hub drops the connection.
    pub fn connect(&self) -> (u64, mpsc::Receiver<Frame>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(QUEUE);
        // Once stopping, a connection gets a queue that has ended already.
        if !self.stopping.load(Ordering::Relaxed) {
            self.inner().queues.insert(id, sender);
        }
        (id, receiver)
    }

    /// Subscribes `identifier` of connection `id`, a subscriber of `account_id`, to `streams`;
    /// false when that connection holds this subscription already, or is gone.
    pub fn subscribe(
        &self,
        id: u64,
        identifier: &str,
        account_id: i64,
        streams: Vec<Stream>,
    ) -> bool {
        let mut inner = self.inner();
        let key = (id, identifier.to_string());
        if !inner.queues.contains_key(&id) || inner.subscriptions.contains_key(&key) {
            return false;
        }
        let listener = Listener {
            connection: id,
            identifier: identifier.into(),
            quoted: serde_json::Value::String(identifier.to_string())
                .to_string()
                .into(),
        };
        for stream in &streams {
            let subs = inner.streams.entry(*stream).or_default();
            subs.push(listener.clone());
        }
        *inner.accounts.entry(account_id).or_default() += 1;
        inner.subscriptions.insert(
            key,
            Subscription {
                account_id,
                streams,
            },
        );
        true
    }

    pub fn unsubscribe(&self, id: u64, identifier: &str) {
        let mut inner = self.inner();
        let key = (id, identifier.to_string());
        if let Some(subscription) = inner.subscriptions.remove(&key) {
            forget(&mut inner, &key, subscription);
        }
    }

    /// Forgets a connection and its subscriptions.
    pub fn disconnect(&self, id: u64) {
        drop_connection(&mut self.inner(), id);
    }

    /// Whether anyone subscribed as an agent or contact of this account is connected.
    pub fn watches(&self, account_id: i64) -> bool {
        self.inner()
            .accounts
            .get(&account_id)
            .is_some_and(|n| *n > 0)
    }

    /// Puts each broadcast, in order, in the queue of every subscription on its streams (once
    /// per subscription, even when several of its streams are named). Returns how many frames
    /// were queued.
    pub fn publish(&self, broadcasts: &[Broadcast]) -> usize {
        let mut inner = self.inner();
        let mut queued = 0;
        let mut too_slow = Vec::new();
        for broadcast in broadcasts {
            let message = broadcast.message();
            let mut reached: Vec<&Listener> = Vec::new();
            for stream in &broadcast.streams {
                for listener in inner.streams.get(stream).into_iter().flatten() {
                    let same = |r: &&Listener| {
                        r.connection == listener.connection && r.identifier == listener.identifier
                    };
                    if !reached.iter().any(same) {
                        reached.push(listener);
                    }
                }
            }
            for listener in reached {
                let Some(queue) = inner.queues.get(&listener.connection) else {
                    continue;
                };
                let frame = Frame {
                    identifier: Arc::clone(&listener.quoted),
                    message: Arc::clone(&message),
                };
                match queue.try_send(frame) {
                    Ok(()) => queued += 1,
                    Err(_) => too_slow.push(listener.connection),
                }
            }
            for id in too_slow.drain(..) {
                drop_connection(&mut inner, id);
            }
        }
        queued
    }

    /// Lets every connection go, for the server is stopping: each ends its queue and tells its
    /// client to come back (`server_restart`), instead of holding the stop up.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.release_all();
    }

    /// Lets every connection go and tells each client to come back (`server_restart`): what
    /// they subscribed to may be gone (dev mode's reset).
    pub fn release_all(&self) {
        let mut inner = self.inner();
        let ids: Vec<u64> = inner.queues.keys().copied().collect();
        self.released
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(ids.iter().copied());
        for id in ids {
            drop_connection(&mut inner, id);
        }
    }

    /// Whether connection `id` was let go on purpose rather than for being slow; forgets it.
    pub fn was_released(&self, id: u64) -> bool {
        let mut released = self.released.lock().unwrap_or_else(|e| e.into_inner());
        released.remove(&id) || self.stopping.load(Ordering::Relaxed)
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.inner().queues.len()
    }
}

fn forget(inner: &mut Inner, key: &(u64, String), subscription: Subscription) {
    for stream in &subscription.streams {
        if let Some(subs) = inner.streams.get_mut(stream) {
            subs.retain(|l| !(l.connection == key.0 && *l.identifier == *key.1));
            if subs.is_empty() {
                inner.streams.remove(stream);
            }
        }
    }
    if let Some(count) = inner.accounts.get_mut(&subscription.account_id) {
        *count -= 1;
        if *count == 0 {
            inner.accounts.remove(&subscription.account_id);
        }
    }
}

fn drop_connection(inner: &mut Inner, id: u64) {
    inner.queues.remove(&id);
    let keys: Vec<(u64, String)> = inner
        .subscriptions
        .keys()
        .filter(|(c, _)| *c == id)
        .cloned()
        .collect();
    for key in keys {
        if let Some(subscription) = inner.subscriptions.remove(&key) {
            forget(inner, &key, subscription);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn broadcast(event: &str, data: Value, streams: &[Stream]) -> Broadcast {
        Broadcast {
            event: event.into(),
            data: data.to_string(),
            streams: streams.to_vec(),
        }
    }

    const AGENT: Stream = Stream::Agent {
        account_id: 1,
        user_id: 3,
    };

    #[test]
    fn a_broadcast_reaches_each_subscription_on_its_streams_once_with_its_own_identifier() {
        let hub = Hub::default();
        let (agent, mut agent_queue) = hub.connect();
        let (other, mut other_queue) = hub.connect();
        assert!(hub.subscribe(agent, "a\"1", 1, vec![AGENT, Stream::Account(1)]));
        assert!(
            !hub.subscribe(agent, "a\"1", 1, vec![AGENT]),
            "a duplicate is ignored"
        );
        assert!(hub.subscribe(other, "b", 2, vec![Stream::Contact(9)]));
        assert!(hub.watches(1) && hub.watches(2) && !hub.watches(3));
        let both = broadcast(
            "contact.updated",
            json!({"id": 1}),
            &[AGENT, Stream::Account(1)],
        );
        assert_eq!(hub.publish(&[both]), 1, "one frame per subscription");
        let frame: Value = serde_json::from_str(&agent_queue.try_recv().unwrap().text()).unwrap();
        assert_eq!(frame["identifier"], "a\"1");
        assert_eq!(
            frame["message"],
            json!({"event": "contact.updated", "data": {"id": 1}})
        );
        assert!(other_queue.try_recv().is_err());
        hub.unsubscribe(agent, "a\"1");
        assert!(!hub.watches(1));
        let again = broadcast("contact.updated", json!({}), &[Stream::Account(1)]);
        assert_eq!(hub.publish(&[again]), 0);
    }

    #[test]
    fn a_connection_that_does_not_read_is_dropped_when_its_queue_is_full() {
        let hub = Hub::default();
        let (slow, mut slow_queue) = hub.connect();
        let (fast, mut fast_queue) = hub.connect();
        hub.subscribe(slow, "s", 1, vec![Stream::Contact(1)]);
        hub.subscribe(fast, "f", 1, vec![Stream::Contact(1)]);
        for n in 0..QUEUE + 10 {
            hub.publish(&[broadcast(
                "message.created",
                json!({"n": n}),
                &[Stream::Contact(1)],
            )]);
            while fast_queue.try_recv().is_ok() {}
        }
        assert_eq!(hub.connections(), 1, "the slow one was dropped");
        let mut waiting = 0;
        while slow_queue.try_recv().is_ok() {
            waiting += 1;
        }
        assert_eq!(waiting, QUEUE, "what was queued is kept, nothing more");
        assert!(
            slow_queue.try_recv().is_err(),
            "the queue ends once drained"
        );
        let last = broadcast("message.created", json!({}), &[Stream::Contact(1)]);
        assert_eq!(hub.publish(&[last]), 1);
    }
}
