//! Builds the HTTP application from `Settings`: opens the database, provisions a first account on
//! an empty data dir, binds the listener, and runs until SIGINT/SIGTERM, then checkpoints the WAL.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::Logger;
use actix_web::{web, App, HttpServer};

use crate::api;
use crate::api::input::BodyLimit;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{Db, DbError, PoolSizes};
use crate::error::ApiError;
use crate::mail::{self, MailError, Mailer};
use crate::provision::{self, Bootstrap};
use crate::search::{SearchError, SearchIndex};
use crate::snooze::{self, SnoozeSignal};
use crate::store::StoreError;

/// How often table statistics are refreshed while serving.
const OPTIMIZE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub search: Arc<SearchIndex>,
    pub snoozes: SnoozeSignal,
    pub mailer: Mailer,
    pub emails_per_day: Option<u32>,
    pub clock: Clock,
    /// Attachment files are stored here, under random keys.
    pub files_dir: std::path::PathBuf,
    /// The base of attachment URLs and invitation links; derived from each request when unset.
    pub public_url: Option<String>,
    /// Largest attachment file and largest JSON body or form field accepted.
    pub max_attachment_bytes: usize,
    pub max_body_bytes: usize,
}

impl AppState {
    pub fn now(&self) -> i64 {
        self.clock.now_micros()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("cannot provision the first account: {0}")]
    Provision(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

pub struct Application {
    server: Server,
    port: u16,
    bootstrap: Bootstrap,
    db: Db,
    search: Arc<SearchIndex>,
    clock: Clock,
    snoozes: SnoozeSignal,
    mailer: Mailer,
    mail_dir: std::path::PathBuf,
}

impl Application {
    pub fn build(settings: &Settings, clock: Clock) -> Result<Self, StartError> {
        let db = Db::open(
            &settings.data_dir.database_file(),
            PoolSizes {
                // Workers read on their own thread and must never wait for a connection; the
                // background tasks (indexer, snoozes, mail) read too.
                read: settings
                    .read_pool_size
                    .max(worker_count(settings) as u32 + 4),
                heavy: heavy_concurrency(settings),
            },
        )?;
        let bootstrap =
            provision::bootstrap(&db, settings.bootstrap_token.as_deref(), clock.now_micros())?;
        let search = Arc::new(SearchIndex::start(&settings.data_dir.search_dir(), &db)?);
        let snoozes = SnoozeSignal::default();
        let mail_dir = settings.data_dir.mail_dir();
        let mailer = Mailer::new(settings.smtp_url.as_deref(), &settings.mail_from, &mail_dir)?;
        let listener = TcpListener::bind(settings.bind).map_err(|source| StartError::Bind {
            addr: settings.bind.to_string(),
            source,
        })?;
        let port = listener.local_addr().map_err(|source| StartError::Bind {
            addr: settings.bind.to_string(),
            source,
        })?;
        let state = web::Data::new(AppState {
            db: db.clone(),
            search: Arc::clone(&search),
            snoozes: snoozes.clone(),
            mailer: mailer.clone(),
            emails_per_day: settings.emails_per_day,
            clock: clock.clone(),
            files_dir: settings.data_dir.files_dir(),
            public_url: settings.public_url.clone(),
            max_attachment_bytes: settings.max_attachment_bytes,
            max_body_bytes: settings.max_body_bytes,
        });
        let limit = BodyLimit(settings.max_body_bytes);
        let server = HttpServer::new(move || {
            App::new()
                .wrap(Logger::new(r#"%a "%r" %s %b %Dms"#))
                .app_data(state.clone())
                .app_data(limit)
                .app_data(web::PayloadConfig::new(limit.0))
                .app_data(web::QueryConfig::default().error_handler(|e, _| {
                    ApiError::BadRequest(format!("Invalid query string: {e}")).into()
                }))
                // A path segment that does not parse (`/agents/abc`) names nothing: 404, as Rails.
                .app_data(
                    web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()),
                )
                .configure(api::routes)
        })
        .shutdown_timeout(10)
        // `stop_on_signals` installs the handlers, so that they are in place before the banner
        // tells anyone the server is up.
        .disable_signals()
        .workers(worker_count(settings));
        let server = server
            .listen(listener)
            .map_err(|source| StartError::Bind {
                addr: settings.bind.to_string(),
                source,
            })?
            .run();
        Ok(Self {
            server,
            port: port.port(),
            bootstrap,
            db,
            search,
            clock,
            snoozes,
            mailer,
            mail_dir,
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

    /// Stops gracefully on SIGINT or SIGTERM: no new connections, running requests finish.
    /// The handlers are registered when this returns.
    pub fn stop_on_signals(&self) -> std::io::Result<()> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let handle = self.server.handle();
        actix_web::rt::spawn(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            log::info!("signal received, stopping gracefully");
            handle.stop(true).await;
        });
        Ok(())
    }

    /// Serves until the server stops (SIGINT/SIGTERM trigger a graceful stop), then stops the
    /// indexer and folds the WAL into the database file.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let db = self.db.clone();
        let checkpoints = tokio::spawn(async move {
            if let Err(e) = db.checkpoint_in_background() {
                log::warn!("background checkpoints not enabled: {e}");
                return;
            }
            let mut every = tokio::time::interval(CHECKPOINT_EVERY);
            loop {
                every.tick().await;
                let db = db.clone();
                if let Ok(Err(e)) =
                    tokio::task::spawn_blocking(move || db.checkpoint_passive()).await
                {
                    log::warn!("checkpoint failed (retried): {e}");
                }
            }
        });
        let db = self.db.clone();
        let maintenance = tokio::spawn(async move {
            let mut every = tokio::time::interval(OPTIMIZE_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                let db = db.clone();
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || db.optimize()).await {
                    log::warn!("refreshing table statistics failed: {e}");
                }
            }
        });
        let waker = tokio::spawn(snooze::run(
            self.db.clone(),
            self.clock.clone(),
            self.snoozes.clone(),
        ));
        let sender = tokio::spawn(mail::run(
            self.db.clone(),
            self.clock.clone(),
            self.mailer.clone(),
            self.mail_dir.clone(),
        ));
        let served = self.server.await;
        sender.abort();
        maintenance.abort();
        checkpoints.abort();
        waker.abort();
        let search = self.search;
        // Joining the indexer blocks for up to one batch.
        let _ = actix_web::web::block(move || search.stop()).await;
        if let Err(e) = self.db.checkpoint() {
            log::warn!("WAL checkpoint on shutdown failed: {e}");
        }
        served
    }
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
