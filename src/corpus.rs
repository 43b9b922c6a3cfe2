//! A generated, reproducible corpus for benchmarks: conversations in account 1 (inbox 1), each
//! with a contact and a run of incoming and outgoing messages. Words follow a Zipf-like law over
//! a syllable vocabulary, with some accented words, so common words, rare words and short
//! substrings all occur as they do in real text. One word, [`RARE_WORD`], is planted in one
//! message out of [`RARE_EVERY`]. Conversations carry the custom attributes `plan` (list),
//! `trial` (checkbox) and `seats` (number), defined in the account, and some carry labels.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map};

use crate::db::Db;
use crate::models::{AttributeDisplayType, AttributeModel, MessageType, Status};
use crate::provision;
use crate::store::conversations::{self, NewConversation};
use crate::store::messages::{self, NewMessage};
use crate::store::{contacts, custom_attributes, StoreResult};

/// A word found in about one message in [`RARE_EVERY`].
pub const RARE_WORD: &str = "quokkaberry";
pub const RARE_EVERY: u64 = 100_000;

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "po", "fe", "gu", "da", "vo", "ze", "bi", "ché",
    "ló", "ñu", "hä",
];
const VOCABULARY: usize = 5_000;
const CONVERSATIONS_PER_TRANSACTION: u64 = 500;

pub struct Spec {
    pub conversations: u64,
    pub messages_per_conversation: u64,
    pub seed: u64,
}

pub struct Generated {
    pub conversations: u64,
    pub messages: u64,
}

/// Words ordered from most to least frequent.
fn vocabulary(rng: &mut StdRng) -> Vec<String> {
    let mut words: Vec<String> = Vec::with_capacity(VOCABULARY);
    while words.len() < VOCABULARY {
        let syllables = rng.gen_range(1..=4);
        let word: String = (0..syllables)
            .map(|_| SYLLABLES[rng.gen_range(0..SYLLABLES.len())])
            .collect();
        if word != RARE_WORD && !words.contains(&word) {
            words.push(word);
        }
    }
    words
}

/// The corpus's most frequent word for a seed.
pub fn most_common_word(seed: u64) -> String {
    vocabulary(&mut StdRng::seed_from_u64(seed)).swap_remove(0)
}

/// An index into the vocabulary drawn with probability about 1/(rank+1) (Zipf, s = 1).
fn zipf_rank(rng: &mut StdRng) -> usize {
    let harmonic_max = (VOCABULARY as f64).ln();
    let u: f64 = rng.gen_range(0.0..harmonic_max);
    (u.exp() as usize).saturating_sub(1).min(VOCABULARY - 1)
}

fn sentence(rng: &mut StdRng, words: &[String], rare: bool) -> String {
    let count = rng.gen_range(6..=24);
    let mut text: Vec<&str> = (0..count).map(|_| words[zipf_rank(rng)].as_str()).collect();
    if rare {
        let at = rng.gen_range(0..text.len());
        text[at] = RARE_WORD;
    }
    let mut sentence = text.join(" ");
    if let Some(first) = sentence.get(..1) {
        sentence.replace_range(..1, &first.to_uppercase());
    }
    sentence.push(if rng.gen_bool(0.2) { '?' } else { '.' });
    sentence
}

/// A conversation in account 1, inbox 1, with a new contact: `(conversation id, contact id)`.
fn new_conversation(
    tx: &rusqlite::Connection,
    number: u64,
    status: Status,
    assignee_id: Option<i64>,
    now: i64,
) -> StoreResult<(i64, i64)> {
    let contact = contacts::create(
        tx,
        1,
        contacts::ContactChange {
            name: Some(format!("Customer {number}")),
            ..Default::default()
        },
        now,
    )?;
    let contact_inbox = contacts::attach_inbox(
        tx,
        contact,
        1,
        &uuid::Uuid::new_v4().to_string(),
        now,
        || crate::store::StoreError::Rejected("source id taken".into()),
    )?;
    let conversation = conversations::create(
        tx,
        1,
        &NewConversation {
            inbox_id: 1,
            contact_id: contact,
            contact_inbox_id: contact_inbox,
            status,
            assignee_id,
            team_id: None,
            snoozed_until: None,
            additional_attributes: Map::new(),
            custom_attributes: Map::new(),
        },
        now,
    )?;
    Ok((conversation.id, contact))
}

pub const PLANS: &[&str] = &["free", "starter", "pro", "business", "enterprise"];
pub const LABELS: &[&str] = &["vip", "billing", "bug", "feedback", "sales"];

/// The definitions the generated attributes follow.
fn define_attributes(tx: &rusqlite::Connection, now: i64) -> StoreResult<()> {
    for (key, display_type) in [
        ("plan", AttributeDisplayType::List),
        ("trial", AttributeDisplayType::Checkbox),
        ("seats", AttributeDisplayType::Number),
    ] {
        let fields = custom_attributes::DefinitionFields {
            display_name: key.to_string(),
            key: key.to_string(),
            display_type,
            model: AttributeModel::Conversation,
            description: None,
            values: json!(if key == "plan" {
                PLANS.to_vec()
            } else {
                Vec::new()
            }),
            regex_pattern: None,
            regex_cue: None,
        };
        match custom_attributes::create(tx, 1, &fields, now) {
            Ok(_) | Err(crate::store::StoreError::Invalid { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn attributes_and_labels(
    tx: &rusqlite::Connection,
    conversation: i64,
    rng: &mut StdRng,
    now: i64,
) -> StoreResult<()> {
    let mut attributes = Map::new();
    attributes.insert("plan".into(), json!(PLANS[zipf_rank(rng) % PLANS.len()]));
    if rng.gen_bool(0.8) {
        attributes.insert("trial".into(), json!(rng.gen_bool(0.2)));
    }
    attributes.insert("seats".into(), json!(rng.gen_range(1..200)));
    conversations::set_custom_attributes(
        tx,
        conversation,
        &serde_json::Value::Object(attributes),
        now,
    )?;
    for label in LABELS {
        if rng.gen_bool(0.1) {
            conversations::attach_label(tx, conversation, 1, label)?;
        }
    }
    Ok(())
}

/// One more open conversation without messages, for probes; returns its id.
pub fn add_conversation(db: &Db, now: i64) -> StoreResult<i64> {
    db.write_now(|tx| new_conversation(tx, 0, Status::Open, None, now).map(|(id, _)| id))
}

/// Fills the data dir's database (provisioning account 1 if it is empty). Reports
/// `(messages written, total)` after every transaction.
pub fn generate(
    db: &Db,
    spec: &Spec,
    now: i64,
    progress: &mut dyn FnMut(u64, u64),
) -> StoreResult<Generated> {
    provision::bootstrap(db, None, now)?;
    db.write_now(|tx| define_attributes(tx, now))?;
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let words = vocabulary(&mut rng);
    let total = spec.conversations * spec.messages_per_conversation;
    let mut written = 0u64;
    let mut made = 0u64;
    while made < spec.conversations {
        let batch = CONVERSATIONS_PER_TRANSACTION.min(spec.conversations - made);
        db.write_now(|tx| {
            for _ in 0..batch {
                // Older conversations first, a minute apart, messages a second apart.
                let started = now - ((spec.conversations - made) as i64) * 60_000_000;
                let status = match rng.gen_range(0..10) {
                    0..=5 => Status::Open,
                    6..=8 => Status::Resolved,
                    _ => Status::Pending,
                };
                let assignee = rng.gen_bool(0.3).then_some(1);
                let (conversation, contact) =
                    new_conversation(tx, made + 1, status, assignee, started)?;
                attributes_and_labels(tx, conversation, &mut rng, started)?;
                for n in 0..spec.messages_per_conversation {
                    written += 1;
                    let incoming = n % 2 == 0;
                    let rare = written % RARE_EVERY == RARE_EVERY / 2;
                    let message = NewMessage {
                        message_type: if incoming {
                            MessageType::Incoming
                        } else {
                            MessageType::Outgoing
                        },
                        content: Some(sentence(&mut rng, &words, rare)),
                        private: !incoming && rng.gen_bool(0.05),
                        content_type: "text".into(),
                        content_attributes: json!({}),
                        source_id: None,
                        additional_attributes: json!({}),
                        sender: Some(if incoming {
                            ("Contact", contact)
                        } else {
                            ("User", 1)
                        }),
                    };
                    messages::insert(
                        tx,
                        1,
                        1,
                        conversation,
                        &message,
                        started + n as i64 * 1_000_000,
                    )?;
                }
                made += 1;
            }
            Ok(())
        })?;
        progress(written, total);
    }
    // Statistics gathered on an empty file would steer queries over the generated data wrongly.
    db.optimize()
        .map_err(|e| crate::store::StoreError::Database(e.to_string()))?;
    Ok(Generated {
        conversations: made,
        messages: written,
    })
}
