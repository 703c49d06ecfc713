//! The real binary over damaged bytes: a flipped byte in the log's data
//! file, a views database replaced with garbage.

mod common;

use std::path::Path;
use std::process::Stdio;

use common::http::request;
use common::{clerk_token, fails, listening_on, ok, pacta, stderr};
use pacta_store::Store;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Flips a bit in every copy sled wrote of the record at `position`
/// (found by its event id), its live page among them.
fn flip_record(data: &Path, position: u64) {
    let id = {
        let store = Store::open(data).unwrap();
        store
            .get(position)
            .unwrap()
            .unwrap()
            .envelope
            .event_id
            .to_string()
    };
    let path = data.join("log").join("db");
    let mut bytes = std::fs::read(&path).unwrap();
    let at: Vec<usize> = bytes
        .windows(id.len())
        .enumerate()
        .filter(|(_, w)| *w == id.as_bytes())
        .map(|(i, _)| i)
        .collect();
    assert!(!at.is_empty(), "event id {id} not found in the data file");
    for i in at {
        bytes[i + 3] ^= 0x01;
    }
    std::fs::write(&path, bytes).unwrap();
}

/// A store with a few thousand records, spread over many of sled's
/// segments.
fn generated() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ok(pacta(dir.path()).args(["generate", "--partnerships", "150"]));
    dir
}

#[test]
fn verify_and_export_name_the_unreadable_positions_and_go_on() {
    let base = generated();
    let head = Store::open(base.path()).unwrap().head().position;
    // Where sled's snapshot ends depends on when it was taken: damage in
    // that segment makes sled refuse to open at all (a limit of sled, in
    // the README). Take the first of a few old records whose damage sled
    // opens over.
    let dir = tempfile::tempdir().unwrap();
    let mut found = None;
    for target in [500, 300, 700, 900, 100] {
        let data = dir.path().join(format!("at-{target}"));
        copy_dir(base.path(), &data);
        flip_record(&data, target);
        // (A flipped byte in a stale copy of a page changes nothing.)
        let out = pacta(&data).arg("verify").output().unwrap();
        if out.status.success() {
            continue;
        }
        if let Ok(report) = serde_json::from_slice::<serde_json::Value>(&out.stdout) {
            found = Some((data, target, out, report));
            break;
        }
    }
    let (data, target, out, report) = found.expect("sled opens over damage to some old record");
    assert_eq!(report["ok"], false);
    let first = report["first_bad_position"]
        .as_u64()
        .unwrap_or_else(|| panic!("no first bad position: {report}"));
    assert!(first <= target, "{report}");
    assert_eq!(report["last_readable_position"], head, "{report}");
    let unreadable = report["unreadable_count"].as_u64().unwrap();
    assert!(unreadable >= 1);
    assert_eq!(report["checked"].as_u64().unwrap() + unreadable, head);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("first bad position {first}")),
        "{err}"
    );
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1);

    let file = dir.path().join("export.ndjson");
    let out = fails(pacta(&data).arg("export").arg("-o").arg(&file));
    let err = stderr(&out);
    let last = err.lines().last().unwrap();
    assert!(
        last.contains(&format!("{unreadable} of {head} records could not be read"))
            && last.contains(&first.to_string()),
        "{err}"
    );
    let lines = std::fs::read_to_string(&file).unwrap();
    assert_eq!(lines.lines().count() as u64, head - unreadable);
    let positions: Vec<u64> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["position"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(!positions.contains(&target));
    assert!(positions.contains(&head));
}

/// Damage among the records the store checks when it opens: `serve`
/// starts, `/healthz` answers 503 naming the position, and reads answer.
#[test]
fn a_damaged_tail_makes_healthz_answer_503() {
    let base = generated();
    let head = Store::open(base.path()).unwrap().head().position;
    // Which copies sled still reads when it opens depends on its
    // segments: take the first record near the head whose damage sled
    // opens over.
    let dir = tempfile::tempdir().unwrap();
    let mut found = None;
    for back in (100..=900).step_by(100) {
        let data = dir.path().join(back.to_string());
        copy_dir(base.path(), &data);
        flip_record(&data, head - back);
        let opened = Store::open(&data).map(|s| s.health().map_err(|e| e.to_string()));
        if let Ok(Err(e)) = opened {
            found = Some((data, e));
            break;
        }
    }
    let (data, health) = found.expect("damage near the head that sled opens over");
    assert!(health.contains("damaged at position"), "{health}");

    let mut server = pacta(&data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    if first.is_empty() {
        let mut err = String::new();
        std::io::Read::read_to_string(&mut server.stderr.take().unwrap(), &mut err).unwrap();
        panic!("serve did not start: {err}");
    }
    let addr = listening_on(first.as_bytes());
    let health = request(&addr, "GET", "/healthz", None, None);
    assert_eq!(health.status, 503, "{}", health.body);
    assert!(
        health.body.contains("damaged at position"),
        "{}",
        health.body
    );
    let parties = request(&addr, "GET", "/api/v1/parties", None, None);
    assert_eq!(parties.status, 200);
    server.kill().unwrap();
    server.wait().unwrap();
}

/// The views database replaced with garbage: `verify` and `export` do
/// not need it, `rebuild` sets it aside and rebuilds it from the log, and
/// the tokens are all there.
#[test]
fn rebuild_recovers_from_a_views_database_sled_cannot_open() {
    let dir = tempfile::tempdir().unwrap();
    let token = clerk_token(dir.path(), "desk", "liberecky-kraj");
    let before = ok(pacta(dir.path()).args(["list", "--format", "json"]));
    let views = dir.path().join("views");
    for entry in std::fs::read_dir(&views).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::write(&path, vec![0x5a; 4096]).unwrap();
        }
    }
    ok(pacta(dir.path()).arg("verify"));
    let export = ok(pacta(dir.path()).arg("export"));
    assert!(export.lines().count() > 100);
    let out = pacta(dir.path()).arg("rebuild").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("views.damaged-"), "{}", stderr(&out));
    assert_eq!(
        ok(pacta(dir.path()).args(["list", "--format", "json"])),
        before
    );
    let tokens = ok(pacta(dir.path()).args(["token", "list", "--format", "json"]));
    assert!(tokens.contains("\"desk\""), "{tokens}");
    assert!(token.starts_with("pacta_"));
}
