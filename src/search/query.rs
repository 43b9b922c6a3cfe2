//! Queries built from the folded text itself (never through tantivy's query parser, which a
//! few hundred nested brackets overflow) and the collector that turns hits into conversations.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader, Term};

use super::fields::{id_value, Fields};
use super::text::{fold, lookup, Lookup};

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

/// The account's messages containing `needle` (not empty), or None for an empty needle.
pub fn matching(fields: &Fields, account_id: i64, needle: &str) -> Option<Box<dyn Query>> {
    let text = match lookup(&fold(needle))? {
        Lookup::Char(c) => term_query(fields.chars, &c),
        Lookup::Bigram(b) => term_query(fields.bigrams, &b),
        Lookup::Trigrams(grams) if grams.len() == 1 => term_query(fields.trigrams, &grams[0].1),
        Lookup::Trigrams(grams) => Box::new(PhraseQuery::new_with_offset(
            grams
                .into_iter()
                .map(|(at, gram)| (at, Term::from_field_text(fields.trigrams, &gram)))
                .collect(),
        )),
    };
    let account = Box::new(TermQuery::new(
        Term::from_field_u64(fields.account_id, id_value(account_id)),
        IndexRecordOption::Basic,
    ));
    Some(Box::new(BooleanQuery::new(vec![
        (Occur::Must, account),
        (Occur::Must, text),
    ])))
}

/// Matching conversations, each with the id of its newest matching message.
pub type ConversationHits = HashMap<i64, i64>;

/// Collects `conversation id -> newest matching message id` from fast fields, without scoring.
pub struct ConversationsCollector;

pub struct SegmentConversations {
    conversation: Column<u64>,
    message: Column<u64>,
    hits: ConversationHits,
}

fn merge_into(into: &mut ConversationHits, conversation: i64, message: i64) {
    into.entry(conversation)
        .and_modify(|newest| *newest = (*newest).max(message))
        .or_insert(message);
}

impl Collector for ConversationsCollector {
    type Fruit = ConversationHits;
    type Child = SegmentConversations;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentConversations> {
        let fast = reader.fast_fields();
        Ok(SegmentConversations {
            conversation: fast.u64("conversation_id")?,
            message: fast.u64("message_id")?,
            hits: HashMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<ConversationHits>) -> tantivy::Result<ConversationHits> {
        let mut fruits = fruits.into_iter();
        let mut all = fruits.next().unwrap_or_default();
        for fruit in fruits {
            for (conversation, message) in fruit {
                merge_into(&mut all, conversation, message);
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for SegmentConversations {
    type Fruit = ConversationHits;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let (Some(conversation), Some(message)) =
            (self.conversation.first(doc), self.message.first(doc))
        {
            merge_into(&mut self.hits, conversation as i64, message as i64);
        }
    }

    fn harvest(self) -> ConversationHits {
        self.hits
    }
}
