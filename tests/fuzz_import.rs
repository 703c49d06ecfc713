//! Fuzzing the importer of exports (`pacta import FILE` of what `pacta
//! export` wrote): damaged files never break the chain.
//!
//! Each case takes a valid export of the bundled registry, damages it
//! (flipped bits, truncation, a line dropped, repeated, moved or taken
//! from elsewhere, a field of a record changed to another well-formed
//! value) and imports it into an empty store. The property: the import
//! either fails and leaves the store empty, or succeeds and what it
//! stored is a prefix of the original log, record for record, and
//! verifies. No case panics.
//!
//! Most cases drive the importer's two halves in this process, as
//! `pacta import` does (each line parsed as a record, then the store's
//! `import_blocking`, which checks the chain); a few run the real binary
//! on the damaged file. Cases: `PROPTEST_CASES`, or the defaults below.

mod common;

use std::sync::OnceLock;

use pacta_domain::Recorded;
use pacta_registry::{Actor, Registry};
use pacta_store::Store;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value;

use common::pacta;

/// `PROPTEST_CASES` when set, else `default`.
fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        // Each shrink step imports again; a failing case still reports in
        // under a minute.
        max_shrink_iters: 256,
        ..Config::default()
    }
}

/// The export of a store holding the bundled registry: its records, and
/// its lines exactly as `pacta export` writes them.
struct Export {
    records: Vec<Recorded>,
    lines: Vec<String>,
}

fn export() -> &'static Export {
    static EXPORT: OnceLock<Export> = OnceLock::new();
    EXPORT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open(dir.path()).unwrap();
        registry
            .load_seeds(
                &pacta_registry::seeds::bundled(),
                &Actor::system("seed"),
                false,
            )
            .unwrap();
        let records: Vec<Recorded> = registry
            .store()
            .read_from(0)
            .collect::<Result<_, _>>()
            .unwrap();
        let lines = records
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        Export { records, lines }
    })
}

/// One way of damaging an export, at indexes that wrap around.
#[derive(Clone, Debug)]
enum Damage {
    /// XORs a byte of a line with a mask.
    FlipBits {
        line: usize,
        at: usize,
        mask: u8,
    },
    /// Cuts the file at a byte.
    Truncate {
        at: usize,
    },
    /// Cuts one line at a byte, the lines after it kept.
    TruncateLine {
        line: usize,
        at: usize,
    },
    DropLine(usize),
    RepeatLine(usize),
    SwapLines(usize, usize),
    /// Replaces a line with another line of the export.
    CopyLine {
        from: usize,
        to: usize,
    },
    /// Sets a field of one record to another well-formed value.
    SetField {
        line: usize,
        field: usize,
        value: Value,
    },
    /// Removes a field of one record.
    RemoveField {
        line: usize,
        field: usize,
    },
    /// Inserts a line of any bytes.
    InsertLine {
        at: usize,
        bytes: Vec<u8>,
    },
    /// Keeps only the first lines: an export taken earlier.
    KeepFirst(usize),
    /// Writes a record with its members in another order and spaces
    /// between them: the same record, other bytes.
    Reformat {
        line: usize,
        rotate: usize,
    },
    /// Writes a record's hashes in upper case: the same digests.
    UppercaseHashes(usize),
}

/// Values that fit some field of a record: positions and versions,
/// hashes, ids, times, dates, names.
fn field_value() -> impl Strategy<Value = Value> {
    let hex64 = "[0-9a-f]{64}";
    prop_oneof![
        (0u64..400).prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        hex64.prop_map(Value::from),
        Just(Value::from("0".repeat(64))),
        "[0-7][0-9A-HJKMNP-TV-Z]{25}".prop_map(Value::from),
        Just(Value::from("partnership/liberecky-kraj--bursa")),
        Just(Value::from("party/liberecky-kraj")),
        "(party|partnership|offer)/[a-z]{1,8}".prop_map(Value::from),
        Just(Value::from("2026-01-01T00:00:00.000000Z")),
        Just(Value::from("2020-12-31T23:59:59.999999Z")),
        Just(Value::from("2022-03-01")),
        Just(Value::from("[..2013]")),
        Just(Value::from("Signed")),
        Just(Value::from("Terminated")),
        Just(Value::from("seed")),
        "[a-z ]{0,12}".prop_map(Value::from),
        Just(Value::Null),
        Just(serde_json::json!({"title": "x"})),
        Just(serde_json::json!({})),
        any::<u32>().prop_map(Value::from),
    ]
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        3 => (any::<usize>(), any::<usize>(), 1u8..=255)
            .prop_map(|(line, at, mask)| Damage::FlipBits { line, at, mask }),
        1 => any::<usize>().prop_map(|at| Damage::Truncate { at }),
        1 => (any::<usize>(), any::<usize>())
            .prop_map(|(line, at)| Damage::TruncateLine { line, at }),
        1 => any::<usize>().prop_map(Damage::DropLine),
        1 => any::<usize>().prop_map(Damage::RepeatLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Damage::SwapLines(a, b)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(from, to)| Damage::CopyLine { from, to }),
        4 => (any::<usize>(), any::<usize>(), field_value())
            .prop_map(|(line, field, value)| Damage::SetField { line, field, value }),
        1 => (any::<usize>(), any::<usize>())
            .prop_map(|(line, field)| Damage::RemoveField { line, field }),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(at, bytes)| Damage::InsertLine { at, bytes }),
        2 => any::<usize>().prop_map(Damage::KeepFirst),
        1 => (any::<usize>(), any::<usize>())
            .prop_map(|(line, rotate)| Damage::Reformat { line, rotate }),
        1 => any::<usize>().prop_map(Damage::UppercaseHashes),
    ]
}

/// The export's lines with damage done; lines are bytes, since a flipped
/// bit need not leave UTF-8.
fn damaged(damage: &[Damage]) -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = export()
        .lines
        .iter()
        .map(|l| l.as_bytes().to_vec())
        .collect();
    for d in damage {
        let n = lines.len();
        if n == 0 {
            break;
        }
        match d {
            Damage::FlipBits { line, at, mask } => {
                let l = &mut lines[line % n];
                if !l.is_empty() {
                    let i = at % l.len();
                    l[i] ^= mask;
                }
            }
            Damage::Truncate { at } => {
                let total: usize = lines.iter().map(|l| l.len() + 1).sum();
                let mut left = at % (total + 1);
                let mut kept = Vec::new();
                for l in lines.drain(..) {
                    if left > l.len() {
                        left -= l.len() + 1;
                        kept.push(l);
                    } else {
                        kept.push(l[..left].to_vec());
                        break;
                    }
                }
                lines = kept;
            }
            Damage::TruncateLine { line, at } => {
                let l = &mut lines[line % n];
                let keep = at % (l.len() + 1);
                l.truncate(keep);
            }
            Damage::DropLine(i) => {
                lines.remove(i % n);
            }
            Damage::RepeatLine(i) => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Damage::SwapLines(a, b) => lines.swap(a % n, b % n),
            Damage::CopyLine { from, to } => lines[to % n] = lines[from % n].clone(),
            Damage::SetField { line, field, value } => {
                edit_record(&mut lines[line % n], |map| {
                    let key = map.keys().nth(field % map.len().max(1)).cloned();
                    if let Some(key) = key {
                        map.insert(key, value.clone());
                    }
                });
            }
            Damage::RemoveField { line, field } => {
                edit_record(&mut lines[line % n], |map| {
                    let key = map.keys().nth(field % map.len().max(1)).cloned();
                    if let Some(key) = key {
                        map.remove(&key);
                    }
                });
            }
            Damage::InsertLine { at, bytes } => {
                lines.insert(at % (n + 1), bytes.clone());
            }
            Damage::KeepFirst(k) => lines.truncate(k % (n + 1)),
            Damage::Reformat { line, rotate } => {
                let l = &mut lines[line % n];
                if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(l) {
                    let mut members: Vec<(String, Value)> = map.into_iter().collect();
                    let len = members.len().max(1);
                    members.rotate_left(rotate % len);
                    let text: Vec<String> = members
                        .iter()
                        .map(|(k, v)| format!("{} : {v}", Value::from(k.as_str())))
                        .collect();
                    *l = format!("{{ {} }}", text.join(" ,\t")).into_bytes();
                }
            }
            Damage::UppercaseHashes(line) => {
                edit_record(&mut lines[line % n], |map| {
                    for key in ["hash", "prev_hash"] {
                        if let Some(Value::String(h)) = map.get_mut(key) {
                            *h = h.to_ascii_uppercase();
                        }
                    }
                });
            }
        }
    }
    lines
}

/// Edits a line that is a JSON object, keeping its member order.
fn edit_record(line: &mut Vec<u8>, f: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    if let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(line) {
        f(&mut map);
        *line = serde_json::to_vec(&Value::Object(map)).unwrap();
    }
}

/// What importing a file did.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Refused; the store holds nothing.
    Refused,
    /// Imported this many records.
    Imported(u64),
}

/// Imports the lines as `pacta import` does: every non-blank line must be
/// a record (or nothing is written), then the store checks the chain and
/// writes all or nothing. Then checks the property.
fn import_in_process(lines: &[Vec<u8>]) -> Outcome {
    let mut records = Vec::new();
    for line in lines {
        // `pacta import` reads lines as UTF-8 and refuses a file that is not.
        let Ok(text) = std::str::from_utf8(line) else {
            return Outcome::Refused;
        };
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Recorded>(text) {
            Ok(r) => records.push(r),
            Err(_) => return Outcome::Refused,
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let outcome = {
        let store = Store::open(dir.path()).unwrap();
        match store.import_blocking(records) {
            Ok(head) => {
                assert_eq!(head, store.head());
                Outcome::Imported(head.position)
            }
            Err(_) => {
                assert_eq!(store.head().position, 0, "a refused import wrote records");
                Outcome::Refused
            }
        }
    };
    // What is on disk after closing is what the outcome says.
    let store = Store::open(dir.path()).unwrap();
    check_store(&store, &outcome);
    outcome
}

/// The store holds exactly the first records of the original export, as
/// many as the outcome says, and its chain verifies.
#[track_caller]
fn check_store(store: &Store, outcome: &Outcome) {
    let expected = match outcome {
        Outcome::Refused => 0,
        Outcome::Imported(n) => *n,
    };
    assert_eq!(store.head().position, expected);
    let stored: Vec<Recorded> = store.read_from(0).collect::<Result<_, _>>().unwrap();
    let original = &export().records;
    assert!(stored.len() <= original.len(), "more records than exported");
    for (s, o) in stored.iter().zip(original) {
        assert_eq!(
            s, o,
            "record {} differs from the export's",
            o.envelope.position
        );
    }
    let report = store.verify(&mut |_, _| {}).unwrap();
    assert!(report.ok, "{report:?}");
}

fn file_of(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for l in lines {
        bytes.extend_from_slice(l);
        bytes.push(b'\n');
    }
    bytes
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn a_damaged_export_is_refused_or_imports_a_verified_prefix(
        damage in prop::collection::vec(damage(), 1..4),
    ) {
        import_in_process(&damaged(&damage));
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// The same through the real binary: `pacta import` of the damaged
    /// file, then `pacta verify` and `pacta export` of what it left.
    #[test]
    fn pacta_import_of_a_damaged_export_leaves_a_verified_prefix(
        damage in prop::collection::vec(damage(), 1..4),
    ) {
        let lines = damaged(&damage);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("damaged.ndjson");
        std::fs::write(&file, file_of(&lines)).unwrap();
        let data = dir.path().join("data");
        let out = pacta(&data).arg("import").arg(&file).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        prop_assert!(
            !stderr.contains("panicked"),
            "pacta import panicked: {}", stderr
        );
        // Damage can turn the first line into something that is no longer
        // an export; then the file is read as seed data, checked whole and
        // refused. Either way the store holds a prefix of the export (none
        // at all when the import was refused before it made a store).
        let exported = if pacta_store::Store::exists(&data) {
            common::ok(pacta(&data).arg("export"))
        } else {
            prop_assert!(!out.status.success(), "a successful import made no store");
            String::new()
        };
        let stored: Vec<Recorded> = exported
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let original = &export().records;
        prop_assert!(stored.len() <= original.len());
        for (s, o) in stored.iter().zip(original) {
            prop_assert_eq!(s, o);
        }
        if out.status.success() {
            common::ok(pacta(&data).arg("verify"));
        } else {
            prop_assert!(stored.is_empty(), "a failed import left {} records", stored.len());
        }
    }
}

/// The undamaged export imports whole, in process and through the binary.
#[test]
fn the_export_itself_imports_whole() {
    let lines: Vec<Vec<u8>> = export()
        .lines
        .iter()
        .map(|l| l.as_bytes().to_vec())
        .collect();
    let n = export().records.len() as u64;
    assert_eq!(import_in_process(&lines), Outcome::Imported(n));
}
