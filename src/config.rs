//! Settings: every knob is a command-line flag with a `WOOTLITE_*` environment twin and a default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::events::address_policy::{AddressPolicy, AllowRule, RuleError};
use crate::events::transport::TransportSettings;

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

/// The PostgreSQL database a server keeps its data in, for the commands that change that data
/// beside it (as `serve --database-url`); without it, the data dir's SQLite file.
#[derive(Args, Debug, Clone, Default)]
pub struct DatabaseUrl {
    /// The PostgreSQL database (postgres://...) the server runs on, instead of the data dir's
    /// SQLite file.
    #[arg(long = "database-url", env = "WOOTLITE_DATABASE_URL")]
    pub url: Option<String>,
}

/// Everything `serve` needs.
#[derive(Args, Debug, Clone)]
pub struct Settings {
    /// Address and port to listen on; port 0 picks a free port.
    #[arg(long, env = "WOOTLITE_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    #[command(flatten)]
    pub data_dir: DataDir,

    /// A PostgreSQL database (postgres://user@host:port/name) to keep the data in, instead of
    /// the data dir's SQLite file; several nodes may share it. The data dir then holds only
    /// what the node can rebuild (its search index).
    #[command(flatten)]
    pub database: DatabaseUrl,

    /// Where attachment files live (by default the data dir's `files`). Nodes that share a
    /// PostgreSQL database must share this directory too.
    #[arg(long = "files-dir", env = "WOOTLITE_FILES_DIR")]
    pub files_dir: Option<PathBuf>,

    /// Access token given to the administrator created on first start (random when unset).
    /// On later starts it is added to that administrator if it is not known yet.
    #[arg(long, env = "WOOTLITE_BOOTSTRAP_TOKEN")]
    pub bootstrap_token: Option<String>,

    /// A fixtures file (JSON, see the README) loaded on the first start of an empty data dir,
    /// instead of the default account; a bad entry stops the start. Later starts leave the data
    /// as it is.
    #[arg(long, env = "WOOTLITE_FIXTURES", conflicts_with = "demo")]
    pub fixtures: Option<PathBuf>,

    /// Load the built-in demo fixture on the first start of an empty data dir: the examples of
    /// Chatwoot's Conversations API documentation work against it (token wootlite-demo-token).
    /// The variable takes true/false, 1/0, yes/no or on/off.
    #[arg(
        long,
        env = "WOOTLITE_DEMO",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub demo: bool,

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

    /// Largest total of the attachment files of one message, in bytes (100 MiB by default).
    #[arg(
        long,
        env = "WOOTLITE_MAX_MESSAGE_ATTACHMENTS_BYTES",
        default_value_t = 100 * 1024 * 1024
    )]
    pub max_message_attachments_bytes: usize,

    /// Multipart uploads received at once. Each streams to disk through a small buffer; one
    /// that finds no free turn within 2 seconds is answered 503 with Retry-After.
    #[arg(
        long,
        env = "WOOTLITE_MAX_CONCURRENT_UPLOADS",
        default_value_t = 16,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub max_concurrent_uploads: usize,

    /// Read connections kept open in the pool.
    #[arg(long, env = "WOOTLITE_READ_POOL_SIZE", default_value_t = 8)]
    pub read_pool_size: u32,

    /// Searches of common text and filters run at once (each on its own read connection); more
    /// wait in line, so they never take the connections lists and single reads use (a search of
    /// rare text is one of those). 0: one less than the cores (at least one), which leaves a core
    /// to everything else.
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

    /// Size past which the write-ahead log is emptied by a checkpoint that briefly waits for
    /// readers, in bytes. Under steady reads and writes the WAL otherwise only grows. Past four
    /// times this size the writer empties it before taking more writes, so it stays below about
    /// that plus one group of writes. 0 never waits for readers (the WAL is then unbounded).
    #[arg(long, env = "WOOTLITE_WAL_TARGET_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub wal_target_bytes: u64,

    /// Longest wait for the next bytes of a request body, in seconds; past it the request
    /// answers 408 and its connection is closed.
    #[arg(long, env = "WOOTLITE_BODY_TIMEOUT_SECS", default_value_t = 30)]
    pub body_timeout_secs: u64,

    /// Slowest average rate a request body may arrive at after its first body timeout, in
    /// bytes per second (a body that trickles in is cut like one that stalls).
    #[arg(long, env = "WOOTLITE_BODY_MIN_BYTES_PER_SEC", default_value_t = 1024)]
    pub body_min_bytes_per_sec: u64,

    /// Open connections at most; more wait in the listen queue until one closes. 0: as many as
    /// the process may open files, less a reserve for the database and the index (the limit
    /// on open files is raised to its hard maximum at start).
    #[arg(long, env = "WOOTLITE_MAX_CONNECTIONS", default_value_t = 0)]
    pub max_connections: usize,
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

    /// Event deliveries (webhooks, API inboxes, agent bots) in flight at once.
    #[arg(
        long,
        env = "WOOTLITE_WEBHOOK_CONCURRENCY",
        default_value_t = 32,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub webhook_concurrency: usize,

    /// How long a failing delivery is retried (from its event), in seconds; then it is given up.
    #[arg(long, env = "WOOTLITE_WEBHOOK_RETRY_WINDOW_SECS", default_value_t = 24 * 3600)]
    pub webhook_retry_window_secs: u64,

    /// Client API requests allowed per minute from one client address (all of them usable at
    /// once); more answer 429 with Retry-After. 0: no limit.
    #[arg(long, env = "WOOTLITE_PUBLIC_RATE_LIMIT", default_value_t = 600)]
    pub public_rate_limit: u32,

    /// Pages (origins such as https://app.example.com, comma-separated, or * for any) that may
    /// call the application API from a browser. None by default; the Client API allows any.
    #[arg(long, env = "WOOTLITE_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// How long delivered and given-up deliveries are kept, in seconds.
    #[arg(long, env = "WOOTLITE_EVENT_RETENTION_SECS", default_value_t = 7 * 24 * 3600)]
    pub event_retention_secs: u64,

    /// Longest a webhook delivery attempt may take, in seconds: resolving, connecting, sending
    /// and the response (Chatwoot's WEBHOOK_TIMEOUT).
    #[arg(
        long,
        env = "WOOTLITE_WEBHOOK_TIMEOUT_SECS",
        default_value_t = 5,
        value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=3600)
    )]
    pub webhook_timeout_secs: u64,

    /// Where several nodes share a PostgreSQL database: how long, in seconds, a node's claim on
    /// a webhook delivery or a mail lasts before another node may take it (the first node
    /// having died mid-attempt). Longer than --webhook-timeout-secs; by default 25 seconds
    /// longer.
    #[arg(
        long,
        env = "WOOTLITE_CLAIM_LEASE_SECS",
        value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(2..=86_400)
    )]
    pub claim_lease_secs: Option<u64>,

    /// Webhook targets allowed despite the SSRF guard, which otherwise lets deliveries reach
    /// public addresses only. Each rule is a host name (exact, case-insensitive; the host is
    /// then not checked at all) or an address or CIDR (e.g. 10.0.0.0/8, fd00::/8, 127.0.0.1).
    /// Repeat the flag or separate rules with commas.
    #[arg(
        long = "webhook-allow",
        env = "WOOTLITE_WEBHOOK_ALLOW",
        value_name = "HOST|CIDR",
        value_delimiter = ',',
        value_parser = parse_allow_rule
    )]
    pub webhook_allow: Vec<String>,

    /// Let webhooks reach loopback, private (RFC 1918, fc00::/7) and shared (100.64.0.0/10)
    /// addresses (Chatwoot's SAFE_FETCH_ALLOW_PRIVATE_NETWORK). Link-local addresses, where
    /// cloud metadata services live, still need a CIDR in --webhook-allow. The variable takes
    /// true/false, 1/0, yes/no or on/off.
    #[arg(
        long,
        env = "WOOTLITE_WEBHOOK_ALLOW_PRIVATE",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub webhook_allow_private: bool,

    /// Developer mode: the demo fixture unless `--fixtures` gives a file, the access token
    /// `wootlite-dev-token` for the first administrator unless one is given, webhooks to
    /// loopback and private addresses, the application API open to every page, mail kept in the
    /// data dir instead of sent, a clock that can be moved, and the admin endpoints under
    /// `/__wootlite/`.
    #[arg(
        long,
        env = "WOOTLITE_DEV",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub dev: bool,

    /// Once the server answers, write `{"url", "token", "account_id", "pid"}` as JSON to this
    /// file, so that a test harness started with `--bind 127.0.0.1:0` knows where it is.
    #[arg(long, env = "WOOTLITE_READY_FILE")]
    pub ready_file: Option<PathBuf>,

    /// Serve the agent app's files (under `/app/`) from this directory instead of the copies
    /// built into the binary: for working on the app without rebuilding.
    #[arg(long, env = "WOOTLITE_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
}

/// The access token dev mode gives the first administrator when none is given.
pub const DEV_TOKEN: &str = "wootlite-dev-token";

/// Checks a `--webhook-allow` rule when the command line is read; an empty entry (as in `a,,b`)
/// is kept and skipped later.
fn parse_allow_rule(rule: &str) -> Result<String, RuleError> {
    if !rule.trim().is_empty() {
        rule.parse::<AllowRule>()?;
    }
    Ok(rule.trim().to_string())
}

impl Settings {
    /// The settings dev mode implies, over what was given: a token when none was, webhooks to
    /// any address of this machine or network, every page allowed, and mail never sent.
    pub fn with_dev_defaults(mut self) -> Self {
        if self.dev {
            self.bootstrap_token
                .get_or_insert_with(|| DEV_TOKEN.to_string());
            // The built-in demo, unless a fixtures file is given.
            self.demo = self.fixtures.is_none();
            self.webhook_allow_private = true;
            if self.cors_origins.is_empty() {
                self.cors_origins = vec!["*".into()];
            }
            self.smtp_url = None;
        }
        self
    }

    /// Where attachment files live: `--files-dir`, or the data dir's.
    pub fn files_dir(&self) -> PathBuf {
        self.files_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.files_dir())
    }

    /// Where mail goes as `.eml` files when no SMTP server is set (dev mode's catcher): the
    /// data dir's, or on PostgreSQL under the files dir that all nodes share, since any node
    /// may send a mail and any may be asked to list it.
    pub fn mail_dir(&self) -> PathBuf {
        match self.database.url {
            Some(_) => self.files_dir().join("mail"),
            None => self.data_dir.mail_dir(),
        }
    }

    /// The settings as dev mode's `/__wootlite/info` shows them: every value, but a secret only
    /// as whether it is set.
    pub fn shown(&self) -> serde_json::Value {
        serde_json::json!({
            "bind": self.bind.to_string(),
            "data_dir": self.data_dir.path.display().to_string(),
            "database_url": self.database.url.as_ref().map(|_| "(set)"),
            "files_dir": self.files_dir().display().to_string(),
            "bootstrap_token": self.bootstrap_token.as_ref().map(|_| "(set)"),
            "public_url": self.public_url,
            "max_body_bytes": self.max_body_bytes,
            "max_attachment_bytes": self.max_attachment_bytes,
            "max_message_attachments_bytes": self.max_message_attachments_bytes,
            "max_concurrent_uploads": self.max_concurrent_uploads,
            "read_pool_size": self.read_pool_size,
            "search_concurrency": self.search_concurrency,
            "smtp_url": self.smtp_url.as_ref().map(|_| "(set)"),
            "mail_from": self.mail_from,
            "emails_per_day": self.emails_per_day,
            "max_database_bytes": self.max_database_bytes,
            "wal_target_bytes": self.wal_target_bytes,
            "body_timeout_secs": self.body_timeout_secs,
            "body_min_bytes_per_sec": self.body_min_bytes_per_sec,
            "max_connections": self.max_connections,
            "metrics": self.metrics,
            "workers": self.workers,
            "webhook_concurrency": self.webhook_concurrency,
            "webhook_retry_window_secs": self.webhook_retry_window_secs,
            "public_rate_limit": self.public_rate_limit,
            "cors_origins": self.cors_origins,
            "event_retention_secs": self.event_retention_secs,
            "webhook_timeout_secs": self.webhook_timeout_secs,
            "claim_lease_secs": self.claim_lease_secs,
            "webhook_allow": self.webhook_allow,
            "webhook_allow_private": self.webhook_allow_private,
            "dev": self.dev,
            "ready_file": self.ready_file.as_ref().map(|p| p.display().to_string()),
            "web_dir": self.web_dir.as_ref().map(|p| p.display().to_string()),
        })
    }

    /// How long a claim on background work lasts, where nodes share a PostgreSQL database
    /// (None on SQLite, whose one node claims nothing). A claim must outlive an attempt.
    pub fn claim_lease(&self) -> Result<Option<Duration>, String> {
        if self.database.url.is_none() {
            return Ok(None);
        }
        let timeout = self.webhook_timeout_secs;
        let lease = self.claim_lease_secs.unwrap_or(timeout + 25);
        if lease <= timeout {
            return Err(format!(
                "--claim-lease-secs ({lease}) must be longer than --webhook-timeout-secs ({timeout})"
            ));
        }
        Ok(Some(Duration::from_secs(lease)))
    }

    /// What the webhook transport is built from; fails on a bad `webhook_allow` rule.
    pub fn transport_settings(&self) -> Result<TransportSettings, RuleError> {
        Ok(TransportSettings {
            timeout: Duration::from_secs(self.webhook_timeout_secs),
            policy: AddressPolicy::parse(&self.webhook_allow, self.webhook_allow_private)?,
            user_agent: format!("wootlite/{}", env!("CARGO_PKG_VERSION")),
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::events::address_policy::AllowRule;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }

    fn parse(args: &[&str]) -> Result<Settings, clap::Error> {
        let args = std::iter::once("wootlite").chain(args.iter().copied());
        Cli::try_parse_from(args).map(|cli| cli.settings)
    }

    #[test]
    fn webhook_flags_have_safe_defaults() {
        let settings = parse(&[]).unwrap();
        let transport = settings.transport_settings().unwrap();
        assert_eq!(transport.timeout, Duration::from_secs(5));
        assert_eq!(transport.policy, AddressPolicy::default());
        assert!(transport.user_agent.starts_with("wootlite/"));
    }

    #[test]
    fn webhook_allow_rules_repeat_and_split_on_commas() {
        let settings = parse(&[
            "--webhook-allow",
            "Hooks.Internal",
            "--webhook-allow",
            "10.0.0.0/8, 127.0.0.1,,",
            "--webhook-allow-private",
            "--webhook-timeout-secs",
            "12",
        ])
        .unwrap();
        let transport = settings.transport_settings().unwrap();
        assert_eq!(transport.timeout, Duration::from_secs(12));
        assert!(transport.policy.allows_private());
        assert_eq!(
            transport.policy.rules().collect::<Vec<_>>(),
            vec![
                AllowRule::Host("hooks.internal".into()),
                AllowRule::Net("10.0.0.0/8".parse().unwrap()),
                AllowRule::Net("127.0.0.1/32".parse().unwrap()),
            ]
        );
    }

    #[test]
    fn a_bad_webhook_rule_is_refused_when_the_flags_are_read() {
        let error = parse(&["--webhook-allow", "10.0.0.0/8,https://hooks.internal"])
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("invalid webhook allow rule"), "{error}");
        assert!(error.contains("not a URL"), "{error}");
        assert!(parse(&["--webhook-timeout-secs", "0"]).is_err());

        // Settings made in code are checked when the transport settings are made.
        let mut settings = parse(&[]).unwrap();
        settings.webhook_allow = vec!["*.example.com".into()];
        let error = settings.transport_settings().unwrap_err();
        assert_eq!(error.rule, "*.example.com");
    }

    #[test]
    fn a_claim_lease_is_kept_on_postgresql_only_and_outlives_an_attempt() {
        let url = ["--database-url", "postgres://db.internal/wootlite"];
        assert_eq!(parse(&[]).unwrap().claim_lease(), Ok(None));
        let lease = |extra: &[&str]| parse(&[&url[..], extra].concat()).unwrap().claim_lease();
        assert_eq!(lease(&[]), Ok(Some(Duration::from_secs(30))));
        assert_eq!(
            lease(&["--webhook-timeout-secs", "60"]),
            Ok(Some(Duration::from_secs(85)))
        );
        assert_eq!(
            lease(&["--claim-lease-secs", "9", "--webhook-timeout-secs", "8"]),
            Ok(Some(Duration::from_secs(9)))
        );
        let refused = lease(&["--claim-lease-secs", "5"]).unwrap_err();
        assert!(refused.contains("--claim-lease-secs (5)"), "{refused}");
    }
}
