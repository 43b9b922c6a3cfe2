//! Outgoing mail: rendered mails wait in the database's outbox and one sender task delivers them
//! through lettre, over SMTP when `--smtp-url` is set and otherwise as `.eml` files in the data
//! dir's `mail/` folder. A failed delivery is retried with backoff, and given up after
//! `MAX_ATTEMPTS`.

pub mod invitation;
pub mod password;
pub mod transcript;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;

use crate::clock::{Clock, Timer};
use crate::db::Db;
use crate::store::mail::{self, Mail, NewMail};
use crate::supervisor::Beat;

/// Attempts per mail before it is given up (its row stays, with `failed_at`, for inspection).
pub const MAX_ATTEMPTS: i64 = 8;
const LONGEST_SLEEP: Duration = Duration::from_secs(60);
const BATCH: i64 = 50;
/// Longest one SMTP command may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid --smtp-url: {0}")]
    SmtpUrl(String),
    #[error("invalid --mail-from '{0}': {1}")]
    From(String, String),
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

/// A mail ready to queue: its subject and its body as text and as HTML.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Rendered {
    /// The outbox row that sends this mail to `recipient` on the account's behalf.
    pub fn to<'a>(&'a self, account_id: i64, recipient: &'a str) -> NewMail<'a> {
        NewMail {
            account_id,
            recipient,
            subject: &self.subject,
            text_body: &self.text,
            html_body: &self.html,
        }
    }
}

/// A time as mails show it: `2026-01-01 09:30 UTC`.
pub fn utc_time(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M UTC")
        .to_string()
}

/// Where mail goes, and a signal that wakes the sender when a mail is queued.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    queued: Arc<Notify>,
}

impl Mailer {
    /// SMTP to `smtp_url` (`smtp://user:pass@host:port`, `smtps://...`, `?tls=required`), or
    /// `.eml` files in `files_dir` when it is None.
    pub fn new(smtp_url: Option<&str>, from: &str, files_dir: &Path) -> Result<Self, MailError> {
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| MailError::From(from.to_string(), e.to_string()))?;
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailError::SmtpUrl(e.to_string()))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            None => Transport::Files(files_dir.to_path_buf()),
        };
        Ok(Self {
            transport,
            from,
            queued: Arc::new(Notify::new()),
        })
    }

    /// Wakes the sender: a mail was queued.
    pub fn queued(&self) {
        self.queued.notify_one();
    }

    fn message(&self, mail: &Mail) -> Result<Message, String> {
        let to = mail
            .recipient
            .parse::<Mailbox>()
            .map_err(|e| format!("recipient '{}': {e}", mail.recipient))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                mail.text_body.clone(),
                mail.html_body.clone(),
            ))
            .map_err(|e| e.to_string())
    }

    /// Delivers one mail. `Err((message, retry))`: whether trying again could help.
    async fn deliver(&self, mail: &Mail) -> Result<(), (String, bool)> {
        let message = self.message(mail).map_err(|e| (e, false))?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| (e.to_string(), !e.is_permanent())),
            Transport::Files(dir) => {
                let path = write_eml(dir, &message.formatted())
                    .await
                    .map_err(|e| (e.to_string(), true))?;
                log::info!("mail to {} written to {}", mail.recipient, path.display());
                Ok(())
            }
        }
    }
}

/// Writes one mail as `{uuid}.eml`. It is written under a hidden temporary name first and then
/// renamed, so whoever reads the folder (the dev mail catcher, a test, a person) never sees half
/// a mail.
async fn write_eml(dir: &Path, raw: &[u8]) -> std::io::Result<PathBuf> {
    tokio::fs::create_dir_all(dir).await?;
    let id = uuid::Uuid::new_v4();
    let partial = dir.join(format!(".{id}.eml.part"));
    let path = dir.join(format!("{id}.eml"));
    let written = match tokio::fs::write(&partial, raw).await {
        Ok(()) => tokio::fs::rename(&partial, &path).await,
        Err(e) => Err(e),
    };
    if let Err(e) = written {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(e);
    }
    Ok(path)
}

/// Backoff before attempt `n + 1` after `n` failed ones: 2, 4, 8 ... seconds, at most an hour.
fn backoff_micros(failed_attempts: i64) -> i64 {
    let seconds = 2_i64
        .saturating_pow(failed_attempts.clamp(1, 12) as u32)
        .min(3600);
    seconds * 1_000_000
}

/// Delivers what is due, then sleeps until the next due time or a new mail; runs until
/// aborted, or until the outbox cannot be read or written (its supervisor starts it again).
pub async fn run(
    db: Db,
    clock: Clock,
    mailer: Mailer,
    claim_lease: Option<Duration>,
    beat: Beat,
) -> Result<(), String> {
    let mut timer = Timer::new(clock);
    // A claim outlives the slowest attempt, so that no other node sends the mail meanwhile.
    let claim_lease = claim_lease.map(|lease| lease.max(SMTP_TIMEOUT * 2));
    loop {
        let now = timer.now_micros();
        let due = db
            .read(move |conn| mail::due(conn, now, BATCH))
            .await
            .map_err(|e| format!("reading the mail outbox failed: {e}"))?;
        for mail in due {
            if let Some(lease) = claim_lease {
                if !claim(&db, mail.id, timer.now_micros(), lease).await? {
                    continue;
                }
            }
            let outcome = mailer.deliver(&mail).await;
            let now = timer.now_micros();
            let id = mail.id;
            let recorded = match outcome {
                Ok(()) => db.write(move |tx| mail::delivered(tx, id)).await,
                Err((error, retry)) => {
                    let failed = mail.attempts + 1;
                    let retry_at =
                        (retry && failed < MAX_ATTEMPTS).then(|| now + backoff_micros(failed));
                    match retry_at {
                        Some(_) => {
                            log::warn!("mail {id} to {}: {error}; will retry", mail.recipient)
                        }
                        None => log::error!("mail {id} to {}: {error}; giving up", mail.recipient),
                    }
                    db.write(move |tx| mail::attempt_failed(tx, id, &error, retry_at, now))
                        .await
                }
            };
            recorded.map_err(|e| format!("recording mail {id} failed: {e}"))?;
        }
        let next = db
            .read(mail::next_due)
            .await
            .map_err(|e| format!("reading the mail outbox failed: {e}"))?;
        beat.ok();
        let sleep = timer.until(next, LONGEST_SLEEP);
        timer.wait(sleep, &mailer.queued).await;
    }
}

/// Whether this node got mail `id` for `lease` (several nodes share the outbox).
async fn claim(db: &Db, id: i64, now: i64, lease: Duration) -> Result<bool, String> {
    let lease_until = now.saturating_add(lease.as_micros().min(i64::MAX as u128) as i64);
    db.write(move |tx| mail::claim(tx, id, now, lease_until))
        .await
        .map_err(|e| format!("claiming mail {id} failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        let seconds: Vec<i64> = (1..=13).map(|n| backoff_micros(n) / 1_000_000).collect();
        assert_eq!(&seconds[..4], &[2, 4, 8, 16]);
        assert_eq!(seconds[11], 3600);
        assert_eq!(seconds[12], 3600);
    }

    #[tokio::test]
    async fn a_mail_file_appears_whole_under_its_final_name_and_nothing_else_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("mail");
        let raw = b"Subject: hi\r\n\r\nbody\r\n".repeat(1000);
        let path = write_eml(&folder, &raw).await.unwrap();
        assert_eq!(path.extension().unwrap(), "eml");
        assert_eq!(std::fs::read(&path).unwrap(), raw);
        let names: Vec<_> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![path.file_name().unwrap().to_owned()]);
    }

    #[test]
    fn a_bad_smtp_url_or_sender_is_refused_at_start() {
        let dir = std::path::Path::new("unused");
        assert!(matches!(
            Mailer::new(Some("ftp://nowhere"), "a@b.c", dir),
            Err(MailError::SmtpUrl(_))
        ));
        assert!(matches!(
            Mailer::new(None, "not an address", dir),
            Err(MailError::From(..))
        ));
    }
}
