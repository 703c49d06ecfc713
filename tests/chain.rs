//! Export, import, verify and digests through the real binary.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{fails, ok, pacta, stderr};
use pacta_domain::event::ActivityRecorded;
use pacta_domain::{ActivityKind, Event, EventId, Payload, Source, StreamId};
use pacta_store::{Append, NewEvent, Store};

/// A store with `n` events in three streams, with text that needs escaping.
fn sample_store(dir: &std::path::Path, n: u64) {
    sample_store_from(dir, 0, n);
}

/// Like [`sample_store`], with event numbers from `first`.
fn sample_store_from(dir: &std::path::Path, first: u64, n: u64) {
    let store = Store::open(dir).unwrap();
    for i in first..first + n {
        let event = Event {
            payload: Payload::ActivityRecorded(ActivityRecorded {
                kind: ActivityKind::Letter,
                outcome: None,
                place: Some("Liberec \"Ještěd\"\n\ttab".into()),
                participants: vec!["hejtman".into()],
                areas: vec![],
            }),
            date: Some("2010-05-17".parse().unwrap()),
            source: Some(Source {
                title: "Uzavřená dohoda".into(),
                url: None,
                reference: Some("001_3457ff16fb4a1bf4.txt".into()),
                locator: None,
                date: Some("[2022-03-01..]".parse().unwrap()),
            }),
            note: Some(format!("letter {i} \u{1}")),
        };
        store
            .append_blocking(Append {
                stream: StreamId::parse(&format!("partnership/s{}", i % 3)).unwrap(),
                expected_version: None,
                events: vec![NewEvent {
                    event_id: EventId::from_bytes((u128::from(i) + 7).to_be_bytes()),
                    event,
                    recorded_by: "test".into(),
                }],
            })
            .unwrap();
    }
}

fn digest_of(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&ok(pacta(dir).arg("digest"))).unwrap()
}

#[test]
fn export_then_import_reproduces_the_head_hash() {
    let a = tempfile::tempdir().unwrap();
    sample_store(a.path(), 40);
    let export = ok(pacta(a.path()).arg("export"));
    assert_eq!(export.lines().count(), 40);
    let file = a.path().join("export.ndjson");
    std::fs::write(&file, &export).unwrap();

    let b = tempfile::tempdir().unwrap();
    let out = pacta(b.path()).arg("import").arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(digest_of(a.path())["hash"], digest_of(b.path())["hash"]);
    assert_eq!(digest_of(b.path())["position"], 40);
    ok(pacta(b.path()).arg("verify"));

    // Importing the same export again adds nothing.
    ok(pacta(b.path()).arg("import").arg(&file));
    assert_eq!(digest_of(b.path())["position"], 40);
}

#[test]
fn an_altered_export_is_refused_and_writes_nothing() {
    let a = tempfile::tempdir().unwrap();
    sample_store(a.path(), 10);
    let export = ok(pacta(a.path()).arg("export")).replace("letter 4 ", "letter 9 ");
    let file = a.path().join("export.ndjson");
    std::fs::write(&file, export).unwrap();
    let b = tempfile::tempdir().unwrap();
    let out = fails(pacta(b.path()).arg("import").arg(&file));
    assert!(stderr(&out).contains("position 5"), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).lines().count(),
        1,
        "one line: {}",
        stderr(&out)
    );
    assert_eq!(digest_of(b.path())["position"], 0);
}

#[test]
fn the_documented_python_check_verifies_an_export() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/hash-chain.md"))
        .unwrap();
    let script = doc
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/hash-chain.md has a python block");
    let a = tempfile::tempdir().unwrap();
    sample_store(a.path(), 12);
    let export = ok(pacta(a.path()).arg("export"));
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(export.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["head_hash"], digest_of(a.path())["hash"]);

    // The script also catches a rewritten record.
    let altered = export.replacen("letter 3 ", "letter 8 ", 1);
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(altered.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("position 4"));
}

/// Rewrites the note of the record at `position` with a valid storage
/// write, as an insider could.
fn tamper(dir: &std::path::Path, position: u64) {
    let store = Store::open(dir).unwrap();
    store
        .tamper_for_tests(position, |bytes| {
            let text = String::from_utf8(bytes[64..].to_vec()).unwrap();
            let new_text = text.replacen("letter", "LETTER", 1);
            assert_ne!(text, new_text);
            bytes.truncate(64);
            bytes.extend_from_slice(new_text.as_bytes());
        })
        .unwrap();
}

#[test]
fn verify_names_the_rewritten_position() {
    let a = tempfile::tempdir().unwrap();
    sample_store(a.path(), 30);
    let report: serde_json::Value =
        serde_json::from_str(&ok(pacta(a.path()).arg("verify"))).unwrap();
    assert_eq!(report["ok"], true);
    tamper(a.path(), 17);
    let out = fails(pacta(a.path()).arg("verify"));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_bad_position"], 17);
    assert!(
        stderr(&out).contains("verification failed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_digest_is_extended_by_later_appends_and_broken_by_rewrites() {
    let a = tempfile::tempdir().unwrap();
    sample_store(a.path(), 20);
    let digest = ok(pacta(a.path()).arg("digest"));
    let file = a.path().join("digest.json");
    std::fs::write(&file, &digest).unwrap();
    // Later appends extend the log: the digest still verifies.
    sample_store_from(a.path(), 20, 5);
    let check: serde_json::Value = serde_json::from_str(&ok(pacta(a.path())
        .arg("verify")
        .arg("--digest")
        .arg(&file)))
    .unwrap();
    assert_eq!(check["ok"], true);
    assert_eq!(check["chain"]["head_position"], 25);
    // A rewrite before the digest's position is found and named.
    tamper(a.path(), 9);
    let out = fails(pacta(a.path()).arg("verify").arg("--digest").arg(&file));
    let check: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(check["ok"], false);
    assert_eq!(check["chain"]["first_bad_position"], 9);
}

#[test]
fn commands_fail_at_once_while_another_process_holds_the_store() {
    let a = tempfile::tempdir().unwrap();
    let _held = Store::open(a.path()).unwrap();
    let out = fails(pacta(a.path()).arg("digest"));
    let err = stderr(&out);
    assert!(err.contains("in use by another process"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
