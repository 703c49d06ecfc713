//! Helpers shared by the end-to-end tests: run the real `pacta` binary.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The `pacta` binary with `--data dir`.
pub fn pacta(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pacta"));
    cmd.arg("--data").arg(data);
    cmd.env_remove("PACTA_DATA");
    cmd.env("RUST_LOG", "warn");
    cmd
}

/// Runs and requires success; returns stdout.
#[track_caller]
pub fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("pacta runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs and requires failure; returns the output.
#[track_caller]
pub fn fails(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("pacta runs");
    assert!(
        !out.status.success(),
        "{cmd:?} should have failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// Stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
