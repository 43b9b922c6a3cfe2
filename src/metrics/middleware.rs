//! What the HTTP side records: every answered request (a middleware), and every open connection
//! (a guard that `HttpServer::on_connect` leaves in the connection's extensions, which are
//! dropped with the connection).

use std::future::{ready, Ready};
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use futures_util::future::{Either, LocalBoxFuture};
use prometheus::IntGauge;

use super::{Metrics, UNMATCHED};

/// Records each request's method, route pattern, status and latency. Without metrics it hands
/// requests straight on: nothing is measured or allocated.
#[derive(Clone)]
pub struct RecordRequests(Option<Arc<Metrics>>);

impl RecordRequests {
    pub fn new(metrics: Option<Arc<Metrics>>) -> Self {
        Self(metrics)
    }
}

impl<S, B> Transform<S, ServiceRequest> for RecordRequests
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = RecordRequestsService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RecordRequestsService {
            service,
            metrics: self.0.clone(),
        }))
    }
}

pub struct RecordRequestsService<S> {
    service: S,
    metrics: Option<Arc<Metrics>>,
}

type Answer<B> = Result<ServiceResponse<B>, actix_web::Error>;

impl<S, B> Service<ServiceRequest> for RecordRequestsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = Either<S::Future, LocalBoxFuture<'static, Answer<B>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let Some(metrics) = self.metrics.clone() else {
            return Either::Left(self.service.call(req));
        };
        let started = Instant::now();
        let method = method_label(req.method().as_str());
        // The pattern, not the path: ids in paths would make a label value per object.
        let route = req.match_pattern();
        let answer = self.service.call(req);
        Either::Right(Box::pin(async move {
            let answered = answer.await;
            let status = match &answered {
                Ok(response) => response.status(),
                Err(error) => error.as_response_error().status_code(),
            };
            metrics.observe_request(
                method,
                route.as_deref().unwrap_or(UNMATCHED),
                status.as_str(),
                started.elapsed(),
            );
            answered
        }))
    }
}

/// The standard methods by name and any other as `other`: a client inventing methods must not
/// grow the label set.
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// The `HttpServer::on_connect` callback: each connection holds a guard in its extensions,
/// dropped with the connection, that counts it as open.
pub fn count_connections(
    metrics: Arc<Metrics>,
) -> impl Fn(&dyn std::any::Any, &mut actix_web::dev::Extensions) + Send + Sync + 'static {
    move |_, extensions| {
        extensions.insert(metrics.connection_opened());
    }
}

/// One open connection, counted from its creation until it is dropped.
pub struct OpenConnection(IntGauge);

impl OpenConnection {
    pub(super) fn new(gauge: IntGauge) -> Self {
        gauge.inc();
        Self(gauge)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use actix_web::{test, web, App, HttpResponse};

    use super::*;
    use crate::metrics::Snapshot;

    #[actix_web::test]
    async fn requests_are_labelled_by_pattern_and_unknown_paths_and_methods_by_one_value_each() {
        let metrics = Arc::new(Metrics::new().unwrap());
        let app = test::init_service(
            App::new()
                .wrap(RecordRequests::new(Some(Arc::clone(&metrics))))
                .service(web::resource("/things/{id}").get(HttpResponse::Ok))
                .default_service(web::to(HttpResponse::NotFound)),
        )
        .await;
        for uri in ["/things/1", "/things/2", "/nothing/3"] {
            test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        }
        let odd = test::TestRequest::default()
            .method(actix_web::http::Method::from_bytes(b"BREW").unwrap())
            .uri("/things/4");
        test::call_service(&app, odd.to_request()).await;
        let text = metrics.render(&Snapshot::default()).unwrap();
        let has = |line: &str| text.lines().any(|l| l == line);
        assert!(has(
            r#"wootlite_http_requests_total{method="GET",route="/things/{id}",status="200"} 2"#
        ));
        assert!(has(
            r#"wootlite_http_requests_total{method="GET",route="unmatched",status="404"} 1"#
        ));
        assert!(has(
            r#"wootlite_http_requests_total{method="other",route="/things/{id}",status="405"} 1"#
        ));
        assert!(!text.contains("/things/1") && !text.contains("/nothing"));
    }
}
