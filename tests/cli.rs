//! The command line's manners: one-line errors with a non-zero exit, and
//! the token commands' listing.

mod common;

use common::{fails, ok, pacta, stderr};

#[test]
fn bad_arguments_get_one_line_and_exit_2() {
    let data = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["valid-on", "2023-02-29"], "2023-02-29"),
        (&["valid-on"], "<DATE>"),
        (&["valid-on", "--from", "2020"], "--to"),
        (
            &["valid-on", "2022", "--from", "2020", "--to", "2021"],
            "--from",
        ),
        (&["list", "--format", "xml"], "xml"),
        (&["list", "--bogus"], "--bogus"),
        (&["nothing"], "nothing"),
    ];
    for (args, named) in cases {
        let out = fails(pacta(data.path()).args(*args));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line, got:\n{err}");
        assert!(
            err.starts_with("error: ") && err.contains(named),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Dates no partnership fact can have are refused, naming the range.
    ok(pacta(data.path()).arg("init"));
    for (args, named) in [
        (
            &["valid-on", "0011"][..],
            "DATE: 0011 is outside the dates the registry answers for: from 1900-01-01 to",
        ),
        (
            &["report", "annual", "--year", "11"][..],
            "year 11 is outside the years the registry reports on: 1900 to",
        ),
        (
            &["valid-on", "--from", "2022", "--to", "2020"][..],
            "--to 2020 ends before --from 2022 begins",
        ),
        (
            &["valid-on", "[2020..]"][..],
            "DATE: [2020..] is open at an end",
        ),
    ] {
        let out = fails(pacta(data.path()).args(args));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: one line, got:\n{err}");
        assert!(err.contains(named), "{args:?}: {err}");
    }
    // A month, a date-only record time, the old `list --on` spelling.
    let month: serde_json::Value = serde_json::from_str(&ok(pacta(data.path()).args([
        "valid-on",
        "2022-02",
        "--as-known-at",
        "2026-11-28",
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(month["days_asked"]["to"], "2022-02-28", "{month}");
    let old = ok(pacta(data.path()).args(["list", "--on", "2022-03-01", "--format", "json"]));
    let new = ok(pacta(data.path()).args(["list", "--valid-on", "2022-03-01", "--format", "json"]));
    assert_eq!(old, new);
    // Asking for help is no error.
    let help = ok(pacta(data.path()).args(["valid-on", "--help"]));
    assert!(help.contains("--as-known-at"), "{help}");
    assert!(help.contains("end of that day, UTC"), "{help}");
    let help = ok(pacta(data.path()).args(["list", "--help"]));
    assert!(
        !help.contains("--on "),
        "the old spelling is hidden: {help}"
    );
}

#[test]
fn tokens_are_listed_without_their_secrets() {
    let data = tempfile::tempdir().unwrap();
    let token = ok(pacta(data.path()).args([
        "token",
        "add",
        "liberec-desk",
        "--role",
        "clerk",
        "--party",
        "liberecky-kraj",
    ]));
    let token = token.trim();
    assert!(!token.is_empty());
    ok(pacta(data.path()).args(["token", "revoke", "liberec-desk"]));
    let list: serde_json::Value = serde_json::from_str(&ok(
        pacta(data.path()).args(["token", "list", "--format", "json"])
    ))
    .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["name"], "liberec-desk");
    assert_eq!(items[0]["role"], "clerk");
    assert_eq!(items[0]["party"], "liberecky-kraj");
    assert!(items[0]["revoked_at"].is_string(), "{list}");
    assert!(
        !list.to_string().contains(token),
        "the token itself is never shown again"
    );
    let table = ok(pacta(data.path()).args(["token", "list"]));
    assert!(
        table.contains("liberec-desk") && !table.contains(token),
        "{table}"
    );
}

/// A name that several parties answer to (stored before names were kept
/// unique) is refused with the candidates, not resolved to one of them;
/// an id always finds its own party.
#[test]
fn a_name_of_several_parties_lists_the_candidates() {
    use pacta_domain::{Event, EventId, StreamId};
    use pacta_store::{Append, NewEvent, Store};

    let data = tempfile::tempdir().unwrap();
    ok(pacta(data.path()).arg("init"));
    let event: Event = serde_json::from_str(
        r#"{"type":"PartyRegistered","data":{"kind":"town","names":{"native":"Plzeň Region"},"aliases":["liberecky-kraj"],"country":"DE"}}"#,
    )
    .unwrap();
    let store = Store::open(data.path()).unwrap();
    store
        .append_blocking(Append {
            stream: StreamId::parse("party/zzz-old").unwrap(),
            expected_version: Some(0),
            events: vec![NewEvent {
                event_id: EventId::from_bytes(7u128.to_be_bytes()),
                event,
                recorded_by: "old".into(),
            }],
        })
        .unwrap();
    drop(store);

    let out = fails(pacta(data.path()).args(["valid-on", "2007-08-01", "--party", "Plzeň Region"]));
    let err = stderr(&out);
    // (Progress of the projections' catch-up may precede it.)
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ") && last.contains("plzensky-kraj, zzz-old"),
        "{err}"
    );
    assert_eq!(err.matches("error").count(), 1, "one error line:\n{err}");
    let by_id = ok(pacta(data.path()).args([
        "valid-on",
        "2022-02-28",
        "--party",
        "liberecky-kraj",
        "--format",
        "json",
    ]));
    assert!(by_id.contains("liberecky-kraj--"), "{by_id}");
}

/// An event over a bound is refused on import with its file, line and the
/// field's path; nothing is written.
#[test]
fn import_names_the_field_over_its_bound() {
    let data = tempfile::tempdir().unwrap();
    ok(pacta(data.path()).arg("init"));
    let file = data.path().join("long.ndjson");
    let line = serde_json::json!({
        "id": "01KAF4Q6Y0SEED0000000000Z1",
        "stream": "partnership/liberecky-kraj--orenburg-oblast",
        "type": "ActivityRecorded",
        "date": "2021",
        "data": {"kind": "visit", "participants": vec!["x"; 100_000]},
    });
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let out = fails(pacta(data.path()).args(["import", file.to_str().unwrap()]));
    let err = stderr(&out);
    assert!(
        err.lines().any(
            |l| l.ends_with("long.ndjson:1: data.participants: at most 200 items (got 100000)")
        ),
        "{err}"
    );
}

/// `export --derived` gives each record the `derived` object of
/// `/api/v1/events` (the same through a running server as from the
/// store), and `import` sets it aside: the import has the same head.
#[test]
fn an_export_with_derived_facts_imports_to_the_same_head() {
    let dir = tempfile::tempdir().unwrap();
    let (data, copy) = (dir.path().join("data"), dir.path().join("copy"));
    ok(pacta(&data).arg("init"));
    let exported = dir.path().join("derived.ndjson");
    ok(pacta(&data)
        .args(["export", "--derived", "--output"])
        .arg(&exported));
    let text = std::fs::read_to_string(&exported).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 221);
    assert!(lines.iter().all(|l| l["derived"].is_object()));
    assert!(lines.iter().any(|l| l["derived"]["earliest"].is_string()));
    let signed = lines
        .iter()
        .find(|l| l["type"] == "Signed" && l["stream"] == "partnership/liberecky-kraj--bursa")
        .expect("the Bursa agreement");
    assert_eq!(signed["derived"]["home"], "liberecky-kraj");
    assert_eq!(signed["derived"]["partner"], "bursa");

    // Through a running server: the same lines.
    let (mut server, _) = common::serving(pacta(&data).args(["serve", "--listen", "127.0.0.1:0"]));
    let remote = ok(pacta(&data).args(["export", "--derived"]));
    common::stop(&mut server);
    let remote: Vec<serde_json::Value> = remote
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(remote, lines);

    ok(pacta(&copy).arg("import").arg(&exported));
    let head = |data: &std::path::Path| {
        let v: serde_json::Value = serde_json::from_str(&ok(pacta(data).arg("digest"))).unwrap();
        (v["position"].clone(), v["hash"].clone())
    };
    assert_eq!(head(&copy), head(&data));
    // With CSV it is a usage error.
    let out = pacta(&data)
        .args(["export", "--derived", "--format", "csv", "--what", "events"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
