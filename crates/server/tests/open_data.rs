//! Open data over HTTP: `Accept: text/csv` on the listing and on the log
//! pages, read back with a real CSV reader and checked row by row against
//! the JSON answer to the same request, and the CSVW metadata describing
//! exactly the columns the CSV has.

mod common;

use axum::http::StatusCode;
use common::{call, get, seeded};
use pacta_registry::Role;
use pacta_server::AppState;
use serde_json::{Value, json};

/// The names of a table's columns as its CSVW metadata gives them.
async fn metadata_columns(state: &AppState, table: &str) -> Vec<String> {
    let m = get(
        state,
        &format!("/api/v1/{table}.csv-metadata.json"),
        "application/json",
    )
    .await;
    assert_eq!(m.content_type(), "application/csvm+json");
    let m = m.json();
    assert_eq!(m["@context"], "http://www.w3.org/ns/csvw");
    assert_eq!(
        m["url"], table,
        "the url resolves to the endpoint beside it"
    );
    m["tableSchema"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert!(
                c["titles"]["cs"].is_string() && c["titles"]["en"].is_string(),
                "{c}"
            );
            assert!(
                c["datatype"].is_string() && c["dc:description"].is_string(),
                "{c}"
            );
            c["name"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// The partnerships in force on 1 March 2022 (the day Orenburg was
/// denounced), and over March 2022: the CSV has the JSON answer's rows,
/// in its order, with its days, ids, parties, status, in force, evidence
/// and instrument.
#[tokio::test]
async fn the_listing_on_a_day_as_csv_is_the_json_listing() {
    let (_dir, state) = seeded();
    for uri in [
        "/api/v1/partnerships?valid_on=2022-03-01",
        "/api/v1/partnerships?valid_on=2022-03-01&evidence=strict",
        "/api/v1/partnerships?valid_on=2011-06-30&party=liberecky-kraj",
        // A month: in force over its days.
        "/api/v1/partnerships?valid_on=2022-03&party=liberecky-kraj",
    ] {
        let json = get(&state, uri, "application/json").await;
        assert!(json.content_type().starts_with("application/json"));
        let json = json.json();
        let items = json["items"].as_array().unwrap().clone();
        let days = &json["days_asked"];
        let answer = get(&state, uri, "text/csv").await;
        assert!(
            answer.text.ends_with("\r\n") && !answer.text.replace("\r\n", "").contains('\n'),
            "CRLF line ends"
        );
        let link = answer.headers["link"].to_str().unwrap();
        assert!(
            link.contains("</api/v1/partnerships.csv-metadata.json>; rel=\"describedby\""),
            "{link}"
        );
        let (header, rows) = answer.csv();
        assert_eq!(header, metadata_columns(&state, "partnerships").await);
        assert_eq!(rows.len(), items.len(), "{uri}");
        assert!(!rows.is_empty(), "{uri}");
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
        for (row, item) in rows.iter().zip(&items) {
            for (column, value) in [
                ("id", &item["id"]),
                ("home_id", &item["home"]["id"]),
                ("home_name", &item["home"]["name"]),
                ("partner_id", &item["partner"]["id"]),
                ("partner_name", &item["partner"]["name"]),
                ("status", &item["status"]),
                ("in_force", &item["in_force"]),
                ("in_force_over", &item["in_force_over"]),
                ("evidence", &item["evidence"]),
                ("instrument", &item["instrument"]),
            ] {
                assert_eq!(row[col(column)], text(value), "{uri}: {column} of {item}");
            }
            assert_eq!(row[col("valid_from")], days["from"]);
            assert_eq!(row[col("valid_to")], days["to"]);
        }
    }
    // What the JSON answer of one partnership says of its dates.
    let (header, rows) = get(
        &state,
        "/api/v1/partnerships?valid_on=2022-03-01&party=liberecky-kraj",
        "text/csv",
    )
    .await
    .csv();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let more = rows
        .iter()
        .find(|r| &r[col("id")] == "liberecky-kraj--more-og-romsdal")
        .unwrap();
    assert_eq!(&more[col("partner_country")], "NO");
    assert_eq!(&more[col("signed")], "2001-11-28");
    assert_eq!(&more[col("terminated")], "[2001-11-28..]");
    assert_eq!(&more[col("in_force")], "uncertain");
}

#[tokio::test]
async fn accept_chooses_csv_only_when_asked_for() {
    let (_dir, state) = seeded();
    let uri = "/api/v1/partnerships?valid_on=2022-03-01";
    for (accept, csv) in [
        ("text/csv", true),
        ("text/csv; charset=utf-8", true),
        ("application/json;q=0.5, text/csv", true),
        ("text/csv, application/json", true),
        ("application/json, text/csv", false),
        ("text/csv;q=0", false),
        ("text/csv;q=0.2, application/json", false),
        ("*/*", false),
        ("text/html", false),
        ("application/xml", false),
        ("", false),
    ] {
        let a = get(&state, uri, accept).await;
        let ct = a.content_type();
        if csv {
            assert!(ct.starts_with("text/csv"), "{accept:?}: {ct}");
        } else {
            assert!(ct.starts_with("application/json"), "{accept:?}: {ct}");
        }
        assert_eq!(a.headers["vary"], "accept");
    }
}

/// A page of the log as CSV has the JSON page's records, field for field,
/// and names the next page; a note with a comma, quotes and a line break
/// comes back from the CSV exactly as written.
#[tokio::test]
async fn the_log_pages_as_csv() {
    let (_dir, state) = seeded();
    let columns = metadata_columns(&state, "events").await;
    let uri = "/api/v1/events?after=100&limit=50";
    let json = get(&state, uri, "application/json").await.json();
    let items = json["items"].as_array().unwrap();
    let answer = get(&state, uri, "text/csv").await;
    assert!(
        answer
            .headers
            .get_all("link")
            .iter()
            .any(|l| l == "</api/v1/events?after=150&limit=50>; rel=\"next\""),
        "{:?}",
        answer.headers
    );
    let (header, rows) = answer.csv();
    assert_eq!(header, columns);
    assert_eq!(rows.len(), 50);
    assert_eq!(rows.len(), items.len());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    };
    for (row, item) in rows.iter().zip(items) {
        for (column, value) in [
            ("position", &item["position"]),
            ("event_id", &item["event_id"]),
            ("stream", &item["stream"]),
            ("type", &item["type"]),
            ("date", &item["date"]),
            ("recorded_at", &item["recorded_at"]),
            ("recorded_by", &item["recorded_by"]),
            ("source_title", &item["source"]["title"]),
            ("source_reference", &item["source"]["reference"]),
            ("source_locator", &item["source"]["locator"]),
            ("note", &item["note"]),
            ("hash", &item["hash"]),
        ] {
            assert_eq!(row[col(column)], text(value), "{column} of {item}");
        }
        let data: Value = serde_json::from_str(&row[col("data")]).unwrap();
        assert_eq!(data, item["data"]);
    }

    let slug = |s: &str| pacta_domain::Slug::parse(s).unwrap();
    let admin = state.tokens.add(&slug("root"), Role::Admin, None).unwrap();
    let note = "Visit, \"with quotes\",\r\nand a second line; ends with a comma,";
    let posted = call(
        &state,
        "POST",
        "/api/v1/partnerships/liberecky-kraj--bursa/events",
        "application/json",
        Some((
            &admin,
            json!({"type": "ActivityRecorded", "date": "2026-10-02",
                   "data": {"kind": "visit"},
                   "source": {"title": "Press release, \"Bursa\"", "locator": "para. 2, line 3"},
                   "note": note}),
        )),
    )
    .await;
    assert_eq!(posted.status, StatusCode::CREATED, "{}", posted.text);
    let position = posted.json()["events"][0]["position"].as_u64().unwrap();
    let (header, rows) = get(
        &state,
        &format!("/api/v1/events?after={}", position - 1),
        "text/csv",
    )
    .await
    .csv();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][col("note")], note);
    assert_eq!(&rows[0][col("source_title")], "Press release, \"Bursa\"");
    assert_eq!(&rows[0][col("source_locator")], "para. 2, line 3");
    assert_eq!(&rows[0][col("position")], position.to_string().as_str());
}
