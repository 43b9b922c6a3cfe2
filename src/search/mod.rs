//! Full-text search over message content: a tantivy index in the data dir that follows the
//! database through the outbox (DESIGN §3–§4).
//!
//! SQLite is the source of truth. Triggers write an outbox row with every change to a
//! searchable message; one indexer thread applies rows past its watermark and commits them
//! with that watermark in the commit payload. On start the payload tells where to resume; an
//! index that is missing, unreadable, of another format, or behind a pruned outbox is rebuilt
//! from the messages table.

mod contains;
mod fields;
mod indexer;
mod query;
mod summaries;
pub mod text;
mod tokens;
mod unindexed;

use crate::db::Conn;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy};
use tokio::sync::watch;

use crate::db::{locked, Db};
use crate::store::conversation_list::Summary;
use crate::store::search_feed::{self, Position};
use crate::store::StoreError;
use crate::supervisor::{self, Beat, Tasks};
use fields::{Fields, FORMAT};
pub use query::{ConversationHits, NewestMatch};
pub use summaries::Summaries;
pub use unindexed::{ChangedSummaries, CurrentHits};

/// The most documents a light search's rarest term may be in. A rare word's search reads a few
/// hundred and costs about what a list page does; a common word's reads tens of thousands.
const LIGHT_UP_TO: u64 = 2_000;

/// What a search finds as of its snapshot.
pub enum Current {
    Hits(CurrentHits),
    /// The index is too far behind the snapshot: wait until it shows this outbox position.
    Behind(i64),
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("the search index in {0} is in use by another wootlite process; stop it first")]
    InUse(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("an injected fault")]
    Injected,
    #[error("could not start a thread: {0}")]
    Thread(std::io::Error),
    #[error("loading the conversation summaries failed unexpectedly")]
    SummariesLoad,
}

/// What the last commit says about the index.
#[derive(serde::Serialize, serde::Deserialize)]
struct Watermark {
    format: u32,
    /// Every outbox row up to this one is in the index (SQLite).
    seq: i64,
    /// Every outbox row visible in this snapshot is (PostgreSQL; `seq` is then its mark).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    snapshot: Option<String>,
}

impl Watermark {
    fn read(index: &Index) -> Option<Watermark> {
        let payload = index.load_metas().ok()?.payload?;
        serde_json::from_str::<Watermark>(&payload)
            .ok()
            .filter(|w| w.format == FORMAT)
    }

    /// What the commit records of `position`: a pass under way is not recorded, and is read
    /// again after a restart (applying a row twice leaves the index as once).
    fn payload(position: &Position) -> String {
        let watermark = Watermark {
            format: FORMAT,
            seq: position.mark(),
            snapshot: match position {
                Position::Seq(_) => None,
                Position::Snapshot { applied, .. } => Some(applied.clone()),
            },
        };
        serde_json::to_string(&watermark).unwrap_or_default()
    }

    fn position(self) -> Position {
        match self.snapshot {
            Some(applied) => Position::Snapshot {
                applied,
                partly: None,
            },
            None => Position::Seq(self.seq),
        }
    }
}

/// An index opened for writing, and where it stands.
pub struct OpenedIndex {
    index: Index,
    writer: IndexWriter,
    fields: Fields,
    /// Where to resume following the outbox, or None when the index must be rebuilt first.
    resume_after: Option<Position>,
}

fn directory_error(path: &Path) -> impl FnOnce(std::io::Error) -> SearchError + '_ {
    move |source| SearchError::Directory {
        path: path.display().to_string(),
        source,
    }
}

/// A new empty index in `dir`, replacing whatever was there.
fn create_fresh(dir: &Path) -> Result<Index, SearchError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(directory_error(dir))?;
    }
    std::fs::create_dir_all(dir).map_err(directory_error(dir))?;
    let index = Index::create_in_dir(dir, fields::schema().0)?;
    tokens::register(&index);
    Ok(index)
}

/// The existing index if it opens, has this build's format, and its segments can be read.
fn open_existing(dir: &Path) -> Option<(Index, Watermark)> {
    if !dir.join("meta.json").exists() {
        return None;
    }
    // tantivy panics on some damaged files (one shorter than its footer) instead of returning
    // an error; either way the index is rebuilt.
    let opened = std::panic::catch_unwind(|| {
        let index = Index::open_in_dir(dir).map_err(|e| format!("unreadable ({e})"))?;
        tokens::register(&index);
        let watermark = Watermark::read(&index).ok_or("of another format")?;
        index
            .reader()
            .map_err(|e| format!("with unreadable segments ({e})"))?;
        Ok::<_, String>((index, watermark))
    });
    match opened {
        Ok(Ok(found)) => Some(found),
        Ok(Err(problem)) => {
            log::warn!("search index {problem}; rebuilding it");
            None
        }
        Err(_) => {
            log::warn!("search index damaged; rebuilding it");
            None
        }
    }
}

/// Whether the index can catch up from the outbox: the rows after its watermark must still be
/// there, and the database must not be older than the index.
fn can_resume(db: &Db, at: &Position) -> Result<bool, SearchError> {
    let after = match at {
        Position::Seq(after) => *after,
        Position::Snapshot { .. } => {
            return Ok(db.read_now(|conn| search_feed::can_follow_from(conn, at))?)
        }
    };
    Ok(db.read_now(|conn| {
        let latest = search_feed::latest_seq(conn)?;
        let oldest = search_feed::oldest_pending(conn)?;
        Ok(match (latest, oldest) {
            (latest, _) if latest < after => false,
            (latest, _) if latest == after => true,
            (_, Some(oldest)) => oldest <= after + 1,
            (_, None) => false,
        })
    })?)
}

/// Opens the index in `dir` for writing, creating it (to be rebuilt) when it is missing or
/// unusable. Fails when another process holds it.
pub fn open_for_writing(
    dir: &Path,
    db: &Db,
    threads: usize,
    memory: usize,
) -> Result<OpenedIndex, SearchError> {
    let opened = open_existing(dir).map(|(index, watermark)| (index, watermark.position()));
    let (index, resume_after) = match opened {
        Some((index, at)) if can_resume(db, &at)? => (index, Some(at)),
        Some((index, _)) => {
            log::warn!(
                "search index is not where the database's outbox can resume it; rebuilding it"
            );
            (index, None)
        }
        None => (create_fresh(dir)?, None),
    };
    let writer = index
        .writer_with_num_threads(threads, memory)
        .map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => SearchError::InUse(dir.display().to_string()),
            other => SearchError::Index(other),
        })?;
    // Merges run on the indexer's own thread between its commits (`indexer::merge_now`), never
    // beside a commit: a merge that finished in the background while deletes were committed
    // could, after a kill, leave one of those deletes out of the merged segment.
    writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    Ok(OpenedIndex {
        index,
        writer,
        fields: fields::schema().1,
        resume_after,
    })
}

/// Rebuilds the index in `dir` from the database now, reporting `(indexed, total)` as it goes.
/// Returns the number of messages indexed.
pub fn rebuild(
    dir: &Path,
    db: &Db,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<u64, SearchError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let mut opened = open_for_writing(dir, db, threads, 256 << 20)?;
    let (position, indexed) = indexer::rebuild(&mut opened.writer, &opened.fields, db, progress)?;
    indexer::merge_now(&mut opened.writer)?;
    opened.writer.wait_merging_threads()?;
    db.write_now(|tx| search_feed::prune(tx, &position))?;
    Ok(indexed)
}

/// Documents in the index at `dir` (its last commit).
pub fn count_documents(dir: &Path) -> Result<u64, SearchError> {
    let index = Index::open_in_dir(dir)?;
    Ok(index.reader()?.searcher().num_docs())
}

/// A failure the indexer's next pass meets, for fault tests: the supervisor must log it,
/// report the indexer down, reopen the index and catch up.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    Error,
    Panic,
}

/// The serving side: a reader that follows the indexer's commits, and the watermark those
/// commits have made visible. The indexer itself runs under the supervisor (`run_indexer`),
/// which reopens the index, or rebuilds it from the database, after any failure.
pub struct SearchIndex {
    dir: PathBuf,
    db: Db,
    fields: Fields,
    /// Replaced when a reopened or rebuilt index is first published.
    reader: RwLock<IndexReader>,
    /// The mark of the outbox position visible to searches (`Position::mark`); -1 until the
    /// first catch-up is done.
    visible: watch::Receiver<i64>,
    publish: watch::Sender<i64>,
    /// That position itself.
    position: RwLock<Option<Position>>,
    signals: Mutex<mpsc::Sender<indexer::Signal>>,
    /// Taken by the running indexer for the length of its run.
    inbox: Mutex<mpsc::Receiver<indexer::Signal>>,
    /// The index opened at start, for the first run (so that start-up reports a busy index).
    opened: Mutex<Option<OpenedIndex>>,
    /// When the indexer last finished a pass, for `/health`.
    last_pass: Mutex<Instant>,
    /// An injected fault and how many more runs it fails.
    fault: Mutex<Option<(Fault, u32)>>,
    /// What the next load of the summaries waits for once it has read them, for tests.
    summaries_hold: Mutex<Option<mpsc::Receiver<()>>>,
    /// Every conversation's summary, kept by the indexer from the same outbox.
    summaries: RwLock<Summaries>,
    columns: query::ColumnCache,
    /// How many matching messages a search records the ids of (`query::RECORD_UP_TO`).
    record_up_to: AtomicUsize,
}

impl SearchIndex {
    /// Opens (or creates) the index in `dir`; `run_indexer` then keeps it following the database.
    pub fn start(dir: &Path, db: &Db) -> Result<Self, SearchError> {
        let opened = open_for_writing(dir, db, 1, 64 << 20)?;
        let reader = manual_reader(&opened.index)?;
        let (publish, visible) = watch::channel(-1);
        let (signals, inbox) = mpsc::channel();
        Ok(Self {
            dir: dir.to_path_buf(),
            db: db.clone(),
            fields: opened.fields,
            reader: RwLock::new(reader),
            visible,
            publish,
            position: RwLock::new(None),
            signals: Mutex::new(signals),
            inbox: Mutex::new(inbox),
            opened: Mutex::new(Some(opened)),
            last_pass: Mutex::new(Instant::now()),
            fault: Mutex::new(None),
            summaries_hold: Mutex::new(None),
            summaries: RwLock::new(Summaries::default()),
            columns: query::ColumnCache::default(),
            record_up_to: AtomicUsize::new(query::RECORD_UP_TO),
        })
    }

    /// The indexer: applies the outbox until told to stop (`Ok`) or until a pass fails (`Err`,
    /// the writer dropped with whatever it had not committed). Each run opens the index again,
    /// rebuilding it when it is gone or damaged; what it had committed stays.
    pub fn run_indexer(&self, beat: &Beat) -> Result<(), SearchError> {
        let inbox = locked(&self.inbox);
        // This run loads its own copy; searches read the database until it has.
        self.replace_summaries(Summaries::default());
        let opened = match locked(&self.opened).take() {
            Some(opened) => opened,
            None => open_for_writing(&self.dir, &self.db, 1, 64 << 20)?,
        };
        let reader = manual_reader(&opened.index)?;
        let worker = indexer::Indexer {
            writer: opened.writer,
            reader,
            fields: opened.fields,
            db: self.db.clone(),
            applied: opened.resume_after,
            serving: self,
            signals: &inbox,
            beat,
            installed: false,
            summaries: indexer::SummariesCopy::Wanted,
            horizons: Default::default(),
            committed_at: Instant::now(),
        };
        worker.run()
    }

    /// Runs the indexer on its own thread under `tasks`' supervision, restarted when it fails,
    /// until `stop` is called.
    pub fn spawn_indexer(self: &Arc<Self>, tasks: &Tasks) -> tokio::task::JoinHandle<()> {
        if let Some(others) = self.db.others_wrote() {
            tokio::spawn(hurry_when_others_write(Arc::downgrade(self), others));
        }
        let search = Arc::clone(self);
        tasks.spawn("search-indexer", move |beat| {
            let search = Arc::clone(&search);
            supervisor::on_thread("search-indexer", move || {
                search.run_indexer(&beat).map_err(|e| e.to_string())
            })
        })
    }

    /// Makes `reader` the one searches use, and `position` the one they see.
    fn install(&self, reader: &IndexReader, position: &Position) {
        *self.reader.write().unwrap_or_else(|p| p.into_inner()) = reader.clone();
        *self.position.write().unwrap_or_else(|p| p.into_inner()) = Some(position.clone());
        self.publish.send_replace(position.mark());
    }

    fn passed(&self) {
        *locked(&self.last_pass) = Instant::now();
    }

    fn take_fault(&self) -> Option<Fault> {
        let mut slot = locked(&self.fault);
        let (fault, left) = (*slot)?;
        *slot = (left > 1).then_some((fault, left - 1));
        Some(fault)
    }

    /// Records the ids of at most `messages` matching messages per search, so that a test
    /// reaches the pages that look up their newest matches without matching half a million.
    pub fn record_matches_up_to(&self, messages: usize) {
        self.record_up_to.store(messages, Ordering::Relaxed);
    }

    /// Makes the indexer's next `runs` runs fail as `fault` says, each at its first pass.
    pub fn inject_fault(&self, fault: Fault, runs: u32) {
        *locked(&self.fault) = (runs > 0).then_some((fault, runs));
        self.signal(indexer::Signal::Hurry);
    }

    /// Makes the next load of the summaries hold them, once read, until the returned sender is
    /// dropped or sent to: a slow load of a large database, for tests of what goes on meanwhile.
    pub fn hold_next_summaries_load(&self) -> mpsc::Sender<()> {
        let (release, held) = mpsc::channel();
        *locked(&self.summaries_hold) = Some(held);
        release
    }

    /// Whether a load asked to hold has begun.
    pub fn held_summaries_load_begun(&self) -> bool {
        locked(&self.summaries_hold).is_none()
    }

    fn take_summaries_hold(&self) -> Option<mpsc::Receiver<()>> {
        locked(&self.summaries_hold).take()
    }

    /// Whether searches use the indexer's copy of the summaries now.
    pub fn summaries_loaded(&self) -> bool {
        self.with_summaries(|_| ()).is_some()
    }

    fn signal(&self, signal: indexer::Signal) {
        let sender = locked(&self.signals);
        // A stopped indexer has nothing to be told.
        let _ = sender.send(signal);
    }

    /// Waits until every outbox row up to `seq` is visible to searches. False on timeout.
    pub async fn wait_until_visible(&self, seq: i64, timeout: Duration) -> bool {
        if *self.visible.borrow() >= seq && seq >= 0 {
            return true;
        }
        self.signal(indexer::Signal::Hurry);
        let mut visible = self.visible.clone();
        let reached = tokio::time::timeout(timeout, visible.wait_for(|v| *v >= seq.max(0))).await;
        matches!(reached, Ok(Ok(_)))
    }

    /// The mark of the outbox position visible to searches (-1 before the first catch-up).
    pub fn visible_seq(&self) -> i64 {
        *self.visible.borrow()
    }

    /// The outbox position visible to searches (None before the first catch-up).
    pub fn visible_position(&self) -> Option<Position> {
        self.position
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// How long ago the indexer last finished a pass (it passes every ~100 ms while up).
    pub fn since_last_pass(&self) -> Duration {
        locked(&self.last_pass).elapsed()
    }

    fn searcher(&self) -> tantivy::Searcher {
        self.reader
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .searcher()
    }

    /// The account's conversations with a message containing `needle` (not empty), and while
    /// the matching messages are few, each one's newest.
    pub fn find(&self, account_id: i64, needle: &str) -> Result<ConversationHits, SearchError> {
        self.find_in(&self.searcher(), account_id, needle)
    }

    fn find_in(
        &self,
        searcher: &tantivy::Searcher,
        account_id: i64,
        needle: &str,
    ) -> Result<ConversationHits, SearchError> {
        match query::matching(searcher, &self.fields, account_id, needle)? {
            Some(matching) => {
                let record_up_to = self.record_up_to.load(Ordering::Relaxed);
                let hits = query::conversations(searcher, &matching, &self.columns, record_up_to)?;
                Ok(hits)
            }
            None => Ok(ConversationHits::none()),
        }
    }

    /// The summaries of the conversations changed after the index's position, read in `conn`'s
    /// snapshot, which must not have begun: with the index's copy (`with_summaries`) they are
    /// every conversation's summary as of the snapshot, or newer. None when the index is too
    /// far behind.
    pub fn changed_summaries(&self, conn: &Conn) -> Result<Option<ChangedSummaries>, SearchError> {
        // This read begins the snapshot, before the index's position is taken.
        search_feed::latest_seq(conn)?;
        let Some(indexed) = self.visible_position() else {
            return Ok(None);
        };
        unindexed::changed_summaries(conn, &indexed)
    }

    /// Whether a search for `needle` reads few enough of the index to run as a plain read,
    /// beside gets and lists, rather than among the heavy reads: true when its rarest term is
    /// in at most `LIGHT_UP_TO` documents.
    pub fn is_light(&self, needle: &str) -> bool {
        query::candidates(&self.searcher(), &self.fields, needle)
            .is_ok_and(|documents| documents <= LIGHT_UP_TO)
    }

    /// What a search for `needle` (not empty) matches in `conn`'s snapshot, which must not have
    /// begun yet: the index's hits, brought up to the snapshot with the changes the index has
    /// not taken in. `Behind(seq)` when those are too many to read here: the caller waits until
    /// the index shows `seq`, and asks again.
    pub fn find_current(
        &self,
        conn: &Conn,
        account_id: i64,
        needle: &str,
    ) -> Result<Current, SearchError> {
        // This read begins the snapshot, before the index's position is taken.
        let written = search_feed::latest_seq(conn)?;
        let Some(indexed) = self.visible_position() else {
            return Ok(Current::Behind(written));
        };
        // Installed no earlier than `indexed` was published.
        let searcher = self.searcher();
        let hits = self.find_in(&searcher, account_id, needle)?;
        let needle = text::Needle::new(needle);
        let current = unindexed::bring_up_to_date(
            conn,
            &searcher,
            &self.fields,
            account_id,
            &indexed,
            &needle,
            hits,
        )?;
        Ok(current.map_or(Current::Behind(written), Current::Hits))
    }

    /// Runs `read` on the conversation summaries, or returns None while they are not loaded
    /// (or cannot be relied on): the caller then reads the database.
    pub fn with_summaries<T>(&self, read: impl FnOnce(&Summaries) -> T) -> Option<T> {
        let summaries = self.summaries.read().unwrap_or_else(|p| p.into_inner());
        summaries.is_usable().then(|| read(&summaries))
    }

    fn replace_summaries(&self, loaded: Summaries) {
        *self.summaries.write().unwrap_or_else(|p| p.into_inner()) = loaded;
    }

    fn update_summaries(&self, changed: Vec<(i64, Option<Summary>)>) {
        let mut summaries = self.summaries.write().unwrap_or_else(|p| p.into_inner());
        for (id, summary) in changed {
            summaries.set(id, summary);
        }
    }

    pub fn document_count(&self) -> u64 {
        self.searcher().num_docs()
    }

    /// Asks the indexer to stop after its current batch; its supervised task then ends.
    pub fn stop(&self) {
        self.signal(indexer::Signal::Stop);
    }
}

/// Where nodes share the outbox, another node's write wakes the indexer at once rather than
/// at its next poll. Ends with the index, or with the database's notifications.
async fn hurry_when_others_write(
    search: std::sync::Weak<SearchIndex>,
    mut others: tokio::sync::watch::Receiver<u64>,
) {
    while others.changed().await.is_ok() {
        let Some(search) = search.upgrade() else {
            return;
        };
        search.signal(indexer::Signal::Hurry);
    }
}

fn manual_reader(index: &Index) -> Result<IndexReader, SearchError> {
    Ok(index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?)
}
