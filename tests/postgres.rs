//! The registry with its log in PostgreSQL (`--store`), end to end: a
//! fresh install holds the same log (the same head hash) as on the
//! embedded store, the read commands answer alike, the server takes
//! writes, a second data directory on the same database reads the same
//! registry, and an export from PostgreSQL imports into the embedded
//! store with the same head. PostgreSQL is started by the store's test
//! harness; without it the test skips (fails under `CI=true`).

mod common;
#[path = "../crates/store/tests/common/pg.rs"]
mod pg_server;

use std::process::Stdio;

use common::{listening_on, ok, pacta, stop};

#[test]
fn the_registry_runs_on_postgresql_as_on_the_embedded_store() {
    let Some(url) = pg_server::database_blocking("pacta_e2e") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (on_pg, on_sled, second, imported) = (
        dir.path().join("pg"),
        dir.path().join("sled"),
        dir.path().join("second"),
        dir.path().join("imported"),
    );
    let pg = |data: &std::path::Path| {
        let mut cmd = pacta(data);
        cmd.env("PACTA_STORE", &url);
        cmd
    };
    ok(pg(&on_pg).arg("init"));
    ok(pacta(&on_sled).arg("init"));
    let digest = |out: String| {
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        (v["position"].clone(), v["hash"].clone())
    };
    let fresh = digest(ok(pacta(&on_sled).arg("digest")));
    assert_eq!(digest(ok(pg(&on_pg).arg("digest"))), fresh);
    // Nothing of the log is kept in the data directory's log database.
    assert_eq!(
        digest(ok(pacta(&on_pg).arg("digest"))).0,
        serde_json::json!(0),
        "the embedded log of a PostgreSQL install stays empty"
    );
    for args in [
        &["valid-on", "2022-02-28", "--party", "liberecky-kraj"][..],
        &[
            "show",
            "liberecky-kraj--orenburg-oblast",
            "--format",
            "json",
        ],
        &["view", "activity", "--format", "csv"],
        &["report", "annual", "--year", "2022", "--format", "json"],
    ] {
        let strip = |s: String| {
            // Reports say when they were made.
            s.lines()
                .filter(|l| !l.contains("made_at"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(
            strip(ok(pg(&on_pg).args(args))),
            strip(ok(pacta(&on_sled).args(args))),
            "{args:?}"
        );
    }

    // The server on PostgreSQL takes a write.
    let token = ok(pg(&on_pg).args([
        "token",
        "add",
        "pg-clerk",
        "--role",
        "clerk",
        "--party",
        "liberecky-kraj",
    ]));
    let mut server = pg(&on_pg)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = listening_on(server.stdout.take().unwrap());
    let body = r#"{"type":"ActivityRecorded","date":"2024-05-02","data":{"kind":"visit"}}"#;
    let posted = common::http::request(
        &addr,
        "POST",
        "/api/v1/partnerships/liberecky-kraj--bursa/events",
        Some(token.trim()),
        Some(body),
    );
    assert_eq!(posted.status, 201, "{}", posted.body);
    stop(&mut server);
    let head = digest(ok(pg(&on_pg).arg("digest")));
    assert_eq!(head.0, serde_json::json!(222));
    ok(pg(&on_pg).arg("verify"));

    // A second instance on the same database reads the same registry.
    ok(pg(&second).arg("init"));
    assert_eq!(digest(ok(pg(&second).arg("digest"))), head);
    let visits = ok(pg(&second).args([
        "view",
        "activity",
        "--party",
        "liberecky-kraj",
        "--format",
        "json",
    ]));
    assert!(visits.contains(r#""year":2024"#), "{visits}");

    // Exported from PostgreSQL, imported into the embedded store: the
    // same head.
    let export = dir.path().join("log.ndjson");
    ok(pg(&on_pg).args(["export", "--output"]).arg(&export));
    ok(pacta(&imported).arg("import").arg(&export));
    assert_eq!(digest(ok(pacta(&imported).arg("digest"))), head);
}
