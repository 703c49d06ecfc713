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
