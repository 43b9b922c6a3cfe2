//! `/api/v1/accounts/{a}/webhooks`: the account's webhooks, for administrators only (Chatwoot's
//! WebhookPolicy). Only their management exists so far: events are not sent yet.

use crate::api::openapi::schemas as doc;
use actix_web::{web, HttpResponse};
use serde::de::Deserializer;
use serde::Deserialize;
use serde_json::Value;

use super::input::{nullable, FlexId, JsonBody};
use super::validate::{self, Failures, MAX_NAME_CHARS, MAX_URL_CHARS};
use super::{ApiResult, ItemPath};
use crate::app::AppState;
use crate::error::ApiError;
use crate::events;
use crate::models::Principal;
use crate::store::tokens;
use crate::store::webhooks::{self, Webhook, WebhookFields};
use crate::views;

/// The body, with its keys under `webhook` or at the top level: Rails wraps top-level keys
/// into `webhook` only when the body has no `webhook` key, so a nested object wins.
#[derive(Deserialize)]
pub struct WebhookBody {
    webhook: Option<WebhookInput>,
    #[serde(flatten)]
    top: WebhookInput,
}

#[derive(Deserialize)]
pub struct WebhookInput {
    /// Any JSON value, so that a number or `null` is Chatwoot's "Url is invalid", not a type error.
    #[serde(default, deserialize_with = "any_value")]
    url: Option<Value>,
    #[serde(default, deserialize_with = "nullable")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "any_value")]
    subscriptions: Option<Value>,
    #[serde(default, deserialize_with = "nullable")]
    inbox_id: Option<Option<FlexId>>,
}

/// Present (even as `null`) reads as `Some`.
fn any_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

impl WebhookBody {
    /// The keys sent; none at all is Rails' missing-parameter 422.
    fn input(self) -> Result<WebhookInput, ApiError> {
        let input = self.webhook.unwrap_or(self.top);
        let WebhookInput {
            url,
            name,
            subscriptions,
            inbox_id,
        } = &input;
        if url.is_none() && name.is_none() && subscriptions.is_none() && inbox_id.is_none() {
            return Err(ApiError::unprocessable(
                "param is missing or the value is empty: webhook",
            ));
        }
        Ok(input)
    }
}

/// Validated input; fields not sent stay as they are.
#[derive(Clone)]
struct WebhookPatch {
    url: Option<String>,
    name: Option<Option<String>>,
    subscriptions: Option<Vec<String>>,
    inbox_id: Option<Option<i64>>,
}

/// The URL check on a JSON value: only a string can be one.
fn http_url(value: &Value) -> Option<String> {
    value.as_str().and_then(validate::http_url)
}

/// Distinct names, each one of the events a webhook may subscribe to, at least one.
fn subscriptions(value: &Value) -> Option<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for item in value.as_array()? {
        let name = item.as_str().filter(|n| events::is_webhook_event(n))?;
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    (!names.is_empty()).then_some(names)
}

impl WebhookInput {
    fn validate(self) -> Result<WebhookPatch, ApiError> {
        let mut failures = Failures::default();
        let url = self.url.and_then(|value| {
            if value
                .as_str()
                .is_some_and(|t| t.chars().count() > MAX_URL_CHARS)
            {
                let message = format!("Url is too long (maximum is {MAX_URL_CHARS} characters)");
                failures.add("url", message);
                return None;
            }
            let url = http_url(&value);
            if url.is_none() {
                failures.add("url", "Url is invalid".into());
            }
            url
        });
        let name = self
            .name
            .map(|name| name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()));
        if let Some(Some(name)) = &name {
            if name.chars().count() > MAX_NAME_CHARS {
                let message = format!("Name is too long (maximum is {MAX_NAME_CHARS} characters)");
                failures.add("name", message);
            }
        }
        let subscriptions = self.subscriptions.and_then(|value| {
            let names = subscriptions(&value);
            if names.is_none() {
                failures.add("subscriptions", "Subscriptions Invalid events".into());
            }
            names
        });
        let patch = WebhookPatch {
            url,
            name,
            subscriptions,
            inbox_id: self.inbox_id.map(|id| id.map(|id| id.0)),
        };
        failures.into_result(patch)
    }
}

impl WebhookPatch {
    /// A new webhook needs a URL and its events; saying nothing of them is invalid, as in Chatwoot.
    fn into_new(self) -> Result<WebhookFields, ApiError> {
        let mut failures = Failures::default();
        if self.url.is_none() {
            failures.add("url", "Url is invalid".into());
        }
        if self.subscriptions.is_none() {
            failures.add("subscriptions", "Subscriptions Invalid events".into());
        }
        failures.into_result(())?;
        Ok(WebhookFields {
            name: self.name.flatten(),
            url: self.url.unwrap_or_default(),
            subscriptions: self.subscriptions.unwrap_or_default(),
            inbox_id: self.inbox_id.flatten(),
        })
    }

    fn over(self, current: &Webhook) -> WebhookFields {
        let current = current.fields();
        WebhookFields {
            name: self.name.unwrap_or(current.name),
            url: self.url.unwrap_or(current.url),
            subscriptions: self.subscriptions.unwrap_or(current.subscriptions),
            inbox_id: self.inbox_id.unwrap_or(current.inbox_id),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/webhooks",
    responses((status = 200, body = doc::WebhookList)))]
pub async fn index(state: web::Data<AppState>, principal: Principal) -> ApiResult {
    principal.require_administrator()?;
    let account_id = principal.account_id;
    let list = state
        .db
        .read(move |conn| webhooks::list(conn, account_id))
        .await?;
    Ok(HttpResponse::Ok().json(views::webhooks::index(&list)))
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/webhooks",
    request_body = doc::WebhookInput,
    responses((status = 200, body = doc::WebhookOne)))]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<WebhookBody>,
) -> ApiResult {
    principal.require_administrator()?;
    let fields = body.0.input()?.validate()?.into_new()?;
    let account_id = principal.account_id;
    let webhook = state
        .write_at(move |tx, now| {
            let id = webhooks::create(tx, account_id, &fields, &tokens::generate(), now)?;
            webhooks::get(tx, account_id, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::webhooks::one(&webhook)))
}

#[utoipa::path(method(patch, put), path = "/api/v1/accounts/{account_id}/webhooks/{id}",
    request_body = doc::WebhookInput,
    responses((status = 200, body = doc::WebhookOne)))]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<WebhookBody>,
) -> ApiResult {
    principal.require_administrator()?;
    let patch = body.0.input()?.validate()?;
    let (account_id, webhook_id) = (principal.account_id, path.id);
    let webhook = state
        .write_at(move |tx, now| {
            let fields = patch
                .clone()
                .over(&webhooks::get(tx, account_id, webhook_id)?);
            webhooks::update(tx, account_id, webhook_id, &fields, now)?;
            webhooks::get(tx, account_id, webhook_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::webhooks::one(&webhook)))
}

#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/webhooks/{id}",
    responses((status = 200, description = "Done; the body is empty")))]
pub async fn destroy(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    super::delete_as_administrator(&state, &principal, path.id, webhooks::delete).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_http_and_https_urls_with_a_host_are_accepted() {
        assert!(http_url(&json!("https://example.com/hook")).is_some());
        assert!(http_url(&json!("HTTP://example.com:8080/a?b=c")).is_some());
        assert_eq!(
            http_url(&json!("  http://example.com  ")).as_deref(),
            Some("http://example.com")
        );
        for bad in [
            json!("javascript:alert(1)"),
            json!("ftp://example.com/file"),
            json!("http://"),
            json!("http:example.com"),
            json!("https:///path"),
            json!("http://\\\\evil.example"),
            json!("http://?q"),
            json!("not a url"),
            json!("http://exa mple.com"),
            json!("http://example.com/\tx"),
            json!(""),
            json!(42),
            json!(null),
        ] {
            assert!(http_url(&bad).is_none(), "{bad} accepted");
        }
    }

    #[test]
    fn subscriptions_are_a_non_empty_list_of_known_events() {
        assert_eq!(
            subscriptions(&json!([
                "message_created",
                "message_created",
                "inbox_updated"
            ])),
            Some(vec!["message_created".into(), "inbox_updated".into()])
        );
        assert_eq!(subscriptions(&json!([])), None);
        assert_eq!(subscriptions(&json!(["message_deleted"])), None);
        assert_eq!(subscriptions(&json!(["message_created", 3])), None);
        assert_eq!(subscriptions(&json!("message_created")), None);
    }
}
