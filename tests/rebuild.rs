//! A rebuild killed half-way resumes from its checkpoint on the next open
//! and ends with the same answers as an uninterrupted rebuild.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{ok, pacta};
use pacta_domain::Day;
use pacta_projections::{ListFilter, Projections};
use pacta_store::Store;

/// Every partnership's (id, status, in force) on a few days.
fn answers(projections: &Projections) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for day in ["1999-06-01", "2005-01-01", "2012-07-15", "2030-01-01"] {
        let day: Day = day.parse().unwrap();
        let filter = ListFilter {
            party: None,
            status: None,
            valid_on: None,
            in_force: Default::default(),
            as_known_at: None,
            today: day,
        };
        projections.partnerships().for_each(&filter, |r| {
            out.push((
                r.header.id.to_string(),
                r.state.status.to_string(),
                r.state.in_force.to_string(),
            ));
        });
    }
    out
}

#[test]
fn a_killed_rebuild_resumes_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    ok(pacta(dir.path()).args(["generate", "--partnerships", "1500"]));

    // The answers after a rebuild that runs to the end.
    ok(pacta(dir.path()).args(["rebuild"]));
    let expected = {
        let store = Store::open(dir.path()).unwrap();
        let projections = Projections::open(&store).unwrap();
        projections.catch_up(&mut |_, _| {}).unwrap();
        answers(&projections)
    };
    assert!(expected.len() > 1000);

    // Now kill one as soon as it has checkpointed its first chunk.
    let mut child = pacta(dir.path())
        .args(["rebuild", "--chunk", "300"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut seen = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("rebuild: ") {
            let done: u64 = rest.split('/').next().unwrap().parse().unwrap();
            if done > 0 {
                child.kill().unwrap();
                seen = Some(done);
                break;
            }
        }
    }
    child.wait().unwrap();
    let seen = seen.expect("the rebuild reported progress");

    let store = Store::open(dir.path()).unwrap();
    let head = store.head().position;
    let projections = Projections::open(&store).unwrap();
    let checkpoints = projections.checkpoints();
    let partnerships = checkpoints
        .iter()
        .find(|c| c.0 == "partnerships")
        .unwrap()
        .1;
    assert!(
        partnerships >= seen && partnerships < head,
        "killed mid-way: checkpoint {partnerships}, first progress {seen}, head {head}"
    );
    // Resuming reads only what lies beyond the lowest checkpoint.
    let lowest = checkpoints.iter().map(|c| c.1).min().unwrap();
    let read = projections.catch_up(&mut |_, _| {}).unwrap();
    assert_eq!(read, head - lowest);
    assert_eq!(answers(&projections), expected);
}

/// The stream and event-id indexes are derived: damaged behind Pacta's
/// back, `pacta rebuild --indexes` makes every read answer as before.
#[test]
fn damaged_indexes_are_rebuilt_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    ok(pacta(dir.path()).arg("init"));
    let ids = [
        "liberecky-kraj--orenburg-oblast",
        "plzensky-kraj--bergamo",
        "ustecky-kraj--anhui",
    ];
    let reads = || {
        ids.iter()
            .map(|id| ok(pacta(dir.path()).args(["history", id, "--format", "json"])))
            .collect::<Vec<_>>()
    };
    let before = reads();
    assert!(
        before.iter().all(|h| h.contains("\"position\"")),
        "{before:?}"
    );
    {
        let store = Store::open(dir.path()).unwrap();
        store.damage_indexes_for_tests().unwrap();
    }
    let damaged: Vec<_> = ids
        .iter()
        .map(|id| {
            pacta(dir.path())
                .args(["history", id, "--format", "json"])
                .output()
                .unwrap()
        })
        .collect();
    assert!(
        damaged
            .iter()
            .zip(&before)
            .any(|(d, b)| !d.status.success() || String::from_utf8_lossy(&d.stdout) != *b),
        "the damage did not show"
    );
    ok(pacta(dir.path()).args(["rebuild", "--indexes"]));
    assert_eq!(reads(), before);
}

/// A view whose stored state does not load, or whose stored version is
/// another, is rebuilt on open: every command works, the view equals a
/// fresh rebuild, the keyspaces of other versions go, and the tokens
/// stay.
#[test]
fn a_damaged_or_older_view_is_rebuilt_and_the_tokens_survive() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(pacta(data).arg("init"));
    let token = common::clerk_token(data, "anna", "liberecky-kraj");
    let fresh = ok(pacta(data).args(["view", "activity", "--format", "json"]));
    let rows = |json: &str| -> serde_json::Value {
        serde_json::from_str::<serde_json::Value>(json).unwrap()["rows"].clone()
    };
    assert!(
        rows(&fresh).as_array().is_some_and(|r| !r.is_empty()),
        "{fresh}"
    );

    let damage = |state: &[u8]| {
        let store = Store::open(data).unwrap();
        let keyspace = store
            .keyspace(&pacta_projections::keyspace_name("activity", 1))
            .unwrap();
        let mut writes = pacta_store::kv::WriteSet::new();
        writes.put(b"state".to_vec(), state.to_vec());
        keyspace.commit(&writes, store.head().position).unwrap();
        // What an older or newer Pacta would leave: another version's keyspace.
        let other = store.keyspace("projection/activity/v9").unwrap();
        other.commit(&writes, 3).unwrap();
        keyspace.flush().unwrap();
    };
    for state in [&br#"{"counts":{"x":"y"}}"#[..], b"\x00\x01 not json"] {
        damage(state);
        // Other commands work over it...
        ok(pacta(data).args(["report", "annual", "--year", "2011"]));
        ok(pacta(data).args(["list", "--valid-on", "2012"]));
        // ... and the view is rebuilt: the same as before.
        let again = ok(pacta(data).args(["view", "activity", "--format", "json"]));
        assert_eq!(rows(&again), rows(&fresh));
        let store = Store::open(data).unwrap();
        let names = store.keyspace_names().unwrap();
        assert!(!names.iter().any(|n| n.ends_with("/v9")), "{names:?}");
    }
    // `rebuild --projection` over damaged state works too.
    damage(b"garbage");
    ok(pacta(data).args(["rebuild", "--projection", "activity"]));
    let rebuilt = ok(pacta(data).args(["view", "activity", "--format", "json"]));
    assert_eq!(rows(&rebuilt), rows(&fresh));
    // The token made before is still there and still the clerk's.
    let tokens = ok(pacta(data).args(["token", "list"]));
    assert!(tokens.contains("anna"), "{tokens}");
    assert!(!token.is_empty());
}
