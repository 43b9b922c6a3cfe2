//! Who listens to what: each connection has a bounded queue of frames, and each of its
//! subscriptions listens on named streams (a subscriber's own `pubsub_token`; an account's
//! stream for its agents). Publishing never waits: a connection whose queue is full is dropped
//! (its client reconnects and catches up over the API), so a slow reader can neither hold memory
//! without bound nor slow down whoever publishes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::mpsc;

use super::protocol;

/// Frames a connection may have waiting before it counts as too slow.
pub const QUEUE: usize = 256;

#[derive(Default)]
pub struct Hub {
    next: AtomicU64,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    queues: HashMap<u64, mpsc::Sender<String>>,
    /// stream -> (connection, identifier) of each subscription on it.
    streams: HashMap<String, Vec<(u64, String)>>,
}

impl Hub {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new connection: its id and the queue its broadcasts arrive on. The queue ends when the
    /// hub drops the connection.
    pub fn connect(&self) -> (u64, mpsc::Receiver<String>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(QUEUE);
        self.inner().queues.insert(id, sender);
        (id, receiver)
    }

    /// Subscribes `identifier` of connection `id` to `streams`; false when that connection holds
    /// this subscription already (ActionCable then answers nothing).
    pub fn subscribe(&self, id: u64, identifier: &str, streams: &[String]) -> bool {
        let mut inner = self.inner();
        if !inner.queues.contains_key(&id) {
            return false;
        }
        let held = inner
            .streams
            .values()
            .any(|subs| subs.iter().any(|(c, i)| *c == id && i == identifier));
        if held {
            return false;
        }
        for stream in streams {
            let subs = inner.streams.entry(stream.clone()).or_default();
            subs.push((id, identifier.to_string()));
        }
        true
    }

    pub fn unsubscribe(&self, id: u64, identifier: &str) {
        let mut inner = self.inner();
        inner.streams.retain(|_, subs| {
            subs.retain(|(c, i)| !(*c == id && i == identifier));
            !subs.is_empty()
        });
    }

    /// Forgets a connection and its subscriptions.
    pub fn disconnect(&self, id: u64) {
        let mut inner = self.inner();
        drop_connection(&mut inner, id);
    }

    /// Sends `event` with `data` to every subscription on `stream`, once per subscription.
    /// Returns how many frames were queued.
    pub fn publish(&self, stream: &str, event: &str, data: &Value) -> usize {
        let mut inner = self.inner();
        let Some(subs) = inner.streams.get(stream) else {
            return 0;
        };
        let mut queued = 0;
        let mut too_slow = Vec::new();
        for (id, identifier) in subs {
            let Some(queue) = inner.queues.get(id) else {
                continue;
            };
            match queue.try_send(protocol::broadcast(identifier, event, data)) {
                Ok(()) => queued += 1,
                Err(_) => too_slow.push(*id),
            }
        }
        for id in too_slow {
            drop_connection(&mut inner, id);
        }
        queued
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.inner().queues.len()
    }
}

fn drop_connection(inner: &mut Inner, id: u64) {
    inner.queues.remove(&id);
    inner.streams.retain(|_, subs| {
        subs.retain(|(c, _)| *c != id);
        !subs.is_empty()
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_broadcast_reaches_each_subscription_on_its_stream_with_its_own_identifier() {
        let hub = Hub::default();
        let (agent, mut agent_queue) = hub.connect();
        let (other, mut other_queue) = hub.connect();
        assert!(hub.subscribe(agent, "a", &["token-a".into(), "account_1".into()]));
        assert!(
            !hub.subscribe(agent, "a", &["token-a".into()]),
            "a duplicate is ignored"
        );
        assert!(hub.subscribe(other, "b", &["token-b".into()]));
        assert_eq!(
            hub.publish("account_1", "contact.updated", &json!({"id": 1})),
            1
        );
        let frame: Value = serde_json::from_str(&agent_queue.try_recv().unwrap()).unwrap();
        assert_eq!(frame["identifier"], "a");
        assert_eq!(frame["message"]["event"], "contact.updated");
        assert!(other_queue.try_recv().is_err());
        hub.unsubscribe(agent, "a");
        assert_eq!(hub.publish("account_1", "contact.updated", &json!({})), 0);
    }

    #[test]
    fn a_connection_that_does_not_read_is_dropped_when_its_queue_is_full() {
        let hub = Hub::default();
        let (slow, mut slow_queue) = hub.connect();
        let (fast, mut fast_queue) = hub.connect();
        hub.subscribe(slow, "s", &["stream".into()]);
        hub.subscribe(fast, "f", &["stream".into()]);
        for n in 0..QUEUE + 10 {
            hub.publish("stream", "message.created", &json!({"n": n}));
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
        assert_eq!(hub.publish("stream", "message.created", &json!({})), 1);
    }
}
