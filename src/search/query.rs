//! Queries built from the folded text itself (never through tantivy's query parser, which a
//! few hundred nested brackets overflow), and the gathering of hits into conversations.

use std::collections::HashMap;
use std::sync::Mutex;
use tantivy::collector::DocSetCollector;
use tantivy::query::{BooleanQuery, EnableScoring, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};

use tantivy::columnar::Column;
use tantivy::index::SegmentId;
use tantivy::{Searcher, SegmentReader, Term};

use super::contains::ContainsQuery;
use super::fields::{id_value, Fields};
use super::text::{fold, is_one_word, lookup, Lookup};
use crate::db::locked;

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

/// A phrase whose rarest trigram is in more documents than this checks positions in too many;
/// a one-word query then looks through the words instead.
const PHRASE_CANDIDATES_UP_TO: u64 = 10_000;

/// The account's messages containing a text: the text's own query, and the account it is
/// limited to.
pub struct Matching {
    account_field: Field,
    account: Term,
    text: Box<dyn Query>,
}

impl Matching {
    /// The text's query within the account: for segments that hold other accounts' messages too.
    fn within_account(&self) -> BooleanQuery {
        BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    self.account.clone(),
                    IndexRecordOption::Basic,
                )),
            ),
            (Occur::Must, self.text.box_clone()),
        ])
    }
}

/// The account's messages containing `needle`, or None for an empty needle.
pub fn matching(
    searcher: &Searcher,
    fields: &Fields,
    account_id: i64,
    needle: &str,
) -> tantivy::Result<Option<Matching>> {
    matching_with(
        searcher,
        fields,
        account_id,
        needle,
        PHRASE_CANDIDATES_UP_TO,
    )
}

fn matching_with(
    searcher: &Searcher,
    fields: &Fields,
    account_id: i64,
    needle: &str,
    phrase_candidates_up_to: u64,
) -> tantivy::Result<Option<Matching>> {
    let folded = fold(needle);
    let Some(lookup) = lookup(&folded) else {
        return Ok(None);
    };
    let text = match lookup {
        Lookup::Char(c) => term_query(fields.chars, &c),
        Lookup::Bigram(b) => term_query(fields.bigrams, &b),
        Lookup::Trigrams(grams)
            if is_one_word(&folded)
                && fewest_documents(searcher, fields.trigrams, &grams)?
                    > phrase_candidates_up_to =>
        {
            Box::new(ContainsQuery::new(
                fields.words,
                &folded.iter().collect::<String>(),
            ))
        }
        Lookup::Trigrams(grams) if grams.len() == 1 => term_query(fields.trigrams, &grams[0].1),
        Lookup::Trigrams(grams) => Box::new(PhraseQuery::new_with_offset(
            grams
                .into_iter()
                .map(|(at, gram)| (at, Term::from_field_text(fields.trigrams, &gram)))
                .collect(),
        )),
    };
    Ok(Some(Matching {
        account_field: fields.account_id,
        account: Term::from_field_u64(fields.account_id, id_value(account_id)),
        text,
    }))
}

/// At most how many documents a search for `needle` reads: those holding its rarest term (in
/// any account). 0 for an empty needle.
pub fn candidates(searcher: &Searcher, fields: &Fields, needle: &str) -> tantivy::Result<u64> {
    let folded = fold(needle);
    Ok(match lookup(&folded) {
        None => 0,
        Some(Lookup::Char(c)) => searcher.doc_freq(&Term::from_field_text(fields.chars, &c))?,
        Some(Lookup::Bigram(b)) => searcher.doc_freq(&Term::from_field_text(fields.bigrams, &b))?,
        Some(Lookup::Trigrams(grams)) => fewest_documents(searcher, fields.trigrams, &grams)?,
    })
}

/// Documents holding the rarest of these trigrams.
fn fewest_documents(
    searcher: &Searcher,
    field: Field,
    grams: &[(usize, String)],
) -> tantivy::Result<u64> {
    let mut fewest = u64::MAX;
    for (_, gram) in grams {
        fewest = fewest.min(searcher.doc_freq(&Term::from_field_text(field, gram))?);
    }
    Ok(fewest)
}

/// Matching conversations, and while the matching messages are not too many, each one's newest
/// matching message.
///
/// Conversation ids are dense, so a conversation's hit is one bit at its id: a search that
/// matches millions of messages sets bits rather than look up a slot per message. Reading each
/// matching message's id as well costs as much again, while only the page's 25 conversations
/// show one, so ids are recorded only for the first `record_up_to` matching messages; past that
/// the page looks up its conversations' newest matching messages itself.
pub struct ConversationHits {
    /// One bit per conversation id, set at its first hit.
    seen: Vec<u64>,
    /// The conversations with a hit, each once, in the order first hit.
    ids: Vec<i64>,
    /// Newest matching message per conversation id, by page allocated at its first hit (so
    /// that a rare word zeroes a few pages, not a slot for every conversation); 0 where none.
    /// None once more messages matched than are recorded.
    newest: Option<Vec<Option<Box<[u64; PAGE]>>>>,
    /// Matching messages recorded so far.
    recorded: usize,
    record_up_to: usize,
}

/// Conversations per page of newest messages.
const PAGE: usize = 512;

/// How many matching messages a search records the ids of. Past about this many, reading the
/// rest of the ids costs more than looking up the newest match of the 25 conversations shown.
pub const RECORD_UP_TO: usize = 500_000;

impl ConversationHits {
    pub fn none() -> Self {
        Self::for_ids_up_to(0, RECORD_UP_TO)
    }

    fn for_ids_up_to(max: u64, record_up_to: usize) -> Self {
        let slots = usize::try_from(max).unwrap_or(0).saturating_add(1);
        Self {
            seen: vec![0; slots.div_ceil(64)],
            ids: Vec::new(),
            newest: Some(vec![None; slots.div_ceil(PAGE)]),
            recorded: 0,
            record_up_to,
        }
    }

    fn add(&mut self, conversation: u64) {
        let Ok(at) = usize::try_from(conversation) else {
            return;
        };
        let Some(word) = self.seen.get_mut(at / 64) else {
            return;
        };
        let bit = 1u64 << (at % 64);
        if *word & bit == 0 {
            *word |= bit;
            self.ids.push(conversation as i64);
        }
    }

    /// Whether message ids are still being recorded.
    fn is_recording(&self) -> bool {
        self.newest.is_some()
    }

    /// Notes a matching message of a conversation; past the limit, forgets them all.
    fn record(&mut self, conversation: u64, message: u64) {
        self.recorded += 1;
        if self.recorded > self.record_up_to {
            self.newest = None;
        }
        let Some(pages) = &mut self.newest else {
            return;
        };
        let Ok(at) = usize::try_from(conversation) else {
            return;
        };
        if let Some(page) = pages.get_mut(at / PAGE) {
            let slot = &mut page.get_or_insert_with(|| Box::new([0; PAGE]))[at % PAGE];
            *slot = (*slot).max(message);
        }
    }

    pub fn conversation_ids(&self) -> &[i64] {
        &self.ids
    }

    /// Notes a matching message the index does not hold yet: the conversation is a hit, and the
    /// message its newest match if newer than the one recorded.
    pub fn add_unindexed(&mut self, conversation: i64, message: i64) {
        let Ok(at) = usize::try_from(conversation) else {
            return;
        };
        self.grow_to(at);
        self.add(conversation as u64);
        if let Some(pages) = &mut self.newest {
            let page = pages[at / PAGE].get_or_insert_with(|| Box::new([0; PAGE]));
            page[at % PAGE] = page[at % PAGE].max(id_value(message));
        }
    }

    /// Makes room for conversation ids up to `at`.
    fn grow_to(&mut self, at: usize) {
        if at / 64 >= self.seen.len() {
            self.seen.resize(at / 64 + 1, 0);
        }
        if let Some(pages) = &mut self.newest {
            if at / PAGE >= pages.len() {
                pages.resize(at / PAGE + 1, None);
            }
        }
    }

    /// Puts a conversation's hit as the database says it is now: its newest matching message,
    /// or none (then it is no hit). For conversations changed since the index was committed.
    pub fn set_newest(&mut self, conversation: i64, newest: Option<i64>) {
        let Ok(at) = usize::try_from(conversation) else {
            return;
        };
        self.grow_to(at);
        let bit = 1u64 << (at % 64);
        match newest {
            Some(_) => self.add(conversation as u64),
            None if self.seen[at / 64] & bit != 0 => {
                self.seen[at / 64] &= !bit;
                self.ids.retain(|&id| id != conversation);
            }
            None => {}
        }
        if let Some(pages) = &mut self.newest {
            let page = pages[at / PAGE].get_or_insert_with(|| Box::new([0; PAGE]));
            page[at % PAGE] = newest.map_or(0, id_value);
        }
    }

    /// The conversation's newest matching message: `Recorded(None)` when it has none,
    /// `NotRecorded` when the search matched too many messages to record them.
    pub fn newest_message(&self, conversation: i64) -> NewestMatch {
        let Some(pages) = &self.newest else {
            return NewestMatch::NotRecorded;
        };
        let found = usize::try_from(conversation)
            .ok()
            .and_then(|at| Some(pages.get(at / PAGE)?.as_ref()?[at % PAGE]))
            .filter(|&m| m != 0)
            .map(|m| m as i64);
        NewestMatch::Recorded(found)
    }
}

/// What a search knows of a conversation's newest matching message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewestMatch {
    Recorded(Option<i64>),
    NotRecorded,
}

/// Hits are read from the fast fields this many documents at a time, as tantivy hands them
/// over.
const CHUNK: usize = tantivy::COLLECT_BLOCK_BUFFER_LEN;

/// The conversation and message id columns of each segment, opened once: opening one reads
/// its block headers, a third of a rare word's search. Segments never change once written
/// (deletes are kept beside them), so a segment's columns stay right until it is merged away.
#[derive(Default)]
pub struct ColumnCache {
    open: Mutex<HashMap<SegmentId, IdColumns>>,
}

/// A segment's conversation id and message id columns.
type IdColumns = (Column<u64>, Column<u64>);

impl ColumnCache {
    fn of(&self, reader: &SegmentReader) -> tantivy::Result<IdColumns> {
        if let Some(columns) = locked(&self.open).get(&reader.segment_id()) {
            return Ok(columns.clone());
        }
        let fast = reader.fast_fields();
        let columns = (fast.u64("conversation_id")?, fast.u64("message_id")?);
        locked(&self.open).insert(reader.segment_id(), columns.clone());
        Ok(columns)
    }

    /// Forgets the columns of segments the searcher no longer has.
    fn keep_only(&self, searcher: &Searcher) {
        let current: Vec<SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(SegmentReader::segment_id)
            .collect();
        locked(&self.open).retain(|id, _| current.contains(id));
    }
}

/// Runs `matching` over every segment without scoring, gathering conversations from fast
/// fields. A segment that holds only the account's messages (a server with one account, the
/// usual case) runs the text's query alone: checking the account there would step through
/// every message's posting in the account, as many as the text matches.
pub fn conversations(
    searcher: &Searcher,
    matching: &Matching,
    columns: &ColumnCache,
    record_up_to: usize,
) -> tantivy::Result<ConversationHits> {
    let mut segments = Vec::new();
    for reader in searcher.segment_readers() {
        let holding = reader
            .inverted_index(matching.account_field)?
            .doc_freq(&matching.account)?;
        if holding == 0 {
            continue;
        }
        let text_alone = holding == reader.max_doc();
        let (conversation, message) = columns.of(reader)?;
        segments.push((reader, text_alone, conversation, message));
    }
    columns.keep_only(searcher);
    let scoring = EnableScoring::disabled_from_searcher(searcher);
    let text_alone = matching.text.weight(scoring)?;
    // Built only where some segment holds other accounts' messages too.
    let within_account = if segments.iter().all(|segment| segment.1) {
        None
    } else {
        Some(matching.within_account().weight(scoring)?)
    };
    let max = segments
        .iter()
        .map(|(_, _, conversation, _)| conversation.max_value())
        .max()
        .unwrap_or(0);
    let mut hits = ConversationHits::for_ids_up_to(max, record_up_to);
    let (mut conversations, mut messages) = ([None; CHUNK], [None; CHUNK]);
    for (reader, alone, conversation, message) in &segments {
        let weight = match (alone, &within_account) {
            (false, Some(within_account)) => within_account,
            _ => &text_alone,
        };
        let alive = reader.alive_bitset();
        weight.for_each_no_score(reader, &mut |docs| {
            for docs in docs.chunks(CHUNK) {
                let conversations = &mut conversations[..docs.len()];
                conversation.first_vals(docs, conversations);
                let recording = hits.is_recording();
                if recording {
                    message.first_vals(docs, &mut messages[..docs.len()]);
                }
                for (at, &doc) in docs.iter().enumerate() {
                    if !alive.is_none_or(|a| a.is_alive(doc)) {
                        continue;
                    }
                    let Some(c) = conversations[at] else { continue };
                    hits.add(c);
                    if let (true, Some(m)) = (recording, messages[at]) {
                        hits.record(c, m);
                    }
                }
            }
        })?;
    }
    Ok(hits)
}

/// Whether the index holds a document for this message (perhaps one already deleted).
pub fn holds_message(searcher: &Searcher, fields: &Fields, message: i64) -> tantivy::Result<bool> {
    let term = Term::from_field_u64(fields.message_id, id_value(message));
    Ok(searcher.doc_freq(&term)? > 0)
}

/// The conversations the index files these messages under (none for a message it does not
/// hold).
pub fn conversations_of_messages(
    searcher: &Searcher,
    fields: &Fields,
    messages: &[i64],
) -> tantivy::Result<Vec<i64>> {
    let mut found = Vec::new();
    for &message in messages {
        let query = TermQuery::new(
            Term::from_field_u64(fields.message_id, id_value(message)),
            IndexRecordOption::Basic,
        );
        for address in searcher.search(&query, &DocSetCollector)? {
            let reader = searcher.segment_reader(address.segment_ord);
            let column = reader.fast_fields().u64("conversation_id")?;
            if let Some(conversation) = column.first(address.doc_id) {
                found.push(conversation as i64);
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use tantivy::{Index, TantivyDocument};

    use super::*;
    use crate::search::fields::{document, schema};
    use crate::search::text::contains;
    use crate::store::search_feed::SearchableMessage;

    const PIECES: &[&str] = &[
        "ab", "ba", "a", "b", "AB", "é", "É", "ñ", "x", "İ", "ς", "Σ", " ", ".", "-", "1", "2",
    ];

    /// An empty index in memory whose writer never merges, so that each commit is a segment.
    fn index_in_ram_without_merges() -> (Index, Fields, tantivy::IndexWriter) {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        crate::search::tokens::register(&index);
        let writer: tantivy::IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        (index, fields, writer)
    }

    /// Each conversation is listed once, at its first hit, with the newest of its messages;
    /// ids on either side of a page's edge (and a bit word's) and past the largest are told
    /// apart.
    #[test]
    fn hits_keep_each_conversation_once_with_its_newest_message() {
        let edge = PAGE as u64;
        let mut hits = ConversationHits::for_ids_up_to(3 * edge, RECORD_UP_TO);
        for (conversation, message) in [(edge, 5), (edge - 1, 9), (edge, 7), (edge, 2), (1, 4)] {
            hits.add(conversation);
            hits.record(conversation, message);
        }
        hits.add(4 * edge);
        hits.record(4 * edge, 1);
        let edge = edge as i64;
        assert_eq!(hits.conversation_ids(), &[edge, edge - 1, 1]);
        assert_eq!(hits.newest_message(edge), NewestMatch::Recorded(Some(7)));
        assert_eq!(
            hits.newest_message(edge - 1),
            NewestMatch::Recorded(Some(9))
        );
        assert_eq!(hits.newest_message(1), NewestMatch::Recorded(Some(4)));
        assert_eq!(hits.newest_message(2), NewestMatch::Recorded(None));
        assert_eq!(hits.newest_message(edge + 1), NewestMatch::Recorded(None));
        assert_eq!(hits.newest_message(4 * edge), NewestMatch::Recorded(None));
        assert_eq!(ConversationHits::none().conversation_ids(), &[] as &[i64]);
    }

    /// Past the limit the hits still list every conversation but say that they no longer know
    /// the newest matching messages, rather than give ones that may be older.
    #[test]
    fn hits_past_the_recording_limit_forget_the_messages_they_saw() {
        let mut hits = ConversationHits::for_ids_up_to(10, 3);
        for (conversation, message) in [(1, 1), (2, 2), (1, 3)] {
            hits.add(conversation);
            hits.record(conversation, message);
        }
        assert_eq!(hits.newest_message(1), NewestMatch::Recorded(Some(3)));
        hits.add(3);
        hits.record(3, 4);
        assert!(!hits.is_recording());
        assert_eq!(hits.conversation_ids(), &[1, 2, 3]);
        assert_eq!(hits.newest_message(1), NewestMatch::NotRecorded);
    }

    /// A cache kept across commits and merges reads the segments the searcher has now: new
    /// messages are found, and the columns of merged-away segments are let go.
    #[test]
    fn cached_columns_follow_new_and_merged_segments() {
        let (index, fields, mut writer) = index_in_ram_without_merges();
        let reader = index.reader().unwrap();
        let cache = ColumnCache::default();
        let found = |cache: &ColumnCache| {
            reader.reload().unwrap();
            let searcher = reader.searcher();
            let query = matching(&searcher, &fields, 1, "hello").unwrap().unwrap();
            let mut ids = conversations(&searcher, &query, cache, RECORD_UP_TO)
                .unwrap()
                .conversation_ids()
                .to_vec();
            ids.sort();
            ids
        };
        for id in 1..=6 {
            let message = SearchableMessage {
                id,
                account_id: 1,
                conversation_id: 10 + id,
                content: "hello there".into(),
            };
            writer.add_document(document(&fields, &message)).unwrap();
            writer.commit().unwrap();
            assert_eq!(found(&cache), (11..=10 + id).collect::<Vec<_>>());
        }
        assert_eq!(locked(&cache.open).len(), 6);
        let segments = index.searchable_segment_ids().unwrap();
        writer.merge(&segments).wait().unwrap();
        writer.commit().unwrap();
        assert_eq!(found(&cache), (11..=16).collect::<Vec<_>>());
        assert_eq!(locked(&cache.open).len(), 1);
    }

    /// Both ways of answering a query of three or more characters (phrase of trigrams, words
    /// containing it) give exactly the documents a plain scan finds, in segments holding both
    /// accounts, only the one searched (some of its messages deleted) and only the other.
    #[test]
    fn the_phrase_and_the_word_lookups_agree_with_a_scan() {
        let mut rng = StdRng::seed_from_u64(11);
        let (index, fields, mut writer) = index_in_ram_without_merges();
        let mut texts = Vec::new();
        let segments = [(1..=400, None), (401..=600, Some(1)), (601..=700, Some(2))];
        for (ids, only_account) in segments {
            for id in ids {
                let content: String = (0..rng.gen_range(1..10))
                    .map(|_| PIECES[rng.gen_range(0..PIECES.len())])
                    .collect();
                let message = SearchableMessage {
                    id,
                    account_id: only_account.unwrap_or(1 + id % 2),
                    conversation_id: 1 + id / 3,
                    content: content.clone(),
                };
                let doc: TantivyDocument = document(&fields, &message);
                writer.add_document(doc).unwrap();
                texts.push(message);
            }
            writer.commit().unwrap();
        }
        for deleted in (401..=600).step_by(7) {
            writer.delete_term(Term::from_field_u64(fields.message_id, deleted as u64));
            texts.retain(|m| m.id != deleted);
        }
        writer.commit().unwrap();
        assert_eq!(index.searchable_segment_ids().unwrap().len(), 3);
        let searcher = index.reader().unwrap().searcher();
        let mut checked = 0;
        for _ in 0..300 {
            let source = &texts[rng.gen_range(0..texts.len())].content;
            let chars: Vec<char> = source.chars().collect();
            let len = rng.gen_range(1..=chars.len().min(6));
            let start = rng.gen_range(0..=chars.len() - len);
            let needle: String = chars[start..start + len].iter().collect();
            let mut expected: Vec<i64> = texts
                .iter()
                .filter(|m| m.account_id == 1 && contains(&m.content, &needle))
                .map(|m| m.conversation_id)
                .collect();
            expected.sort();
            expected.dedup();
            let newest = |conversation: i64| {
                texts
                    .iter()
                    .filter(|m| m.conversation_id == conversation && m.account_id == 1)
                    .filter(|m| contains(&m.content, &needle))
                    .map(|m| m.id)
                    .max()
            };
            for threshold in [0, u64::MAX] {
                let query = matching_with(&searcher, &fields, 1, &needle, threshold)
                    .unwrap()
                    .unwrap();
                for record_up_to in [0, RECORD_UP_TO] {
                    let columns = ColumnCache::default();
                    let hits = conversations(&searcher, &query, &columns, record_up_to).unwrap();
                    let mut found = hits.conversation_ids().to_vec();
                    found.sort();
                    assert_eq!(found, expected, "{needle:?} (threshold {threshold})");
                    for &conversation in &expected {
                        let shown = hits.newest_message(conversation);
                        if record_up_to == 0 {
                            assert_eq!(shown, NewestMatch::NotRecorded);
                        } else {
                            assert_eq!(shown, NewestMatch::Recorded(newest(conversation)));
                        }
                    }
                }
            }
            checked += usize::from(!expected.is_empty());
        }
        assert!(checked > 200);
    }
}
