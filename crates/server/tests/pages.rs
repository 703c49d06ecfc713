//! The web pages: status, language, filters, the same answer as the API,
//! and recorded text escaped.

mod common;

use axum::http::StatusCode;
use common::{ask, call, get, seeded};
use serde_json::json;

/// `(id, in force)` of every partnership row of a page, in order.
fn rows(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<tr data-partnership=\"") {
        rest = &rest[at + 22..];
        let id = &rest[..rest.find('"').unwrap()];
        let f = rest.find("data-in-force=\"").unwrap() + 15;
        let in_force = &rest[f..f + rest[f..].find('"').unwrap()];
        out.push((id.to_owned(), in_force.to_owned()));
    }
    out
}

#[tokio::test]
async fn the_home_page_lists_what_the_api_answers() {
    let (_dir, state) = seeded();
    for (page, api) in [
        ("on=2022-02-28", "valid_on=2022-02-28"),
        ("on=2022-03-01", "valid_on=2022-03-01"),
        ("on=2022-03", "valid_on=2022-03"),
        (
            "on=2022-03-01&in_force=all",
            "valid_on=2022-03-01&in_force=all",
        ),
        (
            "on=2022-03-01&in_force=no",
            "valid_on=2022-03-01&in_force=no",
        ),
        (
            "on=2013-04-01&party=ustecky-kraj",
            "valid_on=2013-04-01&party=ustecky-kraj",
        ),
        (
            "on=2015-01-01&status=stagnating",
            "valid_on=2015-01-01&status=stagnating",
        ),
    ] {
        let html = get(&state, &format!("/?{page}"), "text/html").await;
        assert!(html.content_type().starts_with("text/html"));
        let listed = rows(&html.text);
        assert!(!listed.is_empty(), "{page}");
        assert_eq!(listed, common::api_in_force(&state, api).await, "{page}");
    }
    // Orenburg: in force on 28 February 2022, not on 1 March.
    let before = rows(&get(&state, "/?on=2022-02-28", "text/html").await.text);
    assert!(before.contains(&("liberecky-kraj--orenburg-oblast".into(), "yes".into())));
    let after = rows(&get(&state, "/?on=2022-03-01", "text/html").await.text);
    assert!(
        !after
            .iter()
            .any(|(id, _)| id == "liberecky-kraj--orenburg-oblast")
    );
}

#[tokio::test]
async fn search_and_filters_narrow_the_list() {
    let (_dir, state) = seeded();
    let ids = |html: &str| rows(html).into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    // Without diacritics, any case.
    let plzen = ids(&get(&state, "/?on=2022-02-28&q=PLZEN", "text/html")
        .await
        .text);
    assert_eq!(plzen.len(), 11, "{plzen:?}");
    assert!(plzen.iter().all(|id| id.starts_with("plzensky-kraj--")));
    let orenburg = ids(&get(&state, "/?on=2022-02-28&q=orenburg", "text/html")
        .await
        .text);
    assert_eq!(orenburg, ["liberecky-kraj--orenburg-oblast"]);
    let de = ids(&get(&state, "/?on=2022-02-28&country=DE", "text/html")
        .await
        .text);
    assert!(
        de.len() >= 3
            && de.iter().all(|id| id.contains("palatinate")
                || id.contains("bavaria")
                || id.contains("saxony")),
        "{de:?}"
    );
    // An untouched form sends empty fields: they mean nothing.
    let all = get(
        &state,
        "/?on=2022-02-28&q=&party=&country=&status=&in_force=yes_or_uncertain&lang=cs",
        "text/html",
    )
    .await;
    assert_eq!(rows(&all.text).len(), 25);
    // On /offers, every spelling of Čuhujiv finds it.
    for q in ["cuhujiv", "chuguev", "Čuhujiv"] {
        let page = get(
            &state,
            &format!("/offers?q={}", pacta_documents::web::encode(q)),
            "text/html",
        )
        .await;
        assert!(page.text.matches("data-offer=").count() >= 1, "{q}");
        assert!(
            page.text.contains("Čuhujiv") || page.text.contains("Chuhuiv"),
            "{q}"
        );
    }
    // What a town seeks is found the same way.
    let tourism = get(&state, "/offers?q=TOURIS", "text/html").await;
    assert!(tourism.text.matches("data-offer=").count() >= 1);
    assert!(
        tourism.text.contains("touris"),
        "a match names what it seeks"
    );
    let none = get(&state, "/offers?q=atlantis", "text/html").await;
    assert_eq!(none.text.matches("data-offer=").count(), 0);
}

#[tokio::test]
async fn pages_are_czech_unless_english_is_asked_for() {
    let (_dir, state) = seeded();
    let cs = get(&state, "/?on=2022-02-28", "text/html").await;
    cs.has(&[
        "<html lang=\"cs\">",
        "Partnerství ke dni 28. února 2022",
        "platí",
    ]);
    let en = get(&state, "/?on=2022-02-28&lang=en", "text/html").await;
    en.has(&["<html lang=\"en\">", "Partnerships on 28 February 2022"]);
    let cookie = en.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("pacta_lang=en"), "{cookie}");
    // The switch leads to the other language with the same view.
    cs.has(&["href=\"/?on=2022-02-28&amp;lang=en\""]);
    // The footer names how far the chain was verified.
    cs.has(&["data-verified-position="]);
}

#[tokio::test]
async fn a_partnership_page_draws_its_timeline_and_lists_its_events() {
    let (_dir, state) = seeded();
    let page = get(
        &state,
        "/partnerships/liberecky-kraj--ha-tinh?on=2015-01-01",
        "text/html",
    )
    .await;
    // The stagnation dated [2009-04-22..] is drawn as uncertain, not on a fake day.
    page.has(&[
        "data-status=\"stagnating\" data-certain=\"false\"",
        "1. pololetí 2011",
        "nejdříve 22. dubna 2009",
        "Uzavřená dohoda",
    ]);
    // Orenburg: certainly active until its denunciation, terminated after.
    let page = get(
        &state,
        "/partnerships/liberecky-kraj--orenburg-oblast?lang=en",
        "text/html",
    )
    .await;
    page.has(&[
        "data-status=\"active\" data-certain=\"true\"",
        "data-status=\"terminated\"",
        "/api/v1/audit/terminations/liberecky-kraj--orenburg-oblast",
        "1 March 2022",
    ]);
    let missing = ask(
        &state,
        "/partnerships/liberecky-kraj--atlantis",
        "text/html",
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.text.contains("<html lang=\"cs\">"),
        "{}",
        missing.text
    );
}

#[tokio::test]
async fn what_cannot_be_asked_is_refused_in_words() {
    let (_dir, state) = seeded();
    let a = ask(&state, "/?on=0011", "text/html").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.text.contains("outside the dates"), "{}", a.text);
    let a = ask(&state, "/?on=2022-13", "text/html").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = ask(&state, "/?bogus=1", "text/html").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.text.contains("bogus"), "{}", a.text);
}

#[tokio::test]
async fn recorded_text_is_escaped_on_every_page() {
    let (_dir, state) = seeded();
    let admin = state
        .tokens
        .add(
            &pacta_domain::Slug::parse("root").unwrap(),
            pacta_registry::Role::Admin,
            None,
        )
        .unwrap();
    let hostile = "<script>alert(1)</script>";
    let party = json!({"id":"evil-town","kind":"town","names":{"native":hostile},"country":"FR","note":hostile});
    let a = call(
        &state,
        "POST",
        "/api/v1/parties",
        "application/json",
        Some((&admin, party)),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let open = json!({"home":"liberecky-kraj","partner":"evil-town",
        "event":{"type":"Signed","date":"2020-01-01","data":{"instrument":"cooperation_agreement"},
                 "note":hostile,"source":{"title":hostile}}});
    let a = call(
        &state,
        "POST",
        "/api/v1/partnerships",
        "application/json",
        Some((&admin, open)),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    for uri in [
        "/?on=2022-01-01",
        "/?on=2022-01-01&q=%3Cscript",
        "/partnerships/liberecky-kraj--evil-town",
    ] {
        let page = get(&state, uri, "text/html").await;
        assert!(!page.text.contains(hostile), "{uri} lets recorded text run");
        assert!(page.text.contains("&lt;script&gt;"), "{uri}");
    }
}

#[tokio::test]
async fn a_correction_stands_beside_its_original_with_its_reason() {
    let (_dir, state) = seeded();
    let admin = state
        .tokens
        .add(
            &pacta_domain::Slug::parse("root").unwrap(),
            pacta_registry::Role::Admin,
            None,
        )
        .unwrap();
    let events = get(
        &state,
        "/api/v1/partnerships/liberecky-kraj--bursa/events",
        "application/json",
    )
    .await;
    let signed = events.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "Signed")
        .unwrap()
        .clone();
    let fix = json!({"type":"Corrected","data":{"target":signed["event_id"],"reason":"the memorandum's date was misread","date":"2011-10-31"}});
    let a = call(
        &state,
        "POST",
        "/api/v1/partnerships/liberecky-kraj--bursa/events",
        "application/json",
        Some((&admin, fix)),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let page = get(&state, "/partnerships/liberecky-kraj--bursa", "text/html").await;
    page.has(&[
        "the memorandum's date was misread",
        &format!("opraveno záznamem {}", a.json()["events"][0]["position"]),
        "31. října 2011",
    ]);
    // The record time switch shows the history as first recorded.
    let then = get(
        &state,
        "/partnerships/liberecky-kraj--bursa?as_known_at=2026-11-28T00:00:00Z",
        "text/html",
    )
    .await;
    assert!(!then.text.contains("misread"));
}

/// Bytes of `text` gzip-compressed.
fn gzipped(text: &str) -> usize {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap().len()
}

/// Every page with what it loads (its one script) stays under 500,000
/// bytes gzip-compressed. The sizes are printed (`-- --nocapture`).
#[tokio::test]
async fn every_page_is_small() {
    let (_dir, state) = seeded();
    let script = get(&state, "/static/pacta.js", "*/*").await;
    assert!(script.content_type().starts_with("text/javascript"));
    for uri in [
        "/?on=2022-02-28&in_force=all",
        "/partnerships/liberecky-kraj--orenburg-oblast",
        "/offers",
        "/map?on=2022-02-28",
    ] {
        let page = get(&state, uri, "text/html").await;
        // Everything the page loads from the server is the page and the script.
        let loads: Vec<&str> = page
            .text
            .match_indices("src=\"")
            .map(|(i, _)| &page.text[i + 5..])
            .collect();
        for l in &loads {
            assert!(
                l.starts_with("/static/pacta.js\""),
                "{uri} loads more: {}",
                &l[..40.min(l.len())]
            );
        }
        let total = gzipped(&page.text) + gzipped(&script.text);
        println!(
            "{uri}: {} bytes, {total} bytes gzip-compressed with its script",
            page.text.len()
        );
        assert!(total < 500_000, "{uri}: {total} bytes gzip-compressed");
    }
}
