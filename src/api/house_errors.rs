//! Error answers that no handler writes: an unsupported method on a known path gets the house
//! JSON body instead of actix's empty 405, and every 5xx is logged with the request's method,
//! path and cause (the cause never goes to the wire).

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::ResponseError;

use crate::error::ApiError;

pub fn handlers<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new()
        .handler(StatusCode::METHOD_NOT_ALLOWED, method_not_allowed)
        .default_handler_server(log_server_error)
}

fn method_not_allowed<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let (req, _) = res.into_parts();
    let answer = ApiError::MethodNotAllowed.error_response();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, answer).map_into_right_body(),
    ))
}

fn log_server_error<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let request = res.request();
    let status = res.status();
    // A deliberate answer such as `/health`'s 503 carries its reason in its body.
    if res.response().error().is_none() && status != StatusCode::INTERNAL_SERVER_ERROR {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let cause = res
        .response()
        .error()
        .map_or_else(|| "no cause recorded".to_string(), ToString::to_string);
    let level = if status == StatusCode::INTERNAL_SERVER_ERROR {
        log::Level::Error
    } else {
        log::Level::Warn
    };
    log::log!(
        level,
        "{} {} answered {}: {cause}",
        request.method(),
        request.path(),
        status.as_u16()
    );
    Ok(ErrorHandlerResponse::Response(res.map_into_left_body()))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use actix_web::{test, web, App, HttpResponse};

    use super::*;

    /// Keeps what is logged, for the one test here that reads it.
    struct Captured(Mutex<Vec<String>>);

    impl log::Log for Captured {
        fn enabled(&self, _: &log::Metadata) -> bool {
            true
        }
        fn log(&self, record: &log::Record) {
            let line = format!("{} {}", record.level(), record.args());
            self.0.lock().unwrap().push(line);
        }
        fn flush(&self) {}
    }

    static CAPTURED: Captured = Captured(Mutex::new(Vec::new()));

    #[actix_web::test]
    async fn a_500_is_logged_with_method_path_and_cause_and_the_cause_stays_off_the_wire() {
        let _ = log::set_logger(&CAPTURED);
        log::set_max_level(log::LevelFilter::Warn);
        let app = test::init_service(App::new().wrap(handlers()).route(
            "/broken/{n}",
            web::post().to(|| async {
                Err::<HttpResponse, _>(ApiError::internal("disk I/O error on page 7"))
            }),
        ))
        .await;
        let req = test::TestRequest::post().uri("/broken/3").to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = test::read_body(res).await;
        assert!(!String::from_utf8_lossy(&body).contains("disk I/O"));
        let logged = CAPTURED.0.lock().unwrap().clone();
        assert!(
            logged
                .iter()
                .any(|line| line.starts_with("ERROR POST /broken/3 answered 500")
                    && line.contains("disk I/O error on page 7")),
            "{logged:?}"
        );
    }
}
