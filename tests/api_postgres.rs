//! The integration suite again, with each server keeping its data in a PostgreSQL database of
//! its own (`helpers::on_postgres`). The modules here are those of tests/api/main.rs that pass
//! on PostgreSQL so far; the others follow as their statements get PostgreSQL texts
//! (docs/postgres-statements.md). Those whose subject is SQLite's own file (backups, the WAL,
//! disk limits, the data dir's layout) stay SQLite's alone.
//!
//! Without `WOOTLITE_TEST_DATABASE_URL` the binary says it skipped and passes; with
//! `WOOTLITE_REQUIRE_TEST_TOOLS=1` (set by `.ci/run`) it fails instead.

// The helpers serve the whole suite; this binary runs part of it.
#![allow(dead_code)]

#[path = "api/cable_client.rs"]
mod cable_client;
#[path = "api/helpers.rs"]
mod helpers;
#[path = "api/process.rs"]
mod process;
#[path = "api/receiver.rs"]
mod receiver;
#[path = "api/smtp_sink.rs"]
mod smtp_sink;
#[path = "api/test_database.rs"]
mod test_database;
#[path = "api/tools.rs"]
mod tools;

#[path = "api/agent_bots.rs"]
mod agent_bots;
#[path = "api/agents.rs"]
mod agents;
#[path = "api/auth.rs"]
mod auth;
#[path = "api/bad_input.rs"]
mod bad_input;
#[path = "api/cable.rs"]
mod cable;
#[path = "api/cable_broadcasts.rs"]
mod cable_broadcasts;
#[path = "api/contacts.rs"]
mod contacts;
#[path = "api/conversation_actions.rs"]
mod conversation_actions;
#[path = "api/conversation_list.rs"]
mod conversation_list;
#[path = "api/conversations.rs"]
mod conversations;
#[path = "api/counts.rs"]
mod counts;
#[path = "api/custom_attributes.rs"]
mod custom_attributes;
#[path = "api/dev_mode.rs"]
mod dev_mode;
#[path = "api/event_payloads.rs"]
mod event_payloads;
#[path = "api/events.rs"]
mod events;
#[path = "api/filter.rs"]
mod filter;
#[path = "api/inboxes.rs"]
mod inboxes;
#[path = "api/invitations.rs"]
mod invitations;
#[path = "api/labels.rs"]
mod labels;
#[path = "api/message_paging.rs"]
mod message_paging;
#[path = "api/messages.rs"]
mod messages;
#[path = "api/passwords.rs"]
mod passwords;
#[path = "api/public_api.rs"]
mod public_api;
#[path = "api/search.rs"]
mod search;
#[path = "api/sessions.rs"]
mod sessions;
#[path = "api/signin.rs"]
mod signin;
#[path = "api/snooze.rs"]
mod snooze;
#[path = "api/teams.rs"]
mod teams;
#[path = "api/transcript.rs"]
mod transcript;
#[path = "api/two_nodes.rs"]
mod two_nodes;
#[path = "api/uploads.rs"]
mod uploads;
#[path = "api/webhooks.rs"]
mod webhooks;
