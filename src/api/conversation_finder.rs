//! What the list, `/meta` and `/search` share, as Chatwoot's ConversationFinder: the four counts
//! and, when asked, one rendered page. A query `q` goes through the search index on the heavy
//! read pool; everything else is a plain read.

use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;
use serde_json::Value;

use super::conversation_input::ListQuery;
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::Principal;
use crate::search::ConversationHits;
use crate::store::conversation_list::{self, Counts, TextMatch};
use crate::store::conversations::Conversation;
use crate::store::details::ConversationDetails;
use crate::store::{details, messages, search_feed, teams, StoreError, StoreResult};
use crate::views::conversations::{self as conversation_views, Links};

/// How long a search waits for the index to take in the writes acknowledged before it.
const INDEX_WAIT: Duration = Duration::from_secs(10);

/// Which rows to render besides the counts.
pub struct PageRequest {
    pub page: i64,
    pub per_page: i64,
    pub links: Links,
}

pub struct Found {
    pub counts: Counts,
    pub payload: Vec<Value>,
}

/// Which message a rendered conversation shows in `messages`.
enum Shown<'a> {
    /// The newest message (the list).
    Latest,
    /// The newest matching message (a search).
    Matching(&'a ConversationHits),
    /// The newest searchable message (a search with an empty query).
    Searchable,
}

pub async fn find(
    state: &AppState,
    principal: Principal,
    mut query: ListQuery,
    page: Option<PageRequest>,
) -> Result<Found, ApiError> {
    let query_is_heavy = query.filter.condition.is_some();
    let Some(q) = query.q.take() else {
        let read =
            move |conn: &Connection| run(conn, &principal, &query, page.as_ref(), Shown::Latest);
        // A compiled filter may read every conversation: it is heavy work.
        return if query_is_heavy {
            state.db.read_heavy(read).await
        } else {
            state.db.read(read).await
        };
    };
    if !q.is_empty() {
        // Read-your-writes: everything committed before this request is in what it searches.
        let written = state.db.read(search_feed::latest_seq).await?;
        if !state.search.wait_until_visible(written, INDEX_WAIT).await {
            return Err(ApiError::unavailable(
                "The search index is catching up; try again shortly",
            ));
        }
    }
    let index = Arc::clone(&state.search);
    state
        .db
        .read_heavy(move |conn| {
            if q.is_empty() {
                query.filter.text = Some(TextMatch::AnySearchableMessage);
                return run(conn, &principal, &query, page.as_ref(), Shown::Searchable);
            }
            let hits = index
                .find(principal.account_id, &q)
                .map_err(|e| StoreError::Database(e.to_string()))?;
            let ids = hits.conversation_ids().to_vec();
            query.filter.text = Some(TextMatch::Conversations(Arc::new(ids)));
            run(
                conn,
                &principal,
                &query,
                page.as_ref(),
                Shown::Matching(&hits),
            )
        })
        .await
}

fn run(
    conn: &Connection,
    principal: &Principal,
    query: &ListQuery,
    page: Option<&PageRequest>,
    shown: Shown,
) -> StoreResult<Found> {
    // An unknown team is a 404, as Chatwoot's `teams.find`.
    if let Some(id) = query.filter.team_id {
        teams::get(conn, principal.account_id, id, principal.user_id())?;
    }
    let (counts, rows) = conversation_list::counts_and_page(
        conn,
        principal,
        &query.filter,
        query.tab,
        query.sort,
        page.map(|p| (p.page, p.per_page)),
    )?;
    let Some(page) = page else {
        return Ok(Found {
            counts,
            payload: Vec::new(),
        });
    };
    let shown_messages = rows
        .iter()
        .map(|c| {
            Ok(match &shown {
                Shown::Latest => None,
                Shown::Matching(hits) => hits.newest_message(c.id),
                Shown::Searchable => search_feed::latest_searchable(conn, c.id)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let payload = details::conversations(conn, rows, principal.user_id())?
        .into_iter()
        .zip(shown_messages)
        .map(|(found, message)| render_details_showing(conn, found, &page.links, message))
        .collect::<StoreResult<_>>()?;
    Ok(Found { counts, payload })
}

/// A conversation's JSON, with `message_id` (when given) as the message it shows.
pub fn render_showing(
    conn: &Connection,
    conversation: Conversation,
    viewer: Option<i64>,
    links: &Links,
    message_id: Option<i64>,
) -> StoreResult<Value> {
    let details = details::conversation(conn, conversation, viewer)?;
    render_details_showing(conn, details, links, message_id)
}

/// `render_showing` for a conversation whose details are loaded.
fn render_details_showing(
    conn: &Connection,
    mut details: ConversationDetails,
    links: &Links,
    message_id: Option<i64>,
) -> StoreResult<Value> {
    if let Some(id) = message_id {
        match messages::get(conn, details.conversation.id, id) {
            Ok(message) => details.last_message = Some(details::message(conn, message)?),
            // Deleted since the index saw it: the conversation keeps its newest message.
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(conversation_views::conversation(&details, links))
}
