//! Request bodies must keep coming: actix cuts slow headers but waits forever for a body that
//! stalls or trickles, and each such connection holds a socket and a buffer. Every request body
//! is read through `TimedBody`, which fails the read when no bytes arrive for `idle`, or when,
//! past the first `idle`, the body has averaged less than `min_bytes_per_sec`. The handler's
//! extractor then answers 408 and the connection is closed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

type BoxedPayloadStream = Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>;

/// The pace every request body must keep.
#[derive(Clone, Copy, Debug)]
pub struct BodyPace {
    pub idle: Duration,
    pub min_bytes_per_sec: u64,
}

/// What a body that fell behind reads as; extractors turn it into 408.
pub fn is_too_slow(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut)
}

/// The middleware: wraps the body of every request that has one.
pub async fn pace_bodies(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let pace = req.app_data::<BodyPace>().copied();
    if let (Some(pace), true) = (pace, has_body(&req)) {
        let inner = req.take_payload();
        let timed: BoxedPayloadStream = Box::pin(TimedBody::new(inner, pace));
        req.set_payload(Payload::Stream { payload: timed });
    }
    next.call(req).await
}

fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > 0);
    declared || headers.contains_key(header::TRANSFER_ENCODING)
}

pub struct TimedBody {
    inner: Payload,
    pace: BodyPace,
    started: Instant,
    received: u64,
    /// When the body is declared too slow unless more arrives; made on the first wait.
    deadline: Option<Pin<Box<Sleep>>>,
    failed: bool,
}

impl TimedBody {
    fn new(inner: Payload, pace: BodyPace) -> Self {
        Self {
            inner,
            pace,
            started: Instant::now(),
            received: 0,
            deadline: None,
            failed: false,
        }
    }

    /// Past the first `idle`, the least a body must have delivered so far.
    fn behind_rate(&self, now: Instant) -> bool {
        let elapsed = now.duration_since(self.started);
        elapsed > self.pace.idle
            && (self.received as f64) < self.pace.min_bytes_per_sec as f64 * elapsed.as_secs_f64()
    }

    fn fail(&mut self, why: &str) -> Poll<Option<Result<Bytes, PayloadError>>> {
        self.failed = true;
        Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            why.to_string(),
        )))))
    }
}

impl Stream for TimedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.received += chunk.len() as u64;
                let now = Instant::now();
                if self.behind_rate(now) {
                    return self.fail("the request body arrived too slowly");
                }
                let idle = self.pace.idle;
                if let Some(deadline) = self.deadline.as_mut() {
                    deadline.as_mut().reset(now + idle);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => Poll::Ready(other),
            Poll::Pending => {
                let idle = self.pace.idle;
                let deadline = self
                    .deadline
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                match deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => self.fail("the request body stalled"),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}
