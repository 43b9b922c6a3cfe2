//! The sender: takes due deliveries from the outbox and makes one attempt at each, a bounded
//! number at once, never more than one at a time per target and ordering key (the outbox query
//! leaves out deliveries waiting behind an earlier one). An attempt's outcome is written back:
//! delivered, tried again later (backoff, `Retry-After`, within the retry window), or given up,
//! in which case Chatwoot's failure handling runs in the same transaction (reference §3.4).
//! Requests never wait on any of this: they only write outbox rows.

use crate::db::Conn;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;

use super::retry;
use super::signature;
use super::transport::{Attempt, Outcome, Transport};
use crate::clock::Clock;
use crate::db::Db;
use crate::journal::Journal;
use crate::models::MessageStatus;
use crate::store::event_outbox::{self, DueDelivery, TargetKind};
use crate::store::{changes, messages, StoreError};
use crate::supervisor::Beat;
use crate::views::iso_millis;
use serde::Serialize;
use serde_json::{json, Value};

/// The longest the sender sleeps without looking at the outbox.
const LONGEST_SLEEP: Duration = Duration::from_secs(1);
/// Looks at the outbox at most this often, however often writes commit.
const SHORTEST_GAP: Duration = Duration::from_millis(5);
const PRUNE_EVERY: Duration = Duration::from_secs(60);
const PRUNE_BATCH: i64 = 5_000;

#[derive(Clone, Debug)]
pub struct SenderSettings {
    /// Attempts in flight at once.
    pub concurrency: usize,
    /// How long after an event its deliveries are still retried.
    pub retry_window: Duration,
    /// How long delivered and given-up deliveries are kept.
    pub retention: Duration,
    /// Where every attempt is told in full (dev mode's `/__wootlite/webhooks`).
    pub journal: Option<Arc<Journal<AttemptRecord>>>,
    /// Set where several nodes share the outbox (PostgreSQL): a due delivery is claimed for
    /// this long before its attempt, and falls due again if the node dies holding it.
    pub claim_lease: Option<Duration>,
}

/// One delivery attempt as dev mode's journal shows it.
#[derive(Clone, Debug, Serialize)]
pub struct AttemptRecord {
    /// When it was made, by the server's clock (ISO 8601).
    pub at: Value,
    pub target: Value,
    pub event: String,
    pub delivery_id: String,
    pub headers: Value,
    pub body: Value,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    pub error: Option<String>,
    /// `"delivered"`, `{"retry_at": <ISO 8601>}` or `{"given_up": <reason>}`.
    pub next: Value,
}

struct Shared {
    db: Db,
    clock: Clock,
    transport: Arc<Transport>,
    settings: SenderSettings,
    in_flight: Mutex<HashSet<i64>>,
    finished: Notify,
}

pub async fn run(
    db: Db,
    clock: Clock,
    transport: Arc<Transport>,
    settings: SenderSettings,
    beat: Beat,
) -> Result<(), String> {
    let slots = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let shared = Arc::new(Shared {
        db,
        clock,
        transport,
        settings,
        in_flight: Mutex::new(HashSet::new()),
        finished: Notify::new(),
    });
    let mut commits = shared.db.commits();
    let mut moves = shared.clock.moves();
    let mut last_prune: Option<Instant> = None;
    // Owned here, so that stopping the sender stops its attempts too (a delivery cut short
    // stays pending and is attempted again).
    let mut attempts = JoinSet::new();
    loop {
        let scanned_at = Instant::now();
        while attempts.try_join_next().is_some() {}
        if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            prune(&shared).await?;
            last_prune = Some(Instant::now());
        }
        start_due(&shared, &slots, &mut attempts).await?;
        beat.ok();
        let sleep = until_next(&shared).await?;
        tokio::select! {
            _ = commits.changed() => {}
            _ = shared.finished.notified() => {}
            _ = clock_moved(&mut moves) => {}
            _ = tokio::time::sleep(sleep) => {}
        }
        if let Some(rest) = SHORTEST_GAP.checked_sub(scanned_at.elapsed()) {
            tokio::time::sleep(rest).await;
        }
    }
}

async fn clock_moved(moves: &mut Option<watch::Receiver<u64>>) {
    let moved = match moves {
        Some(moves) => moves.changed().await.is_ok(),
        None => false,
    };
    if !moved {
        std::future::pending::<()>().await;
    }
}

fn in_flight(shared: &Shared) -> std::sync::MutexGuard<'_, HashSet<i64>> {
    shared.in_flight.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts an attempt for every due delivery there is a free slot for.
async fn start_due(
    shared: &Arc<Shared>,
    slots: &Arc<Semaphore>,
    attempts: &mut JoinSet<()>,
) -> Result<(), String> {
    let free = slots.available_permits();
    if free == 0 {
        return Ok(());
    }
    let busy: HashSet<i64> = in_flight(shared).clone();
    let now = shared.clock.now_micros();
    let limit = (free + busy.len()) as i64;
    let due = shared
        .db
        .read(move |conn| event_outbox::due(conn, now, limit))
        .await
        .map_err(|e| format!("reading the event outbox failed: {e}"))?;
    let candidates: Vec<DueDelivery> = due
        .into_iter()
        .filter(|d| !busy.contains(&d.id))
        .take(free)
        .collect();
    for delivery in claimed(shared, candidates).await? {
        let Ok(slot) = Arc::clone(slots).try_acquire_owned() else {
            break;
        };
        in_flight(shared).insert(delivery.id);
        let shared = Arc::clone(shared);
        attempts.spawn(async move {
            let id = delivery.id;
            attempt(&shared, delivery).await;
            drop(slot);
            in_flight(&shared).remove(&id);
            shared.finished.notify_one();
        });
    }
    Ok(())
}

/// The candidates this node may attempt: all of them on one node; on several, those it
/// claimed before another node did.
async fn claimed(
    shared: &Shared,
    candidates: Vec<DueDelivery>,
) -> Result<Vec<DueDelivery>, String> {
    let Some(lease) = shared.settings.claim_lease else {
        return Ok(candidates);
    };
    if candidates.is_empty() {
        return Ok(candidates);
    }
    let ids: Vec<i64> = candidates.iter().map(|d| d.id).collect();
    let now = shared.clock.now_micros();
    let lease_until = now.saturating_add(micros(lease));
    let got: HashSet<i64> = shared
        .db
        .write(move |tx| event_outbox::claim(tx, &ids, now, lease_until))
        .await
        .map_err(|e| format!("claiming deliveries failed: {e}"))?
        .into_iter()
        .collect();
    Ok(candidates
        .into_iter()
        .filter(|d| got.contains(&d.id))
        .collect())
}

fn micros(duration: Duration) -> i64 {
    duration.as_micros().min(i64::MAX as u128) as i64
}

/// How long to sleep when nothing else wakes the sender: until the next delivery falls due,
/// at most `LONGEST_SLEEP` (a manual clock wakes it when moved).
async fn until_next(shared: &Shared) -> Result<Duration, String> {
    let next = shared
        .db
        .read(event_outbox::next_due_at)
        .await
        .map_err(|e| format!("reading the event outbox failed: {e}"))?;
    let now = shared.clock.now_micros();
    Ok(match next {
        Some(at) if at > now => Duration::from_micros((at - now) as u64).min(LONGEST_SLEEP),
        _ => LONGEST_SLEEP,
    })
}

async fn prune(shared: &Shared) -> Result<(), String> {
    let retention = micros(shared.settings.retention);
    let before = shared.clock.now_micros().saturating_sub(retention);
    shared
        .db
        .write(move |tx| event_outbox::prune(tx, before, PRUNE_BATCH))
        .await
        .map(|_| ())
        .map_err(|e| format!("pruning the event outbox failed: {e}"))
}

/// What becomes of a delivery after an attempt.
enum Verdict {
    Delivered,
    RetryAt(i64),
    GiveUp(String),
}

fn judge(delivery: &DueDelivery, attempt: &Attempt, now: i64, window: Duration) -> Verdict {
    let reason = || {
        attempt
            .error
            .clone()
            .or_else(|| attempt.status.map(|s| format!("the receiver answered {s}")))
            .unwrap_or_else(|| "unknown failure".into())
    };
    match attempt.outcome {
        Outcome::Delivered => Verdict::Delivered,
        Outcome::Final | Outcome::Refused => Verdict::GiveUp(reason()),
        Outcome::Retry => {
            let failed = delivery.attempts + 1;
            let wait = retry::delay(failed, attempt.retry_after, rand::random::<f64>());
            let at = now.saturating_add(micros(wait));
            if retry::within_window(delivery.created_at, at, window) {
                Verdict::RetryAt(at)
            } else {
                Verdict::GiveUp(format!("{} (gave up after {failed} attempts)", reason()))
            }
        }
    }
}

/// One attempt: the target and its secret are read now, signed now, and the outcome recorded.
async fn attempt(shared: &Shared, delivery: DueDelivery) {
    let (kind, id) = (delivery.target, delivery.target_id);
    let target = shared
        .db
        .read(move |conn| event_outbox::target(conn, kind, id))
        .await;
    let (result, url, headers) = match target {
        Ok(Some((url, secret))) => {
            let (result, headers) = send(shared, &delivery, &url, &secret).await;
            (result, Some(url), headers)
        }
        Ok(None) => {
            let gone = Attempt {
                outcome: Outcome::Final,
                status: None,
                error: Some(format!("the {} no longer exists", kind.describe())),
                retry_after: None,
            };
            (gone, None, Vec::new())
        }
        Err(e) => {
            log::warn!("delivery {}: reading its target failed: {e}", delivery.id);
            return;
        }
    };
    let now = shared.clock.now_micros();
    let verdict = judge(&delivery, &result, now, shared.settings.retry_window);
    if let Verdict::GiveUp(reason) = &verdict {
        log::warn!(
            "gave up delivering {} to {} {}: {reason}",
            delivery.event_name,
            kind.describe(),
            id
        );
    }
    if let Some(journal) = &shared.settings.journal {
        journal.push(record(&delivery, url, &headers, &result, &verdict, now));
    }
    let status = result.status;
    let error = result.error.clone();
    let recorded = shared
        .db
        .write(move |tx| record_outcome(tx, &delivery, status, error.as_deref(), &verdict, now))
        .await;
    if let Err(e) = recorded {
        log::warn!("recording a delivery attempt failed: {e}");
    }
}

fn record(
    delivery: &DueDelivery,
    url: Option<String>,
    headers: &[(&str, String)],
    result: &Attempt,
    verdict: &Verdict,
    now: i64,
) -> AttemptRecord {
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(name, value)| (name.to_string(), json!(value)))
        .collect();
    AttemptRecord {
        at: iso_millis(now),
        target: json!({
            "kind": delivery.target.describe(),
            "id": delivery.target_id,
            "url": url,
        }),
        event: delivery.event_name.clone(),
        delivery_id: delivery.delivery_id.clone(),
        headers: Value::Object(headers),
        body: serde_json::from_str(&delivery.payload).unwrap_or(Value::Null),
        status: result.status,
        error: result.error.clone(),
        next: match verdict {
            Verdict::Delivered => json!("delivered"),
            Verdict::RetryAt(at) => json!({ "retry_at": iso_millis(*at) }),
            Verdict::GiveUp(reason) => json!({ "given_up": reason }),
        },
    }
}

/// Sends the delivery, and says with which headers.
async fn send(
    shared: &Shared,
    delivery: &DueDelivery,
    url: &str,
    secret: &str,
) -> (Attempt, Vec<(&'static str, String)>) {
    let timestamp = shared.clock.now_micros().div_euclid(1_000_000);
    let body = delivery.payload.as_bytes();
    let mut headers = vec![("X-Chatwoot-Delivery", delivery.delivery_id.clone())];
    if !secret.is_empty() {
        headers.push(("X-Chatwoot-Timestamp", timestamp.to_string()));
        headers.push((
            "X-Chatwoot-Signature",
            signature::sign(secret, timestamp, body),
        ));
    }
    let attempt = shared.transport.post(url, body.to_vec(), &headers).await;
    (attempt, headers)
}

fn record_outcome(
    tx: &Conn,
    delivery: &DueDelivery,
    status: Option<u16>,
    error: Option<&str>,
    verdict: &Verdict,
    now: i64,
) -> Result<(), StoreError> {
    let outcome = event_outbox::Outcome { status, error };
    match verdict {
        Verdict::Delivered => event_outbox::delivered(tx, delivery.id, &outcome, now),
        Verdict::RetryAt(at) => event_outbox::retry_at(tx, delivery.id, &outcome, *at),
        Verdict::GiveUp(reason) => {
            let outcome = event_outbox::Outcome {
                status,
                error: Some(reason),
            };
            event_outbox::given_up(tx, delivery.id, &outcome, now)?;
            after_giving_up(tx, delivery, reason, now)
        }
    }
}

/// Chatwoot's failure handling, for message events only: an API inbox's message is marked
/// failed with the reason (which announces `message_updated`); a bot's pending conversation is
/// opened for people.
fn after_giving_up(
    tx: &Conn,
    delivery: &DueDelivery,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    if !matches!(
        delivery.event_name.as_str(),
        "message_created" | "message_updated"
    ) {
        return Ok(());
    }
    let outcome = match (
        delivery.target,
        delivery.message_id,
        delivery.conversation_id,
    ) {
        (TargetKind::ApiInbox, Some(message), _) => {
            messages::set_status(tx, message, MessageStatus::Failed, Some(reason), now)
        }
        (TargetKind::AgentBot, Some(_), Some(conversation)) => {
            changes::open_after_bot_failure(tx, conversation, now).map(|_| ())
        }
        _ => Ok(()),
    };
    match outcome {
        // The message or conversation was deleted meanwhile: nothing is left to mark.
        Err(StoreError::NotFound) => Ok(()),
        other => other,
    }
}
