//! Damage to the bytes sled keeps on disk: bytes flipped in the log's data
//! file, a damaged snapshot, a views database sled cannot open. `verify`
//! names the first damaged position and goes on to report the extent; a
//! damaged tail opens the store refusing writes; the views database never
//! stands between the log and its readers.

use std::path::Path;

use pacta_domain::event::ActivityRecorded;
use pacta_domain::{ActivityKind, Event, Payload};
use pacta_store::kv::WriteSet;
use pacta_store::{Append, Error, NewEvent, Store};

mod common;

use common::{event_id, stream};

/// The note of the record at `position`: a marker found in the data
/// file wherever sled wrote the record (padded so that the log spans
/// many of sled's 512 KiB segments).
fn marker(position: u64) -> String {
    format!("record-{position:06}-{}", "x".repeat(400))
}

fn event(position: u64) -> Event {
    Event {
        payload: Payload::ActivityRecorded(ActivityRecorded {
            kind: ActivityKind::Letter,
            outcome: None,
            place: None,
            participants: vec![],
            areas: vec![],
        }),
        date: Some("2010-05-17".parse().unwrap()),
        source: None,
        note: Some(marker(position)),
    }
}

/// A closed store of `n` records, one per append.
fn fill(dir: &Path, n: u64) {
    let store = Store::open(dir).unwrap();
    let appends = (1..=n)
        .map(|p| Append {
            stream: stream((p % 50) as u32),
            expected_version: None,
            events: vec![NewEvent {
                event_id: event_id(p),
                event: event(p),
                recorded_by: "test".into(),
            }],
        })
        .collect();
    for r in store.append_many_blocking(appends) {
        r.unwrap();
    }
    assert_eq!(store.head().position, n);
}

fn data_file(dir: &Path) -> std::path::PathBuf {
    dir.join("log").join("db")
}

/// Flips one bit of every copy sled wrote of the record at `position`
/// (its live page among them); returns how many it found.
fn flip_record(dir: &Path, position: u64) -> usize {
    let path = data_file(dir);
    let mut bytes = std::fs::read(&path).unwrap();
    let needle = format!("record-{position:06}-");
    let at: Vec<usize> = bytes
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle.as_bytes())
        .map(|(i, _)| i)
        .collect();
    for &i in &at {
        bytes[i + needle.len() + 10] ^= 0x01;
    }
    std::fs::write(&path, bytes).unwrap();
    at.len()
}

fn flip_byte(dir: &Path, offset: usize) {
    let path = data_file(dir);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offset] ^= 0xaa;
    std::fs::write(&path, bytes).unwrap();
}

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

const RECORDS: u64 = 3000;

/// The records of an old stretch of the log are damaged on disk: sled
/// cannot read their page. `verify` names the first of them, reads on
/// past them to the head, and accounts for every position.
#[test]
fn verify_names_the_first_unreadable_position_and_goes_on() {
    let base = tempfile::tempdir().unwrap();
    fill(base.path(), RECORDS);
    // Whether sled opens over a damaged page depends on where its last
    // snapshot ended (refusing is `bytes_flipped_anywhere_are_reported_or_refused`'s
    // case): two old records it opens over are checked.
    let mut checked = 0;
    for target in [100, 1200, 300, 700, 1500, 2000, 500, 900] {
        if checked == 2 {
            break;
        }
        let dir = tempfile::tempdir().unwrap();
        copy_dir(base.path(), dir.path());
        assert!(flip_record(dir.path(), target) > 0);
        let store = match Store::open(dir.path()) {
            Ok(store) => store,
            Err(Error::Open { .. }) => continue,
            Err(e) => panic!("{e}"),
        };
        checked += 1;
        let report = store.verify(&mut |_, _| {}).unwrap();
        assert!(!report.ok, "{report:?}");
        let first = report.first_bad_position.unwrap();
        assert!(first <= target, "{report:?}");
        assert!(
            report
                .unreadable
                .iter()
                .any(|&(a, b)| a <= target && target <= b),
            "{report:?}"
        );
        assert!(
            report
                .reason
                .as_deref()
                .unwrap()
                .contains(&format!("position {first}"))
        );
        // It went on to the head, and every position is accounted for.
        assert_eq!(report.last_readable_position, RECORDS, "{report:?}");
        assert_eq!(report.checked + report.unreadable_count, RECORDS);
        assert_eq!(report.intact_to, first - 1);
        // The readable records read; the damaged one is named.
        let mut missing = Vec::new();
        let mut read = 0;
        for (position, record) in store.read_past_damage(0) {
            match record {
                Ok(r) => {
                    assert_eq!(r.envelope.position, position);
                    read += 1;
                }
                Err(Error::Corrupt { position: p, .. }) => missing.push(p),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(read, report.checked);
        assert!(missing.contains(&target));
        assert_eq!(missing.len() as u64, report.unreadable_count);
    }
    assert_eq!(
        checked, 2,
        "sled refused to open over nearly every damaged record"
    );
}

/// One byte flipped at each of several offsets of the data file. What
/// follows depends on what sled kept there: a stale copy of a page
/// (nothing happens), a live page (`verify` names the positions it
/// covers and goes on), or the part of the data file sled reads when it
/// opens (it refuses to open). Whatever happens, no report stops short
/// or leaves a position unaccounted for.
#[test]
fn bytes_flipped_anywhere_are_reported_or_refused() {
    let base = tempfile::tempdir().unwrap();
    fill(base.path(), RECORDS);
    let bytes = std::fs::read(data_file(base.path())).unwrap();
    let len = bytes.len();
    // Seven offsets spread blindly over the file, then (should every one
    // of them land on stale copies, which depends on how sled's flusher
    // happened to lay the file out) the newest copy of a few records,
    // until one lands on a live page, so the test never passes vacuously.
    let blind = (1..8).map(|eighth| (len / 8 * eighth + 333, true));
    let newest = [1500u64, 700, 2300, 100, 2900, 1100].map(|position| {
        let needle = format!("record-{position:06}-");
        let at = bytes
            .windows(needle.len())
            .rposition(|w| w == needle.as_bytes())
            .unwrap();
        (at + needle.len() + 10, false)
    });
    let mut named = 0;
    for (offset, always) in blind.chain(newest) {
        if !always && named > 0 {
            break;
        }
        let dir = tempfile::tempdir().unwrap();
        copy_dir(base.path(), dir.path());
        flip_byte(dir.path(), offset);
        let outcome = match Store::open(dir.path()) {
            Err(e) => format!("sled refuses to open: {e}"),
            Ok(store) => {
                let r = store.verify(&mut |_, _| {}).unwrap();
                assert_eq!(r.checked + r.unreadable_count, RECORDS, "{r:?}");
                if r.ok {
                    "a stale copy: verify ok".to_owned()
                } else {
                    named += 1;
                    assert_eq!(r.last_readable_position, RECORDS, "{r:?}");
                    format!(
                        "verify names position {} ({} unreadable in {:?}), health {:?}",
                        r.first_bad_position.unwrap(),
                        r.unreadable_count,
                        r.unreadable,
                        store.health().err().map(|e| e.to_string())
                    )
                }
            }
        };
        eprintln!("offset {offset} of {len}: {outcome}");
    }
    assert!(named > 0, "no flip hit a live page");
}

/// Damage among the last records opens the store refusing writes
/// ([`Error::Damaged`] names the position); what can be read still is.
#[test]
fn a_damaged_tail_opens_the_store_refusing_writes() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 200);
    {
        let store = Store::open(dir.path()).unwrap();
        store.health().unwrap();
        // An insider rewrites a note of a record near the head.
        store
            .tamper_for_tests(190, |bytes| {
                let at = bytes.len() - 20;
                bytes[at] ^= 0x01;
            })
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    match store.health() {
        Err(Error::Damaged { position: 190, .. }) => {}
        other => panic!("{other:?}"),
    }
    let err = store.health().unwrap_err().to_string();
    assert!(err.contains("position 190"), "{err}");
    let refused = store
        .append_blocking(Append {
            stream: stream(1),
            expected_version: None,
            events: vec![NewEvent {
                event_id: event_id(10_000),
                event: event(10_000),
                recorded_by: "test".into(),
            }],
        })
        .unwrap_err();
    assert!(
        matches!(refused, Error::Damaged { position: 190, .. }),
        "{refused}"
    );
    assert_eq!(store.head().position, 200);
    assert!(store.get(189).unwrap().is_some());
    assert_eq!(store.stream(&stream(7)).unwrap().len(), 4);
}

/// Bytes flipped in the live page of a record near the head, on disk:
/// the store opens damaged. (Which copies sled still reads when it opens
/// depends on its segments, so the test looks for a record whose damage
/// sled opens over.)
#[test]
fn bytes_flipped_near_the_head_open_the_store_damaged() {
    let base = tempfile::tempdir().unwrap();
    fill(base.path(), RECORDS);
    let mut seen = Vec::new();
    for back in (100..=900).step_by(100) {
        let target = RECORDS - back;
        let dir = tempfile::tempdir().unwrap();
        copy_dir(base.path(), dir.path());
        flip_record(dir.path(), target);
        match Store::open(dir.path()) {
            Err(e) => seen.push(format!("{target}: {e}")),
            Ok(store) => match store.health() {
                Err(Error::Damaged { position, .. }) => {
                    assert!(position <= target && position > RECORDS - 1000);
                    return;
                }
                other => seen.push(format!("{target}: {other:?}")),
            },
        }
    }
    panic!("no damage near the head opened damaged: {seen:#?}");
}

/// A snapshot whose bytes do not check out is set aside; sled reads the
/// data file instead and the log is whole.
#[test]
fn a_damaged_snapshot_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 500);
    let log = dir.path().join("log");
    let snapshot = std::fs::read_dir(&log)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("snap.")
        })
        .expect("sled wrote a snapshot");
    let mut bytes = std::fs::read(&snapshot).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(&snapshot, bytes).unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.health().unwrap();
    assert_eq!(store.head().position, 500);
    assert!(store.verify(&mut |_, _| {}).unwrap().ok);
    assert!(
        log.join(format!(
            "damaged-{}",
            snapshot.file_name().unwrap().to_string_lossy()
        ))
        .exists()
    );
}

/// A views database replaced with garbage: the log reads and verifies
/// without it, it is set aside for a new one, and the tokens (kept
/// apart) are all there.
#[test]
fn a_views_database_sled_cannot_open_is_set_aside_and_tokens_survive() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 50);
    {
        let store = Store::open(dir.path()).unwrap();
        let mut w = WriteSet::new();
        w.put("n/desk", "a token's record");
        let tokens = store.tokens_keyspace().unwrap();
        tokens.write(&w).unwrap();
        tokens.flush().unwrap();
        let view = store.keyspace("parties").unwrap();
        view.commit(&w, 50).unwrap();
        view.flush().unwrap();
    }
    let views = dir.path().join("views");
    for entry in std::fs::read_dir(&views).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::write(&path, vec![0x5a; 4096]).unwrap();
        }
    }
    let store = Store::open(dir.path()).unwrap();
    assert!(store.verify(&mut |_, _| {}).unwrap().ok);
    assert_eq!(store.read_from(0).count(), 50);
    assert!(store.keyspace("parties").is_err());
    let aside = store.set_aside_damaged_views().unwrap().expect("set aside");
    assert!(aside.exists() && !views.exists());
    let view = store.keyspace("parties").unwrap();
    assert!(views.exists());
    assert_eq!(view.read().iter().count(), 0);
    let tokens = store.tokens_keyspace().unwrap();
    assert_eq!(tokens.get(b"n/desk").unwrap().unwrap(), b"a token's record");
    // Nothing more to set aside.
    assert!(store.set_aside_damaged_views().unwrap().is_none());
}

/// Tokens an older Pacta kept in the views database (keyspace `tokens`
/// there) move to their own database on first use, once.
#[test]
fn tokens_move_out_of_the_views_database_once() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let old = store.keyspace("tokens").unwrap();
        let mut w = WriteSet::new();
        w.put("n/desk", "record");
        w.put("h/abc", "desk");
        old.write(&w).unwrap();
        old.flush().unwrap();
    }
    {
        let store = Store::open(dir.path()).unwrap();
        let tokens = store.tokens_keyspace().unwrap();
        assert_eq!(tokens.scan_prefix(b"").unwrap().len(), 2);
        assert_eq!(
            store
                .keyspace("tokens")
                .unwrap()
                .scan_prefix(b"")
                .unwrap()
                .len(),
            0
        );
        let mut w = WriteSet::new();
        w.put("n/desk", "revoked");
        tokens.write(&w).unwrap();
        tokens.flush().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let tokens = store.tokens_keyspace().unwrap();
    assert_eq!(tokens.get(b"n/desk").unwrap().unwrap(), b"revoked");
    assert_eq!(tokens.get(b"h/abc").unwrap().unwrap(), b"desk");
}
