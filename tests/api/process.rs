//! The real binary as a child process: started on a free port, talked to over HTTP, stopped
//! with SIGTERM or killed with SIGKILL.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const BINARY: &str = env!("CARGO_BIN_EXE_wootlite");

pub struct Server {
    child: Child,
    pub banner: Vec<String>,
    pub url: String,
}

/// Starts `wootlite serve` on a free port and reads its banner up to the `try:` line.
pub async fn start(data_dir: &Path, bootstrap_token: Option<&str>) -> Server {
    match try_start(data_dir, bootstrap_token).await {
        Ok(server) => server,
        Err(refused) => panic!("server did not start: {refused}"),
    }
}

/// `start`, or what the process said on stderr when it exited instead of serving.
pub async fn try_start(data_dir: &Path, bootstrap_token: Option<&str>) -> Result<Server, String> {
    try_start_with(data_dir, bootstrap_token, &[], None).await
}

/// `try_start` with more `serve` flags, and optionally under a limit on open files (soft and
/// hard, as `ulimit -n` sets them, so that the server cannot raise it).
pub async fn try_start_with(
    data_dir: &Path,
    bootstrap_token: Option<&str>,
    flags: &[&str],
    open_files: Option<u32>,
) -> Result<Server, String> {
    let mut command = match open_files {
        Some(limit) => {
            let mut shell = Command::new("sh");
            shell
                .arg("-c")
                .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                .arg(BINARY);
            shell
        }
        None => Command::new(BINARY),
    };
    command
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(flags)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("WOOTLITE_BOOTSTRAP_TOKEN")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(token) = bootstrap_token {
        command.env("WOOTLITE_BOOTSTRAP_TOKEN", token);
    }
    let mut child = command.spawn().expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = Vec::new();
    let read = async {
        while let Some(line) = lines.next_line().await.expect("stdout") {
            let done = line.trim_start().starts_with("try:");
            banner.push(line);
            if done {
                return true;
            }
        }
        false
    };
    let served = tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("banner printed or exited");
    let mut stderr = child.stderr.take().unwrap();
    if !served {
        let mut said = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut said)
            .await
            .expect("stderr");
        let status = child.wait().await.expect("exits");
        return Err(format!("{status}: {said}"));
    }
    // Logs at warn go to stderr; keep reading them so that the pipe never fills up.
    tokio::spawn(async move {
        let _ = tokio::io::copy(&mut stderr, &mut tokio::io::sink()).await;
    });
    let url = banner[0]
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("url in the first banner line")
        .to_string();
    Ok(Server { child, banner, url })
}

impl Server {
    /// The server's process id, for reading its `/proc` entries.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    pub fn line(&self, key: &str) -> String {
        let line = self
            .banner
            .iter()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap_or_else(|| panic!("no {key} in banner {:?}", self.banner));
        line.trim_start()[key.len()..].trim().to_string()
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", self.url))
            .header("api_access_token", token)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// SIGTERM, as a service manager stops it; waits for a clean exit.
    pub async fn stop(mut self) {
        let pid = self.child.id().expect("running").to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(killed.success());
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("stops after SIGTERM")
            .unwrap();
        assert!(status.success(), "exit status {status}");
    }
}

/// The command `args` on a test server's data, wherever it keeps it (its data dir, or its
/// PostgreSQL database).
pub fn command_for(app: &crate::helpers::TestApp, args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command.args(args).arg("--data-dir").arg(&app.data_dir);
    if let Some(url) = app.database_url() {
        command.arg("--database-url").arg(url);
    }
    command.env("RUST_LOG", "warn");
    command
}

/// `run` on a test server's data (see `command_for`).
pub async fn run_for(app: &crate::helpers::TestApp, args: &[&str]) -> std::process::Output {
    command_for(app, args).output().await.expect("runs")
}

pub async fn run(args: &[&str], data_dir: &Path) -> std::process::Output {
    Command::new(BINARY)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("runs")
}

/// Any request with a JSON body to the server at `url`; connection failures (a killed server)
/// are `None`.
pub async fn try_send(
    url: &str,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Option<(u16, Value)> {
    let mut request = reqwest::Client::new()
        .request(method, format!("{url}{path}"))
        .header("api_access_token", token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    let text = response.text().await.ok()?;
    Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

impl Server {
    /// A request that must succeed with 200; returns the body.
    pub async fn ok(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let (status, body) = try_send(&self.url, method, path, token, body)
            .await
            .expect("server answers");
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    /// A contact with a contact inbox in inbox 1 under `source_id`, and a conversation for it;
    /// returns the conversation's display id.
    pub async fn create_conversation(&self, token: &str, source_id: &str) -> i64 {
        let contact = self
            .ok(
                reqwest::Method::POST,
                "/api/v1/accounts/1/contacts",
                token,
                Some(serde_json::json!({ "name": "C", "inbox_id": 1, "source_id": source_id })),
            )
            .await;
        let contact_id = contact["payload"]["contact"]["id"].as_i64().unwrap();
        let conversation = self
            .ok(
                reqwest::Method::POST,
                "/api/v1/accounts/1/conversations",
                token,
                Some(serde_json::json!({ "inbox_id": 1, "contact_id": contact_id })),
            )
            .await;
        conversation["id"].as_i64().unwrap()
    }

    /// SIGKILL: no shutdown code runs.
    pub async fn kill(mut self) {
        self.child.start_kill().expect("kill sent");
        self.child.wait().await.expect("reaped");
    }
}
