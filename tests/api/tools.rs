//! Outside programs that some tests drive (a browser and its WebDriver, a database server).
//!
//! When one is missing, its test prints a `SKIPPED:` notice and passes, so that `cargo test`
//! works on a machine without them. With `WOOTLITE_REQUIRE_TEST_TOOLS=1` (CI sets it after
//! installing them) a missing program fails the test instead: CI never passes by skipping.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub const REQUIRE_VAR: &str = "WOOTLITE_REQUIRE_TEST_TOOLS";

/// The programs `test` needs, found: each an absolute path, or a name looked up on `PATH`.
/// `None` when one is missing and skipping is allowed; `packages` names what installs them.
pub fn find_or_skip(test: &str, programs: &[&str], packages: &str) -> Option<Vec<PathBuf>> {
    let found: Vec<Option<PathBuf>> = programs.iter().map(|p| find(p)).collect();
    let missing: Vec<&str> = programs
        .iter()
        .zip(&found)
        .filter(|(_, path)| path.is_none())
        .map(|(name, _)| *name)
        .collect();
    if missing.is_empty() {
        return Some(found.into_iter().flatten().collect());
    }
    let notice = format!(
        "{test} needs {} (install {packages})",
        missing.join(" and ")
    );
    if std::env::var(REQUIRE_VAR).as_deref() == Ok("1") {
        panic!("{notice}; {REQUIRE_VAR}=1 does not allow skipping it");
    }
    eprintln!("SKIPPED: {notice}");
    None
}

/// For what is not a program (a Python package, say): whether `test` may run, given that what it
/// needs is `ready`; skipped with a notice, or failed under `WOOTLITE_REQUIRE_TEST_TOOLS=1`.
pub fn ready_or_skip(test: &str, ready: bool, notice: &str) -> bool {
    if ready {
        return true;
    }
    if std::env::var(REQUIRE_VAR).as_deref() == Ok("1") {
        panic!("{test}: {notice}; {REQUIRE_VAR}=1 does not allow skipping it");
    }
    eprintln!("SKIPPED: {test}: {notice}");
    false
}

fn find(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return executable(Path::new(program)).then(|| PathBuf::from(program));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| executable(candidate))
}

fn executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
