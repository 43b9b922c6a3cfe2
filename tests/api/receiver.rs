//! A real HTTP receiver for events, on 127.0.0.1 (the tests' and the benchmark's): it records every request it gets and answers
//! as the test scripts it (a status, a `Retry-After`, or no answer at all).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;

/// How long a test waits for requests to arrive.
const WAIT_LIMIT: Duration = Duration::from_secs(20);

/// One request as the receiver got it.
#[derive(Clone, Debug)]
pub struct Received {
    pub arrived: std::time::Instant,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn event(&self) -> String {
        self.json()["event"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map_or("", String::as_str)
    }
}

/// How the receiver answers a request.
#[derive(Clone, Copy, Debug)]
pub enum Answer {
    Status(u16),
    /// A status with `Retry-After: <seconds>`.
    RetryAfter(u16, u64),
    /// Never answers.
    Hang,
}

#[derive(Default)]
struct Script {
    /// Keeps only each request's event and id, not its body (for long benchmark runs).
    lean: bool,
    received: Vec<Received>,
    next: VecDeque<Answer>,
    otherwise: Option<Answer>,
}

pub struct Receiver {
    pub base: String,
    script: Arc<Mutex<Script>>,
    handle: actix_web::dev::ServerHandle,
}

fn locked(script: &Mutex<Script>) -> std::sync::MutexGuard<'_, Script> {
    script.lock().unwrap_or_else(|e| e.into_inner())
}

async fn record(
    req: HttpRequest,
    body: web::Bytes,
    script: web::Data<Mutex<Script>>,
) -> HttpResponse {
    let answer = {
        let arrived = std::time::Instant::now();
        let mut script = locked(&script);
        let received = if script.lean && req.path() != "/latency" {
            // Throughput runs only count: no parsing, nothing kept but the arrival.
            Received {
                arrived,
                path: req.path().to_string(),
                headers: HashMap::new(),
                body: Vec::new(),
            }
        } else if script.lean {
            let payload: Value = serde_json::from_slice(&body).unwrap_or_default();
            Received {
                arrived,
                path: req.path().to_string(),
                headers: HashMap::new(),
                body: serde_json::to_vec(&serde_json::json!({
                    "event": payload["event"], "id": payload["id"],
                }))
                .unwrap_or_default(),
            }
        } else {
            Received {
                arrived,
                path: req.path().to_string(),
                headers: req
                    .headers()
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_string(),
                            v.to_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
                body: body.to_vec(),
            }
        };
        script.received.push(received);
        script
            .next
            .pop_front()
            .or(script.otherwise)
            .unwrap_or(Answer::Status(200))
    };
    match answer {
        Answer::Status(code) => HttpResponse::build(status(code)).body("ok"),
        Answer::RetryAfter(code, secs) => HttpResponse::build(status(code))
            .insert_header(("Retry-After", secs.to_string()))
            .finish(),
        Answer::Hang => {
            std::future::pending::<()>().await;
            HttpResponse::Ok().finish()
        }
    }
}

fn status(code: u16) -> actix_web::http::StatusCode {
    actix_web::http::StatusCode::from_u16(code).expect("a status code")
}

impl Receiver {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// A receiver that keeps only the arrival of what it gets (and, at `/latency`, its event
    /// name and `id`).
    pub async fn start_lean() -> Self {
        let receiver = Self::start().await;
        locked(&receiver.script).lean = true;
        receiver
    }

    /// How many requests arrived so far.
    pub fn count(&self) -> usize {
        locked(&self.script).received.len()
    }

    /// A receiver on a given address (to bring one up where a target pointed to nothing).
    pub async fn start_on(addr: &str) -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let data = web::Data::from(Arc::clone(&script));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(8 << 20))
                .default_service(web::to(record))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .bind(addr)
        .expect("receiver binds");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            base: format!("http://127.0.0.1:{port}"),
            script,
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The next requests get these answers, in order; later ones get the usual answer.
    pub fn answer_next(&self, answers: &[Answer]) {
        locked(&self.script).next.extend(answers.iter().copied());
    }

    /// What every request gets once the scripted answers are used up (200 unless set).
    pub fn answer_always(&self, answer: Answer) {
        locked(&self.script).otherwise = Some(answer);
    }

    pub fn received(&self) -> Vec<Received> {
        locked(&self.script).received.clone()
    }

    /// Requests to `path`, in arrival order.
    pub fn at(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Waits until `path` has had at least `count` requests, and returns them all.
    pub async fn wait_for(&self, path: &str, count: usize) -> Vec<Received> {
        self.wait(&format!("{count} request(s) at {path}"), || {
            let got = self.at(path);
            (got.len() >= count).then_some(got)
        })
        .await
    }

    /// Waits for a request to `path` carrying `event`, and returns the first.
    pub async fn wait_for_event(&self, path: &str, event: &str) -> Received {
        self.wait(&format!("{event} at {path}"), || {
            self.at(path).into_iter().find(|r| r.event() == event)
        })
        .await
    }

    async fn wait<T>(&self, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
        let started = std::time::Instant::now();
        loop {
            if let Some(found) = probe() {
                return found;
            }
            assert!(
                started.elapsed() < WAIT_LIMIT,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}
