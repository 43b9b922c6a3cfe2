//! What the list, `/meta` and `/search` share, as Chatwoot's ConversationFinder: the four counts
//! and, when asked, one rendered page. A query `q` goes through the search index on the heavy
//! read pool; everything else is a plain read.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;
use serde_json::value::RawValue;

use super::conversation_input::ListQuery;
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::Principal;
use crate::search::ConversationHits;
use crate::store::conversation_list::{self, Counts, TextMatch};
use crate::store::conversations::Conversation;
use crate::store::{details, search_feed, teams, StoreError, StoreResult};
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
    pub payload: Vec<Box<RawValue>>,
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
    if let (Some(id), true) = (query.filter.team_id, query.team_must_exist) {
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
    let mut showing = HashMap::new();
    for c in &rows {
        let shown = match &shown {
            Shown::Latest => None,
            Shown::Matching(hits) => hits.newest_message(c.id),
            Shown::Searchable => search_feed::latest_searchable(conn, c.id)?,
        };
        if let Some(message_id) = shown {
            showing.insert(c.id, message_id);
        }
    }
    let payload = details::conversations_showing(conn, rows, principal.user_id(), &showing)?
        .iter()
        .map(|found| conversation_views::conversation(found, &page.links))
        .collect();
    Ok(Found { counts, payload })
}

/// Loads what the conversation JSON needs and renders it.
pub fn render(
    conn: &Connection,
    conversation: Conversation,
    viewer: Option<i64>,
    links: &Links,
) -> StoreResult<Box<RawValue>> {
    let details = details::conversation(conn, conversation, viewer)?;
    Ok(conversation_views::conversation(&details, links))
}
