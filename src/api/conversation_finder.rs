//! What the list, `/meta` and `/search` share, as Chatwoot's ConversationFinder: the four counts
//! and, when asked, one rendered page. A query `q` goes through the search index on the heavy
//! read pool; everything else is a plain read.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::db::Conn;
use serde_json::value::RawValue;

use super::conversation_input::ListQuery;
use crate::app::AppState;
use crate::error::ApiError;
use crate::models::Principal;
use crate::search::text::Needle;
use crate::search::{ConversationHits, Current, CurrentHits, NewestMatch, SearchIndex};
use crate::store::catalog::CatalogView;
use crate::store::conversation_list::{self, ByValues, Counts, Summary, TextMatch};
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
    Matching(Matches<'a>),
    /// The newest searchable message (a search with an empty query).
    Searchable,
}

/// A search's matching conversations and what it looked for.
#[derive(Clone, Copy)]
struct Matches<'a> {
    hits: &'a ConversationHits,
    needle: &'a Needle,
}

impl Matches<'_> {
    /// The conversation's newest matching message: from the hits when they recorded it, else
    /// looked for among its messages.
    fn newest(&self, conn: &Conn, conversation_id: i64) -> StoreResult<Option<i64>> {
        match self.hits.newest_message(conversation_id) {
            NewestMatch::Recorded(found) => Ok(found),
            NewestMatch::NotRecorded => {
                search_feed::newest_searchable_where(conn, conversation_id, |text| {
                    self.needle.is_in(text)
                })
            }
        }
    }
}

pub async fn find(
    state: &AppState,
    principal: Principal,
    mut query: ListQuery,
    page: Option<PageRequest>,
) -> Result<Found, ApiError> {
    let query_is_heavy = query.filter.condition.is_some();
    let Some(q) = query.q.take() else {
        if let Some(by_values) = query.filter.by_values.clone() {
            return filter_by_values(state, principal, query, page, by_values).await;
        }
        let catalog = state.catalog.view();
        let read = move |conn: &Conn| {
            let page = page.as_ref().map(|p| (p, &catalog));
            run(conn, &principal, &query, page, Shown::Latest)
        };
        // A compiled filter may read every conversation: it is heavy work.
        return if query_is_heavy {
            state.db.read_heavy(read).await
        } else {
            state.db.read(read).await
        };
    };
    if q.is_empty() {
        let catalog = state.catalog.view();
        return state
            .db
            .read_heavy(move |conn| {
                let page = page.as_ref().map(|p| (p, &catalog));
                query.filter.text = Some(TextMatch::AnySearchableMessage);
                run(conn, &principal, &query, page, Shown::Searchable)
            })
            .await;
    }
    search(state, principal, query, q, page).await
}

/// The values' indexes are read for at most half as many ids as the list filters match, and at
/// least this many. An id costs about 0.07 µs there (its index entry, and its summary looked up
/// in memory); checking one listed row's attribute instead costs about 0.75 µs, a read at a
/// random place (1M conversations, warm). So the ids win by five times or more wherever they
/// fit, and where they do not, reading them up to that point added a twentieth at most.
const SELECTED_AT_LEAST: usize = 1_000;

/// A filter payload of list filters and one attribute condition: the ids the attribute's
/// indexes give, counted and ordered from the index's copy of the summaries, instead of reading
/// each row the list filters match. Falls back to the compiled statement where that is cheaper
/// or the copy cannot be used.
async fn filter_by_values(
    state: &AppState,
    principal: Principal,
    query: ListQuery,
    page: Option<PageRequest>,
    by_values: Arc<ByValues>,
) -> Result<Found, ApiError> {
    let index = Arc::clone(&state.search);
    let catalog = state.catalog.view();
    state
        .db
        .read_heavy(move |conn| {
            let page = page.as_ref().map(|p| (p, &catalog));
            match run_by_values(conn, &principal, &query, page, &by_values, &index)? {
                Some(found) => Ok(found),
                None => run(conn, &principal, &query, page, Shown::Latest),
            }
        })
        .await
}

fn run_by_values(
    conn: &Conn,
    principal: &Principal,
    query: &ListQuery,
    page: Option<PageToRender>,
    by_values: &ByValues,
    index: &SearchIndex,
) -> StoreResult<Option<Found>> {
    let changed = index
        .changed_summaries(conn)
        .map_err(|e| StoreError::Database(e.to_string()))?;
    let Some(changed) = changed else {
        return Ok(None);
    };
    let listed = conversation_list::counts(conn, principal, &by_values.listed)?.all;
    let up_to = usize::try_from(listed / 2)
        .unwrap_or(0)
        .max(SELECTED_AT_LEAST);
    let Some(ids) = conversation_list::selected_ids(conn, &by_values.selection, up_to)? else {
        return Ok(None);
    };
    let answered = index.with_summaries(|copy| {
        conversation_list::counts_and_page_of_summaries(
            conn,
            principal,
            &by_values.listed,
            query.tab,
            query.sort,
            page.map(|(p, _)| (p.page, p.per_page)),
            changed.of(&ids, copy),
        )
    });
    let Some(answered) = answered else {
        return Ok(None);
    };
    let (counts, rows) = answered?;
    render_page(conn, principal, counts, rows, page, Shown::Latest).map(Some)
}

/// What a search still needs when the index was too far behind to answer it.
struct Asked {
    query: ListQuery,
    page: Option<PageRequest>,
    /// The outbox position the index must show first.
    written: i64,
}

/// Read-your-writes: everything committed before the request is in what it searches. The index
/// answers up to its last commit and the database for what came after; only when that is too
/// much does the search wait for the index, and ask again.
async fn search(
    state: &AppState,
    principal: Principal,
    mut query: ListQuery,
    q: String,
    mut page: Option<PageRequest>,
) -> Result<Found, ApiError> {
    let deadline = tokio::time::Instant::now() + INDEX_WAIT;
    let q = Arc::new(q);
    loop {
        let index = Arc::clone(&state.search);
        let catalog = state.catalog.view();
        let needle_text = Arc::clone(&q);
        let principal = principal.clone();
        let attempt = move |conn: &Conn| {
            let current = match index
                .find_current(conn, principal.account_id, &needle_text)
                .map_err(|e| StoreError::Database(e.to_string()))?
            {
                Current::Hits(current) => current,
                Current::Behind(written) => {
                    return Ok(Err(Asked {
                        query,
                        page,
                        written,
                    }))
                }
            };
            let rendered = page.as_ref().map(|p| (p, &catalog));
            let needle = Needle::new(&needle_text);
            search_page(
                conn, &principal, &mut query, rendered, &current, &needle, &index,
            )
            .map(Ok)
        };
        // A rare text's search costs about what a list page does: it need not queue for the
        // heavy reads' turns, nor run at their lower priority.
        let answered = if state.search.is_light(&q) {
            state.db.read(attempt).await?
        } else {
            state.db.read_heavy(attempt).await?
        };
        let asked = match answered {
            Ok(found) => return Ok(found),
            Err(asked) => asked,
        };
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if !state.search.wait_until_visible(asked.written, left).await {
            return Err(ApiError::unavailable(
                "The search index is catching up; try again shortly",
            ));
        }
        (query, page) = (asked.query, asked.page);
    }
}

/// A search's counts and page from its current hits: through the index's copy of the
/// summaries when the filters need nothing else, else through the database.
fn search_page(
    conn: &Conn,
    principal: &Principal,
    query: &mut ListQuery,
    page: Option<PageToRender>,
    current: &CurrentHits,
    needle: &Needle,
    index: &SearchIndex,
) -> StoreResult<Found> {
    let matches = Matches {
        hits: &current.hits,
        needle,
    };
    if query.filter.only_summary_columns() {
        let answered = index.with_summaries(|copy| {
            run_on_summaries(
                conn,
                principal,
                query,
                page,
                matches,
                current.summaries(copy),
            )
        });
        if let Some(answered) = answered {
            return answered;
        }
    }
    let ids = current.hits.conversation_ids().to_vec();
    query.filter.text = Some(TextMatch::Conversations(Arc::new(ids)));
    run(conn, principal, query, page, Shown::Matching(matches))
}

/// A page asked for, and the catalog its conversations are rendered with.
type PageToRender<'a> = (&'a PageRequest, &'a CatalogView);

fn run(
    conn: &Conn,
    principal: &Principal,
    query: &ListQuery,
    page: Option<PageToRender>,
    shown: Shown,
) -> StoreResult<Found> {
    team_exists(conn, principal, query)?;
    let (counts, rows) = conversation_list::counts_and_page(
        conn,
        principal,
        &query.filter,
        query.tab,
        query.sort,
        page.map(|(p, _)| (p.page, p.per_page)),
    )?;
    render_page(conn, principal, counts, rows, page, shown)
}

/// An unknown team is a 404, as Chatwoot's `teams.find`.
fn team_exists(conn: &Conn, principal: &Principal, query: &ListQuery) -> StoreResult<()> {
    if let (Some(id), true) = (query.filter.team_id, query.team_must_exist) {
        teams::get(conn, principal.account_id, id, principal.user_id())?;
    }
    Ok(())
}

/// A search's counts and page from the index's copy of the conversation summaries, as `run`
/// answers it from the database.
fn run_on_summaries(
    conn: &Conn,
    principal: &Principal,
    query: &ListQuery,
    page: Option<PageToRender>,
    matches: Matches,
    summaries: impl Iterator<Item = Summary>,
) -> StoreResult<Found> {
    team_exists(conn, principal, query)?;
    let (counts, rows) = conversation_list::counts_and_page_of_summaries(
        conn,
        principal,
        &query.filter,
        query.tab,
        query.sort,
        page.map(|(p, _)| (p.page, p.per_page)),
        summaries,
    )?;
    render_page(
        conn,
        principal,
        counts,
        rows,
        page,
        Shown::Matching(matches),
    )
}

fn render_page(
    conn: &Conn,
    principal: &Principal,
    counts: Counts,
    rows: Vec<Conversation>,
    page: Option<PageToRender>,
    shown: Shown,
) -> StoreResult<Found> {
    let Some((page, catalog)) = page else {
        return Ok(Found {
            counts,
            payload: Vec::new(),
        });
    };
    let mut showing = HashMap::new();
    for c in &rows {
        let shown = match &shown {
            Shown::Latest => None,
            Shown::Matching(matches) => matches.newest(conn, c.id)?,
            Shown::Searchable => search_feed::latest_searchable(conn, c.id)?,
        };
        if let Some(message_id) = shown {
            showing.insert(c.id, message_id);
        }
    }
    let payload =
        details::conversations_showing(conn, catalog, rows, principal.user_id(), &showing)?
            .iter()
            .map(|found| conversation_views::conversation(found, &page.links))
            .collect();
    Ok(Found { counts, payload })
}

/// Loads what the conversation JSON needs and renders it.
pub fn render(
    conn: &Conn,
    catalog: &CatalogView,
    conversation: Conversation,
    viewer: Option<i64>,
    links: &Links,
) -> StoreResult<Box<RawValue>> {
    let details = details::conversation(conn, catalog, conversation, viewer)?;
    Ok(conversation_views::conversation(&details, links))
}

/// `render` inside a write, which reads the directory from its own transaction: it sees its
/// group's changes before they are committed, and nothing it reads may be kept.
pub fn render_written(
    tx: &Conn,
    conversation: Conversation,
    viewer: Option<i64>,
    links: &Links,
) -> StoreResult<Box<RawValue>> {
    render(tx, &CatalogView::direct(), conversation, viewer, links)
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::api::test_accounts::{generated, ADMIN_AND_AGENT};
    use crate::models::Status;
    use crate::search::Summaries;
    use crate::store::conversation_list::{AssigneeTab, Filter, Sort};

    const TABS: [AssigneeTab; 4] = [
        AssigneeTab::Me,
        AssigneeTab::Unassigned,
        AssigneeTab::Assigned,
        AssigneeTab::All,
    ];

    /// A search's counts and page from the index's copy of the summaries are the ones the
    /// database gives for the same matches: an administrator and an agent who sees some inboxes,
    /// every tab and order, status, inbox, team and assignee filters, matches that include ids
    /// of no conversation, and pages past the first.
    #[test]
    fn counts_and_pages_from_summaries_equal_the_databases() {
        let dir = tempfile::tempdir().unwrap();
        let db = generated(dir.path(), 5);
        let summaries = db.read_now(Summaries::load).unwrap();
        assert!(summaries.is_usable());
        let mut rng = StdRng::seed_from_u64(23);
        let mut nonempty = 0;
        for round in 0..300 {
            let filter = Filter {
                status: rng.gen_bool(0.6).then(|| Status::ALL[rng.gen_range(0..4)]),
                inbox_id: rng.gen_bool(0.3).then(|| rng.gen_range(1..=5)),
                team_id: rng.gen_bool(0.2).then(|| rng.gen_range(1..=4)),
                assignee_id: rng.gen_bool(0.2).then(|| rng.gen_range(1..=7)),
                ..Filter::default()
            };
            let mut matches: Vec<i64> = (1..=620).filter(|_| rng.gen_bool(0.4)).collect();
            matches.shuffle(&mut rng);
            let principal = &ADMIN_AND_AGENT[round % 2];
            let tab = TABS[rng.gen_range(0..4)];
            let sort = Sort::parse(Sort::NAMES[rng.gen_range(0..Sort::NAMES.len())]).unwrap();
            let window = Some((rng.gen_range(1..=2), 25));
            let searched = Filter {
                text: Some(TextMatch::Conversations(Arc::new(matches.clone()))),
                ..filter.clone()
            };
            let answers = db
                .read_now(|conn| {
                    let from_database = conversation_list::counts_and_page(
                        conn, principal, &searched, tab, sort, window,
                    )?;
                    let from_summaries = conversation_list::counts_and_page_of_summaries(
                        conn,
                        principal,
                        &filter,
                        tab,
                        sort,
                        window,
                        summaries.of(&matches),
                    )?;
                    Ok([from_database, from_summaries].map(|(counts, rows)| {
                        (counts, rows.iter().map(|c| c.id).collect::<Vec<_>>())
                    }))
                })
                .unwrap();
            let [expected, found] = answers;
            assert_eq!(
                found, expected,
                "round {round}: {filter:?} {tab:?} {sort:?}"
            );
            nonempty += usize::from(!expected.1.is_empty());
        }
        assert!(nonempty > 100, "{nonempty} pages with conversations");
    }
}
