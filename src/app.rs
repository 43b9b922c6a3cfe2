//! Builds the HTTP application from `Settings`: opens the database, provisions a first account on
//! an empty data dir, binds the listener, and runs until SIGINT/SIGTERM, then checkpoints the WAL.

use crate::db::Conn;
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Logger};
use actix_web::{web, App, HttpServer};

use crate::api;
use crate::api::body_timeout::BodyPace;
use crate::api::input::BodyLimit;
use crate::api::public::rate_limit::PublicRateLimit;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{Db, DbError, PoolSizes};
use crate::dir_lock::{DataDirLock, LockError};
use crate::error::ApiError;
use crate::events::address_policy::RuleError;
use crate::events::transport::{Transport, TransportError};
use crate::events::{self, sender::SenderSettings};
use crate::mail::{self, MailError, Mailer};
use crate::metrics::{self, Metrics, MetricsError, RecordRequests};
use crate::models::Performer;
use crate::provision::{self, Bootstrap};
use crate::realtime::{self, hub::Hub};
use crate::search::{SearchError, SearchIndex};
use crate::snooze::{self, SnoozeSignal};
use crate::store::StoreError;
use crate::supervisor::{Beat, Tasks};
use crate::views::conversations::Links;

/// How often table statistics are refreshed while serving.
const OPTIMIZE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);
/// How often the WAL's size is compared with its target.
const WAL_LOOK_EVERY: std::time::Duration = std::time::Duration::from_millis(50);
/// How long a stop waits for the indexer to finish its batch.
const INDEXER_STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub search: Arc<SearchIndex>,
    /// The background tasks and where each stands, for `/health`.
    pub tasks: Tasks,
    pub snoozes: SnoozeSignal,
    pub mailer: Mailer,
    pub emails_per_day: Option<u32>,
    pub clock: Clock,
    /// Attachment files are stored here, under random keys.
    pub files_dir: std::path::PathBuf,
    /// The base of attachment URLs and invitation links; derived from each request when unset.
    pub public_url: Option<String>,
    /// Largest attachment file, largest total of one message's files, and largest JSON body or
    /// form fields accepted.
    pub max_attachment_bytes: usize,
    pub max_message_attachments_bytes: usize,
    pub max_body_bytes: usize,
    /// Turns for multipart uploads being received (`--max-concurrent-uploads`).
    pub upload_turns: tokio::sync::Semaphore,
    /// Present only with `--metrics`: without it nothing is recorded.
    pub metrics: Option<Arc<Metrics>>,
    /// The base of attachment URLs in event payloads, which are built outside any request.
    pub event_links: Links,
    /// The `/cable` connections and their subscriptions.
    pub hub: Arc<Hub>,
    /// Who was seen lately on `/cable`.
    pub presence: Arc<realtime::presence::Presence>,
    pub watching: Arc<realtime::watching::Watching>,
    /// Dev mode's journals and settings; `None` outside dev mode.
    pub dev: Option<Arc<api::dev::DevTools>>,
    /// Whom each access token grants what, as of the directory's current generation.
    pub principals: crate::auth::Principals,
    /// Assignees, teams and channels as conversations show them (see `store::catalog`).
    pub catalog: Arc<crate::store::catalog::Catalog>,
}

impl AppState {
    pub fn now(&self) -> i64 {
        self.clock.now_micros()
    }

    /// A request write whose time is read inside its transaction, on the writer thread: times
    /// then follow the order in which the writer hands out ids, so paging by id and ordering by
    /// time agree even under concurrent writers.
    pub async fn write_at<T, F>(&self, mut work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnMut(&Conn, i64) -> Result<T, StoreError> + Send + 'static,
    {
        let clock = self.clock.clone();
        self.db.write(move |tx| work(tx, clock.now_micros())).await
    }

    /// What a write that records its own events needs.
    pub fn recording(&self) -> events::Recording {
        events::Recording {
            links: self.event_links.clone(),
            live: Some(Arc::clone(&self.hub)),
        }
    }

    /// `write_at` for a change someone makes: its events name them as `performed_by`.
    pub async fn write_by<T, F>(
        &self,
        actor: impl Into<Performer>,
        mut work: F,
    ) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnMut(&Conn, i64) -> Result<T, StoreError> + Send + 'static,
    {
        let (clock, actor) = (self.clock.clone(), actor.into());
        let recording = self.recording();
        self.db
            .write(move |tx| {
                let now = clock.now_micros();
                let value = work(tx, now)?;
                recording.record(tx, Some(actor), now)?;
                Ok(value)
            })
            .await
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    #[error(transparent)]
    WebhookRule(#[from] RuleError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("{0}")]
    Settings(String),
    #[error("cannot load the fixtures: {0}")]
    Fixtures(#[from] crate::fixtures::FixtureError),
    #[error("cannot provision the first account: {0}")]
    Provision(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

pub struct Application {
    /// Held until the server has stopped and closed the database.
    lock: DataDirLock,
    tasks: Tasks,
    server: Server,
    port: u16,
    bootstrap: Bootstrap,
    first_password_token: Option<String>,
    db: Db,
    search: Arc<SearchIndex>,
    clock: Clock,
    snoozes: SnoozeSignal,
    mailer: Mailer,
    wal_target_bytes: u64,
    transport: Arc<Transport>,
    sender_settings: SenderSettings,
    hub: Arc<Hub>,
    publishing: realtime::Publishing,
    watching: Arc<realtime::watching::Watching>,
    /// Dev mode's state, where nodes share a PostgreSQL database and its dev state with it.
    shared_dev: Option<web::Data<AppState>>,
}

impl Application {
    pub fn build(settings: &Settings, clock: Clock) -> Result<Self, StartError> {
        // A bad file stops the start before the data dir is touched, on every start.
        let fixtures = match (&settings.fixtures, settings.demo) {
            (Some(path), _) => Some(crate::fixtures::read(path)?),
            (None, true) => Some(crate::fixtures::demo()),
            (None, false) => None,
        };
        // Before anything in the data dir is read or written.
        let lock = DataDirLock::acquire(&settings.data_dir.path)?;
        let tasks = Tasks::default();
        let pools = PoolSizes {
            // Workers read on their own thread and must never wait for a connection; the
            // background tasks (indexer, snoozes, mail) read too.
            read: settings
                .read_pool_size
                .max(worker_count(settings) as u32 + 4),
            heavy: heavy_concurrency(settings),
        };
        let db = match &settings.database.url {
            Some(url) => Db::open_postgres(url, pools)?,
            None => Db::open(&settings.data_dir.database_file(), pools)?,
        };
        api::files::sweep_incoming(&settings.files_dir());
        let claim_lease = settings.claim_lease().map_err(StartError::Settings)?;
        let token = settings.bootstrap_token.as_deref();
        let bootstrap = match &fixtures {
            Some(fixtures) => {
                provision::bootstrap_fixtures(&db, fixtures, token, clock.now_micros())?
            }
            None => provision::bootstrap(&db, token, clock.now_micros())?,
        };
        // A convenience: a data dir that cannot take the write (a full disk) still starts.
        let first_password_token = provision::first_password_token(&db, clock.now_micros())
            .unwrap_or_else(|e| {
                log::warn!("cannot issue the administrator's set-password link: {e}");
                None
            });
        // After provisioning, so that a data dir already at its limit still starts.
        if let Some(bytes) = settings.max_database_bytes {
            db.limit_size(bytes)?;
        }
        let search = Arc::new(SearchIndex::start(&settings.data_dir.search_dir(), &db)?);
        let snoozes = SnoozeSignal::default();
        let mail_dir = settings.mail_dir();
        let mailer = Mailer::new(settings.smtp_url.as_deref(), &settings.mail_from, &mail_dir)?;
        let listener = TcpListener::bind(settings.bind).map_err(|source| StartError::Bind {
            addr: settings.bind.to_string(),
            source,
        })?;
        let port = listener.local_addr().map_err(|source| StartError::Bind {
            addr: settings.bind.to_string(),
            source,
        })?;
        let event_links = Links {
            base_url: settings
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{port}")),
        };
        let hub = Arc::new(Hub::default());
        let recording = events::Recording {
            links: event_links.clone(),
            live: Some(Arc::clone(&hub)),
        };
        events::attach(&db, clock.clone(), recording)?;
        let publishing = realtime::attach(&db, Arc::clone(&hub))?;
        let watching = Arc::new(realtime::watching::Watching::for_database(&db));
        let transport = Arc::new(Transport::new(settings.transport_settings()?)?);
        let dev = settings.dev.then(|| {
            Arc::new(api::dev::DevTools {
                requests: Default::default(),
                webhooks: Default::default(),
                info: settings.shown(),
                mail_dir: mail_dir.clone(),
                bootstrap_token: settings.bootstrap_token.clone(),
                fixtures: fixtures.clone().map(Arc::new),
                shared: Default::default(),
            })
        });
        let sender_settings = SenderSettings {
            concurrency: settings.webhook_concurrency,
            retry_window: std::time::Duration::from_secs(settings.webhook_retry_window_secs),
            retention: std::time::Duration::from_secs(settings.event_retention_secs),
            journal: dev.as_ref().map(|d| Arc::clone(&d.webhooks)),
            claim_lease,
        };
        let metrics = settings
            .metrics
            .then(Metrics::new)
            .transpose()?
            .map(Arc::new);
        let with_metrics = metrics.is_some();
        let state = web::Data::new(AppState {
            db: db.clone(),
            search: Arc::clone(&search),
            tasks: tasks.clone(),
            snoozes: snoozes.clone(),
            mailer: mailer.clone(),
            emails_per_day: settings.emails_per_day,
            clock: clock.clone(),
            files_dir: settings.files_dir(),
            public_url: settings.public_url.clone(),
            max_attachment_bytes: settings.max_attachment_bytes,
            max_message_attachments_bytes: settings.max_message_attachments_bytes,
            max_body_bytes: settings.max_body_bytes,
            upload_turns: tokio::sync::Semaphore::new(
                settings
                    .max_concurrent_uploads
                    .min(tokio::sync::Semaphore::MAX_PERMITS),
            ),
            metrics: metrics.clone(),
            event_links,
            hub: Arc::clone(&hub),
            presence: Arc::new(realtime::presence::Presence::for_database(&db)),
            watching: Arc::clone(&watching),
            dev: dev.clone(),
            principals: crate::auth::Principals::new(db.directory()),
            catalog: crate::store::catalog::Catalog::new(db.directory()),
        });
        let shared_dev = (settings.dev && db.is_postgres()).then(|| state.clone());
        let public_rate_limit =
            web::Data::new(PublicRateLimit::per_minute(settings.public_rate_limit));
        let sign_in_limit = web::Data::new(api::sign_in_limit::SignInLimit::default());
        let reset_limit = web::Data::new(api::sign_in_limit::ResetLimit::default());
        let limit = BodyLimit(settings.max_body_bytes);
        let pace = BodyPace {
            idle: std::time::Duration::from_secs(settings.body_timeout_secs.max(1)),
            min_bytes_per_sec: settings.body_min_bytes_per_sec,
        };
        let workers = worker_count(settings);
        let origins = api::cors::parse(&settings.cors_origins).map_err(StartError::Settings)?;
        let with_dev = settings.dev;
        let web_assets = web::Data::from(crate::web::WebAssets::new(settings.web_dir.clone()));
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(api::body_timeout::pace_bodies))
                .wrap(api::house_errors::handlers())
                .wrap(Logger::new(r#"%a "%r" %s %b %Dms"#))
                // Outermost, so that it sees the status the client gets.
                .wrap(RecordRequests::new(state.metrics.clone()))
                .wrap(from_fn(api::dev::request_journal::record))
                .app_data(state.clone())
                .app_data(public_rate_limit.clone())
                .app_data(sign_in_limit.clone())
                .app_data(web_assets.clone())
                .app_data(reset_limit.clone())
                .app_data(pace)
                .app_data(limit)
                .app_data(web::PayloadConfig::new(limit.0))
                .app_data(web::QueryConfig::default().error_handler(|e, _| {
                    ApiError::BadRequest(format!("Invalid query string: {e}")).into()
                }))
                // A path segment that does not parse (`/agents/abc`) names nothing: 404, as Rails.
                .app_data(
                    web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()),
                )
                .configure(crate::web::routes)
                .configure(|cfg| api::routes(cfg, with_metrics, with_dev, &origins))
        })
        .shutdown_timeout(10)
        // `stop_on_signals` installs the handlers, so that they are in place before the banner
        // tells anyone the server is up.
        .disable_signals()
        .workers(workers)
        // Small writes (a `/cable` frame, a short answer) go out at once instead of waiting for
        // the peer's acknowledgement of the previous one, which can take 40 ms.
        .tcp_nodelay(true)
        // actix counts connections per worker.
        .max_connections(connection_cap(settings).div_ceil(workers).max(1));
        let server = match metrics {
            Some(metrics) => server.on_connect(metrics::count_connections(metrics)),
            None => server,
        };
        let server = server
            .listen(listener)
            .map_err(|source| StartError::Bind {
                addr: settings.bind.to_string(),
                source,
            })?
            .run();
        Ok(Self {
            lock,
            tasks,
            server,
            port: port.port(),
            bootstrap,
            first_password_token,
            db,
            search,
            clock,
            snoozes,
            mailer,
            wal_target_bytes: settings.wal_target_bytes,
            transport,
            sender_settings,
            hub,
            publishing,
            watching,
            shared_dev,
        })
    }

    /// Stops the server from elsewhere (tests restart servers on the same data dir).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn bootstrap(&self) -> &Bootstrap {
        &self.bootstrap
    }

    /// The one-time token with which the first administrator chooses a password, while they
    /// have none (see `provision::first_password_token`).
    pub fn first_password_token(&self) -> Option<&str> {
        self.first_password_token.as_deref()
    }

    /// The search index, for fault tests.
    pub fn search(&self) -> Arc<SearchIndex> {
        Arc::clone(&self.search)
    }

    /// The database, for tests that occupy its heavy reads' turns.
    pub fn db(&self) -> Db {
        self.db.clone()
    }

    /// Stops gracefully on SIGINT or SIGTERM: no new connections, running requests finish.
    /// The handlers are registered when this returns.
    pub fn stop_on_signals(&self) -> std::io::Result<()> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let handle = self.server.handle();
        let hub = Arc::clone(&self.hub);
        actix_web::rt::spawn(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            log::info!("signal received, stopping gracefully");
            // Live sockets would hold the graceful stop up to its timeout.
            hub.stop();
            handle.stop(true).await;
        });
        Ok(())
    }

    /// Serves until the server stops (SIGINT/SIGTERM trigger a graceful stop), then stops the
    /// background tasks, lets the indexer finish its batch and closes the database, which
    /// leaves the data dir as one database file.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self {
            lock,
            tasks,
            server,
            db,
            search,
            clock,
            snoozes,
            mailer,
            wal_target_bytes,
            transport,
            sender_settings,
            hub,
            publishing,
            watching,
            shared_dev,
            ..
        } = self;
        let indexer = search.spawn_indexer(&tasks);
        let shared_feed = match publishing {
            realtime::Publishing::Direct => Vec::new(),
            realtime::Publishing::Shared(written) => vec![
                tasks.spawn("cable-feed", {
                    let (db, hub) = (db.clone(), Arc::clone(&hub));
                    move |beat| {
                        realtime::follow_shared_feed(
                            db.clone(),
                            Arc::clone(&hub),
                            Arc::clone(&written),
                            beat,
                        )
                    }
                }),
                tasks.spawn("cable-watch", {
                    let db = db.clone();
                    move |beat| Arc::clone(&watching).refresh(db.clone(), Arc::clone(&hub), beat)
                }),
            ],
        };
        let dev_follower = shared_dev.map(|state| {
            tasks.spawn("dev-state", move |beat| {
                api::dev::shared::follow(state.clone(), beat)
            })
        });
        let mail_claim_lease = sender_settings.claim_lease;
        let background = [
            tasks.spawn("wal-checkpointer", {
                let db = db.clone();
                move |beat| checkpoints(db.clone(), wal_target_bytes, beat)
            }),
            tasks.spawn("statistics", {
                let db = db.clone();
                move |beat| refresh_statistics(db.clone(), beat)
            }),
            tasks.spawn("snooze-waker", {
                let (db, clock, snoozes) = (db.clone(), clock.clone(), snoozes.clone());
                move |beat| snooze::run(db.clone(), clock.clone(), snoozes.clone(), beat)
            }),
            tasks.spawn("event-sender", {
                let (db, clock) = (db.clone(), clock.clone());
                move |beat| {
                    events::sender::run(
                        db.clone(),
                        clock.clone(),
                        Arc::clone(&transport),
                        sender_settings.clone(),
                        beat,
                    )
                }
            }),
            tasks.spawn("mail-sender", {
                let (db, clock, mailer) = (db.clone(), clock.clone(), mailer.clone());
                move |beat| {
                    mail::run(
                        db.clone(),
                        clock.clone(),
                        mailer.clone(),
                        mail_claim_lease,
                        beat,
                    )
                }
            }),
        ];
        let served = server.await;
        tasks.stop();
        // The indexer finishes its batch and its merges; it is not waited for forever.
        search.stop();
        if tokio::time::timeout(INDEXER_STOP_WAIT, indexer)
            .await
            .is_err()
        {
            log::warn!("the search indexer did not stop in time");
        }
        let background: Vec<_> = background
            .into_iter()
            .chain(shared_feed)
            .chain(dev_follower)
            .collect();
        for task in &background {
            task.abort();
        }
        for task in background {
            let _ = task.await;
        }
        drop(search);
        let closed = actix_web::web::block(move || db.close()).await;
        if !matches!(closed, Ok(Ok(()))) {
            log::warn!("closing the database at shutdown failed");
        }
        drop(lock);
        served
    }
}

/// Copies the WAL back into the database in the background, so that no request write pays
/// for it (see `Db::checkpoint_in_background`), and keeps the WAL near its target size: its
/// size is looked at more often than a checkpoint runs, so an oversized WAL is emptied soon.
async fn checkpoints(db: Db, wal_target_bytes: u64, beat: Beat) -> Result<(), String> {
    db.checkpoint_in_background(wal_target_bytes)
        .map_err(|e| e.to_string())?;
    let mut every = tokio::time::interval(WAL_LOOK_EVERY);
    let mut last_checkpoint = std::time::Instant::now();
    loop {
        every.tick().await;
        let oversized = wal_target_bytes > 0 && db.wal_bytes() > wal_target_bytes;
        if !oversized && last_checkpoint.elapsed() < CHECKPOINT_EVERY {
            continue;
        }
        last_checkpoint = std::time::Instant::now();
        let db = db.clone();
        tokio::task::spawn_blocking(move || db.checkpoint_bounded(wal_target_bytes))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("checkpoint failed: {e}"))?;
        beat.ok();
    }
}

async fn refresh_statistics(db: Db, beat: Beat) -> Result<(), String> {
    let mut every = tokio::time::interval(OPTIMIZE_EVERY);
    every.tick().await;
    loop {
        every.tick().await;
        let db = db.clone();
        tokio::task::spawn_blocking(move || db.optimize())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("refreshing table statistics failed: {e}"))?;
        beat.ok();
    }
}

/// File descriptors kept for the database, its WAL, the search index's segments, attachment
/// files being written and served, and the listener.
const RESERVED_FILES: u64 = 512;

/// Open connections at most: as configured, or what the limit on open files leaves after the
/// reserve, that limit first raised as far as the system allows.
fn connection_cap(settings: &Settings) -> usize {
    if settings.max_connections > 0 {
        return settings.max_connections;
    }
    let files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    files.saturating_sub(RESERVED_FILES).max(64) as usize
}

/// HTTP worker threads: as configured, or one per core.
fn worker_count(settings: &Settings) -> usize {
    match settings.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// Heavy reads at once: as configured, or one less than the cores.
fn heavy_concurrency(settings: &Settings) -> u32 {
    match settings.search_concurrency {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
            as u32,
        n => n,
    }
}
