//! A limit on Client API requests per client address (`--public-rate-limit`, per minute): the
//! public API needs no token, so this is what keeps one address from flooding an inbox. A
//! real chat page stays far below it. Past it, 429 with `Retry-After`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// Addresses remembered before the ones that are back to a full allowance are forgotten.
const REMEMBERED: usize = 100_000;

/// The limiter, shared by every worker; `None` when the limit is off.
#[derive(Clone, Default)]
pub struct PublicRateLimit(Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>);

impl PublicRateLimit {
    /// `per_minute` requests a minute per address, all of them usable at once; 0 is no limit.
    pub fn per_minute(per_minute: u32) -> Self {
        Self(
            NonZeroU32::new(per_minute).map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n)))),
        )
    }

    fn check(&self, address: IpAddr) -> Result<(), ApiError> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        if limiter.len() > REMEMBERED {
            limiter.retain_recent();
        }
        limiter.check_key(&address).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited {
                retry_after_secs: wait.as_secs() + 1,
            }
        })
    }
}

/// The middleware on the Client API's scope. The address is the connection's peer: a header
/// naming another could be forged.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let limiter = req.app_data::<web::Data<PublicRateLimit>>().cloned();
    if let (Some(limiter), Some(peer)) = (limiter, req.peer_addr()) {
        limiter.check(peer.ip())?;
    }
    next.call(req).await
}
