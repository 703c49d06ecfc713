//! The README is executed: its `sh` examples run, in order of use, against
//! a scratch directory and a real server, and every one must succeed; the
//! head hash it prints for a fresh install is the one a fresh install has.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{listening_on, ok, pacta, stop};

const README: &str = include_str!("../README.md");

/// The `sh` blocks of the README, in order.
fn blocks() -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in README.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), line) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// The one block that holds `needle`.
fn block(needle: &str) -> String {
    let found: Vec<String> = blocks()
        .into_iter()
        .filter(|b| b.contains(needle))
        .collect();
    assert_eq!(found.len(), 1, "one README block holds {needle:?}");
    found.into_iter().next().unwrap()
}

/// Runs a block with bash, `-e`: `pacta` is the built binary, `curl` fails
/// on an error answer (a live stream is read for two seconds), and
/// `localhost:8080` is the test server's address.
fn run(cwd: &Path, script: &str, server: Option<&str>, env: &[(&str, &str)]) {
    let script = match server {
        Some(addr) => script.replace("localhost:8080", addr),
        None => script.to_owned(),
    };
    let prelude = format!(
        r#"set -euo pipefail
pacta() {{ "{bin}" "$@"; }}
curl() {{
  case "$*" in
    */events/stream*) command curl -sS --max-time 2 "$@" || [ $? -eq 28 ] ;;
    *) command curl -sS --fail-with-body --max-time 30 "$@" ;;
  esac
}}
"#,
        bin = env!("CARGO_BIN_EXE_pacta")
    );
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(format!("{prelude}{script}"))
        .current_dir(cwd)
        .env_remove("PACTA_DATA")
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("bash runs");
    assert!(
        out.status.success(),
        "this README block failed:\n{script}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The head hash the README prints for a fresh install.
fn readme_head_hash() -> &'static str {
    let at = README
        .find("head hash\n`")
        .expect("the README prints the head hash")
        + 11;
    &README[at..at + 64]
}

#[test]
fn the_readme_examples_run_and_its_head_hash_is_a_fresh_installs() {
    if Command::new("curl").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "curl is missing; .ci/run installs it"
        );
        eprintln!("skipped: curl is not installed");
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let cwd = scratch.path();
    for dir in ["seeds", "docs"] {
        std::os::unix::fs::symlink(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir),
            cwd.join(dir),
        )
        .unwrap();
    }
    let data = cwd.join("data");

    // Asking questions, from `pacta init` on; a fresh install's head.
    run(cwd, &block("pacta init"), None, &[]);
    let digest: serde_json::Value = serde_json::from_str(&ok(pacta(&data).arg("digest"))).unwrap();
    assert_eq!(digest["hash"], readme_head_hash(), "the README's head hash");
    assert_eq!(digest["position"], 221);

    // Documents, importing and exporting, tokens: with the server stopped.
    run(cwd, &block("pacta audit terminations"), None, &[]);
    run(cwd, &block("pacta import seeds/"), None, &[]);
    run(cwd, &block("pacta export --format csv"), None, &[]);
    run(cwd, &block("pacta token add liberec-desk"), None, &[]);
    run(cwd, &block("pacta key show"), None, &[]);
    let admin = ok(pacta(&data).args(["token", "add", "readme-admin", "--role", "admin"]));
    let clerk = ok(pacta(&data).args([
        "token",
        "add",
        "readme-clerk",
        "--role",
        "clerk",
        "--party",
        "liberecky-kraj",
    ]));

    // The HTTP examples, against the server.
    let mut server = pacta(&data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = listening_on(server.stdout.take().unwrap());
    let env = [("ADMIN", admin.trim()), ("TOKEN", clerk.trim())];
    for needle in [
        "curl 'localhost:8080/api/v1/partnerships?",
        "api/v1/admin/tokens",
        "liberecky-kraj--bursa/events",
        "Accept: text/csv",
        "api/v1/views/activity",
        // The proofs again, through the running server.
        "pacta key show",
    ] {
        run(cwd, &block(needle), Some(&addr), &env);
    }
    stop(&mut server);

    // Every block was run (the first two lines are the commands above).
    let run_blocks = 1 + 5 + 5;
    assert_eq!(
        blocks().len(),
        run_blocks + 1,
        "a README block is not run here"
    );
}
