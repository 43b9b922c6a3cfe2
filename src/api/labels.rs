//! `/api/v1/accounts/{a}/labels`. Every member lists them; the rest is for administrators
//! (Chatwoot's LabelPolicy, where even `show` is administrator-only).

use crate::api::openapi::schemas as doc;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::input::{nullable, FlexBool, JsonBody};
use super::validate::{self, is_valid_title, MAX_TEXT_CHARS};
use super::{ApiResult, ItemPath};
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::Principal;
use crate::store::labels::{self, Label, LabelFields};
use crate::views;

const DEFAULT_COLOR: &str = "#1f93ff";

#[derive(Deserialize)]
pub struct LabelInput {
    title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    description: Option<Option<String>>,
    color: Option<String>,
    show_on_sidebar: Option<FlexBool>,
}

/// Validated input; fields not sent stay as they are.
#[derive(Clone)]
struct LabelPatch {
    title: Option<String>,
    description: Option<Option<String>>,
    color: Option<String>,
    show_on_sidebar: Option<bool>,
}

impl LabelInput {
    fn validate(self) -> Result<LabelPatch, ApiError> {
        let title = self
            .title
            .map(|t| validate::required("title", "Title", Some(t), "must not be blank"))
            .transpose()?
            .map(|t| t.to_lowercase());
        if let Some(title) = &title {
            if !is_valid_title(title) {
                return Err(validate::invalid("title", "Title is invalid".into()));
            }
        }
        Ok(LabelPatch {
            title,
            description: self
                .description
                .map(|d| validate::optional("description", "Description", d, MAX_TEXT_CHARS))
                .transpose()?,
            color: self
                .color
                .map(|c| validate::required("color", "Color", Some(c), "can't be blank"))
                .transpose()?,
            show_on_sidebar: self.show_on_sidebar.map(|b| b.0),
        })
    }
}

impl LabelPatch {
    fn over(self, current: &Label) -> LabelFields {
        LabelFields {
            title: self.title.unwrap_or_else(|| current.title.clone()),
            description: self
                .description
                .unwrap_or_else(|| current.description.clone()),
            color: self.color.unwrap_or_else(|| current.color.clone()),
            show_on_sidebar: self.show_on_sidebar.or(current.show_on_sidebar),
        }
    }

    fn into_new(self) -> Result<LabelFields, ApiError> {
        Ok(LabelFields {
            title: self
                .title
                .ok_or_else(|| validate::invalid("title", "Title must not be blank".into()))?,
            description: self.description.flatten(),
            color: self.color.unwrap_or_else(|| DEFAULT_COLOR.to_string()),
            show_on_sidebar: self.show_on_sidebar,
        })
    }
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/labels",
    responses((status = 200, body = doc::LabelList)))]
pub async fn index(state: web::Data<AppState>, principal: Principal) -> ApiResult {
    let list = state
        .db
        .read(move |conn| labels::list(conn, principal.account_id))
        .await?;
    let payload: Vec<_> = list.iter().map(views::label).collect();
    Ok(HttpResponse::Ok().json(json!({ "payload": payload })))
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/labels/{id}",
    responses((status = 200, body = doc::Label)))]
pub async fn show(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    principal.require_administrator()?;
    let label_id = path.id;
    let label = state
        .db
        .read(move |conn| labels::get(conn, principal.account_id, label_id))
        .await?;
    Ok(HttpResponse::Ok().json(views::label(&label)))
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/labels",
    request_body = doc::LabelInput,
    responses((status = 200, body = doc::Label)))]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<LabelInput>,
) -> ApiResult {
    principal.require_administrator()?;
    let fields = body.0.validate()?.into_new()?;
    let (account_id, now) = (principal.account_id, state.now());
    let label = state
        .db
        .write(move |tx| {
            let label_id = labels::create(tx, account_id, &fields, now)?;
            labels::get(tx, account_id, label_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::label(&label)))
}

#[utoipa::path(method(patch, put), path = "/api/v1/accounts/{account_id}/labels/{id}",
    request_body = doc::LabelInput,
    responses((status = 200, body = doc::Label)))]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<LabelInput>,
) -> ApiResult {
    principal.require_administrator()?;
    let patch = body.0.validate()?;
    let (account_id, label_id, now) = (principal.account_id, path.id, state.now());
    let label = state
        .db
        .write(move |tx| {
            let fields = patch.clone().over(&labels::get(tx, account_id, label_id)?);
            labels::update(tx, account_id, label_id, &fields, now)?;
            labels::get(tx, account_id, label_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::label(&label)))
}

#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/labels/{id}",
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn destroy(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    super::delete_as_administrator(&state, &principal, path.id, labels::delete).await
}

#[cfg(test)]
mod tests {
    use super::is_valid_title;

    #[test]
    fn titles_follow_chatwoots_rule() {
        assert!(is_valid_title("billing"));
        assert!(is_valid_title("vip-2"));
        assert!(is_valid_title("größe"));
        assert!(!is_valid_title("a"));
        assert!(!is_valid_title("-ab"));
        assert!(!is_valid_title("two words"));
    }
}
