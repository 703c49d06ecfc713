//! The printable documents over HTTP: the annual report and the
//! termination dossiers in Czech (the default) and English, with the head
//! they rest on at their foot.

mod common;

use axum::http::StatusCode;
use common::{Answer, ask, get, seeded};
use pacta_server::AppState;

async fn page(state: &AppState, uri: &str) -> Answer {
    let a = get(state, uri, "text/html").await;
    assert_eq!(a.content_type(), "text/html; charset=utf-8", "{uri}");
    assert_eq!(a.headers["vary"], "accept", "{uri}");
    a
}

/// Liberec, 2022, as the assembly reads it: Czech names and words, the
/// Orenburg memorandum suspended between 24 February and 1 March and
/// denounced on 1 March, and at the foot the head the report rests on,
/// the same the JSON answer and the verification name.
#[tokio::test]
async fn the_liberec_report_for_2022_in_czech() {
    let (_dir, state) = seeded();
    let uri = "/api/v1/reports/annual?year=2022&party=liberecky-kraj";
    let p = page(&state, uri).await;
    p.has(&[
        "<html lang=\"cs\">",
        "<h1>Mezinárodní spolupráce v roce 2022</h1>",
        "<h2>Liberecký kraj</h2>",
        "Orenburská oblast",
        "Přehled partnerů",
        "Platné k 1. lednu 2022 (4)",
        "Platné k 31. prosinci 2022 (3)",
        "Ukončeno v roce (1)",
        "ukončení: vypovězeno",
        "<td data-label=\"Datum\">1. března 2022</td>",
        "mezi 24. února 2022 a 1. března 2022",
        "memorandum o spolupráci",
        "dohoda o spolupráci",
        "nejdříve 28. listopadu 2001",
        "Na čem dokument spočívá",
        "pacta verify --digest",
    ]);
    assert!(!p.text.contains("Terminated"), "event types are in words");

    let json = get(&state, uri, "application/json").await.json();
    let head = state.registry.store().head();
    assert_eq!(json["head_position"], head.position);
    assert_eq!(json["head_hash"], head.hash.to_string());
    assert!(json["made_at"].as_str().unwrap().ends_with('Z'), "{json}");
    p.has(&[
        &format!("pozice {}, haš <code>{}</code>", head.position, head.hash),
        &format!(
            "GET /api/v1/audit/verify?position={}&amp;hash={}",
            head.position, head.hash
        ),
    ]);
    let verified = get(
        &state,
        &format!(
            "/api/v1/audit/verify?position={}&hash={}",
            json["head_position"],
            json["head_hash"].as_str().unwrap()
        ),
        "application/json",
    )
    .await
    .json();
    assert_eq!(verified["ok"], true, "{verified}");
}

#[tokio::test]
async fn lang_en_gives_the_report_in_english() {
    let (_dir, state) = seeded();
    let p = page(
        &state,
        "/api/v1/reports/annual?year=2022&party=liberecky-kraj&lang=en",
    )
    .await;
    p.has(&[
        "<html lang=\"en\">",
        "<h1>International cooperation in 2022</h1>",
        "<h2>Liberec Region</h2>",
        "Orenburg Oblast",
        "terminated: denounced",
        "between 24 February 2022 and 1 March 2022",
        "<td data-label=\"Date\">1 March 2022</td>",
        "What this document rests on",
    ]);
    assert!(!p.text.contains("vypovězeno"));
    // The same question in Czech is another page, not the English one
    // kept from before.
    let cs = page(
        &state,
        "/api/v1/reports/annual?year=2022&party=liberecky-kraj",
    )
    .await;
    cs.has(&["vypovězeno"]);
    // A first half-year in words: Liberec, 2011 (the Ha Tinh meeting planned
    // for the first half that did not take place).
    let p = page(
        &state,
        "/api/v1/reports/annual?year=2011&party=liberecky-kraj",
    )
    .await;
    p.has(&["1. pololetí 2011", "neuskutečnila se", "1. listopadu 2011"]);
}

#[tokio::test]
async fn the_orenburg_dossier_in_czech_and_english() {
    let (_dir, state) = seeded();
    let uri = "/api/v1/audit/terminations/liberecky-kraj--orenburg-oblast";
    let p = page(&state, uri).await;
    let json = get(&state, uri, "application/json").await.json();
    let hash = json["verification"]["head_hash"].as_str().unwrap();
    p.has(&[
        "<html lang=\"cs\">",
        "<h1>Spisy o ukončení partnerství</h1>",
        "<h2>Liberecký kraj – Orenburská oblast</h2>",
        "<dt>Způsob ukončení</dt><dd>vypovězeno</dd>",
        "zdroj den účinnosti neuvádí; použito datum aktu",
        "od 25. května 2012 do 28. února 2022 žádná skutečnost nedokládá",
        "platnost se v těchto dnech předpokládá",
        "neporušen",
        hash,
    ]);
    let strict = page(&state, &format!("{uri}?evidence=strict")).await;
    strict.has(&["při přísném čtení je platnost v těchto dnech nejistá"]);
    let en = page(&state, &format!("{uri}?lang=en&evidence=strict")).await;
    en.has(&[
        "<html lang=\"en\">",
        "<h2>Liberec Region – Orenburg Oblast</h2>",
        "no fact shows the agreement alive from 25 May 2012 to 28 February 2022; read \
         strictly, in force on those days is uncertain",
        "Evidence read strictly",
        hash,
    ]);
    // Every dossier at once, Møre og Romsdal's end known only to lie after
    // the signing.
    let all = page(&state, "/api/v1/audit/terminations?lang=en").await;
    all.has(&[
        "Liberec Region – Møre og Romsdal",
        "no earlier than 28 November 2001",
        "the ending took effect on a day from 28 November 2001 to",
    ]);
}

#[tokio::test]
async fn a_language_the_documents_are_not_in_is_refused() {
    let (_dir, state) = seeded();
    for uri in [
        "/api/v1/reports/annual?year=2022&lang=de",
        "/api/v1/reports/annual?year=2022&lang=",
        "/api/v1/audit/terminations?lang=CS",
        "/api/v1/audit/terminations/liberecky-kraj--orenburg-oblast?lang=english",
    ] {
        let a = ask(&state, uri, "text/html").await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{uri}: {}", a.text);
        assert_eq!(a.content_type(), "application/problem+json", "{uri}");
        let p = a.json();
        assert_eq!(p["field"], "lang", "{uri}: {p}");
        assert!(
            p["detail"].as_str().unwrap().contains("cs or en"),
            "{uri}: {p}"
        );
    }
}
