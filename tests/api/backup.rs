//! `wootlite backup` beside a server under write load, and `wootlite restore`: what it keeps,
//! what it refuses, and that the restored data dir serves.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use reqwest::Method;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Reply, TestApp, ADMIN_TOKEN};
use crate::process::{run, start};

const BASE: &str = "/api/v1/accounts/1/conversations";
const LOAD_TASKS: usize = 4;
/// Bounds of each load task; the test stops the load well before either is reached.
const MOST_ROUNDS: usize = 3000;
const MOST_LOAD_TIME: Duration = Duration::from_secs(120);
/// Writes acknowledged before the backup starts, and after it ends, before the load stops.
const WRITES_BEFORE: usize = 120;
const WRITES_AFTER: usize = 20;

/// One acknowledged write.
#[derive(Clone, Debug)]
enum Write {
    Conversation {
        display_id: i64,
    },
    Message {
        id: i64,
        content: String,
        /// Storage key and bytes of the file posted with it.
        attachment: Option<(String, Vec<u8>)>,
    },
    /// Deletion of a message posted earlier with an attachment.
    Deletion {
        message_id: i64,
    },
}

struct Acked {
    write: Write,
    at: Instant,
}

#[derive(Default)]
struct Journal {
    acked: Mutex<Vec<Acked>>,
    count: AtomicUsize,
    stop: AtomicBool,
}

impl Journal {
    fn record(&self, write: Write) {
        let at = Instant::now();
        self.acked.lock().unwrap().push(Acked { write, at });
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    /// Waits (bounded) until `count` writes have been acknowledged.
    async fn wait_for(&self, count: usize) {
        let deadline = Instant::now() + MOST_LOAD_TIME;
        while self.count.load(Ordering::SeqCst) < count {
            assert!(Instant::now() < deadline, "the load stalled");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn storage_key(attachment: &Value) -> String {
    let url = attachment["data_url"].as_str().unwrap();
    url.split_once("/files/").unwrap().1.to_string()
}

/// Posts a message with one attachment of `bytes`; returns the message.
async fn post_with_file(app: &TestApp, conversation: i64, content: &str, bytes: Vec<u8>) -> Value {
    let form = Form::new().text("content", content.to_string()).part(
        "attachments[]",
        Part::bytes(bytes)
            .file_name(format!("{content}.bin"))
            .mime_str("application/pdf")
            .unwrap(),
    );
    let response = app
        .request(
            Method::POST,
            &format!("{BASE}/{conversation}/messages"),
            Some(ADMIN_TOKEN),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    Reply::from(response).await.expect(200)
}

/// Writes until told to stop: conversations, plain messages, messages with a file, and
/// deletions of such messages.
async fn load(app: Arc<TestApp>, journal: Arc<Journal>, task: usize) {
    let started = Instant::now();
    let mut conversation = 0;
    let mut with_files = Vec::new();
    for round in 0..MOST_ROUNDS {
        if journal.stop.load(Ordering::SeqCst) || started.elapsed() > MOST_LOAD_TIME {
            break;
        }
        let content = format!("load{task}x{round}x{}", rand::random::<u32>());
        if round % 8 == 0 {
            let created = app.create_conversation(json!({})).await;
            conversation = created["id"].as_i64().unwrap();
            journal.record(Write::Conversation {
                display_id: conversation,
            });
        } else if round % 4 == 1 {
            let bytes: Vec<u8> = (0..2000 + round * 37)
                .map(|i| (i * 31 + task * 7 + round) as u8)
                .collect();
            let message = post_with_file(&app, conversation, &content, bytes.clone()).await;
            let id = message["id"].as_i64().unwrap();
            with_files.push((conversation, id));
            journal.record(Write::Message {
                id,
                content,
                attachment: Some((storage_key(&message["attachments"][0]), bytes)),
            });
        } else if round % 16 == 11 && !with_files.is_empty() {
            let (owner, message_id) = with_files.remove(0);
            app.delete(&format!("{BASE}/{owner}/messages/{message_id}"))
                .await
                .expect(200);
            journal.record(Write::Deletion { message_id });
        } else {
            let message = app
                .message(conversation, json!({ "content": content.clone() }))
                .await;
            journal.record(Write::Message {
                id: message["id"].as_i64().unwrap(),
                content,
                attachment: None,
            });
        }
    }
}

fn read_only(file: &Path) -> Connection {
    Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn integrity(conn: &Connection) -> String {
    conn.query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap()
}

fn foreign_key_violations(conn: &Connection) -> i64 {
    let mut stmt = conn.prepare("PRAGMA foreign_key_check").unwrap();
    let rows = stmt.query_map([], |_| Ok(())).unwrap();
    rows.count() as i64
}

/// Every file under `dir`, by relative path, with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                out.insert(format!("{name}/"), Vec::new());
                walk(root, &path, out);
            } else {
                out.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

async fn backup(data_dir: &Path, output: &Path) -> std::process::Output {
    run(&["backup", "--output", arg(output)], data_dir).await
}

async fn restore(input: &Path, data_dir: &Path, force: bool) -> std::process::Output {
    let mut args = vec!["restore", "--input", arg(input)];
    if force {
        args.push("--force");
    }
    run(&args, data_dir).await
}

fn succeeded(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn failed(output: &std::process::Output) -> String {
    assert!(
        !output.status.success(),
        "succeeded: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// The names in a tar archive, in order.
fn entries(archive: &Path) -> Vec<String> {
    let mut archive = tar::Archive::new(std::fs::File::open(archive).unwrap());
    archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
async fn a_backup_under_write_load_restores_every_write_acknowledged_before_it_began() {
    let app = Arc::new(spawn_app().await);
    let journal = Arc::new(Journal::default());
    let tasks: Vec<_> = (0..LOAD_TASKS)
        .map(|task| tokio::spawn(load(Arc::clone(&app), Arc::clone(&journal), task)))
        .collect();
    journal.wait_for(WRITES_BEFORE).await;

    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("backup.tar");
    let began = Instant::now();
    let backed_up = backup(&app.data_dir, &archive).await;
    let written = journal.count.load(Ordering::SeqCst);
    journal.wait_for(written + WRITES_AFTER).await;
    journal.stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.unwrap();
    }
    let summary = succeeded(&backed_up);
    assert!(summary.starts_with("wrote "), "{summary}");
    assert_eq!(summary.lines().count(), 1, "{summary}");
    let archive_bytes = std::fs::metadata(&archive).unwrap().len();
    assert!(
        summary.contains(&format!("({archive_bytes} bytes)")),
        "{summary}"
    );
    // Only the archive is left beside it.
    assert_eq!(
        tree(out.path()).into_keys().collect::<Vec<_>>(),
        vec!["backup.tar"]
    );
    let names = entries(&archive);
    assert_eq!(names[0], "wootlite.sqlite3");
    assert!(
        names[1..].iter().all(|n| n.starts_with("files/")),
        "{names:?}"
    );

    let acked = std::mem::take(&mut *journal.acked.lock().unwrap());
    let (before, after): (Vec<&Acked>, Vec<&Acked>) = acked.iter().partition(|a| a.at < began);
    assert!(before.len() >= WRITES_BEFORE);
    assert!(
        after.len() >= WRITES_AFTER,
        "the load went on past the backup"
    );
    let deleted_before: HashMap<i64, ()> = before
        .iter()
        .filter_map(|a| match a.write {
            Write::Deletion { message_id } => Some((message_id, ())),
            _ => None,
        })
        .collect();
    let deleted_ever: HashMap<i64, ()> = acked
        .iter()
        .filter_map(|a| match a.write {
            Write::Deletion { message_id } => Some((message_id, ())),
            _ => None,
        })
        .collect();

    let target = tempfile::tempdir().unwrap();
    let data = target.path().join("restored");
    let restored = succeeded(&restore(&archive, &data, false).await);
    assert!(restored.starts_with("restored into "), "{restored}");
    assert!(!data.join("search").exists());

    let db = read_only(&data.join("wootlite.sqlite3"));
    assert_eq!(integrity(&db), "ok");
    assert_eq!(foreign_key_violations(&db), 0);
    let mut files_checked = 0;
    for acked in &before {
        match &acked.write {
            Write::Conversation { display_id } => {
                let found: Option<i64> = db
                    .query_row(
                        "SELECT id FROM conversations WHERE account_id = 1 AND display_id = ?1",
                        [display_id],
                        |row| row.get(0),
                    )
                    .optional()
                    .unwrap();
                assert!(found.is_some(), "conversation {display_id} lost");
            }
            Write::Message {
                id,
                content,
                attachment,
            } => {
                let (stored, deleted): (String, bool) = db
                    .query_row(
                        "SELECT content, deleted FROM messages WHERE id = ?1",
                        [id],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()
                    .unwrap()
                    .unwrap_or_else(|| panic!("message {id} lost"));
                let keys: Vec<String> = db
                    .prepare("SELECT storage_key FROM attachments WHERE message_id = ?1")
                    .unwrap()
                    .query_map([id], |row| row.get(0))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                if deleted_before.contains_key(id) {
                    assert!(deleted, "message {id} was deleted before the backup");
                    assert!(keys.is_empty());
                    if let Some((key, _)) = attachment {
                        assert!(!data.join("files").join(key).exists());
                    }
                } else if !deleted_ever.contains_key(id) {
                    assert_eq!((stored.as_str(), deleted), (content.as_str(), false));
                    if let Some((key, bytes)) = attachment {
                        assert_eq!(keys, vec![key.clone()]);
                        let file = std::fs::read(data.join("files").join(key))
                            .unwrap_or_else(|e| panic!("file {key} of message {id}: {e}"));
                        assert!(file == *bytes, "file {key} differs");
                        files_checked += 1;
                    }
                }
            }
            Write::Deletion { .. } => {}
        }
    }
    assert!(files_checked > 0, "no attachment was checked");
    // No file without its row: the files are those the snapshot names.
    let named: Vec<String> = db
        .prepare("SELECT storage_key FROM attachments ORDER BY storage_key")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for path in tree(&data.join("files")).into_keys() {
        if !path.ends_with('/') {
            assert!(named.binary_search(&path).is_ok(), "{path} has no row");
        }
    }
    drop(db);

    // The restored data dir serves: the index is rebuilt, files are served.
    let server = start(&data, None).await;
    let sample = before
        .iter()
        .find_map(|a| match &a.write {
            Write::Message {
                id,
                content,
                attachment: Some((key, bytes)),
            } if !deleted_ever.contains_key(id) => Some((content, key, bytes)),
            _ => None,
        })
        .expect("a message with a file before the backup");
    let (status, found) = server
        .get(&format!("{BASE}/search?q={}", sample.0), ADMIN_TOKEN)
        .await;
    assert_eq!(status, 200);
    assert_eq!(found["payload"].as_array().unwrap().len(), 1, "{found}");
    let served = reqwest::get(format!("{}/files/{}", server.url, sample.1))
        .await
        .unwrap();
    assert_eq!(served.status().as_u16(), 200);
    assert!(served.bytes().await.unwrap().to_vec() == *sample.2);
    server.stop().await;
}

/// A data dir with one conversation whose message carries a file; returns the server, the
/// message's content and the file's storage key.
async fn app_with(content: &str) -> (TestApp, String) {
    let app = spawn_app().await;
    let conversation = app.create_conversation(json!({})).await["id"]
        .as_i64()
        .unwrap();
    let message = post_with_file(&app, conversation, content, content.as_bytes().to_vec()).await;
    (app, storage_key(&message["attachments"][0]))
}

fn contents(db: &Path) -> Vec<String> {
    read_only(db)
        .prepare("SELECT content FROM messages WHERE content IS NOT NULL ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn restore_refuses_a_data_dir_holding_data_unless_forced_and_then_replaces_it() {
    let out = tempfile::tempdir().unwrap();
    let (alpha, alpha_key) = app_with("alphaword").await;
    let (bravo, bravo_key) = app_with("bravoword").await;
    let alpha_tar = out.path().join("alpha.tar");
    let bravo_tar = out.path().join("bravo.tar");
    succeeded(&backup(&alpha.data_dir, &alpha_tar).await);
    succeeded(&backup(&bravo.data_dir, &bravo_tar).await);

    let target = tempfile::tempdir().unwrap();
    let data = target.path().join("data");
    succeeded(&restore(&alpha_tar, &data, false).await);
    // A served data dir: a search index and a WAL folded back on the stop.
    start(&data, None).await.stop().await;
    assert!(data.join("search").exists());
    let before = tree(&data);

    let refused = failed(&restore(&bravo_tar, &data, false).await);
    assert!(
        refused.contains("already holds wootlite data") && refused.contains("--force"),
        "{refused}"
    );
    assert!(
        tree(&data) == before,
        "a refused restore changed the data dir"
    );

    succeeded(&restore(&bravo_tar, &data, true).await);
    let db = data.join("wootlite.sqlite3");
    let now = contents(&db);
    assert!(now.iter().any(|c| c == "bravoword"), "{now:?}");
    assert!(!now.iter().any(|c| c == "alphaword"), "{now:?}");
    assert!(data.join("files").join(&bravo_key).exists());
    assert!(!data.join("files").join(&alpha_key).exists());
    assert!(!data.join("search").exists(), "the old index was kept");
    let left: Vec<String> = tree(&data)
        .into_keys()
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    let server = start(&data, None).await;
    let (_, found) = server
        .get(&format!("{BASE}/search?q=bravoword"), ADMIN_TOKEN)
        .await;
    assert_eq!(found["payload"].as_array().unwrap().len(), 1, "{found}");
    let (_, found) = server
        .get(&format!("{BASE}/search?q=alphaword"), ADMIN_TOKEN)
        .await;
    assert_eq!(found["payload"].as_array().unwrap().len(), 0, "{found}");
    server.stop().await;
}

/// An archive holding the database of `good` and then the extra entry `name` (written with a
/// raw header, as the tar crate's own path setter refuses `..` and absolute paths).
fn archive_with(
    good: &Path,
    out: &Path,
    name: &str,
    kind: tar::EntryType,
    link: Option<&str>,
) -> PathBuf {
    let path = out.join(format!("bad-{}.tar", rand::random::<u32>()));
    let mut builder = tar::Builder::new(std::fs::File::create(&path).unwrap());
    let mut source = tar::Archive::new(std::fs::File::open(good).unwrap());
    for entry in source.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header().clone();
        builder.append(&header, &mut entry).unwrap();
    }
    let data = b"escaped";
    let mut header = tar::Header::new_gnu();
    header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    header.set_entry_type(kind);
    header.set_mode(0o644);
    if let Some(link) = link {
        header.set_link_name(link).unwrap();
        header.set_size(0);
        header.set_cksum();
        builder.append(&header, &[][..]).unwrap();
    } else {
        header.set_size(data.len() as u64);
        header.set_cksum();
        builder.append(&header, &data[..]).unwrap();
    }
    builder.finish().unwrap();
    path
}

#[tokio::test]
async fn restore_refuses_an_archive_with_a_path_outside_the_expected_ones() {
    let out = tempfile::tempdir().unwrap();
    let (app, _) = app_with("charlieword").await;
    let good = out.path().join("good.tar");
    succeeded(&backup(&app.data_dir, &good).await);
    let folder = "0123456789abcdef0123456789abcdef";
    for (name, kind, link, reason) in [
        (
            "../escaped.txt",
            tar::EntryType::Regular,
            None,
            "not a plain relative path",
        ),
        (
            "/escaped.txt",
            tar::EntryType::Regular,
            None,
            "not a plain relative path",
        ),
        (
            &format!("files/{folder}/../../../escaped.txt") as &str,
            tar::EntryType::Regular,
            None,
            "not a plain relative path",
        ),
        (
            &format!("files/{folder}/passwd"),
            tar::EntryType::Symlink,
            Some("/etc/passwd"),
            "only plain files and folders",
        ),
        (
            "search/meta.json",
            tar::EntryType::Regular,
            None,
            "not a part of a wootlite backup",
        ),
    ] {
        let bad = archive_with(&good, out.path(), name, kind, link);
        let parent = tempfile::tempdir().unwrap();
        let data = parent.path().join("data");
        let refused = failed(&restore(&bad, &data, false).await);
        assert!(
            refused.contains("is not a wootlite backup") && refused.contains(reason),
            "{name}: {refused}"
        );
        assert!(
            !data.exists(),
            "{name}: a refused restore left the data dir"
        );
        assert!(
            tree(parent.path()).is_empty(),
            "{name}: {:?}",
            tree(parent.path()).keys()
        );
    }
    // The same archive without the extra entry restores.
    let parent = tempfile::tempdir().unwrap();
    succeeded(&restore(&good, &parent.path().join("data"), false).await);
}

#[tokio::test]
async fn restore_refuses_a_damaged_database_or_a_cut_archive() {
    let out = tempfile::tempdir().unwrap();
    let damaged = out.path().join("damaged.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&damaged).unwrap());
    let junk = vec![0x5au8; 64 * 1024];
    let mut header = tar::Header::new_gnu();
    header.set_size(junk.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, "wootlite.sqlite3", &junk[..])
        .unwrap();
    builder.finish().unwrap();

    let (app, _) = app_with("echoword").await;
    let good = out.path().join("good.tar");
    succeeded(&backup(&app.data_dir, &good).await);
    let cut = out.path().join("cut.tar");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();

    for (archive, reason) in [
        (&damaged, "its database does not open"),
        (&cut, "wootlite.sqlite3 is cut short"),
    ] {
        let parent = tempfile::tempdir().unwrap();
        let data = parent.path().join("data");
        let refused = failed(&restore(archive, &data, false).await);
        assert!(refused.contains(reason), "{refused}");
        assert!(!data.exists());
    }
}

#[tokio::test]
async fn a_backup_of_a_stopped_data_dir_writes_nothing_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), Some(ADMIN_TOKEN)).await;
    let id = server.create_conversation(ADMIN_TOKEN, "s-1").await;
    server.stop().await;
    // SQLite's shared-memory index, if the stop left one, is where any reader of the file
    // takes its read lock; everything else must stay as it was.
    let files = |dir: &Path| {
        let mut files = tree(dir);
        if let Some(index) = files.get_mut("wootlite.sqlite3-shm") {
            index.clear();
        }
        files
    };
    let before = files(dir.path());

    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("stopped.tar");
    succeeded(&backup(dir.path(), &archive).await);
    assert!(
        files(dir.path()) == before,
        "the backup wrote into the data dir"
    );

    let data = out.path().join("restored");
    succeeded(&restore(&archive, &data, false).await);
    let db = read_only(&data.join("wootlite.sqlite3"));
    let display: i64 = db
        .query_row("SELECT display_id FROM conversations", [], |row| row.get(0))
        .unwrap();
    assert_eq!(display, id);
}

#[tokio::test]
async fn a_failed_backup_leaves_nothing_under_the_output_name() {
    let empty = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("none.tar");
    let refused = failed(&backup(empty.path(), &archive).await);
    assert!(refused.contains("holds no wootlite database"), "{refused}");
    assert!(tree(out.path()).is_empty(), "{:?}", tree(out.path()).keys());
}

#[tokio::test]
async fn a_backup_names_attachment_files_missing_from_the_data_dir() {
    let (app, key) = app_with("deltaword").await;
    std::fs::remove_file(app.data_dir.join("files").join(&key)).unwrap();
    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("missing.tar");
    let output = backup(&app.data_dir, &archive).await;
    let summary = succeeded(&output);
    assert!(
        summary.contains("1 attachment files missing from the data dir"),
        "{summary}"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(&key),
        "the missing file is named in the log"
    );
    assert_eq!(entries(&archive), vec!["wootlite.sqlite3"]);
}

#[tokio::test]
async fn restore_is_refused_while_a_server_runs_on_the_data_dir_even_when_forced() {
    let out = tempfile::tempdir().unwrap();
    let (alpha, _) = app_with("alphaword").await;
    let alpha_tar = out.path().join("alpha.tar");
    succeeded(&backup(&alpha.data_dir, &alpha_tar).await);
    let target = tempfile::tempdir().unwrap();
    let server = start(target.path(), None).await;
    let refused = failed(&restore(&alpha_tar, target.path(), true).await);
    assert!(refused.contains("in use"), "{refused}");
    server.stop().await;
}
