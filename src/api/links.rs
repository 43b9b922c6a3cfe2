//! `Links` from the request: attachment URLs and invitation links point back at the address the
//! client used, unless the server was given a public URL.

use std::future::{ready, Ready};

use actix_web::{dev, web, FromRequest, HttpRequest};

use crate::app::AppState;
use crate::error::ApiError;
use crate::views::conversations::Links;

impl FromRequest for Links {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut dev::Payload) -> Self::Future {
        let configured = req
            .app_data::<web::Data<AppState>>()
            .and_then(|state| state.public_url.clone());
        let base_url = configured.unwrap_or_else(|| {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        });
        ready(Ok(Links { base_url }))
    }
}
