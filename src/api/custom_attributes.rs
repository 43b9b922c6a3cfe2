//! `/api/v1/accounts/{a}/custom_attribute_definitions`. Chatwoot applies no policy here: every
//! member of the account may read and change definitions.

use crate::api::openapi::schemas as doc;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use super::input::{enum_value, nullable, JsonBody, NameOrCode};
use super::validate::{self, valid_key, MAX_TEXT_CHARS};
use super::{ApiResult, ItemPath};
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::{AttributeDisplayType, AttributeModel, Principal};
use crate::store::custom_attributes::{self, Definition, DefinitionFields};
use crate::views;

const MAX_LIST_VALUES: usize = 1000;

/// Keys of Chatwoot's standard filter attributes; a custom attribute may not shadow them.
const RESERVED_CONVERSATION_KEYS: &[&str] = &[
    "status",
    "priority",
    "assignee_id",
    "inbox_id",
    "team_id",
    "display_id",
    "campaign_id",
    "labels",
    "browser_language",
    "country_code",
    "referer",
    "created_at",
    "last_activity_at",
];
const RESERVED_CONTACT_KEYS: &[&str] = &[
    "name",
    "email",
    "phone_number",
    "identifier",
    "country_code",
    "city",
    "created_at",
    "last_activity_at",
    "referer",
    "blocked",
];

fn display_type(given: Option<NameOrCode>) -> Result<Option<AttributeDisplayType>, ApiError> {
    enum_value(
        given,
        "attribute_display_type",
        AttributeDisplayType::parse,
        AttributeDisplayType::from_code,
        AttributeDisplayType::names,
    )
}

fn model(given: Option<NameOrCode>) -> Result<Option<AttributeModel>, ApiError> {
    enum_value(
        given,
        "attribute_model",
        AttributeModel::parse,
        AttributeModel::from_code,
        AttributeModel::names,
    )
}

#[derive(Deserialize)]
pub struct DefinitionInput {
    attribute_display_name: Option<String>,
    attribute_key: Option<String>,
    attribute_display_type: Option<NameOrCode>,
    attribute_model: Option<NameOrCode>,
    #[serde(default, deserialize_with = "nullable")]
    attribute_description: Option<Option<String>>,
    attribute_values: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    regex_pattern: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    regex_cue: Option<Option<String>>,
}

/// Validated input; fields not sent stay as they are.
#[derive(Clone)]
struct DefinitionPatch {
    display_name: Option<String>,
    key: Option<String>,
    display_type: Option<AttributeDisplayType>,
    model: Option<AttributeModel>,
    description: Option<Option<String>>,
    values: Option<Value>,
    regex_pattern: Option<Option<String>>,
    regex_cue: Option<Option<String>>,
}

fn optional_text(
    field: &str,
    label: &str,
    value: Option<Option<String>>,
) -> Result<Option<Option<String>>, ApiError> {
    value
        .map(|v| validate::optional(field, label, v, MAX_TEXT_CHARS))
        .transpose()
}

impl DefinitionInput {
    fn validate(self) -> Result<DefinitionPatch, ApiError> {
        let values = match self.attribute_values {
            Some(values) if values.len() > MAX_LIST_VALUES => {
                return Err(validate::invalid(
                    "attribute_values",
                    format!("Attribute values may hold at most {MAX_LIST_VALUES} entries"),
                ))
            }
            Some(values) => Some(Value::from(values)),
            None => None,
        };
        Ok(DefinitionPatch {
            display_name: self
                .attribute_display_name
                .map(|n| {
                    validate::required(
                        "attribute_display_name",
                        "Attribute display name",
                        Some(n),
                        "can't be blank",
                    )
                })
                .transpose()?,
            key: self.attribute_key.map(valid_key).transpose()?,
            display_type: display_type(self.attribute_display_type)?,
            model: model(self.attribute_model)?,
            description: optional_text(
                "attribute_description",
                "Attribute description",
                self.attribute_description,
            )?,
            values,
            regex_pattern: optional_text("regex_pattern", "Regex pattern", self.regex_pattern)?,
            regex_cue: optional_text("regex_cue", "Regex cue", self.regex_cue)?,
        })
    }
}

impl DefinitionPatch {
    fn into_new(self) -> Result<DefinitionFields, ApiError> {
        let display_name = self.display_name.ok_or_else(|| {
            validate::invalid(
                "attribute_display_name",
                "Attribute display name can't be blank".into(),
            )
        })?;
        let key = self.key.ok_or_else(|| {
            validate::invalid("attribute_key", "Attribute key can't be blank".into())
        })?;
        let model = self.model.unwrap_or(AttributeModel::Conversation);
        let reserved = match model {
            AttributeModel::Conversation => RESERVED_CONVERSATION_KEYS,
            AttributeModel::Contact => RESERVED_CONTACT_KEYS,
        };
        if reserved.contains(&key.as_str()) {
            return Err(validate::invalid(
                "attribute_key",
                "Attribute key The provided key is not allowed as it might conflict with default attributes.".into(),
            ));
        }
        Ok(DefinitionFields {
            display_name,
            key,
            display_type: self.display_type.unwrap_or(AttributeDisplayType::Text),
            model,
            description: self.description.flatten(),
            values: self.values.unwrap_or_else(|| Value::Array(Vec::new())),
            regex_pattern: self.regex_pattern.flatten(),
            regex_cue: self.regex_cue.flatten(),
        })
    }

    fn over(self, current: Definition) -> DefinitionFields {
        DefinitionFields {
            display_name: self.display_name.unwrap_or(current.display_name),
            key: self.key.unwrap_or(current.key),
            display_type: self.display_type.unwrap_or(current.display_type),
            model: self.model.unwrap_or(current.model),
            description: self.description.unwrap_or(current.description),
            values: self.values.unwrap_or(current.values),
            regex_pattern: self.regex_pattern.unwrap_or(current.regex_pattern),
            regex_cue: self.regex_cue.unwrap_or(current.regex_cue),
        }
    }
}

#[derive(Deserialize)]
pub struct IndexQuery {
    attribute_model: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/custom_attribute_definitions",
    params(doc::AttributeModelQuery),
    responses((status = 200, body = Vec<doc::CustomAttributeDefinition>)))]
pub async fn index(
    state: web::Data<AppState>,
    principal: Principal,
    query: web::Query<IndexQuery>,
) -> ApiResult {
    // A blank attribute_model lists every definition.
    let wanted = query
        .into_inner()
        .attribute_model
        .filter(|m| !m.trim().is_empty());
    let filter = model(wanted.map(NameOrCode::Name))?;
    let list = state
        .db
        .read(move |conn| custom_attributes::list(conn, principal.account_id, filter))
        .await?;
    Ok(HttpResponse::Ok().json(
        list.iter()
            .map(views::custom_attribute_definition)
            .collect::<Vec<_>>(),
    ))
}

#[utoipa::path(get, path = "/api/v1/accounts/{account_id}/custom_attribute_definitions/{id}",
    responses((status = 200, body = doc::CustomAttributeDefinition)))]
pub async fn show(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    let id = path.id;
    let definition = state
        .db
        .read(move |conn| custom_attributes::get(conn, principal.account_id, id))
        .await?;
    Ok(HttpResponse::Ok().json(views::custom_attribute_definition(&definition)))
}

#[utoipa::path(post, path = "/api/v1/accounts/{account_id}/custom_attribute_definitions",
    request_body = doc::DefinitionInput,
    responses((status = 200, body = doc::CustomAttributeDefinition)))]
pub async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    body: JsonBody<DefinitionInput>,
) -> ApiResult {
    let fields = body.0.validate()?.into_new()?;
    let (account_id, now) = (principal.account_id, state.now());
    let definition = state
        .db
        .write(move |tx| {
            let id = custom_attributes::create(tx, account_id, &fields, now)?;
            custom_attributes::get(tx, account_id, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::custom_attribute_definition(&definition)))
}

#[utoipa::path(method(patch, put), path = "/api/v1/accounts/{account_id}/custom_attribute_definitions/{id}",
    request_body = doc::DefinitionInput,
    responses((status = 200, body = doc::CustomAttributeDefinition)))]
pub async fn update(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
    body: JsonBody<DefinitionInput>,
) -> ApiResult {
    let patch = body.0.validate()?;
    let (account_id, id, now) = (principal.account_id, path.id, state.now());
    let definition = state
        .db
        .write(move |tx| {
            let fields = patch
                .clone()
                .over(custom_attributes::get(tx, account_id, id)?);
            custom_attributes::update(tx, account_id, id, &fields, now)?;
            custom_attributes::get(tx, account_id, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views::custom_attribute_definition(&definition)))
}

#[utoipa::path(delete, path = "/api/v1/accounts/{account_id}/custom_attribute_definitions/{id}",
    responses((status = 204, description = "Deleted")))]
pub async fn destroy(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<ItemPath>,
) -> ApiResult {
    let id = path.id;
    state
        .db
        .write(move |tx| custom_attributes::delete(tx, principal.account_id, id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
