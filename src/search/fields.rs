//! The index's schema and the document built for one message.

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::TantivyDocument;

use super::text::folded;
use super::tokens;
use crate::store::search_feed::SearchableMessage;

/// Bumped whenever the schema or the tokens change; an index of another format is rebuilt.
pub const FORMAT: u32 = 3;

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

fn gram_field(tokenizer: &str, positions: bool) -> TextOptions {
    let record = if positions {
        IndexRecordOption::WithFreqsAndPositions
    } else {
        IndexRecordOption::Basic
    };
    // Nothing is scored, so no field norms.
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
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
        chars: builder.add_text_field("chars", gram_field(tokens::CHARS, false)),
        bigrams: builder.add_text_field("bigrams", gram_field(tokens::BIGRAMS, false)),
        trigrams: builder.add_text_field("trigrams", gram_field(tokens::TRIGRAMS, true)),
        words: builder.add_text_field("words", gram_field(tokens::WORDS, false)),
    };
    (builder.build(), fields)
}

/// Ids are stored as u64; database ids are positive.
pub fn id_value(id: i64) -> u64 {
    id.max(0) as u64
}

pub fn document(fields: &Fields, message: &SearchableMessage) -> TantivyDocument {
    let folded = folded(&message.content);
    let mut doc = TantivyDocument::default();
    doc.add_u64(fields.message_id, id_value(message.id));
    doc.add_u64(fields.conversation_id, id_value(message.conversation_id));
    doc.add_u64(fields.account_id, id_value(message.account_id));
    for field in [fields.chars, fields.bigrams, fields.trigrams, fields.words] {
        doc.add_text(field, &folded);
    }
    doc
}
