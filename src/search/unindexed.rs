//! A search's answer as of its own snapshot, without waiting for the indexer's next commit: the
//! index holds every change up to the position it has published, and the database answers for
//! the few conversations changed after it. A search so sees every write acknowledged before it,
//! while the indexer commits in its own time.

use std::collections::{BTreeSet, HashMap};

use crate::db::Conn;
use tantivy::Searcher;

use super::fields::Fields;
use super::query::{self, ConversationHits};
use super::text::Needle;
use super::{SearchError, Summaries};
use crate::store::conversation_list::Summary;
use crate::store::search_feed::{self, Change, Position};

/// Changes past the index a search reads from the database at most. Past that the index is far
/// behind (rebuilding, or under a burst of writes) and the search waits for it instead.
pub const READ_UP_TO: i64 = 512;

/// The summaries of the conversations changed after the index's position, as a snapshot holds
/// them: None for one that is gone.
pub struct ChangedSummaries(HashMap<i64, Option<Summary>>);

impl ChangedSummaries {
    fn read(conn: &Conn, ids: &BTreeSet<i64>) -> Result<Self, SearchError> {
        let ids: Vec<i64> = ids.iter().copied().collect();
        let mut now: HashMap<i64, Option<Summary>> = ids.iter().map(|&id| (id, None)).collect();
        for summary in search_feed::summaries(conn, &ids)? {
            now.insert(summary.id, Some(summary));
        }
        Ok(Self(now))
    }

    fn get(&self, id: i64) -> Option<&Option<Summary>> {
        self.0.get(&id)
    }

    /// These conversations' summaries: from the snapshot for those changed after the index's
    /// position, from the index's copy for the rest.
    pub fn of<'a>(
        &'a self,
        ids: &'a [i64],
        copy: &'a Summaries,
    ) -> impl Iterator<Item = Summary> + 'a {
        ids.iter().filter_map(|id| match self.0.get(id) {
            Some(now) => *now,
            None => copy.get(*id),
        })
    }
}

/// The summaries of the conversations changed after `indexed`, read in `conn`'s snapshot (which
/// must have begun before `indexed` was read). None past `READ_UP_TO` changes.
pub fn changed_summaries(
    conn: &Conn,
    indexed: &Position,
) -> Result<Option<ChangedSummaries>, SearchError> {
    let Some(changes) = unapplied(conn, indexed)? else {
        return Ok(None);
    };
    let changed: BTreeSet<i64> = changes
        .into_iter()
        .filter_map(|(_, change)| match change {
            Change::Conversation(id) => Some(id),
            Change::Message(_) => None,
        })
        .collect();
    Ok(Some(ChangedSummaries::read(conn, &changed)?))
}

/// The changes `conn`'s snapshot holds that the index at `indexed` lacks; None past
/// `READ_UP_TO` of them, or when some were pruned before the index took them in.
fn unapplied(conn: &Conn, indexed: &Position) -> Result<Option<Vec<(i64, Change)>>, SearchError> {
    let changes = search_feed::unapplied(conn, indexed, READ_UP_TO + 1)?;
    Ok(changes.filter(|changes| changes.len() as i64 <= READ_UP_TO))
}

/// A search's matching conversations as of its snapshot.
pub struct CurrentHits {
    pub hits: ConversationHits,
    changed: ChangedSummaries,
}

impl CurrentHits {
    /// The matches' summaries: from the snapshot for those changed after the index's position,
    /// from the index's copy for the rest.
    pub fn summaries<'a>(&'a self, copy: &'a Summaries) -> impl Iterator<Item = Summary> + 'a {
        self.changed.of(self.hits.conversation_ids(), copy)
    }
}

/// Brings `hits`, which `searcher` found, up to `conn`'s snapshot with the changes after
/// `indexed` (an outbox position the searcher has taken in). None when there are more such
/// changes than `READ_UP_TO`.
///
/// A message the index does not hold can only add a match. One it holds was edited or deleted
/// since, and may have been its conversation's only match: that conversation is read whole.
///
/// `conn`'s snapshot must have begun before `indexed` was read: the indexer prunes only the
/// outbox rows it has published, so every row after `indexed` is then in the snapshot.
pub fn bring_up_to_date(
    conn: &Conn,
    searcher: &Searcher,
    fields: &Fields,
    account_id: i64,
    indexed: &Position,
    needle: &Needle,
    mut hits: ConversationHits,
) -> Result<Option<CurrentHits>, SearchError> {
    let Some(changes) = unapplied(conn, indexed)? else {
        return Ok(None);
    };
    let mut changed = BTreeSet::new();
    let mut to_read_whole = BTreeSet::new();
    let mut gone_messages = Vec::new();
    for (_, change) in changes {
        let message = match change {
            Change::Conversation(id) => {
                changed.insert(id);
                continue;
            }
            Change::Message(id) => id,
        };
        if query::holds_message(searcher, fields, message)? {
            match search_feed::conversation_of_message(conn, message)? {
                Some(conversation) => {
                    to_read_whole.insert(conversation);
                }
                None => gone_messages.push(message),
            }
        } else if let Some(found) = search_feed::searchable(conn, message)? {
            if found.account_id == account_id && needle.is_in(&found.content) {
                hits.add_unindexed(found.conversation_id, message);
            }
        }
    }
    to_read_whole.extend(query::conversations_of_messages(
        searcher,
        fields,
        &gone_messages,
    )?);
    changed.extend(&to_read_whole);
    let now = ChangedSummaries::read(conn, &changed)?;
    for conversation in to_read_whole {
        let newest = match now.get(conversation) {
            Some(Some(summary)) if summary.account_id == account_id => {
                search_feed::newest_searchable_where(conn, conversation, |text| needle.is_in(text))?
            }
            // Gone, or another account's: no hit of this search.
            _ => None,
        };
        hits.set_newest(conversation, newest);
    }
    Ok(Some(CurrentHits { hits, changed: now }))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tantivy::Index;

    use super::*;
    use crate::api::test_accounts::generated;
    use crate::search::query::NewestMatch;
    use crate::search::{fields, text, tokens};
    use crate::store::StoreError;

    fn store_error(e: SearchError) -> StoreError {
        StoreError::Database(e.to_string())
    }

    /// Against an empty index, each conversation of the account whose messages changed after
    /// the position is a hit exactly when one of them holds the needle, with that message as
    /// its newest match; more changes than `READ_UP_TO` are not read at all.
    #[test]
    fn the_changes_after_the_index_are_read_from_the_database_up_to_a_bound() {
        let dir = tempfile::tempdir().unwrap();
        let db = generated(dir.path(), 7);
        let (schema, fields) = fields::schema();
        let index = Index::create_in_ram(schema);
        tokens::register(&index);
        let searcher = index.reader().unwrap().searcher();
        db.read_now(|conn| {
            let latest = search_feed::latest_seq(conn)?;
            let up_to_date = |indexed: i64, needle: &str| {
                let needle = Needle::new(needle);
                bring_up_to_date(
                    conn,
                    &searcher,
                    &fields,
                    1,
                    &Position::Seq(indexed),
                    &needle,
                    ConversationHits::none(),
                )
                .map_err(store_error)
            };
            assert!(up_to_date(latest - READ_UP_TO - 1, "e")?.is_none());

            let indexed = latest - READ_UP_TO;
            let mut expected = BTreeMap::new();
            for (_, change) in search_feed::pending(conn, indexed, READ_UP_TO)? {
                let Change::Message(id) = change else {
                    continue;
                };
                if let Some(message) = search_feed::searchable(conn, id)? {
                    if message.account_id == 1 && text::contains(&message.content, "e") {
                        let newest = expected.entry(message.conversation_id).or_insert(id);
                        *newest = id.max(*newest);
                    }
                }
            }
            assert!(
                expected.len() > 20,
                "{} conversations match",
                expected.len()
            );
            let current = up_to_date(indexed, "e")?.expect("within the bound");
            let mut found: Vec<i64> = current.hits.conversation_ids().to_vec();
            found.sort_unstable();
            assert_eq!(found, expected.keys().copied().collect::<Vec<_>>());
            for (conversation, newest) in expected {
                assert_eq!(
                    current.hits.newest_message(conversation),
                    NewestMatch::Recorded(Some(newest))
                );
            }
            Ok(())
        })
        .unwrap();
    }
}
