//! An acknowledgement means the record is on disk: the server's
//! `fdatasync` of the log's data file happens after the request arrives
//! and before the 201 leaves, shown by tracing the real binary's system
//! calls with strace.

mod common;

use std::process::{Command, Stdio};

use common::http::request;
use common::{clerk_token, listening_on, pacta};

/// strace, or `None` outside CI when it is not installed (CI installs it).
fn strace() -> Option<&'static str> {
    let found = Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    match (found, std::env::var_os("CI").is_some()) {
        (true, _) => Some("strace"),
        (false, true) => panic!("strace is missing; .ci/run installs it"),
        (false, false) => {
            eprintln!("skipped: strace is not installed (apt-get install strace)");
            None
        }
    }
}

#[derive(Debug)]
enum Call {
    /// The request came in (a read holding its first line).
    Request,
    /// `fdatasync` of the log's data file returned 0.
    SyncedLog,
    /// The response went out (a write holding its status line).
    Created,
}

/// The calls of interest, in the order they completed. strace -f splits a
/// call interrupted by another thread's into `<unfinished ...>` and
/// `<... NAME resumed>` lines; a call completes at its resumed line.
fn calls(trace: &str, log_file: &str) -> Vec<Call> {
    let mut out = Vec::new();
    let mut unfinished_sync: Vec<String> = Vec::new();
    for line in trace.lines() {
        let pid = line.split_whitespace().next().unwrap_or("").to_owned();
        let body = line[pid.len()..].trim_start();
        if body.starts_with("fdatasync(") && body.contains(log_file) {
            if body.contains("<unfinished ...>") {
                unfinished_sync.push(pid);
            } else if body.ends_with("= 0") {
                out.push(Call::SyncedLog);
            }
        } else if body.starts_with("<... fdatasync resumed>") {
            if let Some(i) = unfinished_sync.iter().position(|p| *p == pid) {
                unfinished_sync.remove(i);
                if body.ends_with("= 0") {
                    out.push(Call::SyncedLog);
                }
            }
        } else if body.contains("\"POST /api/v1/partnership") {
            // The request's first bytes (a read may take only part of it).
            out.push(Call::Request);
        } else if body.contains("HTTP/1.1 201") {
            out.push(Call::Created);
        }
    }
    out
}

#[test]
fn the_log_is_synced_before_an_append_is_acknowledged() {
    let Some(strace) = strace() else { return };
    let dir = tempfile::tempdir().unwrap();
    let token = clerk_token(dir.path(), "desk", "liberecky-kraj");
    let trace_path = dir.path().join("trace.txt");
    let pacta_cmd = pacta(dir.path());
    let mut server = Command::new(strace)
        .args(["-f", "-y", "-s", "128", "-o"])
        .arg(&trace_path)
        .args([
            "-e",
            "trace=fdatasync,fsync,read,recvfrom,recvmsg,write,writev,sendto,sendmsg",
        ])
        .arg(pacta_cmd.get_program())
        .args(pacta_cmd.get_args())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("PACTA_DATA")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = listening_on(server.stdout.take().unwrap());

    let body = r#"{"type":"ActivityRecorded","date":"2026-10-02","data":{"kind":"letter"},"note":"traced"}"#;
    let written = request(
        &addr,
        "POST",
        "/api/v1/partnerships/liberecky-kraj--bursa/events",
        Some(&token),
        Some(body),
    );
    assert_eq!(written.status, 201, "{}", written.body);
    // Stop pacta itself (strace's child); strace ends with it.
    let children =
        std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", server.id())).unwrap();
    for child in children.split_whitespace() {
        let _ = Command::new("kill").args(["-TERM", child]).status();
    }
    server.wait().unwrap();

    let trace = std::fs::read_to_string(&trace_path).unwrap();
    let log_file = format!("{}>", dir.path().join("log").join("db").display());
    let calls = calls(&trace, &log_file);
    let request_at = calls
        .iter()
        .position(|c| matches!(c, Call::Request))
        .unwrap_or_else(|| panic!("the request is not in the trace: {calls:?}"));
    let created_at = calls
        .iter()
        .position(|c| matches!(c, Call::Created))
        .unwrap_or_else(|| panic!("the 201 is not in the trace: {calls:?}"));
    assert!(request_at < created_at, "{calls:?}");
    assert!(
        calls[request_at..created_at]
            .iter()
            .any(|c| matches!(c, Call::SyncedLog)),
        "no fdatasync of {log_file} between the request and its 201: {calls:?}"
    );
}
