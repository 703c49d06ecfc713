//! Open data from the command line: `pacta export --format csv` read back
//! with a real CSV reader and checked against the JSON and NDJSON the
//! other commands print, its CSVW metadata beside it, and `pacta export`
//! alone still the NDJSON log that `import` reads.

mod common;

use common::{fails, ok, pacta};

fn read(text: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    (header, reader.records().map(Result::unwrap).collect())
}

fn metadata_names(path: &std::path::Path) -> Vec<String> {
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(m["@context"], "http://www.w3.org/ns/csvw");
    m["tableSchema"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn partnerships_on_a_day_and_the_log_as_csv() {
    let data = tempfile::tempdir().unwrap();
    ok(pacta(data.path()).arg("init"));
    let out = data.path().join("partnerships-2022-03-01.csv");
    ok(pacta(data.path())
        .args(["export", "--format", "csv", "--what", "partnerships"])
        .args(["--valid-on", "2022-03-01", "--out", out.to_str().unwrap()]));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("\r\n"), "CRLF line ends");
    let (header, rows) = read(&text);
    let meta = data
        .path()
        .join("partnerships-2022-03-01.csv-metadata.json");
    assert_eq!(header, metadata_names(&meta), "the metadata beside it");
    let json: serde_json::Value = serde_json::from_str(&ok(pacta(data.path()).args([
        "valid-on",
        "2022-03-01",
        "--format",
        "json",
    ])))
    .unwrap();
    let items = json["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert_eq!(rows.len(), items.len());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (row, item) in rows.iter().zip(items) {
        assert_eq!(row[col("id")], item["id"]);
        assert_eq!(row[col("in_force")], item["in_force"]);
        assert_eq!(row[col("status")], item["status"]);
        assert_eq!(row[col("valid_from")], *"2022-03-01");
        assert_eq!(row[col("valid_to")], *"2022-03-01");
        assert_eq!(row[col("in_force_over")], item["in_force_over"]);
    }
    assert!(
        rows.iter()
            .all(|r| &r[col("id")] != "liberecky-kraj--orenburg-oblast"),
        "denounced that day"
    );

    // The log: the same records, in order, as the NDJSON export.
    let ndjson = ok(pacta(data.path()).arg("export"));
    let records: Vec<serde_json::Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        records[0]["prev_hash"].is_string(),
        "export alone is the log"
    );
    let meta = data.path().join("events.json");
    let csv = ok(pacta(data.path()).args([
        "export",
        "--format",
        "csv",
        "--what",
        "events",
        "--metadata",
        meta.to_str().unwrap(),
    ]));
    let (header, rows) = read(&csv);
    assert_eq!(header, metadata_names(&meta));
    assert_eq!(rows.len(), records.len());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(row[col("position")], record["position"].to_string());
        assert_eq!(row[col("hash")], record["hash"]);
        assert_eq!(row[col("type")], record["type"]);
        assert_eq!(
            row[col("note")],
            *record["note"].as_str().unwrap_or_default()
        );
    }

    // A month: the same rows as the listing over it.
    let month = ok(pacta(data.path()).args([
        "export",
        "--format",
        "csv",
        "--what",
        "partnerships",
        "--valid-on",
        "2022-03",
    ]));
    let (header, rows) = read(&month);
    let json: serde_json::Value = serde_json::from_str(&ok(
        pacta(data.path()).args(["valid-on", "2022-03", "--format", "json"])
    ))
    .unwrap();
    let items = json["items"].as_array().unwrap();
    assert_eq!(rows.len(), items.len());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (row, item) in rows.iter().zip(items) {
        assert_eq!(row[col("id")], item["id"]);
        assert_eq!(row[col("in_force_over")], item["in_force_over"]);
        assert_eq!(
            (&row[col("valid_from")], &row[col("valid_to")]),
            ("2022-03-01", "2022-03-31")
        );
    }

    // Flags that go with CSV only are refused without it.
    for args in [
        &["export", "--what", "events"][..],
        &["export", "--format", "csv"],
        &[
            "export",
            "--format",
            "csv",
            "--what",
            "events",
            "--valid-on",
            "2022-03-01",
        ],
    ] {
        let out = fails(pacta(data.path()).args(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
