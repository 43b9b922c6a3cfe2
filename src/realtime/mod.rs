//! `/cable`: Chatwoot's ActionCable endpoint (docs/actioncable.md). `protocol` reads and writes
//! the frames, `hub` holds connections and their subscriptions, `connection` serves one socket.

pub mod connection;
pub mod hub;
pub mod protocol;
