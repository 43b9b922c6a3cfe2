//! The conversation list, `/meta` and their four counts, as Chatwoot's ConversationFinder
//! computes them. The WHERE clause is assembled from fixed fragments; every value is bound.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use crate::db::{Bind, Conn, IdList};

use super::conversations::{conversation_columns, conversation_from_row, Conversation};
use super::{page_window, StoreResult};
use crate::models::{Principal, Status};

pub const CONVERSATIONS_PER_PAGE: i64 = 25;

/// The list's filters, all optional. The four counts are computed under these.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// `None`: every status (`status=all`).
    pub status: Option<Status>,
    pub inbox_id: Option<i64>,
    pub team_id: Option<i64>,
    /// Only this agent's conversations (a filter payload's `assignee_id`).
    pub assignee_id: Option<i64>,
    /// Any of these labels.
    pub labels: Vec<String>,
    pub source_id: Option<String>,
    /// `updated_at` strictly after this time (micros).
    pub updated_after: Option<i64>,
    /// `conversation_type`: unattended, mention or participating.
    pub conversation_type: Option<ConversationType>,
    /// Only this contact's conversations (the contact conversations route).
    pub contact_id: Option<i64>,
    /// `q`: only conversations with a matching message.
    pub text: Option<TextMatch>,
    /// A compiled `/filter` payload.
    pub condition: Option<Arc<crate::filter::Compiled>>,
    /// The same payload said as the list's filters and a selection of ids from the custom
    /// attribute values' indexes, when it can be (`filter::values_shape`).
    pub by_values: Option<Arc<ByValues>>,
}

/// A `/filter` payload as the list's filters and one condition on a conversation's custom
/// attribute, which the values table's indexes answer alone.
#[derive(Debug)]
pub struct ByValues {
    /// The list's filters of the payload (no condition).
    pub listed: Filter,
    /// Selects the ids of the conversations meeting the other condition, in any account.
    pub selection: crate::filter::Compiled,
}

/// What the counts and the order read from one conversation: the columns of the
/// `conversations_summary` index, which the search index also keeps a copy of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    pub id: i64,
    pub account_id: i64,
    pub status: i64,
    pub inbox_id: i64,
    pub team_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub last_activity_at: i64,
    pub created_at: i64,
    pub priority: Option<i64>,
    pub waiting_since: Option<i64>,
}

/// The conversations a search query matches.
#[derive(Clone, Debug)]
pub enum TextMatch {
    /// An empty query matches every conversation with a searchable message.
    AnySearchableMessage,
    /// The conversations the index found.
    Conversations(Arc<Vec<i64>>),
}

impl Filter {
    /// Whether the count table can answer: it knows status, inbox, team and assignee only.
    fn countable_from_table(&self) -> bool {
        self.text.is_none() && self.only_summary_columns()
    }

    /// Whether a conversation's summary decides every condition but the text.
    pub fn only_summary_columns(&self) -> bool {
        self.labels.is_empty()
            && self.source_id.is_none()
            && self.updated_after.is_none()
            && self.conversation_type.is_none()
            && self.contact_id.is_none()
            && self.condition.is_none()
    }

    /// The conditions of `scope` on a summary; `visible` is the agent's inboxes (None: all).
    fn admits(&self, principal: &Principal, visible: Option<&HashSet<i64>>, s: &Summary) -> bool {
        s.account_id == principal.account_id
            && self.status.is_none_or(|status| status.code() == s.status)
            && self.inbox_id.is_none_or(|id| id == s.inbox_id)
            && self.team_id.is_none_or(|id| Some(id) == s.team_id)
            && self.assignee_id.is_none_or(|id| Some(id) == s.assignee_id)
            && visible.is_none_or(|inboxes| inboxes.contains(&s.inbox_id))
    }
}

/// `conversation_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConversationType {
    /// Never replied to, or waiting for a reply.
    Unattended,
    Mention,
    Participating,
}

/// `assignee_type`: which tab's rows the list returns. It does not change the counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssigneeTab {
    Me,
    Unassigned,
    Assigned,
    All,
}

/// Chatwoot's `sort_by` whitelist (legacy aliases are parsed into these by the caller).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    LastActivityAtDesc,
    LastActivityAtAsc,
    CreatedAtDesc,
    CreatedAtAsc,
    PriorityDesc,
    PriorityAsc,
    WaitingSinceAsc,
    WaitingSinceDesc,
    PriorityDescCreatedAtAsc,
}

impl Sort {
    /// Chatwoot's names of the orders, one each.
    pub const NAMES: [&'static str; 9] = [
        "last_activity_at_desc",
        "last_activity_at_asc",
        "created_at_desc",
        "created_at_asc",
        "priority_desc",
        "priority_asc",
        "waiting_since_asc",
        "waiting_since_desc",
        "priority_desc_created_at_asc",
    ];

    /// Chatwoot's names, with its deprecated aliases.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "last_activity_at_desc" | "latest" => Self::LastActivityAtDesc,
            "last_activity_at_asc" => Self::LastActivityAtAsc,
            "created_at_desc" => Self::CreatedAtDesc,
            "created_at_asc" | "sort_on_created_at" => Self::CreatedAtAsc,
            "priority_desc" | "sort_on_priority" => Self::PriorityDesc,
            "priority_asc" => Self::PriorityAsc,
            "waiting_since_asc" | "sort_on_waiting_since" => Self::WaitingSinceAsc,
            "waiting_since_desc" => Self::WaitingSinceDesc,
            "priority_desc_created_at_asc" => Self::PriorityDescCreatedAtAsc,
            _ => return None,
        })
    }

    /// The order of `order_by` as a key compared ascending (NULLs last where it puts them last).
    fn key(self, row: &Ordered) -> [i64; 4] {
        let null = |v: Option<i64>| i64::from(v.is_none());
        let priority = row.priority.unwrap_or(0);
        let waiting = row.waiting_since.unwrap_or(0);
        match self {
            Self::LastActivityAtDesc => [-row.last_activity_at, -row.id, 0, 0],
            Self::LastActivityAtAsc => [row.last_activity_at, row.id, 0, 0],
            Self::CreatedAtDesc => [-row.created_at, -row.id, 0, 0],
            Self::CreatedAtAsc => [row.created_at, row.id, 0, 0],
            Self::PriorityDesc => [
                null(row.priority),
                -priority,
                -row.last_activity_at,
                -row.id,
            ],
            Self::PriorityAsc => [null(row.priority), priority, -row.last_activity_at, -row.id],
            Self::WaitingSinceAsc => [null(row.waiting_since), waiting, row.created_at, row.id],
            Self::WaitingSinceDesc => [null(row.waiting_since), -waiting, row.created_at, row.id],
            Self::PriorityDescCreatedAtAsc => {
                [null(row.priority), -priority, row.created_at, row.id]
            }
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            Self::LastActivityAtDesc => "c.last_activity_at DESC, c.id DESC",
            Self::LastActivityAtAsc => "c.last_activity_at ASC, c.id ASC",
            Self::CreatedAtDesc => "c.created_at DESC, c.id DESC",
            Self::CreatedAtAsc => "c.created_at ASC, c.id ASC",
            Self::PriorityDesc => {
                "c.priority IS NULL, c.priority DESC, c.last_activity_at DESC, c.id DESC"
            }
            Self::PriorityAsc => {
                "c.priority IS NULL, c.priority ASC, c.last_activity_at DESC, c.id DESC"
            }
            Self::WaitingSinceAsc => {
                "c.waiting_since IS NULL, c.waiting_since ASC, c.created_at ASC, c.id ASC"
            }
            Self::WaitingSinceDesc => {
                "c.waiting_since IS NULL, c.waiting_since DESC, c.created_at ASC, c.id ASC"
            }
            Self::PriorityDescCreatedAtAsc => {
                "c.priority IS NULL, c.priority DESC, c.created_at ASC, c.id ASC"
            }
        }
    }
}

/// Chatwoot's four counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub mine: i64,
    pub assigned: i64,
    pub unassigned: i64,
    pub all: i64,
}

impl Counts {
    /// The rows on every page of one tab (the short doc's `meta.count`).
    pub fn of_tab(&self, tab: AssigneeTab) -> i64 {
        match tab {
            AssigneeTab::Me => self.mine,
            AssigneeTab::Unassigned => self.unassigned,
            AssigneeTab::Assigned => self.assigned,
            AssigneeTab::All => self.all,
        }
    }
}

/// A WHERE clause from fixed fragments (each with `?` placeholders) and their bound values.
#[derive(Default)]
struct Where {
    fragments: Vec<Cow<'static, str>>,
    values: Vec<Box<dyn Bind>>,
    /// Whether the clause is for PostgreSQL, where a few fragments differ.
    postgres: bool,
}

impl Where {
    fn for_engine(conn: &Conn) -> Self {
        Self {
            postgres: conn.is_postgres(),
            ..Self::default()
        }
    }

    fn and(&mut self, fragment: &'static str, values: Vec<Box<dyn Bind>>) {
        self.fragments.push(Cow::Borrowed(fragment));
        self.values.extend(values);
    }

    /// A compiled filter: text assembled from static pieces by the compiler, values bound.
    fn and_compiled(&mut self, compiled: &crate::filter::Compiled) {
        self.fragments.push(Cow::Owned(compiled.sql.clone()));
        self.values.extend(
            compiled
                .params
                .iter()
                .cloned()
                .map(|v| Box::new(v) as Box<dyn Bind>),
        );
    }

    fn sql(&self) -> String {
        self.fragments.join(" AND ")
    }

    fn params(&self) -> Vec<&dyn Bind> {
        self.values.iter().map(|v| v.as_ref()).collect()
    }
}

/// Which table a WHERE clause reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    /// `conversations c`
    Conversations,
    /// `conversation_counts`, which names the same columns without an alias.
    Counts,
}

/// The conditions both tables can answer.
fn scope(conn: &Conn, principal: &Principal, filter: &Filter, table: Table) -> Where {
    let mut w = Where::for_engine(conn);
    let (account, status, inbox, team, assignee, visible) = if table == Table::Conversations {
        (
            "c.account_id = ?",
            "c.status = ?",
            "c.inbox_id = ?",
            "c.team_id = ?",
            "c.assignee_id = ?",
            "c.inbox_id IN (SELECT inbox_id FROM inbox_members WHERE user_id = ?)",
        )
    } else {
        (
            "account_id = ?",
            "status = ?",
            "inbox_id = ?",
            "team_id = ?",
            // The count table keeps "unassigned" as 0, which no agent's id equals.
            "assignee_id = ?",
            "inbox_id IN (SELECT inbox_id FROM inbox_members WHERE user_id = ?)",
        )
    };
    w.and(account, vec![Box::new(principal.account_id)]);
    if let Some(s) = filter.status {
        w.and(status, vec![Box::new(s.code())]);
    }
    if let Some(id) = filter.inbox_id {
        w.and(inbox, vec![Box::new(id)]);
    }
    if let Some(id) = filter.team_id {
        w.and(team, vec![Box::new(id)]);
    }
    if let Some(id) = filter.assignee_id {
        w.and(assignee, vec![Box::new(id)]);
    }
    // Agents see the conversations of the inboxes they are members of.
    if !principal.sees_all_inboxes() {
        w.and(visible, vec![Box::new(principal.user_id())]);
    }
    w
}

/// The conditions only the conversations table can answer.
fn conversation_scope(conn: &Conn, principal: &Principal, filter: &Filter) -> Where {
    let mut w = scope(conn, principal, filter, Table::Conversations);
    if !filter.labels.is_empty() {
        let labels = serde_json::Value::from(filter.labels.clone()).to_string();
        let labelled = match w.postgres {
            true => {
                "EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id
                       AND l.title IN (SELECT value
                                         FROM jsonb_array_elements_text(CAST(? AS text)::jsonb)
                                           AS j(value)))"
            }
            false => {
                "EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id
                       AND l.title IN (SELECT value FROM json_each(?)))"
            }
        };
        w.and(labelled, vec![Box::new(labels)]);
    }
    if let Some(source) = &filter.source_id {
        w.and(
            "c.contact_inbox_id IN (SELECT id FROM contact_inboxes WHERE source_id = ?)",
            vec![Box::new(source.clone())],
        );
    }
    if let Some(after) = filter.updated_after {
        w.and("c.updated_at > ?", vec![Box::new(after)]);
    }
    match filter.conversation_type {
        Some(ConversationType::Unattended) => w.and(
            "(c.first_reply_created_at IS NULL OR c.waiting_since IS NOT NULL)",
            vec![],
        ),
        // wootlite has no @mentions, so no conversation mentions anyone.
        Some(ConversationType::Mention) => w.and("FALSE", vec![]),
        // Chatwoot's participants are the agents assigned to or writing in a conversation.
        Some(ConversationType::Participating) => w.and(
            "(c.assignee_id = ? OR EXISTS (SELECT 1 FROM messages pm WHERE pm.conversation_id = c.id
                 AND pm.sender_type = 'User' AND pm.sender_id = ?))",
            vec![Box::new(principal.user_id()), Box::new(principal.user_id())],
        ),
        None => {}
    }
    if let Some(contact) = filter.contact_id {
        w.and("c.contact_id = ?", vec![Box::new(contact)]);
    }
    match &filter.text {
        Some(TextMatch::AnySearchableMessage) => w.and(
            super::search_feed::CONVERSATION_HAS_SEARCHABLE_MESSAGE,
            vec![],
        ),
        // Joined in by `From::of`.
        Some(TextMatch::Conversations(_)) | None => {}
    }
    if let Some(compiled) = &filter.condition {
        w.and_compiled(compiled);
    }
    w
}

/// The FROM clause: the conversations table, or the ids a search found joined to it. The join
/// order is forced: SQLite would otherwise scan the account's conversations against the list
/// (7 ms for 10 matches among 100,000), where reading each match by its key takes microseconds,
/// and is still the faster plan when every conversation matches.
/// The columns a list order reads.
struct Ordered {
    id: i64,
    last_activity_at: i64,
    created_at: i64,
    priority: Option<i64>,
    waiting_since: Option<i64>,
}

/// The first `capacity` rows by key among those offered: a max-heap that drops its largest
/// whenever it grows past the capacity.
struct TopRows {
    capacity: usize,
    heap: std::collections::BinaryHeap<([i64; 4], i64)>,
}

impl TopRows {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            heap: std::collections::BinaryHeap::with_capacity(capacity.min(4096) + 1),
        }
    }

    fn offer(&mut self, key: [i64; 4], id: i64) {
        if self.capacity == 0 {
            return;
        }
        if self.heap.len() < self.capacity {
            self.heap.push((key, id));
        } else if self.heap.peek().is_some_and(|top| (key, id) < *top) {
            self.heap.pop();
            self.heap.push((key, id));
        }
    }

    fn into_sorted_ids(self) -> Vec<i64> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|(_, id)| id)
            .collect()
    }
}

struct From {
    sql: &'static str,
    ids: Option<IdList>,
}

impl From {
    fn of(conn: &Conn, filter: &Filter) -> Self {
        match &filter.text {
            Some(TextMatch::Conversations(ids)) => {
                From {
                    // SQLite would read each whole row by its rowid; the summary index holds
                    // what counts and order need.
                    sql: match conn.is_postgres() {
                        true => "unnest(CAST(? AS bigint[])) AS hit(value) JOIN conversations c ON c.id = hit.value",
                        false => "rarray(?) hit CROSS JOIN conversations c INDEXED BY conversations_summary ON c.id = hit.value",
                    },
                    ids: Some(IdList::new(ids.iter().copied())),
                }
            }
            _ => From {
                sql: "conversations c",
                ids: None,
            },
        }
    }

    /// The FROM clause's parameter goes before the WHERE clause's.
    fn params<'a>(&'a self, mut then: Vec<&'a dyn Bind>) -> Vec<&'a dyn Bind> {
        if let Some(ids) = &self.ids {
            then.insert(0, ids);
        }
        then
    }
}

pub fn counts(conn: &Conn, principal: &Principal, filter: &Filter) -> StoreResult<Counts> {
    let from = From::of(conn, filter);
    let (sql, w) = if filter.countable_from_table() {
        let w = scope(conn, principal, filter, Table::Counts);
        let sql = format!(
            "SELECT COALESCE(SUM(n), 0),
                    COALESCE(SUM(CASE WHEN assignee_id = ? THEN n END), 0),
                    COALESCE(SUM(CASE WHEN assignee_id = 0 THEN n END), 0)
               FROM conversation_counts WHERE {}",
            w.sql()
        );
        (sql, w)
    } else {
        let w = conversation_scope(conn, principal, filter);
        let tallies = match w.postgres {
            true => "COUNT(*) FILTER (WHERE c.assignee_id = ?), COUNT(*) FILTER (WHERE c.assignee_id IS NULL)",
            false => "COALESCE(SUM(c.assignee_id = ?), 0), COALESCE(SUM(c.assignee_id IS NULL), 0)",
        };
        let sql = format!(
            "SELECT COUNT(*), {tallies} FROM {} WHERE {}",
            from.sql,
            w.sql()
        );
        (sql, w)
    };
    // A bot (no user) is nobody's "mine": NULL matches no assignee.
    let user = principal.user_id();
    let mut params: Vec<&dyn Bind> = vec![&user];
    params.extend(from.params(w.params()));
    let (all, mine, unassigned): (i64, i64, i64) = conn
        .prepare_cached(&sql)?
        .query_row(params.as_slice(), |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
    Ok(Counts {
        mine,
        assigned: all - unassigned,
        unassigned,
        all,
    })
}

/// One page of one tab, in the requested order.
pub fn page(
    conn: &Conn,
    principal: &Principal,
    filter: &Filter,
    tab: AssigneeTab,
    sort: Sort,
    page: i64,
    per_page: i64,
) -> StoreResult<Vec<Conversation>> {
    let mut w = conversation_scope(conn, principal, filter);
    match tab {
        AssigneeTab::Me => w.and("c.assignee_id = ?", vec![Box::new(principal.user_id())]),
        AssigneeTab::Unassigned => w.and("c.assignee_id IS NULL", vec![]),
        AssigneeTab::Assigned => w.and("c.assignee_id IS NOT NULL", vec![]),
        AssigneeTab::All => {}
    }
    let (limit, offset) = page_window(page, per_page);
    let from = From::of(conn, filter);
    // The window is found on ids alone, so that skipping to a deep page walks an index rather
    // than reading every skipped row; only the page's rows are read whole.
    let sql = format!(
        "{} FROM conversations c WHERE c.id IN (SELECT c.id FROM {} WHERE {} ORDER BY {} LIMIT ? OFFSET ?)
         ORDER BY {}",
        conversation_columns!(),
        from.sql,
        w.sql(),
        sort.order_by(),
        sort.order_by()
    );
    let mut params = from.params(w.params());
    params.push(&limit);
    params.push(&offset);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params.as_slice(), conversation_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The four counts and, when asked, one page of one tab: what the list, meta, search and filter
/// answer. Counts alone are one aggregate query; where the count table cannot give the counts
/// and a page is asked too, one pass over the matching rows in the requested order gives both,
/// instead of evaluating the conditions twice.
pub fn counts_and_page(
    conn: &Conn,
    principal: &Principal,
    filter: &Filter,
    tab: AssigneeTab,
    sort: Sort,
    window: Option<(i64, i64)>,
) -> StoreResult<(Counts, Vec<Conversation>)> {
    let Some((number, per_page)) = window else {
        return Ok((counts(conn, principal, filter)?, Vec::new()));
    };
    if filter.countable_from_table() {
        let counts = counts(conn, principal, filter)?;
        let rows = page(conn, principal, filter, tab, sort, number, per_page)?;
        return Ok((counts, rows));
    }
    let w = conversation_scope(conn, principal, filter);
    let from = From::of(conn, filter);
    // Unordered: the page is picked here, keeping only the rows up to its end, instead of
    // SQLite sorting every match.
    let sql = format!(
        "SELECT c.id, c.assignee_id, c.last_activity_at, c.created_at, c.priority, c.waiting_since
           FROM {} WHERE {}",
        from.sql,
        w.sql(),
    );
    let mut tally = Tally::new(principal, tab, sort, Some((number, per_page)));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(from.params(w.params()).as_slice())?;
    while let Some(row) = rows.next()? {
        let order = Ordered {
            id: row.get(0)?,
            last_activity_at: row.get(2)?,
            created_at: row.get(3)?,
            priority: row.get(4)?,
            waiting_since: row.get(5)?,
        };
        tally.add(&order, row.get(1)?);
    }
    let (counts, ids) = tally.finish();
    let rows = ids
        .into_iter()
        .map(|id| super::conversations::get_by_id(conn, id))
        .collect::<StoreResult<_>>()?;
    Ok((counts, rows))
}

/// What `counts_and_page` answers for a search's matches, from their summaries (the search
/// index's copy) instead of reading each from the database: `filter` must hold only summary
/// columns besides the text, which the matches stand for.
pub fn counts_and_page_of_summaries(
    conn: &Conn,
    principal: &Principal,
    filter: &Filter,
    tab: AssigneeTab,
    sort: Sort,
    window: Option<(i64, i64)>,
    matches: impl Iterator<Item = Summary>,
) -> StoreResult<(Counts, Vec<Conversation>)> {
    let visible = if principal.sees_all_inboxes() {
        None
    } else {
        Some(member_inboxes(conn, principal.user_id())?)
    };
    let mut tally = Tally::new(principal, tab, sort, window);
    for summary in matches.filter(|s| filter.admits(principal, visible.as_ref(), s)) {
        let order = Ordered {
            id: summary.id,
            last_activity_at: summary.last_activity_at,
            created_at: summary.created_at,
            priority: summary.priority,
            waiting_since: summary.waiting_since,
        };
        tally.add(&order, summary.assignee_id);
    }
    let (counts, ids) = tally.finish();
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        // Deleted since the copy was read (a write that raced this search): left out.
        match super::conversations::get_by_id(conn, id) {
            Ok(row) => rows.push(row),
            Err(super::StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok((counts, rows))
}

/// The conversation ids `selection` gives, or None when they are more than `up_to`.
pub fn selected_ids(
    conn: &Conn,
    selection: &crate::filter::Compiled,
    up_to: usize,
) -> StoreResult<Option<Vec<i64>>> {
    let sql = format!("{} LIMIT ?", selection.sql);
    let limit = i64::try_from(up_to).unwrap_or(i64::MAX).saturating_add(1);
    let mut params: Vec<&dyn Bind> = selection.params.iter().map(|v| v as &dyn Bind).collect();
    params.push(&limit);
    let mut stmt = conn.prepare_cached(&sql)?;
    let ids = stmt
        .query_map(params.as_slice(), |row| row.get(0))?
        .collect::<Result<Vec<i64>, _>>()?;
    Ok((ids.len() <= up_to).then_some(ids))
}

fn member_inboxes(conn: &Conn, user: Option<i64>) -> StoreResult<HashSet<i64>> {
    let ids: Vec<i64> = super::column(
        conn,
        "SELECT inbox_id FROM inbox_members WHERE user_id = ?1",
        [user],
    )?;
    Ok(ids.into_iter().collect())
}

/// The four counts and one tab's page, over rows offered one at a time in any order.
struct Tally {
    me: Option<i64>,
    tab: AssigneeTab,
    sort: Sort,
    counts: Counts,
    window: TopRows,
    skip: usize,
}

impl Tally {
    fn new(principal: &Principal, tab: AssigneeTab, sort: Sort, page: Option<(i64, i64)>) -> Self {
        let (limit, offset) =
            page.map_or((0, 0), |(number, per_page)| page_window(number, per_page));
        Self {
            me: principal.user_id(),
            tab,
            sort,
            counts: Counts::default(),
            window: TopRows::new(offset.saturating_add(limit).max(0) as usize),
            skip: offset.max(0) as usize,
        }
    }

    fn add(&mut self, order: &Ordered, assignee: Option<i64>) {
        self.counts.all += 1;
        let mine = self.me.is_some_and(|me| assignee == Some(me));
        self.counts.mine += i64::from(mine);
        self.counts.unassigned += i64::from(assignee.is_none());
        let shown = match self.tab {
            AssigneeTab::Me => mine,
            AssigneeTab::Unassigned => assignee.is_none(),
            AssigneeTab::Assigned => assignee.is_some(),
            AssigneeTab::All => true,
        };
        if shown {
            self.window.offer(self.sort.key(order), order.id);
        }
    }

    /// The counts, and the page's ids in order.
    fn finish(mut self) -> (Counts, Vec<i64>) {
        self.counts.assigned = self.counts.all - self.counts.unassigned;
        let ids = self
            .window
            .into_sorted_ids()
            .into_iter()
            .skip(self.skip)
            .collect();
        (self.counts, ids)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::db::{Db, PoolSizes};
    use crate::models::Role;
    use crate::store::bulk::{self, ConversationRow};

    /// The single pass's own ordering (a key per row, the first rows kept) gives the pages
    /// SQLite's ORDER BY gives, for every order, with ties and NULLs.
    #[test]
    fn the_single_pass_pages_match_sqls_order_for_every_sort() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite3"), PoolSizes::SMALL).unwrap();
        crate::provision::bootstrap(&db, None, 0).unwrap();
        let mut rng = StdRng::seed_from_u64(5);
        db.write_now(|tx| {
            let contact = crate::store::contacts::create(tx, 1, Default::default(), 0)?;
            for id in 1..=120 {
                let priority = rng.gen_bool(0.5).then(|| rng.gen_range(0..4));
                let waiting_since = rng.gen_bool(0.5).then(|| rng.gen_range(0..5));
                bulk::insert_conversation(
                    tx,
                    &ConversationRow {
                        id,
                        account_id: 1,
                        display_id: id,
                        uuid: &format!("uuid-{id}"),
                        inbox_id: 1,
                        contact_id: contact,
                        contact_inbox_id: None,
                        status: 0,
                        priority,
                        assignee_id: rng.gen_bool(0.5).then_some(1),
                        team_id: None,
                        snoozed_until: None,
                        custom_attributes: "{}",
                        first_reply_created_at: None,
                        waiting_since,
                        // Few distinct times: many ties.
                        last_activity_at: rng.gen_range(0..6),
                        created_at: rng.gen_range(0..6),
                    },
                )?;
            }
            Ok(())
        })
        .unwrap();
        let admin = Principal {
            actor: crate::models::Actor::User(1),
            account_id: 1,
            role: Role::Administrator,
        };
        let everything = Filter {
            text: Some(TextMatch::Conversations(Arc::new((1..=120).collect()))),
            ..Filter::default()
        };
        for name in Sort::NAMES {
            let sort = Sort::parse(name).unwrap();
            for tab in [AssigneeTab::All, AssigneeTab::Me, AssigneeTab::Unassigned] {
                for number in 1..=3 {
                    let ids = |rows: Vec<crate::store::conversations::Conversation>| -> Vec<i64> {
                        rows.into_iter().map(|c| c.id).collect()
                    };
                    let (expected, (_, found)) = db
                        .read_now(|conn| {
                            Ok((
                                page(conn, &admin, &Filter::default(), tab, sort, number, 25)?,
                                counts_and_page(
                                    conn,
                                    &admin,
                                    &everything,
                                    tab,
                                    sort,
                                    Some((number, 25)),
                                )?,
                            ))
                        })
                        .unwrap();
                    assert_eq!(ids(found), ids(expected), "{name}, page {number}");
                }
            }
        }
    }
}
