//! The real binary end to end: serve on a free port, write with a token,
//! read back, follow the live stream while another client appends, and
//! stop with SIGTERM.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::http::request;
use common::{clerk_token, listening_on, ok, pacta, stop};

#[test]
fn serve_write_read_stream_and_stop() {
    let dir = tempfile::tempdir().unwrap();
    // On an empty store, token add loads the bundled registry first.
    let token = clerk_token(dir.path(), "desk", "liberecky-kraj");
    assert!(token.starts_with("pacta_"), "{token}");

    let mut server = pacta(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = listening_on(server.stdout.take().unwrap());

    // The bundled registry is there on first start.
    let list = request(
        &addr,
        "GET",
        "/api/v1/partnerships?party=liberecky-kraj&valid_on=2022-02-28",
        None,
        None,
    );
    assert_eq!(list.status, 200);
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 5);

    // Follow the live stream from the current head.
    let head = request(&addr, "GET", "/healthz", None, None).json()["head_position"]
        .as_u64()
        .unwrap();
    let mut sse = TcpStream::connect(&addr).unwrap();
    write!(
        sse,
        "GET /api/v1/events/stream?after={head} HTTP/1.1\r\nHost: {addr}\r\n\r\n"
    )
    .unwrap();
    sse.set_read_timeout(Some(Duration::from_secs(10))).unwrap();

    // Another client writes with the token.
    let body = r#"{"type":"ActivityRecorded","date":"2026-10-02","data":{"kind":"visit","place":"Liberec"},"source":{"title":"press release"},"note":"delegation from Bursa"}"#;
    let written = request(
        &addr,
        "POST",
        "/api/v1/partnerships/liberecky-kraj--bursa/events",
        Some(&token),
        Some(body),
    );
    assert_eq!(written.status, 201, "{}", written.body);
    let position = written.json()["events"][0]["position"].as_u64().unwrap();
    assert_eq!(position, head + 1);
    let denied = request(
        &addr,
        "POST",
        "/api/v1/partnerships/liberecky-kraj--bursa/events",
        None,
        Some(body),
    );
    assert_eq!(denied.status, 401);

    // It reads back, recorded by the token's name.
    let history = request(
        &addr,
        "GET",
        "/api/v1/partnerships/liberecky-kraj--bursa/events",
        None,
        None,
    )
    .json();
    let last = history["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["recorded_by"], "desk");
    assert_eq!(last["note"], "delegation from Bursa");

    // The stream delivered it live, with its position as the SSE id.
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains(&format!("id: {position}")) {
        let n = sse.read(&mut buf).expect("the stream delivers in time");
        assert!(n > 0, "the stream ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.contains("delegation from Bursa"));

    // SIGTERM: the server finishes, closes the stream and exits 0.
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = server.wait().unwrap();
    assert!(code.success(), "exit status {code:?}");
    let mut log = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["status"] == 201 && l["method"] == "POST" && l["latency_ms"].is_number()),
        "one structured line per request:\n{log}"
    );
    assert!(log.contains("store flushed"), "{log}");

    // Stopping wrote the projections' state: a restart has nothing to
    // apply again.
    {
        let store = pacta_store::Store::open(dir.path()).unwrap();
        let projections = pacta_projections::Projections::open(&store).unwrap();
        let head = store.head().position;
        for (name, stored) in projections.stored_checkpoints() {
            assert_eq!(stored, head, "projection {name}");
        }
    }

    // The write is durable: the CLI sees it after the server is gone.
    let shown: serde_json::Value = serde_json::from_str(&ok(pacta(dir.path()).args([
        "history",
        "liberecky-kraj--bursa",
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(
        shown["items"].as_array().unwrap().last().unwrap()["recorded_by"],
        "desk"
    );
}

/// The read commands answer the same while the server holds the store
/// (they ask it) as when it is stopped (they read the store), and say
/// which way they read.
#[test]
fn read_commands_answer_alike_beside_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    ok(pacta(dir.path()).arg("init"));
    let questions: &[&[&str]] = &[
        &[
            "valid-on", "2022-02", "--party", "orenb", "--format", "json",
        ],
        &["valid-on", "--from", "2020", "--to", "2022", "--strict"],
        &[
            "list",
            "--valid-on",
            "2022-03-01",
            "--as-known-at",
            "2026-11-28",
        ],
        &["list", "--status", "terminated", "--format", "json"],
        &[
            "show",
            "liberecky-kraj--orenburg-oblast",
            "--valid-on",
            "2022",
            "--format",
            "json",
        ],
        &[
            "show",
            "liberecky-kraj--ha-tinh",
            "--valid-on",
            "2015-01-01",
        ],
        &[
            "history",
            "liberecky-kraj--orenburg-oblast",
            "--format",
            "json",
        ],
        &["find", "cuhujiv", "--format", "json"],
        &["parties"],
        &["offers", "--status", "published", "--format", "json"],
        &["export"],
        &["export", "--format", "csv", "--what", "events"],
        &[
            "export",
            "--format",
            "csv",
            "--what",
            "partnerships",
            "--valid-on",
            "2022-03",
        ],
        &["verify"],
        &[
            "report",
            "annual",
            "--year",
            "2022",
            "--party",
            "liberecky-kraj",
        ],
        &[
            "report", "annual", "--year", "2022", "--format", "json", "--strict",
        ],
        &[
            "report", "annual", "--year", "2011", "--format", "html", "--lang", "en",
        ],
        &["audit", "terminations", "--strict"],
        &[
            "audit",
            "terminations",
            "liberecky-kraj--orenburg-oblast",
            "--format",
            "json",
        ],
        &["audit", "terminations", "--format", "html"],
    ];
    let ask = |args: &[&str]| {
        let out = pacta(dir.path()).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {err}");
        (String::from_utf8(out.stdout).unwrap(), err)
    };
    let stopped: Vec<(String, String)> = questions.iter().map(|q| ask(q)).collect();
    let stopped_digest = ask(&["digest"]).0;
    std::fs::write(dir.path().join("digest.json"), &stopped_digest).unwrap();
    let stopped_check = ask(&[
        "verify",
        "--digest",
        dir.path().join("digest.json").to_str().unwrap(),
    ])
    .0;
    let mut server = pacta(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = listening_on(server.stdout.take().unwrap());
    // The digest names the same head either way (only `taken_at` differs).
    let head = |text: &str| {
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        (
            v["position"].clone(),
            v["hash"].clone(),
            v["recorded_at"].clone(),
        )
    };
    let digest_stopped = head(&stopped_digest);
    assert_eq!(head(&ask(&["digest"]).0), digest_stopped);
    std::fs::write(dir.path().join("digest.json"), &stopped_digest).unwrap();
    let checked = ask(&[
        "verify",
        "--digest",
        dir.path().join("digest.json").to_str().unwrap(),
    ])
    .0;
    assert_eq!(checked, stopped_check);
    for (q, (out, err)) in questions.iter().zip(&stopped) {
        let (served, how) = ask(q);
        assert_eq!(
            clock_masked(&served),
            clock_masked(out),
            "{q:?}: the same answer either way (but for when it was made)"
        );
        assert!(err.contains("reading the store in"), "{q:?}: {err}");
        assert!(
            how.contains(&format!(
                "reading through the running server at http://{addr}"
            )),
            "{q:?}: {how}"
        );
    }
    stop(&mut server);
    // Stopped cleanly, the server no longer names an address.
    assert!(!dir.path().join(pacta_server::ADDRESS_FILE).exists());
    let (_, err) = ask(questions[0]);
    assert!(err.contains("reading the store in"), "{err}");
}

/// The text with every time of day (`04:26:22`, `04:26:22.123456`) as
/// `hh:mm:ss`: documents say when they were made.
fn clock_masked(text: &str) -> String {
    let b = text.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let clock = digit(i)
            && digit(i + 1)
            && b.get(i + 2) == Some(&b':')
            && digit(i + 3)
            && digit(i + 4)
            && b.get(i + 5) == Some(&b':')
            && digit(i + 6)
            && digit(i + 7);
        if clock {
            out.push_str("hh:mm:ss");
            i += 8;
            if b.get(i) == Some(&b'.') {
                i += 1;
                while digit(i) {
                    i += 1;
                }
            }
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// A read in a directory that holds no registry says so, and creates
/// nothing.
#[test]
fn a_read_in_a_missing_directory_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo");
    let out = pacta(&missing)
        .args(["valid-on", "2022-03-01"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: no registry in "), "{err}");
    assert!(err.contains("init"), "{err}");
    assert!(!missing.exists(), "nothing was created");
}

#[test]
fn cli_commands_fail_clearly_while_the_server_holds_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = pacta(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    listening_on(server.stdout.take().unwrap());
    let out = pacta(dir.path())
        .args(["token", "add", "x", "--role", "admin"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use by another process"), "{err}");
    stop(&mut server);
}
