//! A database of its own on a PostgreSQL test server for each test that needs one. The URL of a
//! server that may create databases comes from `WOOTLITE_TEST_DATABASE_URL` (`.ci/run` starts a
//! private cluster and sets it).

use crate::tools::ready_or_skip;

pub const DATABASE_URL_VAR: &str = "WOOTLITE_TEST_DATABASE_URL";

/// A database of its own on the test server, dropped with this value.
pub struct TestDatabase {
    server: String,
    name: String,
}

impl TestDatabase {
    /// None (with a notice) when no server is given and skipping is allowed.
    pub fn create_or_skip(test: &str) -> Option<Self> {
        let server = std::env::var(DATABASE_URL_VAR).ok();
        let notice = format!("set {DATABASE_URL_VAR} to a PostgreSQL server's URL (.ci/run does)");
        if !ready_or_skip(test, server.is_some(), &notice) {
            return None;
        }
        let server = server?;
        let name = format!("wootlite_test_{}", uuid::Uuid::new_v4().simple());
        // The name is ours (letters and digits), not input: an identifier cannot be bound.
        administer(&server, &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("{DATABASE_URL_VAR}: {e}"));
        Some(Self { server, name })
    }

    /// The URL of this database on the test server.
    pub fn url(&self) -> String {
        let mut url = url::Url::parse(&self.server).expect("a postgres:// URL");
        url.set_path(&self.name);
        url.to_string()
    }

    pub fn connect(&self) -> postgres::Client {
        let mut config: postgres::Config = self.server.parse().unwrap();
        config.dbname(&self.name);
        config.connect(postgres::NoTls).unwrap()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = administer(&self.server, &drop) {
            eprintln!("{drop}: {e}");
        }
    }
}

/// Runs `statement` on the server, from a thread of its own: the synchronous client refuses to
/// run on a thread that drives an async runtime, as a test's own thread does.
fn administer(server: &str, statement: &str) -> Result<(), postgres::Error> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| postgres::Client::connect(server, postgres::NoTls)?.batch_execute(statement))
            .join()
            .expect("the administering thread")
    })
}
