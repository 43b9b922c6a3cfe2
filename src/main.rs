//! The `wootlite` command line.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

// Requests allocate many small JSON values; glibc's allocator spent a sixth of a get's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Args, Parser, Subcommand};

use wootlite::app::Application;
use wootlite::clock::Clock;
use wootlite::config::{DataDir, DatabaseUrl, Settings};
use wootlite::db::{self, Db, PoolSizes};
use wootlite::dir_lock::DataDirLock;
use wootlite::provision::{self, Bootstrap, NewAccount};
use wootlite::store::{agents, tokens};
use wootlite::views::conversations::Links;
use wootlite::{backup, corpus, events, fixtures, passwords, search};

#[derive(Parser)]
#[command(
    name = "wootlite",
    version,
    about = "A Chatwoot-compatible conversations server in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (creates account 1, an administrator, an API inbox and a token on
    /// first start).
    Serve(Box<Settings>),
    /// Manage access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Rebuild the search index from the database (refused while a server runs on the data dir).
    Reindex(DataDir),
    /// Fill a data dir with generated conversations and messages, for benchmarks.
    Generate(GenerateArgs),
    /// Write a consistent copy of a data dir (database and attachment files) into one tar
    /// archive; runs beside a server that keeps writing.
    Backup(BackupArgs),
    /// Fixtures: files that put a data dir in a known state (see `serve --fixtures`).
    #[command(subcommand)]
    Fixtures(FixturesCommand),
    /// Unpack a backup archive into a data dir (refuses to replace existing data without
    /// --force); the search index is rebuilt when serve starts.
    Restore(RestoreArgs),
    /// Copy a data dir into an empty PostgreSQL database (refused while a server runs on the
    /// data dir), or a PostgreSQL database into a new data dir, and check the copy; attachment
    /// files go to --files-dir, or come from it.
    Migrate(MigrateArgs),
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("from").required(true).args(["from_data_dir", "from_database_url"])))]
struct MigrateArgs {
    /// The data dir to copy into PostgreSQL.
    #[arg(
        long = "from-data-dir",
        requires = "to_database_url",
        conflicts_with = "to_data_dir"
    )]
    from_data_dir: Option<PathBuf>,
    /// The PostgreSQL database to copy into (postgres://...); it must hold no rows.
    #[arg(long = "to-database-url")]
    to_database_url: Option<String>,
    /// The PostgreSQL database to copy back into a data dir (postgres://...).
    #[arg(
        long = "from-database-url",
        requires = "to_data_dir",
        conflicts_with = "to_database_url"
    )]
    from_database_url: Option<String>,
    /// The new data dir to copy into; it must hold no database yet.
    #[arg(long = "to-data-dir")]
    to_data_dir: Option<PathBuf>,
    /// The directory every node reads attachment files from: they are copied into it, or
    /// out of it into the new data dir.
    #[arg(long = "files-dir")]
    files_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum FixturesCommand {
    /// Print the data dir's current state as a fixtures file that loads back to it (ids
    /// renumbered from 1 where rows were deleted). Users' tokens are stored only as digests,
    /// so they are left out unless given with --token.
    Export(ExportArgs),
}

#[derive(Args)]
struct ExportArgs {
    #[command(flatten)]
    data_dir: DataDir,
    #[command(flatten)]
    database: DatabaseUrl,
    /// Write to this file instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
    /// An access token to write into the export, with the user it belongs to (repeatable).
    #[arg(long = "token", value_name = "TOKEN")]
    tokens: Vec<String>,
}

#[derive(Args)]
struct BackupArgs {
    #[command(flatten)]
    data_dir: DataDir,
    /// The archive to write (replaced if it exists, only once the backup is complete).
    #[arg(long)]
    output: PathBuf,
}

#[derive(Args)]
struct RestoreArgs {
    /// The archive written by `wootlite backup`.
    #[arg(long)]
    input: PathBuf,
    #[command(flatten)]
    data_dir: DataDir,
    /// Replace the database, attachment files and search index the data dir already holds.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct GenerateArgs {
    #[command(flatten)]
    data_dir: DataDir,
    /// Conversations to create in account 1.
    #[arg(long, default_value_t = 1000)]
    conversations: u64,
    /// Mean messages per conversation (the counts are heavy-tailed around it).
    #[arg(long, default_value_t = 10.0)]
    messages_per_conversation: f64,
    /// Contacts the conversations are spread over (default: a third of the conversations).
    #[arg(long)]
    contacts: Option<u64>,
    /// Inboxes in the account.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    inboxes: u64,
    /// Agents in the account, the administrator included.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=10000))]
    agents: u64,
    /// Teams in the account.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1000))]
    teams: u64,
    /// Labels in the account (each conversation carries 0 to 3).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(3..=1000))]
    labels: u64,
    /// Seed of the generator: the same seed and --end give the same dataset.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The newest time in the dataset (RFC 3339, e.g. 2026-01-01T00:00:00Z); conversations
    /// start over the two years before it. Default: now.
    #[arg(long, value_parser = parse_time)]
    end: Option<i64>,
    /// Access token given to the administrator, as `serve --bootstrap-token`.
    #[arg(long, env = "WOOTLITE_BOOTSTRAP_TOKEN")]
    bootstrap_token: Option<String>,
    /// Fill this empty PostgreSQL database (postgres://...) instead of the data dir: the dataset
    /// is generated into a temporary data dir, then copied and checked as `migrate` does.
    #[arg(long = "database-url", env = "WOOTLITE_DATABASE_URL")]
    database_url: Option<String>,
}

fn parse_time(text: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_micros())
        .map_err(|e| format!("not an RFC 3339 time: {e}"))
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a new access token for an existing user; it is printed once.
    Create(TokenCreate),
}

#[derive(Args)]
struct TokenCreate {
    #[command(flatten)]
    data_dir: DataDir,
    #[command(flatten)]
    database: DatabaseUrl,
    /// The user's id.
    #[arg(long)]
    user: i64,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Set a user's password, for signing in with `POST /auth/sign_in`; works while a server
    /// runs on the data dir.
    Password(UserPassword),
}

#[derive(Args)]
struct UserPassword {
    #[command(flatten)]
    data_dir: DataDir,
    #[command(flatten)]
    database: DatabaseUrl,
    /// The user's email.
    #[arg(long)]
    email: String,
    /// The new password (at least 8 characters). Without it, the first line of standard input
    /// is read, which keeps the password out of the process list and the shell's history.
    #[arg(long)]
    password: Option<String>,
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account with an administrator, an API inbox and an access token.
    Create(AccountCreate),
}

#[derive(Args)]
struct AccountCreate {
    #[command(flatten)]
    data_dir: DataDir,
    #[command(flatten)]
    database: DatabaseUrl,
    /// The account's name.
    #[arg(long)]
    name: String,
    /// The administrator's email; an existing user with this email becomes the administrator.
    #[arg(long)]
    admin_email: String,
    /// The administrator's name (defaults to the email's local part).
    #[arg(long)]
    admin_name: Option<String>,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("info,tantivy=warn"),
    )
    .init();
    let result = match Cli::parse().command {
        Command::Serve(settings) => serve(*settings),
        Command::Token(TokenCommand::Create(args)) => create_token(args),
        Command::Account(AccountCommand::Create(args)) => create_account(args),
        Command::User(UserCommand::Password(args)) => set_password(args),
        Command::Reindex(data_dir) => reindex(data_dir),
        Command::Generate(args) => generate(args),
        Command::Backup(args) => backup::backup(&args.data_dir, &args.output)
            .map(|summary| println!("{summary}"))
            .map_err(|e| e.to_string()),
        Command::Fixtures(FixturesCommand::Export(args)) => export_fixtures(args),
        Command::Restore(args) => backup::restore(&args.input, &args.data_dir, args.force)
            .map(|summary| println!("{summary}"))
            .map_err(|e| e.to_string()),
        Command::Migrate(args) => migrate(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("wootlite: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> Result<(), String> {
    let settings = settings.with_dev_defaults();
    // Dev mode's clock can be set, advanced and frozen through `/__wootlite/clock`.
    let clock = if settings.dev {
        Clock::adjustable()
    } else {
        Clock::system()
    };
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(&settings, clock).map_err(|e| e.to_string())?;
        app.stop_on_signals()
            .map_err(|e| format!("cannot handle signals: {e}"))?;
        let ready = print_banner(
            &settings,
            app.port(),
            app.bootstrap(),
            app.first_password_token(),
        );
        if let Some(path) = &settings.ready_file {
            write_ready_file(path, &ready)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

/// Where the server is, as the banner tells it and `--ready-file` writes it.
struct Ready {
    url: String,
    token: Option<String>,
    account_id: i64,
    /// Where the first administrator chooses a password, while they have none.
    set_password_url: Option<String>,
}

/// Written beside its final name and renamed, so that whoever polls for the file never reads
/// half of it.
fn write_ready_file(path: &std::path::Path, ready: &Ready) -> std::io::Result<()> {
    let body = serde_json::json!({
        "url": ready.url,
        "token": ready.token,
        "account_id": ready.account_id,
        "set_password_url": ready.set_password_url,
        "pid": std::process::id(),
    });
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, format!("{body}\n"))?;
    std::fs::rename(&partial, path)
}

fn print_banner(
    settings: &Settings,
    port: u16,
    bootstrap: &Bootstrap,
    password_token: Option<&str>,
) -> Ready {
    let url = format!("http://{}:{port}", settings.bind.ip());
    println!("wootlite is listening on {url}");
    println!("  data dir:   {}", settings.data_dir.path.display());
    let mut account_id = 1;
    let token = match bootstrap {
        Bootstrap::Created(created) => {
            account_id = created.account_id;
            println!(
                "  created account {} with API inbox {}",
                created.account_id, created.inbox_id
            );
            println!("  account id: {}", created.account_id);
            println!("  inbox id:   {}", created.inbox_id);
            println!("  token:      {}", created.token);
            Some(created.token.clone())
        }
        Bootstrap::Loaded { loaded, token } => {
            println!(
                "  loaded fixtures: {} accounts, {} users, {} conversations, {} messages",
                loaded.accounts, loaded.users, loaded.conversations, loaded.messages
            );
            token
                .clone()
                .or_else(|| settings.demo.then(|| fixtures::DEMO_TOKEN.to_string()))
        }
        Bootstrap::Existing { token } => {
            println!("  existing data; tokens are stored hashed (new one: wootlite token create --user ID)");
            token.clone()
        }
    };
    if settings.metrics {
        println!("  metrics:    {url}/metrics (no token: keep it private)");
    }
    if settings.dev {
        println!("  dev mode:   on (admin endpoints under {url}/__wootlite/, mail kept in the data dir, a movable clock)");
    }
    // Under the public address when one is set, as mailed links are.
    let set_password_url = password_token.map(|token| {
        passwords::set_password_url(settings.public_url.as_deref().unwrap_or(&url), token)
    });
    if let Some(link) = &set_password_url {
        println!("  Choose the administrator's password (the link works once): {link}");
    }
    println!("  agent app:  {url}{}", wootlite::web::APP_PATH);
    let shown = token.clone().unwrap_or_else(|| "YOUR_TOKEN".to_string());
    println!("  try:        curl -H 'api_access_token: {shown}' {url}/api/v1/accounts/1/inboxes");
    Ready {
        url,
        token,
        account_id,
        set_password_url,
    }
}

fn open(data_dir: &DataDir) -> Result<Db, String> {
    Db::open(&data_dir.database_file(), PoolSizes::SMALL).map_err(|e| e.to_string())
}

/// The database a server runs on: PostgreSQL's with `--database-url`, else the data dir's.
fn open_served(data_dir: &DataDir, database: &DatabaseUrl) -> Result<Db, String> {
    match &database.url {
        Some(url) => Db::open_postgres(url, PoolSizes::SMALL).map_err(|e| e.to_string()),
        None => open(data_dir),
    }
}

/// `open_served` for a command that changes what events announce: its changes are recorded as
/// events like the server's, and the server delivers them.
fn open_for_changes(data_dir: &DataDir, database: &DatabaseUrl) -> Result<Db, String> {
    let db = open_served(data_dir, database)?;
    let links = Links {
        base_url: std::env::var("WOOTLITE_PUBLIC_URL")
            .unwrap_or_else(|_| "http://127.0.0.1:3000".into()),
    };
    let recording = events::Recording { links, live: None };
    events::attach(&db, Clock::system(), recording).map_err(|e| e.to_string())?;
    Ok(db)
}

fn export_fixtures(args: ExportArgs) -> Result<(), String> {
    let db = open_served(&args.data_dir, &args.database)?;
    let exported = fixtures::export_with_tokens(&db, &args.tokens).map_err(|e| e.to_string())?;
    let mut text = serde_json::to_string_pretty(&exported).map_err(|e| e.to_string())?;
    text.push('\n');
    match args.output {
        Some(path) => {
            std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn create_token(args: TokenCreate) -> Result<(), String> {
    let db = open_served(&args.data_dir, &args.database)?;
    let now = Clock::system().now_micros();
    let token = tokens::generate();
    db.write_now(|tx| {
        if !agents::user_exists(tx, args.user)? {
            return Err(wootlite::store::StoreError::NotFound);
        }
        tokens::insert(tx, args.user, &token, now)
    })
    .map_err(|e| match e {
        wootlite::store::StoreError::NotFound => format!("no user with id {}", args.user),
        other => other.to_string(),
    })?;
    println!("{token}");
    Ok(())
}

fn set_password(args: UserPassword) -> Result<(), String> {
    let password = match args.password {
        Some(password) => password,
        None => read_password_line()?,
    };
    passwords::check_strength(&password)?;
    let db = open_served(&args.data_dir, &args.database)?;
    let email = args.email.trim().to_string();
    // Slow by design: hashed before the write, so the writer is held only for the update.
    let hash = passwords::hash(&password)?;
    let now = Clock::system().now_micros();
    let found = db
        .write_now(|tx| agents::set_password_hash(tx, &email, &hash, now))
        .map_err(|e| e.to_string())?;
    if !found {
        return Err(format!("no user with email {email}"));
    }
    println!("password set for {email}");
    Ok(())
}

/// The first line of standard input, without its line ending.
fn read_password_line() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn create_account(args: AccountCreate) -> Result<(), String> {
    let db = open_for_changes(&args.data_dir, &args.database)?;
    let email = args.admin_email.trim().to_lowercase();
    if !wootlite::api::validate::is_email(&email) {
        return Err(format!("'{}' is not an email address", args.admin_email));
    }
    let admin_name = args
        .admin_name
        .unwrap_or_else(|| email.split('@').next().unwrap_or(&email).to_string());
    let created = provision::create_account(
        &db,
        &NewAccount {
            name: &args.name,
            admin_name: &admin_name,
            admin_email: &email,
            token: None,
        },
        Clock::system().now_micros(),
    )
    .map_err(|e| e.to_string())?;
    println!("account id: {}", created.account_id);
    println!("user id:    {}", created.user_id);
    println!("inbox id:   {}", created.inbox_id);
    println!("token:      {}", created.token);
    Ok(())
}

/// A progress bar on stderr (drawn only on a terminal) for `(done, total)` reports.
fn progress_bar(what: &str) -> impl FnMut(u64, u64) {
    let bar = indicatif::ProgressBar::new(0).with_message(what.to_string());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    move |done, total| {
        bar.set_length(total);
        bar.set_position(done);
        if done >= total {
            bar.finish_and_clear();
        }
    }
}

fn migrate(args: MigrateArgs) -> Result<(), String> {
    let started = std::time::Instant::now();
    let (report, files) = match (args.from_data_dir, args.from_database_url) {
        (Some(from), _) => {
            let to = args.to_database_url.ok_or("--to-database-url is needed")?;
            migrate_into_postgres(from, &to, args.files_dir)?
        }
        (None, Some(from)) => {
            let to = args.to_data_dir.ok_or("--to-data-dir is needed")?;
            migrate_into_data_dir(&from, to, args.files_dir)?
        }
        (None, None) => return Err("--from-data-dir or --from-database-url is needed".into()),
    };
    for (table, rows) in &report.tables {
        println!("{table:<32} {rows:>12} rows");
    }
    println!(
        "copied {} rows in {} tables and {files} attachment files in {:.1}s; every table's rows counted, \
         the count table recounted and {} rows compared value by value",
        report.tables.iter().map(|(_, n)| n).sum::<u64>(),
        report.tables.len(),
        started.elapsed().as_secs_f64(),
        report.sampled
    );
    Ok(())
}

fn connect_postgres(url: &str, role: &str) -> Result<postgres::Client, String> {
    postgres::Client::connect(url, postgres::NoTls)
        .map_err(|e| format!("cannot connect to the {role} database: {e}"))
}

fn migrate_into_postgres(
    from: PathBuf,
    to: &str,
    files_dir: Option<PathBuf>,
) -> Result<(db::engine_copy::CopyReport, u64), String> {
    let data_dir = DataDir { path: from };
    // Checked before the lock, which would create a directory that is not there.
    let database = data_dir.database_file();
    if !database.is_file() {
        return Err(format!("no wootlite database at {}", database.display()));
    }
    let _lock = DataDirLock::acquire(&data_dir.path).map_err(|e| e.to_string())?;
    let source = db::snapshot::open_copy(&database).map_err(|e| e.to_string())?;
    let mut target = connect_postgres(to, "target")?;
    let report =
        db::engine_copy::sqlite_to_postgres(&source, &mut target).map_err(|e| e.to_string())?;
    let files = match files_dir {
        Some(files_dir) => backup::copy_files(&source, &data_dir.files_dir(), &files_dir)
            .map_err(|e| e.to_string())?,
        None => 0,
    };
    Ok((report, files))
}

fn migrate_into_data_dir(
    from: &str,
    to: PathBuf,
    files_dir: Option<PathBuf>,
) -> Result<(db::engine_copy::CopyReport, u64), String> {
    let data_dir = DataDir { path: to };
    let database = data_dir.database_file();
    if database.exists() {
        return Err(format!(
            "{} holds a wootlite database already; name a new data dir",
            database.display()
        ));
    }
    let mut source = connect_postgres(from, "source")?;
    let _lock = DataDirLock::acquire(&data_dir.path).map_err(|e| e.to_string())?;
    let db = open(&data_dir)?;
    let report = db::engine_copy::postgres_to_sqlite(&mut source, &db).map_err(|e| {
        format!(
            "{e} (nothing was copied: {} holds an empty database, which may be deleted)",
            database.display()
        )
    })?;
    db.close().map_err(|e| e.to_string())?;
    let files = match files_dir {
        Some(files_dir) => {
            let copy = db::snapshot::open_copy(&database).map_err(|e| e.to_string())?;
            backup::copy_files(&copy, &files_dir, &data_dir.files_dir())
                .map_err(|e| e.to_string())?
        }
        None => 0,
    };
    Ok((report, files))
}

fn reindex(data_dir: DataDir) -> Result<(), String> {
    let _lock = DataDirLock::acquire(&data_dir.path).map_err(|e| e.to_string())?;
    let db = open(&data_dir)?;
    let started = std::time::Instant::now();
    let indexed = search::rebuild(
        &data_dir.search_dir(),
        &db,
        &mut progress_bar("indexing messages"),
    )
    .map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "indexed {indexed} messages in {seconds:.1}s ({:.0} messages/s)",
        indexed as f64 / seconds.max(1e-9)
    );
    Ok(())
}

fn generate(args: GenerateArgs) -> Result<(), String> {
    let Some(url) = args.database_url.clone() else {
        return generate_into(&args.data_dir, &args, true);
    };
    // Connected first, so that a wrong URL is told before minutes of generating.
    let mut target = connect_postgres(&url, "target")?;
    let scratch = tempfile::tempdir().map_err(|e| format!("a temporary data dir: {e}"))?;
    let data_dir = DataDir {
        path: scratch.path().to_path_buf(),
    };
    // Each node builds its own search replica: the scratch data dir needs no index.
    generate_into(&data_dir, &args, false)?;
    let started = std::time::Instant::now();
    let source = db::snapshot::open_copy(&data_dir.database_file()).map_err(|e| e.to_string())?;
    let report =
        db::engine_copy::sqlite_to_postgres(&source, &mut target).map_err(|e| e.to_string())?;
    println!(
        "copied {} rows into PostgreSQL in {:.1}s; every table's rows counted, the count table \
         recounted and {} rows compared value by value",
        report.tables.iter().map(|(_, n)| n).sum::<u64>(),
        started.elapsed().as_secs_f64(),
        report.sampled
    );
    Ok(())
}

fn generate_into(data_dir: &DataDir, args: &GenerateArgs, index: bool) -> Result<(), String> {
    let _lock = DataDirLock::acquire(&data_dir.path).map_err(|e| e.to_string())?;
    let db = open(data_dir)?;
    let started = std::time::Instant::now();
    let spec = corpus::Spec {
        conversations: args.conversations,
        messages_per_conversation: args.messages_per_conversation,
        contacts: args.contacts,
        seed: args.seed,
        end: args.end.unwrap_or_else(|| Clock::system().now_micros()),
        shape: corpus::Shape {
            inboxes: args.inboxes,
            agents: args.agents,
            teams: args.teams,
            labels: args.labels,
        },
        bootstrap_token: args.bootstrap_token.clone(),
    };
    let made = corpus::generate(&db, &spec, &mut progress_bar("writing conversations"))
        .map_err(|e| e.to_string())?;
    let written = started.elapsed().as_secs_f64();
    println!(
        "wrote {} conversations, {} messages and {} contacts in {written:.1}s",
        made.conversations, made.messages, made.contacts
    );
    if index {
        let indexed = search::rebuild(
            &data_dir.search_dir(),
            &db,
            &mut progress_bar("indexing messages"),
        )
        .map_err(|e| e.to_string())?;
        let total = started.elapsed().as_secs_f64();
        println!(
            "indexed {indexed} messages in {:.1}s; {total:.1}s in all",
            total - written
        );
    }
    // The data dir as one file, like after a server's clean stop.
    db.close().map_err(|e| e.to_string())?;
    if let Some(token) = made.token {
        println!("administrator token: {token}");
    }
    Ok(())
}
