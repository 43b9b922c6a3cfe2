//! Multipart uploads stream to disk: bounded server memory, a per-message total, a cap on
//! uploads at once, and nothing left behind by a refused or abandoned upload.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{
    error_of, eventually, spawn_app, spawn_configured, stored_files, Reply, TestApp, ADMIN_TOKEN,
    ATTACHMENT_LIMIT, MESSAGE_ATTACHMENTS_LIMIT,
};
use crate::process;

const BOUNDARY: &str = "wootliteUploadBoundary";
const CHUNK: usize = 64 * 1024;
const WAIT: Duration = Duration::from_secs(30);

/// The bytes of a test file, made a chunk at a time from a seed, so that neither side of a test
/// ever holds a whole file, and a download can be checked against a fresh copy.
struct Pattern {
    state: u64,
    left: usize,
}

impl Pattern {
    fn new(seed: u64, len: usize) -> Self {
        Self {
            state: seed,
            left: len,
        }
    }

    /// The next `max` bytes (fewer at the end; none when done).
    fn next_chunk(&mut self, max: usize) -> Vec<u8> {
        let n = max.min(self.left);
        self.left -= n;
        (0..n)
            .map(|_| {
                self.state = self
                    .state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (self.state >> 56) as u8
            })
            .collect()
    }
}

/// What a raw request got back.
struct RawReply {
    status: u16,
    head: String,
    body: Value,
}

/// A one-file multipart message sent by hand over TCP, so that a test decides when each byte
/// goes out: it can stall part-way or hang up.
struct RawUpload {
    stream: TcpStream,
    file: Pattern,
    closing: String,
}

impl RawUpload {
    /// Sends the request head and the part header; the file follows with `send` or `finish`.
    async fn start(base_url: &str, conversation: i64, file_len: usize, seed: u64) -> RawUpload {
        let host = base_url.trim_start_matches("http://");
        let opening = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nupload {seed}\r\n\
             --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachments[]\"; filename=\"f{seed}.bin\"\r\n\
             Content-Type: application/x-test\r\n\r\n"
        );
        let closing = format!("\r\n--{BOUNDARY}--\r\n");
        let length = opening.len() + file_len + closing.len();
        let head = format!(
            "POST /api/v1/accounts/1/conversations/{conversation}/messages HTTP/1.1\r\n\
             Host: {host}\r\napi_access_token: {ADMIN_TOKEN}\r\n\
             Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
             Content-Length: {length}\r\nConnection: close\r\n\r\n{opening}"
        );
        let mut stream = TcpStream::connect(host).await.expect("connects");
        stream.write_all(head.as_bytes()).await.expect("head sent");
        RawUpload {
            stream,
            file: Pattern::new(seed, file_len),
            closing,
        }
    }

    /// Sends up to `n` more bytes of the file.
    async fn send(&mut self, mut n: usize) {
        while n > 0 {
            let chunk = self.file.next_chunk(n.min(CHUNK));
            if chunk.is_empty() {
                return;
            }
            n -= chunk.len();
            self.stream.write_all(&chunk).await.expect("chunk sent");
        }
    }

    /// Sends the rest of the body and reads the answer.
    async fn finish(mut self) -> RawReply {
        self.send(usize::MAX).await;
        self.stream
            .write_all(self.closing.as_bytes())
            .await
            .expect("closing sent");
        let mut answer = Vec::new();
        self.stream
            .read_to_end(&mut answer)
            .await
            .expect("answer read");
        let answer = String::from_utf8(answer).expect("a UTF-8 answer");
        let (head, body) = answer.split_once("\r\n\r\n").expect("a whole answer");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {head}"));
        let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
        RawReply {
            status,
            head: head.to_ascii_lowercase(),
            body,
        }
    }
}

/// Streams a file back from its `data_url` and checks it against its pattern, byte for byte.
async fn assert_round_trip(url: &str, seed: u64, len: usize) {
    let mut response = reqwest::get(url).await.expect("file served");
    assert_eq!(response.status().as_u16(), 200, "{url}");
    let mut expected = Pattern::new(seed, len);
    let mut offset = 0;
    while let Some(chunk) = response.chunk().await.expect("file chunk") {
        let want = expected.next_chunk(chunk.len());
        assert!(
            want.len() == chunk.len() && want == chunk.as_ref(),
            "{url}: the bytes differ from offset {offset}"
        );
        offset += chunk.len();
    }
    assert_eq!(offset, len, "{url}: the whole file");
}

/// The peak resident memory of a process, in bytes.
fn peak_memory(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM line");
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmHWM value");
    kb * 1024
}

async fn send_form(app: &TestApp, form: Form) -> Reply {
    let response = app
        .request(
            Method::POST,
            "/api/v1/accounts/1/conversations/1/messages",
            Some(ADMIN_TOKEN),
        )
        .multipart(form)
        .send()
        .await
        .expect("request sent");
    Reply::from(response).await
}

fn attachment_rows(app: &TestApp) -> i64 {
    app.read(|c| c.query_row("SELECT COUNT(*) FROM attachments", [], |r| r.get(0)))
}

/// A ten-byte upload to conversation 1.
async fn small_upload(app: &TestApp) -> RawReply {
    RawUpload::start(&app.address, 1, 10, 99)
        .await
        .finish()
        .await
}

/// Waits until the server is writing an upload to a temporary file, i.e. holds a turn.
async fn wait_until_receiving(app: &TestApp) {
    let incoming = app.data_dir.join("files").join(".incoming");
    eventually("an upload being received", WAIT, || {
        let receiving = std::fs::read_dir(&incoming).is_ok_and(|mut d| d.next().is_some());
        async move { receiving.then_some(()) }
    })
    .await;
}

#[tokio::test]
async fn concurrent_large_uploads_stream_to_disk_without_filling_the_servers_memory() {
    const UPLOADS: u64 = 8;
    const FILE: usize = 30 * 1024 * 1024;
    // Holding the files would take 240 MB more; receiving them through buffers takes a few MB
    // each (buffers, the threads writing them).
    const GROWTH_LIMIT: u64 = (UPLOADS * FILE as u64) / 3;
    let dir = tempfile::tempdir().unwrap();
    let server = process::start(dir.path(), Some(ADMIN_TOKEN)).await;
    let conversation = server.create_conversation(ADMIN_TOKEN, "uploader").await;
    // Warm up: a small upload, indexed (a search waits for the index), so that what the
    // server allocates once is in the baseline.
    let warm_up = RawUpload::start(&server.url, conversation, 1024 * 1024, 0)
        .await
        .finish()
        .await;
    assert_eq!(warm_up.status, 200, "{}", warm_up.body);
    let (status, _) = server
        .get(
            "/api/v1/accounts/1/conversations/search?q=upload",
            ADMIN_TOKEN,
        )
        .await;
    assert_eq!(status, 200);
    let baseline = peak_memory(server.pid());

    let uploads: Vec<_> = (1..=UPLOADS)
        .map(|seed| {
            let url = server.url.clone();
            tokio::spawn(async move {
                RawUpload::start(&url, conversation, FILE, seed)
                    .await
                    .finish()
                    .await
            })
        })
        .collect();
    let mut replies = Vec::new();
    for upload in uploads {
        replies.push(upload.await.expect("upload task"));
    }
    let peak = peak_memory(server.pid());
    eprintln!(
        "server peak resident memory: {} MB before the uploads, {} MB after",
        baseline >> 20,
        peak >> 20
    );
    for (seed, reply) in (1..=UPLOADS).zip(&replies) {
        assert_eq!(reply.status, 200, "upload {seed}: {}", reply.body);
        let attachment = &reply.body["attachments"][0];
        assert_eq!(attachment["file_size"], FILE);
        let url = attachment["data_url"].as_str().expect("data_url");
        assert_round_trip(url, seed, FILE).await;
    }
    assert!(
        peak - baseline < GROWTH_LIMIT,
        "the server grew from {} MB to {} MB while receiving {} MB",
        baseline >> 20,
        peak >> 20,
        (UPLOADS as usize * FILE) >> 20
    );
    server.stop().await;
}

#[tokio::test]
async fn files_past_the_per_message_total_are_refused_and_leave_nothing_behind() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    // Each file is under the per-file limit; four of them pass the per-message total.
    let file = ATTACHMENT_LIMIT - 1024;
    let form = |files: usize| {
        (0..files).fold(Form::new().text("content", "many"), |form, i| {
            form.part(
                "attachments[]",
                Part::bytes(vec![i as u8; file]).file_name(format!("f{i}.bin")),
            )
        })
    };
    assert!(4 * file > MESSAGE_ATTACHMENTS_LIMIT && 3 * file <= MESSAGE_ATTACHMENTS_LIMIT);
    let refused = send_form(&app, form(4)).await;
    assert_eq!(refused.status, 413, "{}", refused.body);
    assert!(
        error_of(&refused.body).contains(&MESSAGE_ATTACHMENTS_LIMIT.to_string()),
        "{}",
        refused.body
    );
    let left = stored_files(&app.data_dir);
    assert!(left.is_empty(), "no file of the refused message: {left:?}");
    assert!(app.messages(1).await.is_empty(), "no message");
    assert_eq!(attachment_rows(&app), 0);

    let accepted = send_form(&app, form(3)).await.expect(200);
    assert_eq!(accepted["attachments"].as_array().unwrap().len(), 3);
    assert_eq!(
        stored_files(&app.data_dir).len(),
        6,
        "three folders, a file in each"
    );
}

#[tokio::test]
async fn uploads_past_the_concurrency_cap_get_503_until_a_turn_is_free() {
    let app = spawn_configured(wootlite::clock::Clock::system(), |s| {
        s.max_concurrent_uploads = 1;
    })
    .await;
    app.create_conversation(json!({})).await;
    let file = ATTACHMENT_LIMIT / 2;

    let mut holding = RawUpload::start(&app.address, 1, file, 1).await;
    holding.send(file / 4).await;
    wait_until_receiving(&app).await;
    let busy = small_upload(&app).await;
    assert_eq!(busy.status, 503, "{}", busy.body);
    assert!(busy.head.contains("\r\nretry-after:"), "{}", busy.head);
    assert!(!error_of(&busy.body).is_empty());
    let done = holding.finish().await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_round_trip(
        done.body["attachments"][0]["data_url"].as_str().unwrap(),
        1,
        file,
    )
    .await;
    assert_eq!(
        small_upload(&app).await.status,
        200,
        "the turn was given back"
    );

    // A client that hangs up gives its turn back too.
    let mut abandoned = RawUpload::start(&app.address, 1, file, 2).await;
    abandoned.send(file / 4).await;
    wait_until_receiving(&app).await;
    assert_eq!(small_upload(&app).await.status, 503);
    drop(abandoned);
    eventually("a turn after the client left", WAIT, || async {
        (small_upload(&app).await.status == 200).then_some(())
    })
    .await;
    assert_eq!(
        attachment_rows(&app),
        3,
        "the held upload and two small ones; nothing of the abandoned one"
    );
    let left = stored_files(&app.data_dir);
    assert_eq!(left.len(), 6, "three folders, a file in each: {left:?}");
}

#[tokio::test]
async fn a_client_that_hangs_up_mid_upload_leaves_no_file_behind() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    let mut upload = RawUpload::start(&app.address, 1, ATTACHMENT_LIMIT / 2, 7).await;
    upload.send(ATTACHMENT_LIMIT / 8).await;
    wait_until_receiving(&app).await;
    drop(upload);
    let incoming = app.data_dir.join("files").join(".incoming");
    eventually("the partial upload removed", WAIT, || {
        let empty = std::fs::read_dir(&incoming).is_ok_and(|mut d| d.next().is_none());
        async move { empty.then_some(()) }
    })
    .await;
    let left = stored_files(&app.data_dir);
    assert!(left.is_empty(), "{left:?}");
    assert!(app.messages(1).await.is_empty());
}

#[tokio::test]
async fn uploads_a_crash_left_unfinished_are_removed_at_start() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    let kept = send_form(
        &app,
        Form::new().part(
            "attachments[]",
            Part::bytes(b"kept".to_vec()).file_name("k.txt"),
        ),
    )
    .await
    .expect(200);
    let incoming = app.data_dir.join("files").join(".incoming");
    std::fs::create_dir_all(&incoming).unwrap();
    std::fs::write(incoming.join("0123456789abcdef"), b"half an upload").unwrap();
    let app = app.restart(wootlite::clock::Clock::system()).await;
    assert!(!incoming.exists(), "the unfinished upload was swept");
    let url = kept["attachments"][0]["data_url"].as_str().unwrap();
    let url = app.url(&url[url.find("/files/").unwrap()..]);
    let served = app.client.get(&url).send().await.unwrap();
    assert_eq!(served.text().await.unwrap(), "kept", "stored files stay");
}

#[tokio::test]
async fn a_file_name_too_long_for_the_disk_is_shortened_not_refused() {
    let app = spawn_app().await;
    app.create_conversation(json!({})).await;
    // 200 characters, 600 bytes: more than a file system takes in one name.
    let name = format!("{}.txt", "€".repeat(196));
    let form = Form::new().part(
        "attachments[]",
        Part::bytes(b"long".to_vec()).file_name(name),
    );
    let message = send_form(&app, form).await.expect(200);
    let url = message["attachments"][0]["data_url"].as_str().unwrap();
    assert_eq!(
        reqwest::get(url).await.unwrap().text().await.unwrap(),
        "long"
    );
}

#[tokio::test]
async fn an_upload_whose_message_is_refused_keeps_none_of_its_files() {
    let app = spawn_app().await;
    let form = Form::new().part(
        "attachments[]",
        Part::bytes(vec![7u8; 4096]).file_name("orphan.bin"),
    );
    let response = app
        .request(
            Method::POST,
            "/api/v1/accounts/1/conversations/77/messages",
            Some(ADMIN_TOKEN),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    Reply::from(response).await.expect(404);
    let left = stored_files(&app.data_dir);
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(attachment_rows(&app), 0);
}
