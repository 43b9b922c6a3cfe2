//! Settings: every knob is a command-line flag with a `WOOTLITE_*` environment twin and a default.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// Where the data lives. Shared by every subcommand that opens a data directory.
#[derive(Args, Debug, Clone)]
pub struct DataDir {
    /// Directory holding the SQLite database, the search index and attachment files.
    #[arg(
        long = "data-dir",
        env = "WOOTLITE_DATA_DIR",
        default_value = "./wootlite-data"
    )]
    pub path: PathBuf,
}

impl DataDir {
    pub fn database_file(&self) -> PathBuf {
        self.path.join("wootlite.sqlite3")
    }

    /// Where the full-text index lives; it can always be rebuilt from the database.
    pub fn search_dir(&self) -> PathBuf {
        self.path.join("search")
    }

    /// Where mails are written as `.eml` files when no SMTP server is configured.
    pub fn mail_dir(&self) -> PathBuf {
        self.path.join("mail")
    }

    /// Where attachment files live.
    pub fn files_dir(&self) -> PathBuf {
        self.path.join("files")
    }
}

/// Everything `serve` needs.
#[derive(Args, Debug, Clone)]
pub struct Settings {
    /// Address and port to listen on; port 0 picks a free port.
    #[arg(long, env = "WOOTLITE_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    #[command(flatten)]
    pub data_dir: DataDir,

    /// Access token given to the administrator created on first start (random when unset).
    /// On later starts it is added to that administrator if it is not known yet.
    #[arg(long, env = "WOOTLITE_BOOTSTRAP_TOKEN")]
    pub bootstrap_token: Option<String>,

    /// Base URL of attachment and invitation links (e.g. https://support.example.com); by default
    /// the scheme and host each request was made to.
    #[arg(long, env = "WOOTLITE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "WOOTLITE_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Largest attachment file accepted with a message, in bytes (Chatwoot's default is 40 MB).
    #[arg(long, env = "WOOTLITE_MAX_ATTACHMENT_BYTES", default_value_t = 40 * 1024 * 1024)]
    pub max_attachment_bytes: usize,

    /// Read connections kept open in the pool.
    #[arg(long, env = "WOOTLITE_READ_POOL_SIZE", default_value_t = 8)]
    pub read_pool_size: u32,

    /// Searches and filters run at once (each on its own read connection); more wait in line,
    /// so they never take the connections lists and single reads use. 0: one less than the
    /// cores (at least one), which leaves a core to everything else.
    #[arg(long, env = "WOOTLITE_SEARCH_CONCURRENCY", default_value_t = 0)]
    pub search_concurrency: u32,

    /// SMTP server for outgoing mail, e.g. smtp://user:password@mail.example.com:587?tls=required
    /// or smtps://mail.example.com; without it mails are written to the data dir's mail/ folder.
    #[arg(long, env = "WOOTLITE_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// Sender of outgoing mail.
    #[arg(
        long,
        env = "WOOTLITE_MAIL_FROM",
        default_value = "wootlite <wootlite@localhost>"
    )]
    pub mail_from: String,

    /// Emails each account may send per UTC day (unlimited when unset); more answer 429.
    #[arg(long, env = "WOOTLITE_EMAILS_PER_DAY")]
    pub emails_per_day: Option<u32>,

    /// Largest size the database file may grow to, in bytes (unlimited when unset). Past it,
    /// as on a full disk, writes answer 507 and reads go on; deleting data frees room again.
    #[arg(long, env = "WOOTLITE_MAX_DATABASE_BYTES")]
    pub max_database_bytes: Option<u64>,

    /// Serve operational metrics at GET /metrics in Prometheus' text format, without
    /// authentication, on the same listener as the API: keep that path off the public internet.
    /// The variable takes true/false, 1/0, yes/no or on/off.
    #[arg(
        long,
        env = "WOOTLITE_METRICS",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub metrics: bool,

    /// HTTP worker threads (0: one per core).
    #[arg(long, env = "WOOTLITE_WORKERS", default_value_t = 0)]
    pub workers: usize,
}
