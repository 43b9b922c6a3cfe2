//! Integration tests: the real server over real HTTP.

mod agents;
mod auth;
mod bad_input;
mod cli;
mod contacts;
mod conversation_actions;
mod conversation_list;
mod conversations;
mod counts;
mod custom_attributes;
mod filter;
mod generate;
mod helpers;
mod inboxes;
mod invitations;
mod labels;
mod messages;
mod process;
mod search;
mod search_crash;
mod search_differential;
mod search_recovery;
mod smtp_sink;
mod snooze;
mod teams;
mod transcript;
