//! Parsing the conversation list's query string: Chatwoot clients send `labels` as CSV, as
//! `labels[]=` or repeated, so the query is read as pairs rather than through a struct.

use crate::error::ApiError;
use crate::models::Status;
use crate::search::text::MAX_QUERY_CHARS;
use crate::store::conversation_list::{AssigneeTab, ConversationType, Filter, Sort};

/// Longest filter value accepted (labels, source ids): far past any real one.
const MAX_VALUE_CHARS: usize = 1024;
const MAX_LABELS: usize = 100;

#[derive(Debug)]
pub struct ListQuery {
    pub filter: Filter,
    pub tab: AssigneeTab,
    pub sort: Sort,
    pub page: i64,
    /// `page` as sent, echoed back as `current_page`.
    pub current_page: i64,
    /// `q` as sent (untrimmed; it may be empty): message content to search for.
    pub q: Option<String>,
    /// A `team_id` naming no team is a 404 (the list's `teams.find`), not an empty list (a
    /// filter payload's).
    pub team_must_exist: bool,
}

fn bad(name: &str, value: &str, expected: &str) -> ApiError {
    ApiError::unprocessable(format!("Invalid {name} '{value}': expected {expected}"))
}

fn id(name: &str, value: &str) -> Result<i64, ApiError> {
    value
        .trim()
        .parse::<i64>()
        .map_err(|_| bad(name, value, "an integer id"))
}

/// Reads the list parameters; `now` resolves `updated_within`.
pub fn parse_list_query(query: &str, now: i64) -> Result<ListQuery, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|e| ApiError::BadRequest(format!("Invalid query string: {e}")))?;
    let mut parsed = ListQuery {
        filter: Filter {
            status: Some(Status::Open),
            ..Filter::default()
        },
        tab: AssigneeTab::All,
        sort: Sort::LastActivityAtDesc,
        page: 1,
        current_page: 1,
        q: None,
        team_must_exist: true,
    };
    let mut status = None;
    for (key, value) in pairs {
        if key == "q" {
            if value.chars().count() > MAX_QUERY_CHARS {
                return Err(ApiError::unprocessable(format!(
                    "Search query is too long: at most {MAX_QUERY_CHARS} characters"
                )));
            }
            parsed.q = Some(value);
            continue;
        }
        if value.chars().count() > MAX_VALUE_CHARS {
            return Err(ApiError::unprocessable(format!(
                "Parameter '{key}' is too long"
            )));
        }
        let value = value.trim().to_string();
        match key.as_str() {
            "status" if !value.is_empty() => status = Some(value),
            "assignee_type" => {
                parsed.tab = match value.as_str() {
                    "me" => AssigneeTab::Me,
                    "unassigned" => AssigneeTab::Unassigned,
                    "assigned" => AssigneeTab::Assigned,
                    // Chatwoot treats anything else as no assignee filter.
                    _ => AssigneeTab::All,
                }
            }
            "inbox_id" if !value.is_empty() => {
                parsed.filter.inbox_id = Some(id("inbox_id", &value)?)
            }
            "team_id" if !value.is_empty() => parsed.filter.team_id = Some(id("team_id", &value)?),
            "labels" | "labels[]" => parsed.filter.labels.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string),
            ),
            "page" if !value.is_empty() => {
                let page = value
                    .parse::<i64>()
                    .map_err(|_| bad("page", &value, "a page number"))?;
                parsed.page = page.max(1);
                parsed.current_page = page;
            }
            // Chatwoot falls back to the default order for a name it does not know.
            "sort_by" => parsed.sort = Sort::parse(&value).unwrap_or(Sort::LastActivityAtDesc),
            "conversation_type" => {
                parsed.filter.conversation_type = match value.as_str() {
                    "unattended" => Some(ConversationType::Unattended),
                    "mention" => Some(ConversationType::Mention),
                    "participating" => Some(ConversationType::Participating),
                    _ => None,
                }
            }
            "source_id" if !value.is_empty() => parsed.filter.source_id = Some(value),
            "updated_within" if !value.is_empty() => {
                let seconds = value
                    .parse::<i64>()
                    .ok()
                    .filter(|s| *s >= 0)
                    .ok_or_else(|| bad("updated_within", &value, "a number of seconds"))?;
                parsed.filter.updated_after =
                    Some(now.saturating_sub(seconds.saturating_mul(1_000_000)));
            }
            _ => {}
        }
    }
    // A search looks at every status, whatever `status` says.
    parsed.filter.status = match (&parsed.q, status.as_deref()) {
        (Some(_), _) | (None, Some("all")) => None,
        (None, None) => Some(Status::Open),
        (None, Some(value)) => Some(
            Status::parse(value)
                .ok_or_else(|| bad("status", value, "open, resolved, pending, snoozed or all"))?,
        ),
    };
    if parsed.filter.labels.len() > MAX_LABELS {
        return Err(ApiError::unprocessable(format!(
            "At most {MAX_LABELS} labels may be given"
        )));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_as_csv_brackets_or_repeats() {
        let q = parse_list_query("labels=a,b&labels[]=c&labels=d", 0).unwrap();
        assert_eq!(q.filter.labels, vec!["a", "b", "c", "d"]);
        let q = parse_list_query("labels%5B%5D=x", 0).unwrap();
        assert_eq!(q.filter.labels, vec!["x"]);
    }

    #[test]
    fn defaults_are_open_all_latest_page_one() {
        let q = parse_list_query("", 0).unwrap();
        assert_eq!(q.filter.status, Some(Status::Open));
        assert_eq!(q.tab, AssigneeTab::All);
        assert_eq!(q.sort, Sort::LastActivityAtDesc);
        assert_eq!(q.page, 1);
    }

    #[test]
    fn bad_values_are_refused_and_odd_pages_are_clamped() {
        assert!(parse_list_query("status=closed", 0).is_err());
        assert_eq!(
            parse_list_query("sort_by=id", 0).unwrap().sort,
            Sort::LastActivityAtDesc
        );
        assert_eq!(
            parse_list_query("sort_by=sort_on_priority", 0)
                .unwrap()
                .sort,
            Sort::PriorityDesc
        );
        assert!(parse_list_query("inbox_id=x", 0).is_err());
        assert_eq!(parse_list_query("page=-3", 0).unwrap().page, 1);
        assert_eq!(
            parse_list_query("status=all", 0).unwrap().filter.status,
            None
        );
        assert_eq!(
            parse_list_query("sort_by=latest", 0).unwrap().sort,
            Sort::LastActivityAtDesc
        );
        let q = parse_list_query("updated_within=60", 100_000_000).unwrap();
        assert_eq!(q.filter.updated_after, Some(40_000_000));
    }

    #[test]
    fn a_query_is_kept_as_sent_and_lifts_the_status_filter() {
        let q = parse_list_query("status=resolved&q=%20Hi%20", 0).unwrap();
        assert_eq!(q.q.as_deref(), Some(" Hi "));
        assert_eq!(q.filter.status, None);
        assert_eq!(
            parse_list_query("q=&status=bogus", 0).unwrap().q.as_deref(),
            Some("")
        );
        let long = format!("q={}", "é".repeat(MAX_QUERY_CHARS + 1));
        assert!(parse_list_query(&long, 0).is_err());
        let fits = format!("q={}", "é".repeat(MAX_QUERY_CHARS));
        assert!(parse_list_query(&fits, 0).is_ok());
    }
}
