//! The one indexer thread: applies the outbox to the index in batches, commits each batch with
//! its watermark, and only then makes it visible and prunes the outbox behind it.

use crate::db::Conn;
use std::collections::{BTreeSet, HashMap};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use tantivy::indexer::{LogMergePolicy, MergePolicy};
use tantivy::{IndexReader, IndexWriter, Term};

use super::fields::{document, id_value, Fields};
use super::{Fault, SearchError, SearchIndex, Summaries, Watermark};
use crate::db::Db;
use crate::feed_pruning::SharedPruning;
use crate::store::conversation_list::Summary;
use crate::store::feed_follow;
use crate::store::search_feed::{self, Change, Position, SearchableMessage};
use crate::store::StoreError;
use crate::supervisor::Beat;

/// How long writes may wait for a commit when no search is waiting for them: tantivy commits
/// cost milliseconds each, so they are grouped.
const POLL: Duration = Duration::from_millis(100);
/// Outbox rows applied per commit at most.
const BATCH: i64 = 5_000;
/// How often a quiet index records a newer snapshot position.
const QUIET_COMMIT_EVERY: Duration = Duration::from_secs(30);

pub enum Signal {
    /// A search is waiting: apply what is pending now.
    Hurry,
    Stop,
}

pub struct Indexer<'a> {
    pub writer: IndexWriter,
    pub reader: IndexReader,
    pub fields: Fields,
    pub db: Db,
    /// How much of the outbox the index holds; None until the index is rebuilt.
    pub applied: Option<Position>,
    pub serving: &'a SearchIndex,
    pub signals: &'a Receiver<Signal>,
    pub beat: &'a Beat,
    /// Whether this run's reader is the one searches use yet.
    pub installed: bool,
    /// This run's copy of the conversation summaries. Until it is loaded, searches do not use
    /// one: a previous run's copy may have missed changes this run has applied.
    pub summaries: SummariesCopy,
    /// Where nodes share the outbox: the horizons seen, to prune below once old enough.
    pub horizons: SharedPruning,
    /// When this run last committed the index.
    pub committed_at: Instant,
}

impl Indexer<'_> {
    /// Passes until told to stop; the first failure ends the run (the supervisor reopens the
    /// index: a tantivy writer that failed a commit may refuse every later one). Either way the
    /// writer's merges finish before it goes, so that none runs beside the next writer.
    pub fn run(mut self) -> Result<(), SearchError> {
        let outcome = self.pass_until_stopped();
        self.finish();
        outcome
    }

    fn pass_until_stopped(&mut self) -> Result<(), SearchError> {
        loop {
            self.step()?;
            self.serving.passed();
            self.beat.ok();
            match self.signals.recv_timeout(POLL) {
                Ok(Signal::Hurry) | Err(RecvTimeoutError::Timeout) => {}
                Ok(Signal::Stop) | Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
            // Several searches may have asked; one pass serves them all.
            let mut stop = false;
            while let Ok(signal) = self.signals.try_recv() {
                stop |= matches!(signal, Signal::Stop);
            }
            if stop {
                return Ok(());
            }
        }
    }

    fn finish(self) {
        if let Err(e) = self.writer.wait_merging_threads() {
            log::warn!("search index merges did not finish: {e}");
        }
    }

    /// Rebuilds if needed, then applies everything pending.
    fn step(&mut self) -> Result<(), SearchError> {
        match self.serving.take_fault() {
            Some(Fault::Error) => return Err(SearchError::Injected),
            Some(Fault::Panic) => panic!("injected indexer fault"),
            None => {}
        }
        match self.applied.clone() {
            None => self.rebuild()?,
            Some(after) => self.catch_up(after)?,
        }
        if self.db.is_postgres() {
            self.prune_shared();
        }
        // After the first publish, so that searches need not wait for it: until then they
        // read the database.
        self.follow_summaries_load()
    }

    fn rebuild(&mut self) -> Result<(), SearchError> {
        log::info!("rebuilding the search index from the database");
        let started = std::time::Instant::now();
        let (position, indexed) =
            rebuild(&mut self.writer, &self.fields, &self.db, &mut |_, _| {})?;
        log::info!(
            "search index rebuilt: {indexed} messages in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        // The jump skipped the changes in between, which the copy of the summaries may lack:
        // searches read the database until a new copy is loaded.
        self.serving.replace_summaries(Summaries::default());
        self.summaries = SummariesCopy::Wanted;
        self.publish(&position)?;
        self.prune(&position);
        merge_now(&mut self.writer)
    }

    /// Starts loading the summaries beside the indexer, or installs them once loaded. The
    /// load takes seconds on a large PostgreSQL database under load, and the outbox is applied
    /// meanwhile, so that searches are not left behind it.
    ///
    /// The load reads one snapshot taken after it starts. Every change applied before that is
    /// in it; the changes applied while it runs are laid over it, since its snapshot may not
    /// hold them and they are not read again. What comes later is applied on top as usual.
    fn follow_summaries_load(&mut self) -> Result<(), SearchError> {
        match &self.summaries {
            SummariesCopy::Wanted => {
                let db = self.db.clone();
                let hold = self.serving.take_summaries_hold();
                let load = std::thread::Builder::new()
                    .name("summaries-load".into())
                    .spawn(move || load_summaries(&db, hold))
                    .map_err(SearchError::Thread)?;
                self.summaries = SummariesCopy::Loading {
                    load,
                    applied: HashMap::new(),
                };
            }
            SummariesCopy::Loading { load, .. } if load.is_finished() => {
                let done = std::mem::replace(&mut self.summaries, SummariesCopy::Loaded);
                if let SummariesCopy::Loading { load, applied } = done {
                    let mut loaded = load.join().map_err(|_| SearchError::SummariesLoad)??;
                    for (id, summary) in applied {
                        loaded.set(id, summary);
                    }
                    self.serving.replace_summaries(loaded);
                }
            }
            SummariesCopy::Loading { .. } | SummariesCopy::Loaded => {}
        }
        Ok(())
    }

    fn catch_up(&mut self, mut after: Position) -> Result<(), SearchError> {
        loop {
            let batch = self.db.read_now(|conn| read_batch(conn, &after))?;
            let Some(Batch {
                next,
                messages: changed,
                conversations,
            }) = batch
            else {
                log::warn!("the search outbox was pruned past this index; rebuilding it");
                return self.rebuild();
            };
            if changed.is_empty() && conversations.is_empty() {
                // Nothing new: still publish, so the first catch-up of a run is announced
                // (and a newer snapshot seen, where positions are snapshots).
                if !self.installed || self.serving.visible_position().as_ref() != Some(&next) {
                    self.record_quiet_progress(&next)?;
                    self.publish(&next)?;
                }
                return Ok(());
            }
            if let SummariesCopy::Loading { applied, .. } = &mut self.summaries {
                applied.extend(conversations.iter().copied());
            }
            self.serving.update_summaries(conversations);
            self.apply(&changed)?;
            commit(&mut self.writer, &next)?;
            self.committed_at = Instant::now();
            self.publish(&next)?;
            self.prune(&next);
            merge_now(&mut self.writer)?;
            // Under steady writes a catch-up may never run dry; each committed batch is
            // progress, and `/health` must not call an indexer that keeps up stalled.
            self.serving.passed();
            self.beat.ok();
            after = next;
        }
    }

    /// Delete-then-add by message id: the index ends up holding each message as it is now.
    fn apply(&self, changed: &[(i64, Option<SearchableMessage>)]) -> Result<(), SearchError> {
        for (id, message) in changed {
            self.writer
                .delete_term(Term::from_field_u64(self.fields.message_id, id_value(*id)));
            if let Some(message) = message {
                self.writer.add_document(document(&self.fields, message))?;
            }
        }
        Ok(())
    }

    /// Where a position moves without rows (a newer snapshot), commits it now and then, so
    /// that a node restarted after a quiet spell resumes from a position the outbox still
    /// holds rows after, rather than rebuilding.
    fn record_quiet_progress(&mut self, position: &Position) -> Result<(), SearchError> {
        if matches!(position, Position::Snapshot { .. })
            && self.committed_at.elapsed() >= QUIET_COMMIT_EVERY
        {
            commit(&mut self.writer, position)?;
            self.committed_at = Instant::now();
        }
        Ok(())
    }

    /// Makes committed work visible to searches, and says how far it goes.
    fn publish(&mut self, position: &Position) -> Result<(), SearchError> {
        self.reader.reload()?;
        self.applied = Some(position.clone());
        // Until its first publish a run's index may be empty (being rebuilt): searches keep
        // the previous reader, which still matches the position they were told.
        self.serving.install(&self.reader, position);
        self.installed = true;
        Ok(())
    }

    /// The index has committed everything up to `position`; where it is the outbox's only
    /// follower, the outbox can forget that.
    fn prune(&self, position: &Position) {
        if matches!(position, Position::Snapshot { .. }) {
            return;
        }
        if let Err(e) = self.db.write_now(|tx| search_feed::prune(tx, position)) {
            log::warn!("search outbox prune failed (retried after the next batch): {e}");
        }
    }

    /// Where nodes share the outbox, rows are kept for `SHARED_RETENTION` whatever each node
    /// has applied, and a node that has fallen further behind rebuilds its index.
    fn prune_shared(&mut self) {
        let now = Instant::now();
        if !self.horizons.wants_horizon(now) {
            return;
        }
        let pruned = self
            .db
            .read_now(feed_follow::horizon_now)
            .and_then(
                |horizon| match self.horizons.noted(now, horizon, SHARED_RETENTION) {
                    Some(below) => self
                        .db
                        .write_now(|tx| search_feed::prune_shared(tx, &below))
                        .map(|_| ()),
                    None => Ok(()),
                },
            );
        if let Err(e) = pruned {
            log::warn!("search outbox prune failed (tried again later): {e}");
        }
    }
}

/// A run's copy of the conversation summaries (`Indexer::follow_summaries_load`).
pub enum SummariesCopy {
    /// Loaded after the run's first publish.
    Wanted,
    /// Being read on its own thread; the conversation changes applied meanwhile, by id.
    Loading {
        load: std::thread::JoinHandle<Result<Summaries, StoreError>>,
        applied: HashMap<i64, Option<Summary>>,
    },
    Loaded,
}

/// Every conversation's summary as the database holds it now; handed over only once `hold`
/// is released, when a test holds it.
fn load_summaries(db: &Db, hold: Option<Receiver<()>>) -> Result<Summaries, StoreError> {
    let started = Instant::now();
    let loaded = db.read_now(Summaries::load)?;
    log::info!(
        "conversation summaries loaded in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    if let Some(hold) = hold {
        // A message or the sender dropped: either releases it.
        let _ = hold.recv();
    }
    Ok(loaded)
}

/// How long the outbox keeps a row where nodes share it: far longer than a node that is up
/// takes to apply it (every 100 ms), so only a node away longer rebuilds its index.
const SHARED_RETENTION: Duration = Duration::from_secs(10 * 60);

/// The outbox rows after a position, read as the database holds them now.
struct Batch {
    /// Where the index stands once it has applied them.
    next: Position,
    /// Each message changed, with what the index should hold for it.
    messages: Vec<(i64, Option<SearchableMessage>)>,
    /// Each conversation changed, with its summary (None once it is gone).
    conversations: Vec<(i64, Option<Summary>)>,
}

/// The next rows after `after` (perhaps none), or None when they have been pruned.
fn read_batch(conn: &Conn, after: &Position) -> Result<Option<Batch>, StoreError> {
    let Some((pending, next)) = search_feed::next_rows(conn, after, BATCH)? else {
        return Ok(None);
    };
    let mut message_ids = BTreeSet::new();
    let mut conversation_ids = BTreeSet::new();
    for (_, change) in pending {
        match change {
            Change::Message(id) => message_ids.insert(id),
            Change::Conversation(id) => conversation_ids.insert(id),
        };
    }
    let messages = message_ids
        .into_iter()
        .map(|id| Ok((id, search_feed::searchable(conn, id)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let ids: Vec<i64> = conversation_ids.into_iter().collect();
    let found: HashMap<i64, Summary> = search_feed::summaries(conn, &ids)?
        .into_iter()
        .map(|summary| (summary.id, summary))
        .collect();
    let conversations = ids.iter().map(|id| (*id, found.get(id).copied())).collect();
    Ok(Some(Batch {
        next,
        messages,
        conversations,
    }))
}

/// Merges what tantivy's usual (log) policy would merge, now and to the end, on this thread:
/// no merge is ever in flight while deletes are committed.
pub(super) fn merge_now(writer: &mut IndexWriter) -> Result<(), SearchError> {
    let segments = writer.index().searchable_segment_metas()?;
    let candidates = LogMergePolicy::default().compute_merge_candidates(&segments);
    for candidate in candidates {
        writer.merge(&candidate.0).wait()?;
    }
    Ok(())
}

fn commit(writer: &mut IndexWriter, position: &Position) -> Result<(), SearchError> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&Watermark::payload(position));
    prepared.commit()?;
    Ok(())
}

/// Replaces the index's content with every searchable message, read in one snapshot together
/// with the outbox position it corresponds to. Returns `(position, messages indexed)`.
pub fn rebuild(
    writer: &mut IndexWriter,
    fields: &Fields,
    db: &Db,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<(Position, u64), SearchError> {
    writer.delete_all_documents()?;
    let (position, indexed) = db.read_snapshot(|snapshot| {
        let position = search_feed::position_now(snapshot)?;
        let total = search_feed::count_searchable(snapshot)?.max(0) as u64;
        let mut indexed = 0u64;
        progress(0, total);
        search_feed::for_each_searchable(snapshot, |message| {
            writer
                .add_document(document(fields, &message))
                .map_err(|e| StoreError::Database(format!("search index: {e}")))?;
            indexed += 1;
            if indexed.is_multiple_of(10_000) || indexed == total {
                progress(indexed, total);
            }
            Ok(())
        })?;
        Ok((position, indexed))
    })?;
    commit(writer, &position)?;
    Ok((position, indexed))
}
