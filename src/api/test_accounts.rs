//! The generated account the finder's differential tests run on, and who looks at it.

use crate::corpus::{self, Shape, Spec};
use crate::db::{Db, PoolSizes};
use crate::models::{Actor, Principal, Role};

/// An administrator, and an agent (user 3) who is a member of some inboxes only.
pub const ADMIN_AND_AGENT: [Principal; 2] = [
    Principal {
        actor: Actor::User(1),
        account_id: 1,
        role: Role::Administrator,
    },
    Principal {
        actor: Actor::User(3),
        account_id: 1,
        role: Role::Agent,
    },
];

/// 600 conversations over 4 inboxes, 6 agents, 3 teams and 5 labels, one message each, in a
/// database under `dir`.
pub fn generated(dir: &std::path::Path, seed: u64) -> Db {
    let db = Db::open(&dir.join("db.sqlite3"), PoolSizes::SMALL).unwrap();
    let spec = Spec {
        shape: Shape {
            inboxes: 4,
            agents: 6,
            teams: 3,
            labels: 5,
        },
        messages_per_conversation: 1.0,
        ..Spec::new(600, seed, 1_700_000_000_000_000)
    };
    corpus::generate(&db, &spec, &mut |_, _| {}).unwrap();
    db
}
