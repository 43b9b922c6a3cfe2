//! Turning what clients send into typed input: the JSON body extractor and the lenient field
//! types Chatwoot clients rely on (ids as strings, booleans as "true"/"false", explicit nulls).

use std::future::Future;
use std::pin::Pin;

use actix_web::error::PayloadError;
use actix_web::{dev, web, FromRequest, HttpRequest};
use serde::de::{self, DeserializeOwned, Deserializer};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The body limit every extractor reads, set from `Settings::max_body_bytes`.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// A request body parsed as JSON into `T`.
///
/// Friendlier than `web::Json` in the ways Chatwoot clients need: an empty body reads as `{}`
/// (toggle requests and DELETEs are sent with no body or `{}`), a JSON body is accepted whatever
/// the Content-Type says (`curl -d` sends form encoding), a flat form body is read as strings, and
/// every failure is a JSON error naming the field at fault.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map_or(1024 * 1024, |l| l.0);
        let content_type = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| match e.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => ApiError::PayloadTooLarge { limit },
                Some(error) if super::body_timeout::is_too_slow(error) => {
                    ApiError::RequestTimeout(error.to_string())
                }
                _ => ApiError::BadRequest(format!("Could not read the request body: {e}")),
            })?;
            if content_type.starts_with("multipart/") {
                return Err(ApiError::UnsupportedMediaType(content_type));
            }
            parse_body(
                &bytes,
                content_type.starts_with("application/x-www-form-urlencoded"),
            )
            .map(JsonBody)
        })
    }
}

fn parse_body<T: DeserializeOwned>(bytes: &[u8], form_encoded: bool) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let Some(first) = first else {
        return deserialize_value(Value::Object(Map::new()));
    };
    // A body that starts like JSON is JSON, whatever the Content-Type claims.
    let form_encoded = form_encoded && !matches!(first, b'{' | b'[');
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let parsed = serde_path_to_error::deserialize::<_, T>(&mut reader);
    match parsed {
        Ok(value) => match reader.end() {
            Ok(()) => Ok(value),
            Err(_) if form_encoded => parse_form(bytes),
            Err(e) => Err(ApiError::BadRequest(format!("Malformed JSON body: {e}"))),
        },
        Err(error) if error.inner().is_data() => Err(field_error(error.path(), error.inner())),
        Err(_) if form_encoded => parse_form(bytes),
        Err(error) => Err(ApiError::BadRequest(format!(
            "Malformed JSON body: {}",
            error.inner()
        ))),
    }
}

fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|e| ApiError::BadRequest(format!("Malformed form body: {e}")))?;
    let object = pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    deserialize_value(Value::Object(object))
}

fn deserialize_value<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| field_error(e.path(), e.inner()))
}

fn field_error(path: &serde_path_to_error::Path, cause: &dyn std::fmt::Display) -> ApiError {
    let path = path.to_string();
    if path == "." {
        ApiError::unprocessable(format!("Invalid request body: {cause}"))
    } else {
        ApiError::unprocessable(format!("Invalid value for '{path}': {cause}"))
    }
}

/// An id sent as a JSON number or as a string of digits (`"inbox_id": "1"`), as Rails accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlexId(pub i64);

impl<'de> Deserialize<'de> for FlexId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Number(n) => n
                .as_i64()
                .map(FlexId)
                .ok_or_else(|| de::Error::custom(format!("expected an integer id, got {n}"))),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(FlexId)
                .map_err(|_| de::Error::custom(format!("expected an integer id, got {s:?}"))),
            other => Err(de::Error::custom(format!(
                "expected an integer id, got {other}"
            ))),
        }
    }
}

/// A boolean sent as JSON `true`/`false` or as the strings "true"/"false"/"1"/"0" (form fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlexBool(pub bool);

impl<'de> Deserialize<'de> for FlexBool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Bool(b) => Ok(FlexBool(b)),
            Value::Number(n) if n.as_i64() == Some(0) => Ok(FlexBool(false)),
            Value::Number(n) if n.as_i64() == Some(1) => Ok(FlexBool(true)),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "t" | "yes" | "on" => Ok(FlexBool(true)),
                "false" | "0" | "f" | "no" | "off" | "" => Ok(FlexBool(false)),
                _ => Err(de::Error::custom(format!("expected a boolean, got {s:?}"))),
            },
            other => Err(de::Error::custom(format!(
                "expected a boolean, got {other}"
            ))),
        }
    }
}

/// For fields where "absent" and "null" mean different things (`"team_id": null` clears):
/// use with `#[serde(default, deserialize_with = "nullable")]` on an `Option<Option<T>>`.
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A JSON object field; `null` reads as `{}`, anything else that is not an object is refused.
pub fn object_or_null<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Map<String, Value>>, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None => Ok(Some(Map::new())),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(other) => Err(de::Error::custom(format!(
            "expected an object, got {other}"
        ))),
    }
}

/// The ids of a list given as an array of ids or as a comma-separated string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdList(pub Vec<i64>);

impl<'de> Deserialize<'de> for IdList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Null => Ok(IdList(Vec::new())),
            Value::Array(items) => items
                .into_iter()
                .map(|item| {
                    FlexId::deserialize(item)
                        .map(|id| id.0)
                        .map_err(de::Error::custom)
                })
                .collect::<Result<_, _>>()
                .map(IdList),
            Value::String(s) => s
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(|part| {
                    part.parse::<i64>().map_err(|_| {
                        de::Error::custom(format!("expected an integer id, got {part:?}"))
                    })
                })
                .collect::<Result<_, _>>()
                .map(IdList),
            other => Err(de::Error::custom(format!(
                "expected a list of ids, got {other}"
            ))),
        }
    }
}

/// An enum given by its wire name; an unknown name is a 422 listing the allowed ones (Chatwoot
/// answers 500 there).
pub fn parse_enum<T>(
    given: Option<&str>,
    field: &str,
    parse: fn(&str) -> Option<T>,
    names: fn() -> String,
) -> Result<Option<T>, ApiError> {
    given
        .map(|raw| {
            parse(raw.trim()).ok_or_else(|| {
                ApiError::unprocessable(format!(
                    "'{raw}' is not a valid {field}; use one of: {}",
                    names()
                ))
            })
        })
        .transpose()
}

/// An enum sent by its wire name or its Rails integer.
#[derive(Deserialize, Clone, Debug)]
#[serde(untagged)]
pub enum NameOrCode {
    Code(i64),
    Name(String),
}

pub fn enum_value<T>(
    given: Option<NameOrCode>,
    field: &str,
    parse: fn(&str) -> Option<T>,
    from_code: fn(i64) -> Option<T>,
    names: fn() -> String,
) -> Result<Option<T>, ApiError> {
    let Some(given) = given else { return Ok(None) };
    let (parsed, shown) = match given {
        NameOrCode::Code(code) => (from_code(code), code.to_string()),
        NameOrCode::Name(name) => {
            let trimmed = name.trim();
            let parsed = trimmed
                .parse::<i64>()
                .ok()
                .and_then(from_code)
                .or_else(|| parse(trimmed));
            (parsed, name)
        }
    };
    parsed.map(Some).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "'{shown}' is not a valid {field}; use one of: {}",
            names()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Sample {
        inbox_id: Option<FlexId>,
        #[serde(default, deserialize_with = "nullable")]
        team_id: Option<Option<FlexId>>,
        private: Option<FlexBool>,
        user_ids: Option<IdList>,
    }

    fn parse(body: &str) -> Result<Sample, ApiError> {
        parse_body(body.as_bytes(), false)
    }

    #[test]
    fn ids_may_be_numbers_or_digit_strings() {
        assert_eq!(
            parse(r#"{"inbox_id": 1}"#).unwrap().inbox_id,
            Some(FlexId(1))
        );
        assert_eq!(
            parse(r#"{"inbox_id": "7"}"#).unwrap().inbox_id,
            Some(FlexId(7))
        );
        assert!(
            matches!(parse(r#"{"inbox_id": "x"}"#), Err(ApiError::Unprocessable(m)) if m.contains("inbox_id"))
        );
    }

    #[test]
    fn absent_and_null_differ_for_nullable_fields() {
        assert_eq!(parse("{}").unwrap().team_id, None);
        assert_eq!(parse(r#"{"team_id": null}"#).unwrap().team_id, Some(None));
        assert_eq!(
            parse(r#"{"team_id": "3"}"#).unwrap().team_id,
            Some(Some(FlexId(3)))
        );
    }

    #[test]
    fn booleans_may_be_form_strings() {
        assert_eq!(
            parse(r#"{"private": "true"}"#).unwrap().private,
            Some(FlexBool(true))
        );
        assert_eq!(
            parse(r#"{"private": false}"#).unwrap().private,
            Some(FlexBool(false))
        );
    }

    #[test]
    fn id_lists_accept_arrays_and_csv() {
        assert_eq!(
            parse(r#"{"user_ids": [1, "2"]}"#).unwrap().user_ids,
            Some(IdList(vec![1, 2]))
        );
        assert_eq!(
            parse(r#"{"user_ids": "3, 4"}"#).unwrap().user_ids,
            Some(IdList(vec![3, 4]))
        );
    }

    #[test]
    fn an_empty_body_is_an_empty_object() {
        assert!(parse("").unwrap().inbox_id.is_none());
        assert!(parse("  \n").unwrap().inbox_id.is_none());
    }

    #[test]
    fn malformed_json_is_a_bad_request_and_wrong_shapes_are_unprocessable() {
        assert!(matches!(
            parse("{\"inbox_id\": "),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(parse("{} trailing"), Err(ApiError::BadRequest(_))));
        assert!(matches!(parse("[1, 2]"), Err(ApiError::Unprocessable(_))));
    }

    #[test]
    fn a_flat_form_body_is_read_as_strings() {
        let sample: Sample = parse_body(b"inbox_id=5&private=true", true).unwrap();
        assert_eq!(sample.inbox_id, Some(FlexId(5)));
        assert_eq!(sample.private, Some(FlexBool(true)));
    }
}

/// A point in time sent as unix seconds (a number or a numeric string, as Chatwoot's
/// `DateTime.strptime(value, '%s')`) or as an ISO 8601 / RFC 3339 string. Returns unix micros.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlexTime(pub i64);

/// Later than any real snooze; keeps the micros arithmetic far from overflow.
const MAX_UNIX_SECONDS: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

impl FlexTime {
    fn from_seconds(seconds: f64) -> Option<Self> {
        (seconds.is_finite() && (0.0..=MAX_UNIX_SECONDS as f64).contains(&seconds))
            .then(|| FlexTime((seconds * 1_000_000.0).round() as i64))
    }

    pub fn parse_text(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(seconds) = text.parse::<f64>() {
            return Self::from_seconds(seconds);
        }
        let at = chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&chrono::Utc))
            .or_else(|_| {
                chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                    .map(|t| t.and_utc())
            })
            .ok()?;
        Self::from_seconds(at.timestamp() as f64).map(|_| FlexTime(at.timestamp_micros()))
    }
}

impl<'de> Deserialize<'de> for FlexTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let parsed = match &value {
            Value::Number(n) => n.as_f64().and_then(FlexTime::from_seconds),
            Value::String(s) => FlexTime::parse_text(s),
            _ => None,
        };
        parsed.ok_or_else(|| {
            de::Error::custom(format!(
                "expected a time as unix seconds or ISO 8601 (e.g. 2026-01-02T03:04:05Z), got {value}"
            ))
        })
    }
}

#[cfg(test)]
mod time_tests {
    use super::FlexTime;

    #[test]
    fn times_are_unix_seconds_or_iso_8601() {
        assert_eq!(
            FlexTime::parse_text("1712345678"),
            Some(FlexTime(1_712_345_678_000_000))
        );
        assert_eq!(
            FlexTime::parse_text("2024-04-05T19:34:38Z"),
            Some(FlexTime(1_712_345_678_000_000))
        );
        assert_eq!(
            FlexTime::parse_text("2024-04-05T21:34:38.5+02:00"),
            Some(FlexTime(1_712_345_678_500_000))
        );
        assert_eq!(FlexTime::parse_text("tomorrow"), None);
        assert_eq!(FlexTime::parse_text("-5"), None);
        assert_eq!(FlexTime::parse_text("1e300"), None);
    }
}
