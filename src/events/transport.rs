//! One delivery attempt of an outgoing webhook: a POST that is safe to point at any URL an
//! account administrator typed in.
//!
//! - Only `http` and `https` URLs; redirects are not followed (a 3xx is a final failure).
//! - The SSRF guard ([`AddressPolicy`]) judges the address actually connected to: host names are
//!   resolved by our own resolver, which hands the connector only allowed addresses, so there is
//!   no gap between checking and connecting (DNS rebinding). IP-literal URLs never reach a
//!   resolver and are checked before sending. A host name on the allow list skips the check.
//!   System proxies are ignored (a proxy would resolve the host itself).
//! - One timeout covers the whole attempt: resolving, connecting, sending and the response.
//! - The response body is read up to [`RESPONSE_BODY_CAP`] and ignored.
//! - Error texts name the host at most, never the URL's path or query nor a header value.

use std::error::Error as StdError;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{redirect, StatusCode, Url};
use tokio::time::Instant;

use super::address_policy::{AddressClass, AddressPolicy};

/// The most of a response body that is read (then dropped).
pub const RESPONSE_BODY_CAP: usize = 64 * 1024;

/// The longest `Retry-After` honoured; longer values are cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// How a [`Transport`] is built.
#[derive(Debug, Clone)]
pub struct TransportSettings {
    /// Per attempt, from resolving the host to the end of the response.
    pub timeout: Duration,
    pub policy: AddressPolicy,
    pub user_agent: String,
}

/// What became of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Delivered,
    /// Worth another attempt later: connection errors, timeouts, 408, 429, 5xx.
    Retry,
    /// Will fail the same way again: other 4xx, 3xx (redirects are not followed), a bad URL.
    Final,
    /// The address policy forbids the target (no connection was made).
    Refused,
}

/// The result of [`Transport::post`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub outcome: Outcome,
    /// The response status, when one arrived.
    pub status: Option<u16>,
    /// Why it was not delivered (`None` when delivered). Safe to store and show: no header
    /// values, no URL path or query.
    pub error: Option<String>,
    /// The receiver's `Retry-After` (seconds or HTTP date, at most [`MAX_RETRY_AFTER`]); only
    /// with [`Outcome::Retry`].
    pub retry_after: Option<Duration>,
}

impl Attempt {
    fn failed(outcome: Outcome, error: impl Into<String>) -> Attempt {
        Attempt {
            outcome,
            status: None,
            error: Some(error.into()),
            retry_after: None,
        }
    }
}

/// The HTTP client could not be built (e.g. the TLS backend failed to start).
#[derive(Debug, thiserror::Error)]
#[error("could not build the webhook HTTP client: {0}")]
pub struct TransportError(String);

/// Performs delivery attempts. Build one at start-up and share it (it holds a connection pool).
#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    timeout: Duration,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("policy", &self.policy)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub fn new(settings: TransportSettings) -> Result<Transport, TransportError> {
        let policy = Arc::new(settings.policy);
        let client = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .referer(false)
            // A proxy would resolve and connect on our behalf, past the guard.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .user_agent(settings.user_agent)
            .build()
            .map_err(|error| TransportError(error_chain(&error)))?;
        Ok(Transport {
            client,
            policy,
            timeout: settings.timeout,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn policy(&self) -> &AddressPolicy {
        &self.policy
    }

    /// POSTs `body` to `url` with `Content-Type: application/json`, `Accept: application/json`
    /// and `headers` (a caller's header replaces a default of the same name). Never panics and
    /// never returns early: every failure is an [`Attempt`].
    pub async fn post(
        &self,
        url: &str,
        body: impl Into<Bytes>,
        headers: &[(&str, String)],
    ) -> Attempt {
        let url = match self.check_url(url) {
            Ok(url) => url,
            Err(attempt) => return attempt,
        };
        let headers = match build_headers(headers) {
            Ok(headers) => headers,
            Err(attempt) => return attempt,
        };
        let deadline = Instant::now() + self.timeout;
        let sent = self
            .client
            .post(url)
            .headers(headers)
            .body(body.into())
            .send();
        let response = match tokio::time::timeout_at(deadline, sent).await {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => return from_error(&error, self.timeout),
            Err(_) => return timed_out(self.timeout),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        // The answer is known; the body only frees the connection for reuse. It is read until
        // the cap or the deadline, whichever comes first, and does not change the outcome.
        let _ = tokio::time::timeout_at(deadline, drain(response)).await;
        let (outcome, error) = classify_status(status);
        Attempt {
            outcome,
            status: Some(status.as_u16()),
            error,
            retry_after: retry_after.filter(|_| outcome == Outcome::Retry),
        }
    }

    /// Parses the URL, keeps http(s) only, and checks an IP-literal host (no resolver sees it).
    fn check_url(&self, url: &str) -> Result<Url, Attempt> {
        let url = Url::parse(url.trim())
            .map_err(|error| Attempt::failed(Outcome::Final, format!("invalid URL: {error}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Attempt::failed(
                Outcome::Final,
                format!(
                    "unsupported URL scheme {:?}: only http and https",
                    url.scheme()
                ),
            ));
        }
        let literal: IpAddr = match url.host() {
            None => return Err(Attempt::failed(Outcome::Final, "invalid URL: no host")),
            Some(url::Host::Domain(_)) => return Ok(url),
            Some(url::Host::Ipv4(ip)) => ip.into(),
            Some(url::Host::Ipv6(ip)) => ip.into(),
        };
        match self.policy.check_ip(literal) {
            Ok(()) => Ok(url),
            Err(class) => Err(Attempt::failed(
                Outcome::Refused,
                Refusal {
                    host: literal.to_string(),
                    refused: vec![(literal, class)],
                }
                .to_string(),
            )),
        }
    }
}

fn build_headers(given: &[(&str, String)]) -> Result<HeaderMap, Attempt> {
    let mut headers = HeaderMap::with_capacity(given.len() + 2);
    let json = HeaderValue::from_static("application/json");
    headers.insert(CONTENT_TYPE, json.clone());
    headers.insert(ACCEPT, json);
    for (name, value) in given {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            Attempt::failed(Outcome::Final, format!("invalid header name {name:?}"))
        })?;
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            // The value may be a secret: name the header only.
            Attempt::failed(Outcome::Final, format!("invalid value for header {name}"))
        })?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    Ok(headers)
}

async fn drain(mut response: reqwest::Response) {
    let mut read = 0;
    while read < RESPONSE_BODY_CAP {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => break,
        }
    }
    // Dropping an unfinished response closes its connection.
}

fn classify_status(status: StatusCode) -> (Outcome, Option<String>) {
    let text = format!(
        "HTTP {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let text = text.trim_end().to_string();
    if status.is_success() {
        (Outcome::Delivered, None)
    } else if status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
    {
        (Outcome::Retry, Some(text))
    } else if status.is_redirection() {
        (
            Outcome::Final,
            Some(format!("{text} (redirects are not followed)")),
        )
    } else {
        (Outcome::Final, Some(text))
    }
}

/// `Retry-After` as delay-seconds or an HTTP date, capped at [`MAX_RETRY_AFTER`]; a date in the
/// past is zero.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let delay = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is simply very long.
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let date = httpdate::parse_http_date(value).ok()?;
        date.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

fn timed_out(timeout: Duration) -> Attempt {
    Attempt::failed(
        Outcome::Retry,
        format!("timed out after {} ms", timeout.as_millis()),
    )
}

fn from_error(error: &reqwest::Error, timeout: Duration) -> Attempt {
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(refusal) = cause.downcast_ref::<Refusal>() {
            return Attempt::failed(Outcome::Refused, refusal.to_string());
        }
        source = cause.source();
    }
    if error.is_timeout() {
        return timed_out(timeout);
    }
    let text = error_chain(error);
    if error.is_builder() || error.is_redirect() {
        Attempt::failed(Outcome::Final, text)
    } else {
        // Resolving, connecting (TLS included), sending, reading the head: all may pass.
        Attempt::failed(Outcome::Retry, text)
    }
}

/// The error and its causes, joined by ": ", without the URL.
fn error_chain(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source: Option<&(dyn StdError + 'static)> = error.source();
    let top = match error.url() {
        Some(_) => {
            // `reqwest::Error` prints " for url (...)"; keep the rest.
            let text = error.to_string();
            match text.find(" for url (") {
                Some(at) => text[..at].to_string(),
                None => text,
            }
        }
        None => error.to_string(),
    };
    parts.push(top);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// A host whose every address the policy refuses.
#[derive(Debug)]
struct Refusal {
    host: String,
    refused: Vec<(IpAddr, AddressClass)>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hostname {} has no public ip addresses", self.host)?;
        for (index, (ip, class)) in self.refused.iter().take(4).enumerate() {
            let lead = if index == 0 { " (" } else { ", " };
            write!(f, "{lead}{ip} is {class}")?;
        }
        if self.refused.len() > 4 {
            write!(f, ", …")?;
        }
        if !self.refused.is_empty() {
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl StdError for Refusal {}

type BoxError = Box<dyn StdError + Send + Sync>;

/// Resolves with the system resolver (on tokio's blocking pool) and passes on only the allowed
/// addresses, so the connector can only connect to those.
struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if policy.allows_host(&host) {
                return Ok(Box::new(found.into_iter()) as Addrs);
            }
            let mut allowed = Vec::with_capacity(found.len());
            let mut refused: Vec<(IpAddr, AddressClass)> = Vec::new();
            for addr in found {
                match policy.check_ip(addr.ip()) {
                    Ok(()) => allowed.push(addr),
                    Err(class) => {
                        if !refused.iter().any(|(ip, _)| *ip == addr.ip()) {
                            refused.push((addr.ip(), class));
                        }
                    }
                }
            }
            if allowed.is_empty() {
                if refused.is_empty() {
                    return Err(BoxError::from(format!("no addresses found for {host}")));
                }
                return Err(Box::new(Refusal { host, refused }) as BoxError);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::ErrorKind;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::JoinHandle;

    use super::*;
    use crate::events::address_policy::AllowRule;

    const SECRET_SIGNATURE: &str = "sha256=0123456789abcdef-secret-signature";

    fn transport_with(policy: AddressPolicy, timeout: Duration) -> Transport {
        Transport::new(TransportSettings {
            timeout,
            policy,
            user_agent: "wootlite-test/1".into(),
        })
        .expect("client builds")
    }

    /// Private addresses allowed, so that receivers on 127.0.0.1 can be reached.
    fn transport() -> Transport {
        transport_with(AddressPolicy::new([], true), Duration::from_secs(10))
    }

    fn headers() -> Vec<(&'static str, String)> {
        vec![
            ("X-Chatwoot-Delivery", "3f1b8a2e-delivery".to_string()),
            ("X-Chatwoot-Timestamp", "1700000000".to_string()),
            ("X-Chatwoot-Signature", SECRET_SIGNATURE.to_string()),
        ]
    }

    struct Received {
        head: String,
        body: Vec<u8>,
    }

    impl Received {
        fn header(&self, name: &str) -> Option<&str> {
            self.head.lines().skip(1).find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.eq_ignore_ascii_case(name).then(|| value.trim())
            })
        }
    }

    async fn read_request(stream: &mut TcpStream) -> Received {
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 4096];
        let end = loop {
            if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let read = stream.read(&mut chunk).await.expect("request readable");
            assert!(read > 0, "connection closed before the request head ended");
            buffer.extend_from_slice(&chunk[..read]);
        };
        let head = String::from_utf8(buffer[..end].to_vec()).expect("ASCII head");
        let mut received = Received {
            head,
            body: buffer[end..].to_vec(),
        };
        let length: usize = received
            .header("content-length")
            .map_or(0, |value| value.parse().unwrap());
        while received.body.len() < length {
            let read = stream.read(&mut chunk).await.expect("body readable");
            assert!(read > 0, "connection closed before the body ended");
            received.body.extend_from_slice(&chunk[..read]);
        }
        received
    }

    /// A receiver for one request that answers `response` (a complete HTTP/1.1 response).
    async fn receiver(response: String) -> (SocketAddr, JoinHandle<Received>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let received = read_request(&mut stream).await;
            stream.write_all(response.as_bytes()).await.unwrap();
            stream.shutdown().await.ok();
            received
        });
        (addr, task)
    }

    fn answer(status_line: &str, extra_headers: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status_line}\r\n{extra_headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    /// A listener that must not be contacted; see `never_contacted`.
    fn silent_listener() -> std::net::TcpListener {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        listener
    }

    /// A connection made to the listener would be waiting in its accept queue by now.
    fn never_contacted(listener: &std::net::TcpListener) -> bool {
        matches!(listener.accept(), Err(error) if error.kind() == ErrorKind::WouldBlock)
    }

    fn assert_no_secret(attempt: &Attempt) {
        if let Some(error) = &attempt.error {
            assert!(!error.contains("secret-signature"), "{error}");
        }
    }

    #[tokio::test]
    async fn a_2xx_is_delivered_with_the_headers_and_body_intact() {
        let (addr, received) = receiver(answer("200 OK", "", "thanks")).await;
        let body = Bytes::from_static(b"{\"event\":\"message_created\",\"content\":\"h\xc3\xa9\"}");
        let url = format!("http://{addr}/hooks/in?token=abc");
        let attempt = transport().post(&url, body.clone(), &headers()).await;
        assert_eq!(
            attempt,
            Attempt {
                outcome: Outcome::Delivered,
                status: Some(200),
                error: None,
                retry_after: None
            }
        );
        let received = received.await.unwrap();
        assert!(
            received
                .head
                .starts_with("POST /hooks/in?token=abc HTTP/1.1\r\n"),
            "{}",
            received.head
        );
        assert_eq!(received.header("content-type"), Some("application/json"));
        assert_eq!(received.header("accept"), Some("application/json"));
        assert_eq!(received.header("user-agent"), Some("wootlite-test/1"));
        assert_eq!(
            received.header("x-chatwoot-delivery"),
            Some("3f1b8a2e-delivery")
        );
        assert_eq!(received.header("x-chatwoot-timestamp"), Some("1700000000"));
        assert_eq!(
            received.header("x-chatwoot-signature"),
            Some(SECRET_SIGNATURE)
        );
        assert_eq!(received.body, body);
    }

    #[tokio::test]
    async fn any_2xx_is_delivered_and_a_vec_body_is_accepted() {
        for status in ["201 Created", "204 No Content", "299 Whatever"] {
            let (addr, received) = receiver(answer(status, "", "")).await;
            let attempt = transport()
                .post(&format!("http://{addr}/"), b"{}".to_vec(), &[])
                .await;
            assert_eq!(attempt.outcome, Outcome::Delivered, "{status}");
            assert_eq!(attempt.error, None);
            assert_eq!(received.await.unwrap().body, b"{}");
        }
    }

    #[tokio::test]
    async fn server_errors_timeouts_and_throttling_are_retried() {
        for (code, status) in [
            (500, "500 Internal Server Error"),
            (502, "502 Bad Gateway"),
            (503, "503 Service Unavailable"),
            (408, "408 Request Timeout"),
            (429, "429 Too Many Requests"),
        ] {
            let (addr, received) = receiver(answer(status, "", "busy")).await;
            let attempt = transport()
                .post(&format!("http://{addr}/"), "{}", &headers())
                .await;
            assert_eq!(attempt.outcome, Outcome::Retry, "{status}");
            assert_eq!(attempt.status, Some(code));
            assert_eq!(attempt.error.as_deref(), Some(&*format!("HTTP {status}")));
            assert_eq!(attempt.retry_after, None);
            received.await.unwrap();
        }
    }

    #[tokio::test]
    async fn retry_after_is_passed_on() {
        let (addr, _received) =
            receiver(answer("429 Too Many Requests", "Retry-After: 7\r\n", "")).await;
        let attempt = transport()
            .post(&format!("http://{addr}/"), "{}", &[])
            .await;
        assert_eq!(attempt.outcome, Outcome::Retry);
        assert_eq!(attempt.retry_after, Some(Duration::from_secs(7)));

        let far = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(86_400));
        let (addr, _received) = receiver(answer(
            "503 Service Unavailable",
            &format!("Retry-After: {far}\r\n"),
            "",
        ))
        .await;
        let attempt = transport()
            .post(&format!("http://{addr}/"), "{}", &[])
            .await;
        assert_eq!(attempt.retry_after, Some(MAX_RETRY_AFTER));

        // Not on a final answer.
        let (addr, _received) = receiver(answer("404 Not Found", "Retry-After: 7\r\n", "")).await;
        let attempt = transport()
            .post(&format!("http://{addr}/"), "{}", &[])
            .await;
        assert_eq!(attempt.outcome, Outcome::Final);
        assert_eq!(attempt.retry_after, None);
    }

    #[test]
    fn retry_after_values() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("86400", now), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(MAX_RETRY_AFTER)
        );
        let in_two_minutes = httpdate::fmt_http_date(now + Duration::from_secs(120));
        assert_eq!(
            parse_retry_after(&in_two_minutes, now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("1.5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[tokio::test]
    async fn other_client_errors_are_final() {
        for (code, status) in [
            (404, "404 Not Found"),
            (410, "410 Gone"),
            (400, "400 Bad Request"),
            (401, "401 Unauthorized"),
            (413, "413 Payload Too Large"),
        ] {
            let (addr, received) = receiver(answer(status, "", "no")).await;
            let attempt = transport()
                .post(&format!("http://{addr}/"), "{}", &headers())
                .await;
            assert_eq!(attempt.outcome, Outcome::Final, "{status}");
            assert_eq!(attempt.status, Some(code));
            assert_eq!(attempt.error.as_deref(), Some(&*format!("HTTP {status}")));
            received.await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_redirect_is_final_and_not_followed() {
        let target = silent_listener();
        let target_addr = target.local_addr().unwrap();
        for status in [
            "302 Found",
            "301 Moved Permanently",
            "307 Temporary Redirect",
        ] {
            let location = format!("Location: http://{target_addr}/elsewhere\r\n");
            let (addr, received) = receiver(answer(status, &location, "")).await;
            let attempt = transport()
                .post(&format!("http://{addr}/"), "{}", &headers())
                .await;
            assert_eq!(attempt.outcome, Outcome::Final, "{status}");
            assert_eq!(attempt.status, Some(status[..3].parse().unwrap()));
            assert!(attempt.error.as_deref().unwrap().contains("redirects"));
            received.await.unwrap();
        }
        assert!(never_contacted(&target));
    }

    #[tokio::test]
    async fn a_receiver_that_never_answers_times_out_as_retry() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let silent = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let _ = read_request(&mut stream).await;
            // Holds the connection open without answering.
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest).await;
        });
        let transport = transport_with(AddressPolicy::new([], true), Duration::from_millis(300));
        let attempt = transport
            .post(&format!("http://{addr}/"), "{}", &headers())
            .await;
        assert_eq!(attempt.outcome, Outcome::Retry);
        assert_eq!(attempt.status, None);
        assert_eq!(attempt.error.as_deref(), Some("timed out after 300 ms"));
        silent.abort();
    }

    #[tokio::test]
    async fn a_body_that_never_ends_leaves_a_2xx_delivered() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stalling = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let _ = read_request(&mut stream).await;
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc")
                .await
                .unwrap();
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest).await;
        });
        let transport = transport_with(AddressPolicy::new([], true), Duration::from_millis(300));
        let attempt = transport.post(&format!("http://{addr}/"), "{}", &[]).await;
        assert_eq!(attempt.outcome, Outcome::Delivered);
        assert_eq!(attempt.status, Some(200));
        stalling.abort();
    }

    #[tokio::test]
    async fn a_refused_connection_is_retried() {
        let addr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let attempt = transport()
            .post(&format!("http://{addr}/"), "{}", &headers())
            .await;
        assert_eq!(attempt.outcome, Outcome::Retry);
        assert_eq!(attempt.status, None);
        let error = attempt.error.as_deref().unwrap();
        assert!(error.contains("onnection refused"), "{error}");
        assert!(!error.contains("http://"), "{error}");
        assert_no_secret(&attempt);
    }

    #[tokio::test]
    async fn loopback_literals_are_refused_by_default_without_a_connection() {
        let listener = silent_listener();
        let port = listener.local_addr().unwrap().port();
        let transport = transport_with(AddressPolicy::default(), Duration::from_secs(5));
        for url in [
            format!("http://127.0.0.1:{port}/"),
            format!("https://127.0.0.1:{port}/"),
            // URLs read these as 127.0.0.1.
            format!("http://2130706433:{port}/"),
            format!("http://0x7f.1:{port}/"),
            format!("http://127.1:{port}/"),
        ] {
            let attempt = transport.post(&url, "{}", &headers()).await;
            assert_eq!(attempt.outcome, Outcome::Refused, "{url}");
            assert_eq!(attempt.status, None);
            assert_eq!(
                attempt.error.as_deref(),
                Some("Hostname 127.0.0.1 has no public ip addresses (127.0.0.1 is loopback)"),
                "{url}"
            );
        }
        for (url, error) in [
            (
                format!("http://[::1]:{port}/"),
                "Hostname ::1 has no public ip addresses (::1 is loopback)",
            ),
            (
                format!("http://[::ffff:127.0.0.1]:{port}/"),
                "Hostname ::ffff:127.0.0.1 has no public ip addresses (::ffff:127.0.0.1 is loopback)",
            ),
            (
                "http://169.254.169.254/latest/meta-data/".to_string(),
                "Hostname 169.254.169.254 has no public ip addresses (169.254.169.254 is link-local)",
            ),
            (
                "http://10.0.0.1/".to_string(),
                "Hostname 10.0.0.1 has no public ip addresses (10.0.0.1 is private)",
            ),
            (
                "http://0.0.0.0/".to_string(),
                "Hostname 0.0.0.0 has no public ip addresses (0.0.0.0 is unspecified)",
            ),
        ] {
            let attempt = transport.post(&url, "{}", &[]).await;
            assert_eq!(attempt.outcome, Outcome::Refused, "{url}");
            assert_eq!(attempt.error.as_deref(), Some(error));
        }
        assert!(never_contacted(&listener));
    }

    #[tokio::test]
    async fn localhost_is_refused_by_default_without_a_connection() {
        let listener = silent_listener();
        let port = listener.local_addr().unwrap().port();
        let transport = transport_with(AddressPolicy::default(), Duration::from_secs(5));
        for host in ["localhost", "LOCALHOST"] {
            let attempt = transport
                .post(&format!("http://{host}:{port}/hook"), "{}", &headers())
                .await;
            assert_eq!(attempt.outcome, Outcome::Refused, "{host}: {attempt:?}");
            assert_eq!(attempt.status, None);
            let error = attempt.error.as_deref().unwrap();
            assert!(
                error.starts_with("Hostname localhost")
                    && error.contains("has no public ip addresses"),
                "{error}"
            );
            assert!(error.contains("127.0.0.1 is loopback"), "{error}");
            assert_no_secret(&attempt);
        }
        assert!(never_contacted(&listener));
    }

    #[tokio::test]
    async fn localhost_is_delivered_when_allowed() {
        let policies = [
            AddressPolicy::parse(["localhost"], false).unwrap(),
            AddressPolicy::parse(["127.0.0.0/8"], false).unwrap(),
            AddressPolicy::parse(["127.0.0.1"], false).unwrap(),
            AddressPolicy::new([], true),
        ];
        for policy in policies {
            let rules: Vec<AllowRule> = policy.rules().collect();
            let (addr, received) = receiver(answer("200 OK", "", "")).await;
            let transport = transport_with(policy, Duration::from_secs(10));
            let attempt = transport
                .post(&format!("http://localhost:{}/hook", addr.port()), "{}", &[])
                .await;
            assert_eq!(attempt.outcome, Outcome::Delivered, "{rules:?}");
            assert_eq!(received.await.unwrap().body, b"{}");
        }
    }

    #[tokio::test]
    async fn an_allow_rule_for_another_host_or_range_does_not_open_localhost() {
        let listener = silent_listener();
        let port = listener.local_addr().unwrap().port();
        let policy = AddressPolicy::parse(["hooks.internal", "10.0.0.0/8", "::1"], false).unwrap();
        let transport = transport_with(policy, Duration::from_secs(5));
        let attempt = transport
            .post(&format!("http://localhost:{port}/"), "{}", &[])
            .await;
        // ::1 is allowed, so when localhost also resolves to ::1 the connection goes there (where
        // nothing listens); 127.0.0.1 is never handed to the connector.
        assert!(
            matches!(attempt.outcome, Outcome::Refused | Outcome::Retry),
            "{attempt:?}"
        );
        assert!(never_contacted(&listener));
    }

    #[tokio::test]
    async fn only_http_urls_are_posted_to() {
        let transport = transport();
        for (url, error) in [
            (
                "ftp://example.com/x",
                "unsupported URL scheme \"ftp\": only http and https",
            ),
            (
                "file:///etc/passwd",
                "unsupported URL scheme \"file\": only http and https",
            ),
            (
                "gopher://127.0.0.1:70/",
                "unsupported URL scheme \"gopher\": only http and https",
            ),
            ("not a url", "invalid URL: relative URL without a base"),
            ("http://", "invalid URL: empty host"),
            (
                "http://exa mple.com/",
                "invalid URL: invalid international domain name",
            ),
        ] {
            let attempt = transport.post(url, "{}", &headers()).await;
            assert_eq!(attempt.outcome, Outcome::Final, "{url}");
            assert_eq!(attempt.error.as_deref(), Some(error), "{url}");
        }
    }

    #[tokio::test]
    async fn a_bad_header_is_final_and_its_value_not_shown() {
        let transport = transport();
        let attempt = transport
            .post(
                "http://127.0.0.1:9/",
                "{}",
                &[(
                    "X-Chatwoot-Signature",
                    "secret-signature\nInjected: yes".into(),
                )],
            )
            .await;
        assert_eq!(attempt.outcome, Outcome::Final);
        assert_eq!(
            attempt.error.as_deref(),
            Some("invalid value for header x-chatwoot-signature")
        );
        let attempt = transport
            .post("http://127.0.0.1:9/", "{}", &[("Bad Name", "v".into())])
            .await;
        assert_eq!(attempt.outcome, Outcome::Final);
        assert_eq!(
            attempt.error.as_deref(),
            Some("invalid header name \"Bad Name\"")
        );
    }

    #[tokio::test]
    async fn a_huge_response_body_is_not_read_past_the_cap() {
        const ADVERTISED: u64 = 1 << 30;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let flood = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let _ = read_request(&mut stream).await;
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {ADVERTISED}\r\n\r\n");
            stream.write_all(head.as_bytes()).await.unwrap();
            let block = vec![b'x'; 64 * 1024];
            let mut written: u64 = 0;
            while written < ADVERTISED {
                match stream.write(&block).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => written += n as u64,
                }
            }
            written
        });
        let transport = transport_with(AddressPolicy::new([], true), Duration::from_secs(60));
        let attempt = transport.post(&format!("http://{addr}/"), "{}", &[]).await;
        assert_eq!(attempt.outcome, Outcome::Delivered);
        // The client closed the connection after the cap: what the receiver got out is at most
        // the cap plus the socket buffers on both sides, far from the gigabyte it meant to send.
        let written = flood.await.unwrap();
        assert!(written < 64 << 20, "{written} bytes were taken");
    }

    #[test]
    fn refusal_texts() {
        let refusal = Refusal {
            host: "example.test".into(),
            refused: vec![
                ("127.0.0.1".parse().unwrap(), AddressClass::Loopback),
                ("::1".parse().unwrap(), AddressClass::Loopback),
            ],
        };
        assert_eq!(
            refusal.to_string(),
            "Hostname example.test has no public ip addresses (127.0.0.1 is loopback, ::1 is loopback)"
        );
    }
}
