//! wootlite: a Chatwoot-compatible conversations server on an embedded SQLite file.

#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod auth;
pub mod backup;
pub mod clock;
pub mod config;
pub mod corpus;
pub mod db;
pub mod dir_lock;
pub mod error;
pub mod events;
pub mod feed_pruning;
pub mod filter;
pub mod fixtures;
pub mod journal;
pub mod mail;
pub mod metrics;
pub mod models;
pub mod passwords;
pub mod provision;
pub mod realtime;
pub mod search;
pub mod snooze;
pub mod store;
pub mod supervisor;
pub mod views;
pub mod web;
