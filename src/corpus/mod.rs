//! A generated, reproducible dataset for benchmarks: one account shaped like a busy support team
//! (inboxes, agents, teams, labels, custom attributes), conversations spread over two years and
//! their messages. The same seed and end time give the same data, ids included: everything is
//! numbered from 1, as in a fresh server.

mod setup;
mod text;

use crate::db::Conn;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal};

use crate::db::Db;
use crate::models::{MessageType, Status};
use crate::provision;
use crate::store::bulk::{self, ContactInboxRow, ContactRow, ConversationRow, MessageRow};
use crate::store::conversations::{self, NewConversation};
use crate::store::{contacts, StoreError, StoreResult};

pub use setup::{
    label_titles, ACCOUNT, ESCALATED_KEY, PLANS, PLAN_KEY, REGIONS, REGION_KEY, SEATS_KEY,
};
pub use text::{COMMON_EVERY, COMMON_WORD, RARE_EVERY, RARE_WORD};

const MICROS_PER_SECOND: i64 = 1_000_000;
const SPAN: i64 = 730 * 24 * 3600 * MICROS_PER_SECOND;
const CONVERSATIONS_PER_TRANSACTION: u64 = 2_000;
const CONTACTS_PER_TRANSACTION: u64 = 10_000;

/// The account's make-up besides its conversations.
#[derive(Clone, Debug)]
pub struct Shape {
    pub inboxes: u64,
    pub agents: u64,
    pub teams: u64,
    pub labels: u64,
}

impl Default for Shape {
    fn default() -> Self {
        Self {
            inboxes: 10,
            agents: 50,
            teams: 5,
            labels: 30,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Spec {
    pub conversations: u64,
    /// The mean of a heavy-tailed (log-normal) count per conversation, at least 1.
    pub messages_per_conversation: f64,
    /// Contacts the conversations are spread over; `None` for a third of the conversations.
    pub contacts: Option<u64>,
    pub seed: u64,
    /// The newest time in the dataset, in microseconds; conversations start over the two years
    /// before it.
    pub end: i64,
    pub shape: Shape,
    /// Given to the administrator (user 1), as `serve --bootstrap-token` would.
    pub bootstrap_token: Option<String>,
}

impl Spec {
    pub fn new(conversations: u64, seed: u64, end: i64) -> Self {
        Self {
            conversations,
            messages_per_conversation: 10.0,
            contacts: None,
            seed,
            end,
            shape: Shape::default(),
            bootstrap_token: None,
        }
    }

    fn contact_count(&self) -> u64 {
        self.contacts
            .unwrap_or(self.conversations / 3)
            .clamp(1, self.conversations.max(1))
    }
}

#[derive(Debug, Default)]
pub struct Generated {
    pub conversations: u64,
    pub messages: u64,
    pub contacts: u64,
    /// The administrator's token when provisioning made one.
    pub token: Option<String>,
}

/// Fills an empty data dir's database. Reports `(conversations written, total)` after every
/// transaction. The search index is not built here: rebuild it from the database afterwards.
pub fn generate(
    db: &Db,
    spec: &Spec,
    progress: &mut dyn FnMut(u64, u64),
) -> StoreResult<Generated> {
    let start = spec.end - SPAN;
    let token = match provision::bootstrap(db, spec.bootstrap_token.as_deref(), start)? {
        provision::Bootstrap::Created(provisioned) => Some(provisioned.token),
        provision::Bootstrap::Existing { token } | provision::Bootstrap::Loaded { token, .. } => {
            token
        }
    };
    db.write_now(|tx| {
        if bulk::has_conversations(tx, ACCOUNT)? {
            return Err(StoreError::Rejected(
                "the data dir already holds conversations; generate into a new one".into(),
            ));
        }
        bulk::widen_page_cache(tx, 512 * 1024)?;
        setup::populate(tx, &spec.shape, start)
    })?;
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let words = text::Vocabulary::new(&mut rng);
    let contacts = write_contacts(db, spec, start, &mut rng)?;
    let plan = Plan::new(spec);
    let mut made = Generated {
        contacts,
        token,
        ..Generated::default()
    };
    progress(0, spec.conversations);
    while made.conversations < spec.conversations {
        let batch = CONVERSATIONS_PER_TRANSACTION.min(spec.conversations - made.conversations);
        db.write_now(|tx| {
            for _ in 0..batch {
                let number = made.conversations + 1;
                let conversation = plan.conversation(number, &mut rng);
                let messages = plan.messages(&conversation, &mut rng);
                write_conversation(tx, &conversation, &messages, &plan.labels)?;
                for message in &messages {
                    made.messages += 1;
                    let sentence;
                    let content = match &message.kind {
                        MessageKind::Activity(line) => line.as_str(),
                        _ => {
                            sentence = words.sentence(&mut rng, &text::planted_in(made.messages));
                            sentence.as_str()
                        }
                    };
                    write_message(tx, made.messages, &conversation, message, content)?;
                }
                made.conversations = number;
            }
            if made.conversations == spec.conversations {
                bulk::set_last_display_id(tx, ACCOUNT, spec.conversations as i64)?;
            }
            Ok(())
        })?;
        progress(made.conversations, spec.conversations);
    }
    // Statistics gathered on an empty file would steer queries over the generated data wrongly.
    db.analyze()
        .map_err(|e| StoreError::Database(e.to_string()))?;
    Ok(made)
}

/// Contact k has one contact inbox (id k) in inbox `(k - 1) % inboxes + 1`.
fn write_contacts(db: &Db, spec: &Spec, start: i64, rng: &mut StdRng) -> StoreResult<u64> {
    let count = spec.contact_count();
    let mut written = 0u64;
    while written < count {
        let batch = CONTACTS_PER_TRANSACTION.min(count - written);
        db.write_now(|tx| {
            for _ in 0..batch {
                written += 1;
                let id = written as i64;
                bulk::insert_contact(
                    tx,
                    &ContactRow {
                        id,
                        account_id: ACCOUNT,
                        name: &format!("Customer {id}"),
                        email: &format!("customer{id}@example.com"),
                        created_at: start,
                    },
                )?;
                bulk::insert_contact_inbox(
                    tx,
                    &ContactInboxRow {
                        id,
                        contact_id: id,
                        inbox_id: contact_inbox_of(id, &spec.shape),
                        source_id: &random_uuid(rng),
                        pubsub_token: &random_uuid(rng).replace('-', ""),
                        created_at: start,
                    },
                )?;
            }
            Ok(())
        })?;
    }
    Ok(count)
}

fn contact_inbox_of(contact: i64, shape: &Shape) -> i64 {
    (contact - 1) % shape.inboxes as i64 + 1
}

fn random_uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .to_string()
}

/// What is drawn for one conversation before it is written.
struct PlannedConversation {
    id: i64,
    uuid: String,
    inbox_id: i64,
    contact_id: i64,
    status: Status,
    priority: Option<i64>,
    assignee_id: Option<i64>,
    team_id: Option<i64>,
    snoozed_until: Option<i64>,
    custom_attributes: String,
    labels: Vec<usize>,
    created_at: i64,
}

enum MessageKind {
    Incoming,
    Outgoing { private: bool },
    Activity(String),
}

struct PlannedMessage {
    kind: MessageKind,
    created_at: i64,
}

/// The dataset's distributions.
struct Plan {
    conversations: u64,
    contacts: u64,
    start: i64,
    end: i64,
    shape: Shape,
    labels: Vec<String>,
    /// Agents (user ids) who are members of each inbox, by inbox id - 1.
    members: Vec<Vec<i64>>,
    message_count: LogNormal<f64>,
    max_messages: u64,
}

impl Plan {
    fn new(spec: &Spec) -> Self {
        let shape = spec.shape.clone();
        let members = (1..=shape.inboxes as i64)
            .map(|inbox| {
                (1..=shape.agents as i64)
                    .filter(|&user| setup::inboxes_of(user, &shape).contains(&inbox))
                    .collect()
            })
            .collect();
        // Log-normal with sigma 1: a long tail of long conversations around the given mean.
        let mean = spec.messages_per_conversation.max(1.0);
        let sigma = 1.0;
        Self {
            conversations: spec.conversations,
            contacts: spec.contact_count(),
            start: spec.end - SPAN,
            end: spec.end,
            labels: label_titles(&shape),
            shape,
            members,
            message_count: LogNormal::new(mean.ln() - sigma * sigma / 2.0, sigma)
                .expect("finite parameters"),
            max_messages: (mean * 50.0) as u64,
        }
    }

    /// Conversation `number` (from 1); creation times rise with the number.
    fn conversation(&self, number: u64, rng: &mut StdRng) -> PlannedConversation {
        let slot = SPAN / self.conversations.max(1) as i64;
        let created_at = self.start + (number as i64 - 1) * slot + rng.gen_range(0..slot.max(1));
        let contact_id = rng.gen_range(1..=self.contacts) as i64;
        let inbox_id = contact_inbox_of(contact_id, &self.shape);
        let status = match rng.gen_range(0..100) {
            0..=19 => Status::Open,
            20..=89 => Status::Resolved,
            90..=96 => Status::Pending,
            _ => Status::Snoozed,
        };
        let members = &self.members[(inbox_id - 1) as usize];
        let assignee_id = (!rng.gen_bool(0.15) && !members.is_empty())
            .then(|| members[rng.gen_range(0..members.len())]);
        let team_id = match assignee_id {
            Some(agent) if rng.gen_bool(0.7) => Some(setup::team_of(agent, &self.shape)),
            None if rng.gen_bool(0.3) => Some(rng.gen_range(1..=self.shape.teams) as i64),
            _ => None,
        };
        let snoozed_until = (status == Status::Snoozed && rng.gen_bool(0.67))
            .then(|| self.end + rng.gen_range(3600..30 * 24 * 3600) * MICROS_PER_SECOND);
        let priority = rng.gen_bool(0.25).then(|| rng.gen_range(0..4));
        let custom_attributes = serde_json::json!({
            REGION_KEY: REGIONS[rng.gen_range(0..REGIONS.len())],
            PLAN_KEY: PLANS[text::zipf_index(rng, PLANS.len())],
            // 1 to 1000, most of them small.
            SEATS_KEY: 1000f64.powf(rng.gen::<f64>()).floor() as i64,
            ESCALATED_KEY: rng.gen_bool(0.01),
        })
        .to_string();
        let label_count = match rng.gen_range(0..10) {
            0..=3 => 0,
            4..=6 => 1,
            7..=8 => 2,
            _ => 3,
        };
        let mut labels: Vec<usize> = Vec::with_capacity(label_count);
        while labels.len() < label_count.min(self.labels.len()) {
            let label = text::zipf_index(rng, self.labels.len());
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
        PlannedConversation {
            id: number as i64,
            uuid: random_uuid(rng),
            inbox_id,
            contact_id,
            status,
            priority,
            assignee_id,
            team_id,
            snoozed_until,
            custom_attributes,
            labels,
            created_at,
        }
    }

    /// Incoming, outgoing and activity messages about 45/45/10, from the conversation's start,
    /// each 30 s to 6 h after the one before (never past the end).
    fn messages(
        &self,
        conversation: &PlannedConversation,
        rng: &mut StdRng,
    ) -> Vec<PlannedMessage> {
        let count = (self.message_count.sample(rng).round() as u64).clamp(1, self.max_messages);
        let mut at = conversation.created_at;
        let agent = conversation.assignee_id.unwrap_or(1);
        (0..count)
            .map(|n| {
                if n > 0 {
                    let gap = 30.0 * 720f64.powf(rng.gen::<f64>());
                    at = (at + (gap * MICROS_PER_SECOND as f64) as i64).min(self.end);
                }
                let kind = match rng.gen_range(0..100) {
                    _ if n == 0 => MessageKind::Incoming,
                    0..=9 => MessageKind::Activity(self.activity_line(agent, rng)),
                    10..=54 => MessageKind::Incoming,
                    _ => MessageKind::Outgoing {
                        private: rng.gen_bool(0.05),
                    },
                };
                PlannedMessage {
                    kind,
                    created_at: at,
                }
            })
            .collect()
    }

    fn activity_line(&self, agent: i64, rng: &mut StdRng) -> String {
        match rng.gen_range(0..4) {
            0 => format!("Conversation was marked resolved by Agent {agent}"),
            1 => format!("Conversation was reopened by Agent {agent}"),
            2 => format!("Assigned to Agent {agent} by Administrator"),
            _ => format!(
                "Agent {agent} added {}",
                self.labels[rng.gen_range(0..self.labels.len())]
            ),
        }
    }
}

fn write_conversation(
    tx: &Conn,
    conversation: &PlannedConversation,
    messages: &[PlannedMessage],
    titles: &[String],
) -> StoreResult<()> {
    let last_activity_at = messages
        .last()
        .map_or(conversation.created_at, |m| m.created_at);
    let first_reply_created_at = messages
        .iter()
        .find(|m| matches!(m.kind, MessageKind::Outgoing { private: false }))
        .map(|m| m.created_at);
    let waiting_since = match messages
        .iter()
        .rev()
        .find(|m| !matches!(m.kind, MessageKind::Activity(_)))
    {
        Some(m) if conversation.status != Status::Resolved => {
            matches!(m.kind, MessageKind::Incoming).then_some(m.created_at)
        }
        _ => None,
    };
    bulk::insert_conversation(
        tx,
        &ConversationRow {
            id: conversation.id,
            account_id: ACCOUNT,
            display_id: conversation.id,
            uuid: &conversation.uuid,
            inbox_id: conversation.inbox_id,
            contact_id: conversation.contact_id,
            contact_inbox_id: Some(conversation.contact_id),
            status: conversation.status.code(),
            priority: conversation.priority,
            assignee_id: conversation.assignee_id,
            team_id: conversation.team_id,
            snoozed_until: conversation.snoozed_until,
            custom_attributes: &conversation.custom_attributes,
            first_reply_created_at,
            waiting_since,
            last_activity_at,
            created_at: conversation.created_at,
        },
    )?;
    for &label in &conversation.labels {
        bulk::insert_conversation_label(tx, conversation.id, ACCOUNT, &titles[label])?;
    }
    Ok(())
}

fn write_message(
    tx: &Conn,
    id: u64,
    conversation: &PlannedConversation,
    message: &PlannedMessage,
    content: &str,
) -> StoreResult<()> {
    let (message_type, private, sender) = match message.kind {
        MessageKind::Incoming => (
            MessageType::Incoming,
            false,
            Some(("Contact", conversation.contact_id)),
        ),
        MessageKind::Outgoing { private } => (
            MessageType::Outgoing,
            private,
            Some(("User", conversation.assignee_id.unwrap_or(1))),
        ),
        MessageKind::Activity(_) => (MessageType::Activity, false, None),
    };
    bulk::insert_message(
        tx,
        &MessageRow {
            id: id as i64,
            account_id: ACCOUNT,
            inbox_id: conversation.inbox_id,
            conversation_id: conversation.id,
            message_type: message_type.code(),
            content,
            private,
            sender,
            created_at: message.created_at,
        },
    )
}

/// One more open conversation in inbox 1 with a new contact and no messages, for probes; returns
/// its id.
pub fn add_conversation(db: &Db, now: i64) -> StoreResult<i64> {
    db.write_now(|tx| {
        let contact = contacts::create(
            tx,
            ACCOUNT,
            contacts::ContactChange {
                name: Some("Probe".into()),
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
            || StoreError::Rejected("source id taken".into()),
        )?;
        let conversation = conversations::create(
            tx,
            ACCOUNT,
            &NewConversation {
                inbox_id: 1,
                contact_id: contact,
                contact_inbox_id: contact_inbox,
                status: Status::Open,
                assignee_id: None,
                team_id: None,
                snoozed_until: None,
                additional_attributes: Default::default(),
                custom_attributes: Default::default(),
            },
            now,
        )?;
        Ok(conversation.id)
    })
}
