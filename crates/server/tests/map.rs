//! The partner map (`/map`): one marker per partnership, each saying of
//! in force what the API says for the same day, in Czech or English.

mod common;

use std::collections::BTreeMap;

use common::{get, seeded};
use pacta_server::AppState;

/// Every marker of a page: partnership id → in force, in the order drawn.
fn markers(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<a class=\"marker\"") {
        rest = &rest[at + 1..];
        let tag = &rest[..rest.find('>').unwrap()];
        let attr = |name: &str| {
            let from = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            tag[from..from + tag[from..].find('"').unwrap()].to_owned()
        };
        out.push((attr("data-partnership"), attr("data-in-force")));
    }
    out
}

/// The API's in force of every partnership on a day, listed with
/// `in_force=all`.
async fn api_in_force(state: &AppState, day: &str) -> BTreeMap<String, String> {
    common::api_in_force(state, &format!("valid_on={day}&in_force=all"))
        .await
        .into_iter()
        .collect()
}

#[tokio::test]
async fn every_partnership_has_one_marker_saying_what_the_api_says() {
    let (_dir, state) = seeded();
    for day in ["2022-02-28", "2022-03-01", "2010-01-01"] {
        let page = get(&state, &format!("/map?on={day}"), "text/html").await;
        assert!(page.content_type().starts_with("text/html"));
        let drawn = markers(&page.text);
        assert_eq!(drawn.len(), 25, "{day}: {drawn:?}");
        let by_id: BTreeMap<_, _> = drawn.into_iter().collect();
        assert_eq!(by_id.len(), 25, "{day}: a partnership drawn twice");
        assert_eq!(by_id, api_in_force(&state, day).await, "{day}");
    }
}

#[tokio::test]
async fn orenburg_is_in_force_before_the_denunciation_and_not_after() {
    let (_dir, state) = seeded();
    let on = |day: &'static str| {
        let state = state.clone();
        async move {
            let page = get(&state, &format!("/map?on={day}"), "text/html").await;
            markers(&page.text)
                .into_iter()
                .find(|(id, _)| id == "liberecky-kraj--orenburg-oblast")
                .map(|(_, in_force)| in_force)
        }
    };
    assert_eq!(on("2022-02-28").await.as_deref(), Some("yes"));
    assert_eq!(on("2022-03-01").await.as_deref(), Some("no"));
}

#[tokio::test]
async fn the_map_is_czech_unless_english_is_asked_for() {
    let (_dir, state) = seeded();
    let cs = get(&state, "/map?on=2022-02-28", "text/html").await;
    cs.has(&[
        "<html lang=\"cs\">",
        "Partneři na mapě ke dni 28. února 2022",
        "Orenburská oblast",
        "GeoNames",
        "Natural Earth",
        "href=\"/partnerships/liberecky-kraj--orenburg-oblast?on=2022-02-28&amp;lang=cs\"",
    ]);
    let en = get(&state, "/map?on=2022-02-28&lang=en", "text/html").await;
    en.has(&[
        "<html lang=\"en\">",
        "Partners on the map on 28 February 2022",
        "Orenburg Oblast",
        "CC BY 4.0",
    ]);
    // The layout's navigation leads here from every page.
    get(&state, "/?on=2022-02-28", "text/html")
        .await
        .has(&["href=\"/map?on=2022-02-28&amp;lang=cs\""]);
}

#[tokio::test]
async fn the_page_stays_small() {
    let (_dir, state) = seeded();
    let page = get(&state, "/map?on=2022-02-28", "text/html").await;
    // Everything the map needs is in the page (the script it loads is the
    // other pages' too). The budget is 500 kB gzip-compressed; held here
    // uncompressed, which is stricter.
    assert!(page.text.len() < 500_000, "{} bytes", page.text.len());
}
