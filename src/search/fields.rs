//! The index's schema and the document built for one message.

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{PreTokenizedString, Token};
use tantivy::TantivyDocument;

use super::text::{fold, grams, words};
use crate::store::search_feed::SearchableMessage;

/// Bumped whenever the schema or the tokens change; an index of another format is rebuilt.
pub const FORMAT: u32 = 2;

#[derive(Clone, Copy)]
pub struct Fields {
    pub message_id: Field,
    pub conversation_id: Field,
    pub account_id: Field,
    pub chars: Field,
    pub bigrams: Field,
    pub trigrams: Field,
    pub words: Field,
}

fn gram_field(positions: bool) -> TextOptions {
    let record = if positions {
        IndexRecordOption::WithFreqsAndPositions
    } else {
        IndexRecordOption::Basic
    };
    // Tokens are made here, never by tantivy (documents carry them pre-tokenized), and nothing
    // is scored, so no field norms.
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(record)
            .set_fieldnorms(false),
    )
}

pub fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let id = NumericOptions::default().set_indexed().set_fast();
    let fields = Fields {
        message_id: builder.add_u64_field("message_id", id.clone()),
        conversation_id: builder
            .add_u64_field("conversation_id", NumericOptions::default().set_fast()),
        account_id: builder.add_u64_field("account_id", NumericOptions::default().set_indexed()),
        chars: builder.add_text_field("chars", gram_field(false)),
        bigrams: builder.add_text_field("bigrams", gram_field(false)),
        trigrams: builder.add_text_field("trigrams", gram_field(true)),
        words: builder.add_text_field("words", gram_field(false)),
    };
    (builder.build(), fields)
}

fn pre_tokenized(tokens: impl Iterator<Item = (usize, String)>) -> PreTokenizedString {
    let tokens = tokens
        .map(|(position, text)| Token {
            offset_from: 0,
            offset_to: 0,
            position,
            text,
            position_length: 1,
        })
        .collect();
    PreTokenizedString {
        text: String::new(),
        tokens,
    }
}

/// Ids are stored as u64; database ids are positive.
pub fn id_value(id: i64) -> u64 {
    id.max(0) as u64
}

pub fn document(fields: &Fields, message: &SearchableMessage) -> TantivyDocument {
    let folded = fold(&message.content);
    let mut doc = TantivyDocument::default();
    doc.add_u64(fields.message_id, id_value(message.id));
    doc.add_u64(fields.conversation_id, id_value(message.conversation_id));
    doc.add_u64(fields.account_id, id_value(message.account_id));
    doc.add_pre_tokenized_text(fields.chars, pre_tokenized(grams(&folded, 1)));
    doc.add_pre_tokenized_text(fields.bigrams, pre_tokenized(grams(&folded, 2)));
    doc.add_pre_tokenized_text(fields.trigrams, pre_tokenized(grams(&folded, 3)));
    doc.add_pre_tokenized_text(
        fields.words,
        pre_tokenized(words(&folded).into_iter().enumerate()),
    );
    doc
}
