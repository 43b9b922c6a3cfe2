//! A minimal SMTP server for tests: it accepts every message over plain SMTP on 127.0.0.1 and
//! hands over what it received.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

#[derive(Clone, Debug)]
pub struct Received {
    pub recipients: Vec<String>,
    /// The message as sent after DATA, dot-stuffing removed.
    pub data: String,
}

pub struct SmtpSink {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<Notify>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let (store, signal) = (Arc::clone(&received), Arc::clone(&arrived));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (store, signal) = (Arc::clone(&store), Arc::clone(&signal));
                tokio::spawn(async move {
                    let _ = session(stream, store, signal).await;
                });
            }
        });
        SmtpSink {
            url,
            received,
            arrived,
        }
    }

    /// The next message, waiting up to 10 s for it.
    pub async fn next(&self) -> Received {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let waiting = self.arrived.notified();
            if let Some(first) = {
                let mut all = self.received.lock().unwrap();
                (!all.is_empty()).then(|| all.remove(0))
            } {
                return first;
            }
            tokio::time::timeout_at(deadline, waiting)
                .await
                .expect("a message reached the SMTP sink in time");
        }
    }
}

async fn session(
    stream: TcpStream,
    store: Arc<Mutex<Vec<Received>>>,
    signal: Arc<Notify>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut recipients = Vec::new();
    while let Some(line) = lines.next_line().await? {
        let command = line.to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250 sink\r\n"
        } else if command.starts_with("MAIL FROM") {
            recipients.clear();
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO") {
            recipients.push(
                line[8..]
                    .trim()
                    .trim_matches(|c| c == '<' || c == '>')
                    .to_string(),
            );
            b"250 OK\r\n"
        } else if command == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            while let Some(line) = lines.next_line().await? {
                if line == "." {
                    break;
                }
                data.push_str(
                    line.strip_prefix('.')
                        .filter(|_| line.starts_with(".."))
                        .unwrap_or(&line),
                );
                data.push_str("\r\n");
            }
            store.lock().unwrap().push(Received {
                recipients: recipients.clone(),
                data,
            });
            signal.notify_one();
            b"250 OK queued\r\n"
        } else if command.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else if command.starts_with("RSET") || command.starts_with("NOOP") {
            b"250 OK\r\n"
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
    Ok(())
}

/// A server whose mail goes to a new sink, with an optional daily email limit per account.
pub async fn app_with_sink(
    clock: wootlite::clock::Clock,
    emails_per_day: Option<u32>,
) -> (crate::helpers::TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let url = sink.url.clone();
    let app = crate::helpers::spawn_configured(clock, |s| {
        s.smtp_url = Some(url);
        s.emails_per_day = emails_per_day;
    })
    .await;
    (app, sink)
}
