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

use common::{ok, pacta, serving, stop};

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
    let (mut server, addr) = serving(pg(&on_pg).args(["serve", "--listen", "127.0.0.1:0"]));
    let body = r#"{"type":"ActivityRecorded","date":"2024-05-02","data":{"kind":"visit"}}"#;
    let posted = common::http::request(
        &addr,
        "POST",
        "/api/v1/partnerships/liberecky-kraj--bursa/events",
        Some(token.trim()),
        Some(body),
    );
    assert_eq!(posted.status, 201, "{}", posted.body);
    // The Merkle tree follows the log in PostgreSQL too: a checkpoint of
    // all 222 records, a bundle that verifies offline, tiles.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let checkpoint = loop {
        let c = common::http::request(&addr, "GET", "/checkpoint", None, None);
        assert_eq!(c.status, 200, "{}", c.body);
        if c.body.lines().nth(1) == Some("222") {
            break c.body;
        }
        assert!(std::time::Instant::now() < deadline, "{}", c.body);
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    let pg_root = pacta_tlog::Hash::from_base64(checkpoint.lines().nth(2).unwrap()).unwrap();
    let bundle = common::http::request(
        &addr,
        "GET",
        "/api/v1/proofs/bundle?position=222",
        None,
        None,
    );
    assert_eq!(bundle.status, 200, "{}", bundle.body);
    let bundle_file = dir.path().join("222.proof");
    std::fs::write(&bundle_file, &bundle.body).unwrap();
    let vkey = ok(pg(&on_pg).args(["key", "show"]));
    ok(pacta(&dir.path().join("nowhere"))
        .args(["proof", "verify"])
        .arg(&bundle_file)
        .args(["--key", vkey.trim()]));
    let tile = common::http::request(&addr, "GET", "/tile/entries/000", None, None);
    assert_eq!(
        tile.status, 404,
        "a full bundle of 256 records is not there yet"
    );
    let tile = common::http::request(&addr, "GET", "/tile/0/000.p/222", None, None);
    assert_eq!(tile.status, 200, "{}", tile.body);
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
    // The same log, the same tree: the embedded store's root over the
    // imported records is the root PostgreSQL's checkpoint signed.
    let store = pacta_store::Store::open(&imported).unwrap();
    while store.tree_size().unwrap() < 222 {
        assert!(std::time::Instant::now() < deadline + std::time::Duration::from_secs(30));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(store.tree_root(222).unwrap(), pg_root);
}

/// Posts activities to `addr` from four threads until `stop` is set or the
/// server stops answering; each acknowledged event's id and position.
fn post_until(
    addr: String,
    token: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: u8,
) -> Vec<(String, u64)> {
    let mut acked = Vec::new();
    for i in 0u64.. {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        let mut bytes = [0u8; 16];
        bytes[0] = 0x01;
        bytes[7] = thread;
        bytes[8..].copy_from_slice(&i.to_be_bytes());
        let id = pacta_domain::EventId::from_bytes(bytes).to_string();
        let partnership = ["liberecky-kraj--bursa", "liberecky-kraj--ha-tinh"][i as usize % 2];
        let body = format!(
            r#"{{"type":"ActivityRecorded","date":"2024-05-02","data":{{"kind":"letter"}},"event_id":"{id}"}}"#
        );
        match common::http::try_request(
            &addr,
            "POST",
            &format!("/api/v1/partnerships/{partnership}/events"),
            Some(&token),
            Some(&body),
            std::time::Duration::from_secs(10),
        ) {
            Ok(r) if r.status == 201 => {
                let position = r.json()["events"][0]["position"].as_u64().unwrap();
                acked.push((id, position));
            }
            Ok(r) => panic!("{}: {}", r.status, r.body),
            // The server was killed mid-request: this one was never
            // acknowledged.
            Err(_) => break,
        }
    }
    acked
}

fn role(addr: &str) -> String {
    let r = common::http::request(addr, "GET", "/readyz", None, None);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["role"].as_str().unwrap().to_owned()
}

/// Two servers on one database: the first leads, the second serves reads
/// (following the leader's writes) and refuses writes with 503. The
/// leader is killed with SIGKILL in the middle of concurrent HTTP
/// appends: every acknowledged event is in the log once, and the second
/// server takes over writing with no gap and no fork.
#[test]
fn a_standby_takes_over_writing_when_the_leader_is_killed() {
    let Some(url) = pg_server::database_blocking("pacta_takeover") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    let pg = |data: &std::path::Path| {
        let mut cmd = pacta(data);
        cmd.env("PACTA_STORE", &url);
        cmd
    };
    let serve =
        |data: &std::path::Path| serving(pg(data).args(["serve", "--listen", "127.0.0.1:0"]));
    let clerk = |data: &std::path::Path| {
        ok(pg(data).args([
            "token",
            "add",
            "clerk",
            "--role",
            "clerk",
            "--party",
            "liberecky-kraj",
        ]))
        .trim()
        .to_owned()
    };
    ok(pg(&first).arg("init"));
    // One token for both: the tokens live in the database, not in either
    // data directory.
    let token = clerk(&first);
    let listed = ok(pg(&second).args(["token", "list", "--format", "json"]));
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["items"][0]["name"], "clerk", "{listed}");
    let (mut leader, addr_a) = serve(&first);
    let (mut standby, addr_b) = serve(&second);
    assert_eq!(role(&addr_a), "leader");
    assert_eq!(role(&addr_b), "standby");
    let seeded = activities_2024(&addr_b);
    let body = r#"{"type":"ActivityRecorded","date":"2024-05-02","data":{"kind":"visit"}}"#;
    let refused = common::http::request(
        &addr_b,
        "POST",
        "/api/v1/partnerships/liberecky-kraj--bursa/events",
        Some(&token),
        Some(body),
    );
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(refused.body.contains("not-leader"), "{}", refused.body);

    // Appends to the leader from four threads; SIGKILL once 200 landed.
    let halt = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let posters: Vec<_> = (0..4u8)
        .map(|t| {
            let (addr, token, halt) = (addr_a.clone(), token.clone(), halt.clone());
            std::thread::spawn(move || post_until(addr, token, halt, t))
        })
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let head =
            common::http::request(&addr_b, "GET", "/api/v1/events?after=0&limit=1", None, None)
                .json()["head_position"]
                .as_u64()
                .unwrap();
        if head >= 221 + 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the standby never saw 200 appends"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    leader.kill().unwrap();
    leader.wait().unwrap();
    halt.store(true, std::sync::atomic::Ordering::Relaxed);
    let acked: Vec<(String, u64)> = posters
        .into_iter()
        .flat_map(|p| p.join().unwrap())
        .collect();
    // At least 200 were committed before the kill; up to one per thread
    // may have died before its answer left.
    assert!(acked.len() >= 196, "{}", acked.len());

    // The standby takes over on its next write once the leader's session
    // is gone (at once for a killed process: its sockets close).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let taken = loop {
        let r = common::http::request(
            &addr_b,
            "POST",
            "/api/v1/partnerships/liberecky-kraj--bursa/events",
            Some(&token),
            Some(body),
        );
        if r.status == 201 {
            break r.json()["events"][0]["position"].as_u64().unwrap();
        }
        assert_eq!(r.status, 503, "{}", r.body);
        assert!(
            std::time::Instant::now() < deadline,
            "no take-over: {}",
            r.body
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(role(&addr_b), "leader");

    // Every position from 1 to the take-over's, each event once; every
    // acknowledged event where its acknowledgement said.
    let mut positions = Vec::new();
    let mut ids = std::collections::HashMap::new();
    let mut after = 0;
    loop {
        let page = common::http::request(
            &addr_b,
            "GET",
            &format!("/api/v1/events?after={after}&limit=500"),
            None,
            None,
        )
        .json();
        for item in page["items"].as_array().unwrap() {
            let position = item["position"].as_u64().unwrap();
            positions.push(position);
            let id = item["event_id"].as_str().unwrap().to_owned();
            assert!(ids.insert(id, position).is_none(), "an event twice");
        }
        match page["next_after"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(positions, (1..=taken).collect::<Vec<_>>());
    for (id, position) in &acked {
        assert_eq!(
            ids.get(id),
            Some(position),
            "acknowledged {id} at {position}"
        );
    }
    // The standby's projections followed the leader's writes: every
    // record past the seeds is a 2024 activity of liberecky-kraj.
    assert_eq!(activities_2024(&addr_b), seeded + (taken - 221));

    // A token revoked through another instance stops working here within
    // the tokens' cache time; one revoked through this server at once.
    let post = |token: &str| {
        common::http::request(
            &addr_b,
            "POST",
            "/api/v1/partnerships/liberecky-kraj--bursa/events",
            Some(token),
            Some(body),
        )
        .status
    };
    let other = clerk_named(&pg, &first, "other-clerk");
    assert_eq!(post(&other), 201);
    ok(pg(&first).args(["token", "revoke", "other-clerk"]));
    let revoked_at = std::time::Instant::now();
    while post(&other) == 201 {
        assert!(
            revoked_at.elapsed() < std::time::Duration::from_secs(10),
            "a token revoked elsewhere still works"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(post(&other), 401);
    let admin = ok(pg(&first).args(["token", "add", "admin", "--role", "admin"]));
    assert_eq!(post(&token), 201);
    let revoked = common::http::request(
        &addr_b,
        "DELETE",
        "/api/v1/admin/tokens/clerk",
        Some(admin.trim()),
        None,
    );
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(post(&token), 401, "a token revoked here still works");

    stop(&mut standby);
    // The chain is whole (`verify` exits 1 otherwise).
    ok(pg(&second).arg("verify"));
}

/// A new clerk token of liberecky-kraj named `name`.
fn clerk_named(
    pg: &dyn Fn(&std::path::Path) -> std::process::Command,
    data: &std::path::Path,
    name: &str,
) -> String {
    ok(pg(data).args([
        "token",
        "add",
        name,
        "--role",
        "clerk",
        "--party",
        "liberecky-kraj",
    ]))
    .trim()
    .to_owned()
}

/// liberecky-kraj's activities of 2024 in the activity view.
fn activities_2024(addr: &str) -> u64 {
    let view = common::http::request(
        addr,
        "GET",
        "/api/v1/views/activity?party=liberecky-kraj",
        None,
        None,
    );
    assert_eq!(view.status, 200, "{}", view.body);
    view.json()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["year"] == 2024)
        .map(|r| r["activities"].as_u64().unwrap())
        .sum()
}
