//! The README's "Use wootlite in your tests" examples, run as written: the pytest fixture and the
//! Node test file each start this build's binary in dev mode and drive it over HTTP.

use std::path::Path;
use std::process::Command;

use crate::tools::{find_or_skip, ready_or_skip};

const BINARY: &str = env!("CARGO_BIN_EXE_wootlite");

fn examples() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"))
}

fn assert_ran(what: &str, output: std::process::Output) {
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_pytest_example_passes() {
    // CI installs pytest into its own environment and names its Python here.
    let python = std::env::var("WOOTLITE_PYTHON").unwrap_or_else(|_| "python3".into());
    let Some(found) = find_or_skip("the pytest example", &[&python], "python3") else {
        return;
    };
    let has_pytest = Command::new(&found[0])
        .args(["-c", "import pytest"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready_or_skip(
        "the pytest example",
        has_pytest,
        "needs pytest (pip install pytest)",
    ) {
        return;
    }
    let output = Command::new(&found[0])
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(examples().join("pytest"))
        .env("WOOTLITE_BIN", BINARY)
        .output()
        .expect("pytest runs");
    assert_ran("pytest", output);
}

#[test]
fn the_node_example_passes() {
    let Some(found) = find_or_skip("the Node example", &["node"], "nodejs") else {
        return;
    };
    let output = Command::new(&found[0])
        .arg("--test")
        .arg(examples().join("node/wootlite.test.mjs"))
        .env("WOOTLITE_BIN", BINARY)
        .output()
        .expect("node runs");
    assert_ran("node --test", output);
}
